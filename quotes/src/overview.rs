//! The quote overview: one row per quote with its status on a given day, filtered by
//! status and customer, with the totals a freelancer asks about ("what is still open,
//! what has been accepted").
//!
//! Pure computation over records the caller loaded (usually [`crate::store::QuoteStore::all`]),
//! so the UI, the CLI and an export list the same rows with the same totals.
//!
//! Decisions, written down once:
//! - rows are newest number first (the number is ascending per year, so that is also
//!   the order the quotes were written in);
//! - `open_total` and `accepted_total` add up the **filtered** rows, so "Müller, open"
//!   shows what Müller still has to decide;
//! - the counts per status apply only the customer filter, not the status filter: they
//!   label the status choices ("Accepted (3)"), which must not all read 0 but one as
//!   soon as a status is picked.

use crate::{Customer, Date, Money, QuoteNumber, QuoteRecord, Status};

/// Which quotes to list. The default lists all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// Only quotes with this status (on the overview's day).
    pub status: Option<Status>,
    /// Only quotes whose customer's name contains this text (case-insensitive), or
    /// whose customer's Matrix user id or contact id is exactly this. Blank: everyone.
    pub customer: Option<String>,
}

/// One quote in the overview.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Row {
    /// Its number.
    pub number: QuoteNumber,
    /// Written on.
    pub date: Date,
    /// For whom.
    pub customer: Customer,
    /// What it is about (the list shows it under the customer).
    pub title: String,
    /// Net + VAT.
    pub gross: Money,
    /// On the overview's day.
    pub status: Status,
    /// When the answer that counts (the latest) was given, ms since the Unix epoch.
    pub answered_at_ms: Option<u64>,
    /// The answer that counts came after the validity.
    pub late: bool,
}

/// The rows and their totals.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Overview {
    /// Newest number first.
    pub rows: Vec<Row>,
    /// Gross of the listed rows that are [`Status::Sent`] (waiting for an answer).
    pub open_total: Money,
    /// Gross of the listed rows that are [`Status::Accepted`].
    pub accepted_total: Money,
    /// How many quotes of the customer filter have each status, in [`Status::ALL`]
    /// order (see the module docs for why the status filter does not apply).
    pub counts: [(Status, usize); 6],
}

impl Overview {
    /// How many quotes of the customer filter have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    }
}

/// How a customer is matched.
enum Who<'a> {
    Anyone,
    /// The lower-cased query, and the query as typed for the ids.
    NameOrId {
        lower: String,
        exact: &'a str,
    },
    /// Only the ids, exactly.
    Id(&'a str),
}

impl Who<'_> {
    fn matches(&self, c: &Customer) -> bool {
        let id_is =
            |id: &str| c.user_id.as_deref() == Some(id) || c.contact_id.as_deref() == Some(id);
        match self {
            Who::Anyone => true,
            Who::NameOrId { lower, exact } => {
                id_is(exact) || c.name.to_lowercase().contains(lower.as_str())
            }
            Who::Id(id) => id_is(id),
        }
    }
}

/// The overview of `records` on `today` (the device's calendar day, which decides
/// what has expired), filtered by `filter`.
pub fn overview(records: &[QuoteRecord], filter: &Filter, today: Date) -> Overview {
    let who = match filter.customer.as_deref().map(str::trim) {
        None | Some("") => Who::Anyone,
        Some(query) => Who::NameOrId {
            lower: query.to_lowercase(),
            exact: query,
        },
    };
    build(records, &who, filter.status, today)
}

/// The overview of one customer's quotes (a contact's page): those whose Matrix user id
/// or contact id is exactly `id`. Unlike [`Filter::customer`] no name matches, so
/// "Anna" does not list Annabelle's quotes.
pub fn for_customer(records: &[QuoteRecord], id: &str, today: Date) -> Overview {
    build(records, &Who::Id(id), None, today)
}

