//! Importing a vCard or CSV file into both books as one atomic batch.
//!
//! Steps: parse (lenient, line-numbered) → decide consent per record →
//! normalise numbers → merge duplicates inside the file → merge with contacts
//! already stored → seal → one journalled commit across both books. Nothing is
//! written before the commit, so cancelling or crashing leaves the books as
//! they were; after the commit returns, the whole batch is there.
//!
//! Records without consent are sealed to the private book's *public* key; the
//! write path needs no secret. Only merging into an existing private contact
//! reads (and so decrypts) it.

//!
//! Split by responsibility: this file holds the options, the report and the
//! entry points; `pipeline` the threads that parse, build, seal and merge;
//! `build` how one record becomes a contact (consent, numbers, warnings) and
//! how two records of one person are merged — rules the preview shares.

use std::borrow::Cow;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::consent::DEFAULT_PURPOSE;
use crate::contact_book::ContactBook;
use crate::error::{Error, Result};
use crate::model::ContactId;
use crate::phone::Region;
use crate::record::LineIssue;

pub(crate) mod build;
mod pipeline;

/// How consent is decided for the imported contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentMode {
    /// Per contact, from a consent column or `X-KONTOR-CONSENT`; missing means none.
    #[default]
    FromFile,
    /// The user declares that everyone in the file consented.
    Granted,
    /// Nobody in the file consented: everything goes to the private book.
    None,
}

/// Import settings.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Consent decision.
    pub consent: ConsentMode,
    /// Purpose recorded for granted consent when the file gives none.
    pub purpose: String,
    /// Evidence recorded with a whole-file decision (e.g. "signed forms in
    /// folder X"), as the user wrote it; without it the import records
    /// [`ImportEvidence::DeclaredForFile`](crate::ImportEvidence::DeclaredForFile).
    pub evidence: Option<String>,
    /// Region for numbers without country code (defaults to the book's).
    pub region: Option<Region>,
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            consent: ConsentMode::FromFile,
            purpose: DEFAULT_PURPOSE.to_owned(),
            evidence: None,
            region: None,
            format: None,
        }
    }
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// vCard 2.1, 3.0 or 4.0.
    VCard,
    /// CSV from Google Contacts, Outlook or Excel.
    Csv,
}

/// Import phases, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Parsing the file.
    Parsing,
    /// Normalising and merging records.
    Preparing,
    /// Writing the batch.
    Writing,
    /// Finished.
    Done,
}

/// A progress report: `done` of `total` records in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Records handled in this phase.
    pub done: usize,
    /// Records in this phase.
    pub total: usize,
}

/// A record merged into another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merge {
    /// Line of the record that was merged away.
    pub line: u64,
    /// What it was merged into.
    pub into: MergeTarget,
    /// Why: which kind of value both have.
    pub matched: MatchedBy,
}

/// The value two records share when they are merged: always a valid phone
/// number (not fax, not pager) or a valid e-mail address. Records are never
/// merged on anything else, so two people with different names are merged
/// only when they share one of these.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum MatchedBy {
    /// The same phone number (E.164).
    #[serde(rename = "tel")]
    Phone,
    /// The same e-mail address (ignoring case).
    #[serde(rename = "email")]
    Email,
}

impl MatchedBy {
    /// From the kind of an index term (`tel`, `email`).
    pub(crate) fn of_term(kind: &str) -> Self {
        if kind == "tel" {
            MatchedBy::Phone
        } else {
            MatchedBy::Email
        }
    }
}

impl fmt::Display for MatchedBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MatchedBy::Phone => "phone number",
            MatchedBy::Email => "e-mail address",
        })
    }
}

/// Target of a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeTarget {
    /// An earlier record of the same file, by its line.
    Line(u64),
    /// A contact already in a book.
    Existing(ContactId),
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Source file name.
    pub file: String,
    /// Records read from the file (before merging).
    pub read: usize,
    /// New contacts in the work book.
    pub added_work: usize,
    /// New contacts in the private book.
    pub added_private: usize,
    /// Existing contacts that received data from the file.
    pub updated: usize,
    /// Duplicates merged.
    pub merged: Vec<Merge>,
    /// Records not imported, with line and reason, in line order.
    pub rejected: Vec<LineIssue>,
    /// Accepted with a problem (e.g. invalid phone number kept as written),
    /// in line order.
    pub warnings: Vec<LineIssue>,
    /// Ids of the new contacts.
    pub new_ids: Vec<ContactId>,
}

/// Detects the format from the name, then from the content.
pub fn detect_format(name: &str, bytes: &[u8]) -> Option<Format> {
    let lower = name.to_lowercase();
    if lower.ends_with(".vcf") || lower.ends_with(".vcard") {
        return Some(Format::VCard);
    }
    if lower.ends_with(".csv") {
        return Some(Format::Csv);
    }
    let head = crate::record::decode_text(&bytes[..bytes.len().min(4096)]);
    if head
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BEGIN:VCARD")
    {
        Some(Format::VCard)
    } else if head.contains([',', ';', '\t']) {
        Some(Format::Csv)
    } else {
        None
    }
}

impl ContactBook {
    /// Imports a file. `progress` is called now and then; setting `cancel` stops the
    /// import before anything is written ([`Error::Cancelled`]).
    pub fn import_file(
        &self,
        path: &Path,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
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
        self.import_data(&name, Cow::Owned(bytes), format, opts, progress, cancel)
    }

    /// Imports file contents already in memory; `file_name` is recorded as the consent source.
    pub fn import_bytes(
        &self,
        file_name: &str,
        bytes: &[u8],
        format: Format,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        self.import_data(
            file_name,
            Cow::Borrowed(bytes),
            format,
            opts,
            progress,
            cancel,
        )
    }
}

#[cfg(test)]
mod tests;
