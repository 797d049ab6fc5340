//! Import fidelity: one regression test per defect of issue 14, each on a
//! fixture written by the project (`tests/fixtures/`, or built here when it
//! is binary), through the public API as the app and the CLI use it.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use kontor_contacts::{
    Book, Contact, ContactBook, Evidence, ImportEvidence, ImportOptions, ImportPreview,
    ImportReport, IssueKind, KdfParams, LineIssue, MatchedBy, Merge, MergeTarget, OpenOptions,
    Region, Service, TextEncoding,
};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

struct Env {
    dir: tempfile::TempDir,
    book: ContactBook,
}

fn env() -> Env {
    let dir = tempfile::tempdir().unwrap();
    let book = ContactBook::open_with(
        &dir.path().join("book"),
        "pass",
        OpenOptions {
            kdf: KdfParams::insecure_fast(),
            ..Default::default()
        },
    )
    .unwrap();
    Env { dir, book }
}

impl Env {
    fn import(&self, path: &Path, opts: &ImportOptions) -> ImportReport {
        self.book
            .import_file(path, opts, &mut |_| {}, &AtomicBool::new(false))
            .unwrap()
    }

    fn import_fixture(&self, name: &str) -> ImportReport {
        self.import(&fixture(name), &ImportOptions::default())
    }

    /// Writes `bytes` as a file of the test's own and imports it.
    fn import_bytes(&self, name: &str, bytes: &[u8]) -> ImportReport {
        let path = self.dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        self.import(&path, &ImportOptions::default())
    }

    fn preview(&self, name: &str, opts: &ImportOptions) -> ImportPreview {
        self.book.preview_file(&fixture(name), opts, 10).unwrap()
    }

    fn all(&self) -> Vec<Contact> {
        let mut all = self.book.list(Book::Work).unwrap();
        all.extend(self.book.list(Book::Private).unwrap());
        all.sort_by(|a, b| a.display_name.cmp(&b.display_name));
        all
    }

    fn named(&self, name: &str) -> Contact {
        self.all()
            .into_iter()
            .find(|c| c.display_name == name)
            .unwrap_or_else(|| panic!("no contact {name:?} in {:#?}", self.all()))
    }
}

fn addresses(c: &Contact) -> Vec<&str> {
    c.emails.iter().map(|e| e.address.as_str()).collect()
}

fn numbers(c: &Contact, service: Service) -> Vec<&str> {
    c.phones
        .iter()
        .filter(|p| p.service() == service)
        .map(|p| p.raw.as_str())
        .collect()
}

fn emails_in_terms(c: &Contact) -> Vec<String> {
    c.index_terms()
        .into_iter()
        .filter(|(k, _)| *k == "email")
        .map(|(_, v)| v)
        .collect()
}

/// Defect 1 (and 12 for CSV): German Outlook's e-mail type and display-name
/// columns are not addresses; `Name <addr>` gives its address; a cell
/// without an address is a warning, never an e-mail or a discovery term.
#[test]
fn outlook_german_columns_by_name() {
    let e = env();
    let r = e.import_fixture("outlook-de.csv");
    let c = e.named("Christian Baumann");
    assert_eq!(
        addresses(&c),
        ["c.baumann@firma.de", "chris@baumann.example"]
    );
    assert_eq!(
        emails_in_terms(&c),
        ["c.baumann@firma.de", "chris@baumann.example"]
    );
    assert_eq!(c.title.as_deref(), Some("Einkaufsleiter"));
    assert_eq!(numbers(&c, Service::Fax), ["+49 711 1234599"]);
    assert_eq!(numbers(&c, Service::Pager), ["+49 160 99887766"]);
    let a = &c.addresses[0];
    assert_eq!(a.kind.as_deref(), Some("work"));
    assert_eq!(
        (
            a.street.as_str(),
            a.locality.as_str(),
            a.postal_code.as_str()
        ),
        ("Industriestraße 5\nHalle 2", "Stuttgart", "70565")
    );
    assert_eq!(
        (a.region.as_str(), a.country.as_str()),
        ("BW", "Deutschland")
    );
    let d = e.named("Doris Dachs");
    assert!(d.emails.is_empty(), "{:?}", d.emails);
    assert_eq!(
        r.warnings,
        [LineIssue::new(
            3,
            IssueKind::InvalidEmail {
                value: "keine".into()
            }
        )]
    );
    // Both have the office fax: not a reason to merge them.
    assert!(r.merged.is_empty(), "{:?}", r.merged);
}

