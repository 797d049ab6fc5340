use kontor_contacts::{
    AnswerWay, Book, ChatAnswer, ChatEvidence, ConsentStatus, PROOF_FORMAT, ProofPerson, Timestamp,
};

use super::*;

/// A proof of someone who withdrew in the chat from an unencrypted client.
fn withdrawn() -> ConsentProof {
    let answer = ChatAnswer {
        event_id: "$stop".into(),
        text: "STOP".into(),
        way: AnswerWay::Message,
        sender: "@kunde:example.org".into(),
        sender_device: None,
        server_at: Timestamp(1_800_000_000),
        received_at: Timestamp(1_800_000_002),
    };
    ConsentProof {
        format: PROOF_FORMAT.into(),
        generated_at: Timestamp(1_800_086_400),
        person: ProofPerson {
            contact_id: "0123456789abcdef".into(),
            name: "Kunde".into(),
            organisation: None,
            book: Book::Private,
            chat_id: Some("@kunde:example.org".into()),
            matrix_id: None,
            phones: Vec::new(),
            emails: Vec::new(),
            created: Timestamp(1_700_000_000),
        },
        status: ConsentStatus::Withdrawn,
        purpose: Some("Newsletter".into()),
        since: Some(Timestamp(1_800_000_003)),
        history: vec![ConsentEvent {
            status: ConsentStatus::Withdrawn,
            purpose: Some("Newsletter".into()),
            at: Timestamp(1_800_000_003),
            source: ConsentSource::Chat {
                room_id: "!r:example.org".into(),
            },
            evidence: Some(Evidence::Chat(Box::new(ChatEvidence {
                request: None,
                answer,
            }))),
        }],
        open_request: None,
    }
}

fn rows(doc: &Document) -> Vec<(String, String)> {
    doc.sections.iter().flat_map(|s| s.rows.clone()).collect()
}

#[test]
fn the_document_words_its_labels_and_keeps_the_record_as_recorded() {
    let p = withdrawn();
    let de = document(&p, Language::German);
    assert_eq!(de.title, "Einwilligungsnachweis – Kunde");
    assert!(de.german);
    assert_eq!(de.sections.len(), 3, "person, consent now, one entry");
    assert_eq!(
        de.sections[2].heading,
        "Verlauf – Eintrag 1 von 1: widerrufen"
    );
    let r = rows(&de);
    let has = |label: &str, value: &str| r.iter().any(|(l, v)| l == label && v == value);
    assert!(has("Antwort: Text (genau)", "STOP"), "{r:?}");
    assert!(has("Nachweis", "keine (Widerruf ohne Anfrage)"), "{r:?}");
    assert!(
        has(
            "Geantwortet von (Gerät)",
            "keines (unverschlüsselte Nachricht)"
        ),
        "{r:?}"
    );
    assert!(has("Chat (Raum-ID)", "!r:example.org"), "{r:?}");
    assert!(has("Zweck", "Newsletter"), "{r:?}");
    assert!(has("Antwort: Art", "eigene Nachricht im Chat"), "{r:?}");
    assert!(
        has(
            "Antwort: empfangen (Gerätezeit)",
            "15.01.2027, 08:00:02 UTC"
        ),
        "{r:?}"
    );
    assert!(de.lines[1].ends_with("16.01.2027, 08:00:00 UTC"));

    let en = document(&p, Language::English);
    let r = rows(&en);
    assert!(
        r.iter()
            .any(|(l, v)| l == "Answer: text (exact)" && v == "STOP")
    );
    assert!(r.iter().any(|(l, v)| l == "Purpose" && v == "Newsletter"));
    assert_eq!(en.sections[2].heading, "History – entry 1 of 1: withdrawn");
}

#[test]
fn formats_by_extension_and_json_reads_back() {
    assert_eq!(
        ProofFormat::from_path(Path::new("a/Nachweis.PDF")),
        Some(ProofFormat::Pdf)
    );
    assert_eq!(
        ProofFormat::from_path(Path::new("p.json")),
        Some(ProofFormat::Json)
    );
    assert_eq!(ProofFormat::from_path(Path::new("p.txt")), None);
    assert_eq!(ProofFormat::from_path(Path::new("pdf")), None);
    let p = withdrawn();
    let json = render_proof(&p, ProofFormat::Json, Language::German).unwrap();
    assert_eq!(serde_json::from_slice::<ConsentProof>(&json).unwrap(), p);
    let pdf = render_proof(&p, ProofFormat::Pdf, Language::German).unwrap();
    assert_eq!(
        render_proof(&p, ProofFormat::Pdf, Language::German).unwrap(),
        pdf,
        "the same proof gives the same bytes"
    );
}
