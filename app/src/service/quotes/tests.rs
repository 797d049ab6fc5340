use kontor_core::{BusinessEvent, Message, MessageBody, SendState};
use kontor_quotes::{Customer, Date, QuoteNumber, QuoteRecord, Sent, Status, answer::Answer};
use zeroize::Zeroizing;

use super::{
    KIND_QUOTE, Quotes, card_status,
    draft::{DraftInput, DraftItem},
};

const FREELANCER: &str = "@anna:example.org";
const CUSTOMER: &str = "@kunde:example.org";
const TODAY: Date = Date {
    year: 2026,
    month: 12,
    day: 6,
};
/// 2026-12-10, within the validity.
const DEC_10: u64 = 1_796_860_800_000;

fn open(dir: &std::path::Path) -> Quotes {
    Quotes::open(dir, Zeroizing::new([7u8; 32])).unwrap()
}

fn details() -> kontor_quotes::BusinessDetails {
    kontor_quotes::BusinessDetails {
        name: "Physiotherapie Öztürk".into(),
        address: "Gartenstraße 5\n80331 München".into(),
        tax_id: "143/123/45678".into(),
        ..kontor_quotes::BusinessDetails::new()
    }
}

fn sent_record(seq: u32, event_id: &str) -> QuoteRecord {
    let input = DraftInput {
        title: "Sechs Behandlungen".into(),
        items: vec![DraftItem {
            description: "Krankengymnastik".into(),
            quantity: "6".into(),
            unit: "Termin".into(),
            unit_price: "32,50".into(),
            vat: 0,
        }],
        ..DraftInput::default()
    };
    let quote = input
        .to_quote(QuoteNumber { year: 2026, seq }, TODAY, &details())
        .unwrap();
    let mut r = QuoteRecord::new(
        quote,
        Customer {
            name: "Kunde".into(),
            user_id: Some(CUSTOMER.into()),
            contact_id: None,
        },
        "ab".into(),
    );
    r.sent = Some(Sent {
        room_id: "!dm:example.org".into(),
        event_id: event_id.into(),
        sender: FREELANCER.into(),
        counterparty: CUSTOMER.into(),
        at_ms: DEC_10 - 86_400_000,
    });
    r
}

fn message(sender: &str, id: &str, body: MessageBody, reply_to: Option<&str>) -> Message {
    Message {
        room_id: "!dm:example.org".into(),
        event_id: Some(id.into()),
        transaction_id: None,
        sender: sender.into(),
        sender_device: None,
        own: sender == FREELANCER,
        timestamp_ms: DEC_10,
        body,
        state: SendState::Sent {
            event_id: id.into(),
        },
        reply_to: reply_to.map(Into::into),
        replaces: None,
    }
}

fn reaction(sender: &str, id: &str, target: &str, key: &str) -> Message {
    let body = MessageBody::Reaction {
        relates_to: target.into(),
        key: key.into(),
    };
    message(sender, id, body, None)
}

#[test]
fn a_customers_reaction_or_reply_answers_the_quote_and_nothing_else_does() {
    let dir = tempfile::tempdir().unwrap();
    let quotes = open(dir.path());
    quotes.put(&sent_record(1, "$q1")).unwrap();
    // Own reaction, another event's reaction, a reaction that means nothing: no answer.
    for m in [
        reaction(FREELANCER, "$r0", "$q1", "👍"),
        reaction(CUSTOMER, "$r1", "$other", "👍"),
        reaction(CUSTOMER, "$r2", "$q1", "🎉"),
    ] {
        assert!(quotes.on_message(&m).unwrap().is_none(), "{m:?}");
    }
    let (answered, record) = quotes
        .on_message(&reaction(CUSTOMER, "$r3", "$q1", "👎🏻"))
        .unwrap()
        .expect("the customer's 👎 declines");
    assert_eq!(answered.answer.answer, Answer::Decline);
    assert_eq!(record.status(TODAY), Status::Declined);
    // A reply whose first word accepts, a minute later, replaces the decline.
    let mut reply = message(
        CUSTOMER,
        "$t1",
        MessageBody::Text {
            text: "Ja, passt so!".into(),
            extra: None,
        },
        Some("$q1"),
    );
    reply.timestamp_ms += 60_000;
    let (answered, _) = quotes.on_message(&reply).unwrap().expect("accepted");
    assert_eq!(answered.answer.answer, Answer::Accept);
    // Kept on the device, history and all, after reopening.
    drop(quotes);
    let again = open(dir.path());
    let kept = again
        .get(&QuoteNumber { year: 2026, seq: 1 })
        .unwrap()
        .unwrap();
    assert_eq!(kept.status(TODAY), Status::Accepted);
    assert_eq!(kept.answers.len(), 2);
    // …and the index of quote events was rebuilt: the same reply again changes nothing.
    assert!(again.on_message(&reply).unwrap().is_none());
}

