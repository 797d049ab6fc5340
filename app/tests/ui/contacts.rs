//! The split contact book in the app: the two books are listed apart, and recording
//! consent or its withdrawal (after the confirmation) moves a contact between them, with
//! the change in its consent history. The book is the one `kontor contacts` uses:
//! `<data-dir>/contacts`, unlocked with the profile passphrase.

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{ConsentKind, Contacts, Language, Screen, Session};
use kontor_contacts::NewContact;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";

fn names(model: slint::ModelRc<kontor::ui::ContactItem>) -> Vec<String> {
    model.iter().map(|c| c.name.to_string()).collect()
}

pub fn grant_and_withdraw_move_contacts_between_the_books() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let h = Harness::new();
    {
        // The freelancer's existing book: one consented customer, one private contact.
        let book = contact_book(&h, PASS);
        let new = |name: &str, phone: &str| NewContact {
            display_name: name.into(),
            phones: vec![phone.into()],
            ..Default::default()
        };
        book.add(
            new("Ben Kunde", "0151 1234567"),
            Some(("Terminabsprachen", None)),
        )
        .expect("ben");
        book.add(new("Tante Erika", "0171 7654321"), None)
            .expect("erika");
    }
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let url = hs.base_url.clone();
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        press(&app, "Contacts").await;
        let c = app.window.global::<Contacts>();
        wait_for("both books", 10, || {
            (names(c.get_work()) == ["Ben Kunde"] && names(c.get_private()) == ["Tante Erika"])
                .then_some(())
        })
        .await;
        assert!(shows_text(&app, "Work — consented"));
        assert!(shows_text(&app, "Private — no consent"));

        // Grant: purpose, confirmation that says what changes, then the move.
        one(&app, "Tante Erika", AccessibleRole::Button)
            .await
            .invoke_accessible_default_action();
        wait_for("detail", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::ContactDetail).then_some(())
        })
        .await;
        assert_eq!(c.get_selected_status(), ConsentKind::None);
        fill(&app, "Purpose of the consent", "Angebote per Chat").await;
        press(&app, "Record consent").await;
        wait_for("confirmation", 5, || {
            find(&app, "Confirm", AccessibleRole::Button)
                .first()
                .cloned()
        })
        .await;
        assert!(
            shows_text(
                &app,
                "Tante Erika moves to the work book. Their number and e-mail may then be used \
                 for contact discovery, for the purpose: Angebote per Chat"
            ),
            "the confirmation says what changes"
        );
        press(&app, "Confirm").await;
        wait_for("Erika in the work book", 10, || {
            (names(c.get_work()) == ["Ben Kunde", "Tante Erika"]
                && names(c.get_private()).is_empty()
                && c.get_selected().work)
                .then_some(())
        })
        .await;
        assert_eq!(c.get_selected_status(), ConsentKind::Granted);
        assert_eq!(c.get_selected_purpose(), "Angebote per Chat");
        // Appended to the history (which starts with "no consent" from the manual entry).
        let kinds: Vec<_> = c.get_selected_history().iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [ConsentKind::None, ConsentKind::Granted]);
        let last = c.get_selected_history().row_data(1).unwrap();
        assert_eq!(last.purpose, "Angebote per Chat");

        // Withdraw Ben: he moves to the private book, his history keeps both events.
        press(&app, "Back").await;
        one(&app, "Ben Kunde", AccessibleRole::Button)
            .await
            .invoke_accessible_default_action();
        wait_for("Ben's detail", 10, || {
            (c.get_selected().name == "Ben Kunde").then_some(())
        })
        .await;
        press(&app, "Record withdrawal").await;
        press(&app, "Confirm").await;
        wait_for("Ben in the private book", 10, || {
            (names(c.get_private()) == ["Ben Kunde"] && !c.get_selected().work).then_some(())
        })
        .await;
        assert_eq!(c.get_selected_status(), ConsentKind::Withdrawn);
        let kinds: Vec<_> = c.get_selected_history().iter().map(|l| l.kind).collect();
        assert_eq!(kinds, [ConsentKind::Granted, ConsentKind::Withdrawn]);
        app.shutdown().await;
    });
    drop(hs);
}
