use kontor_contacts::{ConsentEvent, ConsentSource};

use super::*;

const CUSTOMER: &str = "@frau.weiss:hs";
const FREELANCER: &str = "@berger:hs";
const ROOM: &str = "!dm:hs";
const ASKED_AT: i64 = 1_800_000_000;

fn contact(status: ConsentStatus, open: bool) -> Contact {
    let mut c = crate::service::testutil::contact(
        "c1",
        "Frau Weiß",
        status,
        ConsentSource::Manual,
        Timestamp(ASKED_AT - 100),
    );
    c.chat_id = Some(CUSTOMER.into());
    c.consent_request = open.then(|| ConsentRequest {
        room_id: ROOM.into(),
        event_id: "$request".into(),
        text: "Bitte um Einwilligung …".into(),
        purpose: "Termine".into(),
        language: "de".into(),
        asked_by: FREELANCER.into(),
        asked_device: Some("LAPTOP".into()),
        asked_user: CUSTOMER.into(),
        asked_at: Timestamp(ASKED_AT),
    });
    c
}

fn msg(sender: &str, body: MessageBody, reply_to: Option<&str>, at: i64) -> Message {
    Message {
        room_id: ROOM.into(),
        event_id: Some("$answer".into()),
        transaction_id: None,
        sender: sender.into(),
        sender_device: Some("PHONE".into()),
        own: sender == FREELANCER,
        timestamp_ms: (at * 1000) as u64,
        body,
        reply_to: reply_to.map(str::to_owned),
        replaces: None,
        state: SendState::Sent {
            event_id: "$answer".into(),
        },
    }
}

fn text(t: &str) -> MessageBody {
    MessageBody::Text {
        text: t.into(),
        extra: None,
    }
}

fn reaction(on: &str, key: &str) -> MessageBody {
    MessageBody::Reaction {
        relates_to: on.into(),
        key: key.into(),
    }
}

fn answer_of(d: Option<Decision>) -> Option<(bool, AnswerWay)> {
    match d? {
        Decision::Answer { yes, answer } => Some((yes, answer.way)),
        Decision::Withdraw(_) => None,
    }
}

