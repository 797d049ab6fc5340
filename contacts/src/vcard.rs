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

use crate::record::{LineIssue, Parsed, RawRecord};

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
    let input_len = bytes.len();
    let bytes = utf16_to_utf8(bytes);
    // Positions in the (possibly re-encoded) text, scaled to the input.
    let scale = |pos: usize| {
        if bytes.len() == input_len {
            pos
        } else {
            (pos as u128 * input_len as u128 / bytes.len().max(1) as u128) as usize
        }
    };
    let mut out = Parsed::default();
    let mut card: Option<RawRecord> = None;
    let mut go_on = true;
    for (line, end, l) in logical_lines(&bytes) {
        if !go_on {
            return out;
        }
        let Some(prop) = split_property(line, &l) else {
            continue;
        };
        match prop.name.as_str() {
            "BEGIN" if text(&prop).trim().eq_ignore_ascii_case("VCARD") => {
                if let Some(open) = card.take() {
                    out.warnings.push(issue(open.line, "card has no END:VCARD"));
                    go_on = finish(open, &mut out, emit, scale(end));
                }
                card = Some(RawRecord {
                    line: prop.line,
                    ..RawRecord::default()
                });
            }
            "END" if text(&prop).trim().eq_ignore_ascii_case("VCARD") => match card.take() {
                Some(c) => go_on = finish(c, &mut out, emit, scale(end)),
                None => out
                    .warnings
                    .push(issue(prop.line, "END:VCARD without BEGIN:VCARD")),
            },
            _ => {
                if let Some(c) = card.as_mut() {
                    apply(c, &prop, &mut out);
                }
            }
        }
    }
    if go_on && let Some(open) = card.take() {
        out.warnings.push(issue(open.line, "card has no END:VCARD"));
        finish(open, &mut out, emit, input_len);
    }
    out
}

fn issue(line: u64, msg: &str) -> LineIssue {
    LineIssue {
        line,
        message: msg.to_owned(),
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
        out.rejected.push(issue(
            card.line,
            "card has no name, organisation, phone number or e-mail",
        ));
        true
    } else {
        emit(card, pos)
    }
}

fn utf16_to_utf8(bytes: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    match encoding_rs::Encoding::for_bom(bytes) {
        Some((enc, n)) if enc != encoding_rs::UTF_8 => {
            let (s, _) = enc.decode_without_bom_handling(&bytes[n..]);
            std::borrow::Cow::Owned(s.into_owned().into_bytes())
        }
        Some((_, n)) => std::borrow::Cow::Borrowed(&bytes[n..]),
        None => std::borrow::Cow::Borrowed(bytes),
    }
}

/// Physical lines (any line ending) joined into logical ones: RFC folding
/// (leading space/tab) and QUOTED-PRINTABLE soft breaks (trailing `=`).
/// A line without continuation is borrowed, not copied. Yields the first
/// line's number, the byte offset after the logical line, and the line.
fn logical_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, usize, Cow<'_, [u8]>)> + '_ {
    let mut physical = physical_lines(bytes).peekable();
    std::iter::from_fn(move || {
        let (line, mut end, first) = physical.next()?;
        let mut cur = Cow::Borrowed(first);
        let qp = is_qp(first);
        while let Some(&(_, next_end, next)) = physical.peek() {
            if matches!(next.first(), Some(b' ' | b'\t')) {
                let cur = cur.to_mut();
                if qp && cur.last() == Some(&b'=') {
                    cur.pop();
                }
                cur.extend_from_slice(&next[1..]);
            } else if qp && cur.last() == Some(&b'=') && !next.is_empty() {
                let cur = cur.to_mut();
                cur.pop();
                cur.extend_from_slice(next);
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
        out.push(v[i]);
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

fn apply(c: &mut RawRecord, p: &Property, out: &mut Parsed) {
    let skip_binary = param(p, "ENCODING")
        .is_some_and(|e| e.eq_ignore_ascii_case("B") || e.eq_ignore_ascii_case("BASE64"));
    if skip_binary {
        return;
    }
    match p.name.as_str() {
        "FN" => {
            let v = unescape(&text(p));
            if !v.is_empty() {
                c.name = v;
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
        "TEL" => {
            let v = unescape(&text(p));
            let v = v.trim().trim_start_matches("tel:").to_owned();
            if v.is_empty() {
                out.warnings.push(issue(p.line, "empty TEL ignored"));
            } else {
                c.phones.push((v, kinds(p, NOT_KINDS)));
            }
        }
        "EMAIL" => {
            let v = unescape(&text(p))
                .trim()
                .trim_start_matches("mailto:")
                .to_owned();
            if v.contains('@') {
                c.emails.push((v, kinds(p, NOT_KINDS)));
            } else if !v.is_empty() {
                out.warnings.push(issue(p.line, "EMAIL without @ ignored"));
            }
        }
        "NOTE" => c.note = non_empty(unescape(&text(p))),
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
