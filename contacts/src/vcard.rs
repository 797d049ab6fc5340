//! A lenient vCard reader for files as phones and mail programs export them.
//!
//! Real exports are not RFC 6350: Android writes 2.1 with QUOTED-PRINTABLE and
//! soft line breaks, bare `TEL;CELL:` types and a `CHARSET` per property; Apple
//! and Outlook write 3.0 with folded lines and `item1.` groups; some files mix
//! UTF-8 and Latin-1. So this works on bytes, unfolds both kinds of
//! continuation, decodes each value with its own charset (or UTF-8, falling
//! back to Windows-1252), and never fails as a whole: a bad card is reported
//! with its line number and the rest of the file is read.

use std::borrow::Cow;

use crate::model::Address;
use crate::record::{IssueKind, LineIssue, Parsed, RawRecord, RawValue, take_email};

/// A property line after unfolding. The value borrows from the line: most
/// values need no decoding, and a 100,000-card file has about a million of them.
struct Property<'a> {
    line: u64,
    name: String,
    params: Vec<(String, String)>,
    value: &'a [u8],
}

/// Parses every card in `bytes` at once.
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

/// Parses card by card: each usable card goes to `emit` with how many bytes
/// of the input are read, so an import can work on the first cards while the
/// rest is still being parsed and never holds all of them. Stops when `emit`
/// returns `false`. The returned [`Parsed`] has the problems, no records.
pub fn parse_with(bytes: &[u8], emit: &mut dyn FnMut(RawRecord, usize) -> bool) -> Parsed {
    let input = bytes;
    let input_len = input.len();
    let bytes = utf16_to_utf8(input);
    // Positions in the (possibly re-encoded) text, scaled to the input.
    let scale = |pos: usize| {
        if bytes.len() == input_len {
            pos
        } else {
            (pos as u128 * input_len as u128 / bytes.len().max(1) as u128) as usize
        }
    };
    let mut out = Parsed::default();
    // The cards open at this point: more than one when a card holds another
    // (vCard 2.1 `AGENT`). The innermost is last and gets the properties.
    let mut open: Vec<Open> = Vec::new();
    let mut any_card = false;
    let mut go_on = true;
    for (line, end, l) in logical_lines(&bytes) {
        if !go_on {
            return out;
        }
        let Some(prop) = split_property(line, &l) else {
            continue;
        };
        let value = || text(&prop);
        let is_vcard = |v: &str| v.trim().eq_ignore_ascii_case("VCARD");
        let begins = match prop.name.as_str() {
            "BEGIN" => is_vcard(&value()),
            // `AGENT:BEGIN:VCARD` on one line, the inner card's properties after it.
            "AGENT" => {
                let v = value();
                let v = v.trim();
                v.get(..6).is_some_and(|b| b.eq_ignore_ascii_case("BEGIN:"))
                    && v.get(6..).is_some_and(is_vcard)
            }
            _ => false,
        };
        if begins {
            any_card = true;
            if let Some(outer) = open.last() {
                let nested = IssueKind::NestedCard {
                    outer_line: outer.record.line,
                };
                out.warnings.push(LineIssue::new(prop.line, nested));
            }
            open.push(Open::new(prop.line, out.warnings.len()));
        } else if prop.name == "END" && is_vcard(&value()) {
            match open.pop() {
                Some(c) => go_on = finish(c.record, &mut out, emit, scale(end)),
                None => out
                    .warnings
                    .push(LineIssue::new(prop.line, IssueKind::StrayEnd)),
            }
        } else if let Some(c) = open.last_mut() {
            apply(c, &prop, &mut out);
        }
    }
    while go_on && let Some(c) = open.pop() {
        out.warnings
            .push(LineIssue::new(c.record.line, IssueKind::MissingEnd));
        go_on = finish(c.record, &mut out, emit, input_len);
    }
    if !any_card {
        let encoding = crate::record::detect_encoding(input);
        out.rejected
            .push(LineIssue::new(1, IssueKind::NoCards { encoding }));
    }
    out
}

/// A card being read.
struct Open {
    record: RawRecord,
    /// The `PREF` rank of the `FN` the name came from (1 is preferred most;
    /// an `FN` without `PREF` ranks last), `None` before the first `FN`.
    name_rank: Option<u8>,
    /// Where this card's warnings start in [`Parsed::warnings`].
    warnings_from: usize,
}

