//! The rendered PDF read back the way others read it: text with poppler's `pdftotext`
//! (what tax software and search do), fonts with `pdffonts`, the GiroCode by
//! rasterising the page with `pdftoppm` and decoding it like a banking app would.
//! poppler-utils is required (`scripts/setup.sh` installs it): a missing tool fails the
//! test, it does not skip it.

mod support;

use kontor_quotes::{
    Money, SMALL_BUSINESS_NOTE, epc_payload,
    pdf::{PdfError, render},
};
use support::{
    poppler::{pages, poppler, poppler_on, squeezed},
    sample,
};

const LIMIT: usize = 150 * 1024;

#[test]
fn german_quote_reads_back_with_umlauts_and_euro() {
    let quote = sample::quote(true);
    let pdf = render(&quote, &sample::details(false), &sample::customer(), true).unwrap();
    assert!(pdf.len() < LIMIT, "{} bytes", pdf.len());
    let t = squeezed(&pdf);
    let gross = quote.totals().gross.format(true);
    for expected in [
        "Malerbetrieb Jörg Weiß",
        "Große Straße 12",
        "Steuernummer: 12/345/67890",
        "Angebot für",
        "Bäckerei Müller & Söhne GmbH",
        "Angebot A-2026-0007",
        "Renovierung des Verkaufsraums, Größe ca. 85 m² – Fußböden bleiben",
        "Pos. Beschreibung Menge Einheit Einzelpreis USt. Gesamt",
        "Straßenseite",
        "Fachbuch „Farbe im Laden“",
        "1.234,56 €",
        "Rabatt 3 % -89,37 €",
        "Netto 19 % 2.860,64 €",
        "USt. 19 % 543,52 €",
        "Netto 7 % 29,00 €",
        "USt. 7 % 2,03 €",
        &format!("Gesamtbetrag {gross}"),
        "Gültig bis 31.12.2026",
        "Dieses Angebot ist gültig bis 31.12.2026.",
        "Zahlungsbedingungen Zahlbar innerhalb von 14 Tagen",
        "Möbel räumen wir gerne gegen Aufpreis.",
        "Seite 1 von 1",
    ] {
        assert!(t.contains(expected), "missing {expected:?} in:\n{t}");
    }
    assert!(!t.contains("GiroCode"), "no bank details, no GiroCode");
    assert_eq!(pages(&pdf), 1);
}

#[test]
fn english_quote_has_english_labels_and_numbers() {
    let pdf = render(
        &sample::quote(false),
        &sample::details(false),
        &sample::customer(),
        false,
    )
    .unwrap();
    let t = squeezed(&pdf);
    for expected in [
        "Quote A-2026-0007",
        "Quote for",
        "Bäckerei Müller & Söhne GmbH",
        "No. Description Qty Unit Unit price VAT Total",
        "Größe approx. 85 m²",
        "(Straßenseite)",
        "€1,234.56",
        "VAT 19% €543.52",
        "Valid until 2026-12-31",
        "Tax number: 12/345/67890",
        "Page 1 of 1",
    ] {
        assert!(t.contains(expected), "missing {expected:?} in:\n{t}");
    }
    assert!(!t.contains("Seite"));
}

#[test]
fn fonts_are_embedded_and_subset() {
    let pdf = render(
        &sample::quote(true),
        &sample::details(false),
        &sample::customer(),
        true,
    )
    .unwrap();
    let fonts = poppler("pdffonts", &[], &pdf);
    let rows: Vec<&str> = fonts.lines().skip(2).collect();
    assert_eq!(rows.len(), 2, "regular and bold:\n{fonts}");
    for row in rows {
        assert!(row.contains("DejaVuSans"), "{row}");
        // Columns: name type encoding emb sub uni object ID.
        let cols: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            &cols[cols.len() - 5..cols.len() - 2],
            ["yes", "yes", "yes"],
            "{row}"
        );
    }
}

#[test]
fn fifty_items_run_over_pages_with_the_header_on_each() {
    let quote = sample::long_quote(50);
    let pdf = render(&quote, &sample::details(false), &sample::customer(), true).unwrap();
    assert!(pdf.len() < LIMIT, "{} bytes", pdf.len());
    let n = pages(&pdf);
    assert!(n >= 2, "{n} pages");
    let all = squeezed(&pdf);
    for i in 1..=50 {
        assert!(all.contains(&format!("Posten {i}:")), "item {i} missing");
    }
    let mut table_pages = 0;
    for page in 1..=n {
        let p = page.to_string();
        let t = poppler("pdftotext", &["-layout", "-f", &p, "-l", &p], &pdf);
        assert!(
            t.contains(&format!("Seite {page} von {n}")),
            "page {page}:\n{t}"
        );
        if t.contains("Posten ") {
            table_pages += 1;
            assert!(
                t.contains("Beschreibung"),
                "page {page} has no header:\n{t}"
            );
        }
    }
    assert!(table_pages >= 2);
    // Every item once: a row is never drawn twice at a page break.
    assert_eq!(all.matches("Posten 17:").count(), 1);
}

