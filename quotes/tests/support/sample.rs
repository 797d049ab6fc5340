//! Sample quotes for the PDF test, the bench and the screenshot example (included with
//! `#[path]`, so all three render the same documents).

#![allow(dead_code)]

use kontor_quotes::{
    BusinessDetails, Customer, Date, Discount, LineItem, Money, Quantity, Quote, QuoteNumber,
};

/// A painter's letterhead, with umlauts and ß; `bank` adds IBAN and BIC (GiroCode).
pub fn details(bank: bool) -> BusinessDetails {
    BusinessDetails {
        name: "Malerbetrieb Jörg Weiß".into(),
        address: "Große Straße 12\n10115 Berlin".into(),
        contact: "Tel. 030 1234567 · joerg@weiss-maler.de".into(),
        tax_id: "12/345/67890".into(),
        iban: if bank {
            "DE89 3704 0044 0532 0130 00".into()
        } else {
            String::new()
        },
        bic: if bank {
            "COBADEFFXXX".into()
        } else {
            String::new()
        },
        payment_terms: "Zahlbar innerhalb von 14 Tagen nach Rechnungsstellung ohne Abzug.".into(),
        ..BusinessDetails::new()
    }
}

/// A small PNG logo (a painter's roller and brush strokes, 240 × 80 px, 459 bytes).
pub const LOGO: &[u8] = include_bytes!("logo.png");

/// [`details`] with the logo.
pub fn details_with_logo(bank: bool) -> BusinessDetails {
    BusinessDetails {
        logo: Some(LOGO.to_vec()),
        ..details(bank)
    }
}

/// The customer.
pub fn customer() -> Customer {
    Customer {
        name: "Bäckerei Müller & Söhne GmbH".into(),
        user_id: Some("@mueller:example.org".into()),
        contact_id: None,
    }
}

fn item(description: &str, quantity: i64, unit: &str, cents: i64, vat: i64) -> LineItem {
    LineItem {
        description: description.into(),
        quantity: Quantity(quantity),
        unit: unit.into(),
        unit_price: Money(cents),
        vat_percent: vat,
    }
}

/// A one-page quote: two VAT rates, a long description, a discount, notes.
pub fn quote(german: bool) -> Quote {
    let items = if german {
        vec![
            item(
                "Wände spachteln und schleifen, Größe ca. 85 m², Straßenseite",
                8_500,
                "m²",
                1_250,
                19,
            ),
            item(
                "Decke streichen mit Dispersionsfarbe (weiß, zweimal), inklusive Abdecken des Bodens und der Einrichtung sowie Reinigung nach Abschluss der Arbeiten",
                100,
                "pauschal",
                123_456,
                19,
            ),
            item(
                "Fußleisten aus Eiche, Lieferung und Montage",
                3_450,
                "m",
                1_890,
                19,
            ),
            item("Fachbuch „Farbe im Laden“", 100, "Stück", 2_990, 7),
        ]
    } else {
        vec![
            item(
                "Fill and sand the walls, size approx. 85 m², street side (Straßenseite)",
                8_500,
                "m²",
                1_250,
                19,
            ),
            item(
                "Paint the ceiling with emulsion paint (white, two coats), including covering the floor and the furniture and cleaning up after the work",
                100,
                "flat",
                123_456,
                19,
            ),
            item(
                "Oak skirting boards, delivery and fitting",
                3_450,
                "m",
                1_890,
                19,
            ),
            item("Book “Colour in the shop”", 100, "pc", 2_990, 7),
        ]
    };
    Quote {
        number: QuoteNumber { year: 2026, seq: 7 },
        title: if german {
            "Renovierung des Verkaufsraums, Größe ca. 85 m² – Fußböden bleiben".into()
        } else {
            "Renovation of the shop floor (Größe approx. 85 m²) – floors stay".into()
        },
        items,
        discount: Some(Discount::Percent(300)),
        notes: if german {
            "Die Arbeiten dauern etwa vier Werktage. Möbel räumen wir gerne gegen Aufpreis.".into()
        } else {
            "The work takes about four working days. We move furniture on request for a fee.".into()
        },
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

/// A quote of `n` items, to see the table run over pages.
pub fn long_quote(n: usize) -> Quote {
    let mut q = quote(true);
    q.items = (1..=n)
        .map(|i| {
            let text = if i % 7 == 0 {
                format!("Posten {i}: Türrahmen schleifen, grundieren und zweimal lackieren (Größe 2,10 × 0,90 m), Beschläge abkleben")
            } else {
                format!("Posten {i}: Wandfläche streichen, Raum {}", i % 5 + 1)
            };
            item(&text, 100 + i as i64 * 25, "m²", 990 + i as i64 * 37, if i % 10 == 0 { 7 } else { 19 })
        })
        .collect();
    q
}
