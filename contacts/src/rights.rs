//! Data-subject rights: access and portability (Art. 15/20) as JSON and vCard,
//! and the consent report that demonstrates consent for every contact (Art. 7(1)).
//!
//! Erasure (Art. 17) is [`ContactBook::erase`]; it lives with the other moves.

use serde::Serialize;

use crate::consent::{ConsentEvent, Evidence};
use crate::contact_book::ContactBook;
use crate::error::Result;
use crate::model::{Book, Contact};

/// The JSON export of one contact: everything stored about the person.
#[derive(Debug, Serialize)]
pub struct ContactExport<'a> {
    /// Export format marker.
    pub format: &'static str,
    /// Which book the contact is in.
    pub book: Book,
    /// The full record, consent history included.
    pub contact: &'a Contact,
}

/// One row of the consent report.
#[derive(Debug, Clone, Serialize)]
pub struct ConsentReportRow {
    /// Contact id.
    pub id: String,
    /// Display name.
    pub name: String,
    /// Book it is in.
    pub book: Book,
    /// Current status.
    pub status: String,
    /// Current purpose.
    pub purpose: Option<String>,
    /// When the current status was recorded.
    pub since: Option<String>,
    /// Where it came from.
    pub source: Option<String>,
    /// Evidence for the current status.
    pub evidence: Option<Evidence>,
    /// All events, oldest first.
    pub history: Vec<ConsentEvent>,
}

impl ContactBook {
    /// All stored data of one contact as pretty JSON.
    pub fn export_json(&self, id: &str) -> Result<String> {
        let (book, contact) = self.get(id)?;
        Ok(serde_json::to_string_pretty(&ContactExport {
            format: "kontor-contact/1",
            book,
            contact: &contact,
        })?)
    }

    /// One contact as a vCard 4.0 (consent as `X-KONTOR-CONSENT*`, readable back by the importer).
    pub fn export_vcard(&self, id: &str) -> Result<String> {
        let (_, contact) = self.get(id)?;
        Ok(to_vcard(&contact))
    }

    /// The consent state of every contact in both books.
    pub fn consent_report(&self) -> Result<Vec<ConsentReportRow>> {
        let mut rows = Vec::new();
        for book in [Book::Work, Book::Private] {
            for c in self.list(book)? {
                let cur = c.consent.current();
                rows.push(ConsentReportRow {
                    id: c.id.clone(),
                    name: c.display_name.clone(),
                    book,
                    status: c.consent.status().to_string(),
                    purpose: cur.and_then(|e| e.purpose.clone()),
                    since: cur.map(|e| e.at.to_string()),
                    source: cur.map(|e| e.source.to_string()),
                    evidence: cur.and_then(|e| e.evidence.clone()),
                    history: c.consent.history().to_vec(),
                });
            }
        }
        Ok(rows)
    }

    /// The consent report as JSON.
    pub fn consent_report_json(&self) -> Result<String> {
        Ok(serde_json::to_string_pretty(&self.consent_report()?)?)
    }

    /// The consent report as CSV (UTF-8; history as `time status purpose (source)` joined by ` | `).
    pub fn consent_report_csv(&self) -> Result<String> {
        let mut w = ::csv::Writer::from_writer(Vec::new());
        let io =
            |e: ::csv::Error| crate::error::Error::io("<consent report>", std::io::Error::other(e));
        w.write_record([
            "id", "name", "book", "status", "purpose", "since", "source", "evidence", "history",
        ])
        .map_err(io)?;
        for r in self.consent_report()? {
            let evidence = r.evidence.as_ref().map(Evidence::to_string);
            let history = r
                .history
                .iter()
                .map(|e| {
                    format!(
                        "{} {} {} ({})",
                        e.at,
                        e.status,
                        e.purpose.as_deref().unwrap_or("-"),
                        e.source
                    )
                })
                .collect::<Vec<_>>()
                .join(" | ");
            w.write_record([
                r.id.as_str(),
                r.name.as_str(),
                r.book.name(),
                r.status.as_str(),
                r.purpose.as_deref().unwrap_or(""),
                r.since.as_deref().unwrap_or(""),
                r.source.as_deref().unwrap_or(""),
                evidence.as_deref().unwrap_or(""),
                history.as_str(),
            ])
            .map_err(io)?;
        }
        let bytes = w.into_inner().map_err(|e| {
            crate::error::Error::io("<consent report>", std::io::Error::other(e.to_string()))
        })?;
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }
}

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ',' => out.push_str("\\,"),
            ';' => out.push_str("\\;"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// Folds at 75 octets without splitting a UTF-8 character.
fn fold(line: &str, out: &mut String) {
    let mut width = 0;
    for c in line.chars() {
        if width + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += c.len_utf8();
    }
    out.push_str("\r\n");
}

/// `;TYPE="…"` for a type label, or nothing.
fn type_param(kind: &Option<String>) -> String {
    kind.as_deref()
        .map(|k| format!(";TYPE=\"{}\"", k.replace('"', "")))
        .unwrap_or_default()
}

/// Renders a contact as vCard 4.0.
pub fn to_vcard(c: &Contact) -> String {
    let mut lines = vec!["BEGIN:VCARD".to_owned(), "VERSION:4.0".to_owned()];
    lines.push(format!("UID:urn:kontor:{}", c.id));
    lines.push(format!("FN:{}", escape(&c.display_name)));
    if let Some(o) = &c.organisation {
        lines.push(format!("ORG:{}", escape(o)));
    }
    if let Some(t) = &c.title {
        lines.push(format!("TITLE:{}", escape(t)));
    }
    for p in &c.phones {
        let ty = type_param(&p.kind);
        match &p.e164 {
            Some(e) => lines.push(format!("TEL;VALUE=uri{ty}:tel:{e}")),
            None => lines.push(format!("TEL;VALUE=text{ty}:{}", escape(&p.raw))),
        }
    }
    for e in &c.emails {
        let ty = type_param(&e.kind);
        lines.push(format!("EMAIL{ty}:{}", escape(&e.address)));
    }
    for a in &c.addresses {
        let parts: Vec<String> = a.parts().iter().map(|p| escape(p)).collect();
        lines.push(format!("ADR{}:{}", type_param(&a.kind), parts.join(";")));
    }
    if let Some(n) = &c.note {
        lines.push(format!("NOTE:{}", escape(n)));
    }
    if !c.labels.is_empty() {
        lines.push(format!(
            "CATEGORIES:{}",
            c.labels
                .iter()
                .map(|l| escape(l))
                .collect::<Vec<_>>()
                .join(",")
        ));
    }
    if let Some(m) = &c.matrix_id {
        lines.push(format!("IMPP:matrix:u/{}", m.trim_start_matches('@')));
    }
    lines.push(format!("X-KONTOR-CONSENT:{}", c.consent.status()));
    if let Some(cur) = c.consent.current() {
        if let Some(p) = &cur.purpose {
            lines.push(format!("X-KONTOR-CONSENT-PURPOSE:{}", escape(p)));
        }
        if let Some(e) = &cur.evidence {
            lines.push(format!(
                "X-KONTOR-CONSENT-EVIDENCE:{}",
                escape(&e.to_string())
            ));
        }
    }
    lines.push(format!(
        "REV:{}",
        c.updated.to_string().replace(['-', ':'], "")
    ));
    lines.push("END:VCARD".to_owned());
    let mut out = String::new();
    for l in lines {
        fold(&l, &mut out);
    }
    out
}

#[cfg(test)]
mod tests;
