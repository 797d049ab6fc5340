//! File sizes and type badges as the picker and the attachment cards show them.
//!
//! Pure functions, so the number formats of both languages have unit tests.

use super::format::Language;

/// A size in bytes as people read it: "512 B", "1.2 MB" in English, "1,2 MB" in German.
///
/// Decimal units (1 kB = 1000 B), like the file managers of GNOME and KDE show them, so
/// the number matches what the customer's desktop says about the same file. One decimal
/// below 100 units, none above ("234 kB").
pub fn human_size(bytes: u64, lang: Language) -> String {
    const UNITS: [&str; 5] = ["kB", "MB", "GB", "TB", "PB"];
    if bytes < 1000 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1000.0;
    let mut unit = 0;
    // Round first, so 999 950 B reads "1.0 MB", not "1000.0 kB".
    while unit + 1 < UNITS.len() && round1(value) >= 1000.0 {
        value /= 1000.0;
        unit += 1;
    }
    let text = if round1(value) >= 100.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    };
    let text = match lang {
        Language::German => text.replace('.', ","),
        Language::English => text,
    };
    format!("{text} {}", UNITS[unit])
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The upper-case extension of a file name for its tile ("PDF"), at most four letters;
/// empty when the name has none.
pub fn badge(name: &str) -> String {
    match name.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && !ext.is_empty() && ext.len() <= 4 => {
            ext.to_uppercase()
        }
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_english() {
        let en = Language::English;
        assert_eq!(human_size(0, en), "0 B");
        assert_eq!(human_size(999, en), "999 B");
        assert_eq!(human_size(1000, en), "1.0 kB");
        assert_eq!(human_size(1_234_567, en), "1.2 MB");
        assert_eq!(human_size(234_000, en), "234 kB");
        assert_eq!(human_size(999_950, en), "1.0 MB");
        assert_eq!(human_size(5 * 1024 * 1024, en), "5.2 MB");
        assert_eq!(human_size(3_000_000_000, en), "3.0 GB");
    }

    #[test]
    fn sizes_in_german_use_a_decimal_comma() {
        let de = Language::German;
        assert_eq!(human_size(512, de), "512 B");
        assert_eq!(human_size(1_234_567, de), "1,2 MB");
        assert_eq!(human_size(99_940, de), "99,9 kB");
        assert_eq!(human_size(150_000_000, de), "150 MB");
    }

    #[test]
    fn badges() {
        assert_eq!(badge("angebot-2025.pdf"), "PDF");
        assert_eq!(badge("Kunden.vcf"), "VCF");
        assert_eq!(badge("archive.tar.gz"), "GZ");
        assert_eq!(badge("README"), "");
        assert_eq!(badge(".bashrc"), "");
        assert_eq!(badge("x.verylongext"), "");
    }
}