#[test]
fn another_devices_records_merge_and_number_on() {
    let dir = tempfile::tempdir().unwrap();
    let quotes = open(dir.path());
    let mut mine = sent_record(3, "$q3");
    mine.answer(CUSTOMER, DEC_10, Answer::Decline, "$a")
        .unwrap();
    quotes.put(&mine).unwrap();
    // The other device saw a later acceptance, and wrote quote 4 that replaces 3.
    let mut theirs = sent_record(3, "$q3");
    theirs
        .answer(CUSTOMER, DEC_10 + 1000, Answer::Accept, "$b")
        .unwrap();
    theirs.replaced_by = Some(QuoteNumber { year: 2026, seq: 4 });
    let event = |r: &QuoteRecord| BusinessEvent {
        kind: KIND_QUOTE.into(),
        value: serde_json::to_value(r).unwrap(),
        at_ms: DEC_10,
        event_id: "$e".into(),
        sender_device: None,
    };
    quotes.merge_synced(&event(&theirs)).unwrap();
    quotes.merge_synced(&event(&sent_record(4, "$q4"))).unwrap();
    let merged = quotes
        .get(&QuoteNumber { year: 2026, seq: 3 })
        .unwrap()
        .unwrap();
    assert_eq!(merged.answers.len(), 2, "both answers kept");
    assert_eq!(merged.status(TODAY), Status::Replaced);
    assert_eq!(
        quotes.next_number(TODAY).unwrap(),
        QuoteNumber { year: 2026, seq: 5 },
        "numbers on after the other device's"
    );
    // The second device's quote is answerable here too.
    let answered = quotes
        .on_message(&reaction(CUSTOMER, "$r", "$q4", "✅"))
        .unwrap();
    assert!(answered.is_some());
}

#[test]
fn the_card_of_a_quote_without_a_record_is_read_from_the_chat() {
    let record = sent_record(9, "$q9");
    let quote_event = message(
        FREELANCER,
        "$q9",
        MessageBody::Text {
            text: String::new(),
            extra: None,
        },
        None,
    );
    let chat = vec![
        reaction(FREELANCER, "$own", "$q9", "👍"),
        message(
            CUSTOMER,
            "$t",
            MessageBody::Text {
                text: "Abgelehnt: Angebot A-2026-0009".into(),
                extra: None,
            },
            Some("$q9"),
        ),
    ];
    let (status, answer) = card_status(&record.quote, &quote_event, Some(CUSTOMER), &chat, TODAY);
    assert_eq!(status, Status::Declined);
    assert_eq!(answer.unwrap().by, CUSTOMER);
    let (status, _) = card_status(&record.quote, &quote_event, None, &chat[..1], TODAY);
    assert_eq!(
        status,
        Status::Sent,
        "the freelancer's own 👍 does not count"
    );
}

fn for_customer(seq: u32, contact_id: Option<&str>, user_id: Option<&str>) -> QuoteRecord {
    let mut r = sent_record(seq, &format!("$q{seq}"));
    r.customer.contact_id = contact_id.map(Into::into);
    r.customer.user_id = user_id.map(Into::into);
    r
}

