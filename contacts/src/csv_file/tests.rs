use super::*;

#[test]
fn google_export() {
    let csv = "Name,Given Name,Additional Name,Family Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value,\
E-mail 2 - Type,E-mail 2 - Value,Phone 1 - Type,Phone 1 - Value,Phone 2 - Type,Phone 2 - Value,Organization 1 - Name,Notes\n\
Erika Mustermann,Erika,,Mustermann,* myContacts ::: Kunden,* Work,erika@example.de,Home,erika.m@example.org,Mobile,+49 151 12345678 ::: 0171 2345678,Work,030 1234567,Muster AG,\"Mehrzeilige\nNotiz\"\n\
,,,,,,,,,,,,,,\n\
Max Meier,Max,,Meier,* myContacts,,,,,Mobile,0160 9876543,,,,\n";
    let p = parse(csv.as_bytes());
    assert!(p.rejected.is_empty(), "{:?}", p.rejected);
    assert_eq!(p.records.len(), 2);
    let e = &p.records[0];
    assert_eq!(e.line, 2);
    assert_eq!(e.name, "Erika Mustermann");
    assert_eq!(e.labels, vec!["Kunden".to_owned()]);
    assert_eq!(
        e.emails.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [
            ("erika@example.de", Some("work")),
            ("erika.m@example.org", Some("home"))
        ]
    );
    assert_eq!(e.phones.len(), 3);
    assert_eq!(e.phones[1].pair(), ("0171 2345678", Some("mobile")));
    assert_eq!(e.organisation.as_deref(), Some("Muster AG"));
    assert_eq!(e.note.as_deref(), Some("Mehrzeilige\nNotiz"));
    // The quoted note spans two lines, the empty row is skipped silently.
    assert_eq!(p.records[1].line, 5);
    assert_eq!(p.records[1].name, "Max Meier");
}

#[test]
fn german_outlook_excel_cp1252_semicolons() {
    let mut bytes = b"Vorname;Weitere Vornamen;Nachname;Firma;E-Mail-Adresse;E-Mail-Anzeigename;Mobiltelefon;Telefon gesch\xE4ftlich;Notizen;Kategorien;Einwilligung\r\n".to_vec();
    bytes.extend_from_slice(b"J\xFCrgen;;Stra\xDFer;B\xE4ckerei Stra\xDFer;juergen@baeckerei.de;J\xFCrgen (juergen@baeckerei.de);0172 1234567;0711 123456;;Kunden;ja\r\n");
    bytes.extend_from_slice(b";;;;;;;;nur eine Notiz;;\r\n");
    let p = parse(&bytes);
    assert_eq!(p.records.len(), 1);
    let j = &p.records[0];
    assert_eq!(j.name, "Jürgen Straßer");
    assert_eq!(j.organisation.as_deref(), Some("Bäckerei Straßer"));
    assert_eq!(
        j.emails.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [("juergen@baeckerei.de", Some("e-mail-adresse"))]
    );
    assert_eq!(j.phones[0].pair(), ("0172 1234567", Some("mobiltelefon")));
    assert_eq!(j.phones[1].pair().1, Some("telefon geschäftlich"));
    assert_eq!(j.consent.as_deref(), Some("ja"));
    assert_eq!(p.rejected, vec![LineIssue::new(3, IssueKind::EmptyRecord)]);
}

#[test]
fn utf8_bom_and_sep_line() {
    let csv = "\u{feff}sep=;\nFirst Name;Last Name;Mobile Phone;E-mail Address\nZoë;Ärmel;+43 664 1234567;zoe@example.at\n";
    let p = parse(csv.as_bytes());
    assert_eq!(p.records.len(), 1);
    assert_eq!(p.records[0].name, "Zoë Ärmel");
    assert_eq!(p.records[0].line, 3);
    assert_eq!(p.records[0].emails[0].pair().1, Some("e-mail"));
}

#[test]
fn outlook_english() {
    let csv = "First Name,Middle Name,Last Name,Title,Company,E-mail Address,E-mail Type,E-mail Display Name,E-mail 2 Address,Business Phone,Business Fax,Mobile Phone,Categories\n\
John,Q,Public,Mr.,ACME Inc.,john@acme.com,SMTP,John Public (john@acme.com),jq@home.net,+1 212 555 0100,+1 212 555 0199,,VIP;Friends\n";
    let p = parse(csv.as_bytes());
    let r = &p.records[0];
    assert_eq!(r.name, "John Q Public");
    assert_eq!(
        r.emails
            .iter()
            .map(|e| e.value.as_str())
            .collect::<Vec<_>>(),
        vec!["john@acme.com", "jq@home.net"]
    );
    assert_eq!(
        r.phones.iter().map(RawValue::pair).collect::<Vec<_>>(),
        [
            ("+1 212 555 0100", Some("business phone")),
            ("+1 212 555 0199", Some("business fax"))
        ],
        "fax numbers are kept, typed by their column"
    );
    assert!(
        p.warnings.is_empty(),
        "SMTP and the display name are no e-mails"
    );
    assert_eq!(r.labels, vec!["VIP".to_owned(), "Friends".to_owned()]);
}

#[test]
fn unusable_header_is_rejected() {
    let p = parse(b"foo,bar\n1,2\n");
    assert_eq!(p.records.len(), 0);
    assert_eq!(p.rejected[0].line, 1);
}

proptest::proptest! {
    #[test]
    fn never_panics(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2048)) {
        let _ = parse(&bytes);
    }

    #[test]
    fn never_panics_with_real_header(body in "([a-zA-Zäö0-9 +@.\";,\t\r\n]|:::){0,400}") {
        let _ = parse(format!("Name;Phone 1 - Value;E-mail 1 - Value;Consent\n{body}").as_bytes());
    }
}

#[test]
fn streaming_stops_when_told_and_positions_grow() {
    let csv = "Name,Phone\nA,0151 1\nB,0151 2\nC,0151 3\n";
    let mut seen = Vec::new();
    parse_with(csv.as_bytes(), &mut |r, pos| {
        seen.push((r.name, pos));
        seen.len() < 2
    });
    assert_eq!(seen.len(), 2);
    assert!(seen[0].1 < seen[1].1 && seen[1].1 <= csv.len(), "{seen:?}");
}
