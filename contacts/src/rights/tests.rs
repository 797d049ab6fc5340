use super::*;
use crate::model::NewContact;
use crate::testutil::mem_book;

fn sample(m: &crate::testutil::MemBook) -> Contact {
    let c = m
        .book
        .add(
            NewContact {
                display_name: "Jörg Müller, Söhne; \"Bau\"".into(),
                organisation: Some("Müller Bau GmbH".into()),
                phones: vec!["0151 12345678".into(), "unbekannt 12".into()],
                emails: vec!["joerg@mueller-bau.de".into()],
                note: Some("Zeile 1\nZeile 2 mit einem sehr langen Text, der über die 75 Oktette hinausgeht, ganz sicher".into()),
                labels: vec!["Kunden".into()],
            },
            None,
        )
        .unwrap();
    m.book
        .grant(&c.id, "Kundenkommunikation über Kontor", Some("Vertrag §4"))
        .unwrap()
}

#[test]
fn json_export_has_everything() {
    let m = mem_book();
    let c = sample(&m);
    let json: serde_json::Value =
        serde_json::from_str(&m.book.export_json(&c.id).unwrap()).unwrap();
    assert_eq!(json["book"], "work");
    assert_eq!(json["contact"]["display_name"], c.display_name);
    assert_eq!(json["contact"]["phones"][0]["e164"], "+4915112345678");
    assert_eq!(
        json["contact"]["consent"]["history"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        json["contact"]["consent"]["history"][1]["evidence"],
        "Vertrag §4"
    );
}

#[test]
fn vcard_export_round_trips_through_the_importer() {
    let m = mem_book();
    let c = sample(&m);
    let vcf = m.book.export_vcard(&c.id).unwrap();
    assert!(vcf.lines().all(|l| l.len() <= 75), "{vcf}");
    let parsed = crate::vcard::parse(vcf.as_bytes());
    assert!(parsed.rejected.is_empty());
    let r = &parsed.records[0];
    assert_eq!(r.name, c.display_name);
    assert_eq!(r.organisation.as_deref(), Some("Müller Bau GmbH"));
    assert_eq!(r.phones[0].value, "+4915112345678");
    assert_eq!(r.phones[1].value, "unbekannt 12");
    assert_eq!(r.emails[0].value, "joerg@mueller-bau.de");
    assert_eq!(r.note, c.note);
    assert_eq!(r.consent.as_deref(), Some("granted"));
    assert_eq!(
        r.purpose.as_deref(),
        Some("Kundenkommunikation über Kontor")
    );
    assert_eq!(r.evidence.as_deref(), Some("Vertrag §4"));
}

#[test]
fn consent_report_covers_both_books() {
    let m = mem_book();
    let c = sample(&m);
    m.book
        .add(
            NewContact {
                display_name: "Privat".into(),
                ..NewContact::default()
            },
            None,
        )
        .unwrap();
    let rows = m.book.consent_report().unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].id, c.id);
    assert_eq!(rows[0].status, "granted");
    assert_eq!(rows[1].status, "none");
    let csv = m.book.consent_report_csv().unwrap();
    let mut reader = ::csv::Reader::from_reader(csv.as_bytes());
    let recs: Vec<::csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(recs.len(), 2);
    assert_eq!(&recs[0][1], c.display_name.as_str());
    assert_eq!(&recs[0][3], "granted");
    assert!(
        recs[0][8].contains(" | "),
        "history has both events: {}",
        &recs[0][8]
    );
    let json: serde_json::Value =
        serde_json::from_str(&m.book.consent_report_json().unwrap()).unwrap();
    assert_eq!(json[0]["history"].as_array().unwrap().len(), 2);
}
