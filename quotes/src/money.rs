//! Money in cents and quantities in hundredths: exact decimal arithmetic with the
//! rounding rule written down once ([`round_half_up`]).

use std::fmt;

use serde::{Deserialize, Serialize};

/// An amount in euro cents. Signed, so a discount line can be negative.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Money(pub i64);

/// A quantity in hundredths (`150` = 1.5 hours).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Quantity(pub i64);

/// Why a typed amount or quantity is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    /// Not a number at all.
    #[error("not a number")]
    NotANumber,
    /// More than two digits after the decimal separator.
    #[error("more than two decimals")]
    TooManyDecimals,
    /// One separator followed by three digits: a thousands group or three decimals?
    #[error("ambiguous: write 1234, 1.234,00 or 1,234.00")]
    Ambiguous,
    /// Beyond what Kontor accepts (± 100 million euro).
    #[error("out of range")]
    OutOfRange,
}

/// The largest amount or quantity Kontor accepts: 100 million (in hundredths), far
/// beyond any freelancer's quote and far from `i64` overflow in every product below.
pub const LIMIT: i64 = 100_000_000 * 100;

/// `numerator / denominator`, rounded half up (away from zero for negatives, as
/// commercial rounding does). `denominator` must be positive.
pub fn round_half_up(numerator: i128, denominator: i128) -> i128 {
    debug_assert!(denominator > 0);
    let sign = if numerator < 0 { -1 } else { 1 };
    let n = numerator.abs();
    sign * ((n + denominator / 2) / denominator)
}

/// Parses a decimal with at most two decimals, as people type it in German or English:
/// `1.234,56`, `1234,56`, `1,234.56`, `1234.56`, `12`, `-5,5`. The last `,` or `.`
/// followed by one or two digits is the decimal separator; other separators group
/// thousands.
fn parse_hundredths(s: &str) -> Result<i64, MoneyError> {
    let s = s.trim().trim_end_matches('€').trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest.trim()),
        None => (false, s),
    };
    if s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return Err(MoneyError::NotANumber);
    }
    let last_sep = s.rfind(['.', ',']);
    let separators = s.matches(['.', ',']).count();
    let (whole, frac) = match last_sep {
        Some(i) => {
            let frac = &s[i + 1..];
            let sep = &s[i..=i];
            if frac.len() == 3 && separators == 1 {
                // "1.234" is 1234 in German and 1.234 in English (and "1,234" the
                // other way round): an amount off by a factor of 1000 must not slip
                // through, so the user is asked to write it unambiguously.
                return Err(MoneyError::Ambiguous);
            }
            if frac.len() == 3 && s.matches(sep).count() == separators {
                // "1.234.567": one kind of separator, used several times, groups
                // thousands.
                (s.to_owned(), String::new())
            } else {
                (s[..i].to_owned(), frac.to_owned())
            }
        }
        None => (s.to_owned(), String::new()),
    };
    if frac.len() > 2 {
        return Err(MoneyError::TooManyDecimals);
    }
    if frac.contains(['.', ',']) {
        return Err(MoneyError::NotANumber);
    }
    let digits: String = whole.chars().filter(char::is_ascii_digit).collect();
    if digits.is_empty() && frac.is_empty() {
        return Err(MoneyError::NotANumber);
    }
    if digits.len() > 12 {
        return Err(MoneyError::OutOfRange);
    }
    let whole: i64 = if digits.is_empty() {
        0
    } else {
        digits.parse().map_err(|_| MoneyError::OutOfRange)?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().map_err(|_| MoneyError::NotANumber)? * 10,
        _ => frac.parse().map_err(|_| MoneyError::NotANumber)?,
    };
    let value = whole * 100 + frac;
    if value > LIMIT {
        return Err(MoneyError::OutOfRange);
    }
    Ok(if negative { -value } else { value })
}

impl Money {
    /// From a typed amount (see the module docs for the accepted forms).
    pub fn parse(s: &str) -> Result<Money, MoneyError> {
        parse_hundredths(s).map(Money)
    }

    /// `1.234,56 €` (German) or `€1,234.56` (English).
    pub fn format(self, german: bool) -> String {
        let (sign, abs) = if self.0 < 0 {
            ("-", -self.0)
        } else {
            ("", self.0)
        };
        let euros = abs / 100;
        let cents = abs % 100;
        let grouped = group(euros, if german { '.' } else { ',' });
        if german {
            format!("{sign}{grouped},{cents:02} €")
        } else {
            format!("{sign}€{grouped}.{cents:02}")
        }
    }
}

impl Quantity {
    /// From a typed quantity: at most two decimals.
    pub fn parse(s: &str) -> Result<Quantity, MoneyError> {
        parse_hundredths(s).map(Quantity)
    }

    /// `1,5` (German) or `1.5` (English); whole numbers without decimals.
    pub fn format(self, german: bool) -> String {
        let whole = self.0 / 100;
        let frac = (self.0 % 100).abs();
        if frac == 0 {
            return whole.to_string();
        }
        let sep = if german { ',' } else { '.' };
        let frac = format!("{frac:02}");
        format!("{whole}{sep}{}", frac.trim_end_matches('0'))
    }
}

impl fmt::Display for Money {
    /// German form, the default for documents (`1.234,56 €`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.format(true))
    }
}

fn group(mut n: i64, sep: char) -> String {
    let mut parts = Vec::new();
    loop {
        if n < 1000 {
            parts.push(n.to_string());
            break;
        }
        parts.push(format!("{:03}", n % 1000));
        n /= 1000;
    }
    parts.reverse();
    parts.join(&sep.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_people_type_them() {
        for (typed, cents) in [
            ("1.234,56", 123_456),
            ("1234,56", 123_456),
            ("1,234.56", 123_456),
            ("1234.56", 123_456),
            ("12", 1200),
            ("12,5", 1250),
            ("0,05", 5),
            ("-5,5", -550),
            ("1.234.567,89 €", 123_456_789),
            ("1.234.567", 123_456_700),
        ] {
            assert_eq!(Money::parse(typed), Ok(Money(cents)), "{typed}");
        }
        assert_eq!(Money::parse("1,234"), Err(MoneyError::Ambiguous));
        assert_eq!(Money::parse("1.234"), Err(MoneyError::Ambiguous));
        assert_eq!(Money::parse("1,2345"), Err(MoneyError::TooManyDecimals));
        assert_eq!(Money::parse("12.3456"), Err(MoneyError::TooManyDecimals));
        assert_eq!(Money::parse("zwölf"), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse(""), Err(MoneyError::NotANumber));
        assert_eq!(Money::parse("999999999999"), Err(MoneyError::OutOfRange));
    }

    #[test]
    fn german_and_english_forms() {
        assert_eq!(Money(123_456).format(true), "1.234,56 €");
        assert_eq!(Money(123_456).format(false), "€1,234.56");
        assert_eq!(Money(5).format(true), "0,05 €");
        assert_eq!(Money(-1_000_000).format(true), "-10.000,00 €");
        assert_eq!(Quantity(150).format(true), "1,5");
        assert_eq!(Quantity(200).format(false), "2");
        assert_eq!(Quantity(125).format(false), "1.25");
    }

    #[test]
    fn half_up_rounding() {
        assert_eq!(round_half_up(5, 10), 1);
        assert_eq!(round_half_up(4, 10), 0);
        assert_eq!(round_half_up(-5, 10), -1);
        assert_eq!(round_half_up(15, 10), 2);
        assert_eq!(round_half_up(25, 10), 3, "half up, not half even");
    }
}
