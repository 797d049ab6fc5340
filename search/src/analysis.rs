//! Text analysis: how German and English text becomes index terms.
//!
//! One analyzer is used for the documents, for the query and for the highlights, so a
//! word that was found is also a word that gets highlighted. Everything here is a pure
//! function; the tantivy tokenizers in `lib.rs` only wrap [`words`] and [`word_forms`].
//!
//! Rules (why each one):
//! - Words are runs of Unicode alphanumerics (combining marks stay with their letter), so
//!   `A-2026-0007` is three words and `1.234,56` is `1`, `234`, `56`; the query side turns
//!   such a chunk into a phrase of its words, which finds it again exactly.
//! - Lowercase and fold diacritics (NFD, drop the marks; `ß` → `ss`, `æ` → `ae`, `ø` → `o`
//!   …): people type "muller" and "strasse" on a phone or an English keyboard.
//! - `ä`/`ö`/`ü` also give a second form with `ae`/`oe`/`ue` ("Müller" is indexed as
//!   `muller` and `mueller`), because Germans write "Mueller" when they have no umlaut key.
//!   The other direction ("Mueller" in a document found by "Müller") also works, because
//!   the query word gets the same second form. "muller" does not find "Mueller": turning
//!   every `ue` back into `u` would break "neue", "Steuer", "Queue".
//! - Stems: both the German and the English Snowball stemmer (rust-stemmers, as tantivy
//!   uses) of each folded form, since one chat mixes both languages and we do not know
//!   which one a word is in. A query word matches a document word when any of its forms
//!   (folded, second form, German stem, English stem) equals any form of the document
//!   word. The price: rarely two unrelated words share a stem in one of the languages
//!   (English "terminal" → `termin`, so "Termin" also finds "Terminal").
//! - Words longer than [`MAX_WORD_CHARS`] are skipped (keys, hashes, base64: never typed).

use std::borrow::Cow;
use std::ops::Range;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Words longer than this (in chars) are not indexed: nobody types them.
pub const MAX_WORD_CHARS: usize = 64;

/// One word of a text, as the index sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Word {
    /// Byte range of the word in the original text.
    pub range: Range<usize>,
    /// Position of the word (its index among the words of the text), for phrases.
    pub position: usize,
    /// Lowercased, diacritics folded: `Müller` → `muller`, `Straße` → `strasse`.
    pub folded: String,
    /// The German transliteration when the word has `ä`/`ö`/`ü`: `Müller` → `mueller`.
    pub alt: Option<String>,
}

/// Splits `text` into words (runs of alphanumerics) and folds each one.
pub fn words(text: &str) -> Vec<Word> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut position = 0;
    let mut push = |range: Range<usize>, out: &mut Vec<Word>| {
        let raw = &text[range.clone()];
        if raw.chars().filter(|c| !is_combining_mark(*c)).count() <= MAX_WORD_CHARS {
            let (folded, alt) = fold(raw);
            if !folded.is_empty() {
                out.push(Word {
                    range,
                    position,
                    folded,
                    alt,
                });
            }
        }
        position += 1;
    };
    for (i, c) in text.char_indices() {
        let in_word = c.is_alphanumeric() || (start.is_some() && is_combining_mark(c));
        match (in_word, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                push(s..i, &mut out);
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        push(s..text.len(), &mut out);
    }
    out
}

/// Folds one word: lowercase, no diacritics. Returns the folded form and, when the word
/// has a German umlaut, the form with `ae`/`oe`/`ue`.
pub fn fold(word: &str) -> (String, Option<String>) {
    let mut folded = String::with_capacity(word.len());
    let mut alt = String::with_capacity(word.len() + 2);
    let mut has_umlaut = false;
    let mut last_base: Option<char> = None;
    for c in word.nfd().flat_map(char::to_lowercase) {
        if is_combining_mark(c) {
            // U+0308 COMBINING DIAERESIS after a/o/u is a German umlaut.
            if c == '\u{0308}' && matches!(last_base, Some('a' | 'o' | 'u')) {
                has_umlaut = true;
                alt.push('e');
            }
            last_base = None;
            continue;
        }
        last_base = Some(c);
        match special(c) {
            Some(s) => {
                folded.push_str(s);
                alt.push_str(s);
            }
            None => {
                folded.push(c);
                alt.push(c);
            }
        }
    }
    (folded, has_umlaut.then_some(alt))
}

