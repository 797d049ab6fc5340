//! The laid-out pages drawn into a PDF with krilla.

use krilla::{
    Document, SerializeSettings,
    color::rgb,
    geom::{PathBuilder, Point, Rect, Size, Transform},
    image::Image,
    metadata::Metadata,
    num::NormalizedF32,
    page::PageSettings,
    paint::{Fill, FillRule},
    surface::Surface,
};

use super::{
    PdfError,
    flow::{HEIGHT, Ink, Op, WIDTH},
    text::Fonts,
};

/// The document's title and language, for viewers and screen readers.
pub(crate) struct Meta {
    pub(crate) title: String,
    pub(crate) author: String,
    pub(crate) german: bool,
}

fn fill(ink: Ink) -> Fill {
    let (r, g, b) = match ink {
        Ink::Text => (0x1d, 0x23, 0x2b),
        Ink::Muted => (0x5b, 0x63, 0x6e),
        Ink::Accent => (0x1b, 0x3f, 0x6b),
        Ink::Rule => (0xc9, 0xce, 0xd5),
        Ink::Band => (0xe9, 0xee, 0xf4),
    };
    Fill {
        paint: rgb::Color::new(r, g, b).into(),
        opacity: NormalizedF32::ONE,
        rule: FillRule::NonZero,
    }
}

/// Draws `pages` and serialises the PDF. Fonts are subset to the glyphs used (krilla
/// with `subsetter`) and content streams compressed, which keeps a quote far below
/// 150 KB although the two fonts weigh 1.4 MB.
pub(crate) fn draw(
    pages: &[Vec<Op>],
    fonts: &Fonts,
    logo: Option<&Image>,
    meta: Meta,
) -> Result<Vec<u8>, PdfError> {
    let mut document = Document::new_with(SerializeSettings {
        // No XMP packet: the Info dictionary carries title and author, and without it
        // the bytes are the same for the same quote (the record keeps the PDF's hash).
        xmp_metadata: false,
        ..SerializeSettings::default()
    });
    document.set_metadata(
        Metadata::new()
            .title(meta.title)
            .authors(vec![meta.author])
            .creator("Kontor".into())
            .language(if meta.german { "de-DE" } else { "en" }.into()),
    );
    let settings = PageSettings::from_wh(WIDTH, HEIGHT).ok_or(PdfError::Geometry)?;
    for ops in pages {
        let mut page = document.start_page_with(settings.clone());
        let mut surface = page.surface();
        for op in ops {
            draw_op(&mut surface, op, fonts, logo)?;
        }
        surface.finish();
        page.finish();
    }
    document.finish().map_err(|e| PdfError::Pdf(e.to_string()))
}

fn draw_op(
    surface: &mut Surface<'_>,
    op: &Op,
    fonts: &Fonts,
    logo: Option<&Image>,
) -> Result<(), PdfError> {
    match op {
        Op::Text {
            x,
            y,
            size,
            bold,
            ink,
            run,
        } => {
            let face = if *bold { &fonts.bold } else { &fonts.regular };
            surface.set_fill(Some(fill(*ink)));
            surface.draw_glyphs(
                Point::from_xy(*x, *y),
                &run.glyphs,
                face.font.clone(),
                &run.text,
                *size,
                false,
            );
        }
        Op::Rect { x, y, w, h, ink } => {
            let mut path = PathBuilder::new();
            path.push_rect(Rect::from_xywh(*x, *y, *w, *h).ok_or(PdfError::Geometry)?);
            surface.set_fill(Some(fill(*ink)));
            surface.draw_path(&path.finish().ok_or(PdfError::Geometry)?);
        }
        Op::Logo { x, y, w, h } => {
            if let Some(image) = logo {
                surface.push_transform(&Transform::from_translate(*x, *y));
                surface.draw_image(
                    image.clone(),
                    Size::from_wh(*w, *h).ok_or(PdfError::Geometry)?,
                );
                surface.pop();
            }
        }
        Op::Qr {
            x,
            y,
            module,
            width,
            dark,
        } => {
            // One path for all dark modules, each row's runs merged into one rectangle:
            // filled at once, neighbouring modules leave no hairline gaps when a viewer
            // or a phone's camera rasterises the page.
            let mut path = PathBuilder::new();
            for (row, cells) in dark.chunks(*width).enumerate() {
                let mut col = 0;
                while col < cells.len() {
                    if !cells[col] {
                        col += 1;
                        continue;
                    }
                    let start = col;
                    while col < cells.len() && cells[col] {
                        col += 1;
                    }
                    let rect = Rect::from_xywh(
                        x + start as f32 * module,
                        y + row as f32 * module,
                        (col - start) as f32 * module,
                        *module,
                    )
                    .ok_or(PdfError::Geometry)?;
                    path.push_rect(rect);
                }
            }
            surface.set_fill(Some(Fill {
                paint: rgb::Color::black().into(),
                ..fill(Ink::Text)
            }));
            surface.draw_path(&path.finish().ok_or(PdfError::Geometry)?);
        }
    }
    Ok(())
}
