//! Phone normalisation on arbitrary text, differentially: no panic, the same
//! answer as the `phonenumber` crate's own `is_valid` + E.164 formatting (which
//! `normalise` reimplements for speed), and a result is `+` and digits.
#![no_main]

use kontor_contacts::{Region, normalise_phone};
use phonenumber::country::Id;

/// The crate's own path, as the unit tests' `reference` in `phone.rs`.
fn reference(raw: &str, region: Id) -> Option<String> {
    let cleaned = raw.trim().replace("(0)", "");
    if !cleaned.chars().any(|c| c.is_ascii_digit()) || cleaned.len() > 64 {
        return None;
    }
    let parsed = phonenumber::parse(Some(region), &cleaned).ok()?;
    phonenumber::is_valid(&parsed)
        .then(|| parsed.format().mode(phonenumber::Mode::E164).to_string())
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for (name, id) in [("DE", Id::DE), ("US", Id::US), ("IT", Id::IT)] {
        let region: Region = name.parse().expect("known region");
        let ours = normalise_phone(text, region);
        assert_eq!(ours, reference(text, id), "{text:?} in {name}");
        if let Some(e164) = ours {
            assert!(e164.starts_with('+'), "{e164}");
            assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()), "{e164}");
        }
    }
});