impl Open {
    fn new(line: u64, warnings_from: usize) -> Self {
        Open {
            record: RawRecord {
                line,
                ..RawRecord::default()
            },
            name_rank: None,
            warnings_from,
        }
    }

    /// Records a warning unless the card has the same one already.
    fn warn(&self, out: &mut Parsed, line: u64, kind: IssueKind) {
        if !out.warnings[self.warnings_from..]
            .iter()
            .any(|w| w.kind == kind)
        {
            out.warnings.push(LineIssue::new(line, kind));
        }
    }
}

/// Rejects an empty card or hands it on; returns whether to go on.
fn finish(
    card: RawRecord,
    out: &mut Parsed,
    emit: &mut dyn FnMut(RawRecord, usize) -> bool,
    pos: usize,
) -> bool {
    if card.is_empty() {
        out.rejected
            .push(LineIssue::new(card.line, IssueKind::EmptyRecord));
        true
    } else {
        emit(card, pos)
    }
}

/// UTF-16 (with a BOM, or recognised by its NUL bytes) as UTF-8; other
/// bytes as they are (each property is decoded with its own charset).
fn utf16_to_utf8(bytes: &[u8]) -> Cow<'_, [u8]> {
    let utf16 = |enc: &'static encoding_rs::Encoding, from: usize| {
        let (s, _) = enc.decode_without_bom_handling(&bytes[from..]);
        Cow::Owned(s.into_owned().into_bytes())
    };
    match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, n)) if enc != encoding_rs::UTF_8 => utf16(enc, n),
        Some((_, n)) => Cow::Borrowed(&bytes[n..]),
        None => match crate::record::sniff_utf16(bytes) {
            Some(enc) => utf16(enc, 0),
            None => Cow::Borrowed(bytes),
        },
    }
}

/// Physical lines (any line ending) joined into logical ones: RFC folding
/// (leading space/tab) and QUOTED-PRINTABLE soft breaks (trailing `=`). A
/// soft break joins the lines exactly as written (RFC 2045 6.7): the `=`
/// goes, whitespace before it and at the start of the next line stays.
/// A line without continuation is borrowed, not copied. Yields the first
/// line's number, the byte offset after the logical line, and the line.
fn logical_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, usize, Cow<'_, [u8]>)> + '_ {
    let mut physical = physical_lines(bytes).peekable();
    std::iter::from_fn(move || {
        let (line, mut end, first) = physical.next()?;
        let mut cur = Cow::Borrowed(first);
        let qp = is_qp(first);
        while let Some(&(_, next_end, next)) = physical.peek() {
            if qp && cur.last() == Some(&b'=') && !next.is_empty() {
                let cur = cur.to_mut();
                cur.pop();
                cur.extend_from_slice(next);
            } else if matches!(next.first(), Some(b' ' | b'\t')) {
                cur.to_mut().extend_from_slice(&next[1..]);
            } else {
                break;
            }
            end = next_end;
            physical.next();
        }
        Some((line, end, cur))
    })
}

/// Lines with their number and the byte offset after their line break.
fn physical_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, usize, &[u8])> {
    let mut rest = bytes;
    let mut line = 0u64;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        line += 1;
        let end = rest
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
            .unwrap_or(rest.len());
        let l = &rest[..end];
        let mut skip = end;
        if rest.get(end) == Some(&b'\r') && rest.get(end + 1) == Some(&b'\n') {
            skip += 2;
        } else if end < rest.len() {
            skip += 1;
        }
        rest = &rest[skip..];
        Some((line, bytes.len() - rest.len(), l))
    })
}

fn header_end(l: &[u8]) -> Option<usize> {
    let mut quoted = false;
    for (i, &b) in l.iter().enumerate() {
        match b {
            b'"' => quoted = !quoted,
            b':' if !quoted => return Some(i),
            _ => {}
        }
    }
    None
}

fn is_qp(l: &[u8]) -> bool {
    let head = &l[..header_end(l).unwrap_or(0)];
    head.windows(16)
        .any(|w| w.eq_ignore_ascii_case(b"QUOTED-PRINTABLE"))
}

