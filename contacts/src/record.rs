//! What a parser hands to the importer: records as they were in the file,
//! before normalisation, and the problems it found, each with a line number.
//!
//! Both the vCard and the CSV parser produce this shape, so the importer's
//! duplicate detection, consent decisions and reporting exist only once.

use std::fmt;

use serde::Serialize;

use crate::model::Address;
use crate::phone::Region;

/// A phone number or e-mail address as written, with its type label and the
/// physical line where its property (or the CSV row) starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawValue {
    /// The value as written (an e-mail already taken out of `Name <addr>`).
    pub value: String,
    /// Type label from the source (`cell`, `work,fax`, `mobile phone`…), if any.
    pub kind: Option<String>,
    /// 1-based line of the property or row.
    pub line: u64,
}

/// One contact as read from a file, not yet normalised.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawRecord {
    /// 1-based line where the record starts.
    pub line: u64,
    /// Name (may be empty; the importer falls back to organisation, e-mail, number).
    pub name: String,
    /// Organisation.
    pub organisation: Option<String>,
    /// Job title or role.
    pub title: Option<String>,
    /// Phone numbers (fax and pager included, by their type label).
    pub phones: Vec<RawValue>,
    /// E-mail addresses, each checked to be `local@domain`.
    pub emails: Vec<RawValue>,
    /// Postal addresses.
    pub addresses: Vec<Address>,
    /// Notes, joined in file order with a line break.
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

impl RawValue {
    /// Value and kind, for comparing in tests.
    #[cfg(test)]
    pub fn pair(&self) -> (&str, Option<&str>) {
        (&self.value, self.kind.as_deref())
    }
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

    /// Appends a note (a record may have several).
    pub fn add_note(&mut self, note: String) {
        if note.trim().is_empty() {
            return;
        }
        match &mut self.note {
            Some(n) => {
                n.push('\n');
                n.push_str(&note);
            }
            None => self.note = Some(note),
        }
    }
}

/// What is wrong with a line of the input: a kind with its data, never a
/// sentence. [`fmt::Display`] says it in English for the CLI and logs; the
/// app translates the kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum IssueKind {
    /// A card or row with no name, organisation, phone number or e-mail (rejected).
    EmptyRecord,
    /// A consent value the importer does not understand (rejected).
    UnknownConsent {
        /// The value as written.
        value: String,
    },
    /// A phone number that is not valid; kept as written, never used to merge
    /// or for discovery.
    InvalidPhone {
        /// The number as written.
        value: String,
    },
    /// A number without country code, read as a number of `region`.
    NationalNumberAssumedRegion {
        /// The number as written.
        value: String,
        /// The region assumed (the import's default region).
        region: Region,
    },
    /// An empty `TEL` property (ignored).
    EmptyPhone,
    /// An e-mail property or cell that holds no `local@domain` address (ignored).
    InvalidEmail {
        /// The value as written.
        value: String,
    },
    /// `BEGIN:VCARD` without `END:VCARD` (the card is read up to where the next starts).
    MissingEnd,
    /// `END:VCARD` without `BEGIN:VCARD` (ignored).
    StrayEnd,
    /// A card inside another card (vCard 2.1 `AGENT`): imported as a contact
    /// of its own; the outer card is kept whole.
    NestedCard {
        /// Line where the outer card starts.
        outer_line: u64,
    },
    /// A CSV header without a name, phone or e-mail column (the file is rejected).
    BadHeader,
    /// A CSV header the reader cannot read (the file is rejected).
    UnreadableHeader {
        /// The CSV reader's technical detail (English; for logs).
        detail: String,
    },
    /// A CSV row the reader cannot read (rejected).
    UnreadableRow {
        /// The CSV reader's technical detail (English; for logs).
        detail: String,
    },
    /// A vCard file without a single `BEGIN:VCARD`, read as `encoding`: the
    /// file is not a vCard file, or its text encoding is not one we read.
    NoCards {
        /// How the file's bytes were decoded.
        encoding: TextEncoding,
    },
}

