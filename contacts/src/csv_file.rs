//! A CSV reader for contact exports from Google Contacts and Outlook,
//! including German Excel files.
//!
//! German Excel writes `;`-separated Windows-1252 (sometimes with a `sep=;`
//! first line), Outlook writes localised headers ("Vorname", "Mobiltelefon",
//! "E-Mail-Adresse"), Google writes numbered pairs ("Phone 1 - Label",
//! "Phone 1 - Value") with several values joined by ` ::: `. So the separator
//! and encoding are detected, and columns are recognised by what their header
//! means, not by position. A row that cannot be used is reported with its line.

use ::csv::{ReaderBuilder, StringRecord};

use crate::model::Address;
use crate::record::{IssueKind, LineIssue, Parsed, RawRecord, RawValue, decode_text, take_email};

mod columns;

use columns::{AddressPart, Field, classify};

fn detect_delimiter(first_line: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for c in first_line.bytes() {
        if c == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(e) = counts.iter_mut().find(|(d, _)| *d == c) {
            e.1 += 1;
        }
    }
    counts
        .iter()
        .max_by_key(|(_, n)| *n)
        .filter(|(_, n)| *n > 0)
        .map_or(b',', |(d, _)| *d)
}

fn split_multi(v: &str) -> impl Iterator<Item = String> + '_ {
    v.split(":::")
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

/// Parses a whole CSV export.
#[cfg(test)]
pub fn parse(bytes: &[u8]) -> Parsed {
    let mut records = Vec::new();
    let mut out = parse_with(bytes, &mut |r, _| {
        records.push(r);
        true
    });
    out.records = records;
    out
}

/// Parses row by row: each usable row goes to `emit` with how many bytes of
/// the input are read (see [`crate::vcard::parse_with`]). Stops when `emit`
/// returns `false`. The returned [`Parsed`] has the problems, no records.
pub fn parse_with(bytes: &[u8], emit: &mut dyn FnMut(RawRecord, usize) -> bool) -> Parsed {
    let text = decode_text(bytes);
    let mut out = Parsed::default();
    let mut body: &str = &text;
    let mut line_offset = 0u64;
    let mut delimiter = None;
    if let Some(rest) = body.strip_prefix("sep=") {
        delimiter = rest.bytes().next();
        body = rest.split_once('\n').map_or("", |(_, r)| r);
        line_offset = 1;
    }
    let first = body.lines().next().unwrap_or("");
    let delimiter = delimiter
        .filter(|d| d.is_ascii() && *d != b'\r' && *d != b'\n')
        .unwrap_or_else(|| detect_delimiter(first));
    let mut reader = ReaderBuilder::new()
        .delimiter(delimiter)
        .flexible(true)
        .from_reader(body.as_bytes());
    let headers: Vec<String> = match reader.headers() {
        Ok(h) => h
            .iter()
            .map(|s| s.trim().trim_start_matches('\u{feff}').to_lowercase())
            .collect(),
        Err(e) => {
            out.rejected.push(LineIssue::new(
                1 + line_offset,
                IssueKind::UnreadableHeader {
                    detail: e.to_string(),
                },
            ));
            return out;
        }
    };
    let fields: Vec<Field> = headers.iter().map(|h| classify(h, &headers)).collect();
    if !fields.iter().any(|f| {
        matches!(
            f,
            Field::FullName
                | Field::Given
                | Field::Family
                | Field::Phone(..)
                | Field::Email(..)
                | Field::Org
        )
    }) {
        out.rejected
            .push(LineIssue::new(1 + line_offset, IssueKind::BadHeader));
        return out;
    }
    let starts = line_starts(body);
    // csv reports a record as starting at the line break before it; skip that break.
    let line_of = |byte: u64| {
        let mut b = byte as usize;
        while matches!(body.as_bytes().get(b), Some(b'\r' | b'\n')) {
            b += 1;
        }
        starts.partition_point(|&s| s <= b) as u64 + line_offset
    };
    let mut record = StringRecord::new();
    loop {
        let line = line_of(reader.position().byte());
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(line, |p| line_of(p.byte()));
                let raw = row(&record, &fields, line, &mut out.warnings);
                if raw.is_empty() {
                    if record.iter().any(|c| !c.trim().is_empty()) {
                        out.rejected
                            .push(LineIssue::new(line, IssueKind::EmptyRecord));
                    }
                } else {
                    // Positions in the decoded text, scaled to the input.
                    let pos = reader.position().byte() as u128 * bytes.len() as u128
                        / body.len().max(1) as u128;
                    if !emit(raw, pos as usize) {
                        break;
                    }
                }
            }
            Err(e) => {
                let line = e.position().map_or(line, |p| line_of(p.byte()));
                out.rejected.push(LineIssue::new(
                    line,
                    IssueKind::UnreadableRow {
                        detail: e.to_string(),
                    },
                ));
                if matches!(e.kind(), ::csv::ErrorKind::Io(_)) {
                    break;
                }
            }
        }
    }
    out
}

