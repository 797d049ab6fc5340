//! Writes the sample quotes as PDFs: `cargo run -p kontor-quotes --example sample_pdf --
//! <out-dir>` gives `quote-de.pdf`, `quote-en.pdf` (with logo and GiroCode), `quote-long.pdf`
//! (50 items) and `quote-kleinunternehmer.pdf` (§ 19). The screenshots in
//! `docs/screenshots/quote-*.png` are their first pages (`pdftoppm -png -r 60 -singlefile`).

#[path = "../tests/support/sample.rs"]
mod sample;

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .ok_or("usage: sample_pdf <out-dir>")?,
    );
    std::fs::create_dir_all(&out)?;
    let customer = sample::customer();
    let mut small = sample::quote(true);
    small.small_business = true;
    for (name, quote, details, german) in [
        (
            "quote-de.pdf",
            sample::quote(true),
            sample::details_with_logo(true),
            true,
        ),
        (
            "quote-en.pdf",
            sample::quote(false),
            sample::details_with_logo(true),
            false,
        ),
        (
            "quote-long.pdf",
            sample::long_quote(50),
            sample::details(false),
            true,
        ),
        (
            "quote-kleinunternehmer.pdf",
            small,
            sample::details(false),
            true,
        ),
    ] {
        let pdf = kontor_quotes::pdf::render(&quote, &details, &customer, german)?;
        std::fs::write(out.join(name), &pdf)?;
        println!("{name}: {} bytes", pdf.len());
    }
    Ok(())
}
