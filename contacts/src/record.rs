//! What a parser hands to the importer: records as they were in the file,
//! before normalisation, and the problems it found, each with a line number.
//!
//! Both the vCard and the CSV parser produce this shape, so the importer's
//! duplicate detection, consent decisions and reporting exist only once.

use serde::Serialize;

/// One contact as read from a file, not yet normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecord {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Name (may be empty; the importer falls back to organisation, e-mail, number).
    pub name: String,
    /// Organisation.
    pub organisation: Option<String>,
    /// Phone numbers as written, with their type label.
    pub phones: Vec<(String, Option<String>)>,
    /// E-mail addresses with their type label.
    pub emails: Vec<(String, Option<String>)>,
    /// Note.
    pub note: Option<String>,
    /// Labels / categories.
    pub labels: Vec<String>,
    /// The consent cell or property, as written.
    pub consent: Option<String>,
    /// Purpose given in the file.
    pub purpose: Option<String>,
    /// Evidence given in the file.
    pub evidence: Option<String>,
}

impl RawRecord {
    /// Whether the record carries anything to import.
    pub fn is_empty(&self) -> bool {
        self.name.trim().is_empty()
            && self
                .organisation
                .as_deref()
                .is_none_or(|o| o.trim().is_empty())
            && self.phones.is_empty()
            && self.emails.is_empty()
    }
}

/// A problem tied to a line of the input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineIssue {
    /// 1-based line.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

/// A parser's result.
#[derive(Debug, Clone, Default)]
pub struct Parsed {
    /// Records that can be imported (only filled by the whole-file `parse`
    /// of the tests; an import takes them one by one from `parse_with`).
    #[cfg_attr(not(test), allow(dead_code))]
    pub records: Vec<RawRecord>,
    /// Records that could not be used, with the reason.
    pub rejected: Vec<LineIssue>,
    /// Things that were accepted but look wrong.
    pub warnings: Vec<LineIssue>,
}

/// Decodes bytes of unknown encoding: BOMs honoured, else UTF-8 if valid, else Windows-1252
/// (what German Excel and older phones write).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return text.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => encoding_rs::WINDOWS_1252
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_boms_and_legacy() {
        assert_eq!(decode_text(b"\xEF\xBB\xBFM\xC3\xBCller"), "Müller");
        assert_eq!(decode_text(b"M\xFCller"), "Müller");
        assert_eq!(decode_text(b"\xFF\xFEM\x00\xFC\x00"), "Mü");
        assert_eq!(decode_text(b"plain"), "plain");
    }
}
