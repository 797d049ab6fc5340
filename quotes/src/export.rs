//! The quote list as CSV for the tax adviser: one row per quote with number, date,
//! customer, net, VAT, gross, status and when the current answer came.
//!
//! Decisions, all for the spreadsheet the file is opened in:
//! - **German** (`german = true`) is what German Excel reads on a double click: `;`
//!   separates fields (the comma is the decimal separator), amounts have a decimal comma
//!   (`1234,56`), dates are `31.12.2026`, the status is a German word (`Angenommen`), so
//!   the adviser filters on words they read.
//! - **English**: `,` and a decimal point (`1234.56`), ISO dates, the status as
//!   [`Status::name`] (`accepted`), stable for scripts.
//! - Amounts are plain numbers, no currency sign and no thousands separator, so they
//!   sum as numbers; all amounts are euro.
//! - "Answered at" is the current answer's server time in UTC, ISO 8601
//!   (`2026-12-10T14:03:05Z`), empty without an answer.
//! - RFC 4180 quoting (a field with the separator, `"`, CR or LF is quoted, `"` doubled),
//!   CRLF line ends, and a UTF-8 byte-order mark: without it Excel reads the file as
//!   Windows-1252 and "Müller" becomes "MÃ¼ller".
//! - A text field beginning with `=`, `+`, `-`, `@`, tab or CR gets a leading `'`:
//!   customer names come from chats, which anyone can name, and Excel would run such a
//!   field as a formula (CSV injection).

use crate::{Date, Money, QuoteRecord, Status};

/// The CSV of `records` in their order, with the status as of `today`.
pub fn csv(records: &[QuoteRecord], today: Date, german: bool) -> String {
    let sep = if german { ';' } else { ',' };
    let header: [&str; 8] = if german {
        [
            "Nummer",
            "Datum",
            "Kunde",
            "Netto",
            "USt.",
            "Brutto",
            "Status",
            "Antwort am (UTC)",
        ]
    } else {
        [
            "Number",
            "Date",
            "Customer",
            "Net",
            "VAT",
            "Gross",
            "Status",
            "Answered at (UTC)",
        ]
    };
    let mut out = String::from("\u{feff}");
    push_row(&mut out, sep, header.map(str::to_owned));
    for r in records {
        let totals = r.quote.totals();
        let status = r.status(today);
        push_row(
            &mut out,
            sep,
            [
                text(&r.quote.number.to_string()),
                r.quote.date.format(german),
                text(&r.customer.name),
                amount(totals.net, german),
                amount(totals.vat, german),
                amount(totals.gross, german),
                if german {
                    status_de(status).to_owned()
                } else {
                    status.name().to_owned()
                },
                r.current_answer()
                    .map(|a| iso_utc(a.at_ms))
                    .unwrap_or_default(),
            ],
        );
    }
    out
}

fn push_row(out: &mut String, sep: char, fields: [String; 8]) {
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            out.push(sep);
        }
        if field.contains([sep, '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&field.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(field);
        }
    }
    out.push_str("\r\n");
}

/// A text field, defused against formula evaluation.
fn text(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// `1234,56` / `1234.56` (and `-5,00` for a negative amount).
fn amount(m: Money, german: bool) -> String {
    let sign = if m.0 < 0 { "-" } else { "" };
    let abs = m.0.unsigned_abs();
    let sep = if german { ',' } else { '.' };
    format!("{sign}{}{sep}{:02}", abs / 100, abs % 100)
}

/// The status as a German word.
fn status_de(s: Status) -> &'static str {
    match s {
        Status::Draft => "Entwurf",
        Status::Sent => "Offen",
        Status::Accepted => "Angenommen",
        Status::Declined => "Abgelehnt",
        Status::Expired => "Abgelaufen",
        Status::Replaced => "Ersetzt",
    }
}

