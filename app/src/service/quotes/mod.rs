//! Quotes as business objects, for both faces: the freelancer's details, numbering,
//! drafts, the PDF, sending, answers from any Matrix client, the overview and the export.
//!
//! Who keeps what:
//! - this device keeps every own quote as a [`QuoteRecord`] in a sealed store
//!   (`<data-dir>/quotes`, [`QuoteStore`], keyed by the profile's business key), so the
//!   overview works offline and opens at once;
//! - the account's other devices learn of each record and of the business details through
//!   the **business room** (kontor-core: a private room of the account alone, encrypted
//!   from its creation event): every change is posted there as an encrypted event and
//!   merged on arrival ([`Quotes::merge_synced`]), so a second device numbers on from the
//!   numbers the first one used and shows the same statuses;
//! - the customer sees a standard `m.file` (PDF, caption) with the structured quote under
//!   [`kontor_quotes::QUOTE_KEY`] in the same, encrypted, event; they answer with a
//!   reaction or a reply from any client ([`kontor_quotes::answer`]), and
//!   [`Quotes::on_message`] records it by the rules of [`QuoteRecord::answer`].
//!
//! The customer's side keeps no records: a quote someone else sent lives in that chat,
//! and its card is computed from the chat's events ([`card_status`]).
//!
//! The customer's data protection rights: a person's quotes are the records written for
//! their contact or sent to their Matrix id ([`concerns`], one rule). Their Art. 15
//! export includes them ([`crate::service::export`]). Erasing the contact (Art. 17)
//! does **not** erase them: a sent quote is a business letter, which a business must
//! keep for 6 years (§ 147 Abs. 1 Nr. 2, 3 AO; § 257 Abs. 1 Nr. 2, 3, Abs. 4 HGB), and
//! Art. 17(3)(b) GDPR exempts data kept to comply with such a legal obligation. Erasure
//! removes only the link to the contact ([`Quotes::unlink_contact`]); both faces tell
//! the user how many quotes are kept and why.

pub mod draft;
mod send;

use std::{collections::HashMap, path::Path, sync::Mutex};

use kontor_core::{BusinessEvent, Message, MessageBody};
use kontor_quotes::{
    AnswerRecord, BusinessDetails, Customer, Date, QuoteNumber, QuoteRecord, Status, WireQuote,
    answer::{self, Answer},
    overview::{Filter, Overview},
    store::QuoteStore,
};
use zeroize::Zeroizing;

use super::{ServiceError, lock};

/// The business room's kinds of events.
pub const KIND_DETAILS: &str = "details";
/// A quote record (created, sent, answered, replaced).
pub const KIND_QUOTE: &str = "quote";

/// An answer that just arrived for one of the freelancer's quotes (for a notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answered {
    /// Which quote.
    pub number: QuoteNumber,
    /// The chat it was sent in.
    pub room_id: String,
    /// Accept or decline, and when.
    pub answer: AnswerRecord,
}

/// The device's quotes (see the module docs).
pub struct Quotes {
    store: QuoteStore,
    /// The quote event id → its number, for matching reactions and replies quickly.
    by_event: Mutex<HashMap<String, QuoteNumber>>,
}

type Result<T> = std::result::Result<T, ServiceError>;

impl Quotes {
    /// Opens (or creates) the sealed store in `dir` with the profile's business key.
    pub fn open(dir: &Path, key: Zeroizing<[u8; 32]>) -> Result<Quotes> {
        let store = QuoteStore::open(dir, key)?;
        let quotes = Quotes {
            store,
            by_event: Mutex::default(),
        };
        let records = quotes.store.all()?;
        let mut index = lock(&quotes.by_event);
        for r in &records {
            if let Some(sent) = &r.sent {
                index.insert(sent.event_id.clone(), r.quote.number);
            }
        }
        drop(index);
        Ok(quotes)
    }

    /// The freelancer's business details, if written yet.
    pub fn details(&self) -> Result<Option<BusinessDetails>> {
        Ok(self.store.details()?)
    }

    /// Checks and keeps `details` on this device; the caller posts them to the business
    /// room ([`KIND_DETAILS`]).
    pub fn save_details(&self, details: &BusinessDetails) -> Result<()> {
        let problems = details.check();
        if !problems.is_empty() {
            return Err(ServiceError::Details(problems));
        }
        self.store.put_details(details)?;
        Ok(())
    }

    /// The number a new quote written `today` gets: after every number this account
    /// used this year, on any of its devices (as far as synced).
    pub fn next_number(&self, today: Date) -> Result<QuoteNumber> {
        let used = self.store.numbers()?;
        Ok(QuoteNumber::next(today.year, &used))
    }

