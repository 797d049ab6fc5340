//! The query syntax: a tiny parser from what a person types to clauses.
//!
//! Deliberately small, so nothing a person types is an error: bare words are ANDed,
//! `"…"` is a phrase (an unterminated quote runs to the end), `word*` is a prefix,
//! a chunk with punctuation inside (`A-2026-0007`, `1.234,56`) is the phrase of its
//! words. Everything is folded with the document analyzer ([`crate::analysis`]), so
//! the clauses hold index terms, not what was typed. The parser never panics
//! (property-tested) and never fails: characters it does not understand separate words.

use crate::analysis::{Stemmers, words};

/// Shortest prefix that is searched as a prefix (one letter would match half the index).
pub const MIN_PREFIX_CHARS: usize = 2;

/// One condition of a query; a document must satisfy all of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Clause {
    /// A bare word: any of its forms (folded, second form, stems) on the document word.
    Word(Vec<String>),
    /// Exact folded words at adjacent positions, in order; the last one is a prefix
    /// when `prefix` is set (search-as-you-type inside `A-2026-00`).
    Phrase {
        /// Folded words.
        words: Vec<String>,
        /// The last word matches as a prefix.
        prefix: bool,
    },
    /// Documents with a word starting with this folded prefix.
    Prefix(String),
    /// Search-as-you-type: the word's forms OR its folded text as a prefix.
    WordOrPrefix {
        /// Forms of the word, as in [`Clause::Word`].
        forms: Vec<String>,
        /// Folded word, matched as a prefix.
        prefix: String,
    },
}

