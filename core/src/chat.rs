//! Chats: direct rooms, text, history, invites and the outbox.
//!
//! Outgoing messages go through matrix-sdk's send queue, which persists them in the
//! encrypted SQLite store before anything touches the network. That is what makes the
//! outbox survive a homeserver outage and an app restart; [`Kontor::sync_once`] and the
//! background sync re-enable the queue once the server answers again.
//!
//! - `dm`: finding or creating direct chats, invites;
//! - `outbox`: sending through the send queue, the outbox, retry and cancel;
//! - `history`: reading messages (server, event cache offline, outbox appended);
//! - `handlers`: sync and send-queue updates turned into `CoreEvent`s.

mod dm;
pub(crate) mod handlers;
mod history;
mod outbox;

pub(crate) use history::to_message;
pub use outbox::OutboxEntry;
pub(crate) use outbox::queued_txn;
