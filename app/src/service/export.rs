//! Exports of one person's data (GDPR Art. 15/20): the formats, by name, for both faces.
//! An unknown format is an error, never silently JSON.
//!
//! The JSON export is everything Kontor keeps about the person: the contact with its
//! consent history, and the quotes written for them ([`Quotes::for_person`]: number,
//! dates, title, items, totals, status, every answer with its time). Quotes exist only
//! with an account on this device; without one the export says `"quotes": []`. The
//! vCard is for other address books and carries the contact only.

use std::path::Path;

use kontor_contacts::{ContactBook, ContactExport};
use kontor_quotes::{
    AnswerRecord, Customer, Date, Discount, LineItem, QuoteNumber, QuoteRecord, Totals,
    answer::Answer,
};
use serde::Serialize;

use super::{ServiceError, fs::write_private, quotes::Quotes};

/// The formats an export can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// Kontor's complete record, consent history included.
    Json,
    /// vCard 4.0, for other address books.
    Vcard,
}

impl ExportFormat {
    /// From the name the CLI and the views use (`json`, `vcard`).
    pub fn parse(name: &str) -> Result<ExportFormat, ServiceError> {
        match name.trim().to_ascii_lowercase().as_str() {
            "json" => Ok(ExportFormat::Json),
            "vcard" | "vcf" => Ok(ExportFormat::Vcard),
            other => Err(ServiceError::UnknownFormat(other.to_owned())),
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Json => "json",
            ExportFormat::Vcard => "vcf",
        }
    }

    /// One person's data in this format; `quotes` is the device's quote store, `None`
    /// where there is none (no account), and read only for JSON.
    pub fn render(
        self,
        book: &ContactBook,
        quotes: Option<&Quotes>,
        id: &str,
    ) -> Result<String, ServiceError> {
        match self {
            ExportFormat::Json => {
                let (in_book, contact) = book.get(id)?;
                let records = match quotes {
                    Some(q) => q.for_person(&contact.id, contact.matrix_account())?,
                    None => Vec::new(),
                };
                let today = Date::today();
                let doc = PersonExport {
                    contact: ContactExport {
                        format: "kontor-contact/1",
                        book: in_book,
                        contact: &contact,
                    },
                    quotes: records.iter().map(|r| QuoteExport::new(r, today)).collect(),
                };
                serde_json::to_string_pretty(&doc).map_err(|_| ServiceError::Crashed)
            }
            ExportFormat::Vcard => Ok(book.export_vcard(id)?),
        }
    }
}

/// The JSON export: the contact library's document plus the person's quotes.
#[derive(Serialize)]
struct PersonExport<'a> {
    #[serde(flatten)]
    contact: ContactExport<'a>,
    quotes: Vec<QuoteExport<'a>>,
}

/// One quote as the person gets to see it: what was offered to them, for how much, and
/// what they answered when. Amounts in cents, quantities in hundredths (as everywhere in
/// Kontor's JSON), times in UTC as RFC 3339 and in ms.
#[derive(Serialize)]
struct QuoteExport<'a> {
    number: QuoteNumber,
    date: Date,
    valid_until: Date,
    title: &'a str,
    customer: &'a Customer,
    items: &'a [LineItem],
    discount: Option<Discount>,
    notes: &'a str,
    totals: Totals,
    status: &'static str,
    sent_at: Option<String>,
    answers: Vec<AnswerExport<'a>>,
    replaces: Option<QuoteNumber>,
    replaced_by: Option<QuoteNumber>,
}

#[derive(Serialize)]
struct AnswerExport<'a> {
    answer: Answer,
    by: &'a str,
    at: String,
    at_ms: u64,
    late: bool,
}

