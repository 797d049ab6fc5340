//! A dry run of an import: what a file holds and what would become of it, before
//! anything is written.
//!
//! The freelancer must see, before the books change, which consent each contact will
//! get and which records the importer cannot use (GDPR: a consent decision made for a
//! whole file should be a decision about a file one has looked at). So this runs the
//! same parsers and the same consent rules as [`ContactBook::import_file`], on the same
//! bytes, and stops before duplicates are merged or anything is sealed. It reads no
//! stored contact, so it needs neither book's secret.
//!
//! Kept apart from `import.rs` on purpose: the import pipeline is tuned for speed
//! (streaming, threads), a preview for clarity; both share the parsers and
//! [`ConsentStatus::parse_lenient`], which is where the rules live.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::consent::ConsentStatus;
use crate::contact_book::ContactBook;
use crate::error::{Error, Result};
use crate::import::{ConsentMode, Format, ImportOptions, detect_format};
use crate::phone;
use crate::record::{LineIssue, RawRecord};

/// How the file's bytes are encoded, as far as it matters to the user: a wrong guess
/// shows up as broken umlauts in the preview's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-16 (little or big endian), marked by a BOM.
    Utf16,
    /// Not valid UTF-8: read as Windows-1252 (German Excel, older phones). vCard
    /// properties with their own `CHARSET` are decoded with that instead.
    Windows1252,
}

/// One record as the import would take it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PreviewRow {
    /// Line where the record starts.
    pub line: u64,
    /// The name the contact would get (with the importer's fallbacks).
    pub name: String,
    /// The consent it would get; `None` when the record would be rejected.
    pub consent: Option<ConsentStatus>,
}

/// What an import of a file would do, without doing it.
#[derive(Debug, Clone, Serialize)]
pub struct ImportPreview {
    /// The file name (what an import records as the consent source).
    pub file: String,
    /// Detected (or forced) format.
    pub format: Format,
    /// Detected text encoding.
    pub encoding: TextEncoding,
    /// Records that carry something to import (rejected ones included).
    pub records: usize,
    /// Where the file states consent: the vCard properties or CSV column headers found
    /// (e.g. `X-KONTOR-CONSENT`, `Einwilligung`). Empty when the file says nothing
    /// about consent, so "from the file" would put everyone in the private book.
    pub consent_fields: Vec<String>,
    /// Records that would go to the work book (consent granted).
    pub to_work: usize,
    /// Records that would go to the private book.
    pub to_private: usize,
    /// The first records, in file order.
    pub sample: Vec<PreviewRow>,
    /// Records that would not be imported, with line and reason.
    pub rejected: Vec<LineIssue>,
    /// Problems the import would accept (e.g. invalid numbers kept as written).
    pub warnings: Vec<LineIssue>,
}

impl ContactBook {
    /// Reads `path` and reports what [`ContactBook::import_file`] with `opts` would do,
    /// writing nothing; the first `sample` records are listed. Counts are before
    /// duplicates are merged (the import report lists the merges).
    pub fn preview_file(
        &self,
        path: &Path,
        opts: &ImportOptions,
        sample: usize,
    ) -> Result<ImportPreview> {
        let bytes = std::fs::read(path).map_err(|e| Error::Io {
            path: path.to_owned(),
            source: e,
        })?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let format = opts
            .format
            .or_else(|| detect_format(&name, &bytes))
            .ok_or_else(|| Error::UnknownFormat {
                path: PathBuf::from(path),
            })?;
        let region = opts.region.unwrap_or(self.region);
        Ok(preview_bytes(
            &name,
            &bytes,
            format,
            opts.consent,
            region,
            sample,
        ))
    }
}

