//! The timeline is lazy, headless against a real Synapse: a chat with more messages than
//! one page opens at its newest message with the newest page only, scrolling up (real
//! wheel events on the list) puts the older pages on top until the first message while
//! the bubbles being read stay where they are, opening it marks it read (the customer
//! sees the receipt), and live messages arrive at the bottom without pulling a reader
//! of older messages down.

use std::time::Duration;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Chats, Conversation, Language, Screen, Session};
use kontor_core::SendState;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

/// More than two pages of the app's 30.
const SEEDED: usize = 65;

pub fn a_long_chat_opens_with_the_newest_page_and_pages_back_on_scroll() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);

    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, "anna passphrase").await;
        let ben_k = ben_client.await.expect("ben task");

        // ben opens the chat; anna accepts in the list.
        let (k, anna_id) = (ben_k.clone(), anna.user_id.clone());
        let room = on_tokio(&h.rt, async move { k.open_dm(&anna_id).await.expect("dm") }).await;
        let chats = app.window.global::<Chats>().get_chats();
        wait_for("the invitation", 30, || {
            chats
                .iter()
                .any(|c| c.invite && c.room_id == room.as_str())
                .then_some(())
        })
        .await;
        app.window
            .global::<Chats>()
            .invoke_accept_invite(room.as_str().into());

        // Once anna is in (and her device known), ben writes a long history.
        let (k, r, anna_id) = (ben_k.clone(), room.clone(), anna.user_id.clone());
        let newest = on_tokio(&h.rt, async move {
            until_joined(&k, &r, &anna_id, 150).await;
            let mut last = String::new();
            for i in 0..SEEDED {
                last = k.send_text(&r, &format!("m{i:03}")).await.expect("queue");
            }
            match k
                .wait_sent(&r, &last, Duration::from_secs(120))
                .await
                .expect("sent")
            {
                SendState::Sent { event_id } => event_id,
                other => panic!("not sent: {other:?}"),
            }
        })
        .await;

        // The list shows the chat with its newest message, unread.
        let row = wait_for("the chat with ben's messages", 60, || {
            chats
                .iter()
                .find(|c| !c.invite && c.room_id == room.as_str() && c.last_message == "m064")
        })
        .await;
        assert!(row.unread > 0, "unread before opening: {}", row.unread);
        let button = find(&app, &row.name, AccessibleRole::Button)
            .into_iter()
            .find(|b| b.accessible_description().as_deref() == Some("m064"))
            .expect("the chat row");
        button.invoke_accessible_default_action();
        wait_for("the conversation", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Conversation).then_some(())
        })
        .await;
        let conv = app.window.global::<Conversation>();
        wait_for("the newest page", 30, || {
            (!conv.get_loading() && conv.get_messages().row_count() > 0).then_some(())
        })
        .await;
        // It opens at the bottom: the newest message is on screen.
        wait_for("m064 on screen", 10, || position(&app, "m064")).await;
        // Nothing pages on its own while the newest page fills the screen.
        sleep(Duration::from_millis(700)).await;
        let first: Vec<String> = (SEEDED - 30..SEEDED).map(|i| format!("m{i:03}")).collect();
        assert_eq!(texts(&app), first, "only the newest page");
        assert!(!conv.get_history_complete());
        assert!(
            !conv.get_loading_older(),
            "no page asked for before scrolling"
        );
        assert!(position(&app, "m064").is_some(), "still at the bottom");

        // The chat is read: the list says so at once, the server (and ben) soon after.
        let (k, r, id) = (ben_k.clone(), room.clone(), newest.clone());
        on_tokio(&h.rt, async move {
            for _ in 0..100 {
                k.sync_once().await.expect("ben sync");
                let chat = k.chats().await.expect("chats");
                let c = chat.iter().find(|c| c.room_id == r).expect("chat");
                if c.peer_read_up_to.as_deref() == Some(id.as_str()) {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("ben never saw anna's read receipt");
        })
        .await;

        // The user scrolls up, a little at a time; half a screen from the top the view asks
        // for the page before. What was at the top of the view when it was put on top is
        // still there, to the pixel (the list sees no wheel event meanwhile).
        let mut anchor = None;
        wait_for("the view to ask for older messages", 60, || {
            if conv.get_loading_older() || conv.get_messages().row_count() > 30 {
                return Some(());
            }
            list(&app).scroll(0.0, 60.0);
            // What the user sees after this step: wheel steps apply at once, and the page
            // comes over the network, so never before the next poll.
            anchor = on_screen(&app).into_iter().next();
            None
        })
        .await;
        let (text, y) = anchor.expect("a message on screen before paging");
        wait_for("the page before", 30, || {
            (conv.get_messages().row_count() == 60).then_some(())
        })
        .await;
        // Asking for geometry lays the list out; corrections the view makes after a
        // layout come after it: ask, wait, ask again.
        let _ = on_screen(&app);
        sleep(Duration::from_millis(300)).await;
        let after = position(&app, &text);
        assert!(
            after.is_some_and(|after| (after - y).abs() <= 2.0),
            "{text} was {y} px below the list's top before the older page, after it: {after:?} (on screen: {:?})",
            on_screen(&app)
        );

        // Up to the very top, again and again: every message once, oldest first, each
        // page asked for once, and the beginning is shown.
        let mut counts = vec![conv.get_messages().row_count()];
        scroll_until(&app, "the whole history", 400.0, || {
            let n = conv.get_messages().row_count();
            if counts.last() != Some(&n) {
                counts.push(n);
            }
            conv.get_history_complete()
                && shows_text(&app, "This is the beginning of the conversation.")
        })
        .await;
        assert_eq!(counts, [60, SEEDED], "pages of 30, 30 and 5, each once");
        let all: Vec<String> = (0..SEEDED).map(|i| format!("m{i:03}")).collect();
        assert_eq!(texts(&app), all, "every message once, oldest first");
        wait_for("m000 on screen", 10, || position(&app, "m000")).await;

        // A live message while the user reads the beginning does not move the view.
        sleep(Duration::from_millis(300)).await;
        let before = on_screen(&app);
        let (k, r) = (ben_k.clone(), room.clone());
        on_tokio(&h.rt, async move {
            k.send_text(&r, "noch da?").await.expect("live");
        })
        .await;
        wait_for("the live message", 30, || {
            (texts(&app).last().map(String::as_str) == Some("noch da?")).then_some(())
        })
        .await;
        assert_eq!(texts(&app).len(), SEEDED + 1);
        sleep(Duration::from_millis(300)).await;
        assert_eq!(
            on_screen(&app),
            before,
            "the view stays where the user reads"
        );

        // Back at the bottom, the next one scrolls into view, wholly.
        scroll_until(&app, "the bottom", -400.0, || {
            position(&app, "noch da?").is_some()
        })
        .await;
        let (k, r) = (ben_k.clone(), room.clone());
        on_tokio(&h.rt, async move {
            k.send_text(&r, "und jetzt?").await.expect("live");
        })
        .await;
        wait_for("the second live message on screen", 30, || {
            position(&app, "und jetzt?")
        })
        .await;

        press(&app, "Back").await;
        let row = wait_for("the chat row", 10, || {
            chats.iter().find(|c| c.room_id == room.as_str())
        })
        .await;
        assert_eq!(row.unread, 0);
        app.shutdown().await;
    });
    drop(hs);
}
