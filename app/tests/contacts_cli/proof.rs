//! The consent proof of a contact who consented in the chat: rendered by the service
//! (the app's "Export proof") and by `kontor contacts proof`, read back with poppler's
//! `pdftotext` (poppler-utils, installed by `scripts/setup.sh`; missing, the test fails)
//! in German and English, and as JSON.

use std::{path::Path, process::Command};

use kontor::service::{
    language::Language,
    proof::{self, ProofFormat},
};
use kontor_contacts::{
    AnswerWay, ChatAnswer, ConsentProof, ConsentRequest, ConsentStatus, ContactBook, Timestamp,
};

use crate::support::{Env, PASS, fails};

const FREELANCER: &str = "@berger:example.org";
const CUSTOMER: &str = "@frau.weiss:example.org";
const ROOM: &str = "!aBcDeFgHiJkLmNoPqR:example.org";
const REQUEST_EVENT: &str = "$Xy7Lq2VbNw9ZkP3rT8mHc1dFsGa5JeQoAbCdEfGhIjK";
const ANSWER_EVENT: &str = "$Qo5JeGa1dFsT8mHcZkP3rVbNw9Xy7Lq2KjIhGfEdCbA";
const PURPOSE: &str = "Terminerinnerungen über Kontor";
const REQUEST_TEXT: &str = "Praxis Berger bittet um Ihre Einwilligung: Terminerinnerungen \
                            über Kontor. Antworten Sie mit „JA“ oder „NEIN“.";
const ANSWER_TEXT: &str = "Ja, gerne – Grüße aus Köln";

/// Anna's contact book (the CLI's layout: `<data-dir>/contacts`, the profile's
/// passphrase) with Frau Weiß, who wrote first, was asked in the chat and said yes.
fn consented_in_the_chat(env: &Env) -> String {
    // `add` creates the book as the CLI does; the chat part goes through the library,
    // as the app records it.
    let otto = env.json(&["contacts", "add", "--name", "Otto"]);
    assert!(otto["id"].is_string());
    let book = ContactBook::open(&env.data().join("contacts"), PASS).unwrap();
    let c = book.add_from_chat(CUSTOMER, "Frau Weiß", ROOM).unwrap();
    book.record_request(
        &c.id,
        ConsentRequest {
            room_id: ROOM.into(),
            event_id: REQUEST_EVENT.into(),
            text: REQUEST_TEXT.into(),
            purpose: PURPOSE.into(),
            language: "de".into(),
            asked_by: FREELANCER.into(),
            asked_device: Some("LAPTOPBERGER".into()),
            asked_user: CUSTOMER.into(),
            asked_at: Timestamp(1_800_000_000),
        },
    )
    .unwrap();
    book.answer_request(
        &c.id,
        true,
        ChatAnswer {
            event_id: ANSWER_EVENT.into(),
            text: ANSWER_TEXT.into(),
            way: AnswerWay::Reply,
            sender: CUSTOMER.into(),
            sender_device: Some("PHONEWEISS".into()),
            server_at: Timestamp(1_800_000_100),
            received_at: Timestamp(1_800_000_103),
        },
    )
    .unwrap();
    c.id
}

/// The PDF's text in content order, white space squeezed.
fn pdf_text(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("proof.pdf");
    std::fs::write(&file, pdf).unwrap();
    pdf_file_text(&file)
}

