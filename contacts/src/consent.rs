//! Consent: the status that decides which book a contact lives in, and the
//! append-only history that proves it (GDPR Art. 7(1): the controller must be
//! able to *demonstrate* consent: what for, when, how it was given).
//!
//! The history can only grow: there is no method to edit or remove an event.
//! Erasure (Art. 17) removes the whole contact, history included.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::chat::ChatEvidence;
use crate::time::Timestamp;

/// The purpose recorded when none is given. A stored value, not a sentence
/// the library shows: it is what the freelancer's German-speaking customers
/// consented to by default, kept verbatim in the consent record (Art. 7(1)),
/// and the app may offer it as the pre-filled purpose. Not translated on
/// display, because the record must show what was recorded.
pub const DEFAULT_PURPOSE: &str = "Kundenkommunikation über Kontor";

/// Consent status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsentStatus {
    /// Consent given for the recorded purpose.
    Granted,
    /// Never asked or never given.
    None,
    /// Given once, then withdrawn (Art. 7(3)).
    Withdrawn,
}

impl ConsentStatus {
    /// Reads a consent cell or property leniently (English and German spellings).
    /// `None` for a value that means nothing we know.
    pub fn parse_lenient(s: &str) -> Option<Self> {
        let v = s.trim().to_lowercase();
        match v.as_str() {
            "granted" | "yes" | "y" | "true" | "1" | "x" | "ja" | "j" | "erteilt"
            | "einwilligung" | "opt-in" => Some(ConsentStatus::Granted),
            "" | "none" | "no" | "n" | "false" | "0" | "nein" | "keine" | "-" => {
                Some(ConsentStatus::None)
            }
            "withdrawn" | "revoked" | "widerrufen" | "opt-out" => Some(ConsentStatus::Withdrawn),
            _ => None,
        }
    }
}

impl fmt::Display for ConsentStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ConsentStatus::Granted => "granted",
            ConsentStatus::None => "none",
            ConsentStatus::Withdrawn => "withdrawn",
        })
    }
}

/// Where a consent decision came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ConsentSource {
    /// An import file; `line` is the line where the record starts (for CSV, the row's line).
    Import {
        /// File name (without directories).
        file: String,
        /// 1-based line number.
        line: u64,
    },
    /// Entered by the user in Kontor.
    Manual,
    /// The customer opted in themselves (e.g. a form or a message).
    CustomerOptIn {
        /// Channel, e.g. "web form", "signed contract".
        channel: String,
    },
    /// The customer answered a request, or withdrew, in the chat itself; the evidence
    /// is an [`Evidence::Chat`].
    Chat {
        /// The chat (a Matrix room id).
        room_id: String,
    },
    /// The person wrote first (through the business link, or any direct chat) and
    /// became a contact without consent: never a discovery candidate.
    WroteFirst {
        /// Their chat (a Matrix room id).
        room_id: String,
    },
}

impl fmt::Display for ConsentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsentSource::Import { file, line } => write!(f, "import {file} line {line}"),
            ConsentSource::Manual => f.write_str("manual entry"),
            ConsentSource::CustomerOptIn { channel } => write!(f, "customer opt-in ({channel})"),
            ConsentSource::Chat { .. } => f.write_str("answer in the chat"),
            ConsentSource::WroteFirst { .. } => f.write_str("wrote first via chat"),
        }
    }
}

/// Evidence for a consent decision, as data: the app renders it in the
/// user's language ([`fmt::Display`] is English, for the CLI, logs and the
/// CSV consent report).
///
/// Serialised as a plain string for [`Evidence::Text`] (what every record
/// stored before evidence became structured holds, so those still read) and
/// as an object with a `kind` for the others.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Evidence {
    /// Free text: the user's own words (`--evidence`, the app's field), a
    /// file's `X-KONTOR-CONSENT-EVIDENCE` or consent-evidence column, or a
    /// record stored before evidence was structured.
    Text(String),
    /// What an import recorded.
    Import(ImportEvidence),
    /// A request and its answer in the chat (boxed: it is far larger than the others).
    Chat(Box<ChatEvidence>),
}

/// Evidence an import records when the file or the user gives none.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImportEvidence {
    /// The user declared at import time that everyone in `file` consented to `purpose`.
    DeclaredForFile {
        /// File name (without directories).
        file: String,
        /// The purpose declared.
        purpose: String,
    },
    /// The file's consent cell or property of the record at `line` said `value`.
    FileValue {
        /// File name (without directories).
        file: String,
        /// Line of the record.
        line: u64,
        /// The consent value as written (`ja`, `granted`, `widerrufen`…).
        value: String,
    },
}

impl From<&str> for Evidence {
    fn from(s: &str) -> Self {
        Evidence::Text(s.to_owned())
    }
}