fn split_property(line: u64, l: &[u8]) -> Option<Property<'_>> {
    let colon = header_end(l)?;
    let head = String::from_utf8_lossy(&l[..colon]);
    let mut parts = split_unquoted(&head, ';');
    let name = parts.next()?.trim();
    let name = name
        .rsplit('.')
        .next()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let params = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (
                k.trim().to_ascii_uppercase(),
                v.trim().trim_matches('"').to_owned(),
            ),
            None => ("TYPE".to_owned(), p.trim().to_owned()),
        })
        .collect();
    Some(Property {
        line,
        name,
        params,
        value: &l[colon + 1..],
    })
}

/// Splits on `sep` outside double quotes (the quotes stay in the parts).
fn split_unquoted(s: &str, sep: char) -> impl Iterator<Item = &str> {
    let mut quoted = false;
    s.split(move |c: char| {
        if c == '"' {
            quoted = !quoted;
        }
        c == sep && !quoted
    })
}

fn param<'a>(p: &'a Property, key: &str) -> Option<&'a str> {
    p.params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The value as text: transfer encoding undone, charset applied. Escapes are kept.
/// Borrowed when the value is plain UTF-8 (nearly always).
fn text<'a>(p: &Property<'a>) -> Cow<'a, str> {
    let is_qp = |v: &str| v.eq_ignore_ascii_case("QUOTED-PRINTABLE") || v.eq_ignore_ascii_case("Q");
    let bare_qp = p
        .params
        .iter()
        .any(|(k, v)| k == "TYPE" && v.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
    let label = param(p, "CHARSET").unwrap_or("");
    let charset = encoding_rs::Encoding::for_label(label.as_bytes()).filter(|_| !label.is_empty());
    if bare_qp || param(p, "ENCODING").is_some_and(is_qp) {
        let bytes = qp_decode(p.value);
        return Cow::Owned(match charset {
            Some(enc) => enc.decode_without_bom_handling(&bytes).0.into_owned(),
            None => crate::record::decode_text(&bytes),
        });
    }
    match charset {
        Some(enc) => enc.decode_without_bom_handling(p.value).0,
        None if encoding_rs::Encoding::for_bom(p.value).is_none() => {
            match std::str::from_utf8(p.value) {
                Ok(s) => Cow::Borrowed(s),
                Err(_) => Cow::Owned(crate::record::decode_text(p.value)),
            }
        }
        None => Cow::Owned(crate::record::decode_text(p.value)),
    }
}

fn qp_decode(v: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(v.len());
    let mut i = 0;
    while i < v.len() {
        if v[i] == b'='
            && let (Some(h), Some(l)) = (
                v.get(i + 1).and_then(|&b| hex(b)),
                v.get(i + 2).and_then(|&b| hex(b)),
            )
        {
            out.push(h << 4 | l);
            i += 3;
            continue;
        }
        // A soft break at the very end of the value (its last line ended
        // with `=`) adds nothing.
        if !(v[i] == b'=' && i + 1 == v.len()) {
            out.push(v[i]);
        }
        i += 1;
    }
    out
}

/// Splits on unescaped `sep` and undoes `\n`, `\,`, `\;`, `\\`.
fn components(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        let Some(cur) = out.last_mut() else { break };
        match c {
            '\\' => match chars.next() {
                Some('n' | 'N') => cur.push('\n'),
                Some(other) => cur.push(other),
                None => {}
            },
            c if c == sep => out.push(String::new()),
            c => cur.push(c),
        }
    }
    out.into_iter().map(|s| s.trim().to_owned()).collect()
}

/// Undoes escapes and trims; NUL characters are dropped (with the spaces around them).
fn unescape(s: &str) -> String {
    if !s.contains(['\\', '\u{0}']) {
        return s.trim().to_owned();
    }
    components(s, '\u{0}').join("")
}

fn kinds(p: &Property, ignore: &[&str]) -> Option<String> {
    let kinds: Vec<String> = p
        .params
        .iter()
        .filter(|(k, _)| k == "TYPE")
        .flat_map(|(_, v)| v.split(','))
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty() && !ignore.contains(&t.as_str()))
        .collect();
    (!kinds.is_empty()).then(|| kinds.join(","))
}

const NOT_KINDS: &[&str] = &["pref", "voice", "internet", "quoted-printable", "x400"];

