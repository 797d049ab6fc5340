//! The structured quote as it travels in the chat: under the namespaced key
//! [`QUOTE_KEY`] of the same `m.file` event that carries the PDF, so it is encrypted
//! with it and other clients ignore it (they show the PDF and the caption).
//!
//! Why in the file event and not a separate custom event: one event is one answerable
//! thing. A reaction or reply in Element targets the PDF the customer sees; a second
//! event would be invisible there and could arrive without the other.
//!
//! The receiving Kontor checks what it reads ([`WireQuote::into_quote`]): totals are
//! recomputed from the items, and a quote whose stated totals differ is refused rather
//! than shown with numbers the PDF may not have.

use serde::{Deserialize, Serialize};

use crate::{Date, Discount, LineItem, Quote, QuoteNumber, Totals};

/// The key under the `m.file` content.
pub const QUOTE_KEY: &str = "eu.kontor.quote";

/// The version of this format; a reader refuses a newer major version.
pub const WIRE_VERSION: u32 = 1;

/// The structured quote in the event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireQuote {
    /// [`WIRE_VERSION`].
    pub version: u32,
    /// `A-2026-0007`.
    pub number: String,
    /// The quote as written (items, discount, validity, § 19).
    pub title: String,
    /// Lines.
    pub items: Vec<LineItem>,
    /// Discount.
    pub discount: Option<Discount>,
    /// Notes.
    pub notes: String,
    /// Written on.
    pub date: Date,
    /// Valid until.
    pub valid_until: Date,
    /// Small business, no VAT.
    pub small_business: bool,
    /// The totals as the sender computed them (checked on reading).
    pub totals: Totals,
    /// Always `EUR` for now.
    pub currency: String,
    /// SHA-256 of the attached PDF, lower-case hex.
    pub pdf_sha256: String,
    /// The quote number this one revises.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
}

/// Why a structured quote from the chat is not shown as a quote.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    /// Written by a newer Kontor.
    #[error("quote format version {0} is not supported")]
    Version(u32),
    /// Not `A-YYYY-NNNN`.
    #[error("the quote number is malformed")]
    Number,
    /// Only euros.
    #[error("currency {0} is not supported")]
    Currency(String),
    /// The quote itself fails its checks.
    #[error("the quote is not valid: {0}")]
    Invalid(crate::FieldError),
    /// The stated totals are not what the items add up to.
    #[error("the stated totals do not match the items")]
    Totals,
}

impl WireQuote {
    /// What goes into the event for `quote`.
    pub fn new(quote: &Quote, pdf_sha256: &str, replaces: Option<QuoteNumber>) -> WireQuote {
        WireQuote {
            version: WIRE_VERSION,
            number: quote.number.to_string(),
            title: quote.title.clone(),
            items: quote.items.clone(),
            discount: quote.discount,
            notes: quote.notes.clone(),
            date: quote.date,
            valid_until: quote.valid_until,
            small_business: quote.small_business,
            totals: quote.totals(),
            currency: "EUR".into(),
            pdf_sha256: pdf_sha256.to_owned(),
            replaces: replaces.map(|n| n.to_string()),
        }
    }

    /// The quote, checked: version, number, currency, fields, and totals recomputed.
    pub fn into_quote(self) -> Result<(Quote, Option<QuoteNumber>), WireError> {
        if self.version != WIRE_VERSION {
            return Err(WireError::Version(self.version));
        }
        if self.currency != "EUR" {
            return Err(WireError::Currency(self.currency));
        }
        let number: QuoteNumber = self.number.parse().map_err(|_| WireError::Number)?;
        let replaces = match self.replaces {
            Some(r) => Some(r.parse().map_err(|_| WireError::Number)?),
            None => None,
        };
        let quote = Quote {
            number,
            title: self.title,
            items: self.items,
            discount: self.discount,
            notes: self.notes,
            date: self.date,
            valid_until: self.valid_until,
            small_business: self.small_business,
        };
        if let Some(problem) = quote.check().into_iter().next() {
            return Err(WireError::Invalid(problem));
        }
        if quote.totals() != self.totals {
            return Err(WireError::Totals);
        }
        Ok((quote, replaces))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Money, Quantity};

    fn quote() -> Quote {
        Quote {
            number: QuoteNumber { year: 2026, seq: 7 },
            title: "Übersetzung".into(),
            items: vec![LineItem {
                description: "Fachübersetzung, 12 Seiten".into(),
                quantity: Quantity(1200),
                unit: "Seite".into(),
                unit_price: Money(4_250),
                vat_percent: 19,
            }],
            discount: Some(Discount::Percent(500)),
            notes: "Lieferung in 5 Werktagen".into(),
            date: Date {
                year: 2026,
                month: 12,
                day: 6,
            },
            valid_until: Date {
                year: 2027,
                month: 1,
                day: 5,
            },
            small_business: false,
        }
    }

    #[test]
    fn round_trips_through_json_and_refuses_tampered_totals() {
        let q = quote();
        let wire = WireQuote::new(&q, "ab", Some(QuoteNumber { year: 2026, seq: 6 }));
        let json = serde_json::to_value(&wire).unwrap();
        let back: WireQuote = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(
            back.into_quote().unwrap(),
            (q.clone(), Some(QuoteNumber { year: 2026, seq: 6 }))
        );

        let mut tampered = json.clone();
        tampered["totals"]["gross"] = serde_json::json!(1);
        let t: WireQuote = serde_json::from_value(tampered).unwrap();
        assert_eq!(t.into_quote(), Err(WireError::Totals));

        let mut newer = wire.clone();
        newer.version = 2;
        assert_eq!(newer.into_quote(), Err(WireError::Version(2)));
        let mut bad = wire;
        bad.number = "7".into();
        assert_eq!(bad.into_quote(), Err(WireError::Number));
    }
}
