//! A quote's life after it is written: where it was sent, who answered how and when,
//! and the status both sides see on its card.
//!
//! The rules, in one place for the UI, the CLI and the overview:
//! - only the **other party** of the chat answers: the freelancer's own reactions and
//!   replies (from any of their devices) never count, nor does anyone else's;
//! - a later answer replaces an earlier one, and every answer is kept (history);
//! - an answer dated after the validity is kept and counts, but is marked **late**;
//! - a quote replaced by a revision is `Replaced`, whatever was answered before;
//! - without an answer a quote is `Expired` from the day after its validity.

use serde::{Deserialize, Serialize};

use crate::{Date, Quote, QuoteNumber, answer::Answer};

/// Where and when a quote went out (the Matrix event that carries it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sent {
    /// The chat.
    pub room_id: String,
    /// The `m.file` event with the PDF and the structured quote.
    pub event_id: String,
    /// Who sent it (the freelancer's user id).
    pub sender: String,
    /// The customer's user id: the one party whose answer counts.
    pub counterparty: String,
    /// Server time of the event, ms since the Unix epoch.
    pub at_ms: u64,
}

/// One answer as it arrived.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnswerRecord {
    /// Accept or decline.
    pub answer: Answer,
    /// Who answered.
    pub by: String,
    /// Server time, ms since the Unix epoch.
    pub at_ms: u64,
    /// The reaction's or reply's event id (an answer seen twice counts once).
    pub event_id: String,
    /// Given after the validity.
    pub late: bool,
}

/// What the card says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Written, not sent yet (or sending).
    Draft,
    /// Sent, no answer, still valid.
    Sent,
    /// The latest answer accepts.
    Accepted,
    /// The latest answer declines.
    Declined,
    /// No answer and the validity is over.
    Expired,
    /// A revision replaces it.
    Replaced,
}

impl Status {
    /// Every status, for filters.
    pub const ALL: [Status; 6] = [
        Status::Draft,
        Status::Sent,
        Status::Accepted,
        Status::Declined,
        Status::Expired,
        Status::Replaced,
    ];

    /// A stable lower-case name for CSV, JSON and the CLI (`sent`, `accepted`, …).
    pub fn name(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Sent => "sent",
            Status::Accepted => "accepted",
            Status::Declined => "declined",
            Status::Expired => "expired",
            Status::Replaced => "replaced",
        }
    }

    /// From [`Status::name`].
    pub fn from_name(name: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Still waiting for the customer (counts into "open" totals).
    pub fn is_open(self) -> bool {
        matches!(self, Status::Sent)
    }
}

/// The customer a quote is for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    /// As printed on the quote (from the contact book, or the chat's name).
    pub name: String,
    /// Their Matrix id, when the quote goes to a chat.
    pub user_id: Option<String>,
    /// The contact book's id, when the customer is a contact (GDPR export/erase).
    pub contact_id: Option<String>,
}

/// Why an answer does not count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Ignored {
    /// The quote was never sent, so nobody can answer it.
    #[error("the quote was not sent")]
    NotSent,
    /// From the freelancer (any device) or a third person.
    #[error("only the customer can answer a quote")]
    NotTheCustomer,
    /// The same event again (sync and history both deliver it).
    #[error("this answer is already recorded")]
    Duplicate,
}

/// A quote with everything that happened to it. This is what the device keeps (sealed)
/// and what the overview lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuoteRecord {
    /// The quote as written.
    pub quote: Quote,
    /// For whom.
    pub customer: Customer,
    /// SHA-256 of the PDF as sent, lower-case hex.
    pub pdf_sha256: String,
    /// Set once it went out.
    pub sent: Option<Sent>,
    /// Every counting answer, oldest first.
    pub answers: Vec<AnswerRecord>,
    /// The quote this one revises.
    pub replaces: Option<QuoteNumber>,
    /// The revision that replaces this one.
    pub replaced_by: Option<QuoteNumber>,
}

impl QuoteRecord {
    /// A record of a quote not yet sent.
    pub fn new(quote: Quote, customer: Customer, pdf_sha256: String) -> QuoteRecord {
        QuoteRecord {
            quote,
            customer,
            pdf_sha256,
            sent: None,
            answers: Vec::new(),
            replaces: None,
            replaced_by: None,
        }
    }

    /// Records an answer if it counts (see the module docs), marking it late when it
    /// was given after the validity. Returns the answer as recorded.
    pub fn answer(
        &mut self,
        by: &str,
        at_ms: u64,
        answer: Answer,
        event_id: &str,
    ) -> Result<&AnswerRecord, Ignored> {
        let sent = self.sent.as_ref().ok_or(Ignored::NotSent)?;
        if by != sent.counterparty || by == sent.sender {
            return Err(Ignored::NotTheCustomer);
        }
        if self.answers.iter().any(|a| a.event_id == event_id) {
            return Err(Ignored::Duplicate);
        }
        let late = Date::from_unix_ms(at_ms) > self.quote.valid_until;
        let record = AnswerRecord {
            answer,
            by: by.to_owned(),
            at_ms,
            event_id: event_id.to_owned(),
            late,
        };
        // Keep the history in server order, whatever order sync and back-pagination
        // deliver it in: the latest by time is the one that counts.
        let at = self.answers.partition_point(|a| a.at_ms <= at_ms);
        self.answers.insert(at, record);
        Ok(&self.answers[at])
    }

    /// The answer that counts now: the latest.
    pub fn current_answer(&self) -> Option<&AnswerRecord> {
        self.answers.last()
    }