    /// One record.
    pub fn get(&self, number: &QuoteNumber) -> Result<Option<QuoteRecord>> {
        Ok(self.store.get(number)?)
    }

    /// Every record, newest first.
    pub fn all(&self) -> Result<Vec<QuoteRecord>> {
        Ok(self.store.all()?)
    }

    /// Keeps a record (new, sent, answered, replaced) and indexes its event.
    pub fn put(&self, record: &QuoteRecord) -> Result<()> {
        self.store.put(record)?;
        if let Some(sent) = &record.sent {
            lock(&self.by_event).insert(sent.event_id.clone(), record.quote.number);
        }
        Ok(())
    }

    /// The overview: filtered rows, and the totals of open and accepted quotes.
    pub fn overview(&self, filter: &Filter, today: Date) -> Result<Overview> {
        let records = self.store.all()?;
        Ok(kontor_quotes::overview::overview(&records, filter, today))
    }

    /// CSV for the tax adviser.
    pub fn csv(&self, today: Date, german: bool) -> Result<String> {
        let records = self.store.all()?;
        Ok(kontor_quotes::export::csv(&records, today, german))
    }

    /// The quotes of one person (GDPR export and erasure, the contact's page): every
    /// record [`concerns`] says is theirs.
    pub fn for_person(
        &self,
        contact_id: &str,
        matrix_id: Option<&str>,
    ) -> Result<Vec<QuoteRecord>> {
        Ok(self
            .store
            .all()?
            .into_iter()
            .filter(|r| concerns(r, contact_id, matrix_id))
            .collect())
    }

    /// The contact `contact_id` is erased (GDPR Art. 17): its quotes are **kept**, as
    /// business letters a business must keep (§ 147 Abs. 1 Nr. 2, 3 AO; § 257 HGB:
    /// 6 years), with the name as printed, the amounts and the answers; only the link to
    /// the contact, which no longer exists, is removed. The Matrix id stays: it is the
    /// address the quote went to, part of the letter.
    ///
    /// Returns how many of the person's quotes were kept and the records that changed
    /// (for the caller to pass on to the account's other devices).
    pub fn unlink_contact(
        &self,
        contact_id: &str,
        matrix_id: Option<&str>,
    ) -> Result<(usize, Vec<QuoteRecord>)> {
        let theirs = self.for_person(contact_id, matrix_id)?;
        let mut changed = Vec::new();
        for mut r in theirs.iter().cloned() {
            if r.customer.contact_id.as_deref() == Some(contact_id) {
                r.customer.contact_id = None;
                self.put(&r)?;
                changed.push(r);
            }
        }
        Ok((theirs.len(), changed))
    }

    /// A message of any chat: if it answers one of this account's quotes (a reaction on
    /// the quote's event, or a reply to it) and counts by the rules, it is recorded and
    /// returned, so the caller can notify and post the record to the business room.
    pub fn on_message(&self, msg: &Message) -> Result<Option<(Answered, QuoteRecord)>> {
        let Some((target, given)) = answer_in(msg) else {
            return Ok(None);
        };
        let Some(number) = lock(&self.by_event).get(&target).copied() else {
            return Ok(None);
        };
        let Some(mut record) = self.store.get(&number)? else {
            return Ok(None);
        };
        let Some(event_id) = msg.event_id.as_deref() else {
            return Ok(None);
        };
        let recorded = match record.answer(&msg.sender, msg.timestamp_ms, given, event_id) {
            Ok(a) => a.clone(),
            // Not the customer, or seen before: nothing changes.
            Err(_) => return Ok(None),
        };
        self.put(&record)?;
        let room_id = msg.room_id.clone();
        Ok(Some((
            Answered {
                number,
                room_id,
                answer: recorded,
            },
            record,
        )))
    }

    /// An event of the business room (from this account's devices): newer details
    /// replace the kept ones, a quote record is merged with the kept one (answers are
    /// united, a sent or replaced mark is never lost).
    pub fn merge_synced(&self, event: &BusinessEvent) -> Result<()> {
        match event.kind.as_str() {
            KIND_DETAILS => {
                if let Ok(details) = serde_json::from_value::<BusinessDetails>(event.value.clone())
                {
                    self.store.put_details(&details)?;
                }
            }
            KIND_QUOTE => {
                let Ok(theirs) = serde_json::from_value::<QuoteRecord>(event.value.clone()) else {
                    tracing::warn!("business room: a quote record could not be read");
                    return Ok(());
                };
                let merged = match self.store.get(&theirs.quote.number)? {
                    Some(mine) => merge(mine, theirs),
                    None => theirs,
                };
                self.put(&merged)?;
            }
            other => tracing::debug!("business room: unknown kind {other:?} skipped"),
        }
        Ok(())
    }
}

