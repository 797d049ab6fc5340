//! The consent proof of one contact (GDPR Art. 7(1)), for both faces: as a PDF a person
//! reads (an authority, the customer, the freelancer's lawyer) and as JSON a program
//! reads (`kontor-consent-proof/1`, [`kontor_contacts::ConsentProof`]).
//!
//! The data comes from the contact book ([`ContactBook::consent_proof`]); the PDF is
//! kontor-quotes' generic document ([`render_document`]), so Kontor has one PDF stack.
//! The labels are in the chosen language ([`words`]); what the record holds — purposes,
//! the request and answer texts, evidence, accounts, devices, event ids — is printed
//! exactly as recorded, never translated or shortened. Files are written privately
//! ([`write_private`]): a proof is personal data.

mod words;

use std::path::Path;

use kontor_contacts::{
    ChatEvidence, ConsentEvent, ConsentProof, ConsentRequest, ConsentSource, ContactBook, Evidence,
    ImportEvidence, Phone,
};
use kontor_quotes::pdf::{Document, Section, render_document};

use super::{ServiceError, fs::write_private, language::Language};
use words::Words;

/// The two forms of a proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProofFormat {
    /// A4 PDF, for people.
    Pdf,
    /// Pretty JSON (`kontor-consent-proof/1`), for programs.
    Json,
}

impl ProofFormat {
    /// From a file's extension (`.pdf`, `.json`, any case); `None` for any other.
    pub fn from_path(path: &Path) -> Option<ProofFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "pdf" => Some(ProofFormat::Pdf),
            "json" => Some(ProofFormat::Json),
            _ => None,
        }
    }

    /// The name (`pdf`, `json`), also the file extension.
    pub fn name(self) -> &'static str {
        match self {
            ProofFormat::Pdf => "pdf",
            ProofFormat::Json => "json",
        }
    }
}

/// The proof of the contact `id` (full id or unique prefix), made now, in `format`;
/// `language` words the PDF's labels (the JSON has none).
pub fn render(
    book: &ContactBook,
    id: &str,
    format: ProofFormat,
    language: Language,
) -> Result<Vec<u8>, ServiceError> {
    render_proof(&book.consent_proof(id)?, format, language)
}

/// One proof in `format`: the same proof gives the same bytes.
pub fn render_proof(
    proof: &ConsentProof,
    format: ProofFormat,
    language: Language,
) -> Result<Vec<u8>, ServiceError> {
    match format {
        ProofFormat::Json => {
            let mut json = serde_json::to_vec_pretty(proof).map_err(|_| ServiceError::Crashed)?;
            json.push(b'\n');
            Ok(json)
        }
        ProofFormat::Pdf => Ok(render_document(&document(proof, language))?),
    }
}

/// Writes a proof privately ([`write_private`]: 0600, complete or not at all).
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), ServiceError> {
    write_private(path, bytes).map_err(|source| ServiceError::Write {
        path: path.to_owned(),
        source,
    })
}

/// The proof as a document: the person, the consent now, an open request, then every
/// decision oldest first, one section each.
pub fn document(proof: &ConsentProof, language: Language) -> Document {
    let w = Words::get(language);
    let p = &proof.person;
    let mut person = vec![
        (w.name, p.name.clone()),
        (w.contact_id, p.contact_id.clone()),
        (w.book, w.book_name(p.book).to_owned()),
    ];
    if let Some(o) = &p.organisation {
        person.insert(1, (w.organisation, o.clone()));
    }
    for (label, account) in [
        (w.chat_account, &p.chat_id),
        (w.found_account, &p.matrix_id),
    ] {
        if let Some(a) = account {
            person.push((label, a.clone()));
        }
    }
    person.extend(p.phones.iter().map(|n| (w.phone, phone(n))));
    person.extend(
        p.emails
            .iter()
            .map(|e| (w.email, with_kind(&e.address, &e.kind))),
    );
    person.push((w.created, w.time(p.created)));

    let mut current = vec![(w.status, w.status(proof.status).to_owned())];
    if let Some(purpose) = &proof.purpose {
        current.push((w.purpose, purpose.clone()));
    }
    current.push((
        w.since,
        proof
            .since
            .map_or_else(|| w.nothing_recorded.to_owned(), |t| w.time(t)),
    ));

    let mut sections = vec![section(w.person, person), section(w.current, current)];
    if let Some(r) = &proof.open_request {
        sections.push(section(w.open_request, request_rows(w, r)));
    }
    let n = proof.history.len();
    for (i, event) in proof.history.iter().enumerate() {
        let heading = format!(
            "{} {} {} {n}: {}",
            w.entry,
            i + 1,
            w.of,
            w.status(event.status)
        );
        sections.push(section(&heading, event_rows(w, event)));
    }
    Document {
        title: format!("{} – {}", w.title, p.name.trim()),
        lines: vec![
            w.law.to_owned(),
            format!("{} {}", w.generated, w.time(proof.generated_at)),
            w.as_recorded.to_owned(),
        ],
        sections,
        footer: format!("{} · {} · {}", w.title, p.name.trim(), p.contact_id),
        author: "Kontor".to_owned(),
        german: w.german,
    }
}

fn section(heading: &str, rows: Vec<(&str, String)>) -> Section {
    Section {
        heading: heading.to_owned(),
        rows: rows.into_iter().map(|(l, v)| (l.to_owned(), v)).collect(),
        paragraphs: Vec::new(),
    }
}

