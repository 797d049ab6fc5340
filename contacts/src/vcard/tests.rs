use super::*;
use crate::record::{IssueKind, LineIssue, RawValue};

const ANDROID_21: &str = "BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
N;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=4D=C3=BC=6C=6C=65=72;=4A=C3=\r\n\
=B6=72=67;;;\r\n\
FN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:=4A=C3=B6=72=67=20=4D=C3=BC=6C=6C=65=72\r\n\
TEL;CELL:0151 1234567\r\n\
TEL;HOME;VOICE:+49 30 1234567\r\n\
EMAIL;HOME:joerg@example.de\r\n\
NOTE;ENCODING=QUOTED-PRINTABLE:Erste Zeile=0D=0AZweite Zeile mit einer sehr langen Beschreibun=\r\n\
g am Ende\r\n\
PHOTO;ENCODING=BASE64;JPEG:/9j/4AAQSkZJRgABAQAAAQABAAD\r\n\
 AAAAAAAAAAAAAA\r\n\
\r\n\
END:VCARD\r\n\
BEGIN:VCARD\r\n\
VERSION:2.1\r\n\
FN;CHARSET=ISO-8859-1;ENCODING=QUOTED-PRINTABLE:Fran=E7ois Gr=FC\r\n\
TEL;WORK:+33 1 23 45 67 89\r\n\
END:VCARD\r\n";

#[test]
fn android_21_quoted_printable_and_soft_breaks() {
    let p = parse(ANDROID_21.as_bytes());
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.records.len(), 2);
    let a = &p.records[0];
    assert_eq!(a.name, "Jörg Müller");
    assert_eq!(a.line, 1);
    assert_eq!(
        a.phones.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [
            ("0151 1234567", Some("cell")),
            ("+49 30 1234567", Some("home"))
        ]
    );
    assert_eq!(
        a.emails.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [("joerg@example.de", Some("home"))]
    );
    assert_eq!(
        a.note.as_deref(),
        Some("Erste Zeile\r\nZweite Zeile mit einer sehr langen Beschreibung am Ende")
    );
    let b = &p.records[1];
    assert_eq!(b.name, "François Grü");
    assert_eq!(b.line, 15);
}

#[test]
fn apple_30_folding_groups_escapes() {
    let v = "BEGIN:VCARD\nVERSION:3.0\nN:Schmidt;Anna;Maria;Dr.;\nFN:Dr. Anna Maria Schmidt\n\
ORG:Schmidt & Söhne GmbH;Vertrieb\nitem1.TEL;type=CELL;type=VOICE;type=pref:+49 171 9876543\n\
item2.EMAIL;type=INTERNET;type=WORK:anna.schmidt@\n example.com\nNOTE:Komma\\, Semikolon\\; neue\\nZeile\n\
CATEGORIES:Kunden,VIP\nX-KONTOR-CONSENT:granted\nX-KONTOR-CONSENT-EVIDENCE:Vertrag vom 1.3.\nEND:VCARD\n";
    let p = parse(v.as_bytes());
    assert_eq!(p.records.len(), 1);
    let a = &p.records[0];
    assert_eq!(a.name, "Dr. Anna Maria Schmidt");
    assert_eq!(
        a.organisation.as_deref(),
        Some("Schmidt & Söhne GmbH, Vertrieb")
    );
    assert_eq!(
        a.phones.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [("+49 171 9876543", Some("cell"))]
    );
    assert_eq!(
        a.emails.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [("anna.schmidt@example.com", Some("work"))]
    );
    assert_eq!(a.note.as_deref(), Some("Komma, Semikolon; neue\nZeile"));
    assert_eq!(a.labels, vec!["Kunden".to_owned(), "VIP".to_owned()]);
    assert_eq!(a.consent.as_deref(), Some("granted"));
    assert_eq!(a.evidence.as_deref(), Some("Vertrag vom 1.3."));
}

#[test]
fn vcard_40_uris_and_name_from_n() {
    let v = "BEGIN:VCARD\r\nVERSION:4.0\r\nN:Öztürk;Ayşe;;;\r\nTEL;VALUE=uri;TYPE=\"cell,voice\":tel:+90-532-123-4567\r\n\
EMAIL:mailto:ayse@example.com.tr\r\nEND:VCARD\r\n";
    let p = parse(v.as_bytes());
    let a = &p.records[0];
    assert_eq!(a.name, "Ayşe Öztürk");
    assert_eq!(a.phones[0].pair(), ("+90-532-123-4567", Some("cell")));
    assert_eq!(a.emails[0].value, "ayse@example.com.tr");
}

