//! Consent asked and answered in the chat, from the contact page, against a real
//! Synapse: the freelancer's private contact is linked to the customer's Matrix account;
//! "Ask for consent" shows what goes to whom and sends only after "Send request"; the
//! page then says it waits, and lists the direct chat. The customer — a plain Matrix
//! client, not Kontor — answers with a 👍 reaction on the request through the raw SDK
//! room API; the page turns to "Consent granted" in the work book with the chat answer
//! as evidence, the freelancer is told, and the consent proof names the request's
//! event. Also: a contact without an account gets one by "Link" (a wrong id is
//! refused), may then chat, and erasing it says the chat stays.

use std::{future::IntoFuture, process::Command};

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{
    ConsentKind, ContactChat, Contacts, Conversation, ErrorKind, Language, Notices, Screen, Session,
};
use kontor_contacts::{ContactBook, DEFAULT_PURPOSE, NewContact};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";

/// Types `user` into the link field at the bottom of the page and presses "Link".
async fn link(app: &kontor::ui::App, user: &str) {
    scroll_page_until(app, "the link field", -120.0, || {
        !find(app, "Their Matrix account", AccessibleRole::TextInput).is_empty()
    })
    .await;
    fill(app, "Their Matrix account", user).await;
    press(app, "Link").await;
}

fn pdf_text(path: &str) -> String {
    let out = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8", path, "-"])
        .output()
        .expect("`pdftotext` could not be run: install poppler-utils (scripts/setup.sh)");
    assert!(out.status.success(), "{out:?}");
    String::from_utf8(out.stdout).unwrap()
}

