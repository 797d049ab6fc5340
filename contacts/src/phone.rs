//! Phone number normalisation to E.164 with a configurable default region.
//!
//! Duplicate detection, the index and discovery all need one canonical form
//! per number; "0151 12345678", "+49 151 1234567" and "0049-151-1234567" are the
//! same person. Numbers that do not validate are kept raw and reported.
//!
//! Parsing uses the `phonenumber` crate. Validation and E.164 formatting are
//! done here on the crate's metadata, because the crate's own versions are
//! most of the cost of an import: `is_valid` tests up to ten number-type
//! patterns where validity needs only the first that matches (fixed line and
//! mobile, tested first here, cover nearly every real number), and the E.164
//! formatter also picks a display format it then does not use. Every pattern
//! lookup in the crate hashes the pattern's source text under one global lock;
//! the patterns used here are compiled once into [`PATTERNS`], keyed by the
//! descriptor's address in the crate's static database, so validation runs on
//! several threads without that lock. The result is the same as the crate's
//! `is_valid` + `Mode::E164` (the `same_as_phonenumber_crate` tests compare them).

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, RwLock};

use phonenumber::country::Id;
use phonenumber::metadata::{DATABASE, Descriptor, Metadata};
use regex::{Regex, RegexBuilder};

use crate::error::{Error, Result};

/// A default region for numbers written without a country code (`DE`, `AT`, `CH`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region(Id);

impl Default for Region {
    fn default() -> Self {
        Region(Id::DE)
    }
}

