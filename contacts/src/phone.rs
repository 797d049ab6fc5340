//! Phone number normalisation to E.164 with a configurable default region.
//!
//! Duplicate detection, the index and discovery all need one canonical form
//! per number; "0151 12345678", "+49 151 1234567" and "0049-151-1234567" are the
//! same person. Numbers that do not validate are kept raw and reported.

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};

use crate::error::{Error, Result};

/// A default region for numbers written without a country code (`DE`, `AT`, `CH`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(Id);

impl Default for Region {
    fn default() -> Self {
        Region(Id::DE)
    }
}

impl std::str::FromStr for Region {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        s.trim()
            .to_ascii_uppercase()
            .parse::<Id>()
            .map(Region)
            .map_err(|_| {
                Error::InvalidArgument(format!("unknown region {s:?} (use an ISO code like DE)"))
            })
    }
}

/// The E.164 form of `raw`, or `None` if it is not a valid number.
pub fn normalise(raw: &str, region: Region) -> Option<String> {
    let cleaned: String = raw.trim().replace("(0)", "");
    if !cleaned.chars().any(|c| c.is_ascii_digit()) || cleaned.len() > 64 {
        return None;
    }
    let parsed: PhoneNumber = phonenumber::parse(Some(region.0), &cleaned).ok()?;
    if !phonenumber::is_valid(&parsed) {
        return None;
    }
    Some(parsed.format().mode(Mode::E164).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_forms_agree() {
        let de = Region::default();
        for raw in [
            "0151 12345678",
            "+49 151 12345678",
            "0049-151-12345678",
            "+49 (0)151 12345678",
            "(0151) 123 456 78",
        ] {
            assert_eq!(
                normalise(raw, de).as_deref(),
                Some("+4915112345678"),
                "{raw}"
            );
        }
        assert_eq!(
            normalise("030 12345678", de).as_deref(),
            Some("+493012345678")
        );
    }

    #[test]
    fn region_and_international() {
        let at: Region = "at".parse().unwrap();
        assert_eq!(
            normalise("0664 1234567", at).as_deref(),
            Some("+436641234567")
        );
        assert_eq!(
            normalise("+1 415 555 2671", Region::default()).as_deref(),
            Some("+14155552671")
        );
        assert!("XX".parse::<Region>().is_err());
    }

    #[test]
    fn invalid_numbers() {
        let de = Region::default();
        for raw in ["", "abc", "123", "+49 0000", "0"] {
            assert_eq!(normalise(raw, de), None, "{raw}");
        }
    }
}