/// `2026-12-10T14:03:05Z`.
fn iso_utc(ms: u64) -> String {
    let day = Date::from_unix_ms(ms);
    let secs = (ms / 1000) % 86_400;
    format!(
        "{}T{:02}:{:02}:{:02}Z",
        day.format(false),
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Customer, LineItem, Quantity, Quote, QuoteNumber, Sent, answer::Answer};

    fn record(seq: u32, customer: &str, cents: i64) -> QuoteRecord {
        let quote = Quote {
            number: QuoteNumber { year: 2026, seq },
            title: "Praxisumbau".into(),
            items: vec![LineItem {
                description: "Fliesen".into(),
                quantity: Quantity(100),
                unit: "m²".into(),
                unit_price: Money(cents),
                vat_percent: 19,
            }],
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
        };
        let customer = Customer {
            name: customer.into(),
            ..Customer::default()
        };
        QuoteRecord::new(quote, customer, "00".into())
    }

    fn sent(mut r: QuoteRecord) -> QuoteRecord {
        r.sent = Some(Sent {
            room_id: "!r:x".into(),
            event_id: "$q".into(),
            sender: "@anna:x".into(),
            counterparty: "@kunde:x".into(),
            at_ms: 1_796_000_000_000,
        });
        r
    }

    fn sample() -> Vec<QuoteRecord> {
        let mut accepted = sent(record(7, "Bäckerei \"Zum Korn\"; Filiale\nNord", 123_456));
        // 2026-12-10 14:03:05 UTC.
        accepted
            .answer("@kunde:x", 1_796_911_385_000, Answer::Accept, "$a")
            .unwrap();
        vec![
            accepted,
            record(8, "=HYPERLINK(\"x\")", 1_000_000),
            sent(record(9, "Anna", 5)),
        ]
    }

    #[test]
    fn german_excel_gets_semicolons_decimal_commas_and_german_words() {
        let csv = csv(
            &sample(),
            Date {
                year: 2027,
                month: 1,
                day: 5,
            },
            true,
        );
        let expected = "\u{feff}Nummer;Datum;Kunde;Netto;USt.;Brutto;Status;Antwort am (UTC)\r\n\
            A-2026-0007;01.12.2026;\"Bäckerei \"\"Zum Korn\"\"; Filiale\nNord\";1234,56;234,57;1469,13;Angenommen;2026-12-10T14:03:05Z\r\n\
            A-2026-0008;01.12.2026;\"'=HYPERLINK(\"\"x\"\")\";10000,00;1900,00;11900,00;Entwurf;\r\n\
            A-2026-0009;01.12.2026;Anna;0,05;0,01;0,06;Abgelaufen;\r\n";
        assert_eq!(csv, expected);
    }

    #[test]
    fn english_gets_commas_decimal_points_and_stable_names() {
        let csv = csv(
            &sample(),
            Date {
                year: 2026,
                month: 12,
                day: 20,
            },
            false,
        );
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert_eq!(
            lines[0],
            "\u{feff}Number,Date,Customer,Net,VAT,Gross,Status,Answered at (UTC)"
        );
        assert_eq!(
            lines[1],
            "A-2026-0007,2026-12-01,\"Bäckerei \"\"Zum Korn\"\"; Filiale\nNord\",1234.56,234.57,1469.13,accepted,2026-12-10T14:03:05Z"
        );
        assert_eq!(
            lines[2],
            "A-2026-0008,2026-12-01,\"'=HYPERLINK(\"\"x\"\")\",10000.00,1900.00,11900.00,draft,"
        );
        assert_eq!(lines[3], "A-2026-0009,2026-12-01,Anna,0.05,0.01,0.06,sent,");
        assert_eq!(lines[4], "", "the last row ends with CRLF too");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn negative_amounts_and_midnight() {
        assert_eq!(amount(Money(-505), true), "-5,05");
        assert_eq!(amount(Money(0), false), "0.00");
        assert_eq!(iso_utc(1_798_761_600_000), "2027-01-01T00:00:00Z");
        for s in Status::ALL {
            assert!(!status_de(s).is_empty());
        }
    }
}
