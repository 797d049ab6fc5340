//! A quote as typed: strings from the form or from a script's JSON/TOML file, turned
//! into a checked [`Quote`] with every problem named by its field.
//!
//! Why strings: the form shows what the user typed until it is valid ("1.234,5" is
//! ambiguous in no locale but "1.234" is, and must be refused rather than guessed), and a
//! script's file should read like the form ("85,00" or "85.00"), not like cents. Both
//! faces go through [`DraftInput::to_quote`], so the CLI refuses exactly what the form
//! refuses.

use kontor_quotes::{
    BusinessDetails, Date, DetailsError, Discount, FieldError, LineItem, Money, Quantity, Quote,
    QuoteNumber,
};
use serde::{Deserialize, Serialize};

/// One line as typed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DraftItem {
    /// What is offered.
    pub description: String,
    /// "2", "1,5", "0.25".
    pub quantity: String,
    /// "Std.", "Stück", "m²".
    pub unit: String,
    /// Net per unit: "85", "1.234,56", "1,234.56".
    pub unit_price: String,
    /// 19, 7 or 0.
    pub vat: i64,
}

/// A quote as typed (the form's fields, or a script's file).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DraftInput {
    /// What it is about.
    pub title: String,
    /// The lines.
    pub items: Vec<DraftItem>,
    /// Discount in percent ("5", "2,5"); empty for none.
    pub discount: String,
    /// Free text under the table.
    pub notes: String,
    /// "31.12.2026" or "2026-12-31"; empty: today + the default validity.
    pub valid_until: String,
}

/// A problem of the draft, naming the field so the form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DraftError {
    /// The quantity of line `item` (from 1) is not a number with at most two decimals.
    #[error("item {item}: the quantity is not a number with at most two decimals")]
    QuantityFormat {
        /// The line, from 1.
        item: usize,
    },
    /// The unit price of line `item` is not an amount with at most two decimals.
    #[error("item {item}: the price is not an amount with at most two decimals")]
    PriceFormat {
        /// The line, from 1.
        item: usize,
    },
    /// The discount is not a percentage.
    #[error("the discount is not a percentage")]
    DiscountFormat,
    /// The validity date is not a date.
    #[error("the validity is not a date (31.12.2026 or 2026-12-31)")]
    DateFormat,
    /// The validity lies before today.
    #[error("the validity lies in the past")]
    ValidityInPast,
    /// A rule of the quote itself.
    #[error(transparent)]
    Field(FieldError),
    /// The business details are incomplete: no quote can carry them yet.
    #[error("business details: {0}")]
    Details(DetailsError),
}

impl DraftInput {
    /// The checked quote numbered `number`, written `today` with `details` (validity
    /// default, § 19), or every problem (the details' first, then the form's order).
    pub fn to_quote(
        &self,
        number: QuoteNumber,
        today: Date,
        details: &BusinessDetails,
    ) -> Result<Quote, Vec<DraftError>> {
        let mut problems: Vec<DraftError> = details
            .check()
            .into_iter()
            .map(DraftError::Details)
            .collect();
        let (quote, mut own) = self.parse(number, today, details);
        problems.append(&mut own);
        if quote.valid_until < today {
            problems.push(DraftError::ValidityInPast);
        }
        problems.extend(
            quote
                .check()
                .into_iter()
                // Said above, relative to today, which is what the user means.
                .filter(|p| *p != FieldError::ValidityInPast)
                .map(DraftError::Field),
        );
        if problems.is_empty() {
            Ok(quote)
        } else {
            Err(problems)
        }
    }

    /// The quote as far as it can be read, for the form's live totals (lines that do not
    /// parse count as zero), and the format problems.
    pub fn parse(
        &self,
        number: QuoteNumber,
        today: Date,
        details: &BusinessDetails,
    ) -> (Quote, Vec<DraftError>) {
        let mut problems = Vec::new();
        let mut items = Vec::with_capacity(self.items.len());
        for (i, it) in self.items.iter().enumerate() {
            let item = i + 1;
            let quantity = Quantity::parse(&it.quantity).unwrap_or_else(|_| {
                problems.push(DraftError::QuantityFormat { item });
                Quantity(0)
            });
            let unit_price = Money::parse(&it.unit_price).unwrap_or_else(|_| {
                problems.push(DraftError::PriceFormat { item });
                Money(0)
            });
            items.push(LineItem {
                description: it.description.trim().to_owned(),
                quantity,
                unit: it.unit.trim().to_owned(),
                unit_price,
                vat_percent: it.vat,
            });
        }
        let discount = match self.discount.trim() {
            "" => None,
            d => match Quantity::parse(d.trim_end_matches('%').trim()) {
                // Hundredths of a percent, as Discount::Percent takes them.
                Ok(Quantity(p)) => Some(Discount::Percent(p)),
                Err(_) => {
                    problems.push(DraftError::DiscountFormat);
                    None
                }
            },
        };
        let valid_until = match self.valid_until.trim() {
            "" => today.plus_days(u32::from(details.validity_days.max(1))),
            d => parse_date(d).unwrap_or_else(|| {
                problems.push(DraftError::DateFormat);
                today
            }),
        };
        let quote = Quote {
            number,
            title: self.title.trim().to_owned(),
            items,
            discount,
            notes: self.notes.trim().to_owned(),
            date: today,
            valid_until,
            small_business: details.small_business,
        };
        (quote, problems)
    }
}