/// Defect 1 for English, French and Spanish Outlook and Google exports.
#[test]
fn outlook_other_languages_and_google() {
    let e = env();
    for f in [
        "outlook-en.csv",
        "outlook-fr.csv",
        "outlook-es.csv",
        "google.csv",
    ] {
        let r = e.import_fixture(f);
        assert!(r.rejected.is_empty(), "{f}: {:?}", r.rejected);
    }
    let cases = [
        (
            "John Q Public",
            "john@acme.com",
            "Sales Manager",
            "Springfield",
        ),
        (
            "Jean Dupont",
            "jean.dupont@boulangerie.example",
            "Gérant",
            "Paris",
        ),
        (
            "María García López",
            "maria@taller.example",
            "Directora",
            "Madrid",
        ),
        (
            "Erika Mustermann",
            "erika@muster.example",
            "Inhaberin",
            "Köln",
        ),
    ];
    for (name, email, title, city) in cases {
        let c = e.named(name);
        assert_eq!(addresses(&c)[0], email, "{name}");
        assert!(
            addresses(&c).iter().all(|a| a.contains('@')),
            "{name}: {c:?}"
        );
        assert_eq!(c.title.as_deref(), Some(title), "{name}");
        assert_eq!(c.addresses[0].locality, city, "{name}");
        assert_eq!(numbers(&c, Service::Fax).len(), 1, "{name}: {:?}", c.phones);
        // Fax numbers are no index (merge, discovery) terms.
        let tel = c.index_terms().iter().filter(|(k, _)| *k == "tel").count();
        assert_eq!(tel, numbers(&c, Service::Voice).len(), "{name}");
    }
    assert_eq!(addresses(&e.named("John Q Public"))[1], "jq@home.example");
    let erika = e.named("Erika Mustermann");
    assert_eq!(erika.addresses[0].kind.as_deref(), Some("work"));
    assert_eq!(erika.addresses[0].street, "Heidestraße 17");
}

fn utf16(text: &str, big_endian: bool) -> Vec<u8> {
    text.encode_utf16()
        .flat_map(|u| {
            if big_endian {
                u.to_be_bytes()
            } else {
                u.to_le_bytes()
            }
        })
        .collect()
}

/// Defect 2: UTF-16 without a byte-order mark is read; a file that cannot
/// be read says why.
#[test]
fn utf16_without_bom_and_unreadable_files() {
    let card = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jörg Äpfel\r\nTEL:+49 30 1234567\r\nEND:VCARD\r\n";
    for be in [true, false] {
        let e = env();
        let r = e.import_bytes("apple.vcf", &utf16(card, be));
        assert_eq!(r.added_private, 1, "big endian {be}: {r:?}");
        assert_eq!(e.all()[0].display_name, "Jörg Äpfel");
    }
    let e = env();
    let mut csv_as_vcard = vec![0xFF, 0xFE];
    csv_as_vcard.extend(utf16("Name,Phone\r\nA,+49 30 1234567\r\n", false));
    let r = e.import_bytes("wrong.vcf", &csv_as_vcard);
    assert_eq!(
        r.rejected,
        [LineIssue::new(
            1,
            IssueKind::NoCards {
                encoding: TextEncoding::Utf16
            }
        )]
    );
    assert!(r.rejected[0].kind.to_string().contains("UTF-16"));
}

