//! Highlights and snippets, recomputed on a hit's stored text with the same analyzer
//! the index used: a word is highlighted when one of its forms matched a query term,
//! a prefix, or a phrase at that place. tantivy's own snippet generator only knows its
//! own tokenizers' terms and would miss stems and umlaut forms.

use std::ops::Range;

use crate::analysis::{Stemmers, Word, words};
use crate::query::Clause;

/// A text up to this many chars is shown whole; a longer one as a window of this size.
pub const SNIPPET_CHARS: usize = 200;
/// Chars of context shown before the first match in a window.
const CONTEXT_BEFORE: usize = 60;
const ELLIPSIS: &str = "…";
/// How far (in chars) a window edge moves to reach a space instead of cutting a word.
const SNAP_CHARS: usize = 20;

fn is_exact(w: &Word, term: &str) -> bool {
    w.folded == term || w.alt.as_deref() == Some(term)
}

fn has_prefix(w: &Word, prefix: &str) -> bool {
    w.folded.starts_with(prefix) || w.alt.as_deref().is_some_and(|a| a.starts_with(prefix))
}

/// Byte ranges (sorted, disjoint) of the words of `text` that `clauses` matched.
pub fn highlight(stemmers: &Stemmers, text: &str, clauses: &[Clause]) -> Vec<Range<usize>> {
    let ws = words(text);
    let mut marked = vec![false; ws.len()];
    let mut forms_cache: Vec<Option<Vec<String>>> = vec![None; ws.len()];
    let mut forms_of = |i: usize| -> Vec<String> {
        forms_cache[i]
            .get_or_insert_with(|| stemmers.forms(&ws[i]))
            .clone()
    };
    for clause in clauses {
        match clause {
            Clause::Word(forms) => {
                for (i, m) in marked.iter_mut().enumerate() {
                    if forms_of(i).iter().any(|f| forms.contains(f)) {
                        *m = true;
                    }
                }
            }
            Clause::Prefix(prefix) => {
                for (i, m) in marked.iter_mut().enumerate() {
                    if has_prefix(&ws[i], prefix) {
                        *m = true;
                    }
                }
            }
            Clause::WordOrPrefix { forms, prefix } => {
                for (i, m) in marked.iter_mut().enumerate() {
                    if has_prefix(&ws[i], prefix) || forms_of(i).iter().any(|f| forms.contains(f)) {
                        *m = true;
                    }
                }
            }
            Clause::Phrase {
                words: phrase,
                prefix,
            } => {
                let n = phrase.len();
                for start in 0..ws.len() {
                    if start + n > ws.len() {
                        break;
                    }
                    let ok = (0..n).all(|k| {
                        let w = &ws[start + k];
                        let adjacent = w.position == ws[start].position + k;
                        let last = k + 1 == n;
                        adjacent
                            && if last && *prefix {
                                has_prefix(w, &phrase[k])
                            } else {
                                is_exact(w, &phrase[k])
                            }
                    });
                    if ok {
                        marked[start..start + n].iter_mut().for_each(|m| *m = true);
                    }
                }
            }
        }
    }
    ws.iter()
        .zip(marked)
        .filter(|(_, m)| *m)
        .map(|(w, _)| w.range.clone())
        .collect()
}

/// The text to show for a hit, and `ranges` moved into it: the whole text if it has at
/// most [`SNIPPET_CHARS`] chars, else a window around the first range, with "…" where
/// text was cut (always on char boundaries).
pub fn snippet(text: &str, ranges: &[Range<usize>]) -> (String, Vec<Range<usize>>) {
    let total = text.chars().count();
    if total <= SNIPPET_CHARS {
        return (text.to_owned(), ranges.to_vec());
    }
    let anchor = ranges.first().map_or(0, |r| r.start.min(text.len()));
    // Char index of the anchor, then the window [first, first + SNIPPET_CHARS) in chars.
    let anchor_char = text[..anchor].chars().count();
    let first = anchor_char
        .saturating_sub(CONTEXT_BEFORE)
        .min(total - SNIPPET_CHARS);
    let byte_at = |char_idx: usize| {
        text.char_indices()
            .nth(char_idx)
            .map_or(text.len(), |(i, _)| i)
    };
    let mut start = byte_at(first);
    let mut end = byte_at(first + SNIPPET_CHARS);
    // Do not begin or end inside a word when a space is near (and the first match stays
    // whole): "…Straße 5" rather than "…aße 5".
    if start > 0
        && let Some(i) = text[start..anchor.max(start)]
            .char_indices()
            .take(SNAP_CHARS)
            .find(|(_, c)| c.is_whitespace())
            .map(|(i, c)| start + i + c.len_utf8())
    {
        start = i;
    }
    let keep_to = ranges.first().map_or(start, |r| r.end.min(end));
    if end < text.len()
        && let Some(i) = text[keep_to.max(start)..end]
            .char_indices()
            .rev()
            .take(SNAP_CHARS)
            .find(|(_, c)| c.is_whitespace())
            .map(|(i, _)| keep_to.max(start) + i)
    {
        end = i;
    }
    let mut out = String::with_capacity(end - start + 2 * ELLIPSIS.len());
    if start > 0 {
        out.push_str(ELLIPSIS);
    }
    let shift = out.len();
    out.push_str(&text[start..end]);
    if end < text.len() {
        out.push_str(ELLIPSIS);
    }
    let moved = ranges
        .iter()
        .filter(|r| r.start >= start && r.start < end)
        .map(|r| (r.start - start + shift)..(r.end.min(end) - start + shift))
        .collect();
    (out, moved)
}