/// `31.12.2026` or `2026-12-31`, a real calendar day.
pub fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let (y, m, d) = if let Some((d, rest)) = s.split_once('.') {
        let (m, y) = rest.split_once('.')?;
        (y, m, d)
    } else {
        let mut parts = s.splitn(3, '-');
        (parts.next()?, parts.next()?, parts.next()?)
    };
    let date = Date {
        year: y
            .trim()
            .parse()
            .ok()
            .filter(|y| (2000..=2999).contains(y))?,
        month: m.trim().parse().ok()?,
        day: d.trim().parse().ok()?,
    };
    // A real day: it survives the round trip through the calendar.
    let days_in_month = match date.month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if date.year.is_multiple_of(4)
            && (!date.year.is_multiple_of(100) || date.year.is_multiple_of(400)) =>
        {
            29
        }
        2 => 28,
        _ => return None,
    };
    (1..=days_in_month).contains(&date.day).then_some(date)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn details() -> BusinessDetails {
        BusinessDetails {
            name: "Malerbetrieb Groß".into(),
            address: "Lindenstraße 3\n50674 Köln".into(),
            tax_id: "214/5678/9012".into(),
            ..BusinessDetails::new()
        }
    }

    const TODAY: Date = Date {
        year: 2026,
        month: 12,
        day: 6,
    };
    const NUMBER: QuoteNumber = QuoteNumber { year: 2026, seq: 7 };

    fn draft() -> DraftInput {
        DraftInput {
            title: "Wohnzimmer streichen".into(),
            items: vec![
                DraftItem {
                    description: "Wände, zweimal".into(),
                    quantity: "42,5".into(),
                    unit: "m²".into(),
                    unit_price: "12,80".into(),
                    vat: 19,
                },
                DraftItem {
                    description: "Anfahrt".into(),
                    quantity: "1".into(),
                    unit: "".into(),
                    unit_price: "35".into(),
                    vat: 19,
                },
            ],
            ..DraftInput::default()
        }
    }

    #[test]
    fn a_typed_quote_becomes_a_checked_one_valid_for_the_default_days() {
        let q = draft().to_quote(NUMBER, TODAY, &details()).unwrap();
        assert_eq!(q.items[0].quantity, Quantity(4250));
        assert_eq!(q.items[0].unit_price, Money(1280));
        assert_eq!(q.valid_until, TODAY.plus_days(30));
        // 42.5 × 12.80 = 544.00, + 35 = 579.00 net, 110.01 VAT.
        assert_eq!(q.totals().gross, Money(68_901));
    }

    #[test]
    fn every_problem_names_its_field() {
        let mut d = draft();
        d.items[0].quantity = "1,234".into();
        d.items[1].unit_price = "zehn".into();
        d.items[1].vat = 16;
        d.discount = "viel".into();
        d.valid_until = "31.02.2027".into();
        let problems = d
            .to_quote(NUMBER, TODAY, &BusinessDetails::new())
            .unwrap_err();
        assert_eq!(
            problems,
            vec![
                DraftError::Details(DetailsError::Name),
                DraftError::Details(DetailsError::Address),
                DraftError::Details(DetailsError::TaxId),
                DraftError::QuantityFormat { item: 1 },
                DraftError::PriceFormat { item: 2 },
                DraftError::DiscountFormat,
                DraftError::DateFormat,
                DraftError::Field(FieldError::Quantity { item: 1 }),
                DraftError::Field(FieldError::VatRate {
                    item: 2,
                    percent: 16
                }),
            ]
        );
        let mut past = draft();
        past.valid_until = "2026-12-05".into();
        assert_eq!(
            past.to_quote(NUMBER, TODAY, &details()).unwrap_err(),
            vec![DraftError::ValidityInPast]
        );
        let empty = DraftInput {
            title: "x".into(),
            ..DraftInput::default()
        };
        assert_eq!(
            empty.to_quote(NUMBER, TODAY, &details()).unwrap_err(),
            vec![DraftError::Field(FieldError::NoItems)]
        );
    }

    #[test]
    fn discount_and_dates_in_both_spellings() {
        let mut d = draft();
        d.discount = "2,5 %".into();
        d.valid_until = "2027-01-15".into();
        let q = d.to_quote(NUMBER, TODAY, &details()).unwrap();
        assert_eq!(q.discount, Some(Discount::Percent(250)));
        assert_eq!(parse_date("15.01.2027"), Some(q.valid_until));
        assert_eq!(parse_date("29.02.2028").map(|d| d.day), Some(29));
        assert_eq!(parse_date("29.02.2027"), None);
        assert_eq!(parse_date("2027-13-01"), None);
    }
}
