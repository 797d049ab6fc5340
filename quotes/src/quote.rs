//! A quote, its totals and its checks.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    Money, Quantity, QuoteNumber,
    money::{LIMIT, round_half_up},
};

/// The sentence a quote of a small business must carry instead of VAT (§ 19 UStG).
pub const SMALL_BUSINESS_NOTE: &str =
    "Gemäß § 19 UStG wird keine Umsatzsteuer berechnet (Kleinunternehmerregelung).";

/// The VAT rates of a German quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum VatRate {
    /// 19 %.
    Standard,
    /// 7 % (books, some food, …).
    Reduced,
    /// 0 % (e.g. tax-exempt medical services).
    Zero,
}

impl VatRate {
    /// In percent.
    pub fn percent(self) -> i64 {
        match self {
            VatRate::Standard => 19,
            VatRate::Reduced => 7,
            VatRate::Zero => 0,
        }
    }

    /// From a percentage as typed or stored; any other is an unknown rate.
    pub fn from_percent(p: i64) -> Option<VatRate> {
        match p {
            19 => Some(VatRate::Standard),
            7 => Some(VatRate::Reduced),
            0 => Some(VatRate::Zero),
            _ => None,
        }
    }
}

/// A calendar date (the quote's validity), without a time zone. In JSON it is ISO 8601,
/// `"2026-12-31"`, as scripts and other programs expect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    /// Year.
    pub year: u16,
    /// 1–12.
    pub month: u8,
    /// 1–31.
    pub day: u8,
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.format(false))
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        let mut parts = text.splitn(3, '-');
        let mut next = || parts.next().and_then(|p| p.parse::<u16>().ok());
        match (next(), next(), next()) {
            (Some(year), Some(month @ 1..=12), Some(day @ 1..=31)) => Ok(Date {
                year,
                month: month as u8,
                day: day as u8,
            }),
            _ => Err(serde::de::Error::custom("not a date like 2026-12-31")),
        }
    }
}

impl Date {
    /// `31.12.2026` (German) or `2026-12-31`.
    pub fn format(self, german: bool) -> String {
        if german {
            format!("{:02}.{:02}.{}", self.day, self.month, self.year)
        } else {
            format!("{}-{:02}-{:02}", self.year, self.month, self.day)
        }
    }
}

/// One line of the quote.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineItem {
    /// What is offered.
    pub description: String,
    /// How many (hundredths).
    pub quantity: Quantity,
    /// `Std.`, `Stück`, `m²` … (free text).
    pub unit: String,
    /// Net price per unit.
    pub unit_price: Money,
    /// The VAT rate, as a percentage (checked against the known rates).
    pub vat_percent: i64,
}

impl LineItem {
    /// Quantity × unit price, rounded half up to the cent.
    pub fn net(&self) -> Money {
        Money(round_half_up(
            i128::from(self.quantity.0) * i128::from(self.unit_price.0),
            100,
        ) as i64)
    }
}

/// A discount on the whole quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Discount {
    /// A percentage in hundredths of a percent (`250` = 2.5 %), taken off each rate's net.
    Percent(i64),
}

/// A quote as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Quote {
    /// Its number.
    pub number: QuoteNumber,
    /// What it is about.
    pub title: String,
    /// The lines, in order.
    pub items: Vec<LineItem>,
    /// An optional discount.
    pub discount: Option<Discount>,
    /// Free text under the table.
    pub notes: String,
    /// Written on.
    pub date: Date,
    /// Valid until.
    pub valid_until: Date,
    /// The freelancer is a small business (§ 19 UStG): no VAT.
    pub small_business: bool,
}

/// The net, VAT and gross of one rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RateTotal {
    /// The rate.
    pub rate: VatRate,
    /// The net of the lines with this rate, after the discount.
    pub net: Money,
    /// VAT on that net, rounded half up to the cent (0 for a small business).
    pub vat: Money,
}

/// What a quote adds up to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// The sum of the lines before the discount.
    pub lines_net: Money,
    /// The discount (positive: taken off).
    pub discount: Money,
    /// Per rate, highest rate first.
    pub per_rate: Vec<RateTotal>,
    /// Net after the discount.
    pub net: Money,
    /// All VAT.
    pub vat: Money,
    /// Net + VAT.
    pub gross: Money,
}

/// What is wrong with a quote, naming the field, so the form can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FieldError {
    /// A quote needs at least one line.
    #[error("the quote has no items")]
    NoItems,
    /// A line without a description.
    #[error("item {item}: no description")]
    NoDescription {
        /// The line, from 1.
        item: usize,
    },
    /// Quantity zero or negative.
    #[error("item {item}: the quantity must be more than 0")]
    Quantity {
        /// The line, from 1.
        item: usize,
    },
    /// A unit price below 0 or beyond the limit.
    #[error("item {item}: the price is out of range")]
    Price {
        /// The line, from 1.
        item: usize,
    },
    /// A VAT rate other than 19, 7 or 0 %.
    #[error("item {item}: unknown VAT rate {percent} %")]
    VatRate {
        /// The line, from 1.
        item: usize,
        /// As given.
        percent: i64,
    },
    /// A discount not between 0 and 100 %.
    #[error("the discount must be between 0 and 100 %")]
    Discount,
    /// Valid until a day before the quote's date.
    #[error("the validity lies in the past")]
    ValidityInPast,
    /// No title.
    #[error("the quote has no title")]
    NoTitle,
}