/// Defect 3: every NOTE is kept, in order.
#[test]
fn repeated_notes_are_joined() {
    let e = env();
    e.import_fixture("notes.vcf");
    assert_eq!(
        e.named("Nora Nutzer").note.as_deref(),
        Some("Erste Notiz\nZweite Notiz\nDritte Notiz")
    );
}

/// Defect 4: of several FN the one with PREF=1, else the first.
#[test]
fn preferred_or_first_name() {
    let e = env();
    e.import_fixture("fn-pref.vcf");
    let names: Vec<String> = e.all().into_iter().map(|c| c.display_name).collect();
    assert_eq!(names, ["Dr. John Q. Public, III", "Erste Wahl"]);
}

/// Defect 5: a soft line break joins the lines exactly as written.
#[test]
fn quoted_printable_soft_breaks_keep_whitespace() {
    let e = env();
    e.import_fixture("qp-soft-breaks.vcf");
    assert_eq!(
        e.named("Quentin Quoted").note.as_deref(),
        Some("Please come to the office and bring the quote\r\nalong")
    );
}

/// Defect 6: the outer card keeps what follows the inner one; the inner card
/// is a contact of its own, with one warning; the next card is unaffected.
#[test]
fn nested_card_kept_whole() {
    let e = env();
    let r = e.import_fixture("agent-nested.vcf");
    let boss = e.named("Charlotte Chef");
    assert_eq!(addresses(&boss), ["charlotte@chef.example"]);
    assert_eq!(boss.note.as_deref(), Some("Nach der Assistenz notiert"));
    assert_eq!(boss.phones.len(), 1);
    assert_eq!(e.named("Sina Sekretariat").phones[0].raw, "+49 89 1234568");
    assert_eq!(e.named("Danach Dora").phones.len(), 1);
    assert_eq!(
        r.warnings,
        [LineIssue::new(7, IssueKind::NestedCard { outer_line: 1 })]
    );
    assert_eq!(r.added_private, 3);
}

/// Defect 7: ADR (all parts, with type), ORG and TITLE are kept and in
/// every export.
#[test]
fn addresses_title_and_organisation_kept_and_exported() {
    let e = env();
    e.import_fixture("adr-org-title.vcf");
    let c = e.named("Anton Adresse");
    assert_eq!(c.organisation.as_deref(), Some("Adresse GmbH, Vertrieb"));
    assert_eq!(c.title.as_deref(), Some("Außendienst"));
    let [work, home] = &c.addresses[..] else {
        panic!("{:?}", c.addresses)
    };
    assert_eq!(work.kind.as_deref(), Some("work"));
    assert_eq!(
        work.parts(),
        [
            "",
            "Gebäude B",
            "Hauptstraße 1\nHinterhaus",
            "Hamburg",
            "",
            "20095",
            "Deutschland"
        ]
    );
    assert_eq!(
        home.parts(),
        [
            "Postfach 12",
            "",
            "",
            "Buxtehude",
            "Niedersachsen",
            "21614",
            ""
        ]
    );
    let json = e.book.export_json(&c.id).unwrap();
    for part in [
        "Hauptstraße 1\\nHinterhaus",
        "Buxtehude",
        "\"title\": \"Außendienst\"",
    ] {
        assert!(json.contains(part), "{part} in {json}");
    }
    let vcard = e.book.export_vcard(&c.id).unwrap();
    let unfolded = vcard.replace("\r\n ", "");
    assert!(unfolded.contains("TITLE:Außendienst"), "{vcard}");
    assert!(
        unfolded.contains(
            "ADR;TYPE=\"work\":;Gebäude B;Hauptstraße 1\\nHinterhaus;Hamburg;;20095;Deutschland"
        ),
        "{vcard}"
    );
    // The export reads back to the same data.
    let again = env();
    again.import_bytes("export.vcf", vcard.as_bytes());
    let back = again.named("Anton Adresse");
    assert_eq!((back.addresses, back.title), (c.addresses, c.title));
}

