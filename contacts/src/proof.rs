//! The consent proof of one person (GDPR Art. 7(1): the controller must be able to
//! *demonstrate* that the person consented): who they are, the consent now, every
//! decision oldest first with its source and evidence exactly as recorded — for a
//! decision made in the chat, the request and the answer with event ids, texts,
//! accounts, devices and times — and a request still waiting for an answer.
//!
//! Data only: the app turns it into a PDF in the reader's language and into JSON
//! ([`ContactBook::consent_proof_json`]). The stored texts (purposes, request and answer
//! texts, evidence) are the record and are never translated or shortened.
//!
//! The JSON's field names are a public format (`kontor-consent-proof/1`): add, never
//! rename.

use serde::{Deserialize, Serialize};

use crate::chat::ConsentRequest;
use crate::consent::{ConsentEvent, ConsentStatus};
use crate::contact_book::ContactBook;
use crate::error::Result;
use crate::model::{Book, ContactId, Email, Phone};
use crate::time::Timestamp;

/// The format marker of [`ConsentProof`]'s JSON.
pub const PROOF_FORMAT: &str = "kontor-consent-proof/1";

/// What demonstrates one person's consent, as recorded in the contact book.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentProof {
    /// Always [`PROOF_FORMAT`].
    pub format: String,
    /// When this proof was made (from the record as it was then).
    pub generated_at: Timestamp,
    /// Who the proof is about.
    pub person: ProofPerson,
    /// The consent now.
    pub status: ConsentStatus,
    /// What the current consent decision is for, if it names a purpose.
    #[serde(default)]
    pub purpose: Option<String>,
    /// When the current decision was recorded (`None`: nothing ever was).
    #[serde(default)]
    pub since: Option<Timestamp>,
    /// Every consent decision, oldest first, exactly as recorded (source and evidence
    /// included; a chat decision carries the request and the answer, see
    /// [`crate::ChatEvidence`]).
    pub history: Vec<ConsentEvent>,
    /// A consent request sent in the chat and not answered yet.
    #[serde(default)]
    pub open_request: Option<ConsentRequest>,
}

/// The person a [`ConsentProof`] is about, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProofPerson {
    /// The contact's id.
    pub contact_id: ContactId,
    /// The name shown in Kontor.
    pub name: String,
    /// Company or organisation.
    #[serde(default)]
    pub organisation: Option<String>,
    /// The book the contact is in now (work: consented; private: everyone else).
    pub book: Book,
    /// The Matrix account the person chats from (known from the chat itself).
    #[serde(default)]
    pub chat_id: Option<String>,
    /// The Matrix account contact discovery found for them (work book only).
    #[serde(default)]
    pub matrix_id: Option<String>,
    /// Phone numbers as stored (as written, and the E.164 form when valid).
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// E-mail addresses as stored.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// When the contact was created in this book.
    pub created: Timestamp,
}

impl ContactBook {
    /// The consent proof of one contact (full id or unique prefix), made now.
    pub fn consent_proof(&self, id: &str) -> Result<ConsentProof> {
        self.consent_proof_at(id, Timestamp::now())
    }

    /// [`ContactBook::consent_proof`] with the time it is made given (the same record
    /// then gives the same proof, byte for byte).
    pub fn consent_proof_at(&self, id: &str, now: Timestamp) -> Result<ConsentProof> {
        let (book, c) = self.get(id)?;
        let current = c.consent.current();
        Ok(ConsentProof {
            format: PROOF_FORMAT.to_owned(),
            generated_at: now,
            status: c.consent.status(),
            purpose: current.and_then(|e| e.purpose.clone()),
            since: current.map(|e| e.at),
            history: c.consent.history().to_vec(),
            open_request: c.consent_request.clone(),
            person: ProofPerson {
                contact_id: c.id,
                name: c.display_name,
                organisation: c.organisation,
                book,
                chat_id: c.chat_id,
                matrix_id: c.matrix_id,
                phones: c.phones,
                emails: c.emails,
                created: c.created,
            },
        })
    }

    /// The consent proof as pretty JSON ([`PROOF_FORMAT`]).
    pub fn consent_proof_json(&self, id: &str) -> Result<String> {
        Ok(serde_json::to_string_pretty(&self.consent_proof(id)?)?)
    }
}

#[cfg(test)]
mod tests;