impl Quote {
    /// Every problem, in the order of the form; empty when the quote may be rendered
    /// and sent. (Typed amounts with more than two decimals are refused earlier, by
    /// [`Money::parse`] and [`Quantity::parse`].)
    pub fn check(&self) -> Vec<FieldError> {
        let mut problems = Vec::new();
        if self.title.trim().is_empty() {
            problems.push(FieldError::NoTitle);
        }
        if self.items.is_empty() {
            problems.push(FieldError::NoItems);
        }
        for (i, item) in self.items.iter().enumerate() {
            let n = i + 1;
            if item.description.trim().is_empty() {
                problems.push(FieldError::NoDescription { item: n });
            }
            if item.quantity.0 <= 0 || item.quantity.0 > LIMIT {
                problems.push(FieldError::Quantity { item: n });
            }
            if item.unit_price.0 < 0 || item.unit_price.0 > LIMIT {
                problems.push(FieldError::Price { item: n });
            }
            if VatRate::from_percent(item.vat_percent).is_none() {
                problems.push(FieldError::VatRate {
                    item: n,
                    percent: item.vat_percent,
                });
            }
        }
        if let Some(Discount::Percent(p)) = self.discount
            && !(0..=10_000).contains(&p)
        {
            problems.push(FieldError::Discount);
        }
        if self.valid_until < self.date {
            problems.push(FieldError::ValidityInPast);
        }
        problems
    }

    /// The totals: each rate's net (after the discount, rounded half up to the cent),
    /// VAT per rate on that net, rounded half up; no VAT for a small business. Lines
    /// with an unknown rate count as 19 % here; [`Quote::check`] refuses them first.
    pub fn totals(&self) -> Totals {
        let mut by_rate: BTreeMap<VatRate, i128> = BTreeMap::new();
        for item in &self.items {
            let rate = VatRate::from_percent(item.vat_percent).unwrap_or(VatRate::Standard);
            *by_rate.entry(rate).or_default() += i128::from(item.net().0);
        }
        let lines_net: i128 = by_rate.values().sum();
        let mut per_rate = Vec::new();
        let (mut net, mut vat) = (0i128, 0i128);
        for (rate, rate_net) in by_rate {
            let after = match self.discount {
                Some(Discount::Percent(p)) => {
                    rate_net - round_half_up(rate_net * i128::from(p), 10_000)
                }
                None => rate_net,
            };
            let rate_vat = if self.small_business {
                0
            } else {
                round_half_up(after * i128::from(rate.percent()), 100)
            };
            net += after;
            vat += rate_vat;
            per_rate.push(RateTotal {
                rate,
                net: Money(after as i64),
                vat: Money(rate_vat as i64),
            });
        }
        Totals {
            lines_net: Money(lines_net as i64),
            discount: Money((lines_net - net) as i64),
            per_rate,
            net: Money(net as i64),
            vat: Money(vat as i64),
            gross: Money((net + vat) as i64),
        }
    }
}

