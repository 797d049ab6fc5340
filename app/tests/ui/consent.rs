//! Consent in the chat, at 360 px, against a real Synapse, from both sides.
//!
//! The customer runs Kontor: a freelancer they never wrote to (a plain kontor-core
//! client here) invites them — a new customer in the list — and sends a consent request
//! (an `m.text` with the data under `eu.kontor.consent_request`); the app shows it as a
//! card with Consent / Decline, the customer taps Consent, and the reply the freelancer
//! receives reads "YES, I consent." and replies to the request.
//!
//! The freelancer runs Kontor: the chat with a private contact shows the book's name and
//! "No consent"; "Ask for consent" (purpose, the customer's language, the confirmation)
//! sends the request, the badge says "Asked"; the customer — a plain Matrix client —
//! reacts 👍 through the raw SDK room API, and the badge turns to consent in the header
//! and the list; the header opens the contact.

use std::time::Duration;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::service::consent::REQUEST_KEY;
use kontor::ui::{
    ChatConsent, Chats, ConsentAnswer, ConsentBadge, Contacts, Conversation, Language, Screen,
    Session,
};
use kontor_contacts::NewContact;
use kontor_core::MessageBody;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "consent passphrase";

pub fn customer_consents_with_the_button() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let anna_client = h.spawn_login(&url, &anna.user_id, &anna.password);

    run_story(async move {
        onboard(&app, &url, &ben.user_id, &ben.password, PASS).await;
        let anna_client = anna_client.await.expect("anna task");

        // The freelancer writes first: a new customer's invitation in the list.
        let (k, user) = (anna_client.clone(), ben.user_id.clone());
        let room = on_tokio(&h.rt, async move {
            k.sync_once().await.expect("anna sync");
            k.open_dm(&user).await.expect("dm")
        })
        .await;
        let chats = app.window.global::<Chats>();
        wait_for("the invitation of a new customer", 30, || {
            chats
                .get_chats()
                .iter()
                .any(|c| c.room_id == room.as_str() && c.invite && c.new_customer)
                .then_some(())
        })
        .await;
        assert!(shows_text(&app, "New customer"));
        press(&app, "Accept").await;
        wait_for("the joined chat", 30, || {
            chats
                .get_chats()
                .iter()
                .any(|c| c.room_id == room.as_str() && !c.invite)
                .then_some(())
        })
        .await;

        // The request, once the customer's device is in the room (so it gets the key).
        let (k, r, user) = (anna_client.clone(), room.clone(), ben.user_id.clone());
        let request = on_tokio(&h.rt, async move {
            until_joined(&k, &r, &user, 150).await;
            let payload = serde_json::json!({
                "version": 1, "purpose": "Termine und Angebote", "language": "en"
            });
            let txn = k
                .send_text_with(
                    &r,
                    "May we write to you? Answer YES or NO.",
                    REQUEST_KEY,
                    payload,
                )
                .await
                .expect("request");
            match k
                .wait_sent(&r, &txn, Duration::from_secs(60))
                .await
                .expect("sent")
            {
                kontor_core::SendState::Sent { event_id } => event_id,
                other => panic!("the request was not sent: {other:?}"),
            }
        })
        .await;

        chats.invoke_open(room.clone().into());
        let conversation = app.window.global::<Conversation>();
        let card = |answer: ConsentAnswer| {
            conversation
                .get_messages()
                .iter()
                .find(|m| m.event_id == request.as_str() && m.consent.request)
                .filter(|m| m.consent.answer == answer)
                .map(|m| m.consent)
        };
        let open = wait_for("the request's card", 60, || card(ConsentAnswer::None)).await;
        assert!(open.answerable);
        assert_eq!(open.purpose, "Termine und Angebote");
        assert!(shows_text(&app, "Consent request"));
        // The customer is asked here, so the app does not offer to ask back.
        assert!(find(&app, "Ask for consent", AccessibleRole::Button).is_empty());
        press(&app, "Consent").await;
        let answered = wait_for("the answer on the card", 60, || card(ConsentAnswer::Yes)).await;
        assert!(!answered.answerable);
        assert!(shows_text(&app, "You consented."));

        // The freelancer's client receives a reply to the request, in its language.
        let (k, r, ev) = (anna_client.clone(), room.clone(), request.clone());
        let text = on_tokio(&h.rt, async move {
            for _ in 0..150 {
                k.sync_once().await.expect("anna sync");
                let msgs = k.messages(&r, 20).await.expect("messages");
                if let Some(text) = msgs.iter().find_map(|m| match &m.body {
                    MessageBody::Text { text, .. } if m.reply_to.as_deref() == Some(&ev) => {
                        Some(text.clone())
                    }
                    _ => None,
                }) {
                    return text;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("the answer never arrived");
        })
        .await;
        assert_eq!(text, "YES, I consent.");
        app.shutdown().await;
    });
}

pub fn freelancer_asks_and_the_badge_follows_the_answer() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    {
        // The freelancer's book knows the customer's chat account, in the private book.
        let book = contact_book(&h, PASS);
        let weiss = book
            .add(
                NewContact {
                    display_name: "Benedikt Weiß".into(),
                    ..Default::default()
                },
                None,
            )
            .expect("contact");
        book.link_chat(&weiss.id, &ben.user_id).expect("link");
    }
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        let ben_client = ben_client.await.expect("ben task");
        fill(&app, "Matrix ID", &ben.user_id).await;
        press(&app, "Start chat").await;
        let session = app.window.global::<Session>();
        let conversation = app.window.global::<Conversation>();
        let consent = app.window.global::<ChatConsent>();
        wait_for("the conversation named from the book", 30, || {
            (session.get_screen() == Screen::Conversation
                && conversation.get_title() == "Benedikt Weiß"
                && consent.get_badge() == ConsentBadge::NotGiven)
                .then_some(())
        })
        .await;
        assert!(shows_text(&app, "No consent on record."));
        let room = conversation.get_room_id().to_string();
        accept_when_invited(&h, &ben_client, &room).await;

        // Ask: the purpose is filled in, the language is the customer's, and the
        // confirmation is given for this one request.
        press(&app, "Ask for consent").await;
        wait_for("the form", 10, || consent.get_asking().then_some(())).await;
        assert_eq!(consent.get_purpose(), kontor_contacts::DEFAULT_PURPOSE);
        press(&app, "English").await;
        let send = one(&app, "Send request", AccessibleRole::Button).await;
        assert_eq!(
            send.accessible_enabled(),
            Some(false),
            "not before confirming"
        );
        one(
            &app,
            "I ask this person myself, now.",
            AccessibleRole::Checkbox,
        )
        .await
        .invoke_accessible_default_action();
        press(&app, "Send request").await;
        wait_for("asked", 60, || {
            (consent.get_badge() == ConsentBadge::Asked && !consent.get_asking()).then_some(())
        })
        .await;
        let request = wait_for("the request's card, own", 60, || {
            conversation
                .get_messages()
                .iter()
                .find(|m| m.own && m.consent.request)
                .map(|m| m.event_id.to_string())
                .filter(|id| !id.is_empty())
        })
        .await;

        // The customer, in a plain Matrix client, reacts 👍 on the request.
        let (k, r, ev) = (ben_client.clone(), room.clone(), request.clone());
        on_tokio(&h.rt, async move {
            for _ in 0..150 {
                k.sync_once().await.expect("ben sync");
                let msgs = k.messages(&r, 20).await.expect("messages");
                let language = msgs
                    .iter()
                    .find(|m| m.event_id.as_deref() == Some(&ev))
                    .and_then(|m| m.body.extra(REQUEST_KEY))
                    .and_then(|x| x.get("language").cloned());
                if let Some(language) = language {
                    assert_eq!(language, "en");
                    react_raw(&k, &r, &ev, "👍").await;
                    return;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("ben never received the request");
        })
        .await;

        // The badge turns to consent in the header, the card shows the answer.
        wait_for("consent in the header", 60, || {
            (consent.get_badge() == ConsentBadge::Granted).then_some(())
        })
        .await;
        wait_for("the answer on the own card", 30, || {
            conversation
                .get_messages()
                .iter()
                .any(|m| m.event_id == request.as_str() && m.consent.answer == ConsentAnswer::Yes)
                .then_some(())
        })
        .await;
        assert!(find(&app, "Ask for consent", AccessibleRole::Button).is_empty());

        // The header opens the contact, now in the work book.
        press(&app, "Benedikt Weiß").await;
        let contacts = app.window.global::<Contacts>();
        wait_for("the contact", 30, || {
            (session.get_screen() == Screen::ContactDetail
                && contacts.get_selected().name == "Benedikt Weiß"
                && contacts.get_selected().work)
                .then_some(())
        })
        .await;

        // The list names the chat as the book does, with the badge.
        session.set_screen(Screen::Chats);
        let chats = app.window.global::<Chats>();
        wait_for("the list's row", 30, || {
            chats
                .get_chats()
                .iter()
                .any(|c| {
                    c.room_id == room.as_str()
                        && c.name == "Benedikt Weiß"
                        && c.consent == ConsentBadge::Granted
                })
                .then_some(())
        })
        .await;
        // The badge reads "Consented"; a screen reader hears the whole state.
        assert!(shows_text(&app, "Consent given"));
        app.shutdown().await;
    });
}
