//! The consent requests of the open conversation as cards: which messages are requests
//! (their data under `eu.kontor.consent_request` in the `m.text` event) and the answer
//! each got in the chat — a reply or a reaction of anyone but the one who asked, the
//! newest counting — so the person asked sees Consent / Decline until they answered,
//! and the one who asked sees the answer. The same answer words as the service's rules
//! ([`wording`]); the record itself is the service's ([`crate::service::consent`]).

use std::collections::{HashMap, HashSet};

use kontor_core::{Message, MessageBody};
use slint::{Model, VecModel};

use super::{ConsentAnswer, ConsentCardData, MessageItem};
use crate::service::{
    consent::{WireRequest, request_in, wording},
    language::Language,
};

struct Request {
    wire: WireRequest,
    sender: String,
    own: bool,
}

/// The requests of one chat, the messages that may answer them, and the answers this
/// device is sending.
#[derive(Default)]
pub(crate) struct ConsentCards {
    requests: HashMap<String, Request>,
    answers: Vec<Message>,
    sending: HashSet<String>,
}

impl ConsentCards {
    /// Forgets the chat (another one opens, or the lock).
    pub(crate) fn reset(&mut self) {
        self.requests.clear();
        self.answers.clear();
        self.sending.clear();
    }

    /// Takes note of messages (a page or one live message).
    pub(crate) fn absorb<'a>(&mut self, messages: impl IntoIterator<Item = &'a Message>) {
        for m in messages {
            let Some(id) = m.event_id.clone() else {
                continue;
            };
            if let Some(wire) = request_in(&m.body) {
                self.requests.insert(
                    id,
                    Request {
                        wire,
                        sender: m.sender.clone(),
                        own: m.own,
                    },
                );
            } else if (m.reply_to.is_some() || m.body.is_reaction())
                && !self.answers.iter().any(|a| a.event_id == m.event_id)
            {
                self.answers.push(m.clone());
            }
        }
    }

    /// The language a request was written in (its answer is sent in it).
    pub(crate) fn language(&self, event_id: &str) -> Option<Language> {
        self.requests
            .get(event_id)
            .map(|r| Language::from_code(&r.wire.language))
    }

    /// Marks the viewer's answer to a request as on its way (or no longer).
    pub(crate) fn set_sending(&mut self, event_id: &str, on: bool) {
        if on {
            self.sending.insert(event_id.to_owned());
        } else {
            self.sending.remove(event_id);
        }
    }

    /// The other side asked the viewer for consent in this chat.
    pub(crate) fn asked_by_peer(&self) -> bool {
        self.requests.values().any(|r| !r.own)
    }

    /// The card for the message `event_id`, if it is a request.
    pub(crate) fn card(&self, event_id: &str) -> Option<ConsentCardData> {
        let request = self.requests.get(event_id)?;
        let answer = match answer_to(event_id, &request.sender, &self.answers) {
            Some(true) => ConsentAnswer::Yes,
            Some(false) => ConsentAnswer::No,
            None => ConsentAnswer::None,
        };
        let open = answer == ConsentAnswer::None;
        Some(ConsentCardData {
            request: true,
            purpose: request.wire.purpose.clone().into(),
            answer,
            answerable: !request.own && open,
            sending: open && self.sending.contains(event_id),
        })
    }

    /// Puts the current card on every request row of `model` that changed.
    pub(crate) fn apply(&self, model: &VecModel<MessageItem>) {
        if self.requests.is_empty() {
            return;
        }
        for i in 0..model.row_count() {
            let Some(mut item) = model.row_data(i) else {
                continue;
            };
            let Some(card) = self.card(&item.event_id) else {
                continue;
            };
            if item.consent != card {
                item.consent = card;
                model.set_row_data(i, item);
            }
        }
    }
}

/// The answer the request `request` (sent by `asker`) got: the newest reply or reaction
/// to it that reads as yes or no, from anyone but the one who asked.
fn answer_to(request: &str, asker: &str, answers: &[Message]) -> Option<bool> {
    answers
        .iter()
        .filter(|m| m.sender != asker)
        .filter_map(|m| {
            let yes = match &m.body {
                MessageBody::Reaction { relates_to, key } if relates_to == request => {
                    wording::answer_in_reaction(key)
                }
                MessageBody::Text { text, .. } if m.reply_to.as_deref() == Some(request) => {
                    wording::answer_in_reply(text)
                }
                _ => None,
            }?;
            Some((m.timestamp_ms, yes))
        })
        .max_by_key(|(at, _)| *at)
        .map(|(_, yes)| yes)
}

#[cfg(test)]
mod tests {
    use kontor_core::SendState;

    use super::*;
    use crate::service::consent::REQUEST_KEY;

    fn msg(id: &str, sender: &str, own: bool, at: u64, body: MessageBody) -> Message {
        Message {
            room_id: "!dm:hs".into(),
            event_id: Some(id.into()),
            transaction_id: None,
            sender: sender.into(),
            sender_device: None,
            own,
            timestamp_ms: at,
            body,
            reply_to: None,
            replaces: None,
            state: SendState::Sent {
                event_id: id.into(),
            },
        }
    }

    fn request(own: bool) -> Message {
        let extra = serde_json::json!({
            REQUEST_KEY: {"version": 1, "purpose": "Termine", "language": "en"}
        });
        msg(
            "$req",
            "@berger:hs",
            own,
            1,
            MessageBody::Text {
                text: "May we …".into(),
                extra: Some(extra),
            },
        )
    }

    fn reply(id: &str, sender: &str, at: u64, text: &str) -> Message {
        let mut m = msg(
            id,
            sender,
            false,
            at,
            MessageBody::Text {
                text: text.into(),
                extra: None,
            },
        );
        m.reply_to = Some("$req".into());
        m
    }

    #[test]
    fn the_person_asked_answers_once_and_the_newest_answer_counts() {
        let mut cards = ConsentCards::default();
        cards.absorb(&[request(false)]);
        let card = cards.card("$req").expect("a request");
        assert!(card.request && card.answerable);
        assert_eq!(card.purpose, "Termine");
        assert_eq!(cards.language("$req"), Some(Language::English));
        assert!(cards.asked_by_peer());

        cards.set_sending("$req", true);
        assert!(cards.card("$req").unwrap().sending);
        // The asker's own "yes" does not answer their request.
        cards.absorb(&[reply("$self", "@berger:hs", 2, "YES")]);
        assert_eq!(cards.card("$req").unwrap().answer, ConsentAnswer::None);
        cards.absorb(&[reply("$a1", "@weiss:hs", 3, "YES, I consent.")]);
        let card = cards.card("$req").unwrap();
        assert_eq!(card.answer, ConsentAnswer::Yes);
        assert!(!card.answerable && !card.sending);
        let no = msg(
            "$a2",
            "@weiss:hs",
            false,
            4,
            MessageBody::Reaction {
                relates_to: "$req".into(),
                key: "👎".into(),
            },
        );
        cards.absorb(&[no]);
        assert_eq!(cards.card("$req").unwrap().answer, ConsentAnswer::No);
    }

    #[test]
    fn the_asker_sees_the_answer_and_no_buttons() {
        let mut cards = ConsentCards::default();
        cards.absorb(&[request(true), reply("$a", "@weiss:hs", 2, "ja")]);
        let card = cards.card("$req").unwrap();
        assert!(!card.answerable);
        assert_eq!(card.answer, ConsentAnswer::Yes);
        assert!(!cards.asked_by_peer());
        assert!(cards.card("$a").is_none());
    }
}
