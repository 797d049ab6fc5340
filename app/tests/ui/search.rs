//! Search (issue 13), headless against a real Synapse: a customer writes 80 messages,
//! one early one with a distinctive word; the freelancer types the word into the chat
//! list's search, the hit shows with the word highlighted, and picking it opens the chat
//! at that message — far back, yet on screen — from where scrolling down pages forward
//! to the newest message, after which live messages, an edit and a redaction change the
//! timeline in place. The conversation's own search strip jumps back to the hit, "Jump to
//! newest" returns, the settings show the index's progress line, and the lock empties
//! it all.

use std::time::Duration;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Conversation, Language, Screen, Search, Session};
use kontor_core::{Kontor, SendState};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const SEEDED: usize = 80;
/// The message with the word: near the beginning, far more than a page back.
const OLD: usize = 3;
const WORD: &str = "Zirbelkiefer";

fn text_of(i: usize) -> String {
    if i == OLD {
        format!("m{i:03} Bitte die {WORD} Platten zuschneiden")
    } else {
        format!("m{i:03}")
    }
}

/// The conversation is shown and its messages are loaded.
async fn conversation_loaded(app: &kontor::ui::App) {
    let conv = app.window.global::<Conversation>();
    wait_for("the conversation", 30, || {
        (app.window.global::<Session>().get_screen() == Screen::Conversation
            && !conv.get_loading()
            && conv.get_messages().row_count() > 0)
            .then_some(())
    })
    .await;
}

/// On tokio: `client` sends a raw event of `event_type` into `room`.
async fn send_raw(client: &Kontor, room: &str, event_type: &str, content: serde_json::Value) {
    use std::future::IntoFuture;
    let room_id = matrix_sdk::ruma::RoomId::parse(room).unwrap();
    let room = client.sdk_client().get_room(&room_id).unwrap();
    room.send_raw(event_type, content)
        .into_future()
        .await
        .expect("raw send");
}