#[test]
fn a_persons_quotes_are_found_by_contact_or_matrix_id() {
    let dir = tempfile::tempdir().unwrap();
    let quotes = open(dir.path());
    quotes
        .put(&for_customer(1, Some("c-ben"), Some(CUSTOMER)))
        .unwrap();
    // Written from the chat, before the contact was found on Kontor.
    quotes.put(&for_customer(2, None, Some(CUSTOMER))).unwrap();
    // Linked to the contact, no Matrix account.
    quotes.put(&for_customer(3, Some("c-ben"), None)).unwrap();
    // Someone else.
    quotes
        .put(&for_customer(4, Some("c-otto"), Some("@otto:example.org")))
        .unwrap();
    let seqs = |v: Vec<QuoteRecord>| {
        let mut s: Vec<u32> = v.iter().map(|r| r.quote.number.seq).collect();
        s.sort();
        s
    };
    assert_eq!(
        seqs(quotes.for_person("c-ben", Some(CUSTOMER)).unwrap()),
        [1, 2, 3]
    );
    assert_eq!(
        seqs(quotes.for_person("c-ben", None).unwrap()),
        [1, 3],
        "without a Matrix id only the link counts"
    );
    assert_eq!(
        seqs(quotes.for_person("c-nobody", Some(CUSTOMER)).unwrap()),
        [1, 2]
    );
    assert!(quotes.for_person("c-nobody", None).unwrap().is_empty());
}

#[test]
fn erasing_a_contact_keeps_its_quotes_and_drops_only_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let quotes = open(dir.path());
    let mut answered = for_customer(1, Some("c-ben"), Some(CUSTOMER));
    answered
        .answer(CUSTOMER, DEC_10, Answer::Accept, "$a")
        .unwrap();
    quotes.put(&answered).unwrap();
    quotes.put(&for_customer(2, None, Some(CUSTOMER))).unwrap();
    quotes
        .put(&for_customer(3, Some("c-otto"), Some("@otto:example.org")))
        .unwrap();

    let (kept, changed) = quotes.unlink_contact("c-ben", Some(CUSTOMER)).unwrap();
    assert_eq!(kept, 2, "both of Ben's quotes are kept");
    assert_eq!(changed.len(), 1, "only the linked one changed");
    let n1 = QuoteNumber { year: 2026, seq: 1 };
    let after = quotes.get(&n1).unwrap().unwrap();
    assert_eq!(after.customer.contact_id, None);
    assert_eq!(after.customer.name, "Kunde", "the name as printed stays");
    assert_eq!(after.customer.user_id.as_deref(), Some(CUSTOMER));
    assert_eq!(after.answers, answered.answers, "answers stay");
    assert_eq!(after.quote, answered.quote, "amounts stay");
    assert_eq!(quotes.all().unwrap().len(), 3, "nothing erased");
    let otto = quotes
        .get(&QuoteNumber { year: 2026, seq: 3 })
        .unwrap()
        .unwrap();
    assert_eq!(otto.customer.contact_id.as_deref(), Some("c-otto"));

    // The business room still holds the linked version (a draft's customer is taken
    // from another device's version): merging it again never brings the link back.
    let mut old = for_customer(4, Some("c-ben"), Some(CUSTOMER));
    old.sent = None;
    quotes.put(&old).unwrap();
    quotes.unlink_contact("c-ben", Some(CUSTOMER)).unwrap();
    for r in [&answered, &old] {
        quotes
            .merge_synced(&BusinessEvent {
                kind: KIND_QUOTE.into(),
                value: serde_json::to_value(r).unwrap(),
                at_ms: DEC_10,
                event_id: "$old".into(),
                sender_device: None,
            })
            .unwrap();
    }
    assert!(
        quotes
            .all()
            .unwrap()
            .iter()
            .all(|r| r.customer.contact_id.as_deref() != Some("c-ben")),
        "the link stays gone"
    );
}