/// Letters that NFD does not decompose into a base letter and a mark.
fn special(c: char) -> Option<&'static str> {
    Some(match c {
        'ß' => "ss",
        'æ' => "ae",
        'œ' => "oe",
        'ø' => "o",
        'ł' => "l",
        'đ' | 'ð' => "d",
        'þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

/// The two stemmers, created once (creating one is cheap, but this keeps call sites short).
pub struct Stemmers {
    de: Stemmer,
    en: Stemmer,
}

impl Default for Stemmers {
    fn default() -> Self {
        Stemmers {
            de: Stemmer::create(Algorithm::German),
            en: Stemmer::create(Algorithm::English),
        }
    }
}

impl Stemmers {
    /// German and English stems of a folded word (either may equal the word itself).
    pub fn stems<'a>(&self, folded: &'a str) -> [Cow<'a, str>; 2] {
        if folded.bytes().all(|b| b.is_ascii_digit()) {
            return [Cow::Borrowed(folded), Cow::Borrowed(folded)];
        }
        [self.de.stem(folded), self.en.stem(folded)]
    }

    /// Every form of a word: folded, second form, and the stems of both, without
    /// duplicates. The first entry is always the folded form.
    pub fn forms(&self, word: &Word) -> Vec<String> {
        let mut out = vec![word.folded.clone()];
        let mut add = |s: &str| {
            if !out.iter().any(|o| o == s) {
                out.push(s.to_owned());
            }
        };
        if let Some(alt) = &word.alt {
            add(alt);
        }
        for s in self.stems(&word.folded) {
            add(&s);
        }
        if let Some(alt) = &word.alt {
            for s in self.stems(alt) {
                add(&s);
            }
        }
        out
    }

    /// The stems of a word that are not already one of its exact forms (folded or
    /// second form): what goes into the `stems` field.
    pub fn extra_stems(&self, word: &Word) -> Vec<String> {
        let exact = |s: &str| s == word.folded || word.alt.as_deref() == Some(s);
        self.forms(word).into_iter().filter(|f| !exact(f)).collect()
    }
}

#[cfg(test)]
/// Forms of the single query word `text` (folded through the same analyzer), or `None`
/// when it has no word in it.
pub fn word_forms(stemmers: &Stemmers, text: &str) -> Option<Vec<String>> {
    let ws = words(text);
    ws.first().map(|w| stemmers.forms(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folded(text: &str) -> Vec<String> {
        words(text).into_iter().map(|w| w.folded).collect()
    }

    /// True when some form of the query word equals some form of the document word.
    fn matches(query: &str, doc: &str) -> bool {
        let s = Stemmers::default();
        let q = word_forms(&s, query).unwrap();
        let d = word_forms(&s, doc).unwrap();
        q.iter().any(|f| d.contains(f))
    }

    #[test]
    fn splits_on_non_alphanumerics_and_keeps_byte_ranges() {
        let text = "Angebot A-2026-0007: 1.234,56 € für Müller!";
        let ws = words(text);
        let got: Vec<&str> = ws.iter().map(|w| &text[w.range.clone()]).collect();
        assert_eq!(
            got,
            [
                "Angebot", "A", "2026", "0007", "1", "234", "56", "für", "Müller"
            ]
        );
        assert_eq!(
            folded(text),
            [
                "angebot", "a", "2026", "0007", "1", "234", "56", "fur", "muller"
            ]
        );
        let positions: Vec<usize> = ws.iter().map(|w| w.position).collect();
        assert_eq!(positions, (0..9).collect::<Vec<_>>());
    }

    #[test]
    fn folds_diacritics_and_sharp_s() {
        assert_eq!(
            folded("Straße Müller Café ÄRGER Øre"),
            ["strasse", "muller", "cafe", "arger", "ore"]
        );
        // Decomposed input (as some keyboards send it) folds the same way and stays one word.
        assert_eq!(folded("Mu\u{308}ller"), ["muller"]);
        assert_eq!(fold("Müller"), ("muller".into(), Some("mueller".into())));
        assert_eq!(fold("Straße"), ("strasse".into(), None));
        assert_eq!(fold("Café"), ("cafe".into(), None));
    }

    #[test]
    fn german_and_english_words_match_as_people_type_them() {
        for (query, doc) in [
            ("muller", "Müller"),
            ("mueller", "Müller"),
            ("Müller", "Mueller"),
            ("Müller", "müller"),
            ("strasse", "Straße"),
            ("Straße", "Strasse"),
            ("Angebot", "Angebote"),
            ("Angebot", "Angebots"),
            ("Angebote", "Angebot"),
            ("Termin", "Termine"),
            ("Termine", "Termin"),
            ("Rechnung", "Rechnungen"),
            ("invoice", "invoices"),
            ("invoices", "invoice"),
            ("appointment", "appointments"),
            ("cafe", "Café"),
        ] {
            assert!(matches(query, doc), "{query} should find {doc}");
        }
    }

    #[test]
    fn unrelated_words_do_not_match() {
        for (query, doc) in [
            ("Termin", "Terrasse"),
            ("Angebot", "Anfrage"),
            ("Rechnung", "Rechner"),
            ("invoice", "voice"),
            ("muller", "Mueller"),
            ("Müller", "Miller"),
            ("2026", "2025"),
        ] {
            assert!(!matches(query, doc), "{query} must not find {doc}");
        }
    }

    #[test]
    fn long_words_are_skipped_but_keep_their_position() {
        let long = "x".repeat(MAX_WORD_CHARS + 1);
        let ws = words(&format!("a {long} b"));
        assert_eq!(ws.len(), 2);
        assert_eq!(ws[1].position, 2);
    }

    #[test]
    fn forms_have_no_duplicates_and_start_with_the_folded_word() {
        let s = Stemmers::default();
        let w = &words("Termine")[0];
        let forms = s.forms(w);
        assert_eq!(forms[0], "termine");
        assert!(forms.contains(&"termin".to_string()));
        let mut dedup = forms.clone();
        dedup.dedup();
        assert_eq!(dedup.len(), forms.len());
        assert!(!s.extra_stems(w).contains(&"termine".to_string()));
    }

    proptest::proptest! {
        #[test]
        fn words_are_valid_slices_in_order_with_folded_forms(
            text in "(\\PC|[ÄÖÜäöüßẞ\u{308}\u{301} .,-]){0,200}"
        ) {
            let ws = words(&text);
            let mut last_end = 0;
            let mut last_pos = None;
            for w in &ws {
                proptest::prop_assert!(w.range.start >= last_end);
                let slice = text.get(w.range.clone());
                proptest::prop_assert!(slice.is_some_and(|s| !s.is_empty()));
                proptest::prop_assert!(!w.folded.is_empty());
                proptest::prop_assert!(last_pos.is_none_or(|p| w.position > p));
                // Folding is idempotent: the folded form folds to itself.
                proptest::prop_assert_eq!(&fold(&w.folded).0, &w.folded);
                last_end = w.range.end;
                last_pos = Some(w.position);
            }
        }
    }
}