    /// The status on `today` (the device's calendar day).
    pub fn status(&self, today: Date) -> Status {
        if self.replaced_by.is_some() {
            return Status::Replaced;
        }
        if self.sent.is_none() {
            return Status::Draft;
        }
        match self.current_answer().map(|a| a.answer) {
            Some(Answer::Accept) => Status::Accepted,
            Some(Answer::Decline) => Status::Declined,
            None if today > self.quote.valid_until => Status::Expired,
            None => Status::Sent,
        }
    }
}

impl Date {
    /// The UTC calendar day of a Unix time in milliseconds.
    pub fn from_unix_ms(ms: u64) -> Date {
        // Howard Hinnant's civil_from_days.
        let days = (ms / 86_400_000) as i64;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = (yoe + era * 400 + i64::from(month <= 2)) as u16;
        Date { year, month, day }
    }

    /// Today in UTC, from the system clock.
    pub fn today() -> Date {
        let ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        Date::from_unix_ms(ms)
    }

    /// The day `days` after this one.
    pub fn plus_days(self, days: u32) -> Date {
        let start = self.days_since_epoch();
        Date::from_unix_ms((start + i64::from(days)) as u64 * 86_400_000)
    }

    /// Days since 1970-01-01 (Hinnant's days_from_civil).
    fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LineItem, Money, Quantity};

    const DAY: u64 = 86_400_000;

    fn date(year: u16, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    fn record() -> QuoteRecord {
        let quote = Quote {
            number: QuoteNumber { year: 2026, seq: 7 },
            title: "Praxisumbau".into(),
            items: vec![LineItem {
                description: "Fliesen".into(),
                quantity: Quantity(100),
                unit: "m²".into(),
                unit_price: Money(4_500),
                vat_percent: 19,
            }],
            discount: None,
            notes: String::new(),
            date: date(2026, 12, 1),
            valid_until: date(2026, 12, 31),
            small_business: false,
        };
        let mut r = QuoteRecord::new(quote, Customer::default(), "00".into());
        r.sent = Some(Sent {
            room_id: "!r:x".into(),
            event_id: "$q".into(),
            sender: "@anna:x".into(),
            counterparty: "@kunde:x".into(),
            at_ms: 1_764_547_200_000, // 2025-12-01, any time before the answers
        });
        r
    }

    #[test]
    fn calendar_days_from_unix_time() {
        assert_eq!(Date::from_unix_ms(0), date(1970, 1, 1));
        // 2026-12-31 23:59:59.999 UTC and the next millisecond.
        let new_year = 1_798_761_600_000;
        assert_eq!(Date::from_unix_ms(new_year - 1), date(2026, 12, 31));
        assert_eq!(Date::from_unix_ms(new_year), date(2027, 1, 1));
        assert_eq!(Date::from_unix_ms(951_782_400_000), date(2000, 2, 29));
        assert_eq!(date(2026, 12, 1).plus_days(30), date(2026, 12, 31));
        assert_eq!(date(2028, 2, 28).plus_days(1), date(2028, 2, 29));
        assert_eq!(date(2026, 12, 31).plus_days(1), date(2027, 1, 1));
    }

    #[test]
    fn only_the_customer_answers_and_the_latest_counts() {
        let mut r = record();
        let dec_10 = 1_796_860_800_000; // 2026-12-10
        assert_eq!(r.status(date(2026, 12, 10)), Status::Sent);
        assert_eq!(
            r.answer("@anna:x", dec_10, Answer::Accept, "$own"),
            Err(Ignored::NotTheCustomer)
        );
        assert_eq!(
            r.answer("@third:x", dec_10, Answer::Accept, "$3"),
            Err(Ignored::NotTheCustomer)
        );
        r.answer("@kunde:x", dec_10, Answer::Decline, "$a").unwrap();
        assert_eq!(r.status(date(2026, 12, 10)), Status::Declined);
        r.answer("@kunde:x", dec_10 + DAY, Answer::Accept, "$b")
            .unwrap();
        assert_eq!(
            r.answer("@kunde:x", dec_10 + DAY, Answer::Accept, "$b"),
            Err(Ignored::Duplicate)
        );
        assert_eq!(r.status(date(2026, 12, 11)), Status::Accepted);
        assert_eq!(r.answers.len(), 2, "history kept");
        // An older answer arriving later (back-pagination) does not win.
        r.answer("@kunde:x", dec_10 - DAY, Answer::Decline, "$old")
            .unwrap();
        assert_eq!(r.status(date(2026, 12, 11)), Status::Accepted);
        assert_eq!(r.answers[0].event_id, "$old");
    }

    #[test]
    fn late_expired_replaced_and_draft() {
        let mut r = record();
        assert_eq!(r.status(date(2026, 12, 31)), Status::Sent);
        assert_eq!(r.status(date(2027, 1, 1)), Status::Expired);
        let jan_2 = 1_798_848_000_000; // 2027-01-02
        let late = r
            .answer("@kunde:x", jan_2, Answer::Accept, "$late")
            .unwrap();
        assert!(late.late);
        assert_eq!(r.status(date(2027, 1, 2)), Status::Accepted);
        r.replaced_by = Some(QuoteNumber { year: 2027, seq: 1 });
        assert_eq!(r.status(date(2027, 1, 2)), Status::Replaced);
        let mut draft = record();
        draft.sent = None;
        assert_eq!(draft.status(date(2026, 12, 2)), Status::Draft);
        assert_eq!(
            draft.answer("@kunde:x", 0, Answer::Accept, "$x"),
            Err(Ignored::NotSent)
        );
        for s in Status::ALL {
            assert_eq!(Status::from_name(s.name()), Some(s));
        }
    }
}
