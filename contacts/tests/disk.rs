//! On-disk properties: nothing readable in the store files, file modes,
//! wrong passphrase, a damaged or missing store, persistence.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use kontor_contacts::{
    Book, ContactBook, Error, ImportOptions, KdfParams, OpenOptions, PrivateBook, WorkBook,
    normalise_phone,
};

const PASS: &str = "Sommer-2026-Kontor";

fn options() -> OpenOptions {
    OpenOptions {
        kdf: KdfParams::insecure_fast(),
        ..OpenOptions::default()
    }
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(files(&p));
        } else {
            out.push(p);
        }
    }
    out
}

const VCF: &str = "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:Stra=C3=9Fer;J=C3=BCrgen;;;\r\n\
TEL;CELL:0172 9876543\r\nEMAIL:juergen.strasser@handwerk.example\r\nX-KONTOR-CONSENT:granted\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Henriette Quastenberg\r\nORG:Quastenberg Immobilien\r\nTEL:+43 664 5551234\r\n\
EMAIL:h.quastenberg@immo.example\r\nNOTE:Vertraulicher Hinweis Zaunkoenig\r\nEND:VCARD\r\n";

const CSV: &[u8] = b"Vorname;Nachname;Mobiltelefon;E-Mail-Adresse;Einwilligung\r\n\
Walburga;Pf\xFCtzenreiter;0160 4567890;walburga@pfuetzen.example;nein\r\n";

fn import(book: &ContactBook, dir: &Path) {
    let vcf = dir.join("in.vcf");
    let csv = dir.join("in.csv");
    fs::write(&vcf, VCF).unwrap();
    fs::write(&csv, CSV).unwrap();
    for f in [&vcf, &csv] {
        let r = book
            .import_file(
                f,
                &ImportOptions::default(),
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .unwrap();
        assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    }
}

#[test]
fn store_files_contain_no_personal_data() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    {
        let book = ContactBook::open_with(&profile, PASS, options()).unwrap();
        import(&book, dir.path());
        assert_eq!(book.list(Book::Work).unwrap().len(), 1);
        assert_eq!(book.list(Book::Private).unwrap().len(), 2);
        let id = book.list(Book::Private).unwrap()[0].id.clone();
        book.grant(&id, "Kundenkommunikation über Kontor", Some("Anruf"))
            .unwrap();
    }
    let mut needles: Vec<String> = vec![
        "Jürgen",
        "Straßer",
        "Henriette",
        "Quastenberg",
        "Walburga",
        "Pfützenreiter",
        "Pf\u{fc}tzen",
        "Zaunkoenig",
        "juergen.strasser@handwerk.example",
        "h.quastenberg@immo.example",
        "walburga@pfuetzen.example",
        "0172 9876543",
        "+43 664 5551234",
        "0160 4567890",
        "Quastenberg Immobilien",
        "Anruf",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    for raw in ["0172 9876543", "+43 664 5551234", "0160 4567890"] {
        let e164 = normalise_phone(raw, Default::default()).unwrap();
        needles.push(e164.trim_start_matches('+').to_owned());
        needles.push(e164);
    }
    let all = files(&profile);
    assert!(all.len() >= 4, "expected sled files, found {all:?}");
    for f in &all {
        let bytes = fs::read(f).unwrap();
        let lower = String::from_utf8_lossy(&bytes).to_lowercase();
        for n in &needles {
            let hit = bytes.windows(n.len()).any(|w| w == n.as_bytes())
                || lower.contains(&n.to_lowercase());
            assert!(!hit, "{n:?} found in {}", f.display());
        }
        let latin1: Vec<u8> = "Pfützenreiter".chars().map(|c| c as u8).collect();
        assert!(!bytes.windows(latin1.len()).any(|w| w == latin1.as_slice()));
        let mode = fs::metadata(f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", f.display());
    }
    for d in [
        profile.clone(),
        profile.join("work"),
        profile.join("private"),
    ] {
        assert_eq!(
            fs::metadata(&d).unwrap().permissions().mode() & 0o777,
            0o700,
            "{}",
            d.display()
        );
    }
    // And the data is really there.
    let book = ContactBook::open(&profile, PASS).unwrap();
    assert_eq!(book.list(Book::Work).unwrap().len(), 2);
}

#[test]
fn wrong_passphrase_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p");
    {
        let book = ContactBook::open_with(&profile, PASS, options()).unwrap();
        import(&book, dir.path());
    }
    assert!(matches!(
        ContactBook::open(&profile, "falsch"),
        Err(Error::WrongPassphrase { book: Book::Work })
    ));
    assert!(matches!(
        WorkBook::open(&profile, "falsch"),
        Err(Error::WrongPassphrase { .. })
    ));
    let book = ContactBook::open(&profile, PASS).unwrap();
    assert_eq!(book.list(Book::Private).unwrap().len(), 2);
}

#[test]
fn damaged_private_book_does_not_lock_out_the_work_book() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p");
    {
        let book = ContactBook::open_with(&profile, PASS, options()).unwrap();
        import(&book, dir.path());
    }
    // Garbage over the private book's files.
    for f in files(&profile.join("private")) {
        fs::write(&f, vec![0xA5; 4096]).unwrap();
    }
    let err = ContactBook::open(&profile, PASS)
        .err()
        .expect("damaged store must not open");
    assert!(
        matches!(
            err,
            Error::StoreCorrupt {
                book: Book::Private,
                ..
            } | Error::Database {
                book: Book::Private,
                ..
            }
        ),
        "{err}"
    );
    let work = WorkBook::open(&profile, PASS).unwrap();
    assert_eq!(work.list().unwrap()[0].display_name, "Jürgen Straßer");
    drop(work);

    // A missing work book: clear error, the private book (restored here) still opens on its own.
    let dir2 = tempfile::tempdir().unwrap();
    let profile2 = dir2.path().join("p");
    {
        let book = ContactBook::open_with(&profile2, PASS, options()).unwrap();
        import(&book, dir2.path());
    }
    fs::remove_dir_all(profile2.join("work")).unwrap();
    let err = ContactBook::open(&profile2, PASS)
        .err()
        .expect("missing store must not open");
    assert!(
        matches!(
            err,
            Error::StoreMissing {
                book: Book::Work,
                ..
            }
        ),
        "{err}"
    );
    assert!(
        !profile2.join("work").exists(),
        "no empty work book created silently"
    );
    assert_eq!(
        PrivateBook::open(&profile2, PASS).unwrap().len().unwrap(),
        2
    );
}