pub fn find_an_old_message_and_jump_to_it() {
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
        let (room, name) = chat_from(&h, &app, &ben_k, &anna.user_id).await;

        // ben, a customer with a plain client, writes a long history.
        let (k, r, anna_id) = (ben_k.clone(), room.clone(), anna.user_id.clone());
        on_tokio(&h.rt, async move {
            until_joined(&k, &r, &anna_id, 150).await;
            let mut last = String::new();
            for i in 0..SEEDED {
                last = k.send_text(&r, &text_of(i)).await.expect("queue");
            }
            match k
                .wait_sent(&r, &last, Duration::from_secs(120))
                .await
                .expect("sent")
            {
                SendState::Sent { .. } => {}
                other => panic!("not sent: {other:?}"),
            }
        })
        .await;
        let newest = text_of(SEEDED - 1);
        let chats = app.window.global::<kontor::ui::Chats>().get_chats();
        wait_for("the newest message in the list", 60, || {
            chats
                .iter()
                .any(|c| c.room_id == room.as_str() && c.last_message == newest.as_str())
                .then_some(())
        })
        .await;

        // The freelancer types the word; the index answers (it indexed the messages as
        // they came; a commit follows a moment later, so the user may type again).
        let search = app.window.global::<Search>();
        let hit = wait_for("the hit", 30, || {
            if search.get_text() == WORD
                && let Some(hit) = search.get_hits().iter().find(|h| h.snippet.contains(WORD))
            {
                return Some(hit);
            }
            if search.get_answered() || !search.get_active() {
                let next = if search.get_text() == WORD {
                    &WORD[..WORD.len() - 2]
                } else {
                    WORD
                };
                find(&app, "Search chats", AccessibleRole::TextInput)[0].set_accessible_value(next);
            }
            None
        })
        .await;
        assert_eq!(hit.chat, name.as_str());
        assert_eq!(hit.room_id, room.as_str());
        let marked: Vec<String> = hit
            .lines
            .iter()
            .flat_map(|l| {
                l.parts
                    .iter()
                    .filter(|p| p.hit)
                    .map(|p| p.text.to_string())
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(marked, [WORD], "the word, and only it, is highlighted");
        assert!(
            shows_text(&app, WORD),
            "the highlighted word is a text of its own on screen"
        );
        assert!(shows_text(&app, "Messages"), "the messages section");

        // Picking it opens the chat at that message, although it is far back.
        let row = find(&app, &name, AccessibleRole::Button)
            .into_iter()
            .find(|b| b.accessible_description().as_deref() == Some(hit.snippet.as_str()))
            .expect("the hit's row");
        row.invoke_accessible_default_action();
        conversation_loaded(&app).await;
        let conv = app.window.global::<Conversation>();
        let old = text_of(OLD);
        wait_for("the old message on screen", 20, || position(&app, &old)).await;
        assert_eq!(conv.get_highlight(), hit.event_id, "outlined");
        assert!(!conv.get_at_present());
        assert!(
            !texts(&app).contains(&newest),
            "the window does not reach the newest message yet"
        );
        assert!(conv.get_history_complete(), "it is near the beginning");

        // Scrolling down pages forward until the newest message: every message once, in
        // order.
        scroll_until(&app, "the newest message", -400.0, || {
            position(&app, &newest).is_some()
        })
        .await;
        wait_for("the present", 10, || conv.get_at_present().then_some(())).await;
        let all: Vec<String> = (0..SEEDED).map(text_of).collect();
        assert_eq!(texts(&app), all, "every message once, oldest first");

        // Live again: a new message comes at the bottom, an edit changes its bubble, a
        // redaction takes it away.
        let (k, r) = (ben_k.clone(), room.clone());
        on_tokio(&h.rt, async move {
            k.send_text(&r, "frisch").await.expect("live");
        })
        .await;
        let fresh = wait_for("the live message", 30, || {
            with_text(&app, "frisch").filter(|m| !m.event_id.is_empty())
        })
        .await;
        assert_eq!(texts(&app).last().map(String::as_str), Some("frisch"));
        let (k, r, id) = (ben_k.clone(), room.clone(), fresh.event_id.to_string());
        on_tokio(&h.rt, async move {
            send_raw(
                &k,
                &r,
                "m.room.message",
                serde_json::json!({
                    "msgtype": "m.text",
                    "body": "* frisch geändert",
                    "m.new_content": { "msgtype": "m.text", "body": "frisch geändert" },
                    "m.relates_to": { "rel_type": "m.replace", "event_id": id },
                }),
            )
            .await;
        })
        .await;
        wait_for("the edited bubble", 30, || {
            with_text(&app, "frisch geändert").filter(|m| m.edited)
        })
        .await;
        assert_eq!(texts(&app).len(), SEEDED + 1, "no bubble for the edit");
        assert!(with_text(&app, "frisch").is_none());
        let (k, r, id) = (ben_k.clone(), room.clone(), fresh.event_id.to_string());
        on_tokio(&h.rt, async move {
            let room_id = matrix_sdk::ruma::RoomId::parse(&r).unwrap();
            let event = matrix_sdk::ruma::EventId::parse(&id).unwrap();
            let room = k.sdk_client().get_room(&room_id).unwrap();
            room.redact(&event, None, None).await.expect("redact");
        })
        .await;
        wait_for("the redacted bubble gone", 30, || {
            (texts(&app).len() == SEEDED).then_some(())
        })
        .await;
        assert_eq!(texts(&app), all);

        // The conversation's own search: Up jumps to the hit again.
        press(&app, "Search in chat").await;
        fill(&app, "Search in this chat", WORD).await;
        wait_for("the chat's hit", 20, || {
            (search.get_chat_hits().row_count() == 1).then_some(())
        })
        .await;
        press(&app, "Previous result").await;
        wait_for("the jump back", 20, || {
            (!conv.get_at_present() && !conv.get_loading())
                .then(|| position(&app, &old))
                .flatten()
        })
        .await;
        assert_eq!(search.get_chat_current(), 0);
        // "Jump to newest" returns to the present with the newest page.
        press(&app, "Jump to newest").await;
        wait_for("the newest page", 20, || {
            (conv.get_at_present() && position(&app, &newest).is_some()).then_some(())
        })
        .await;

        // Back in the list, the search is still there; the settings show the index.
        press(&app, "Back").await;
        wait_for("the list with the search", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Chats && shows_text(&app, WORD))
                .then_some(())
        })
        .await;
        assert!(!search.get_in_chat(), "Back closed the strip");
        press(&app, "Settings").await;
        // Read afresh when the settings open (live messages were indexed meanwhile);
        // the line is further down the page.
        scroll_page_until(&app, "the progress line", -200.0, || {
            let line = format!(
                "Search index: {} messages, {} of {} chats fully indexed",
                search.get_status_indexed(),
                search.get_status_complete(),
                search.get_status_chats()
            );
            search.get_status_indexed() >= SEEDED as i32 && shows_text(&app, &line)
        })
        .await;

        // The lock empties the search: no hit, no text, no status.
        assert!(search.get_hits().row_count() > 0);
        app.lock();
        assert!(!search.get_active() && search.get_text().is_empty());
        assert_eq!(search.get_hits().row_count(), 0);
        assert!(!search.get_status_known());
        let (_, shown) = app
            .views()
            .snapshots(&app.window)
            .into_iter()
            .find(|(name, _)| *name == "search")
            .expect("the search view");
        assert!(!shown.contains(WORD), "{shown}");
        app.shutdown().await;
    });
    drop(hs);
}

/// The bubble showing exactly `text`, if one does.
fn with_text(app: &kontor::ui::App, text: &str) -> Option<kontor::ui::MessageItem> {
    app.window
        .global::<Conversation>()
        .get_messages()
        .iter()
        .find(|m| m.text == text)
}
