//! The freelancer's business details: written once in the settings, printed on every
//! quote, and synced to the account's other devices end-to-end encrypted.

use serde::{Deserialize, Serialize};

/// Who sends the quote. Every field is what a German quote prints in its letterhead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct BusinessDetails {
    /// Name or company ("Praxis Anna Berger").
    pub name: String,
    /// Postal address, one line per line ("Hauptstr. 1\n12345 Berlin").
    pub address: String,
    /// Phone, e-mail or web site, as printed.
    pub contact: String,
    /// Tax number ("Steuernummer") or VAT id ("USt-IdNr."); one of them must be given.
    pub tax_id: String,
    /// Optional IBAN; with it the quote carries a GiroCode.
    pub iban: String,
    /// Optional BIC.
    pub bic: String,
    /// Small business (§ 19 UStG): no VAT on any quote.
    pub small_business: bool,
    /// Days a new quote is valid (30 unless changed).
    pub validity_days: u16,
    /// Printed under the totals ("Zahlbar innerhalb von 14 Tagen ohne Abzug.").
    pub payment_terms: String,
    /// Optional logo, PNG or JPEG bytes (kept small: at most [`LOGO_LIMIT`]).
    #[serde(with = "logo_b64", skip_serializing_if = "Option::is_none")]
    pub logo: Option<Vec<u8>>,
}

/// The largest logo accepted: it travels with the details to every device and is
/// embedded in every PDF, so a photo straight from a camera is refused.
pub const LOGO_LIMIT: usize = 512 * 1024;

/// A field of the business details that is missing or wrong, so the settings can point at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DetailsError {
    /// No name or company.
    #[error("the business name is missing")]
    Name,
    /// No address.
    #[error("the business address is missing")]
    Address,
    /// Neither tax number nor VAT id.
    #[error("the tax number or VAT id is missing")]
    TaxId,
    /// The IBAN does not check out.
    #[error("the IBAN is not valid")]
    Iban,
    /// The BIC is not 8 or 11 letters and digits.
    #[error("the BIC is not valid")]
    Bic,
    /// Validity of 0 days or more than a year.
    #[error("the default validity must be 1 to 365 days")]
    Validity,
    /// The logo is not a PNG or JPEG, or too big.
    #[error("the logo must be a PNG or JPEG of at most 512 KiB")]
    Logo,
}

impl Default for BusinessDetails {
    /// Empty, with the defaults a freelancer expects (30 days' validity): also what a
    /// details file without `validity_days` means.
    fn default() -> BusinessDetails {
        BusinessDetails {
            name: String::new(),
            address: String::new(),
            contact: String::new(),
            tax_id: String::new(),
            iban: String::new(),
            bic: String::new(),
            small_business: false,
            validity_days: 30,
            payment_terms: String::new(),
            logo: None,
        }
    }
}

impl BusinessDetails {
    /// New details with the defaults a freelancer expects (30 days' validity).
    pub fn new() -> BusinessDetails {
        BusinessDetails::default()
    }

    /// Every problem, in the order of the settings form; empty when a quote may be
    /// rendered with these details.
    pub fn check(&self) -> Vec<DetailsError> {
        let mut problems = Vec::new();
        if self.name.trim().is_empty() {
            problems.push(DetailsError::Name);
        }
        if self.address.trim().is_empty() {
            problems.push(DetailsError::Address);
        }
        if self.tax_id.trim().is_empty() {
            problems.push(DetailsError::TaxId);
        }
        if !self.iban.trim().is_empty() && crate::normalise_iban(&self.iban).is_err() {
            problems.push(DetailsError::Iban);
        }
        let bic = self.bic.trim();
        if !bic.is_empty()
            && (!(bic.len() == 8 || bic.len() == 11)
                || !bic.chars().all(|c| c.is_ascii_alphanumeric()))
        {
            problems.push(DetailsError::Bic);
        }
        if !(1..=365).contains(&self.validity_days) {
            problems.push(DetailsError::Validity);
        }
        if let Some(logo) = &self.logo
            && (logo.len() > LOGO_LIMIT || logo_kind(logo).is_none())
        {
            problems.push(DetailsError::Logo);
        }
        problems
    }
}

/// The kind of image a logo is, by its magic bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoKind {
    /// PNG.
    Png,
    /// JPEG.
    Jpeg,
}

/// PNG or JPEG, by the first bytes; `None` for anything else.
pub fn logo_kind(bytes: &[u8]) -> Option<LogoKind> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(LogoKind::Png)
    } else if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some(LogoKind::Jpeg)
    } else {
        None
    }
}

/// The logo as base64 in JSON/TOML (details travel as JSON between devices).
mod logo_b64 {
    use serde::{Deserialize, Deserializer, Serializer};

    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

    pub fn serialize<S: Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(bytes) => s.serialize_str(&encode(bytes)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let text: Option<String> = Option::deserialize(d)?;
        match text {
            None => Ok(None),
            Some(t) => decode(&t)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom("the logo is not valid base64")),
        }
    }

    pub fn encode(bytes: &[u8]) -> String {
        let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
        for chunk in bytes.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        out
    }

    pub fn decode(text: &str) -> Option<Vec<u8>> {
        let text = text.trim_end_matches('=');
        let mut out = Vec::with_capacity(text.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in text.bytes() {
            let v = ALPHABET.iter().position(|&a| a == c)? as u32;
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> BusinessDetails {
        BusinessDetails {
            name: "Praxis Anna Berger".into(),
            address: "Hauptstraße 1\n10115 Berlin".into(),
            tax_id: "12/345/67890".into(),
            ..BusinessDetails::new()
        }
    }

    #[test]
    fn complete_details_pass_and_missing_ones_are_named() {
        assert!(complete().check().is_empty());
        let empty = BusinessDetails::new();
        assert_eq!(
            empty.check(),
            vec![
                DetailsError::Name,
                DetailsError::Address,
                DetailsError::TaxId
            ]
        );
        let mut bad = complete();
        bad.iban = "DE00 1234".into();
        bad.bic = "ABC".into();
        bad.validity_days = 0;
        bad.logo = Some(b"GIF89a".to_vec());
        assert_eq!(
            bad.check(),
            vec![
                DetailsError::Iban,
                DetailsError::Bic,
                DetailsError::Validity,
                DetailsError::Logo
            ]
        );
    }

    #[test]
    fn logo_round_trips_through_json_as_base64() {
        for len in 0..7 {
            let bytes: Vec<u8> = (0..len).map(|i| (i * 77 + 3) as u8).collect();
            assert_eq!(logo_b64::decode(&logo_b64::encode(&bytes)).unwrap(), bytes);
        }
        let mut d = complete();
        d.logo = Some(b"\x89PNG\r\n\x1a\n\x00\xff".to_vec());
        let json = serde_json::to_string(&d).unwrap();
        assert!(json.contains("iVBORw0KGgoA/w=="), "{json}");
        assert_eq!(serde_json::from_str::<BusinessDetails>(&json).unwrap(), d);
    }
}