/// `0151 12345678 (+4915112345678, mobile)`: as written, the E.164 form and the label.
fn phone(p: &Phone) -> String {
    let extra: Vec<&str> = [p.e164.as_deref(), p.kind.as_deref()]
        .into_iter()
        .flatten()
        .filter(|e| *e != p.raw)
        .collect();
    if extra.is_empty() {
        p.raw.clone()
    } else {
        format!("{} ({})", p.raw, extra.join(", "))
    }
}

fn with_kind(value: &str, kind: &Option<String>) -> String {
    match kind {
        Some(k) => format!("{value} ({k})"),
        None => value.to_owned(),
    }
}

/// One decision: when, what, for what, where from, and its evidence field by field.
fn event_rows<'w>(w: &'w Words, e: &ConsentEvent) -> Vec<(&'w str, String)> {
    let mut rows = vec![
        (w.recorded_at, w.time(e.at)),
        (w.status, w.status(e.status).to_owned()),
    ];
    if let Some(purpose) = &e.purpose {
        rows.push((w.purpose, purpose.clone()));
    }
    rows.push((w.source, source(w, &e.source)));
    if let ConsentSource::Chat { room_id } | ConsentSource::WroteFirst { room_id } = &e.source {
        rows.push((w.room, room_id.clone()));
    }
    match &e.evidence {
        None => rows.push((w.evidence, w.no_evidence.to_owned())),
        Some(Evidence::Chat(chat)) => rows.extend(chat_rows(w, chat)),
        Some(other) => rows.push((w.evidence, evidence(w, other))),
    }
    rows
}

fn source(w: &Words, s: &ConsentSource) -> String {
    match (s, w.german) {
        (ConsentSource::Import { file, line }, true) => format!("Import: {file}, Zeile {line}"),
        (ConsentSource::Import { file, line }, false) => format!("import: {file}, line {line}"),
        (ConsentSource::Manual, true) => "in Kontor von Hand eingetragen".to_owned(),
        (ConsentSource::Manual, false) => "entered by hand in Kontor".to_owned(),
        (ConsentSource::CustomerOptIn { channel }, true) => {
            format!("Zustimmung der Kundin / des Kunden ({channel})")
        }
        (ConsentSource::CustomerOptIn { channel }, false) => {
            format!("the customer opted in ({channel})")
        }
        (ConsentSource::Chat { .. }, true) => "Antwort im Chat".to_owned(),
        (ConsentSource::Chat { .. }, false) => "answer in the chat".to_owned(),
        (ConsentSource::WroteFirst { .. }, true) => {
            "hat zuerst im Chat geschrieben (ohne Einwilligung)".to_owned()
        }
        (ConsentSource::WroteFirst { .. }, false) => {
            "wrote first in the chat (without consent)".to_owned()
        }
    }
}

/// Evidence other than a chat's: the text as recorded, or what an import recorded.
fn evidence(w: &Words, e: &Evidence) -> String {
    match (e, w.german) {
        (Evidence::Import(ImportEvidence::DeclaredForFile { file, purpose }), true) => {
            format!("beim Import erklärt: alle in {file} haben eingewilligt ({purpose})")
        }
        (Evidence::Import(ImportEvidence::DeclaredForFile { file, purpose }), false) => {
            format!("declared at import: everyone in {file} consented ({purpose})")
        }
        (Evidence::Import(ImportEvidence::FileValue { file, line, value }), true) => {
            format!("{file}, Zeile {line}: Einwilligung = {value}")
        }
        (Evidence::Import(ImportEvidence::FileValue { file, line, value }), false) => {
            format!("{file}, line {line}: consent = {value}")
        }
        // Free text is the user's own words: as recorded. (A chat's evidence has rows
        // of its own, `chat_rows`; its English summary is only a fallback.)
        (other, _) => other.to_string(),
    }
}

/// The request (or that there was none) and the answer, every field.
fn chat_rows<'w>(w: &'w Words, chat: &ChatEvidence) -> Vec<(&'w str, String)> {
    let mut rows = match &chat.request {
        Some(r) => request_rows(w, r),
        None => vec![(w.evidence, w.no_request.to_owned())],
    };
    let a = &chat.answer;
    rows.extend([
        (w.answer_event, a.event_id.clone()),
        (w.answer_way, w.way(a.way).to_owned()),
        (w.answer_text, a.text.clone()),
        (w.answered_by, a.sender.clone()),
        (
            w.answer_device,
            a.sender_device
                .clone()
                .unwrap_or_else(|| w.unencrypted.to_owned()),
        ),
        (w.server_time, w.time(a.server_at)),
        (w.local_time, w.time(a.received_at)),
    ]);
    rows
}

fn request_rows<'w>(w: &'w Words, r: &ConsentRequest) -> Vec<(&'w str, String)> {
    vec![
        (w.request_event, r.event_id.clone()),
        (w.request_room, r.room_id.clone()),
        (w.asked_by, r.asked_by.clone()),
        (
            w.asked_device,
            r.asked_device
                .clone()
                .unwrap_or_else(|| w.not_recorded.to_owned()),
        ),
        (w.asked_user, r.asked_user.clone()),
        (w.asked_at, w.time(r.asked_at)),
        (w.request_language, r.language.clone()),
        (w.request_purpose, r.purpose.clone()),
        (w.request_text, r.text.clone()),
    ]
}

#[cfg(test)]
mod tests;
