//! The timeline is lazy, headless against a real Synapse: a chat with more messages than
//! one page opens with the newest page only, scrolling up puts the older pages on top
//! until the first message, opening it marks it read (the customer sees the receipt),
//! and live messages still arrive at the bottom.

use std::time::Duration;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Chats, Conversation, Language, Screen, Session};
use kontor_core::{KdfParams, Kontor, Profile, SendState};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const FAST: KdfParams = KdfParams {
    m_kib: 64,
    t: 1,
    p: 1,
};
/// More than two pages of the app's 30.
const SEEDED: usize = 65;

fn texts(app: &kontor::ui::App) -> Vec<String> {
    app.window
        .global::<Conversation>()
        .get_messages()
        .iter()
        .map(|m| m.text.to_string())
        .collect()
}

pub fn a_long_chat_opens_with_the_newest_page_and_pages_back_on_scroll() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);

    let ben_dir = tempfile::tempdir().expect("ben dir");
    let ben_client = {
        let (dir, url, user, pw) = (
            ben_dir.path().join("profile"),
            url.clone(),
            ben.user_id.clone(),
            ben.password.clone(),
        );
        h.rt.spawn(async move {
            let profile = Profile::open_with(&dir, "ben-pass", FAST).expect("ben profile");
            Kontor::login(profile, &url, &user, &pw)
                .await
                .expect("ben login")
        })
    };

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
            let anna_id = kontor_core::parse_user_id(&anna_id).unwrap();
            let room_id = matrix_sdk::ruma::RoomId::parse(&r).unwrap();
            for _ in 0..150 {
                k.sync_once().await.expect("ben sync");
                let joined = match k.sdk_client().get_room(&room_id) {
                    Some(room) => matches!(
                        room.get_member_no_sync(&anna_id).await,
                        Ok(Some(m)) if *m.membership()
                            == matrix_sdk::ruma::events::room::member::MembershipState::Join
                    ),
                    None => false,
                };
                if joined {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
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
        // Nothing pages on its own while the newest page fills the screen.
        sleep(Duration::from_millis(700)).await;
        let first: Vec<String> = (SEEDED - 30..SEEDED).map(|i| format!("m{i:03}")).collect();
        assert_eq!(texts(&app), first, "only the newest page");
        assert!(!conv.get_history_complete());

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

        // Near the top the view asks for the page before. It may ask again while one is
        // loading (every scroll step does): only one request goes out per page.
        let mut asks = 0;
        wait_for("the whole history", 60, || {
            if conv.get_history_complete() {
                return Some(());
            }
            if !conv.get_loading_older() {
                asks += 1;
                conv.invoke_load_older();
                conv.invoke_load_older();
                assert!(
                    conv.get_loading_older(),
                    "\"loading older messages\" is shown"
                );
            }
            None
        })
        .await;
        assert_eq!(asks, 2, "65 messages: the newest page and two older ones");
        let all: Vec<String> = (0..SEEDED).map(|i| format!("m{i:03}")).collect();
        assert_eq!(texts(&app), all, "every message once, oldest first");
        wait_for("the beginning marker", 10, || {
            shows_text(&app, "This is the beginning of the conversation.").then_some(())
        })
        .await;

        // A live message still lands at the bottom.
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
