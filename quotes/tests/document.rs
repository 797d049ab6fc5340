//! The generic document (`pdf::render_document`, the app's consent proof) read back with
//! poppler's `pdftotext`: umlauts, ß and € extract as written, a long event id wraps
//! inside its column and comes back whole, many sections run over pages with "Seite i
//! von n" / "Page i of n" on each, nothing is drawn twice at a page break.

mod support;

use kontor_quotes::pdf::{Document, Section, render_document};
use support::poppler::{pages, poppler, squeezed};

/// A Matrix event id far longer than the value column (real ones are 44 characters).
fn long_id(i: usize) -> String {
    format!("${i}_{}", "Xy7Lq2VbNw9ZkP3rT8mHc1dFsGa5JeQo".repeat(6))
}

fn sample(german: bool, sections: usize) -> Document {
    Document {
        title: "Einwilligungsnachweis – Jörg Weiß".into(),
        lines: vec![
            "Bäckerei Müller & Söhne GmbH, Große Straße 12".into(),
            "Erstellt am 15.01.2027 um 09:00 Uhr (UTC)".into(),
        ],
        sections: (1..=sections)
            .map(|i| Section {
                heading: format!("Eintrag {i}: Einwilligung erteilt"),
                rows: vec![
                    ("Zweck".into(), "Terminerinnerungen über Kontor".into()),
                    ("Betrag".into(), "1.234,56 €".into()),
                    ("Ereignis-ID der Anfrage".into(), long_id(i)),
                    (
                        "Text der Anfrage".into(),
                        "Dürfen wir Ihnen Termine über Kontor schicken? Antworten Sie „JA“ \
                         oder „NEIN“.\nÄußerst wichtig: Größe, Maß, Fuß."
                            .into(),
                    ),
                ],
                paragraphs: vec![format!("Absatz {i} – straßenweit gültig.")],
            })
            .collect(),
        footer: "Kontor · Nachweis nach Art. 7 Abs. 1 DSGVO".into(),
        author: "Praxis Berger".into(),
        german,
    }
}

/// The text of page `page` (1-based).
fn page_text(pdf: &[u8], page: usize) -> String {
    let p = page.to_string();
    poppler("pdftotext", &["-layout", "-f", &p, "-l", &p], pdf)
}

/// The text without any white space: what survives a value wrapped by characters.
fn solid(pdf: &[u8]) -> String {
    squeezed(pdf).split_whitespace().collect()
}

#[test]
fn umlauts_euro_and_long_event_ids_read_back_and_sections_paginate() {
    let doc = sample(true, 40);
    let pdf = render_document(&doc).unwrap();
    let t = squeezed(&pdf);
    for expected in [
        "Einwilligungsnachweis – Jörg Weiß",
        "Bäckerei Müller & Söhne GmbH, Große Straße 12",
        "Terminerinnerungen über Kontor",
        "1.234,56 €",
        "Dürfen wir Ihnen Termine über Kontor schicken? Antworten Sie „JA“ oder „NEIN“.",
        "Äußerst wichtig: Größe, Maß, Fuß.",
        "Absatz 40 – straßenweit gültig.",
        "Kontor · Nachweis nach Art. 7 Abs. 1 DSGVO",
    ] {
        assert!(t.contains(expected), "missing {expected:?} in:\n{t}");
    }
    let all = solid(&pdf);
    for i in 1..=40 {
        // Cut by characters to fit its column, the id is whole once the breaks go.
        assert_eq!(all.matches(&long_id(i)).count(), 1, "id {i}");
        let heading = format!("Eintrag {i}: Einwilligung erteilt");
        assert_eq!(t.matches(&heading).count(), 1, "{heading} once");
    }
    let n = pages(&pdf);
    assert!(n >= 3, "{n} pages");
    for page in 1..=n {
        let text = page_text(&pdf, page);
        assert!(
            text.contains(&format!("Seite {page} von {n}")),
            "page {page}:\n{text}"
        );
        if page > 1 {
            assert!(
                text.contains("Einwilligungsnachweis – Jörg Weiß · Fortsetzung"),
                "running head on page {page}:\n{text}"
            );
        }
    }
    assert_eq!(render_document(&doc).unwrap(), pdf, "the same bytes");
}

#[test]
fn english_pages_and_a_value_longer_than_a_page_continues_on_the_next() {
    let mut doc = sample(false, 1);
    let words: Vec<String> = (1..=900).map(|i| format!("w{i}")).collect();
    doc.sections[0]
        .rows
        .push(("Answer".into(), words.join(" ")));
    let pdf = render_document(&doc).unwrap();
    let n = pages(&pdf);
    assert!(n >= 2, "{n} pages");
    let t = squeezed(&pdf);
    for w in &words {
        assert!(t.contains(&format!(" {w} ")), "{w} missing");
    }
    for page in 1..=n {
        let text = page_text(&pdf, page);
        assert!(text.contains(&format!("Page {page} of {n}")), "{text}");
        assert!(!text.contains("Seite"), "{text}");
    }
    assert!(page_text(&pdf, 2).contains("· continued"));
}