#[test]
fn latin1_file_without_charset() {
    let mut v =
        b"BEGIN:VCARD\nVERSION:3.0\nFN:J\xFCrgen Wei\xDF\nTEL:089 123456\nEND:VCARD\n".to_vec();
    let p = parse(&v);
    assert_eq!(p.records[0].name, "Jürgen Weiß");
    // With a UTF-8 BOM the same text in UTF-8.
    v = "\u{feff}BEGIN:VCARD\nFN:Jürgen Weiß\nEND:VCARD\n"
        .as_bytes()
        .to_vec();
    assert_eq!(parse(&v).records[0].name, "Jürgen Weiß");
}

#[test]
fn rejects_and_warnings_carry_line_numbers() {
    let v = "junk before\nBEGIN:VCARD\nVERSION:3.0\nNOTE:only a note\nEND:VCARD\nBEGIN:VCARD\nFN:Ohne Ende\n\
EMAIL:kaputt\nBEGIN:VCARD\nFN:Last\nTEL:+49 40 123456\n";
    let p = parse(v.as_bytes());
    assert_eq!(p.rejected, vec![LineIssue::new(2, IssueKind::EmptyRecord)]);
    // A BEGIN inside an open card starts a card inside it (AGENT style); at
    // the end of the file both are closed, the inner one first.
    assert_eq!(
        p.records.iter().map(|r| r.line).collect::<Vec<_>>(),
        vec![9, 6]
    );
    let invalid = IssueKind::InvalidEmail {
        value: "kaputt".into(),
    };
    assert!(p.warnings.contains(&LineIssue::new(8, invalid)));
    assert!(
        p.warnings
            .contains(&LineIssue::new(6, IssueKind::MissingEnd))
    );
    assert!(
        p.warnings
            .contains(&LineIssue::new(9, IssueKind::MissingEnd))
    );
}

#[test]
fn utf16_export() {
    let text = "BEGIN:VCARD\r\nFN:Zoë\r\nEND:VCARD\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    assert_eq!(parse(&bytes).records[0].name, "Zoë");
}

proptest::proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn never_panics_on_vcard_like_text(s in "(BEGIN:VCARD|END:VCARD|FN[;A-Z=-]*:[^\n]{0,20}|TEL;[A-Z=]*:[0-9 +=]{0,15}|=|\\\\|\r|\n| |\"|;|:){0,60}") {
        let _ = parse(s.as_bytes());
    }
}

#[test]
fn streaming_reports_positions_and_stops_when_told() {
    let v = "BEGIN:VCARD\nFN:A\nEND:VCARD\nBEGIN:VCARD\nFN:B\nEND:VCARD\nBEGIN:VCARD\nFN:C\nEND:VCARD\n";
    let mut seen = Vec::new();
    parse_with(v.as_bytes(), &mut |r, pos| {
        seen.push((r.name, pos));
        true
    });
    assert_eq!(
        seen,
        vec![("A".into(), 27), ("B".into(), 54), ("C".into(), v.len())]
    );
    let mut names = Vec::new();
    parse_with(v.as_bytes(), &mut |r, _| {
        names.push(r.name);
        false
    });
    assert_eq!(names, vec!["A".to_owned()], "stops after the first card");
}

#[test]
fn utf16_positions_are_scaled_to_the_input() {
    let text = "BEGIN:VCARD\r\nFN:Zoë\r\nEND:VCARD\r\n";
    let mut bytes = vec![0xFF, 0xFE];
    for u in text.encode_utf16() {
        bytes.extend_from_slice(&u.to_le_bytes());
    }
    let mut last = 0;
    parse_with(&bytes, &mut |_, pos| {
        last = pos;
        true
    });
    assert_eq!(last, bytes.len());
}

proptest::proptest! {
    /// The fast path of `unescape` (no backslash, no NUL) agrees with the general one.
    #[test]
    fn unescape_fast_path_agrees(s in "[a-zA-Zäß0-9 ,;:\\\\\u{0}\t\n]{0,40}") {
        proptest::prop_assert_eq!(unescape(&s), components(&s, '\u{0}').join(""));
    }
}

#[test]
fn agent_on_one_line_starts_an_inner_card() {
    let v = "BEGIN:VCARD\r\nFN:Outer\r\nAGENT:BEGIN:VCARD\r\nFN:Inner\r\nEND:VCARD\r\n\
EMAIL:outer@example.de\r\nEND:VCARD\r\n";
    let p = parse(v.as_bytes());
    let names: Vec<_> = p.records.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, ["Inner", "Outer"]);
    assert_eq!(p.records[1].emails[0].value, "outer@example.de");
    assert_eq!(
        p.warnings,
        [LineIssue::new(3, IssueKind::NestedCard { outer_line: 1 })]
    );
}
