//! Quotes in the app, at 360 px, against a real Synapse: the business details in the
//! settings, a quote with two items written in the form (live totals, problems named
//! before anything is sent), sent; its card in the chat; the customer — a plain Matrix
//! client — accepts with a 👍 reaction through the raw SDK room API; the card, the notice
//! and the overview follow.

use std::{future::IntoFuture, time::Duration};

use crate::support::*;
use kontor::ui::{
    Conversation, Language, Notices, QuoteField, QuoteStatus, Quotes, Screen, Session,
};
use kontor_core::MessageBody;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

pub fn write_send_and_track_a_quote() {
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
        let session = app.window.global::<Session>();
        let quotes = app.window.global::<Quotes>();

        // The business details, once, in the settings; a missing field is named.
        press(&app, "Settings").await;
        press(&app, "Business details").await;
        wait_for("the details", 10, || {
            (session.get_screen() == Screen::Business).then_some(())
        })
        .await;
        fill(&app, "Name or company", "Fliesen Weiß").await;
        press(&app, "Save").await;
        wait_for("the missing address named", 10, || {
            shows_text(&app, "Enter your address.").then_some(())
        })
        .await;
        one(
            &app,
            "Address",
            i_slint_backend_testing::AccessibleRole::TextInput,
        )
        .await
        .set_accessible_value("Große Straße 12\n10115 Berlin");
        fill(&app, "Tax number or VAT id", "12/345/67890").await;
        press(&app, "Save").await;
        wait_for("saved", 30, || shows_text(&app, "Saved.").then_some(())).await;
        press(&app, "Back").await;

        // A chat with the customer.
        let ben_client = ben_client.await.expect("ben task");
        wait_for("settings", 10, || {
            (session.get_screen() == Screen::Settings).then_some(())
        })
        .await;
        press(&app, "Back").await;
        fill(&app, "Matrix ID", &ben.user_id).await;
        press(&app, "Start chat").await;
        wait_for("the conversation", 30, || {
            (session.get_screen() == Screen::Conversation).then_some(())
        })
        .await;
        let room = app
            .window
            .global::<Conversation>()
            .get_room_id()
            .to_string();
        // The customer joins before the quote goes out (so his device gets its key).
        let (k, r) = (ben_client.clone(), room.clone());
        on_tokio(&h.rt, async move { join_when_invited(&k, &r).await }).await;

        // The form: two items, the second at 7 %.
        press(&app, "Write quote").await;
        wait_for("the form", 30, || {
            (session.get_screen() == Screen::QuoteForm).then_some(())
        })
        .await;
        assert!(
            quotes.get_number().ends_with("-0001"),
            "{}",
            quotes.get_number()
        );
        // Sending an empty form names the problems and sends nothing.
        press(&app, "Send quote").await;
        wait_for("the problems", 10, || {
            let p = quotes.get_problems();
            (p.iter().any(|p| p.field == QuoteField::Title)
                && p.iter()
                    .any(|p| p.field == QuoteField::Description && p.item == 1))
            .then_some(())
        })
        .await;
        assert_eq!(session.get_screen(), Screen::QuoteForm);
        fill(&app, "Title", "Badsanierung").await;
        fill(&app, "Description of item 1", "Fliesen verlegen").await;
        fill(&app, "Quantity of item 1", "12.5").await;
        fill(&app, "Unit of item 1", "m²").await;
        fill(&app, "Unit price of item 1", "89.90").await;
        press(&app, "Add item").await;
        fill(&app, "Description of item 2", "Fachbuch Fliesen").await;
        fill(&app, "Quantity of item 2", "1").await;
        fill(&app, "Unit price of item 2", "29.90").await;
        press(&app, "VAT 7 % for item 2").await;
        // Live totals: 1,123.75 at 19 % (213.51) + 29.90 at 7 % (2.09).
        wait_for("the totals", 10, || {
            (quotes.get_gross() == "€1,369.25").then_some(())
        })
        .await;
        assert_eq!(quotes.get_vat(), "€215.60");
        assert_eq!(quotes.get_per_rate().row_count(), 2);
        assert_eq!(
            quotes.get_problems().row_count(),
            0,
            "fixed, so no problems"
        );
        press(&app, "Send quote").await;
        wait_for("back in the chat", 60, || {
            (session.get_screen() == Screen::Conversation).then_some(())
        })
        .await;

        // The card: number, total, status.
        let card = |status: QuoteStatus| {
            let msgs = app.window.global::<Conversation>().get_messages();
            msgs.iter()
                .find(|m| m.quote.status == status)
                .map(|m| (m.event_id.to_string(), m.quote))
        };
        let (event_id, sent) = wait_for("the quote card", 60, || card(QuoteStatus::Sent)).await;
        assert!(sent.number.ends_with("-0001"));
        assert_eq!(sent.gross, "€1,369.25");
        assert!(
            !sent.answerable,
            "the freelancer does not answer their own quote"
        );
        assert!(shows_text(&app, &format!("Quote {}", sent.number)));

        // The customer's client sees a PDF with a caption, and accepts with 👍.
        let (k, r, ev) = (ben_client.clone(), room.clone(), event_id.clone());
        let caption = on_tokio(&h.rt, async move {
            for _ in 0..100 {
                k.sync_once().await.expect("ben sync");
                let msgs = k.messages(&r, 20).await.expect("messages");
                if let Some(c) = msgs.iter().find_map(|m| match &m.body {
                    MessageBody::File { caption, .. } if m.event_id.as_deref() == Some(&ev) => {
                        caption.clone()
                    }
                    _ => None,
                }) {
                    let room_id = matrix_sdk::ruma::RoomId::parse(&r).unwrap();
                    let room = k.sdk_client().get_room(&room_id).unwrap();
                    let reaction = serde_json::json!({
                        "m.relates_to": { "rel_type": "m.annotation", "event_id": ev, "key": "👍" }
                    });
                    room.send_raw("m.reaction", reaction)
                        .into_future()
                        .await
                        .expect("reaction");
                    return c;
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            panic!("ben never received the quote");
        })
        .await;
        assert!(
            caption.starts_with("Quote A-"),
            "the caption in the UI's language: {caption}"
        );

        // The card follows, and the freelancer is told.
        let (_, accepted) = wait_for("the accepted card", 60, || card(QuoteStatus::Accepted)).await;
        assert!(!accepted.answered_at.is_empty());
        let notices = app.window.global::<Notices>();
        wait_for("the notice", 30, || {
            (notices.get_visible()
                && notices.get_headline() == format!("Quote {} accepted", accepted.number))
            .then_some(())
        })
        .await;

        // The overview from the chat list.
        press(&app, "Back").await;
        press(&app, "Quotes").await;
        wait_for("the overview", 30, || {
            let rows = quotes.get_rows();
            (session.get_screen() == Screen::Quotes
                && rows.row_count() == 1
                && rows.row_data(0).unwrap().status == QuoteStatus::Accepted)
                .then_some(())
        })
        .await;
        assert_eq!(quotes.get_accepted_total(), "€1,369.25");
        press(&app, "Export CSV for the tax adviser").await;
        let exported = wait_for("the export", 30, || {
            let f = quotes.get_exported_file().to_string();
            (!f.is_empty()).then_some(f)
        })
        .await;
        let csv = std::fs::read_to_string(&exported).unwrap();
        assert!(
            csv.contains(accepted.number.as_str()) && csv.contains("accepted"),
            "{csv}"
        );
        app.shutdown().await;
    });
}