/// The preview of file contents already in memory.
fn preview_bytes(
    name: &str,
    bytes: &[u8],
    format: Format,
    mode: ConsentMode,
    region: phone::Region,
    sample: usize,
) -> ImportPreview {
    let mut out = ImportPreview {
        file: name.to_owned(),
        format,
        encoding: encoding(bytes),
        records: 0,
        consent_fields: Vec::new(),
        to_work: 0,
        to_private: 0,
        sample: Vec::new(),
        rejected: Vec::new(),
        warnings: Vec::new(),
    };
    let (mut rejected, mut warnings) = (Vec::new(), Vec::new());
    let mut seen = [false; 3];
    let mut emit = |r: RawRecord, _pos: usize| {
        out.records += 1;
        seen[0] |= r.consent.is_some();
        seen[1] |= r.purpose.is_some();
        seen[2] |= r.evidence.is_some();
        let consent = decide(&r, mode, &mut rejected);
        match consent {
            Some(ConsentStatus::Granted) => out.to_work += 1,
            Some(_) => out.to_private += 1,
            None => {}
        }
        if consent.is_some() {
            for (number, _) in &r.phones {
                if phone::normalise(number, region).is_none() {
                    warnings.push(LineIssue {
                        line: r.line,
                        message: format!("invalid phone number {number:?} kept as written"),
                    });
                }
            }
        }
        if out.sample.len() < sample {
            out.sample.push(PreviewRow {
                line: r.line,
                name: display_name(&r),
                consent,
            });
        }
        true
    };
    let parsed = match format {
        Format::VCard => crate::vcard::parse_with(bytes, &mut emit),
        Format::Csv => crate::csv_file::parse_with(bytes, &mut emit),
    };
    out.consent_fields = match format {
        Format::VCard => [
            "X-KONTOR-CONSENT",
            "X-KONTOR-CONSENT-PURPOSE",
            "X-KONTOR-CONSENT-EVIDENCE",
        ]
        .iter()
        .zip(seen)
        .filter(|(_, found)| *found)
        .map(|(f, _)| (*f).to_owned())
        .collect(),
        Format::Csv => consent_columns(bytes),
    };
    // Records the parser rejected (nothing to import) never reached `emit`.
    out.records += parsed.rejected.len();
    // In line order: the user goes through them with the file open.
    out.rejected = parsed.rejected;
    out.rejected.append(&mut rejected);
    out.warnings = parsed.warnings;
    out.warnings.append(&mut warnings);
    out.rejected.sort_by_key(|i| i.line);
    out.warnings.sort_by_key(|i| i.line);
    out
}

/// The consent a record gets, by the same rules as the import; `None` (and a
/// rejection) for a consent value the importer does not understand.
fn decide(
    r: &RawRecord,
    mode: ConsentMode,
    rejected: &mut Vec<LineIssue>,
) -> Option<ConsentStatus> {
    match mode {
        ConsentMode::Granted => Some(ConsentStatus::Granted),
        ConsentMode::None => Some(ConsentStatus::None),
        ConsentMode::FromFile => match r.consent.as_deref() {
            None => Some(ConsentStatus::None),
            Some(v) => {
                let s = ConsentStatus::parse_lenient(v);
                if s.is_none() {
                    rejected.push(LineIssue {
                        line: r.line,
                        message: format!("unknown consent value {v:?}"),
                    });
                }
                s
            }
        },
    }
}