/// Whether a quote is about the person with this contact id and (found by discovery)
/// Matrix id: it was written for the contact, or sent to their Matrix account (written
/// from a chat, or before the contact was linked). One rule for export, erasure and the
/// contact's page.
pub fn concerns(record: &QuoteRecord, contact_id: &str, matrix_id: Option<&str>) -> bool {
    record.customer.contact_id.as_deref() == Some(contact_id)
        || matrix_id.is_some_and(|m| record.customer.user_id.as_deref() == Some(m))
}

/// Two versions of one record (this device's and another's): the union of what each
/// knows.
///
/// The customer is set when a quote is written and never changes, except that erasing
/// the contact removes its link ([`Quotes::unlink_contact`]); so a version without the
/// link next to one with it means "erased", and the link is never brought back (the
/// business room still holds the older versions, and they are merged again at every
/// catch-up).
fn merge(mut mine: QuoteRecord, theirs: QuoteRecord) -> QuoteRecord {
    let unlinked = mine.customer.contact_id.is_none() || theirs.customer.contact_id.is_none();
    if mine.sent.is_none() {
        mine.sent = theirs.sent;
        mine.pdf_sha256 = theirs.pdf_sha256;
        mine.quote = theirs.quote;
        mine.customer = theirs.customer;
    }
    for a in theirs.answers {
        if !mine.answers.iter().any(|m| m.event_id == a.event_id) {
            let at = mine.answers.partition_point(|m| m.at_ms <= a.at_ms);
            mine.answers.insert(at, a);
        }
    }
    mine.replaces = mine.replaces.or(theirs.replaces);
    mine.replaced_by = mine.replaced_by.or(theirs.replaced_by);
    if unlinked {
        mine.customer.contact_id = None;
    }
    mine
}

/// The event a message answers and how, if it is an answer at all: a reaction on it, or
/// a reply to it whose first word accepts or declines.
pub fn answer_in(msg: &Message) -> Option<(String, Answer)> {
    match &msg.body {
        MessageBody::Reaction { relates_to, key } => {
            answer::from_reaction(key).map(|a| (relates_to.clone(), a))
        }
        MessageBody::Text { text, .. } => {
            let target = msg.reply_to.clone()?;
            answer::from_reply(text).map(|a| (target, a))
        }
        _ => None,
    }
}

/// The structured quote a message carries, checked; `None` for any other message or a
/// quote that does not check out (then it is shown as the plain PDF it also is).
pub fn quote_in(msg: &Message) -> Option<(kontor_quotes::Quote, Option<QuoteNumber>)> {
    let value = msg.body.extra(kontor_quotes::QUOTE_KEY)?;
    let wire: WireQuote = serde_json::from_value(value.clone()).ok()?;
    wire.into_quote().ok()
}

/// The status of a quote in a chat as both sides see it, from the chat's own events:
/// `quote_event` (sent by its sender) answered by any of `messages`. `counterparty` is
/// the one whose answer counts; `None` (the sender's own view of a direct chat): anyone
/// but the sender. Used for quotes this device keeps no record of (the customer's side,
/// or before the freelancer's record has synced) and for the cards in a chat.
pub fn card_status(
    quote: &kontor_quotes::Quote,
    quote_event: &Message,
    counterparty: Option<&str>,
    messages: &[Message],
    today: Date,
) -> (Status, Option<AnswerRecord>) {
    let mut record = QuoteRecord::new(quote.clone(), Customer::default(), String::new());
    let mut sent = kontor_quotes::Sent {
        room_id: quote_event.room_id.clone(),
        event_id: quote_event.event_id.clone().unwrap_or_default(),
        sender: quote_event.sender.clone(),
        counterparty: counterparty.unwrap_or_default().to_owned(),
        at_ms: quote_event.timestamp_ms,
    };
    for m in messages {
        if let (Some((target, given)), Some(id)) = (answer_in(m), m.event_id.as_deref())
            && Some(&target) == quote_event.event_id.as_ref()
        {
            if counterparty.is_none() {
                // In a direct chat whoever is not the sender is the customer.
                sent.counterparty = m.sender.clone();
            }
            record.sent = Some(sent.clone());
            let _ = record.answer(&m.sender, m.timestamp_ms, given, id);
        }
    }
    record.sent = Some(sent);
    (record.status(today), record.current_answer().cloned())
}

#[cfg(test)]
mod tests;
