use super::*;
use crate::chat::AnswerWay;
use crate::model::NewContact;
use crate::testutil::{CUSTOMER, PASS, ROOM, answer, mem_book, reopen, request};

#[test]
fn a_person_who_wrote_first_is_private_without_consent_and_found_by_account() {
    let m = mem_book();
    let c = m.book.add_from_chat(CUSTOMER, " Frau Weiß ", ROOM).unwrap();
    assert_eq!(c.display_name, "Frau Weiß");
    assert_eq!(m.book.get(&c.id).unwrap().0, Book::Private);
    assert_eq!(c.consent.status(), ConsentStatus::None);
    assert_eq!(
        c.consent.current().unwrap().source,
        ConsentSource::WroteFirst {
            room_id: ROOM.into()
        }
    );
    assert_eq!(c.matrix_id, None, "never a discovery result");
    // Writing again finds the same contact, not a second one.
    let again = m.book.add_from_chat(CUSTOMER, "Someone", ROOM).unwrap();
    assert_eq!(again.id, c.id);
    assert_eq!(m.book.list(Book::Private).unwrap().len(), 1);
    let (book, found) = m.book.by_matrix_user(CUSTOMER).unwrap().unwrap();
    assert_eq!((book, found.id), (Book::Private, c.id));
    assert!(
        m.book
            .by_matrix_user("@other:example.org")
            .unwrap()
            .is_none()
    );
}

#[test]
fn yes_grants_with_the_evidence_and_moves_to_the_work_book_once() {
    let m = mem_book();
    let c = m.book.add_from_chat(CUSTOMER, "Frau Weiß", ROOM).unwrap();
    m.book
        .record_request(&c.id, request(1_800_000_000))
        .unwrap();
    let given = answer(CUSTOMER, "JA", AnswerWay::Message);
    let granted = m.book.answer_request(&c.id, true, given.clone()).unwrap();
    assert_eq!(granted.consent.status(), ConsentStatus::Granted);
    assert_eq!(granted.consent_request, None);
    let (book, stored) = m.book.get(&c.id).unwrap();
    assert_eq!(book, Book::Work);
    assert!(m.book.list(Book::Private).unwrap().is_empty());
    let event = stored.consent.current().unwrap();
    assert_eq!(
        event.purpose.as_deref(),
        Some("Terminerinnerungen per Kontor")
    );
    assert_eq!(
        event.source,
        ConsentSource::Chat {
            room_id: ROOM.into()
        }
    );
    match &event.evidence {
        Some(Evidence::Chat(e)) => {
            assert_eq!(e.request, Some(request(1_800_000_000)));
            assert_eq!(e.answer, given);
        }
        other => panic!("{other:?}"),
    }
    // The same answer delivered again (sync and catch-up) records nothing more.
    assert!(m.book.answer_request(&c.id, true, given).is_err());
    assert_eq!(m.book.get(&c.id).unwrap().1.consent.history().len(), 2);
    // The evidence survives sealing and reopening.
    let book = reopen(&m.work, &m.private, PASS).unwrap();
    assert_eq!(book.get(&c.id).unwrap().1, stored);
}

#[test]
fn no_is_recorded_and_nothing_moves() {
    let m = mem_book();
    let c = m.book.add_from_chat(CUSTOMER, "Frau Weiß", ROOM).unwrap();
    m.book
        .record_request(&c.id, request(1_800_000_000))
        .unwrap();
    let declined = m
        .book
        .answer_request(&c.id, false, answer(CUSTOMER, "👎", AnswerWay::Reaction))
        .unwrap();
    assert_eq!(declined.consent.status(), ConsentStatus::None);
    assert_eq!(declined.consent.history().len(), 2);
    assert_eq!(m.book.get(&c.id).unwrap().0, Book::Private);
    // Answered: a new request may go out at once.
    assert!(m.book.may_request(&c.id, Timestamp(1_800_000_200)).is_ok());
}