/// The importer's name fallback: name, organisation, first e-mail, first number.
fn display_name(r: &RawRecord) -> String {
    [Some(r.name.trim()), r.organisation.as_deref()]
        .into_iter()
        .flatten()
        .chain(r.emails.first().map(|e| e.0.as_str()))
        .chain(r.phones.first().map(|p| p.0.as_str()))
        .find(|s| !s.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned()
}

fn encoding(bytes: &[u8]) -> TextEncoding {
    match encoding_rs::Encoding::for_bom(bytes) {
        Some((e, _)) if e == encoding_rs::UTF_8 => TextEncoding::Utf8Bom,
        Some(_) => TextEncoding::Utf16,
        None if std::str::from_utf8(bytes).is_ok() => TextEncoding::Utf8,
        None => TextEncoding::Windows1252,
    }
}

/// The header cells of a CSV file that state consent, as written. Only for showing
/// the user: which column the parser reads is decided by the CSV parser itself (a
/// header containing "consent" or "Einwilligung", or one of their purpose/evidence
/// companions), and this looks for the same words.
fn consent_columns(bytes: &[u8]) -> Vec<String> {
    let text = crate::record::decode_text(&bytes[..bytes.len().min(64 * 1024)]);
    let mut lines = text.lines();
    let mut header = lines.next().unwrap_or("");
    let mut delimiter = None;
    if let Some(sep) = header.strip_prefix("sep=") {
        delimiter = sep.chars().next();
        header = lines.next().unwrap_or("");
    }
    let delimiter = delimiter.unwrap_or_else(|| {
        [',', ';', '\t']
            .into_iter()
            .max_by_key(|d| header.matches(*d).count())
            .unwrap_or(',')
    });
    header
        .split(delimiter)
        .map(|h| h.trim().trim_matches('"').trim())
        .filter(|h| {
            let l = h.to_lowercase();
            ["consent", "einwilligung", "zweck", "nachweis"]
                .iter()
                .any(|w| l.contains(w))
        })
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const VCF: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ben Kunde\r\nTEL:0151 23456781\r\n\
X-KONTOR-CONSENT:ja\r\nX-KONTOR-CONSENT-PURPOSE:Termine\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Tante Erika\r\nTEL:12\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nNOTE:nothing else\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Vielleicht Meier\r\nX-KONTOR-CONSENT:vielleicht\r\nEND:VCARD\r\n";

    fn preview(bytes: &[u8], format: Format, mode: ConsentMode) -> ImportPreview {
        preview_bytes("k.vcf", bytes, format, mode, phone::Region::default(), 10)
    }

    #[test]
    fn vcard_consent_from_the_file_with_problems_by_line() {
        let p = preview(VCF.as_bytes(), Format::VCard, ConsentMode::FromFile);
        assert_eq!(p.encoding, TextEncoding::Utf8);
        assert_eq!(p.records, 4);
        assert_eq!((p.to_work, p.to_private), (1, 1));
        assert_eq!(
            p.consent_fields,
            ["X-KONTOR-CONSENT", "X-KONTOR-CONSENT-PURPOSE"]
        );
        let rows: Vec<_> = p
            .sample
            .iter()
            .map(|r| (r.line, r.name.as_str(), r.consent))
            .collect();
        assert_eq!(
            rows,
            [
                (1, "Ben Kunde", Some(ConsentStatus::Granted)),
                (8, "Tante Erika", Some(ConsentStatus::None)),
                (17, "Vielleicht Meier", None),
            ]
        );
        let rejected: Vec<u64> = p.rejected.iter().map(|i| i.line).collect();
        assert_eq!(rejected, [13, 17]);
        assert_eq!(p.warnings.len(), 1);
        assert_eq!(p.warnings[0].line, 8);
    }

    #[test]
    fn a_whole_file_decision_overrides_the_file() {
        let p = preview(VCF.as_bytes(), Format::VCard, ConsentMode::None);
        assert_eq!((p.to_work, p.to_private), (0, 3));
        let p = preview(VCF.as_bytes(), Format::VCard, ConsentMode::Granted);
        assert_eq!((p.to_work, p.to_private), (3, 0));
        assert_eq!(p.rejected.len(), 1, "only the empty card");
    }

    #[test]
    fn csv_columns_and_legacy_encoding() {
        let csv = b"Vorname;Nachname;Mobiltelefon;Einwilligung\r\nJ\xfcrgen;M\xfcller;0151 23456781;ja\r\n";
        let p = preview(csv, Format::Csv, ConsentMode::FromFile);
        assert_eq!(p.encoding, TextEncoding::Windows1252);
        assert_eq!(p.consent_fields, ["Einwilligung"]);
        assert_eq!(p.records, 1);
        assert_eq!(p.sample[0].name, "Jürgen Müller");
        assert_eq!(p.sample[0].consent, Some(ConsentStatus::Granted));
        let bom = b"\xEF\xBB\xBFName,Phone\nA,0151 23456781\n";
        let p = preview(bom, Format::Csv, ConsentMode::FromFile);
        assert_eq!(p.encoding, TextEncoding::Utf8Bom);
        assert!(p.consent_fields.is_empty());
    }

    #[test]
    fn preview_agrees_with_the_import() {
        use std::sync::atomic::AtomicBool;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.vcf");
        std::fs::write(&path, VCF).unwrap();
        let book = ContactBook::open_with(
            &dir.path().join("book"),
            "pass",
            crate::OpenOptions {
                kdf: crate::KdfParams::insecure_fast(),
                ..Default::default()
            },
        )
        .unwrap();
        let opts = ImportOptions::default();
        let p = book.preview_file(&path, &opts, 10).unwrap();
        assert!(
            book.list(crate::Book::Work).unwrap().is_empty(),
            "nothing written"
        );
        let r = book
            .import_file(&path, &opts, &mut |_| {}, &AtomicBool::new(false))
            .unwrap();
        assert_eq!((r.added_work, r.added_private), (p.to_work, p.to_private));
        assert_eq!(r.rejected, p.rejected);
        assert_eq!(r.warnings, p.warnings);
    }
}