#[test]
fn small_business_prints_the_note_and_no_vat() {
    let mut quote = sample::quote(true);
    quote.small_business = true;
    let pdf = render(&quote, &sample::details(false), &sample::customer(), true).unwrap();
    let t = squeezed(&pdf);
    assert!(t.contains(SMALL_BUSINESS_NOTE), "{t}");
    assert!(!t.contains("USt."), "{t}");
    let gross = quote.totals().gross;
    assert_eq!(gross, quote.totals().net);
    assert!(t.contains(&format!("Gesamtbetrag {}", gross.format(true))));
}

/// Reads a binary PGM (`P5`) as pdftoppm writes it.
fn pgm(bytes: &[u8]) -> (usize, usize, &[u8]) {
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(std::str::from_utf8(&bytes[start..at]).unwrap().to_owned());
    }
    assert_eq!(fields[0], "P5");
    let (w, h) = (fields[1].parse().unwrap(), fields[2].parse().unwrap());
    (w, h, &bytes[at + 1..])
}

#[test]
fn the_girocode_scans_to_the_epc_payload() {
    let quote = sample::quote(true);
    let details = sample::details(true);
    let pdf = render(&quote, &details, &sample::customer(), true).unwrap();
    assert!(pdf.len() < LIMIT, "{} bytes", pdf.len());
    let t = squeezed(&pdf);
    assert!(t.contains("Bezahlen mit GiroCode"), "{t}");
    assert!(t.contains("DE89 3704 0044 0532 0130 00"), "{t}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quote.pdf");
    std::fs::write(&file, &pdf).unwrap();
    let raster = poppler_on("pdftoppm", &["-r", "150", "-gray", "-singlefile"], &file);
    let (w, h, pixels) = pgm(&raster);
    let mut image = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| pixels[y * w + x]);
    let grids = image.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (meta, content) = grids[0].decode().expect("the QR code decodes");
    let expected = epc_payload(
        &details.name,
        &details.iban,
        Some(&details.bic),
        quote.totals().gross,
        "A-2026-0007",
    )
    .unwrap();
    assert_eq!(content, expected);
    // The format bits of level M are 00 (ISO/IEC 18004, table 12): EPC069-12 asks for M.
    assert_eq!(meta.ecc_level, 0, "error correction M");
}

#[test]
fn nothing_to_pay_means_no_girocode() {
    let mut quote = sample::quote(true);
    for item in &mut quote.items {
        item.unit_price = Money(0);
    }
    let pdf = render(&quote, &sample::details(true), &sample::customer(), true).unwrap();
    assert!(!squeezed(&pdf).contains("GiroCode"));
}

#[test]
fn the_same_quote_gives_the_same_bytes() {
    let render_once = || {
        render(
            &sample::quote(true),
            &sample::details(true),
            &sample::customer(),
            true,
        )
        .unwrap()
    };
    assert_eq!(
        render_once(),
        render_once(),
        "the record keeps the PDF's hash"
    );
}

/// A 1×1 PNG.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0xda, 0x63, 0x64, 0x60, 0xf8, 0x5f,
    0x0f, 0x00, 0x02, 0x87, 0x01, 0x80, 0xeb, 0x47, 0xba, 0x92, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

#[test]
fn the_logo_is_embedded_and_a_broken_one_is_refused() {
    let mut details = sample::details(false);
    details.logo = Some(PNG.to_vec());
    let pdf = render(&sample::quote(true), &details, &sample::customer(), true).unwrap();
    let list = poppler("pdfimages", &["-list"], &pdf);
    // Header, rule, then one row per image (the PNG's alpha adds an smask row).
    let images: Vec<&str> = (list.lines().skip(2))
        .filter(|l| l.split_whitespace().nth(2) == Some("image"))
        .collect();
    assert_eq!(images.len(), 1, "{list}");

    details.logo = Some(b"\x89PNG\r\n\x1a\nnot really".to_vec());
    let err = render(&sample::quote(true), &details, &sample::customer(), true);
    assert!(matches!(err, Err(PdfError::Logo(_))), "{err:?}");
}

#[test]
fn incomplete_quotes_and_details_are_not_rendered() {
    let mut quote = sample::quote(true);
    quote.title = String::new();
    let err = render(&quote, &sample::details(false), &sample::customer(), true);
    assert!(
        matches!(err, Err(PdfError::Quote(ref p)) if p.len() == 1),
        "{err:?}"
    );
    let mut details = sample::details(false);
    details.tax_id = String::new();
    let err = render(&sample::quote(true), &details, &sample::customer(), true);
    assert!(matches!(err, Err(PdfError::Details(_))), "{err:?}");
}