/// Defect 8: a national number read with the default region is a warning
/// carrying the region, counted in the preview; another region can be chosen.
#[test]
fn national_numbers_warned_with_their_region() {
    let e = env();
    let de = e.preview("national-number.vcf", &ImportOptions::default());
    let national = IssueKind::NationalNumberAssumedRegion {
        value: "(617) 236-0442".into(),
        region: "DE".parse().unwrap(),
    };
    assert_eq!(de.warnings, [LineIssue::new(4, national.clone())]);
    assert_eq!((de.national_numbers, de.region), (1, Region::default()));
    let us_opts = ImportOptions {
        region: Some("US".parse().unwrap()),
        ..Default::default()
    };
    let us = e.preview("national-number.vcf", &us_opts);
    assert_eq!(us.region.to_string(), "US");
    let r = e.import(&fixture("national-number.vcf"), &us_opts);
    assert_eq!(r.warnings.len(), 1);
    let c = e.named("Boston Office");
    assert_eq!(c.phones[0].e164.as_deref(), Some("+16172360442"));
}

/// Defect 9 (and 12 for vCard): no merge on an invalid number or a fax;
/// different names merge only on a valid shared number; the preview shows
/// the merges the import makes.
#[test]
fn merges_only_on_valid_numbers() {
    let e = env();
    let p = e.preview("merges.vcf", &ImportOptions::default());
    let r = e.import_fixture("merges.vcf");
    let expected = [Merge {
        line: 16,
        into: MergeTarget::Line(11),
        matched: MatchedBy::Phone,
    }];
    assert_eq!(r.merged, expected);
    assert_eq!(p.merges, expected);
    let names: Vec<String> = e.all().into_iter().map(|c| c.display_name).collect();
    assert_eq!(
        names,
        [
            "Anna Platzhalter",
            "Bernd Platzhalter",
            "Carla Gleich",
            "Fax Eins",
            "Fax Zwei"
        ]
    );
    let fax = e.named("Fax Zwei");
    assert_eq!(fax.phones[0].service(), Service::Fax);
    assert!(fax.index_terms().is_empty());
    // Importing the file again merges into the stored contacts, also in the preview.
    let p = e.preview("merges.vcf", &ImportOptions::default());
    assert!(
        p.merges
            .iter()
            .any(|m| m.line == 11 && matches!(m.into, MergeTarget::Existing(_)))
    );
}

/// Defects 10 and 11: a warning names the line where its property starts
/// (after unfolding), and one value is reported once per record.
#[test]
fn warnings_at_the_property_line_once() {
    let e = env();
    let r = e.import_fixture("lines-and-duplicates.vcf");
    assert_eq!(
        r.warnings,
        [
            LineIssue::new(
                6,
                IssueKind::InvalidPhone {
                    value: "kaputt-1".into()
                }
            ),
            LineIssue::new(
                7,
                IssueKind::InvalidEmail {
                    value: "nicht-gueltig".into()
                }
            ),
        ]
    );
    let c = e.named("Lena Linie");
    assert_eq!(
        c.note.as_deref(),
        Some("Eine sehr lange Notiz, die  gefaltet wurde und weitergeht")
    );
}

/// Consent evidence is data: the file, the line and the value, not a sentence.
#[test]
fn evidence_is_structured() {
    let e = env();
    e.import_bytes(
        "k.csv",
        "Name,Telefon,Einwilligung\r\nEva,+49 30 1234567,ja\r\n".as_bytes(),
    );
    let ev = e.named("Eva").consent.current().unwrap().evidence.clone();
    assert_eq!(
        ev,
        Some(Evidence::Import(ImportEvidence::FileValue {
            file: "k.csv".into(),
            line: 2,
            value: "ja".into()
        }))
    );
}