impl IssueKind {
    /// Whether the issue is about the whole file (its header, its
    /// encoding) rather than one record.
    pub fn concerns_file(&self) -> bool {
        matches!(
            self,
            IssueKind::BadHeader | IssueKind::UnreadableHeader { .. } | IssueKind::NoCards { .. }
        )
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IssueKind::EmptyRecord => {
                f.write_str("record has no name, organisation, phone number or e-mail")
            }
            IssueKind::UnknownConsent { value } => write!(f, "unknown consent value {value:?}"),
            IssueKind::InvalidPhone { value } => {
                write!(f, "invalid phone number {value:?} kept as written")
            }
            IssueKind::NationalNumberAssumedRegion { value, region } => write!(
                f,
                "number {value:?} has no country code; read as a number of {region}"
            ),
            IssueKind::EmptyPhone => f.write_str("empty TEL ignored"),
            IssueKind::InvalidEmail { value } => {
                write!(f, "{value:?} is not an e-mail address; ignored")
            }
            IssueKind::MissingEnd => f.write_str("card has no END:VCARD"),
            IssueKind::StrayEnd => f.write_str("END:VCARD without BEGIN:VCARD"),
            IssueKind::NestedCard { outer_line } => write!(
                f,
                "card inside the card of line {outer_line}; imported as a contact of its own"
            ),
            IssueKind::BadHeader => f.write_str("header has no name, phone or e-mail column"),
            IssueKind::UnreadableHeader { detail } => write!(f, "unreadable header: {detail}"),
            IssueKind::UnreadableRow { detail } => write!(f, "unreadable row: {detail}"),
            IssueKind::NoCards { encoding } => {
                write!(f, "no BEGIN:VCARD found (file read as {encoding})")
            }
        }
    }
}

/// A problem tied to a line of the input. Serialised as `line`, the kind's
/// tag and data, and `message` (the English text, for scripts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineIssue {
    /// 1-based physical line (for a property: where it starts, after unfolding).
    pub line: u64,
    /// What is wrong.
    pub kind: IssueKind,
}

impl LineIssue {
    /// An issue at `line`.
    pub fn new(line: u64, kind: IssueKind) -> Self {
        LineIssue { line, kind }
    }
}

impl fmt::Display for LineIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.kind)
    }
}

impl Serialize for LineIssue {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Out<'a> {
            line: u64,
            #[serde(flatten)]
            kind: &'a IssueKind,
            message: String,
        }
        Out {
            line: self.line,
            kind: &self.kind,
            message: self.kind.to_string(),
        }
        .serialize(s)
    }
}

/// How the file's bytes are encoded, as far as it matters to the user: a wrong guess
/// shows up as broken umlauts in the preview's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextEncoding {
    /// UTF-8 without a byte-order mark.
    Utf8,
    /// UTF-8 with a byte-order mark (Excel's "CSV UTF-8").
    Utf8Bom,
    /// UTF-16 (little or big endian), marked by a BOM or recognised by the
    /// NUL bytes of its ASCII characters (old Apple Address Book exports).
    Utf16,
    /// Not valid UTF-8: read as Windows-1252 (German Excel, older phones). vCard
    /// properties with their own `CHARSET` are decoded with that instead.
    Windows1252,
}

impl fmt::Display for TextEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TextEncoding::Utf8 => "UTF-8",
            TextEncoding::Utf8Bom => "UTF-8 with BOM",
            TextEncoding::Utf16 => "UTF-16",
            TextEncoding::Windows1252 => "Windows-1252",
        })
    }
}

/// The encoding [`decode_text`] uses for `bytes`.
pub fn detect_encoding(bytes: &[u8]) -> TextEncoding {
    match encoding_rs::Encoding::for_bom(bytes) {
        Some((e, _)) if e == encoding_rs::UTF_8 => TextEncoding::Utf8Bom,
        Some(_) => TextEncoding::Utf16,
        None if sniff_utf16(bytes).is_some() => TextEncoding::Utf16,
        None if std::str::from_utf8(bytes).is_ok() => TextEncoding::Utf8,
        None => TextEncoding::Windows1252,
    }
}

