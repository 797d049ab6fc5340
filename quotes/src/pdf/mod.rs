//! The quote as a PDF, rendered on the device: A4, the freelancer's letterhead and logo,
//! the customer, the item table (its header repeated on every page it runs over),
//! the totals per VAT rate, validity, payment terms, notes, page numbers and, with bank
//! details, an EPC GiroCode. Pure computation on the inputs: no file, no network, no
//! system font — the same quote gives the same bytes on every device (the record keeps
//! their SHA-256).
//!
//! Why [krilla](https://github.com/LaurenzV/krilla) (0.8): it is the PDF writer of typst,
//! released and maintained with it, pure Rust and `forbid(unsafe_code)`, and it builds
//! with our rustc 1.95 (its MSRV is 1.92). It embeds TrueType fonts **subset** to the
//! glyphs used (`subsetter`, also typst's) as CID fonts with a ToUnicode map, so a quote
//! stays small (≈ 30 KB for two fonts of 1.4 MB) and its text — umlauts, ß, € — can be
//! searched, copied and extracted (`pdftotext`), which tax software and screen readers
//! need. It takes PNG and JPEG logos (JPEG passed through) and fills paths: all we need.
//! The alternatives: `printpdf` would also do, but is kept by fewer hands and does not
//! carry typst's volume of real documents; `genpdf` (layout included) sits on an old
//! `printpdf` and has not been released for years; `lopdf` is a low-level object editor
//! (font embedding and subsetting would be ours to write). Krilla has no layout engine,
//! so line and page breaking are ours (`layout.rs`), kept deliberately simple: greedy
//! word wrap by the shaped advance (`text.rs`); rows move to the next page whole
//! (`flow.rs`, shared with [`render_document`], the generic document of labelled values
//! the app renders a contact's consent proof with).

mod document;
mod draw;
mod flow;
mod labels;
mod layout;
mod text;

pub use document::{Document, Section, render_document};
use krilla::image::Image;
use qrcode::{EcLevel, QrCode};

use crate::{
    BusinessDetails, Customer, DetailsError, FieldError, GiroError, LogoKind, Quote, epc_payload,
    logo_kind,
};

/// Why a quote cannot be rendered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PdfError {
    /// The quote fails its checks ([`Quote::check`]); nothing incomplete is rendered.
    #[error("the quote is not complete: {0:?}")]
    Quote(Vec<FieldError>),
    /// The business details fail their checks ([`BusinessDetails::check`]).
    #[error("the business details are not complete: {0:?}")]
    Details(Vec<DetailsError>),
    /// The logo is a PNG or JPEG by its first bytes but cannot be decoded.
    #[error("the logo cannot be read: {0}")]
    Logo(String),
    /// The bank details do not make a GiroCode (an amount of 0 € just leaves it out).
    #[error("no GiroCode: {0}")]
    GiroCode(#[from] GiroError),
    /// The GiroCode text does not fit a QR code (cannot happen within the EPC limits).
    #[error("the QR code cannot be made: {0}")]
    Qr(String),
    /// A vendored font could not be read (a broken build).
    #[error("the embedded font cannot be read")]
    Font,
    /// A shape with a size that is not finite (a layout bug).
    #[error("invalid geometry")]
    Geometry,
    /// krilla could not write the document.
    #[error("the PDF cannot be written: {0}")]
    Pdf(String),
}

/// Renders `quote` for `customer` with the sender's `details`, in German or English.
/// The quote and the details are checked first; their problems come back as
/// [`PdfError::Quote`] / [`PdfError::Details`], field by field.
pub fn render(
    quote: &Quote,
    details: &BusinessDetails,
    customer: &Customer,
    german: bool,
) -> Result<Vec<u8>, PdfError> {
    let problems = quote.check();
    if !problems.is_empty() {
        return Err(PdfError::Quote(problems));
    }
    let problems = details.check();
    if !problems.is_empty() {
        return Err(PdfError::Details(problems));
    }
    let fonts = text::fonts()?;
    let labels = labels::Labels::get(german);
    let totals = quote.totals();
    let logo = match &details.logo {
        Some(bytes) => {
            let data = bytes.clone().into();
            let image = match logo_kind(bytes) {
                Some(LogoKind::Png) => Image::from_png(data, true),
                Some(LogoKind::Jpeg) => Image::from_jpeg(data, true),
                None => Err("neither PNG nor JPEG".into()),
            }
            .map_err(PdfError::Logo)?;
            Some(image)
        }
        None => None,
    };
    let giro = girocode(quote, details, totals.gross)?;
    let pages = layout::layout(
        fonts,
        &layout::Input {
            quote,
            details,
            customer,
            labels,
            totals: &totals,
            logo: logo.as_ref().map(Image::size),
            giro,
        },
    );
    let meta = draw::Meta {
        title: format!("{} {} – {}", labels.quote, quote.number, quote.title.trim()),
        author: details.name.trim().to_owned(),
        german,
    };
    draw::draw(&pages, fonts, logo.as_ref(), meta)
}

/// The GiroCode's modules (with the quiet zone of four modules the standard asks for),
/// when an IBAN is set and there is something to pay. Error correction level M, as
/// EPC069-12 prescribes.
fn girocode(
    quote: &Quote,
    details: &BusinessDetails,
    gross: crate::Money,
) -> Result<Option<(usize, Vec<bool>)>, PdfError> {
    if details.iban.trim().is_empty() {
        return Ok(None);
    }
    let bic = Some(details.bic.as_str());
    let payload = match epc_payload(
        &details.name,
        &details.iban,
        bic,
        gross,
        &quote.number.to_string(),
    ) {
        Ok(p) => p,
        // Nothing to transfer (0 €): no code rather than no quote.
        Err(GiroError::Amount) => return Ok(None),
        Err(e) => return Err(e.into()),
    };
    let code = QrCode::with_error_correction_level(payload.as_bytes(), EcLevel::M)
        .map_err(|e| PdfError::Qr(e.to_string()))?;
    let inner = code.width();
    let colors = code.to_colors();
    let width = inner + 8;
    let mut dark = vec![false; width * width];
    for (i, c) in colors.iter().enumerate() {
        dark[(i / inner + 4) * width + i % inner + 4] = *c == qrcode::Color::Dark;
    }
    Ok(Some((width, dark)))
}