#[test]
fn the_customer_answers_by_reply_reaction_or_a_short_message() {
    let c = contact(ConsentStatus::None, true);
    let now = Timestamp(ASKED_AT + 60);
    let at = ASKED_AT + 30;
    let cases = [
        (
            msg(CUSTOMER, text("Ja, gerne"), Some("$request"), at),
            Some((true, AnswerWay::Reply)),
        ),
        (
            msg(CUSTOMER, reaction("$request", "👍"), None, at),
            Some((true, AnswerWay::Reaction)),
        ),
        (
            msg(CUSTOMER, reaction("$request", "👎🏽"), None, at),
            Some((false, AnswerWay::Reaction)),
        ),
        (
            msg(CUSTOMER, text("NEIN"), None, at),
            Some((false, AnswerWay::Message)),
        ),
        (
            msg(CUSTOMER, text("STOP"), None, at),
            Some((false, AnswerWay::Message)),
        ),
        // Not an answer: about something else, or on another event.
        (
            msg(CUSTOMER, text("Ja, aber erst Dienstag"), None, at),
            None,
        ),
        (msg(CUSTOMER, reaction("$other", "👍"), None, at), None),
        (msg(CUSTOMER, text("JA"), Some("$other"), at), None),
        // A "JA" written long before the request was asked.
        (msg(CUSTOMER, text("JA"), None, ASKED_AT - 86_400), None),
    ];
    for (m, want) in cases {
        assert_eq!(answer_of(decide(&c, &m, now)), want, "{:?}", m.body);
    }
    // The evidence is the event as delivered.
    match decide(&c, &msg(CUSTOMER, text("JA"), None, at), now) {
        Some(Decision::Answer { answer, .. }) => {
            assert_eq!(answer.event_id, "$answer");
            assert_eq!(answer.sender, CUSTOMER);
            assert_eq!(answer.sender_device.as_deref(), Some("PHONE"));
            assert_eq!(answer.server_at, Timestamp(at));
            assert_eq!(answer.received_at, now);
            assert_eq!(answer.text, "JA");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn nobody_but_the_customer_can_answer() {
    let c = contact(ConsentStatus::None, true);
    let now = Timestamp(ASKED_AT + 60);
    for sender in [FREELANCER, "@third:hs"] {
        for body in [text("JA"), reaction("$request", "👍")] {
            let m = msg(sender, body, Some("$request"), ASKED_AT + 10);
            assert_eq!(decide(&c, &m, now), None, "{sender}");
        }
    }
    // The customer, but in another room.
    let mut elsewhere = msg(CUSTOMER, text("JA"), None, ASKED_AT + 10);
    elsewhere.room_id = "!group:hs".into();
    assert_eq!(decide(&c, &elsewhere, now), None);
}

#[test]
fn stop_withdraws_only_a_consent_given_before_it() {
    let granted = contact(ConsentStatus::Granted, false);
    let now = Timestamp(ASKED_AT + 600);
    let stop = msg(CUSTOMER, text("STOP"), None, ASKED_AT + 500);
    assert!(matches!(
        decide(&granted, &stop, now),
        Some(Decision::Withdraw(a)) if a.text == "STOP" && a.way == AnswerWay::Message
    ));
    assert_eq!(
        decide(
            &granted,
            &msg("@third:hs", text("STOP"), None, ASKED_AT + 500),
            now
        ),
        None
    );
    assert_eq!(
        decide(
            &granted,
            &msg(CUSTOMER, text("Stop, Dienstag"), None, ASKED_AT + 500),
            now
        ),
        None
    );
    // A STOP from long before the consent was given (read again in a catch-up).
    assert_eq!(
        decide(
            &granted,
            &msg(CUSTOMER, text("STOP"), None, ASKED_AT - 86_400),
            now
        ),
        None
    );
    // Without consent there is nothing to withdraw.
    assert_eq!(
        decide(&contact(ConsentStatus::Withdrawn, false), &stop, now),
        None
    );
}

#[test]
fn catch_up_reads_after_the_open_request_or_after_the_answer_that_gave_consent() {
    let asked = contact(ConsentStatus::None, true);
    assert_eq!(anchor(&asked), Some((ROOM.into(), "$request".into())));
    assert_eq!(
        anchor(&contact(ConsentStatus::Granted, false)),
        None,
        "by hand"
    );
    let mut by_chat = contact(ConsentStatus::None, false);
    by_chat.consent.record(ConsentEvent {
        status: ConsentStatus::Granted,
        purpose: Some("Termine".into()),
        at: Timestamp(ASKED_AT + 60),
        source: ConsentSource::Chat {
            room_id: ROOM.into(),
        },
        evidence: Some(Evidence::Chat(Box::new(kontor_contacts::ChatEvidence {
            request: asked.consent_request.clone(),
            answer: ChatAnswer {
                event_id: "$yes".into(),
                text: "JA".into(),
                way: AnswerWay::Message,
                sender: CUSTOMER.into(),
                sender_device: None,
                server_at: Timestamp(ASKED_AT + 30),
                received_at: Timestamp(ASKED_AT + 60),
            },
        }))),
    });
    assert_eq!(anchor(&by_chat), Some((ROOM.into(), "$yes".into())));
    // A STOP in the same second as the yes still ends it; one from before does not.
    let stop = |at| msg(CUSTOMER, text("STOP"), None, at);
    let now = Timestamp(ASKED_AT + 100);
    assert!(matches!(
        decide(&by_chat, &stop(ASKED_AT + 30), now),
        Some(Decision::Withdraw(_))
    ));
    assert_eq!(decide(&by_chat, &stop(ASKED_AT + 29), now), None);
}