#[cfg(test)]
#[allow(clippy::single_range_in_vec_init)]
mod tests {
    use super::*;
    use crate::query::parse;

    fn marks<'a>(text: &'a str, query: &str, prefix_last: bool) -> Vec<&'a str> {
        let s = Stemmers::default();
        let clauses = parse(&s, query, prefix_last);
        highlight(&s, text, &clauses)
            .into_iter()
            .map(|r| &text[r])
            .collect()
    }

    #[test]
    fn marks_words_by_any_form() {
        assert_eq!(
            marks(
                "Die Angebote für Müller und die Terrasse",
                "angebot mueller termin",
                false
            ),
            ["Angebote", "Müller"]
        );
        assert_eq!(
            marks("Straße 5, Strasse 6", "straße", false),
            ["Straße", "Strasse"]
        );
    }

    #[test]
    fn marks_prefixes_and_phrases_only_where_they_match() {
        assert_eq!(
            marks("Rechnung und Rechner", "rechn*", false),
            ["Rechnung", "Rechner"]
        );
        assert_eq!(marks("Rechnung und Rechner", "rechnu", true), ["Rechnung"]);
        assert_eq!(
            marks("neue Straße, die Straße ist neu", "\"neue strasse\"", false),
            ["neue", "Straße"]
        );
        assert_eq!(
            marks("A-2026-0007 and A-2026-0008", "A-2026-0007", false),
            ["A", "2026", "0007"]
        );
        assert_eq!(
            marks("A-2026-0007 and B-2026", "A-2026-00", true),
            ["A", "2026", "0007"]
        );
    }

    #[test]
    fn short_text_is_whole_long_text_is_a_window_with_ellipses() {
        let (s, r) = snippet("kurz", &[0..4]);
        assert_eq!((s.as_str(), r), ("kurz", vec![0..4]));

        let text = format!("{} Zielwort {}", "ä".repeat(300), "ö".repeat(300));
        let at = text.find("Zielwort").unwrap();
        let (s, r) = snippet(&text, &[at..at + 8]);
        assert!(s.starts_with('…') && s.ends_with('…'));
        assert!(s.chars().count() <= SNIPPET_CHARS + 2);
        assert_eq!(&s[r[0].clone()], "Zielwort");

        // Window edges snap to spaces instead of cutting words.
        let text = format!(
            "{} Anfang {} Zielwort {}",
            "wort ".repeat(40),
            "füllwort ".repeat(5),
            "ende ".repeat(60)
        );
        let at = text.find("Zielwort").unwrap();
        let (s, r) = snippet(&text, &[at..at + 8]);
        assert_eq!(&s[r[0].clone()], "Zielwort");
        let inner = s.trim_start_matches('…').trim_end_matches('…');
        assert!(inner.starts_with(|c: char| c.is_alphanumeric()), "{s}");
        assert!(
            inner.ends_with(|c: char| c.is_alphanumeric()) || inner.ends_with(' '),
            "{s}"
        );
        for w in inner.split_whitespace() {
            assert!(
                ["wort", "Anfang", "füllwort", "Zielwort", "ende"].contains(&w),
                "cut word {w} in {s}"
            );
        }

        // A match near the end: the window ends at the end, no trailing ellipsis.
        let text = format!("{} Ende", "x ".repeat(200));
        let at = text.find("Ende").unwrap();
        let (s, r) = snippet(&text, &[at..at + 4]);
        assert!(s.starts_with('…') && !s.ends_with('…'));
        assert_eq!(&s[r[0].clone()], "Ende");

        // No match: the beginning.
        let (s, r) = snippet(&text, &[]);
        assert!(s.starts_with("x x") && s.ends_with('…') && r.is_empty());
    }

    proptest::proptest! {
        #[test]
        fn highlights_and_snippets_are_valid_ranges_on_any_input(
            text in "(\\PC|[äöüß\u{308} .,-]){0,400}",
            start in 0usize..400,
            len in 0usize..24,
            star: bool,
            prefix_last: bool,
        ) {
            // The query is a piece of the text (so words do match), sometimes a prefix.
            let piece: String = text.chars().skip(start).take(len).collect();
            let query = if star { format!("{piece}*") } else { piece };
            let s = Stemmers::default();
            let clauses = parse(&s, &query, prefix_last);
            let ranges = highlight(&s, &text, &clauses);
            for w in ranges.windows(2) {
                proptest::prop_assert!(w[0].end <= w[1].start);
            }
            for r in &ranges {
                proptest::prop_assert!(text.get(r.clone()).is_some());
            }
            let (snip, moved) = snippet(&text, &ranges);
            proptest::prop_assert!(snip.chars().count() <= SNIPPET_CHARS + 2);
            for r in &moved {
                proptest::prop_assert!(snip.get(r.clone()).is_some_and(|w| !w.is_empty()));
            }
        }
    }
}
