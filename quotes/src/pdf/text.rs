//! Fonts and text: DejaVu Sans, vendored in `quotes/fonts/` and compiled into the binary
//! (so a quote looks the same on every machine, whatever fonts it has), shaped once with
//! rustybuzz so that the width measured for alignment and wrapping is exactly the width
//! drawn.

use std::sync::OnceLock;

use krilla::text::{Font, GlyphId, KrillaGlyph};

use super::PdfError;

static REGULAR: &[u8] = include_bytes!("../../fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../fonts/DejaVuSans-Bold.ttf");

/// One font: krilla's handle (embedding, subsetting) and the shaper's view of it.
pub(crate) struct Face {
    pub(crate) font: Font,
    shaper: rustybuzz::Face<'static>,
    units_per_em: f32,
}

/// The two weights a quote uses.
pub(crate) struct Fonts {
    pub(crate) regular: Face,
    pub(crate) bold: Face,
}

/// Text shaped in one font: the glyphs to draw and their width per point of font size.
#[derive(Debug, Clone)]
pub(crate) struct Run {
    pub(crate) text: String,
    pub(crate) glyphs: Vec<KrillaGlyph>,
    /// The advance of the whole run in em (multiply by the font size).
    pub(crate) width_em: f32,
}

impl Run {
    /// The width at `size` points.
    pub(crate) fn width(&self, size: f32) -> f32 {
        self.width_em * size
    }
}

/// The fonts, parsed once per process (parsing a 750 KB font for every quote would be
/// the slowest part of rendering one).
pub(crate) fn fonts() -> Result<&'static Fonts, PdfError> {
    static FONTS: OnceLock<Option<Fonts>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            Some(Fonts {
                regular: Face::new(REGULAR)?,
                bold: Face::new(BOLD)?,
            })
        })
        .as_ref()
        .ok_or(PdfError::Font)
}

impl Face {
    fn new(data: &'static [u8]) -> Option<Face> {
        let font = Font::new(data.into(), 0)?;
        let shaper = rustybuzz::Face::from_slice(data, 0)?;
        let units_per_em = font.units_per_em();
        Some(Face {
            font,
            shaper,
            units_per_em,
        })
    }

    /// Shapes one line of left-to-right text. Each glyph keeps the byte range of the
    /// characters it shows, which krilla writes into the font's ToUnicode map: that is
    /// what lets `pdftotext` and screen readers get "Größe" and "€" back.
    pub(crate) fn shape(&self, text: &str) -> Run {
        let mut buffer = rustybuzz::UnicodeBuffer::new();
        buffer.push_str(text);
        buffer.set_direction(rustybuzz::Direction::LeftToRight);
        buffer.guess_segment_properties();
        let output = rustybuzz::shape(&self.shaper, &[], buffer);
        let infos = output.glyph_infos();
        let upem = self.units_per_em;
        let mut glyphs = Vec::with_capacity(infos.len());
        let mut width_em = 0.0;
        for (i, (info, pos)) in infos.iter().zip(output.glyph_positions()).enumerate() {
            let start = info.cluster as usize;
            let end = infos[i + 1..]
                .iter()
                .find(|next| next.cluster != info.cluster)
                .map_or(text.len(), |next| next.cluster as usize);
            let advance = pos.x_advance as f32 / upem;
            width_em += advance;
            glyphs.push(KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                advance,
                pos.x_offset as f32 / upem,
                pos.y_offset as f32 / upem,
                pos.y_advance as f32 / upem,
                start..end,
                None,
            ));
        }
        Run {
            text: text.to_owned(),
            glyphs,
            width_em,
        }
    }

    /// The width of `text` at `size` points.
    pub(crate) fn width(&self, text: &str, size: f32) -> f32 {
        self.shape(text).width(size)
    }

    /// Breaks `text` into lines no wider than `max` at `size` points: greedy, by words,
    /// keeping the writer's own line breaks; a word wider than the column is cut by
    /// characters rather than allowed to run into the next column.
    pub(crate) fn wrap(&self, text: &str, size: f32, max: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.lines() {
            let mut line = String::new();
            for word in paragraph.split_whitespace() {
                let candidate = if line.is_empty() {
                    word.to_owned()
                } else {
                    format!("{line} {word}")
                };
                if self.width(&candidate, size) <= max {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(std::mem::take(&mut line));
                }
                if self.width(word, size) <= max {
                    line = word.to_owned();
                } else {
                    for c in word.chars() {
                        line.push(c);
                        if self.width(&line, size) > max && line.chars().count() > 1 {
                            line.pop();
                            lines.push(std::mem::replace(&mut line, c.to_string()));
                        }
                    }
                }
            }
            lines.push(line);
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        lines
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_their_column_and_keep_every_word() {
        let f = &fonts().unwrap().regular;
        let text = "Fliesenarbeiten im Bad inklusive Abdichtung, Grundierung und \
                    Entsorgung des Altmaterials\nZweite Zeile: Donaudampfschifffahrtsgesellschaftskapitän";
        let lines = f.wrap(text, 9.0, 120.0);
        assert!(lines.len() >= 5, "{lines:?}");
        for line in &lines {
            assert!(f.width(line, 9.0) <= 120.0, "{line}");
        }
        assert!(
            lines.iter().any(|l| l.starts_with("Zweite")),
            "own breaks kept"
        );
        let joined: String = lines.concat().split_whitespace().collect();
        let original: String = text.split_whitespace().collect();
        assert_eq!(joined, original);
        assert_eq!(f.wrap("", 9.0, 100.0), vec![String::new()]);
    }

    #[test]
    fn bold_is_wider_and_width_scales_with_size() {
        let fonts = fonts().unwrap();
        let r = fonts.regular.width("Gesamtbetrag", 10.0);
        assert!(fonts.bold.width("Gesamtbetrag", 10.0) > r);
        assert!((fonts.regular.width("Gesamtbetrag", 20.0) - 2.0 * r).abs() < 0.01);
    }
}
