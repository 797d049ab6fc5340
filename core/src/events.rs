//! The domain events kontor-core publishes, and the message type shared with callers.
//!
//! These are Kontor's own types, not matrix-sdk's: the SDK changes its API with nearly
//! every release, and the UI and the CLI should not have to follow it.

use serde::{Deserialize, Serialize};

/// Something the UI (or a script following `kontor sync --follow`) should know about.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
// Messages are by far the most frequent event; boxing them would add an allocation to
// the common case to make the rare small events smaller.
#[allow(clippy::large_enum_variant)]
pub enum CoreEvent {
    /// A message arrived in a room (also our own messages, echoed by the server).
    MessageReceived(Message),
    /// An outgoing message changed state (queued, sent, failed, cancelled).
    MessageState {
        /// Room the message belongs to.
        room_id: String,
        /// Local id of the message until the server gives it an event id.
        transaction_id: String,
        /// Its new state.
        state: SendState,
    },
    /// An event was redacted (deleted for everyone) by its sender or a moderator: what
    /// it said must go from every copy the app keeps (the search index, a card).
    Redacted {
        /// The room.
        room_id: String,
        /// The event that was redacted.
        event_id: String,
    },
    /// Someone invited us to a room.
    Invite {
        /// The room.
        room_id: String,
        /// Who invited us, if known.
        inviter: Option<String>,
        /// The inviter marked it a direct chat (`is_direct`): a person writing to us,
        /// not a group.
        direct: bool,
    },
    /// Another device or user asks to verify us.
    VerificationRequest {
        /// The user asking (our own id for one of our other devices).
        user_id: String,
        /// The id of this verification flow.
        flow_id: String,
    },
    /// The connection to the homeserver changed.
    Connection(ConnectionState),
    /// The sync brought chats or invitations this device did not know yet, or removed
    /// some: a chat list should be read again ([`crate::Kontor::chats`]). With sliding
    /// sync a new device learns its chats a window at a time, so this comes several times.
    ChatsChanged,
    /// An entry of the account's business room arrived (posted by any of our devices,
    /// this one included): see [`crate::Kontor::business_events`].
    Business(crate::BusinessEvent),
    /// Bytes of an attachment moved.
    Transfer {
        /// The attachment's id (local transaction id or event id).
        id: String,
        /// Upload or download.
        direction: Direction,
        /// Bytes done so far.
        done: u64,
        /// Total bytes.
        total: u64,
    },
}

/// Whether we can talk to the homeserver.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// The last sync succeeded.
    Online,
    /// The last sync failed; sending is paused and messages wait in the outbox.
    Offline {
        /// Why (for logs and a tooltip; contains no message content).
        reason: String,
    },
}

/// Direction of a transfer.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// From this device to the homeserver.
    Upload,
    /// From the homeserver to this device.
    Download,
}

/// The delivery state of a message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum SendState {
    /// Stored in the outbox on disk; will be sent when the homeserver is reachable.
    Pending,
    /// Accepted by the homeserver.
    Sent {
        /// The event id the server gave it.
        event_id: String,
    },
    /// The server refused it for good; retry or cancel.
    Failed {
        /// Why.
        reason: String,
    },
    /// Removed from the outbox before it was sent.
    Cancelled,
}

/// One message in a chat, as Kontor shows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Message {
    /// The room.
    pub room_id: String,
    /// Server event id; `None` while the message is still in the outbox.
    pub event_id: Option<String>,
    /// Local transaction id for messages still in the outbox.
    pub transaction_id: Option<String>,
    /// Sender's Matrix id.
    pub sender: String,
    /// The sender's device as the end-to-end encryption names it (the device whose
    /// keys encrypted the event: what consent evidence records). `None` for an
    /// unencrypted event and for our own messages still in the outbox.
    pub sender_device: Option<String>,
    /// True when we sent it.
    pub own: bool,
    /// Server timestamp in milliseconds since the epoch (local time for queued messages).
    pub timestamp_ms: u64,
    /// What it says or carries.
    pub body: MessageBody,
    /// The event this message answers (`m.in_reply_to` of a rich reply), if any: how a
    /// customer's "Ja, passt" is tied to the quote it answers.
    pub reply_to: Option<String>,
    /// For an edit (`m.replace`): the event it replaces. `body` is then the new content
    /// (`m.new_content`), not the "* …" fallback other clients show when they do not
    /// understand edits.
    pub replaces: Option<String>,
    /// Delivery state (always `Sent` for messages that came from the server).
    pub state: SendState,
}

/// The content of a message.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum MessageBody {
    /// Plain text.
    Text {
        /// The text.
        text: String,
        /// Kontor's structured payloads carried in the same (encrypted) event, as for
        /// [`MessageBody::File::extra`] (e.g. `eu.kontor.consent_request`); `None`
        /// for a plain message.
        #[serde(skip_serializing_if = "Option::is_none")]
        extra: Option<serde_json::Value>,
    },
    /// A file (a quote, an invoice …).
    File {
        /// File name as the sender gave it.
        name: String,
        /// MIME type, if the sender gave one.
        mime: Option<String>,
        /// Size in bytes, if the sender gave it.
        size: Option<u64>,
        /// True when the file itself is end-to-end encrypted.
        encrypted: bool,
        /// The caption: the event's `body` when it differs from the file name (the
        /// Matrix spec's media captions, which Element shows under the file).
        caption: Option<String>,
        /// Kontor's structured payloads carried in the same (encrypted) event: an
        /// object holding every content key in Kontor's namespace
        /// ([`crate::EXTRA_NAMESPACE`]) with its value, e.g.
        /// `{"eu.kontor.quote": {...}}`; `None` when there is none. Core does not
        /// interpret it; read one with [`MessageBody::extra`].
        extra: Option<serde_json::Value>,
    },
    /// An annotation (`m.reaction`, e.g. 👍) on another event. Not a message to show
    /// or count: it belongs to the event it points at (a customer's 👍 on a quote is
    /// an answer to that quote). Delivered so callers can compute such answers from
    /// a page; timelines, previews, unread counts and notifications skip it.
    Reaction {
        /// The event reacted to.
        relates_to: String,
        /// The reaction (usually an emoji).
        key: String,
    },
    /// An encrypted event we have no key for (yet).
    Undecryptable,
    /// Another message type (image, notice …), shown by its fallback text.
    Other {
        /// The Matrix msgtype.
        msgtype: String,
        /// The fallback text body.
        text: String,
    },
}

impl MessageBody {
    /// The structured payload a message carries under `key` (e.g.
    /// `"eu.kontor.quote"`), as sent with [`crate::Kontor::send_file_with`] or
    /// [`crate::Kontor::send_text_with`].
    pub fn extra(&self, key: &str) -> Option<&serde_json::Value> {
        match self {
            MessageBody::File {
                extra: Some(extra), ..
            }
            | MessageBody::Text {
                extra: Some(extra), ..
            } => extra.get(key),
            _ => None,
        }
    }

    /// True for a reaction: it annotates another event and is not listed, previewed,
    /// counted as unread or notified as a message of its own.
    pub fn is_reaction(&self) -> bool {
        matches!(self, MessageBody::Reaction { .. })
    }
}
