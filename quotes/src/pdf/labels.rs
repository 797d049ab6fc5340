//! The words printed on a quote, in German and English. They live here and not in the
//! app's gettext catalogues because the PDF is rendered by this crate, also by the CLI,
//! and a quote's language is the customer's, not the UI's.

use crate::{Date, Quantity};

/// Every fixed text of the PDF in one language.
pub(crate) struct Labels {
    pub(crate) german: bool,
    pub(crate) quote: &'static str,
    pub(crate) quote_for: &'static str,
    pub(crate) number: &'static str,
    pub(crate) date: &'static str,
    pub(crate) valid_until: &'static str,
    pub(crate) pos: &'static str,
    pub(crate) description: &'static str,
    pub(crate) quantity: &'static str,
    pub(crate) unit: &'static str,
    pub(crate) unit_price: &'static str,
    pub(crate) vat: &'static str,
    pub(crate) total: &'static str,
    pub(crate) subtotal: &'static str,
    pub(crate) discount: &'static str,
    pub(crate) net: &'static str,
    pub(crate) gross: &'static str,
    pub(crate) payment_terms: &'static str,
    pub(crate) notes: &'static str,
    pub(crate) tax_number: &'static str,
    pub(crate) vat_id: &'static str,
    pub(crate) giro_title: &'static str,
    pub(crate) giro_hint: &'static str,
    pub(crate) amount: &'static str,
    pub(crate) reference: &'static str,
    pub(crate) continued: &'static str,
}

pub(crate) const GERMAN: Labels = Labels {
    german: true,
    quote: "Angebot",
    quote_for: "Angebot für",
    number: "Angebotsnummer",
    date: "Datum",
    valid_until: "Gültig bis",
    pos: "Pos.",
    description: "Beschreibung",
    quantity: "Menge",
    unit: "Einheit",
    unit_price: "Einzelpreis",
    vat: "USt.",
    total: "Gesamt",
    subtotal: "Zwischensumme",
    discount: "Rabatt",
    net: "Netto",
    gross: "Gesamtbetrag",
    payment_terms: "Zahlungsbedingungen",
    notes: "Anmerkungen",
    tax_number: "Steuernummer",
    vat_id: "USt-IdNr.",
    giro_title: "Bezahlen mit GiroCode",
    giro_hint: "Code mit der Banking-App scannen: Empfänger, IBAN, Betrag und Verwendungszweck sind ausgefüllt.",
    amount: "Betrag",
    reference: "Verwendungszweck",
    continued: "Fortsetzung",
};

pub(crate) const ENGLISH: Labels = Labels {
    german: false,
    quote: "Quote",
    quote_for: "Quote for",
    number: "Quote number",
    date: "Date",
    valid_until: "Valid until",
    pos: "No.",
    description: "Description",
    quantity: "Qty",
    unit: "Unit",
    unit_price: "Unit price",
    vat: "VAT",
    total: "Total",
    subtotal: "Subtotal",
    discount: "Discount",
    net: "Net",
    gross: "Total amount",
    payment_terms: "Payment terms",
    notes: "Notes",
    tax_number: "Tax number",
    vat_id: "VAT ID",
    giro_title: "Pay with GiroCode",
    giro_hint: "Scan the code with a European banking app: payee, IBAN, amount and reference are filled in.",
    amount: "Amount",
    reference: "Reference",
    continued: "continued",
};

impl Labels {
    /// The labels of one language.
    pub(crate) fn get(german: bool) -> &'static Labels {
        if german { &GERMAN } else { &ENGLISH }
    }

    /// A percentage in hundredths of a percent: `19 %`, `2,5 %` (German, with a space as
    /// DIN 5008 writes it) or `19%`, `2.5%`.
    pub(crate) fn percent(&self, hundredths: i64) -> String {
        let n = Quantity(hundredths).format(self.german);
        if self.german {
            format!("{n} %")
        } else {
            format!("{n}%")
        }
    }

    /// The validity as a sentence.
    pub(crate) fn validity(&self, until: Date) -> String {
        if self.german {
            format!("Dieses Angebot ist gültig bis {}.", until.format(true))
        } else {
            format!("This quote is valid until {}.", until.format(false))
        }
    }

    /// "Seite 1 von 2" / "Page 1 of 2".
    pub(crate) fn page(&self, page: usize, of: usize) -> String {
        if self.german {
            format!("Seite {page} von {of}")
        } else {
            format!("Page {page} of {of}")
        }
    }

    /// Which label the tax id gets: a VAT id starts with its country's two letters
    /// ("DE123456789"), a German tax number is digits and slashes ("12/345/67890").
    pub(crate) fn tax_label(&self, tax_id: &str) -> &'static str {
        let t = tax_id.trim().as_bytes();
        if t.len() > 2 && t[..2].iter().all(u8::is_ascii_alphabetic) {
            self.vat_id
        } else {
            self.tax_number
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_pages_and_tax_labels() {
        assert_eq!(GERMAN.percent(1900), "19 %");
        assert_eq!(GERMAN.percent(250), "2,5 %");
        assert_eq!(ENGLISH.percent(250), "2.5%");
        assert_eq!(GERMAN.page(2, 3), "Seite 2 von 3");
        assert_eq!(ENGLISH.page(1, 1), "Page 1 of 1");
        assert_eq!(GERMAN.tax_label("DE 123456789"), "USt-IdNr.");
        assert_eq!(GERMAN.tax_label("12/345/67890"), "Steuernummer");
        assert_eq!(ENGLISH.tax_label("DE123456789"), "VAT ID");
    }
}
