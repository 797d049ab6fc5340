//! A lenient vCard reader for files as phones and mail programs export them.
//!
//! Real exports are not RFC 6350: Android writes 2.1 with QUOTED-PRINTABLE and
//! soft line breaks, bare `TEL;CELL:` types and a `CHARSET` per property; Apple
//! and Outlook write 3.0 with folded lines and `item1.` groups; some files mix
//! UTF-8 and Latin-1. So this works on bytes, unfolds both kinds of
//! continuation, decodes each value with its own charset (or UTF-8, falling
//! back to Windows-1252), and never fails as a whole: a bad card is reported
//! with its line number and the rest of the file is read.

use crate::record::{LineIssue, Parsed, RawRecord};

/// A property line after unfolding.
struct Property {
    line: u64,
    name: String,
    params: Vec<(String, String)>,
    value: Vec<u8>,
}

/// Parses every card in `bytes`.
pub fn parse(bytes: &[u8]) -> Parsed {
    let bytes = utf16_to_utf8(bytes);
    let mut out = Parsed::default();
    let mut card: Option<RawRecord> = None;
    for prop in logical_lines(&bytes).filter_map(|(line, l)| split_property(line, &l)) {
        match prop.name.as_str() {
            "BEGIN" if text(&prop).trim().eq_ignore_ascii_case("VCARD") => {
                if let Some(open) = card.take() {
                    out.warnings.push(issue(open.line, "card has no END:VCARD"));
                    finish(open, &mut out);
                }
                card = Some(RawRecord {
                    line: prop.line,
                    ..RawRecord::default()
                });
            }
            "END" if text(&prop).trim().eq_ignore_ascii_case("VCARD") => match card.take() {
                Some(c) => finish(c, &mut out),
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
    if let Some(open) = card.take() {
        out.warnings.push(issue(open.line, "card has no END:VCARD"));
        finish(open, &mut out);
    }
    out
}

fn issue(line: u64, msg: &str) -> LineIssue {
    LineIssue {
        line,
        message: msg.to_owned(),
    }
}

fn finish(card: RawRecord, out: &mut Parsed) {
    if card.is_empty() {
        out.rejected.push(issue(
            card.line,
            "card has no name, organisation, phone number or e-mail",
        ));
    } else {
        out.records.push(card);
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
fn logical_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, Vec<u8>)> + '_ {
    let mut physical = physical_lines(bytes).peekable();
    std::iter::from_fn(move || {
        let (line, first) = physical.next()?;
        let mut cur = first.to_vec();
        let qp = is_qp(&cur);
        while let Some(&(_, next)) = physical.peek() {
            if matches!(next.first(), Some(b' ' | b'\t')) {
                if qp && cur.last() == Some(&b'=') {
                    cur.pop();
                }
                cur.extend_from_slice(&next[1..]);
            } else if qp && cur.last() == Some(&b'=') && !next.is_empty() {
                cur.pop();
                cur.extend_from_slice(next);
            } else {
                break;
            }
            physical.next();
        }
        Some((line, cur))
    })
}

fn physical_lines(bytes: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
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
        Some((line, l))
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

fn split_property(line: u64, l: &[u8]) -> Option<Property> {
    let colon = header_end(l)?;
    let head = String::from_utf8_lossy(&l[..colon]);
    let mut parts = split_unquoted(&head, ';').into_iter();
    let name = parts.next()?.trim().to_ascii_uppercase();
    let name = name.rsplit('.').next().unwrap_or_default().to_owned();
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
        value: l[colon + 1..].to_vec(),
    })
}

fn split_unquoted(s: &str, sep: char) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    for c in s.chars() {
        if c == '"' {
            quoted = !quoted;
        }
        if c == sep && !quoted {
            out.push(String::new());
        } else if let Some(last) = out.last_mut() {
            last.push(c);
        }
    }
    out
}

fn param<'a>(p: &'a Property, key: &str) -> Option<&'a str> {
    p.params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

/// The value as text: transfer encoding undone, charset applied. Escapes are kept.
fn text(p: &Property) -> String {
    let encoding = param(p, "ENCODING").map(str::to_ascii_uppercase);
    let bare_qp = p
        .params
        .iter()
        .any(|(k, v)| k == "TYPE" && v.eq_ignore_ascii_case("QUOTED-PRINTABLE"));
    let bytes = if bare_qp || matches!(encoding.as_deref(), Some("QUOTED-PRINTABLE" | "Q")) {
        qp_decode(&p.value)
    } else {
        p.value.clone()
    };
    let label = param(p, "CHARSET").unwrap_or("");
    match encoding_rs::Encoding::for_label(label.as_bytes()) {
        Some(enc) if !label.is_empty() => enc.decode_without_bom_handling(&bytes).0.into_owned(),
        _ => crate::record::decode_text(&bytes),
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

fn unescape(s: &str) -> String {
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
    let skip_binary = matches!(
        param(p, "ENCODING").map(str::to_ascii_uppercase).as_deref(),
        Some("B" | "BASE64")
    );
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