#[test]
fn only_the_person_asked_can_answer() {
    let m = mem_book();
    let c = m.book.add_from_chat(CUSTOMER, "Frau Weiß", ROOM).unwrap();
    m.book
        .record_request(&c.id, request(1_800_000_000))
        .unwrap();
    for sender in ["@berger:example.org", "@third:example.org"] {
        let err = m
            .book
            .answer_request(&c.id, true, answer(sender, "JA", AnswerWay::Reply))
            .unwrap_err();
        assert!(err.to_string().contains("only the person asked"), "{err}");
    }
    let (book, stored) = m.book.get(&c.id).unwrap();
    assert_eq!(book, Book::Private);
    assert!(stored.consent_request.is_some(), "the request stays open");
}

#[test]
fn one_open_request_at_a_time_and_a_new_one_after_thirty_days() {
    let m = mem_book();
    let c = m.book.add_from_chat(CUSTOMER, "Frau Weiß", ROOM).unwrap();
    let t = 1_800_000_000;
    m.book.record_request(&c.id, request(t)).unwrap();
    match m
        .book
        .may_request(&c.id, Timestamp(t + REQUEST_INTERVAL_SECS - 1))
    {
        Err(Error::RequestOpen { since, .. }) => assert_eq!(since, Timestamp(t)),
        other => panic!("{other:?}"),
    }
    assert!(m.book.record_request(&c.id, request(t + 60)).is_err());
    assert!(
        m.book
            .may_request(&c.id, Timestamp(t + REQUEST_INTERVAL_SECS))
            .is_ok()
    );
    m.book
        .record_request(&c.id, request(t + REQUEST_INTERVAL_SECS))
        .unwrap();
    // A contact without an account cannot be asked; one who consented need not be.
    let plain = m
        .book
        .add(
            NewContact {
                display_name: "Ohne Matrix".into(),
                ..NewContact::default()
            },
            None,
        )
        .unwrap();
    assert!(m.book.may_request(&plain.id, Timestamp(t)).is_err());
}

#[test]
fn stop_withdraws_keeps_the_chat_and_drops_the_discovered_id() {
    let m = mem_book();
    let c = m.book.add_from_chat(CUSTOMER, "Frau Weiß", ROOM).unwrap();
    m.book
        .record_request(&c.id, request(1_800_000_000))
        .unwrap();
    m.book
        .answer_request(&c.id, true, answer(CUSTOMER, "ja", AnswerWay::Reply))
        .unwrap();
    // Someone else's STOP does nothing.
    assert!(
        m.book
            .withdraw_in_chat(
                &c.id,
                ROOM,
                answer("@third:example.org", "STOP", AnswerWay::Message)
            )
            .is_err()
    );
    assert_eq!(m.book.get(&c.id).unwrap().0, Book::Work);
    let w = m
        .book
        .withdraw_in_chat(&c.id, ROOM, answer(CUSTOMER, "STOP", AnswerWay::Message))
        .unwrap();
    assert_eq!(w.consent.status(), ConsentStatus::Withdrawn);
    assert_eq!(w.chat_id.as_deref(), Some(CUSTOMER));
    assert_eq!(w.matrix_id, None);
    assert_eq!(m.book.get(&c.id).unwrap().0, Book::Private);
    match &w.consent.current().unwrap().evidence {
        Some(Evidence::Chat(e)) => {
            assert_eq!(e.request, None);
            assert_eq!(e.answer.text, "STOP");
        }
        other => panic!("{other:?}"),
    }
    // Withdrawn: a second STOP is refused, a new request may be asked by hand.
    assert!(
        m.book
            .withdraw_in_chat(&c.id, ROOM, answer(CUSTOMER, "STOP", AnswerWay::Message))
            .is_err()
    );
    assert!(m.book.may_request(&c.id, Timestamp(1_800_000_500)).is_ok());
}

#[test]
fn chat_evidence_reads_back_from_json_and_older_evidence_still_reads() {
    let e = Evidence::Chat(Box::new(ChatEvidence {
        request: Some(request(1)),
        answer: answer(CUSTOMER, "YES", AnswerWay::Reply),
    }));
    let json = serde_json::to_string(&e).unwrap();
    assert!(json.contains(r#""kind":"chat""#), "{json}");
    assert_eq!(serde_json::from_str::<Evidence>(&json).unwrap(), e);
    let text: Evidence = serde_json::from_str(r#""mündlich""#).unwrap();
    assert_eq!(text, Evidence::Text("mündlich".into()));
    assert!(
        e.to_string()
            .contains("@frau.weiss:example.org (device PHONE)")
    );
}
