//! Consent asked and answered in a chat (double opt-in), as data of the contact book.
//!
//! The freelancer's Kontor sends the request into the chat and keeps it as the
//! contact's open request; the customer's answer — from Kontor or any Matrix client —
//! turns into a consent event whose evidence holds both sides exactly as they happened
//! (event ids, texts, sender account and device, server and local time). The request
//! lives in the contact's record, so it is sealed like the contact, survives a restart,
//! is part of the contact's Art. 15 export and goes with an Art. 17 erase; the answer
//! clears it in the same journaled write that moves the contact between the books.

use serde::{Deserialize, Serialize};

use crate::time::Timestamp;

/// How long an unanswered request blocks a new one: asking again and again is the
/// pressure GDPR Art. 7(4) and § 7 UWG forbid, so at most one request a month.
pub const REQUEST_INTERVAL_SECS: i64 = 30 * 86_400;

/// A consent request sent in a chat and not answered yet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentRequest {
    /// The chat (a Matrix room id).
    pub room_id: String,
    /// The request's event id.
    pub event_id: String,
    /// The request exactly as sent (what the customer read).
    pub text: String,
    /// The purpose asked for.
    pub purpose: String,
    /// The language the request was written in (`de` or `en`).
    pub language: String,
    /// The freelancer's account that asked.
    pub asked_by: String,
    /// The freelancer's device that asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asked_device: Option<String>,
    /// The Matrix account asked (the only one whose answer counts).
    pub asked_user: String,
    /// When it was sent (the homeserver's time of the event).
    pub asked_at: Timestamp,
}

/// How the customer gave an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerWay {
    /// A reply to the request (Kontor's buttons send one, Element's "Reply" too).
    Reply,
    /// A message of its own in the chat, e.g. just "JA" or "STOP".
    Message,
    /// A reaction on the request, e.g. 👍.
    Reaction,
}

/// What the customer did in the chat, as the homeserver delivered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChatAnswer {
    /// The answer's event id.
    pub event_id: String,
    /// The text as written, or the reaction's key.
    pub text: String,
    /// Reply, message or reaction.
    pub way: AnswerWay,
    /// The customer's Matrix account.
    pub sender: String,
    /// The customer's device, from the end-to-end encryption of the event (the
    /// device whose keys encrypted it); `None` only for an unencrypted event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sender_device: Option<String>,
    /// The homeserver's time of the event (`origin_server_ts`).
    pub server_at: Timestamp,
    /// When this device read it.
    pub received_at: Timestamp,
}

/// The evidence of a consent decision made in a chat (Art. 7(1) GDPR): the request the
/// customer answered and the answer. A withdrawal ("STOP") answers no request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename = "chat")]
pub struct ChatEvidence {
    /// The request answered; `None` for a withdrawal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request: Option<ConsentRequest>,
    /// The customer's answer.
    pub answer: ChatAnswer,
}