/// Parses a query. `prefix_last`: the last bare word also matches as a prefix, unless
/// the query ends in whitespace (the person has finished that word).
pub fn parse(stemmers: &Stemmers, text: &str, prefix_last: bool) -> Vec<Clause> {
    let mut clauses = Vec::new();
    // Index in `clauses` of the last bare chunk, if the query ends with it.
    let mut last_bare: Option<usize> = None;
    let mut chars = text.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            last_bare = None;
            continue;
        }
        if c == '"' {
            chars.next();
            let body_start = start + 1;
            let mut end = text.len();
            for (i, c) in chars.by_ref() {
                if c == '"' {
                    end = i;
                    break;
                }
            }
            let folded: Vec<String> = words(&text[body_start..end])
                .into_iter()
                .map(|w| w.folded)
                .collect();
            if !folded.is_empty() {
                clauses.push(Clause::Phrase {
                    words: folded,
                    prefix: false,
                });
            }
            last_bare = None;
            continue;
        }
        // A bare chunk runs to the next whitespace or quote.
        let mut end = text.len();
        while let Some(&(i, c)) = chars.peek() {
            if c.is_whitespace() || c == '"' {
                end = i;
                break;
            }
            chars.next();
        }
        let chunk = &text[start..end];
        let explicit_prefix = chunk.ends_with('*');
        let ws = words(chunk);
        let clause = match ws.len() {
            0 => None,
            1 if explicit_prefix && ws[0].folded.chars().count() >= MIN_PREFIX_CHARS => {
                Some(Clause::Prefix(ws[0].folded.clone()))
            }
            1 => Some(Clause::Word(stemmers.forms(&ws[0]))),
            _ => Some(Clause::Phrase {
                prefix: explicit_prefix
                    && ws
                        .last()
                        .is_some_and(|w| w.folded.chars().count() >= MIN_PREFIX_CHARS),
                words: ws.into_iter().map(|w| w.folded).collect(),
            }),
        };
        match clause {
            Some(clause) => {
                let bare = !explicit_prefix;
                clauses.push(clause);
                last_bare = bare.then_some(clauses.len() - 1);
            }
            None => last_bare = None,
        }
    }
    if prefix_last && let Some(i) = last_bare {
        clauses[i] = match std::mem::replace(&mut clauses[i], Clause::Word(Vec::new())) {
            Clause::Word(forms) if forms[0].chars().count() >= MIN_PREFIX_CHARS => {
                let prefix = forms[0].clone();
                Clause::WordOrPrefix { forms, prefix }
            }
            Clause::Phrase { words, .. }
                if words
                    .last()
                    .is_some_and(|w| w.chars().count() >= MIN_PREFIX_CHARS) =>
            {
                Clause::Phrase {
                    words,
                    prefix: true,
                }
            }
            other => other,
        };
    }
    clauses
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn p(text: &str) -> Vec<Clause> {
        parse(&Stemmers::default(), text, false)
    }

    fn first_forms(c: &Clause) -> &str {
        match c {
            Clause::Word(f) => &f[0],
            Clause::WordOrPrefix { forms, .. } => &forms[0],
            other => panic!("not a word: {other:?}"),
        }
    }

    fn phrase(ws: &[&str], prefix: bool) -> Clause {
        Clause::Phrase {
            words: ws.iter().map(|s| s.to_string()).collect(),
            prefix,
        }
    }

    #[test]
    fn bare_words_are_folded_with_their_stems() {
        let c = p("  Angebote   Müller ");
        assert_eq!(c.len(), 2);
        let Clause::Word(forms) = &c[0] else { panic!() };
        assert_eq!(forms[0], "angebote");
        assert!(forms.contains(&"angebot".to_string()));
        let Clause::Word(forms) = &c[1] else { panic!() };
        assert_eq!(forms[..2], ["muller".to_string(), "mueller".to_string()]);
    }

    #[test]
    fn quotes_make_phrases_and_an_open_quote_runs_to_the_end() {
        assert_eq!(
            p("\"Neue Straße\" x"),
            vec![phrase(&["neue", "strasse"], false), p("x")[0].clone()]
        );
        assert_eq!(p("\"offen bis"), vec![phrase(&["offen", "bis"], false)]);
        assert_eq!(p("\"\" \"  \""), vec![]);
        // A one-word phrase is an exact word (no stems).
        assert_eq!(p("\"Termine\""), vec![phrase(&["termine"], false)]);
    }

    #[test]
    fn punctuation_inside_a_word_makes_a_phrase() {
        assert_eq!(
            p("A-2026-0007"),
            vec![phrase(&["a", "2026", "0007"], false)]
        );
        assert_eq!(p("1.234,56"), vec![phrase(&["1", "234", "56"], false)]);
        assert_eq!(p("(Termin)"), vec![p("Termin")[0].clone()]);
    }

    #[test]
    fn star_makes_a_prefix_of_at_least_two_chars() {
        assert_eq!(p("Rech*"), vec![Clause::Prefix("rech".into())]);
        assert_eq!(p("Straß*"), vec![Clause::Prefix("strass".into())]);
        assert_eq!(first_forms(&p("r*")[0]), "r");
        assert_eq!(p("A-2026-00*"), vec![phrase(&["a", "2026", "00"], true)]);
        assert_eq!(p("* ** -"), vec![]);
    }

    #[test]
    fn prefix_last_applies_only_to_an_unfinished_last_bare_word() {
        let s = Stemmers::default();
        let c = parse(&s, "Termin Rech", true);
        assert!(matches!(c[0], Clause::Word(_)));
        assert!(matches!(&c[1], Clause::WordOrPrefix { prefix, .. } if prefix == "rech"));
        // Finished word (trailing space): no prefix.
        assert!(matches!(
            parse(&s, "Termin Rech ", true)[1],
            Clause::Word(_)
        ));
        // Phrase or quote at the end: unchanged.
        assert_eq!(parse(&s, "\"a b\"", true), vec![phrase(&["a", "b"], false)]);
        assert_eq!(
            parse(&s, "A-2026-00", true),
            vec![phrase(&["a", "2026", "00"], true)]
        );
        // One letter stays a word.
        assert!(matches!(parse(&s, "Termin R", true)[1], Clause::Word(_)));
        assert!(matches!(parse(&s, "Rech", false)[0], Clause::Word(_)));
    }

    proptest! {
        #[test]
        fn never_panics_and_clauses_are_never_empty(text in "\\PC{0,40}", prefix_last: bool) {
            let s = Stemmers::default();
            for c in parse(&s, &text, prefix_last) {
                match c {
                    Clause::Word(f) => prop_assert!(!f.is_empty() && !f[0].is_empty()),
                    Clause::Phrase { words, .. } => prop_assert!(!words.is_empty()),
                    Clause::Prefix(p) => prop_assert!(p.chars().count() >= MIN_PREFIX_CHARS),
                    Clause::WordOrPrefix { forms, prefix } => {
                        prop_assert!(!forms.is_empty());
                        prop_assert!(prefix.chars().count() >= MIN_PREFIX_CHARS);
                    }
                }
            }
        }

        #[test]
        fn never_panics_on_quote_heavy_input(text in "[\"* a-zäß.,\u{308}-]{0,30}", prefix_last: bool) {
            let _ = parse(&Stemmers::default(), &text, prefix_last);
        }
    }
}
