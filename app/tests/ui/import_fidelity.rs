//! What the importer now keeps and says, as the freelancer sees it (issue 14), against a
//! real Synapse: the preview counts the numbers read without a country code and names
//! the region, which the user can change and read again; it lists the merges before
//! anything is written; problems read in the user's language; after the import the
//! contact detail shows the postal address and job title from the card, and the
//! consent's evidence (file, line, value) worded by the view.

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Contacts, ImportStep, ImportWizard, Language, Screen, Session};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";

/// Line 1: Frau Weiß, consent, a national number (line 4), title and a work address.
/// Line 10: the same person again by e-mail: merged into line 1.
const VCF: &str = "BEGIN:VCARD\nVERSION:3.0\nFN:Gisela Weiß\nTEL:0664 1234567\n\
EMAIL:g.weiss@example.org\nTITLE:Praxisinhaberin\n\
ADR;TYPE=WORK:;;Hauptstraße 5;Wien;;1010;Österreich\nX-KONTOR-CONSENT:ja\nEND:VCARD\n\
BEGIN:VCARD\nVERSION:3.0\nFN:Gisela Weiß\nEMAIL:G.Weiss@example.org\nEND:VCARD\n";

pub fn preview_names_region_and_merges_detail_shows_address_and_evidence() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let h = Harness::new();
    let file = h.dir.path().join("kunden.vcf");
    std::fs::write(&file, VCF).unwrap();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let url = hs.base_url.clone();
    let path = file.display().to_string();
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        press(&app, "Contacts").await;
        press(&app, "Import file").await;
        let iw = app.window.global::<ImportWizard>();
        fill(&app, "File", &path).await;
        press(&app, "Preview").await;
        wait_for("the preview", 30, || {
            (iw.get_step() == ImportStep::Preview && !iw.get_busy()).then_some(())
        })
        .await;

        // The national number: counted, the region named, the warning in words.
        assert_eq!(
            (iw.get_national_numbers(), iw.get_region().as_str()),
            (1, "DE")
        );
        assert!(shows_text(
            &app,
            "Numbers without country code: 1, read as numbers of DE"
        ));
        assert!(shows_text(
            &app,
            "number 0664 1234567 has no country code, read as DE"
        ));
        // The merge, before anything is written.
        let merges: Vec<_> = iw
            .get_merges()
            .iter()
            .map(|m| (m.line, m.into_line, m.by_email))
            .collect();
        assert_eq!(merges, [(10, 1, true)]);
        assert!(shows_text(
            &app,
            "Line 10 joins line 1 (same e-mail address)"
        ));

        // Frau Weiß is Austrian: read again with AT.
        fill(&app, "Country code for numbers without one", "at").await;
        press(&app, "Read again").await;
        wait_for("the preview with AT", 30, || {
            (iw.get_region() == "AT" && !iw.get_busy()).then_some(())
        })
        .await;
        assert!(shows_text(
            &app,
            "number 0664 1234567 has no country code, read as AT"
        ));

        // An unknown region is refused with a message, and nothing is read.
        fill(&app, "Country code for numbers without one", "Atlantis").await;
        press(&app, "Read again").await;
        wait_for("the refusal", 10, || {
            (app.window.global::<Session>().get_error() == kontor::ui::ErrorKind::InvalidInput)
                .then_some(())
        })
        .await;
        fill(&app, "Country code for numbers without one", "AT").await;
        press(&app, "Read again").await;
        wait_for("AT again", 30, || {
            (iw.get_region() == "AT" && !iw.get_busy()).then_some(())
        })
        .await;

        press(&app, "Import").await;
        wait_for("the report", 60, || {
            (iw.get_step() == ImportStep::Report).then_some(())
        })
        .await;
        assert_eq!((iw.get_added_work(), iw.get_merged()), (1, 1));
        press(&app, "Done").await;

        // The detail: the Austrian number, title, address and the evidence in words.
        let c = app.window.global::<Contacts>();
        wait_for("the work book", 10, || {
            (c.get_work().row_count() == 1).then_some(())
        })
        .await;
        one(&app, "Gisela Weiß", AccessibleRole::Button)
            .await
            .invoke_accessible_default_action();
        wait_for("the detail", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::ContactDetail
                && c.get_selected_addresses().row_count() == 1)
                .then_some(())
        })
        .await;
        assert!(
            c.get_selected_reach().contains("+436641234567"),
            "{}",
            c.get_selected_reach()
        );
        assert!(shows_text(&app, "Praxisinhaberin"));
        assert!(
            shows_text(&app, "WORK\nHauptstraße 5\n1010 Wien\nÖsterreich")
                || shows_text(&app, "work\nHauptstraße 5\n1010 Wien\nÖsterreich"),
            "{:?}",
            c.get_selected_addresses().iter().collect::<Vec<_>>()
        );
        assert!(shows_text(
            &app,
            "Evidence: kunden.vcf line 1: consent = ja"
        ));

        // German: the same evidence, worded in German.
        app.window
            .global::<Session>()
            .invoke_set_language("de".into());
        wait_for("German evidence", 5, || {
            shows_text(&app, "Nachweis: kunden.vcf Zeile 1: Einwilligung = ja").then_some(())
        })
        .await;
        app.shutdown().await;
    });
    drop(hs);
}