pub fn ask_in_the_chat_and_the_answer_arrives() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let h = Harness::new();
    let (weiss_id, otto_id) = {
        let book = ContactBook::open_with(&h.dir.path().join("contacts"), PASS, book_options())
            .expect("book");
        let new = |name: &str| NewContact {
            display_name: name.into(),
            ..Default::default()
        };
        let weiss = book.add(new("Frau Weiß"), None).expect("weiss");
        book.link_chat(&weiss.id, &ben.user_id).expect("linked");
        let otto = book.add(new("Otto Ohnekonto"), None).expect("otto");
        (weiss.id, otto.id)
    };
    let export_dir = h.dir.path().join("exports");
    std::fs::create_dir_all(&export_dir).unwrap();

    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let url = hs.base_url.clone();
    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);
    let ben_mxid = ben.user_id.clone();
    let export_path = format!("{}/", export_dir.display());
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        let session = app.window.global::<Session>();
        let c = app.window.global::<Contacts>();
        let g = app.window.global::<ContactChat>();
        press(&app, "Contacts").await;

        // Otto has no Matrix account: no chat, a field to link one. A wrong id is
        // refused and nothing changes; a right one makes him reachable.
        open_contact(&app, "Otto Ohnekonto").await;
        assert_eq!(c.get_selected().id, otto_id.as_str());
        assert_eq!(g.get_account(), "");
        let start = find(&app, "Start chat", AccessibleRole::Button);
        assert_eq!(start[0].accessible_enabled(), Some(false));
        assert!(find(&app, "Ask for consent", AccessibleRole::Button).is_empty());
        link(&app, "otto at home").await;
        wait_for("the refusal", 10, || {
            (session.get_error() == ErrorKind::InvalidUser).then_some(())
        })
        .await;
        assert_eq!(g.get_account(), "");
        // (The error banner above the page pushed the field down: scrolled to again.)
        link(&app, "@otto:example.org").await;
        wait_for("Otto's account", 10, || {
            (g.get_account() == "@otto:example.org").then_some(())
        })
        .await;
        assert_eq!(session.get_error(), ErrorKind::None);
        // Erasing him asks, and says his chat is not deleted with him.
        scroll_page_until(&app, "the erase button", 120.0, || {
            !find(&app, "Erase contact", AccessibleRole::Button).is_empty()
        })
        .await;
        press(&app, "Erase contact").await;
        scroll_page_until(&app, "the erase confirmation", -120.0, || {
            shows_text(
                &app,
                "The chat with @otto:example.org is not deleted: it stays in your chat list, on \
                 your homeserver and in their own app. To remove it from your account, leave \
                 the chat in another Matrix app (e.g. Element); their copy stays with them.",
            ) && !find(&app, "Cancel", AccessibleRole::Button).is_empty()
        })
        .await;
        press(&app, "Cancel").await;
        press(&app, "Back").await;

        // Frau Weiß: private, chats from Ben's account. The purpose is the book's default.
        open_contact(&app, "Frau Weiß").await;
        assert!(!c.get_selected().work);
        assert_eq!(g.get_account(), ben_mxid.as_str());
        assert!(shows_text(&app, &format!("Chats as {ben_mxid}")));
        let purpose = one(&app, "Purpose of the consent", AccessibleRole::TextInput).await;
        assert_eq!(
            purpose.accessible_value().unwrap_or_default(),
            DEFAULT_PURPOSE
        );
        let start = find(&app, "Start chat", AccessibleRole::Button);
        assert_ne!(
            start[0].accessible_enabled(),
            Some(false),
            "a private contact with an account may chat"
        );

        // Asking: the confirmation says what goes to whom; nothing is sent before it.
        press(&app, "Ask for consent").await;
        let confirmation = format!(
            "Send Frau Weiß ({ben_mxid}) a consent request in your direct chat, in Deutsch, \
             for the purpose: {DEFAULT_PURPOSE}. It says who asks, how to answer yes or no \
             and how to withdraw later. Nothing changes until they answer."
        );
        wait_for("the confirmation", 10, || {
            shows_text(&app, &confirmation).then_some(())
        })
        .await;
        press(&app, "Send request").await;
        let asked_on = wait_for("the open request", 60, || {
            let on = g.get_asked_on().to_string();
            (!on.is_empty()).then_some(on)
        })
        .await;
        assert_eq!(session.get_error(), ErrorKind::None);
        assert!(shows_text(
            &app,
            &format!("Asked on {asked_on}, waiting for the answer.")
        ));
        assert!(
            find(&app, "Ask for consent", AccessibleRole::Button).is_empty(),
            "one open request at a time"
        );
        let request = app
            .service()
            .book()
            .expect("book")
            .get(&weiss_id)
            .expect("weiss")
            .1
            .consent_request
            .expect("the open request");
        // The page lists the direct chat the request went into.
        wait_for("the chat on the page", 30, || {
            let chats = g.get_chats();
            (chats.row_count() == 1
                && chats.row_data(0).unwrap().room_id == request.room_id.as_str())
            .then_some(())
        })
        .await;

        // Ben, in any Matrix client: joins and reacts 👍 on the request.
        let ben_client = ben_client.await.expect("ben task");
        let (k, room, event) = (
            ben_client.clone(),
            request.room_id.clone(),
            request.event_id.clone(),
        );
        on_tokio(&h.rt, async move {
            join_when_invited(&k, &room).await;
            let room_id = matrix_sdk::ruma::RoomId::parse(&room).unwrap();
            let joined = k.sdk_client().get_room(&room_id).expect("the joined room");
            let reaction = serde_json::json!({
                "m.relates_to": { "rel_type": "m.annotation", "event_id": event, "key": "👍" }
            });
            joined
                .send_raw("m.reaction", reaction)
                .into_future()
                .await
                .expect("reaction");
        })
        .await;

        // The page follows: granted, work book, the answer as evidence; Anna is told.
        wait_for("consent granted", 60, || {
            (c.get_selected().work && c.get_selected_status() == ConsentKind::Granted).then_some(())
        })
        .await;
        assert!(shows_text(&app, "Consent granted"));
        assert!(shows_text(&app, "Work — consented"));
        assert_eq!(g.get_asked_on(), "");
        let notices = app.window.global::<Notices>();
        wait_for("the notice", 30, || {
            (notices.get_visible() && notices.get_headline() == "Frau Weiß consented").then_some(())
        })
        .await;
        // Reactions go out unencrypted in Matrix (the SDK, like Element, does not encrypt
        // them), so no device names itself: the account is the evidence.
        let evidence = format!("Evidence: “👍” in the chat, from {ben_mxid}");
        // The proof goes into the export folder (the field is above the history).
        fill(&app, "Folder or file for the export", &export_path).await;
        let history: Vec<String> = c
            .get_selected_history()
            .iter()
            .map(|l| format!("{} {}", l.evidence, l.evidence_file))
            .collect();
        scroll_page_until(&app, &format!("{evidence} in {history:?}"), -120.0, || {
            shows_text(&app, &evidence)
        })
        .await;

        // The proof names the request's event, in the PDF and the JSON.
        scroll_page_until(&app, "Export proof", -120.0, || {
            !find(&app, "Export proof", AccessibleRole::Button).is_empty()
        })
        .await;
        press(&app, "Export proof").await;
        let files = wait_for("the proof files", 30, || {
            let f = c.get_proof_files().to_string();
            (!f.is_empty()).then_some(f)
        })
        .await;
        let files: Vec<&str> = files.lines().collect();
        let pdf = files.iter().find(|f| f.ends_with(".pdf")).expect("a PDF");
        let json = files.iter().find(|f| f.ends_with(".json")).expect("JSON");
        let json = std::fs::read_to_string(json).unwrap();
        assert!(json.contains(&request.event_id), "{json}");
        let squeezed = |s: &str| s.split_whitespace().collect::<String>();
        assert!(
            squeezed(&pdf_text(pdf)).contains(&squeezed(&request.event_id)),
            "the PDF names the request's event"
        );

        // The chat row opens the conversation.
        scroll_page_until(&app, "the chat row", -120.0, || {
            !open_chat_buttons(&app).is_empty()
        })
        .await;
        let row = open_chat_buttons(&app).remove(0);
        row.invoke_accessible_default_action();
        wait_for("the conversation", 30, || {
            (session.get_screen() == Screen::Conversation
                && app.window.global::<Conversation>().get_room_id() == request.room_id.as_str())
            .then_some(())
        })
        .await;
        app.shutdown().await;
    });
    drop(hs);
}

/// The rows of the contact's chats ("Open the chat …" buttons) in view.
fn open_chat_buttons(app: &kontor::ui::App) -> Vec<i_slint_backend_testing::ElementHandle> {
    i_slint_backend_testing::ElementQuery::from_root(&app.window)
        .match_accessible_role(AccessibleRole::Button)
        .find_all()
        .into_iter()
        .filter(|e| {
            e.accessible_label()
                .is_some_and(|l| l.starts_with("Open the chat "))
        })
        .collect()
}
