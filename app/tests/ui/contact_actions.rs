//! The contact detail's actions against a real Synapse and Sydent: "start chat" is off
//! until a consented contact has a Matrix id; "find on Kontor" looks up the work book
//! only and finds the customer whose number is bound; then "start chat" opens the
//! conversation. Export writes the contact's data as JSON and vCard (0600); erase, after
//! the confirmation, removes the contact from both books; the confirmation says the chat
//! with them stays. A quote sent to the contact's Matrix id is in the JSON export, and
//! the confirmation says it stays (§ 147 AO, § 257 HGB); it does.

use std::os::unix::fs::PermissionsExt;

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Contacts, Conversation, Language, Screen, Session};
use kontor_contacts::{Book, ContactBook, NewContact};
use kontor_testkit::{Sydent, Synapse};
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";
/// Ben's number as Sydent has it bound (E.164 digits) and as Anna's book has it.
const BEN_MSISDN: &str = "4915123456781";
const BEN_PHONE: &str = "0151 23456781";
/// Erika is on Matrix too, but in Anna's private book: she must never be found.
const ERIKA_MSISDN: &str = "491717654321";
const ERIKA_PHONE: &str = "0171 7654321";

fn names(model: slint::ModelRc<kontor::ui::ContactItem>) -> Vec<String> {
    model.iter().map(|c| c.name.to_string()).collect()
}

/// A quote (a draft) for `user_id`, written through the form's checks as the quote form
/// writes it from a chat.
fn quote_for(user_id: &str) -> kontor_quotes::QuoteRecord {
    use kontor::service::quotes::draft::{DraftInput, DraftItem};
    let details = kontor_quotes::BusinessDetails {
        name: "Fliesen Weiß GmbH".into(),
        address: "Große Straße 12\n10115 Berlin".into(),
        tax_id: "12/345/67890".into(),
        ..kontor_quotes::BusinessDetails::new()
    };
    let input = DraftInput {
        title: "Praxisumbau".into(),
        items: vec![DraftItem {
            description: "Fliesen".into(),
            quantity: "10".into(),
            unit: "m²".into(),
            unit_price: "45".into(),
            vat: 19,
        }],
        ..DraftInput::default()
    };
    let number = kontor_quotes::QuoteNumber {
        year: 2026,
        seq: 42,
    };
    let quote = input
        .to_quote(number, kontor_quotes::Date::today(), &details)
        .expect("a valid quote");
    let customer = kontor_quotes::Customer {
        name: "Ben Kunde".into(),
        user_id: Some(user_id.into()),
        contact_id: None,
    };
    kontor_quotes::QuoteRecord::new(quote, customer, "ab".into())
}

fn start_chat_enabled(app: &kontor::ui::App) -> bool {
    let b = find(app, "Start chat", AccessibleRole::Button);
    assert_eq!(b.len(), 1, "one start chat button");
    b[0].accessible_enabled() != Some(false)
}