impl<'a> QuoteExport<'a> {
    fn new(r: &'a QuoteRecord, today: Date) -> QuoteExport<'a> {
        let q = &r.quote;
        QuoteExport {
            number: q.number,
            date: q.date,
            valid_until: q.valid_until,
            title: &q.title,
            customer: &r.customer,
            items: &q.items,
            discount: q.discount,
            notes: &q.notes,
            totals: q.totals(),
            status: r.status(today).name(),
            sent_at: r.sent.as_ref().map(|s| utc(s.at_ms)),
            answers: r.answers.iter().map(AnswerExport::new).collect(),
            replaces: r.replaces,
            replaced_by: r.replaced_by,
        }
    }
}

impl<'a> AnswerExport<'a> {
    fn new(a: &'a AnswerRecord) -> AnswerExport<'a> {
        AnswerExport {
            answer: a.answer,
            by: &a.by,
            at: utc(a.at_ms),
            at_ms: a.at_ms,
            late: a.late,
        }
    }
}

/// `2026-12-06T14:03:00Z`: a time a person and a program both read.
fn utc(ms: u64) -> String {
    i64::try_from(ms)
        .ok()
        .and_then(chrono::DateTime::from_timestamp_millis)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
}

/// Writes an export privately ([`write_private`]).
pub fn write(path: &Path, content: &str) -> Result<(), ServiceError> {
    write_private(path, content.as_bytes()).map_err(|source| ServiceError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_name_and_unknown_ones_refused() {
        assert_eq!(ExportFormat::parse("vcard").unwrap(), ExportFormat::Vcard);
        assert_eq!(ExportFormat::parse(" JSON ").unwrap(), ExportFormat::Json);
        assert!(matches!(
            ExportFormat::parse("pdf"),
            Err(ServiceError::UnknownFormat(f)) if f == "pdf"
        ));
        assert_eq!(ExportFormat::Vcard.extension(), "vcf");
    }

    /// Dec 10, 2026, 09:30 UTC.
    const DEC_10_0930: u64 = 1_796_895_000_000;

    fn quote_for(contact_id: &str) -> QuoteRecord {
        let date = |day| Date {
            year: 2026,
            month: 12,
            day,
        };
        let quote = kontor_quotes::Quote {
            number: QuoteNumber { year: 2026, seq: 7 },
            title: "Praxisumbau".into(),
            items: vec![LineItem {
                description: "Fliesen".into(),
                quantity: kontor_quotes::Quantity(1_000),
                unit: "m²".into(),
                unit_price: kontor_quotes::Money(4_500),
                vat_percent: 19,
            }],
            discount: None,
            notes: String::new(),
            date: date(1),
            valid_until: date(31),
            small_business: false,
        };
        let customer = Customer {
            name: "Ben Kunde".into(),
            user_id: Some("@ben:example.org".into()),
            contact_id: Some(contact_id.into()),
        };
        let mut r = QuoteRecord::new(quote, customer, "ab".into());
        r.sent = Some(kontor_quotes::Sent {
            room_id: "!dm:example.org".into(),
            event_id: "$q".into(),
            sender: "@anna:example.org".into(),
            counterparty: "@ben:example.org".into(),
            at_ms: DEC_10_0930 - 86_400_000,
        });
        r.answer("@ben:example.org", DEC_10_0930, Answer::Accept, "$a")
            .unwrap();
        r
    }

    #[test]
    fn the_json_export_holds_the_persons_quotes_and_the_vcard_does_not() {
        let dir = tempfile::tempdir().unwrap();
        let opts = kontor_contacts::OpenOptions {
            kdf: kontor_contacts::KdfParams::insecure_fast(),
            ..kontor_contacts::OpenOptions::default()
        };
        let book = ContactBook::open_with(&dir.path().join("contacts"), "pass", opts).unwrap();
        let new = |name: &str| kontor_contacts::NewContact {
            display_name: name.into(),
            ..Default::default()
        };
        let ben = book
            .add(new("Ben Kunde"), Some(("Angebote", None)))
            .unwrap();
        let otto = book.add(new("Otto"), None).unwrap();
        let quotes =
            Quotes::open(&dir.path().join("quotes"), zeroize::Zeroizing::new([1; 32])).unwrap();
        quotes.put(&quote_for(&ben.id)).unwrap();

        let json = |id: &str, q: Option<&Quotes>| -> serde_json::Value {
            serde_json::from_str(&ExportFormat::Json.render(&book, q, id).unwrap()).unwrap()
        };
        let doc = json(&ben.id, Some(&quotes));
        assert_eq!(doc["format"], "kontor-contact/1");
        assert_eq!(doc["contact"]["display_name"], "Ben Kunde");
        let q = &doc["quotes"][0];
        assert_eq!(q["number"], "A-2026-0007", "{doc}");
        assert_eq!(q["date"], "2026-12-01");
        assert_eq!(q["title"], "Praxisumbau");
        assert_eq!(q["items"][0]["description"], "Fliesen");
        assert_eq!(q["totals"]["gross"], 53_550);
        assert_eq!(q["status"], "accepted");
        assert_eq!(q["sent_at"], "2026-12-09T09:30:00Z");
        assert_eq!(q["answers"][0]["answer"], "Accept");
        assert_eq!(q["answers"][0]["at"], "2026-12-10T09:30:00Z");
        assert_eq!(q["answers"][0]["late"], false);
        assert_eq!(doc["quotes"].as_array().unwrap().len(), 1);

        // Another person's export has none of them; without a quote store, none either.
        assert_eq!(
            json(&otto.id, Some(&quotes))["quotes"],
            serde_json::json!([])
        );
        assert_eq!(json(&ben.id, None)["quotes"], serde_json::json!([]));
        let vcard = ExportFormat::Vcard
            .render(&book, Some(&quotes), &ben.id)
            .unwrap();
        assert!(vcard.contains("FN:Ben Kunde") && !vcard.contains("Praxisumbau"));
    }
}