/// UTF-16 without a byte-order mark, recognised by its NUL bytes: the text
/// of a contact file is mostly ASCII (`BEGIN:VCARD`, CSV headers), which
/// UTF-16 writes as the character and a NUL, in one order or the other.
/// UTF-8 and Windows-1252 text has no NUL bytes at all.
pub fn sniff_utf16(bytes: &[u8]) -> Option<&'static encoding_rs::Encoding> {
    let head = &bytes[..bytes.len().min(1024) & !1];
    let pairs = head.len() / 2;
    if pairs < 2 {
        return None;
    }
    let nul_at = |parity: usize| {
        head.iter()
            .skip(parity)
            .step_by(2)
            .filter(|&&b| b == 0)
            .count()
    };
    let (even, odd) = (nul_at(0), nul_at(1));
    // Most characters ASCII, and no NUL on the other side.
    if odd * 10 >= pairs * 6 && even * 20 <= pairs {
        Some(encoding_rs::UTF_16LE)
    } else if even * 10 >= pairs * 6 && odd * 20 <= pairs {
        Some(encoding_rs::UTF_16BE)
    } else {
        None
    }
}

/// The address in an e-mail cell or property: the value itself, or what is
/// inside `<…>` (`Name <addr>`) or `(…)` (Outlook's `Name (addr)`), when it
/// is `local@domain`: one `@`, no spaces, a domain of at least two labels.
pub fn extract_email(value: &str) -> Option<&str> {
    let v = value.trim();
    let inside = |open: char, close: char| {
        let start = v.rfind(open)? + open.len_utf8();
        let len = v[start..].find(close)?;
        Some(&v[start..start + len])
    };
    let candidate = inside('<', '>')
        .or_else(|| inside('(', ')').filter(|a| a.contains('@')))
        .unwrap_or(v)
        .trim();
    let candidate = candidate
        .strip_prefix("mailto:")
        .or_else(|| candidate.strip_prefix("MAILTO:"))
        .unwrap_or(candidate);
    is_email(candidate).then_some(candidate)
}

/// [`extract_email`] on an owned value: the address (the value itself,
/// without a copy, when it is nothing but the address), or the value back.
pub fn take_email(value: String) -> Result<String, String> {
    match extract_email(&value) {
        Some(a) if a.len() == value.len() => Ok(value),
        Some(a) => Ok(a.to_owned()),
        None => Err(value),
    }
}

/// Whether `s` is `local@domain` (see [`extract_email`]).
pub fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let bad = |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\@".contains(c);
    let labels_ok = domain.split('.').all(|l| {
        !l.is_empty()
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.chars().all(|c| c.is_alphanumeric() || c == '-')
    });
    !local.is_empty()
        && local.len() <= 64
        && !local.chars().any(bad)
        && domain.contains('.')
        && labels_ok
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

/// Decodes bytes of unknown encoding: BOMs honoured, UTF-16 without BOM
/// recognised ([`sniff_utf16`]), else UTF-8 if valid, else Windows-1252
/// (what German Excel and older phones write).
pub fn decode_text(bytes: &[u8]) -> String {
    if let Some((enc, bom_len)) = encoding_rs::Encoding::for_bom(bytes) {
        let (text, _) = enc.decode_without_bom_handling(&bytes[bom_len..]);
        return text.into_owned();
    }
    if let Some(enc) = sniff_utf16(bytes) {
        return enc.decode_without_bom_handling(bytes).0.into_owned();
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

    #[test]
    fn utf16_without_bom_is_recognised() {
        let text = "BEGIN:VCARD\r\nFN:J\u{f6}rg\r\n";
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let le: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert_eq!(decode_text(&be), text);
        assert_eq!(decode_text(&le), text);
        assert_eq!(detect_encoding(&be), TextEncoding::Utf16);
        assert_eq!(detect_encoding(text.as_bytes()), TextEncoding::Utf8);
    }

    #[test]
    fn e_mail_cells() {
        let ok = |v: &str, want: &str| assert_eq!(take_email(v.into()).as_deref(), Ok(want), "{v}");
        ok("anna@example.de", "anna@example.de");
        ok(" mailto:anna@example.de ", "anna@example.de");
        ok(
            "Christian Baumann - Firma (c.baumann@firma.de)",
            "c.baumann@firma.de",
        );
        ok("\"Baumann, C.\" <c.baumann@firma.de>", "c.baumann@firma.de");
        ok("j\u{fc}rgen@m\u{fc}ller.de", "j\u{fc}rgen@m\u{fc}ller.de");
        for junk in [
            "SMTP",
            "EX",
            "Christian Baumann",
            "a@b",
            "a b@c.de",
            "@x.de",
            "a@x..de",
            "x@-a.de",
        ] {
            assert_eq!(extract_email(junk), None, "{junk}");
        }
    }
}