pub fn start_chat_after_discovery_export_and_erase() {
    let hs = Synapse::start().expect("synapse");
    let is = Sydent::start().expect("sydent");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let erika = hs.register_unique("erika").expect("erika");
    is.bind_msisdn(BEN_MSISDN, &ben.user_id).expect("bind ben");
    is.bind_msisdn(ERIKA_MSISDN, &erika.user_id)
        .expect("bind erika");
    let h = Harness::new();
    let ben_id = {
        let book = ContactBook::open_with(&h.dir.path().join("contacts"), PASS, book_options())
            .expect("book");
        let new = |name: &str, phone: &str| NewContact {
            display_name: name.into(),
            phones: vec![phone.into()],
            ..Default::default()
        };
        let ben = book
            .add(
                new("Ben Kunde", BEN_PHONE),
                Some(("Angebote per Chat", None)),
            )
            .expect("ben");
        book.add(new("Otto Offline", "0170 1234567"), Some(("Termine", None)))
            .expect("otto");
        book.add(new("Tante Erika", ERIKA_PHONE), None)
            .expect("erika");
        ben.id
    };
    let export_dir = h.dir.path().join("exports");
    std::fs::create_dir_all(&export_dir).unwrap();

    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    app.set_identity_server(Some(is.url()));
    let url = hs.base_url.clone();
    let ben_mxid = ben.user_id.clone();
    let export_path = export_dir.display().to_string();
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        press(&app, "Contacts").await;
        let c = app.window.global::<Contacts>();
        wait_for("both books", 10, || {
            (names(c.get_work()) == ["Ben Kunde", "Otto Offline"]
                && names(c.get_private()) == ["Tante Erika"])
            .then_some(())
        })
        .await;

        // Consented, but no Matrix id yet: no chat.
        open_contact(&app, "Ben Kunde").await;
        assert_eq!(c.get_selected_matrix_id(), "");
        assert!(!start_chat_enabled(&app));
        press(&app, "Back").await;

        // Discovery: the two consented contacts are looked up, Ben is found.
        press(&app, "Find on Kontor").await;
        wait_for("discovery", 30, || {
            (!c.get_discovering() && c.get_discovery_found() >= 0).then_some(())
        })
        .await;
        assert_eq!(
            app.window.global::<Session>().get_error(),
            kontor::ui::ErrorKind::None
        );
        assert_eq!(
            (c.get_discovery_looked_up(), c.get_discovery_found()),
            (2, 1)
        );
        assert!(shows_text(
            &app,
            "1 of 2 consented contacts found on Kontor."
        ));

        // Erika is bound on the identity server, but private: not looked up, no chat.
        open_contact(&app, "Tante Erika").await;
        assert_eq!(c.get_selected_matrix_id(), "");
        assert!(!start_chat_enabled(&app));
        press(&app, "Back").await;
        open_contact(&app, "Otto Offline").await;
        assert!(!start_chat_enabled(&app), "consented but not on Kontor");
        press(&app, "Back").await;

        // Ben: found, so a quote can be written for him from his contact page (the form
        // is for him, linked to the contact; Cancel comes back here)…
        open_contact(&app, "Ben Kunde").await;
        assert_eq!(c.get_selected_matrix_id(), ben_mxid.as_str());
        press(&app, "Write quote").await;
        wait_for("the quote form for Ben", 60, || {
            let q = app.window.global::<kontor::ui::Quotes>();
            (app.window.global::<Session>().get_screen() == Screen::QuoteForm
                && q.get_customer() == "Ben Kunde")
                .then_some(())
        })
        .await;
        press(&app, "Cancel").await;
        wait_for("back on the contact", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::ContactDetail).then_some(())
        })
        .await;
        // …and the chat opens.
        assert!(start_chat_enabled(&app));
        press(&app, "Start chat").await;
        wait_for("the conversation with Ben", 60, || {
            let conv = app.window.global::<Conversation>();
            (app.window.global::<Session>().get_screen() == Screen::Conversation
                && !conv.get_room_id().is_empty())
            .then_some(())
        })
        .await;

        // A quote sent to Ben's Matrix id from the chat (not linked to the contact): it
        // is his, found by the Matrix id discovery stored.
        let quotes = app.service().quotes().expect("the device's quotes");
        quotes.put(&quote_for(&ben_mxid)).expect("a quote");

        // Export: JSON and vCard into a folder, private files.
        press(&app, "Back").await;
        press(&app, "Contacts").await;
        open_contact(&app, "Ben Kunde").await;
        wait_for("Ben's quote counted", 10, || {
            (c.get_selected_quotes() == 1).then_some(())
        })
        .await;
        fill(&app, "Folder or file for the export", &export_path).await;
        press(&app, "Export JSON").await;
        let json_path = wait_for("the JSON export", 10, || {
            let f = c.get_exported_file().to_string();
            f.ends_with(".json").then_some(f)
        })
        .await;
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json_path).unwrap()).unwrap();
        assert_eq!(json["contact"]["display_name"], "Ben Kunde", "{json}");
        assert_eq!(json["contact"]["matrix_id"], ben_mxid.as_str());
        assert_eq!(json["quotes"][0]["number"], "A-2026-0042", "{json}");
        assert_eq!(json["quotes"][0]["title"], "Praxisumbau");
        let mode = std::fs::metadata(&json_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        press(&app, "Export vCard").await;
        let vcf_path = wait_for("the vCard export", 10, || {
            let f = c.get_exported_file().to_string();
            f.ends_with(".vcf").then_some(f)
        })
        .await;
        assert!(
            std::fs::read_to_string(&vcf_path)
                .unwrap()
                .contains("FN:Ben Kunde")
        );

        // Erase, after a confirmation that says what happens.
        press(&app, "Erase contact").await;
        assert!(shows_text(
            &app,
            "Ben Kunde is removed from both books and every cache on this device: contact \
             data, consent history and the Matrix ID found for them. This cannot be undone."
        ));
        // The chat is not deleted with him, and the box says so (and how to remove it).
        assert!(shows_text(
            &app,
            &format!(
                "The chat with {ben_mxid} is not deleted: it stays in your chat list, on your \
                 homeserver and in their own app. To remove it from your account, leave the \
                 chat in another Matrix app (e.g. Element); their copy stays with them."
            )
        ));
        let quote_kept = "1 quote for this person stays: quotes are business letters a \
             business must keep for 6 years (§ 147 AO, § 257 HGB). It is not erased, with its \
             number, name, amounts and answers; only its link to the contact is removed.";
        scroll_page_until(&app, "the quote sentence and the button", -120.0, || {
            shows_text(&app, quote_kept)
                && !find(&app, "Erase for good", AccessibleRole::Button).is_empty()
        })
        .await;
        press(&app, "Erase for good").await;
        wait_for("Ben erased", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Contacts
                && names(c.get_work()) == ["Otto Offline"]
                && names(c.get_private()) == ["Tante Erika"])
            .then_some(())
        })
        .await;
        assert_eq!(c.get_selected().id, "");
        assert_eq!(c.get_selected_matrix_id(), "");
        assert_eq!(c.get_selected_quotes(), 0);
        // The quote is kept (§ 147 AO, § 257 HGB), as the confirmation said.
        let kept = quotes.all().expect("quotes");
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].customer.name, "Ben Kunde");
        app.shutdown().await;
    });

    // The identity server never saw a lookup from the private book: two consented
    // contacts, two hashes.
    let lookups: Vec<_> = is
        .recorded()
        .into_iter()
        .filter(|r| r.path.ends_with("/lookup"))
        .collect();
    assert_eq!(lookups.len(), 1);
    let body: serde_json::Value = serde_json::from_slice(&lookups[0].body).unwrap();
    assert_eq!(body["addresses"].as_array().unwrap().len(), 2, "{body}");

    let book =
        ContactBook::open_with(&h.dir.path().join("contacts"), PASS, book_options()).expect("book");
    assert!(book.get(&ben_id).is_err(), "erased from both books");
    assert_eq!(book.list(Book::Work).unwrap().len(), 1);
    assert_eq!(book.list(Book::Private).unwrap().len(), 1);
    drop(is);
    drop(hs);
}