impl Region {
    /// The ISO 3166 code (`DE`).
    pub fn code(&self) -> &str {
        self.0.as_ref()
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

/// Whether `raw` carries its country: `+CC…`, or an international call
/// prefix (`00`, `011`). Any other number is read with the default region.
pub fn has_country_code(raw: &str) -> bool {
    let t = raw.trim_start_matches(|c: char| !(c.is_ascii_digit() || c == '+'));
    t.starts_with('+') || t.starts_with("00") || t.starts_with("011")
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
    let trimmed = raw.trim();
    let cleaned: Cow<'_, str> = if trimmed.contains("(0)") {
        Cow::Owned(trimmed.replace("(0)", ""))
    } else {
        Cow::Borrowed(trimmed)
    };
    if !cleaned.bytes().any(|c| c.is_ascii_digit()) || cleaned.len() > 64 {
        return None;
    }
    if let Some((code, national)) = fast_parse(&cleaned, region) {
        return is_valid(code, &national).then(|| format!("+{code}{national}"));
    }
    let parsed = phonenumber::parse(Some(region.0), &*cleaned).ok()?;
    let code = parsed.code().value();
    // With Italian-style leading zeros, as E.164 and the crate's validator want it.
    let national = parsed.national().to_string();
    is_valid(code, &national).then(|| format!("+{code}{national}"))
}

/// What `phonenumber::parse` answers (country code, national number) for the
/// two shapes nearly every address book consists of, without its parser:
/// `+CC` followed by the number, and a national number with the default
/// region's national prefix `0`, both written as digit groups separated by
/// single spaces. `None` means "not sure": the caller then asks
/// the crate. The conditions mirror the crate's parser step by step (see the
/// comments); the `same_as_phonenumber_crate` tests compare the two.
fn fast_parse(number: &str, region: Region) -> Option<(u16, String)> {
    let (plus, rest) = match number.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    // Digit groups with single spaces, starting and ending with a digit: no
    // extension, letters, IDD or punctuation the crate's parsers treat
    // specially (with `-` a `+` number is RFC 3966 syntax to them, and
    // `+12012-000000` has no valid country code there).
    let bytes = rest.as_bytes();
    if !bytes.first().is_some_and(u8::is_ascii_digit)
        || !bytes.last().is_some_and(u8::is_ascii_digit)
    {
        return None;
    }
    let mut digits = String::with_capacity(bytes.len());
    let mut after_sep = false;
    for &b in bytes {
        match b {
            b'0'..=b'9' => {
                digits.push(char::from(b));
                after_sep = false;
            }
            b' ' if !after_sep => after_sep = true,
            _ => return None,
        }
    }
    let db = &*DATABASE;
    let meta = db.by_id(region.0.as_ref())?;
    // The crate strips the default region's national prefix from every
    // number, `+CC` ones included (`helper::national_number`); only regions
    // with a plain prefix and no parsing pattern are handled here.
    if meta.national_prefix_for_parsing().is_some() {
        return None;
    }
    let prefix = meta.national_prefix();
    let (code, national) = if plus {
        // `helper::country_code`, source `Plus`: more than two digits, no
        // leading 0, the first 1–3 digits that are a known code.
        if digits.len() <= 2 || digits.starts_with('0') {
            return None;
        }
        let (code, len) = (1..=3).find_map(|len| {
            let code: u16 = digits[..len].parse().ok()?;
            db.by_code(&code).is_some().then_some((code, len))
        })?;
        (code, digits.split_off(len))
    } else {
        // Source `Default`: the region's code, then its national prefix `0`
        // stripped (the IDD `00` and numbers starting with the code are left
        // to the crate).
        if prefix != Some("0") || !digits.starts_with('0') || digits.starts_with("00") {
            return None;
        }
        let code = meta.country_code();
        if digits.starts_with(&code.to_string()) {
            return None;
        }
        let national = digits.split_off(1);
        // The crate keeps the prefix if the rest is too short for the region
        // (`validator::length` says `TooShort` only below the first of the
        // general possible lengths; without any, never).
        if let Some(&min) = meta.descriptors().general().possible_length().first()
            && national.len() < usize::from(min)
        {
            return None;
        }
        (code, national)
    };
    // No (further) national prefix to strip, no Italian leading zero, and
    // well inside the crate's length limits (its parser refuses some very
    // short numbers before counting their digits, e.g. `+49-10`).
    if national.starts_with('0')
        || prefix.is_some_and(|p| national.starts_with(p))
        || !(4..=17).contains(&national.len())
    {
        return None;
    }
    Some((code, national))
}

/// At most this many compiled patterns are kept (a few hundred kilobytes);
/// numbers from more countries than that fall back to the crate's cache.
const MAX_PATTERNS: usize = 2048;

/// Compiled metadata patterns, keyed by the address of the crate's pattern
/// object inside its static database (which is never dropped or moved).
static PATTERNS: LazyLock<RwLock<HashMap<usize, Arc<Regex>>>> =
    LazyLock::new(|| RwLock::new(HashMap::new()));

/// Whether `pattern` matches `value` from its start, as the crate tests it
/// (`find` and a match start of 0), on our anchored compiled copy of the
/// crate's pattern when there is one.
macro_rules! at_start {
    ($pattern:expr, $value:expr) => {{
        let pattern = $pattern;
        let value: &str = $value;
        match compiled(std::ptr::from_ref(pattern) as usize, pattern.as_str()) {
            // Compiled anchored: the same answer without scanning for later matches.
            Some(regex) => regex.is_match(value),
            None => pattern.find(value).is_some_and(|m| m.start() == 0),
        }
    }};
}

/// Our compiled copy of the crate pattern at `key` (its address) with `source`.
fn compiled(key: usize, source: &str) -> Option<Arc<Regex>> {
    if let Some(r) = PATTERNS.read().unwrap_or_else(|p| p.into_inner()).get(&key) {
        return Some(Arc::clone(r));
    }
    // Built as the crate builds its patterns (verbose syntax: whitespace is
    // ignored), but anchored at the start: a match starting at 0 exists
    // exactly when the leftmost match the crate looks for starts at 0, and an
    // anchored `is_match` stops early instead of searching the whole number
    // and then running backwards for the match's start. The newline ends a
    // comment the source might end with.
    let regex = Arc::new(
        RegexBuilder::new(&format!("^(?:{source}\n)"))
            .ignore_whitespace(true)
            .build()
            .ok()?,
    );
    let mut map = PATTERNS.write().unwrap_or_else(|p| p.into_inner());
    if map.len() >= MAX_PATTERNS {
        return None;
    }
    Some(Arc::clone(map.entry(key).or_insert(regex)))
}

/// The crate's `is_valid`: the number's region (as `validator::source_for`
/// picks it) has a number type whose pattern matches.
fn is_valid(code: u16, national: &str) -> bool {
    let db = &*DATABASE;
    let Some(regions) = db.region(&code) else {
        return false;
    };
    let meta = match regions.as_slice() {
        // Non-geographic entities (+800, +979, …).
        ["001"] => db.by_code(&code).and_then(|m| m.into_iter().next()),
        [one] => one.parse::<Id>().ok().and_then(|_| db.by_id(*one)),
        several => several.iter().find_map(|region| {
            let meta = db.by_id(*region)?;
            let hit = match meta.leading_digits() {
                Some(pattern) => at_start!(pattern, national),
                None => has_type(meta, national),
            };
            hit.then_some(meta)
        }),
    };
    meta.is_some_and(|meta| has_type(meta, national))
}

/// Whether `national` is of any known type in `meta` (the crate's
/// `number_type(..) != Unknown`, stopping at the first type that matches).
fn has_type(meta: &Metadata, national: &str) -> bool {
    let d = meta.descriptors();
    if !descriptor_matches(d.general(), national) {
        return false;
    }
    [
        d.fixed_line(),
        d.mobile(),
        d.toll_free(),
        d.premium_rate(),
        d.shared_cost(),
        d.voip(),
        d.personal_number(),
        d.pager(),
        d.uan(),
        d.voicemail(),
    ]
    .into_iter()
    .flatten()
    .any(|desc| descriptor_matches(desc, national))
}

/// `Descriptor::is_match`: a possible length, and the pattern matches from the start.
fn descriptor_matches(desc: &Descriptor, national: &str) -> bool {
    let lengths = desc.possible_length();
    if !lengths.is_empty() && !lengths.contains(&(national.len() as u16)) {
        return false;
    }
    at_start!(desc.national_number(), national)
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

    /// The crate's own validation and formatting, which [`normalise`] must agree with.
    fn reference(raw: &str, region: Region) -> Option<String> {
        let cleaned: String = raw.trim().replace("(0)", "");
        if !cleaned.chars().any(|c| c.is_ascii_digit()) || cleaned.len() > 64 {
            return None;
        }
        let parsed = phonenumber::parse(Some(region.0), &cleaned).ok()?;
        if !phonenumber::is_valid(&parsed) {
            return None;
        }
        Some(parsed.format().mode(phonenumber::Mode::E164).to_string())
    }

    #[test]
    fn same_as_phonenumber_crate_on_known_cases() {
        // Shared country codes (+1, +7, +44, +262, +590), Italian leading zeros,
        // non-geographic codes, and invalid ones.
        let cases = [
            "+1 415 555 2671",
            "+1 416 555 0123",
            "+1 876 555 0123",
            "+7 912 345 67 89",
            "+7 701 234 5678",
            "+44 7700 900123",
            "+44 7911 123456",
            "+44 1624 456789",
            "+39 02 1234 5678",
            "+39 06 6982",
            "+39 333 123 4567",
            "+262 269 61 23 45",
            "+590 690 00 12 34",
            "+800 1234 5678",
            "+979 1234 56789",
            "+882 1234 5678",
            "+49 30 123456",
            "+49 1800 1234567",
            "+49 900 1234567",
            "0800 1234567",
            "0049 151 1234567",
            "+999 123456",
            "+49",
        ];
        for raw in cases {
            for region in ["DE", "AT", "US", "IT", "GB"] {
                let region: Region = region.parse().unwrap();
                assert_eq!(normalise(raw, region), reference(raw, region), "{raw}");
            }
        }
    }

    /// Found by the `phone` fuzz target: the E.164 form of this +881
    /// (satellite) number with a leading zero does not normalise again. That
    /// is the `phonenumber` crate's answer too, so [`normalise`] keeps it
    /// (agreeing with the crate is what the rest relies on; a re-imported
    /// number is still merged, by its digits).
    #[test]
    fn same_as_phonenumber_crate_on_fuzz_finding() {
        for raw in [")00881)000))40890168(0", "+8810408901680"] {
            for region in ["DE", "US", "IT"] {
                let region: Region = region.parse().unwrap();
                assert_eq!(normalise(raw, region), reference(raw, region), "{raw}");
            }
        }
        let de = Region::default();
        assert_eq!(
            normalise(")00881)000))40890168(0", de).as_deref(),
            Some("+8810408901680")
        );
        assert_eq!(normalise("+8810408901680", de), None);
    }

    /// What the crate's parser answers, as (country code, national number).
    fn crate_parse(raw: &str, region: Region) -> Option<(u16, String)> {
        let parsed = phonenumber::parse(Some(region.0), raw).ok()?;
        Some((parsed.code().value(), parsed.national().to_string()))
    }

    #[test]
    fn fast_path_takes_the_common_shapes() {
        let de = Region::default();
        for (raw, code, national) in [
            ("+49 171 1234567", 49, "1711234567"),
            ("+43 664 1234567", 43, "6641234567"),
            ("+41 79 123 45 67", 41, "791234567"),
            ("+44 7700 900123", 44, "7700900123"),
            ("+1 415 234 5678", 1, "4152345678"),
            ("0151 12345678", 49, "15112345678"),
            ("030 1234567", 49, "301234567"),
        ] {
            let fast = fast_parse(raw, de);
            assert_eq!(fast, Some((code, national.to_owned())), "{raw}");
            assert_eq!(fast, crate_parse(raw, de), "{raw}");
        }
        // Left to the crate: IDD, letters, doubled separators, Italian zeros.
        for raw in [
            "0049 171 1234567",
            "+49 171 CALL",
            "0151  1234",
            "+39 06 6982",
            "+49 0171 123",
        ] {
            assert_eq!(fast_parse(raw, de), None, "{raw}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(1000))]

        /// Whenever the fast path answers, the crate's parser answers the same.
        #[test]
        fn fast_path_same_as_crate_parse(
            prefix in proptest::sample::select(vec![
                "", "0", "00", "+", "+1", "+4", "+49", "+43", "+41", "+44", "+7", "+39",
                "+33", "+262", "+800", "+881", "+979", "+0",
            ]),
            groups in proptest::collection::vec(("[0-9]{1,5}", proptest::sample::select(vec![" ", "-", "/", "", "  ", "."])), 1..5),
            region in proptest::sample::select(vec!["DE", "AT", "CH", "US", "IT", "GB", "FR", "NL", "RU"]),
        ) {
            let mut raw = prefix.to_owned();
            for (digits, sep) in &groups {
                raw.push_str(sep);
                raw.push_str(digits);
            }
            let region: Region = region.parse().unwrap();
            if let Some(fast) = fast_parse(&raw, region) {
                proptest::prop_assert_eq!(Some(fast), crate_parse(&raw, region), "{}", raw);
            }
            proptest::prop_assert_eq!(normalise(&raw, region), reference(&raw, region), "{}", raw);
        }

        #[test]
        fn never_panics(raw in ".{0,80}") {
            let _ = normalise(&raw, Region::default());
        }

        #[test]
        fn same_as_phonenumber_crate(
            prefix in proptest::sample::select(vec![
                "", "0", "00", "+", "+1 ", "+7 ", "+20 ", "+30 ", "+31 ", "+33 ", "+34 ",
                "+39 ", "+39 0", "+41 ", "+43 ", "+44 ", "+45 ", "+48 ", "+49 ", "+49 (0)",
                "+52 ", "+55 ", "+61 ", "+81 ", "+86 ", "+90 ", "+91 ", "+212 ", "+262 ",
                "+352 ", "+590 ", "+800 ", "+870 ", "+881 ", "+882 ", "+883 ", "+979 ",
                "0049 ", "0043 ", "tel:+49",
            ]),
            digits in "[0-9]{2,14}",
            sep in proptest::sample::select(vec!["", " ", "-", "/"]),
            region in proptest::sample::select(vec!["DE", "AT", "CH", "US", "IT", "GB", "FR"]),
        ) {
            let (a, b) = digits.split_at(digits.len() / 2);
            let raw = format!("{prefix}{a}{sep}{b}");
            let region: Region = region.parse().unwrap();
            proptest::prop_assert_eq!(normalise(&raw, region), reference(&raw, region), "{}", raw);
        }
    }
}
