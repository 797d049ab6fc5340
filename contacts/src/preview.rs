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

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::consent::ConsentStatus;
use crate::contact_book::ContactBook;
use crate::error::{Error, Result};
use crate::import::build::{decide_consent, emails, phones};
use crate::import::{
    ConsentMode, Format, ImportOptions, MatchedBy, Merge, MergeTarget, detect_format,
};
use crate::model::{Book, ContactId, index_terms};
use crate::phone::{self, Region};
use crate::record::{IssueKind, LineIssue, RawRecord, TextEncoding, detect_encoding};

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
    /// The region numbers without country code are read with (the
    /// options' region, else the book's); a preview with another region
    /// in [`ImportOptions::region`] shows the difference.
    pub region: Region,
    /// Numbers without country code that were read as numbers of `region`
    /// (each also a [`IssueKind::NationalNumberAssumedRegion`] warning).
    pub national_numbers: usize,
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
    /// Records the import would merge: into an earlier record of the file
    /// or into a stored contact, and on which shared value (the same merges
    /// the import makes, see [`MatchedBy`]).
    pub merges: Vec<Merge>,
}

impl ContactBook {
    /// Reads `path` and reports what [`ContactBook::import_file`] with `opts` would do,
    /// writing nothing; the first `sample` records are listed. Counts are before
    /// duplicates are merged; `merges` lists them. Finding merges with stored
    /// contacts reads only the books' keyed indexes, no record.
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
        let stored = |kind: &str, value: &str| {
            [Book::Work, Book::Private].into_iter().find_map(|b| {
                let store = self.store(b);
                let ids = store.lookup_hash(&store.hash(kind, value)).ok()?;
                ids.into_iter().next()
            })
        };
        Ok(preview_bytes(
            &name,
            &bytes,
            format,
            opts.consent,
            region,
            sample,
            &stored,
        ))
    }
}

/// The preview of file contents already in memory; `stored` finds the
/// stored contact with an index term, if any.
fn preview_bytes(
    name: &str,
    bytes: &[u8],
    format: Format,
    mode: ConsentMode,
    region: Region,
    sample: usize,
    stored: &dyn Fn(&str, &str) -> Option<ContactId>,
) -> ImportPreview {
    let mut out = ImportPreview {
        file: name.to_owned(),
        format,
        encoding: detect_encoding(bytes),
        region,
        national_numbers: 0,
        records: 0,
        consent_fields: Vec::new(),
        to_work: 0,
        to_private: 0,
        sample: Vec::new(),
        rejected: Vec::new(),
        warnings: Vec::new(),
        merges: Vec::new(),
    };
    let (mut rejected, mut warnings) = (Vec::new(), Vec::new());
    let mut merges = InFileMerges::default();
    let mut seen_fields = [false; 3];
    let mut emit = |r: RawRecord, _pos: usize| {
        out.records += 1;
        seen_fields[0] |= r.consent.is_some();
        seen_fields[1] |= r.purpose.is_some();
        seen_fields[2] |= r.evidence.is_some();
        let consent = match decide_consent(&r, mode) {
            Ok(c) => Some(c),
            Err(issue) => {
                rejected.push(issue);
                None
            }
        };
        match consent {
            Some(ConsentStatus::Granted) => out.to_work += 1,
            Some(_) => out.to_private += 1,
            None => {}
        }
        if out.sample.len() < sample {
            out.sample.push(PreviewRow {
                line: r.line,
                name: display_name(&r),
                consent,
            });
        }
        if consent.is_some() {
            let line = r.line;
            let e164s: Vec<_> = r
                .phones
                .iter()
                .map(|p| phone::normalise(&p.value, region))
                .collect();
            let phones = phones(r.phones, e164s, region, &mut warnings);
            let terms = index_terms(&phones, &emails(r.emails));
            out.merges.extend(merges.add(line, terms, stored));
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
        .zip(seen_fields)
        .filter(|(_, found)| *found)
        .map(|(f, _)| (*f).to_owned())
        .collect(),
        Format::Csv => consent_columns(bytes),
    };
    // Records the parser rejected (nothing to import) never reached `emit`;
    // a rejection of the whole file is no record.
    out.records += parsed
        .rejected
        .iter()
        .filter(|i| !i.kind.concerns_file())
        .count();
    // In line order: the user goes through them with the file open.
    out.rejected = parsed.rejected;
    out.rejected.append(&mut rejected);
    out.warnings = parsed.warnings;
    out.warnings.append(&mut warnings);
    out.rejected.sort_by_key(|i| i.line);
    out.warnings.sort_by_key(|i| i.line);
    out.national_numbers = out
        .warnings
        .iter()
        .filter(|w| matches!(w.kind, IssueKind::NationalNumberAssumedRegion { .. }))
        .count();
    out
}

/// The import's duplicate rule on index terms in the clear: a record is
/// merged into the first earlier record that shares a term (which then
/// has the record's terms too), else into the stored contact that has one.
/// (The import seals records first, so it compares keyed hashes instead.)
#[derive(Default)]
struct InFileMerges {
    /// Index term → line of the first record with it.
    seen: HashMap<(&'static str, String), u64>,
}

impl InFileMerges {
    fn add(
        &mut self,
        line: u64,
        terms: Vec<(&'static str, String)>,
        stored: &dyn Fn(&str, &str) -> Option<ContactId>,
    ) -> Option<Merge> {
        let in_file = terms.iter().find_map(|t| {
            let first = *self.seen.get(t)?;
            Some((first, MatchedBy::of_term(t.0)))
        });
        if let Some((first, matched)) = in_file {
            for t in terms {
                self.seen.entry(t).or_insert(first);
            }
            return Some(Merge {
                line,
                into: MergeTarget::Line(first),
                matched,
            });
        }
        let existing = terms
            .iter()
            .find_map(|(kind, value)| Some((stored(kind, value)?, MatchedBy::of_term(kind))));
        // Merged into a stored contact or not, the record stays the first
        // of its terms in the file.
        for t in terms {
            self.seen.entry(t).or_insert(line);
        }
        let (id, matched) = existing?;
        Some(Merge {
            line,
            into: MergeTarget::Existing(id),
            matched,
        })
    }
}

/// The importer's name fallback: name, organisation, first e-mail, first number.
fn display_name(r: &RawRecord) -> String {
    [Some(r.name.trim()), r.organisation.as_deref()]
        .into_iter()
        .flatten()
        .chain(r.emails.first().map(|e| e.value.as_str()))
        .chain(r.phones.first().map(|p| p.value.as_str()))
        .find(|s| !s.trim().is_empty())
        .unwrap_or_default()
        .trim()
        .to_owned()
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
        preview_bytes(
            "k.vcf",
            bytes,
            format,
            mode,
            Region::default(),
            10,
            &|_, _| None,
        )
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
        // Ben's national number (line 4), Erika's invalid one (line 11).
        assert_eq!(
            p.warnings.iter().map(|w| w.line).collect::<Vec<_>>(),
            [4, 11]
        );
        assert_eq!((p.national_numbers, p.region), (1, Region::default()));
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
