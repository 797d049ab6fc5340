//! New-message notices and the idle lock, against a real Synapse. The customer ben (a
//! kontor-core client) writes to anna: the notice names ben but carries no text until
//! anna allows message content. Then anna leaves the phone alone: after the (here short)
//! idle time the app locks, empties every view and drops the contact book; a message
//! arriving meanwhile shows nothing. A wrong passphrase is refused; the right one brings
//! the chat list back without a new login (same device).

use std::time::Duration;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{
    Chats, Contacts, Conversation, ErrorKind, Language, Lock, Notices, Prefs, Screen, Session,
};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";

pub fn notices_hide_content_and_the_idle_lock_hides_everything() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        let ben_k = ben_client.await.expect("ben task");

        // ben opens a chat with anna; she accepts in the app.
        let (room, _) = chat_from(&h, &app, &ben_k, &anna.user_id).await;
        let chats = app.window.global::<Chats>();

        // A message: the notice says who, not what.
        let send = |text: &'static str| {
            let (k, room) = (ben_k.clone(), room.clone());
            on_tokio(&h.rt, async move {
                k.sync_once().await.expect("ben sync");
                k.send_text(&room, text).await.expect("ben sends");
            })
        };
        send("Angebot über 1200 €").await;
        let notices = app.window.global::<Notices>();
        wait_for("the notice", 30, || notices.get_visible().then_some(())).await;
        assert_eq!(notices.get_body(), "", "no content by default");
        assert!(!notices.get_sender().is_empty());
        let banner = one(
            &app,
            &format!("New message from {}", notices.get_sender()),
            AccessibleRole::Button,
        )
        .await;
        assert_eq!(banner.accessible_description().as_deref(), Some(""));
        // Tapping it opens the chat it is about (and it goes away).
        banner.invoke_accessible_default_action();
        wait_for("dismissed", 5, || (!notices.get_visible()).then_some(())).await;
        back_from_chat(&app, &room).await;
        let s = app.window.global::<Session>();

        // With content allowed, the notice carries the text.
        app.window
            .global::<Prefs>()
            .invoke_set_notification_content(true);
        send("Termin Donnerstag 9:30").await;
        wait_for("the notice with text", 30, || {
            (notices.get_visible() && notices.get_body() == "Termin Donnerstag 9:30").then_some(())
        })
        .await;
        app.window.global::<Notices>().invoke_dismiss();

        // Idle: the app locks by itself.
        let lock = app.window.global::<Lock>();
        assert!(app.window.global::<Contacts>().get_available());
        app.set_idle_timeout(Some(Duration::from_millis(1500)));
        wait_for("the lock", 10, || lock.get_locked().then_some(())).await;
        app.set_idle_timeout(None);
        assert_eq!(s.get_screen(), Screen::Unlock);
        assert_eq!(chats.get_chats().row_count(), 0, "chat list emptied");
        assert_eq!(
            app.window
                .global::<Conversation>()
                .get_messages()
                .row_count(),
            0
        );
        assert!(
            !app.window.global::<Contacts>().get_available(),
            "book dropped"
        );
        assert!(!shows_text(&app, "Termin Donnerstag 9:30"));
        // Every registered view is back to what a window that never saw the account
        // shows: checked over the registry, so a new view is covered without editing
        // this story.
        let fresh_h = Harness::new();
        let fresh = fresh_h.app(Language::English);
        let locked = app.views().snapshots(&app.window);
        let empty = fresh.views().snapshots(&fresh.window);
        assert!(locked.len() >= 10, "views registered: {locked:?}");
        assert_eq!(locked.len(), empty.len());
        for ((name, now), (_, blank)) in locked.iter().zip(&empty) {
            assert_eq!(now, blank, "the lock left view {name} showing account data");
        }

        // Sync goes on, but a message shows nothing while locked.
        send("Noch eine Frage").await;
        wait_for("the message arrives", 30, || {
            notices.get_visible().then_some(())
        })
        .await;
        assert_eq!(notices.get_sender(), "", "no name while locked");
        assert_eq!(notices.get_body(), "");
        assert!(
            find(&app, "New message", AccessibleRole::Button).is_empty(),
            "banner hidden"
        );
        sleep(Duration::from_millis(500)).await;
        assert_eq!(chats.get_chats().row_count(), 0);

        // Wrong passphrase: the usual refusal.
        fill(&app, "Passphrase", "falsch").await;
        press(&app, "Unlock").await;
        wait_for("refusal", 20, || {
            shows_text(&app, "Wrong passphrase.").then_some(())
        })
        .await;
        assert_eq!(s.get_error(), ErrorKind::WrongPassphrase);
        assert!(lock.get_locked());

        // The right one: the chats are back, same session, no login.
        fill(&app, "Passphrase", PASS).await;
        press(&app, "Unlock").await;
        wait_for("the chat list", 30, || {
            (s.get_screen() == Screen::Chats
                && chats.get_chats().iter().any(|c| c.room_id == room.as_str()))
            .then_some(())
        })
        .await;
        assert!(!lock.get_locked());
        assert_eq!(s.get_user_id(), anna.user_id);
        wait_for("the contact book", 10, || {
            app.window
                .global::<Contacts>()
                .get_available()
                .then_some(())
        })
        .await;
        let last = chats
            .get_chats()
            .iter()
            .find(|c| c.room_id == room.as_str())
            .unwrap();
        assert_eq!(
            last.last_message, "Noch eine Frage",
            "what arrived while locked"
        );
        app.shutdown().await;
    });
    drop(hs);
}