fn build(records: &[QuoteRecord], who: &Who<'_>, status: Option<Status>, today: Date) -> Overview {
    let mut counts = Status::ALL.map(|s| (s, 0));
    let mut rows = Vec::new();
    let (mut open, mut accepted) = (0i64, 0i64);
    for record in records.iter().filter(|r| who.matches(&r.customer)) {
        let s = record.status(today);
        counts[Status::ALL.iter().position(|a| *a == s).unwrap_or(0)].1 += 1;
        if status.is_some_and(|wanted| wanted != s) {
            continue;
        }
        let gross = record.quote.totals().gross;
        match s {
            Status::Sent => open += gross.0,
            Status::Accepted => accepted += gross.0,
            _ => {}
        }
        let answer = record.current_answer();
        rows.push(Row {
            number: record.quote.number,
            date: record.quote.date,
            customer: record.customer.clone(),
            title: record.quote.title.clone(),
            gross,
            status: s,
            answered_at_ms: answer.map(|a| a.at_ms),
            late: answer.is_some_and(|a| a.late),
        });
    }
    rows.sort_unstable_by_key(|r| std::cmp::Reverse(r.number));
    Overview {
        rows,
        open_total: Money(open),
        accepted_total: Money(accepted),
        counts,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::answer::Answer;
    use crate::{LineItem, Quantity, Quote, Sent};

    const DAY: u64 = 86_400_000;
    /// 2026-12-01 00:00 UTC.
    const DEC_1: u64 = 1_796_083_200_000;

    fn date(day: u8) -> Date {
        Date {
            year: 2026,
            month: 12,
            day,
        }
    }

    /// A quote of `cents` net at 19 % written on 1 December, valid 14 days, sent
    /// unless `draft`.
    fn record(seq: u32, name: &str, user: &str, cents: i64, draft: bool) -> QuoteRecord {
        let quote = Quote {
            number: QuoteNumber { year: 2026, seq },
            title: format!("Auftrag {seq}"),
            items: vec![LineItem {
                description: "Beratung".into(),
                quantity: Quantity(100),
                unit: "Std.".into(),
                unit_price: Money(cents),
                vat_percent: 19,
            }],
            discount: None,
            notes: String::new(),
            date: date(1),
            valid_until: date(15),
            small_business: false,
        };
        let customer = Customer {
            name: name.into(),
            user_id: Some(user.into()),
            contact_id: Some(format!("contact-{user}")),
        };
        let mut r = QuoteRecord::new(quote, customer, String::new());
        if !draft {
            r.sent = Some(Sent {
                room_id: "!r:x".into(),
                event_id: format!("$q{seq}"),
                sender: "@anna:x".into(),
                counterparty: user.into(),
                at_ms: DEC_1,
            });
        }
        r
    }

    fn answered(mut r: QuoteRecord, answer: Answer, at_ms: u64) -> QuoteRecord {
        let by = r.sent.as_ref().unwrap().counterparty.clone();
        r.answer(&by, at_ms, answer, &format!("$a{at_ms}")).unwrap();
        r
    }

    /// Müller: 1 accepted (100 €), 3 sent (200 €), 5 declined; Özdemir: 2 sent (50 €),
    /// 4 accepted late (1000 €), 6 draft.
    fn records() -> Vec<QuoteRecord> {
        vec![
            answered(
                record(1, "Bäckerei Müller", "@mueller:x", 10_000, false),
                Answer::Accept,
                DEC_1 + DAY,
            ),
            record(2, "Praxis Özdemir", "@oez:x", 5_000, false),
            record(3, "Bäckerei Müller", "@mueller:x", 20_000, false),
            answered(
                record(4, "Praxis Özdemir", "@oez:x", 100_000, false),
                Answer::Accept,
                DEC_1 + 20 * DAY,
            ),
            answered(
                record(5, "Bäckerei Müller", "@mueller:x", 7_000, false),
                Answer::Decline,
                DEC_1 + 2 * DAY,
            ),
            record(6, "Praxis Özdemir", "@oez:x", 3_000, true),
        ]
    }

    fn seqs(o: &Overview) -> Vec<u32> {
        o.rows.iter().map(|r| r.number.seq).collect()
    }

    #[test]
    fn everything_newest_first_with_totals_and_counts() {
        let o = overview(&records(), &Filter::default(), date(10));
        assert_eq!(seqs(&o), [6, 5, 4, 3, 2, 1]);
        // Gross at 19 %: 238 € + 59,50 € open; 119 € + 1190 € accepted.
        assert_eq!(o.open_total, Money(23_800 + 5_950));
        assert_eq!(o.accepted_total, Money(11_900 + 119_000));
        assert_eq!(o.count(Status::Sent), 2);
        assert_eq!(o.count(Status::Accepted), 2);
        assert_eq!(o.count(Status::Declined), 1);
        assert_eq!(o.count(Status::Draft), 1);
        assert_eq!(o.count(Status::Expired), 0);
        assert_eq!(o.counts.iter().map(|c| c.1).sum::<usize>(), 6);
        let four = &o.rows[2];
        assert_eq!(four.status, Status::Accepted);
        assert_eq!(four.answered_at_ms, Some(DEC_1 + 20 * DAY));
        assert!(four.late, "answered after the validity");
        assert!(!o.rows[5].late);
        assert_eq!(o.rows[5].answered_at_ms, Some(DEC_1 + DAY));
        assert_eq!(o.rows[3].answered_at_ms, None);
        assert_eq!(o.rows[3].title, "Auftrag 3");
        assert_eq!(o.rows[3].date, date(1));
    }

    #[test]
    fn the_day_decides_what_is_expired_and_no_longer_open() {
        let o = overview(&records(), &Filter::default(), date(16));
        assert_eq!(o.count(Status::Sent), 0);
        assert_eq!(o.count(Status::Expired), 2);
        assert_eq!(o.open_total, Money(0));
    }

    #[test]
    fn status_filter_totals_the_listed_rows_and_keeps_the_counts() {
        let filter = Filter {
            status: Some(Status::Sent),
            customer: None,
        };
        let o = overview(&records(), &filter, date(10));
        assert_eq!(seqs(&o), [3, 2]);
        assert_eq!(o.open_total, Money(23_800 + 5_950));
        assert_eq!(o.accepted_total, Money(0), "no accepted row listed");
        assert_eq!(
            o.count(Status::Accepted),
            2,
            "counts ignore the status filter"
        );
    }

    #[test]
    fn customer_by_name_part_any_case_or_by_exact_id() {
        let by = |text: &str| {
            let filter = Filter {
                status: None,
                customer: Some(text.into()),
            };
            overview(&records(), &filter, date(10))
        };
        assert_eq!(seqs(&by("müller")), [5, 3, 1]);
        assert_eq!(seqs(&by(" BÄCKEREI ")), [5, 3, 1]);
        let oez = by("özdemir");
        assert_eq!(seqs(&oez), [6, 4, 2]);
        assert_eq!(oez.open_total, Money(5_950));
        assert_eq!(oez.accepted_total, Money(119_000));
        assert_eq!(oez.count(Status::Declined), 0);
        assert_eq!(oez.count(Status::Draft), 1);
        assert_eq!(seqs(&by("@oez:x")), [6, 4, 2]);
        assert_eq!(seqs(&by("contact-@mueller:x")), [5, 3, 1]);
        assert_eq!(
            seqs(&by("@oez")),
            [] as [u32; 0],
            "ids match exactly, not in part"
        );
        assert_eq!(seqs(&by("  ")).len(), 6, "blank lists everyone");
        let both = overview(
            &records(),
            &Filter {
                status: Some(Status::Accepted),
                customer: Some("Müller".into()),
            },
            date(10),
        );
        assert_eq!(seqs(&both), [1]);
        assert_eq!(both.accepted_total, Money(11_900));
    }

    #[test]
    fn one_customers_quotes_by_id_only() {
        let mut all = records();
        all.push(record(
            7,
            "Praxis Özdemir-Schulz",
            "@schulz:x",
            1_000,
            false,
        ));
        assert_eq!(seqs(&for_customer(&all, "@oez:x", date(10))), [6, 4, 2]);
        assert_eq!(
            seqs(&for_customer(&all, "contact-@oez:x", date(10))),
            [6, 4, 2]
        );
        assert_eq!(
            seqs(&for_customer(&all, "Praxis Özdemir", date(10))),
            [] as [u32; 0]
        );
        let o = overview(&[], &Filter::default(), date(10));
        assert!(o.rows.is_empty());
        assert_eq!(o.open_total, Money(0));
    }
}