impl Quote {
    /// The caption a person reads in any Matrix client under the quote's PDF, e.g.
    /// "Angebot A-2026-0007 über 1.234,56 €, gültig bis 31.12.2026" (German) or "Quote
    /// A-2026-0007 for €1,234.56, valid until 2026-12-31" (English): the gross amount,
    /// so the customer sees at once what they are asked to accept.
    pub fn caption(&self, german: bool) -> String {
        let gross = self.totals().gross.format(german);
        let until = self.valid_until.format(german);
        if german {
            format!("Angebot {} über {gross}, gültig bis {until}", self.number)
        } else {
            format!("Quote {} for {gross}, valid until {until}", self.number)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn item(qty: i64, price: i64, vat: i64) -> LineItem {
        LineItem {
            description: "Behandlung".into(),
            quantity: Quantity(qty),
            unit: "Std.".into(),
            unit_price: Money(price),
            vat_percent: vat,
        }
    }

    fn quote(items: Vec<LineItem>) -> Quote {
        Quote {
            number: QuoteNumber { year: 2026, seq: 7 },
            title: "Praxisumbau".into(),
            items,
            discount: None,
            notes: String::new(),
            date: Date {
                year: 2026,
                month: 12,
                day: 1,
            },
            valid_until: Date {
                year: 2026,
                month: 12,
                day: 31,
            },
            small_business: false,
        }
    }

    #[test]
    fn vat_per_rate_on_the_net_sum_rounded_half_up() {
        // Three lines at 19 %: 0,35 € + 0,35 € + 0,35 € = 1,05 €; VAT on the sum is
        // 0,1995 → 0,20 € (per line it would be 3 × 0,07 = 0,21 €).
        let q = quote(vec![
            item(100, 35, 19),
            item(100, 35, 19),
            item(100, 35, 19),
            item(150, 1999, 7),
        ]);
        let t = q.totals();
        assert_eq!(
            t.per_rate[0],
            RateTotal {
                rate: VatRate::Standard,
                net: Money(105),
                vat: Money(20)
            }
        );
        // 1,5 × 19,99 € = 29,985 → 29,99 €; 7 % = 2,0993 → 2,10 €.
        assert_eq!(
            t.per_rate[1],
            RateTotal {
                rate: VatRate::Reduced,
                net: Money(2999),
                vat: Money(210)
            }
        );
        assert_eq!(
            (t.net, t.vat, t.gross),
            (Money(3104), Money(230), Money(3334))
        );
        assert_eq!(t.gross.format(true), "33,34 €");
    }

    #[test]
    fn the_caption_reads_in_element() {
        let q = quote(vec![item(100, 103_744, 19)]);
        assert_eq!(
            q.caption(true),
            "Angebot A-2026-0007 über 1.234,55 €, gültig bis 31.12.2026"
        );
        assert_eq!(
            q.caption(false),
            "Quote A-2026-0007 for €1,234.55, valid until 2026-12-31"
        );
    }

    #[test]
    fn a_small_business_charges_no_vat() {
        let mut q = quote(vec![item(200, 6000, 19)]);
        q.small_business = true;
        let t = q.totals();
        assert_eq!(
            (t.net, t.vat, t.gross),
            (Money(12_000), Money(0), Money(12_000))
        );
        assert!(SMALL_BUSINESS_NOTE.contains("§ 19 UStG"));
    }

    #[test]
    fn a_discount_comes_off_each_rate_before_vat() {
        let mut q = quote(vec![item(100, 10_000, 19), item(100, 3_333, 7)]);
        q.discount = Some(Discount::Percent(1000)); // 10 %
        let t = q.totals();
        assert_eq!(t.lines_net, Money(13_333));
        assert_eq!(t.per_rate[0].net, Money(9_000));
        // 33,33 € − 3,333 → 3,33 € = 30,00 €.
        assert_eq!(t.per_rate[1].net, Money(3_000));
        assert_eq!(t.discount, Money(1_333));
        assert_eq!(t.vat, Money(1_710 + 210));
    }

    #[test]
    fn problems_name_their_field() {
        let mut q = quote(vec![item(0, 100, 19), item(100, -1, 16)]);
        q.valid_until = Date {
            year: 2026,
            month: 11,
            day: 30,
        };
        q.title = " ".into();
        assert_eq!(
            q.check(),
            [
                FieldError::NoTitle,
                FieldError::Quantity { item: 1 },
                FieldError::Price { item: 2 },
                FieldError::VatRate {
                    item: 2,
                    percent: 16
                },
                FieldError::ValidityInPast,
            ]
        );
        assert_eq!(quote(vec![]).check(), [FieldError::NoItems]);
        assert!(quote(vec![item(100, 100, 7)]).check().is_empty());
    }

    proptest! {
        /// Whatever the lines, the totals add up exactly: gross = net + VAT, the
        /// rates' nets and VATs sum to the totals, and each rate's VAT is within half a
        /// cent of the exact value.
        #[test]
        fn totals_add_up(lines in prop::collection::vec((1i64..100_000, 0i64..1_000_000, prop::sample::select(vec![0i64, 7, 19])), 1..40),
                         discount in prop::option::of(0i64..=10_000),
                         small in any::<bool>()) {
            let mut q = quote(lines.iter().map(|&(qty, price, vat)| item(qty, price, vat)).collect());
            q.discount = discount.map(Discount::Percent);
            q.small_business = small;
            prop_assert!(q.check().is_empty());
            let t = q.totals();
            prop_assert_eq!(t.gross.0, t.net.0 + t.vat.0);
            prop_assert_eq!(t.per_rate.iter().map(|r| r.net.0).sum::<i64>(), t.net.0);
            prop_assert_eq!(t.per_rate.iter().map(|r| r.vat.0).sum::<i64>(), t.vat.0);
            prop_assert_eq!(t.lines_net.0 - t.discount.0, t.net.0);
            for r in &t.per_rate {
                let exact = r.net.0 as f64 * r.rate.percent() as f64 / 100.0;
                let want = if small { 0.0 } else { exact };
                prop_assert!((r.vat.0 as f64 - want).abs() <= 0.5 + 1e-9, "{r:?}");
            }
        }
    }
}