fn pdf_file_text(file: &Path) -> String {
    let out = Command::new("pdftotext")
        .args(["-raw", "-enc", "UTF-8"])
        .arg(file)
        .arg("-")
        .output()
        .expect("`pdftotext` could not be run: install poppler-utils (scripts/setup.sh)");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// What a proof of the chat answer must show, in any language: the record as recorded.
const RECORDED: [&str; 11] = [
    "Frau Weiß",
    CUSTOMER,
    FREELANCER,
    "LAPTOPBERGER",
    "PHONEWEISS",
    ROOM,
    REQUEST_EVENT,
    ANSWER_EVENT,
    PURPOSE,
    REQUEST_TEXT,
    ANSWER_TEXT,
];

#[test]
fn the_service_renders_the_chat_evidence_in_german_and_english_and_json_reads_back() {
    let env = Env::new();
    let id = consented_in_the_chat(&env);
    let book = ContactBook::open(&env.data().join("contacts"), PASS).unwrap();
    for (language, words) in [
        (
            Language::German,
            [
                "Einwilligungsnachweis – Frau Weiß",
                "Art. 7 Abs. 1 DSGVO",
                "Status erteilt",
                "Gefragt von (Gerät) LAPTOPBERGER",
                "Antwort: Art Antwort auf die Anfrage",
                "Antwort: Serverzeit 15.01.2027, 08:01:40 UTC",
                "Seite 1 von",
            ],
        ),
        (
            Language::English,
            [
                "Proof of consent – Frau Weiß",
                "GDPR Art. 7(1)",
                "Status granted",
                "Asked by (device) LAPTOPBERGER",
                "Answer: how reply to the request",
                "Answer: server time 2027-01-15 08:01:40 UTC",
                "Page 1 of",
            ],
        ),
    ] {
        let pdf = proof::render(&book, &id, ProofFormat::Pdf, language).unwrap();
        assert!(pdf.starts_with(b"%PDF-"));
        let t = pdf_text(&pdf);
        for want in RECORDED.iter().chain(&words) {
            assert!(t.contains(want), "{language:?}: missing {want:?} in:\n{t}");
        }
        // The recorded texts are printed as recorded, never translated.
        assert_eq!(t.matches(REQUEST_TEXT).count(), 1, "{t}");
    }

    let json = proof::render(&book, &id, ProofFormat::Json, Language::English).unwrap();
    let back: ConsentProof = serde_json::from_slice(&json).unwrap();
    assert_eq!(back.person.contact_id, id);
    assert_eq!(back.person.chat_id.as_deref(), Some(CUSTOMER));
    assert_eq!(back.status, ConsentStatus::Granted);
    assert_eq!(back.purpose.as_deref(), Some(PURPOSE));
    assert_eq!(back.history.len(), 2, "wrote first, then the answer");
    let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
    let e = &v["history"][1]["evidence"];
    assert_eq!(e["request"]["text"], REQUEST_TEXT);
    assert_eq!(e["request"]["event_id"], REQUEST_EVENT);
    assert_eq!(e["request"]["asked_device"], "LAPTOPBERGER");
    assert_eq!(e["answer"]["text"], ANSWER_TEXT);
    assert_eq!(e["answer"]["event_id"], ANSWER_EVENT);
    assert_eq!(e["answer"]["sender_device"], "PHONEWEISS");
    assert_eq!(e["answer"]["way"], "reply");
}

#[test]
fn contacts_proof_writes_the_pdf_or_json_privately() {
    let env = Env::new();
    let id = consented_in_the_chat(&env);
    let pdf = env.data().join("out/nachweis.pdf");
    let w = env.json(&[
        "contacts",
        "proof",
        &id[..6],
        "--out",
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(w["id"], id.as_str());
    assert_eq!(w["format"], "pdf");
    assert_eq!(w["out"], pdf.to_str().unwrap());
    assert_eq!(w["bytes"], std::fs::metadata(&pdf).unwrap().len());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&pdf).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "a proof is personal data");
    let t = pdf_file_text(&pdf);
    for want in RECORDED
        .iter()
        .chain(&["Einwilligungsnachweis", "Seite 1 von"])
    {
        assert!(t.contains(want), "missing {want:?} in:\n{t}");
    }

    let en = env.data().join("proof-en.pdf");
    let text = env.text(&[
        "contacts",
        "proof",
        &id,
        "--out",
        en.to_str().unwrap(),
        "--lang",
        "en",
    ]);
    assert!(text.contains("consent proof of Frau Weiß"), "{text}");
    let t = pdf_file_text(&en);
    assert!(
        t.contains("Proof of consent") && t.contains(ANSWER_TEXT),
        "{t}"
    );

    // JSON by the extension, or by --format whatever the name.
    let json = env.data().join("proof.json");
    let w = env.json(&["contacts", "proof", &id, "--out", json.to_str().unwrap()]);
    assert_eq!(w["format"], "json");
    let back: ConsentProof = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(back.person.name, "Frau Weiß");
    let txt = env.data().join("proof.txt");
    let w = env.json(&[
        "contacts",
        "proof",
        &id,
        "--out",
        txt.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(w["format"], "json");

    // No format to tell: a usage error before the passphrase is asked for.
    let out = env.run(None, &["contacts", "proof", &id, "--out", "proof.docx"], "");
    assert!(fails(&out, 2).contains("--format"));
    // An unknown contact: exit 1, nothing written.
    let none = env.data().join("none.pdf");
    let out = env.run(
        Some(PASS),
        &[
            "contacts",
            "proof",
            "ffffffff",
            "--out",
            none.to_str().unwrap(),
        ],
        "",
    );
    fails(&out, 1);
    assert!(!none.exists());
}