impl From<String> for Evidence {
    fn from(s: String) -> Self {
        Evidence::Text(s)
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Evidence::Text(t) => f.write_str(t),
            Evidence::Import(ImportEvidence::DeclaredForFile { file, purpose }) => write!(
                f,
                "declared at import: everyone in {file} consented ({purpose})"
            ),
            Evidence::Import(ImportEvidence::FileValue { file, line, value }) => {
                write!(f, "{file} line {line}: consent = {value}")
            }
            Evidence::Chat(chat) => {
                let a = &chat.answer;
                if let Some(r) = &chat.request {
                    write!(f, "request {} answered by ", r.event_id)?;
                }
                write!(f, "{} ", a.sender)?;
                if let Some(device) = &a.sender_device {
                    write!(f, "(device {device}) ")?;
                }
                write!(
                    f,
                    "with \"{}\" in event {} at {}",
                    a.text, a.event_id, a.server_at
                )
            }
        }
    }
}

/// One entry of the history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentEvent {
    /// The status from this moment on.
    pub status: ConsentStatus,
    /// What the consent is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// When it was recorded.
    pub at: Timestamp,
    /// Where it came from.
    pub source: ConsentSource,
    /// Evidence: the user's words, a reference to a signed form, the import decision…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<Evidence>,
}

/// Current consent and its history; events can only be appended.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Consent {
    history: Vec<ConsentEvent>,
}

impl Consent {
    /// A record starting with one event.
    pub fn with(event: ConsentEvent) -> Self {
        Consent {
            history: vec![event],
        }
    }

    /// The status now (`None` if nothing was ever recorded).
    pub fn status(&self) -> ConsentStatus {
        self.current().map_or(ConsentStatus::None, |e| e.status)
    }

    /// The latest event.
    pub fn current(&self) -> Option<&ConsentEvent> {
        self.history.last()
    }

    /// Every event, oldest first.
    pub fn history(&self) -> &[ConsentEvent] {
        &self.history
    }

    /// Appends an event. The only way to change consent.
    pub fn record(&mut self, event: ConsentEvent) {
        self.history.push(event);
    }

    /// Appends all events of `other` (when two records of one person are merged), keeping time order.
    pub fn merge_history(&mut self, other: &Consent) {
        let current = self.current().cloned();
        for e in &other.history {
            if !self.history.contains(e) {
                self.history.push(e.clone());
            }
        }
        self.history.sort_by_key(|e| e.at);
        // The merged contact keeps the status it had; merging is not a consent decision.
        if let Some(cur) = current
            && self.current() != Some(&cur)
        {
            self.history.retain(|e| e != &cur);
            self.history.push(cur);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(status: ConsentStatus, at: i64) -> ConsentEvent {
        ConsentEvent {
            status,
            purpose: None,
            at: Timestamp(at),
            source: ConsentSource::Manual,
            evidence: None,
        }
    }

    #[test]
    fn status_follows_last_event() {
        let mut c = Consent::default();
        assert_eq!(c.status(), ConsentStatus::None);
        c.record(ev(ConsentStatus::Granted, 1));
        c.record(ev(ConsentStatus::Withdrawn, 2));
        assert_eq!(c.status(), ConsentStatus::Withdrawn);
        assert_eq!(c.history().len(), 2);
    }

    #[test]
    fn merge_keeps_current_status() {
        let mut a = Consent::with(ev(ConsentStatus::Granted, 5));
        let b = Consent::with(ev(ConsentStatus::None, 9));
        a.merge_history(&b);
        assert_eq!(a.status(), ConsentStatus::Granted);
        assert_eq!(a.history().len(), 2);
    }

    #[test]
    fn evidence_reads_old_text_and_round_trips_structured() {
        // A record stored before evidence was structured.
        let mut old = serde_json::to_value(ev(ConsentStatus::Granted, 1)).unwrap();
        old["evidence"] = "Formular 7".into();
        let old: ConsentEvent = serde_json::from_value(old).unwrap();
        assert_eq!(old.evidence, Some(Evidence::Text("Formular 7".into())));
        let e = Evidence::Import(ImportEvidence::FileValue {
            file: "k.csv".into(),
            line: 3,
            value: "ja".into(),
        });
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(
            json,
            r#"{"kind":"file_value","file":"k.csv","line":3,"value":"ja"}"#
        );
        assert_eq!(serde_json::from_str::<Evidence>(&json).unwrap(), e);
        assert_eq!(
            serde_json::to_string(&Evidence::from("x")).unwrap(),
            r#""x""#
        );
    }

    #[test]
    fn lenient_parsing() {
        assert_eq!(
            ConsentStatus::parse_lenient(" Ja "),
            Some(ConsentStatus::Granted)
        );
        assert_eq!(ConsentStatus::parse_lenient(""), Some(ConsentStatus::None));
        assert_eq!(
            ConsentStatus::parse_lenient("Widerrufen"),
            Some(ConsentStatus::Withdrawn)
        );
        assert_eq!(ConsentStatus::parse_lenient("vielleicht"), None);
    }
}
