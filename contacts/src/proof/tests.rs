use super::*;
use crate::chat::{AnswerWay, ChatAnswer};
use crate::consent::{ConsentSource, Evidence};
use crate::error::Error;
use crate::model::NewContact;
use crate::testutil::{CUSTOMER, ROOM, answer, mem_book, request};

const PURPOSE: &str = "Terminerinnerungen per Kontor";

/// The fixture answer with its own event id.
fn answered(event_id: &str, text: &str, way: AnswerWay) -> ChatAnswer {
    ChatAnswer {
        event_id: event_id.into(),
        ..answer(CUSTOMER, text, way)
    }
}

/// A contact entered by hand with a number and an address, who then consented in the
/// chat, withdrew with "STOP" and has been asked again (open).
fn asked_answered_withdrawn_asked_again(m: &crate::testutil::MemBook) -> String {
    let c = m
        .book
        .add(
            NewContact {
                display_name: "Frau Weiß".into(),
                organisation: Some("Bäckerei Weiß".into()),
                phones: vec!["0151 12345678".into()],
                emails: vec!["weiss@example.org".into()],
                ..NewContact::default()
            },
            None,
        )
        .unwrap();
    m.book.link_chat(&c.id, CUSTOMER).unwrap();
    m.book
        .record_request(&c.id, request(1_800_000_000))
        .unwrap();
    m.book
        .answer_request(&c.id, true, answered("$yes", "JA", AnswerWay::Reply))
        .unwrap();
    m.book
        .withdraw_in_chat(&c.id, ROOM, answered("$stop", "STOP", AnswerWay::Message))
        .unwrap();
    m.book
        .record_request(&c.id, request(1_800_000_500))
        .unwrap();
    c.id
}

#[test]
fn the_proof_holds_the_person_every_decision_and_the_open_request() {
    let m = mem_book();
    let id = asked_answered_withdrawn_asked_again(&m);
    let proof = m
        .book
        .consent_proof_at(&id[..6], Timestamp(1_800_001_000))
        .unwrap();
    assert_eq!(proof.format, PROOF_FORMAT);
    assert_eq!(proof.generated_at, Timestamp(1_800_001_000));
    let p = &proof.person;
    assert_eq!(p.contact_id, id, "a prefix finds the contact");
    assert_eq!(p.name, "Frau Weiß");
    assert_eq!(p.organisation.as_deref(), Some("Bäckerei Weiß"));
    assert_eq!(p.book, Book::Private);
    assert_eq!(p.chat_id.as_deref(), Some(CUSTOMER));
    assert_eq!(p.phones[0].e164.as_deref(), Some("+4915112345678"));
    assert_eq!(p.phones[0].raw, "0151 12345678");
    assert_eq!(p.emails[0].address, "weiss@example.org");

    assert_eq!(proof.status, ConsentStatus::Withdrawn);
    assert_eq!(proof.purpose.as_deref(), Some(PURPOSE));
    let statuses: Vec<ConsentStatus> = proof.history.iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        [
            ConsentStatus::None,
            ConsentStatus::Granted,
            ConsentStatus::Withdrawn
        ],
        "oldest first"
    );
    assert_eq!(proof.since, Some(proof.history[2].at));
    assert_eq!(proof.history[0].source, ConsentSource::Manual);
    match &proof.history[1].evidence {
        Some(Evidence::Chat(e)) => {
            assert_eq!(e.request, Some(request(1_800_000_000)));
            assert_eq!(e.answer, answered("$yes", "JA", AnswerWay::Reply));
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        proof.history[2].source,
        ConsentSource::Chat {
            room_id: ROOM.into()
        }
    );
    assert_eq!(proof.open_request, Some(request(1_800_000_500)));

    // The same record at the same time gives the same proof.
    let again = m
        .book
        .consent_proof_at(&id, Timestamp(1_800_001_000))
        .unwrap();
    assert_eq!(again, proof);
}

#[test]
fn the_json_names_every_field_of_the_chat_evidence_and_reads_back() {
    let m = mem_book();
    let id = asked_answered_withdrawn_asked_again(&m);
    let json = m.book.consent_proof_json(&id).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["format"], "kontor-consent-proof/1");
    assert_eq!(v["person"]["contact_id"], id.as_str());
    assert_eq!(v["person"]["book"], "private");
    assert_eq!(v["person"]["chat_id"], CUSTOMER);
    assert_eq!(v["person"]["matrix_id"], serde_json::Value::Null);
    assert_eq!(v["status"], "withdrawn");
    let granted = &v["history"][1];
    assert_eq!(granted["status"], "granted");
    assert_eq!(granted["purpose"], PURPOSE);
    assert_eq!(granted["source"]["kind"], "chat");
    assert_eq!(granted["source"]["room_id"], ROOM);
    let e = &granted["evidence"];
    assert_eq!(e["kind"], "chat");
    let r = &e["request"];
    assert_eq!(r["room_id"], ROOM);
    assert_eq!(r["event_id"], request(1_800_000_000).event_id.as_str());
    assert_eq!(r["text"], request(0).text.as_str());
    assert_eq!(r["purpose"], PURPOSE);
    assert_eq!(r["language"], "de");
    assert_eq!(r["asked_by"], "@berger:example.org");
    assert_eq!(r["asked_device"], "LAPTOP");
    assert_eq!(r["asked_user"], CUSTOMER);
    assert_eq!(r["asked_at"], "2027-01-15T08:00:00Z");
    let a = &e["answer"];
    assert_eq!(a["event_id"], "$yes");
    assert_eq!(a["text"], "JA");
    assert_eq!(a["way"], "reply");
    assert_eq!(a["sender"], CUSTOMER);
    assert_eq!(a["sender_device"], "PHONE");
    assert_eq!(a["server_at"], "2027-01-15T08:01:40Z");
    assert_eq!(a["received_at"], "2027-01-15T08:01:41Z");
    let stop = &v["history"][2]["evidence"];
    assert_eq!(stop["answer"]["text"], "STOP");
    assert_eq!(stop["answer"]["way"], "message");
    assert!(
        stop.get("request").is_none(),
        "a withdrawal answers no request"
    );
    assert_eq!(
        v["open_request"]["event_id"],
        request(1_800_000_500).event_id.as_str()
    );

    let back: ConsentProof = serde_json::from_str(&json).unwrap();
    assert_eq!(back.person.contact_id, id);
    assert_eq!(back.history.len(), 3);
    assert_eq!(
        serde_json::to_string_pretty(&back).unwrap(),
        json,
        "reads back to the same document"
    );
}

#[test]
fn a_contact_without_any_decision_or_request_has_an_empty_proof_and_unknown_ids_fail() {
    let m = mem_book();
    let c = m
        .book
        .add(
            NewContact {
                display_name: "Otto".into(),
                ..NewContact::default()
            },
            Some(("Angebote", Some("Formular 7"))),
        )
        .unwrap();
    let proof = m.book.consent_proof(&c.id).unwrap();
    assert_eq!(proof.person.book, Book::Work);
    assert_eq!(proof.status, ConsentStatus::Granted);
    assert_eq!(proof.history.len(), 1);
    assert_eq!(
        proof.history[0].evidence,
        Some(Evidence::Text("Formular 7".into()))
    );
    assert_eq!(proof.open_request, None);
    assert_eq!(proof.person.chat_id, None);
    assert!(matches!(
        m.book.consent_proof("ffffffffffffffff"),
        Err(Error::NotFound(_))
    ));
}
