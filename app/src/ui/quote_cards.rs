//! The quote cards of the open conversation: which messages are quotes (the structured
//! quote in their `m.file` event) and what their status is, read from the chat's own
//! events — reactions and replies of the other party, and newer quotes that replace
//! older ones. The same rules as the freelancer's records ([`card_status`]), so both
//! sides see the same status, and a customer without Kontor's records (or the
//! freelancer's second device before its records synced) sees it too.
//!
//! Pages arrive newest first and answers always follow their quote, so a quote shown
//! has its answers shown (or arriving live) too.

use std::collections::HashMap;

use kontor_core::Message;
use kontor_quotes::{Date, Quote, QuoteNumber, Status};
use slint::{Model, VecModel};

use super::{MessageItem, QuoteCardData, format::local_time_label, quotes::status_view};
use crate::service::{
    language::Language,
    quotes::{answer_in, card_status, quote_in},
};

struct Source {
    quote: Quote,
    replaces: Option<QuoteNumber>,
    event: Message,
}

/// The quotes of one chat and the messages that may answer them.
#[derive(Default)]
pub(crate) struct Cards {
    quotes: HashMap<String, Source>,
    answers: Vec<Message>,
}

impl Cards {
    /// Forgets the chat (another one opens, or the lock).
    pub(crate) fn reset(&mut self) {
        self.quotes.clear();
        self.answers.clear();
    }

    /// Takes note of messages (a page or one live message).
    pub(crate) fn absorb<'a>(&mut self, messages: impl IntoIterator<Item = &'a Message>) {
        for m in messages {
            let Some(id) = m.event_id.clone() else {
                continue;
            };
            if let Some((quote, replaces)) = quote_in(m) {
                let mut event = m.clone();
                // The card needs who and when, not the file's details.
                event.body = kontor_core::MessageBody::Undecryptable;
                self.quotes.insert(
                    id,
                    Source {
                        quote,
                        replaces,
                        event,
                    },
                );
            } else if answer_in(m).is_some()
                && !self.answers.iter().any(|a| a.event_id == m.event_id)
            {
                self.answers.push(m.clone());
            }
        }
    }

    /// The card for the message `event_id`, if it is a quote.
    pub(crate) fn card(
        &self,
        event_id: &str,
        own_user: &str,
        lang: Language,
        today: Date,
    ) -> Option<QuoteCardData> {
        let src = self.quotes.get(event_id)?;
        let german = lang == Language::German;
        // The customer's own view: only they answer. The freelancer's: whoever else.
        let counterparty = (!src.event.own).then_some(own_user);
        let (mut status, answer) =
            card_status(&src.quote, &src.event, counterparty, &self.answers, today);
        let replaced = self
            .quotes
            .values()
            .any(|o| o.replaces == Some(src.quote.number) && o.event.sender == src.event.sender);
        if replaced {
            status = Status::Replaced;
        }
        Some(QuoteCardData {
            status: status_view(status),
            number: src.quote.number.to_string().into(),
            title: src.quote.title.clone().into(),
            gross: src.quote.totals().gross.format(german).into(),
            valid_until: src.quote.valid_until.format(german).into(),
            answered_at: answer
                .as_ref()
                .map(|a| local_time_label(a.at_ms, lang))
                .unwrap_or_default()
                .into(),
            late: answer.as_ref().is_some_and(|a| a.late),
            answerable: !src.event.own && status != Status::Replaced,
            replaces: src
                .replaces
                .map(|n| n.to_string())
                .unwrap_or_default()
                .into(),
        })
    }

    /// Puts the current card on every quote row of `model` that changed.
    pub(crate) fn apply(&self, model: &VecModel<MessageItem>, own_user: &str, lang: Language) {
        if self.quotes.is_empty() {
            return;
        }
        let today = Date::today();
        for i in 0..model.row_count() {
            let Some(mut item) = model.row_data(i) else {
                continue;
            };
            let Some(card) = self.card(&item.event_id, own_user, lang, today) else {
                continue;
            };
            if item.quote != card {
                item.quote = card;
                model.set_row_data(i, item);
            }
        }
    }
}
