//! Quote numbers: unique and ascending per year, `A-2026-0007`.
//!
//! Why the next number is computed from every number this account has already used
//! ([`QuoteNumber::next`]) rather than kept in a counter on one device: the freelancer
//! writes quotes on a phone and a laptop. Both see the numbers the other issued (they
//! sync between the account's devices, end-to-end encrypted, in a later part of issue
//! 11), so a device that takes "highest known + 1" after syncing never reissues a number
//! the other one used. A number is a legal identifier on a German invoice or quote: a gap
//! is harmless, a duplicate is not.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// `A-<year>-<sequence>`, the sequence at least four digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct QuoteNumber {
    /// The calendar year the quote was written in.
    pub year: u16,
    /// 1, 2, 3 … within the year.
    pub seq: u32,
}

/// Why a text is not a quote number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a quote number (like A-2026-0007)")]
pub struct NumberError;

impl QuoteNumber {
    /// The number after every one in `used` for `year`: the first of the year is 1.
    /// Numbers of other years do not count (each year starts again at 1).
    pub fn next<'a>(year: u16, used: impl IntoIterator<Item = &'a QuoteNumber>) -> QuoteNumber {
        let last = used
            .into_iter()
            .filter(|n| n.year == year)
            .map(|n| n.seq)
            .max()
            .unwrap_or(0);
        QuoteNumber {
            year,
            seq: last + 1,
        }
    }
}

/// Written as people and scripts read it, `"A-2026-0007"`, in JSON (records, the
/// business room, the CLI's output).
impl Serialize for QuoteNumber {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for QuoteNumber {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl fmt::Display for QuoteNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "A-{}-{:04}", self.year, self.seq)
    }
}

impl FromStr for QuoteNumber {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let rest = s.trim().strip_prefix("A-").ok_or(NumberError)?;
        let (year, seq) = rest.split_once('-').ok_or(NumberError)?;
        if year.len() != 4 || seq.len() < 4 {
            return Err(NumberError);
        }
        let year: u16 = year.parse().map_err(|_| NumberError)?;
        let seq: u32 = seq.parse().map_err(|_| NumberError)?;
        if seq == 0 {
            return Err(NumberError);
        }
        Ok(QuoteNumber { year, seq })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn written_and_read() {
        let n = QuoteNumber { year: 2026, seq: 7 };
        assert_eq!(n.to_string(), "A-2026-0007");
        assert_eq!("A-2026-0007".parse(), Ok(n));
        assert_eq!(serde_json::to_string(&n).unwrap(), "\"A-2026-0007\"");
        assert_eq!(
            serde_json::from_str::<QuoteNumber>("\"A-2026-0007\"").unwrap(),
            n
        );
        assert!(serde_json::from_str::<QuoteNumber>("\"7\"").is_err());
        assert_eq!(
            "A-2026-12345".parse(),
            Ok(QuoteNumber {
                year: 2026,
                seq: 12345
            })
        );
        for bad in [
            "2026-0007",
            "A-26-0007",
            "A-2026-7",
            "A-2026-0000",
            "A-2026-00x7",
        ] {
            assert_eq!(bad.parse::<QuoteNumber>(), Err(NumberError), "{bad}");
        }
    }

    #[test]
    fn each_year_counts_from_one() {
        let used = [
            QuoteNumber {
                year: 2025,
                seq: 41,
            },
            QuoteNumber { year: 2026, seq: 3 },
        ];
        assert_eq!(QuoteNumber::next(2026, &used).seq, 4);
        assert_eq!(QuoteNumber::next(2027, &used).seq, 1);
    }

    /// Two devices of one account writing quotes alternately: each syncs what the other
    /// issued before it takes the next number, and no number is issued twice.
    #[test]
    fn two_devices_alternating_never_reuse_a_number() {
        let mut phone: BTreeSet<QuoteNumber> = BTreeSet::new();
        let mut laptop: BTreeSet<QuoteNumber> = BTreeSet::new();
        let mut issued = Vec::new();
        for turn in 0..50 {
            let (me, other) = if turn % 2 == 0 {
                (&mut phone, &mut laptop)
            } else {
                (&mut laptop, &mut phone)
            };
            // Sync: what the other device issued reaches this one.
            me.extend(other.iter().copied());
            let n = QuoteNumber::next(2026, me.iter());
            me.insert(n);
            issued.push(n);
        }
        let unique: BTreeSet<_> = issued.iter().collect();
        assert_eq!(unique.len(), issued.len(), "a number was issued twice");
        assert!(issued.windows(2).all(|w| w[0] < w[1]), "ascending");
    }
}