/// Byte offsets where each line starts (any of `\n`, `\r\n`, `\r` ends a line).
fn line_starts(text: &str) -> Vec<usize> {
    let b = text.as_bytes();
    let mut starts = vec![0];
    for (i, &c) in b.iter().enumerate() {
        if c == b'\n' || (c == b'\r' && b.get(i + 1) != Some(&b'\n')) {
            starts.push(i + 1);
        }
    }
    starts
}

/// One row as a record; a cell in an e-mail column without an address is
/// reported in `warnings` (once per value) and dropped.
fn row(
    record: &StringRecord,
    fields: &[Field],
    line: u64,
    warnings: &mut Vec<LineIssue>,
) -> RawRecord {
    let mut r = RawRecord {
        line,
        ..RawRecord::default()
    };
    let warned_from = warnings.len();
    let (mut given, mut middle, mut family) = (String::new(), String::new(), String::new());
    // Addresses by group, in column order, with Google's one-cell form.
    let mut addresses: Vec<(&str, Address, &str)> = Vec::new();
    let cell = |i: usize| record.get(i).map(str::trim).unwrap_or("");
    let label = |partner: &Option<usize>, header_kind: &str| {
        let l = partner
            .map(&cell)
            .unwrap_or(header_kind)
            .trim_start_matches("* ")
            .trim()
            .to_lowercase();
        (!l.is_empty()).then_some(l)
    };
    let value = |value: String, kind: Option<String>| RawValue { value, kind, line };
    for (i, field) in fields.iter().enumerate() {
        let v = cell(i);
        if v.is_empty() {
            continue;
        }
        match field {
            Field::FullName => r.name = v.to_owned(),
            Field::Given => given = v.to_owned(),
            Field::Middle => middle = v.to_owned(),
            Field::Family => family = v.to_owned(),
            Field::Org => r.organisation = Some(v.to_owned()),
            Field::Title => r.title = Some(v.to_owned()),
            Field::Phone(p, k) => r
                .phones
                .extend(split_multi(v).map(|n| value(n, label(p, k)))),
            Field::Email(p, k) => {
                for e in split_multi(v) {
                    match take_email(e) {
                        Ok(a) => {
                            if !r.emails.iter().any(|x| x.value.eq_ignore_ascii_case(&a)) {
                                r.emails.push(value(a, label(p, k)));
                            }
                        }
                        Err(e) => {
                            let kind = IssueKind::InvalidEmail { value: e };
                            if !warnings[warned_from..].iter().any(|w| w.kind == kind) {
                                warnings.push(LineIssue::new(line, kind));
                            }
                        }
                    }
                }
            }
            Field::Address(group, part) => {
                let at = match addresses.iter().position(|(g, ..)| g == group) {
                    Some(at) => at,
                    None => {
                        let kind = (!group.starts_with("address ")).then(|| group.clone());
                        addresses.push((
                            group,
                            Address {
                                kind,
                                ..Address::default()
                            },
                            "",
                        ));
                        addresses.len() - 1
                    }
                };
                let (_, a, formatted) = &mut addresses[at];
                let target = match part {
                    AddressPart::Label => {
                        a.kind = label(&None, v);
                        continue;
                    }
                    AddressPart::Formatted => {
                        *formatted = v;
                        continue;
                    }
                    AddressPart::PoBox => &mut a.po_box,
                    AddressPart::Extended => &mut a.extended,
                    AddressPart::Street => &mut a.street,
                    AddressPart::Locality => &mut a.locality,
                    AddressPart::Region => &mut a.region,
                    AddressPart::PostalCode => &mut a.postal_code,
                    AddressPart::Country => &mut a.country,
                };
                if !target.is_empty() {
                    target.push('\n');
                }
                target.push_str(v);
            }
            Field::Note => r.add_note(v.to_owned()),
            Field::Labels => {
                for l in v
                    .split([';', ','])
                    .flat_map(|s| s.split(":::"))
                    .map(str::trim)
                {
                    // Google's system groups ("* myContacts", "* starred") are not labels.
                    if !l.is_empty() && !l.starts_with('*') && !r.labels.iter().any(|x| x == l) {
                        r.labels.push(l.to_owned());
                    }
                }
            }
            Field::Consent => r.consent = Some(v.to_owned()),
            Field::Purpose => r.purpose = Some(v.to_owned()),
            Field::Evidence => r.evidence = Some(v.to_owned()),
            Field::Ignore => {}
        }
    }
    for (_, mut a, formatted) in addresses {
        if a.is_empty() {
            a.street = formatted.to_owned();
        }
        if !a.is_empty() {
            r.addresses.push(a);
        }
    }
    if r.name.is_empty() {
        r.name = [given, middle, family]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    r
}

#[cfg(test)]
mod tests;