fn non_empty(s: String) -> Option<String> {
    (!s.trim().is_empty()).then_some(s)
}

/// The `PREF` rank of a property: `PREF=n`, or 1 for a 3.0 `TYPE=pref`,
/// else after every ranked one.
fn pref_rank(p: &Property) -> u8 {
    let typed_pref = p
        .params
        .iter()
        .any(|(k, v)| k == "TYPE" && v.split(',').any(|t| t.trim().eq_ignore_ascii_case("pref")));
    match param(p, "PREF").and_then(|v| v.trim().parse::<u8>().ok()) {
        Some(n) => n.clamp(1, 100),
        None if typed_pref => 1,
        None => 101,
    }
}

fn apply(card: &mut Open, p: &Property, out: &mut Parsed) {
    let skip_binary = param(p, "ENCODING")
        .is_some_and(|e| e.eq_ignore_ascii_case("B") || e.eq_ignore_ascii_case("BASE64"));
    if skip_binary {
        return;
    }
    let c = &mut card.record;
    match p.name.as_str() {
        // Several FN (vCard 4 `ALTID`/`LANGUAGE` variants): the most
        // preferred, else the first.
        "FN" => {
            let v = unescape(&text(p));
            let rank = pref_rank(p);
            if !v.is_empty() && card.name_rank.is_none_or(|r| rank < r) {
                c.name = v;
                card.name_rank = Some(rank);
            }
        }
        "N" if c.name.trim().is_empty() => {
            let n = components(&text(p), ';');
            let get = |i: usize| n.get(i).map(String::as_str).unwrap_or("");
            // prefix given middle family suffix
            let parts = [get(3), get(1), get(2), get(0), get(4)];
            c.name = parts
                .iter()
                .filter(|s| !s.is_empty())
                .copied()
                .collect::<Vec<_>>()
                .join(" ");
        }
        "ORG" => {
            let org = components(&text(p), ';')
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>();
            c.organisation = non_empty(org.join(", "));
        }
        "TITLE" => c.title = non_empty(unescape(&text(p))).or(c.title.take()),
        "ROLE" if c.title.is_none() => c.title = non_empty(unescape(&text(p))),
        "ADR" => {
            let mut parts = components(&text(p), ';').into_iter();
            let mut next = || parts.next().unwrap_or_default();
            let address = Address {
                kind: kinds(p, NOT_KINDS),
                po_box: next(),
                extended: next(),
                street: next(),
                locality: next(),
                region: next(),
                postal_code: next(),
                country: next(),
            };
            if !address.is_empty() && !c.addresses.contains(&address) {
                c.addresses.push(address);
            }
        }
        "TEL" => {
            let v = unescape(&text(p));
            let v = v.trim().trim_start_matches("tel:").to_owned();
            if v.is_empty() {
                card.warn(out, p.line, IssueKind::EmptyPhone);
            } else {
                c.phones.push(RawValue {
                    value: v,
                    kind: kinds(p, NOT_KINDS),
                    line: p.line,
                });
            }
        }
        "EMAIL" => {
            let v = unescape(&text(p));
            match take_email(v) {
                Ok(address) => {
                    let dup = c.emails.iter().any(|e| {
                        e.value.len() == address.len()
                            && e.value.to_lowercase() == address.to_lowercase()
                    });
                    if !dup {
                        c.emails.push(RawValue {
                            value: address,
                            kind: kinds(p, NOT_KINDS),
                            line: p.line,
                        });
                    }
                }
                Err(v) if v.trim().is_empty() => {}
                Err(v) => card.warn(out, p.line, IssueKind::InvalidEmail { value: v }),
            }
        }
        "NOTE" => c.add_note(unescape(&text(p))),
        "CATEGORIES" => {
            for l in components(&text(p), ',') {
                if !l.is_empty() && !c.labels.contains(&l) {
                    c.labels.push(l);
                }
            }
        }
        "X-KONTOR-CONSENT" => c.consent = Some(unescape(&text(p))),
        "X-KONTOR-CONSENT-PURPOSE" => c.purpose = non_empty(unescape(&text(p))),
        "X-KONTOR-CONSENT-EVIDENCE" => c.evidence = non_empty(unescape(&text(p))),
        _ => {}
    }
}

#[cfg(test)]
mod tests;
