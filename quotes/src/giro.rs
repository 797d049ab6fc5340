//! The EPC "GiroCode": the text of the QR code German banking apps scan to fill in a
//! SEPA credit transfer (EPC069-12, version 002, UTF-8). Only the text; drawing the QR
//! code is the renderer's part.

use crate::Money;

/// Why no GiroCode can be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GiroError {
    /// Not an IBAN (wrong form or check digits).
    #[error("not a valid IBAN")]
    Iban,
    /// A BIC must be 8 or 11 letters and digits.
    #[error("not a valid BIC")]
    Bic,
    /// The payee's name is empty or longer than 70 characters.
    #[error("the name must have 1 to 70 characters")]
    Name,
    /// The amount must be 0,01 € to 999.999.999,99 €.
    #[error("the amount is out of range for a transfer")]
    Amount,
}

/// Checks an IBAN as typed (spaces allowed, any case) and returns it compact and upper
/// case: two letters, two check digits, up to 30 letters and digits, ISO 7064 mod 97.
pub fn normalise_iban(input: &str) -> Result<String, GiroError> {
    let iban: String = input
        .chars()
        .filter(|c| !c.is_whitespace())
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let bytes = iban.as_bytes();
    if !(15..=34).contains(&iban.len())
        || !bytes[..2].iter().all(u8::is_ascii_uppercase)
        || !bytes[2..4].iter().all(u8::is_ascii_digit)
        || !bytes.iter().all(u8::is_ascii_alphanumeric)
    {
        return Err(GiroError::Iban);
    }
    // Move the first four characters to the end, letters become 10..35, mod 97 == 1.
    let rearranged = iban[4..].chars().chain(iban[..4].chars());
    let mut rest: u32 = 0;
    for c in rearranged {
        let value = c.to_digit(36).ok_or(GiroError::Iban)?;
        rest = if value >= 10 {
            (rest * 100 + value) % 97
        } else {
            (rest * 10 + value) % 97
        };
    }
    if rest == 1 {
        Ok(iban)
    } else {
        Err(GiroError::Iban)
    }
}

/// The GiroCode text for paying `amount` to `name` at `iban` (and `bic`, optional since
/// version 002), with `text` as the unstructured remittance information (cut to 140
/// characters; the quote number belongs there).
pub fn epc_payload(
    name: &str,
    iban: &str,
    bic: Option<&str>,
    amount: Money,
    text: &str,
) -> Result<String, GiroError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 70 {
        return Err(GiroError::Name);
    }
    let iban = normalise_iban(iban)?;
    let bic = match bic.map(str::trim).filter(|b| !b.is_empty()) {
        Some(b) => {
            let b = b.to_ascii_uppercase();
            if !(b.len() == 8 || b.len() == 11) || !b.chars().all(|c| c.is_ascii_alphanumeric()) {
                return Err(GiroError::Bic);
            }
            b
        }
        None => String::new(),
    };
    if amount.0 < 1 || amount.0 > 99_999_999_999 {
        return Err(GiroError::Amount);
    }
    let text: String = text.trim().chars().take(140).collect();
    // Service tag, version, character set (1 = UTF-8), identification, BIC, name, IBAN,
    // amount, purpose (none), structured reference (none), unstructured text.
    Ok(format!(
        "BCD\n002\n1\nSCT\n{bic}\n{name}\n{iban}\nEUR{}.{:02}\n\n\n{text}",
        amount.0 / 100,
        amount.0 % 100
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ibans_are_checked_by_their_check_digits() {
        assert_eq!(
            normalise_iban("de89 3704 0044 0532 0130 00"),
            Ok("DE89370400440532013000".into())
        );
        assert_eq!(
            normalise_iban("GB82 WEST 1234 5698 7654 32").as_deref(),
            Ok("GB82WEST12345698765432")
        );
        assert_eq!(
            normalise_iban("DE88370400440532013000"),
            Err(GiroError::Iban),
            "one digit off"
        );
        assert_eq!(normalise_iban("DE89"), Err(GiroError::Iban));
        assert_eq!(normalise_iban("DE89-3704-0044"), Err(GiroError::Iban));
    }

    #[test]
    fn the_payload_follows_epc069_12() {
        let p = epc_payload(
            "Praxis Berger",
            "DE89 3704 0044 0532 0130 00",
            Some("cobadeffxxx"),
            Money(123_456),
            "Angebot A-2026-0007",
        )
        .unwrap();
        assert_eq!(
            p,
            "BCD\n002\n1\nSCT\nCOBADEFFXXX\nPraxis Berger\nDE89370400440532013000\nEUR1234.56\n\n\nAngebot A-2026-0007"
        );
        assert!(p.len() <= 331, "the EPC limit");
        let no_bic = epc_payload("Anna", "DE89370400440532013000", None, Money(5), "").unwrap();
        assert!(no_bic.starts_with("BCD\n002\n1\nSCT\n\nAnna\n"));
        assert!(no_bic.contains("\nEUR0.05\n"));
        assert_eq!(
            epc_payload("Anna", "DE89370400440532013000", None, Money(0), ""),
            Err(GiroError::Amount)
        );
        assert_eq!(
            epc_payload(" ", "DE89370400440532013000", None, Money(1), ""),
            Err(GiroError::Name)
        );
        assert_eq!(
            epc_payload("Anna", "DE89370400440532013000", Some("COBA"), Money(1), ""),
            Err(GiroError::Bic)
        );
    }
}
