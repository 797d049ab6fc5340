//! The import wizard against a real Synapse: a vCard file with consent per contact is
//! previewed (consent each contact will get, problems by line) before anything is
//! written, imported into the right books, and the report counts and rejected lines
//! match the file. A second, large file is cancelled while it imports: the books stay
//! exactly as they were.

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{ConsentKind, Contacts, ImportStep, ImportWizard, Language, Screen, Session};
use kontor_contacts::{Book, ContactBook, KdfParams, OpenOptions};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";

/// Line numbers matter: the empty card starts on line 13, Vera's on line 23, Carl's
/// number on line 20 is not a valid one (a warning at that line), and Ben's and Erika's
/// numbers (lines 4 and 11) have no country code (read as German: a warning each).
const VCF: &str = "BEGIN:VCARD\nVERSION:3.0\nFN:Ben Kunde\nTEL;TYPE=CELL:0151 23456781\n\
X-KONTOR-CONSENT:ja\nX-KONTOR-CONSENT-PURPOSE:Angebote per Chat\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:3.0\nFN:Tante Erika\nTEL:0171 7654321\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:3.0\nNOTE:nur eine Notiz\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:3.0\nFN:Carl Widerruf\nTEL:12\nX-KONTOR-CONSENT:widerrufen\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:3.0\nFN:Vera Vielleicht\nX-KONTOR-CONSENT:vielleicht\nEND:VCARD\n";

fn names(model: slint::ModelRc<kontor::ui::ContactItem>) -> Vec<String> {
    model.iter().map(|c| c.name.to_string()).collect()
}

fn step(app: &kontor::ui::App) -> ImportStep {
    app.window.global::<ImportWizard>().get_step()
}

pub fn import_wizard_previews_imports_reports_and_cancels() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let h = Harness::new();
    let small = h.dir.path().join("kunden.vcf");
    std::fs::write(&small, VCF).unwrap();
    // Big enough that the import is still running when Cancel is pressed.
    let big = h.dir.path().join("alle.vcf");
    let mut cards = String::new();
    for i in 0..20_000u32 {
        cards.push_str(&format!(
            "BEGIN:VCARD\nVERSION:3.0\nFN:Kunde {i}\nTEL:+49151{i:08}\nEND:VCARD\n"
        ));
    }
    std::fs::write(&big, cards).unwrap();

    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let url = hs.base_url.clone();
    let (small_path, big_path) = (small.display().to_string(), big.display().to_string());
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        press(&app, "Contacts").await;
        press(&app, "Import file").await;
        assert_eq!(
            app.window.global::<Session>().get_screen(),
            Screen::ImportWizard
        );
        let iw = app.window.global::<ImportWizard>();

        // Step 1: the file, consent as stated in it (the default choice).
        fill(&app, "File", &small_path).await;
        let from_file = one(&app, "As stated in the file", AccessibleRole::Button).await;
        assert_eq!(from_file.accessible_checked(), Some(true));
        press(&app, "Preview").await;
        wait_for("the preview", 30, || {
            (step(&app) == ImportStep::Preview).then_some(())
        })
        .await;

        // Step 2: what would happen, before anything is written.
        assert_eq!(iw.get_format(), "vCard");
        assert_eq!(iw.get_encoding(), "UTF-8");
        assert_eq!(iw.get_records(), 5);
        assert_eq!(
            iw.get_consent_fields(),
            "X-KONTOR-CONSENT, X-KONTOR-CONSENT-PURPOSE"
        );
        assert_eq!((iw.get_to_work(), iw.get_to_private()), (1, 2));
        let rows: Vec<_> = iw
            .get_rows()
            .iter()
            .map(|r| (r.line, r.name.to_string(), r.consent, r.rejected))
            .collect();
        assert_eq!(
            rows,
            [
                (1, "Ben Kunde".into(), ConsentKind::Granted, false),
                (8, "Tante Erika".into(), ConsentKind::None, false),
                (17, "Carl Widerruf".into(), ConsentKind::Withdrawn, false),
                (23, "Vera Vielleicht".into(), ConsentKind::None, true),
            ]
        );
        let problems: Vec<_> = iw
            .get_problems()
            .iter()
            .map(|p| (p.line, p.rejected))
            .collect();
        assert_eq!(
            problems,
            [(4, false), (11, false), (13, true), (20, false), (23, true)]
        );
        assert!(shows_text(&app, "Line 13: rejected"));
        assert!(shows_text(&app, "unknown consent value “vielleicht”"));
        assert!(
            app.window.global::<Contacts>().get_work().row_count() == 0,
            "the preview wrote nothing"
        );

        // Import → report with counts and the rejected lines.
        press(&app, "Import").await;
        wait_for("the report", 60, || {
            (step(&app) == ImportStep::Report).then_some(())
        })
        .await;
        assert!(!iw.get_cancelled());
        assert_eq!((iw.get_added_work(), iw.get_added_private()), (1, 2));
        assert_eq!((iw.get_rejected(), iw.get_warnings()), (2, 3));
        let rejected: Vec<_> = iw
            .get_report_problems()
            .iter()
            .filter(|p| p.rejected)
            .map(|p| p.line)
            .collect();
        assert_eq!(rejected, [13, 23]);
        assert!(shows_text(
            &app,
            "3 imported: 1 to the work book, 2 to the private book"
        ));
        press(&app, "Done").await;
        let c = app.window.global::<Contacts>();
        let books = || (names(c.get_work()), names(c.get_private()));
        let expected = (
            vec!["Ben Kunde".to_owned()],
            vec!["Carl Widerruf".to_owned(), "Tante Erika".to_owned()],
        );
        wait_for("the imported contacts in their books", 10, || {
            (books() == expected).then_some(())
        })
        .await;
        assert_eq!(
            app.window.global::<Session>().get_screen(),
            Screen::Contacts
        );

        // A large file, nobody consented; cancelled while it imports.
        press(&app, "Import file").await;
        fill(&app, "File", &big_path).await;
        press(&app, "Nobody in this file consented").await;
        press(&app, "Preview").await;
        wait_for("the big preview", 120, || {
            (step(&app) == ImportStep::Preview).then_some(())
        })
        .await;
        assert_eq!((iw.get_to_work(), iw.get_to_private()), (0, 20_000));
        press(&app, "Import").await;
        assert_eq!(step(&app), ImportStep::Running);
        press(&app, "Cancel").await;
        wait_for("the cancelled report", 120, || {
            (step(&app) == ImportStep::Report).then_some(())
        })
        .await;
        assert!(
            iw.get_cancelled(),
            "the import finished before Cancel took effect"
        );
        assert!(shows_text(&app, "Import cancelled. Nothing was written."));
        press(&app, "Done").await;
        sleep(std::time::Duration::from_millis(500)).await;
        wait_for("the books after the refresh", 10, || {
            (books() == expected).then_some(())
        })
        .await;
        app.shutdown().await;
    });

    // On disk too: the three contacts of the first file, nothing of the second.
    let book = ContactBook::open_with(
        &h.dir.path().join("contacts"),
        PASS,
        OpenOptions {
            kdf: KdfParams::insecure_fast(),
            ..OpenOptions::default()
        },
    )
    .expect("book");
    assert_eq!(book.list(Book::Work).unwrap().len(), 1);
    assert_eq!(book.list(Book::Private).unwrap().len(), 2);
    drop(hs);
}
