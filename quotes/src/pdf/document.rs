//! A generic document of labelled values, for records a person must be able to read
//! and keep (the consent proof of a contact): a title and lines under it, sections of
//! label–value rows and paragraphs, a footer and the page number on every page.
//!
//! The same fonts, wrapping and page breaking as the quote (`flow.rs`): a value too long
//! for its column wraps (a word longer than the column, such as a Matrix event id, is
//! cut by characters), a row moves to the next page whole unless it is taller than half
//! a page, and every page ends with "Seite i von n" / "Page i of n". The caller words
//! every label; this crate only adds the page numbers and "continued" in the document's
//! language. Values are printed as given: nothing is translated, shortened or dropped.
//! The same document gives the same bytes.

use super::{
    PdfError, draw,
    flow::{BODY, CELL, Flow, Ink, LEFT, LINE, PAD, RIGHT, Style},
    labels::Labels,
    text,
};

/// A document to render with [`render_document`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Document {
    /// The heading of the first page, also the PDF's title.
    pub title: String,
    /// Lines under the title (who, what, when).
    pub lines: Vec<String>,
    /// The body, in order.
    pub sections: Vec<Section>,
    /// Printed at the foot of every page, beside the page number.
    pub footer: String,
    /// The PDF's author.
    pub author: String,
    /// German ("Seite 1 von 2", document language `de-DE`) or English.
    pub german: bool,
}

/// One section: a heading, label–value rows, then paragraphs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Section {
    /// The section's heading (kept on the page of its first row).
    pub heading: String,
    /// Label and value, one row each; a value may hold line breaks.
    pub rows: Vec<(String, String)>,
    /// Running text after the rows.
    pub paragraphs: Vec<String>,
}

/// The width of the label column; a longer label wraps.
const LABEL: f32 = 150.0;

const TITLE: Style = Style {
    size: 17.0,
    bold: true,
    ink: Ink::Accent,
};
const HEADING: Style = Style {
    size: 11.0,
    bold: true,
    ink: Ink::Accent,
};
const LABEL_STYLE: Style = Style {
    ink: Ink::Muted,
    ..CELL
};

/// Renders `doc` as an A4 PDF.
pub fn render_document(doc: &Document) -> Result<Vec<u8>, PdfError> {
    let fonts = text::fonts()?;
    let labels = Labels::get(doc.german);
    let mut flow = Flow::new(
        fonts,
        format!("{} · {}", doc.title.trim(), labels.continued),
    );
    for line in flow.wrap(doc.title.trim(), TITLE, RIGHT - LEFT) {
        flow.text(LEFT, flow.y + TITLE.size, TITLE, &line);
        flow.y += TITLE.size + 5.0;
    }
    flow.y += 4.0;
    for line in &doc.lines {
        flow.paragraph(line, BODY, 0.0);
    }
    flow.y += 14.0;
    for section in &doc.sections {
        self::section(&mut flow, section);
    }
    flow.footers(&doc.footer, labels);
    let meta = draw::Meta {
        title: doc.title.trim().to_owned(),
        author: doc.author.trim().to_owned(),
        german: doc.german,
    };
    draw::draw(&flow.pages, fonts, None, meta)
}

fn section(flow: &mut Flow<'_>, section: &Section) {
    // The heading stays with (at least) the first line of its first row.
    flow.ensure(HEADING.size * 1.35 + 2.0 * PAD + 2.0 * LINE);
    for line in flow.wrap(section.heading.trim(), HEADING, RIGHT - LEFT) {
        flow.text(LEFT, flow.y + HEADING.size, HEADING, &line);
        flow.y += HEADING.size * 1.35;
    }
    flow.y += 2.0;
    flow.rect(LEFT, flow.y, RIGHT - LEFT, 0.8, Ink::Accent);
    let value_x = LEFT + LABEL;
    for (label, value) in &section.rows {
        let label = flow.wrap(label.trim(), LABEL_STYLE, LABEL - 2.0 * PAD);
        let value = flow.wrap(value, CELL, RIGHT - value_x - PAD);
        flow.row(value.len(), label.len(), |flow, range, first, baseline| {
            let chunk = &value[range];
            let label_lines: &[String] = if first { &label } else { &[] };
            for (x, lines, style) in [(LEFT, label_lines, LABEL_STYLE), (value_x, chunk, CELL)] {
                for (n, line) in lines.iter().enumerate() {
                    flow.text(x + PAD, baseline + n as f32 * LINE, style, line);
                }
            }
            chunk.len().max(label_lines.len())
        });
    }
    flow.y += 6.0;
    for paragraph in &section.paragraphs {
        flow.paragraph(paragraph.trim(), BODY, 4.0);
    }
    flow.y += 14.0;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(rows: usize) -> Document {
        Document {
            title: "Nachweis".into(),
            lines: vec!["Erstellt am 15.01.2027".into()],
            sections: vec![Section {
                heading: "Verlauf".into(),
                rows: (0..rows)
                    .map(|i| (format!("Zeile {i}"), format!("Wert {i}")))
                    .collect(),
                paragraphs: vec!["Ende.".into()],
            }],
            footer: "Kontor".into(),
            author: "Kontor".into(),
            german: true,
        }
    }

    #[test]
    fn many_rows_run_over_pages_and_the_same_document_gives_the_same_bytes() {
        let fonts = text::fonts().unwrap();
        let one = render_document(&doc(3)).unwrap();
        let many = render_document(&doc(200)).unwrap();
        assert!(many.len() > one.len());
        assert_eq!(render_document(&doc(200)).unwrap(), many);
        // The flow the renderer used: more than one page for 200 rows.
        let mut flow = Flow::new(fonts, String::new());
        section(&mut flow, &doc(200).sections[0]);
        assert!(flow.pages.len() >= 3, "{} pages", flow.pages.len());
    }
}
