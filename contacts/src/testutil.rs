//! Fixtures shared by the unit tests: a book on in-memory stores.

use std::path::Path;
use std::sync::Arc;

use crate::chat::{AnswerWay, ChatAnswer, ConsentRequest};
use crate::contact_book::{ContactBook, OpenOptions};
use crate::crypto::KdfParams;
use crate::store::MemoryStore;
use crate::time::Timestamp;

pub(crate) const PASS: &str = "correct horse battery staple";

pub(crate) struct MemBook {
    pub(crate) book: ContactBook,
    pub(crate) work: Arc<MemoryStore>,
    pub(crate) private: Arc<MemoryStore>,
}

pub(crate) fn options() -> OpenOptions {
    OpenOptions {
        kdf: KdfParams::insecure_fast(),
        ..OpenOptions::default()
    }
}

pub(crate) fn mem_book() -> MemBook {
    let (work, private) = (Arc::new(MemoryStore::new()), Arc::new(MemoryStore::new()));
    let book = reopen(&work, &private, PASS).unwrap_or_else(|e| panic!("open: {e}"));
    MemBook {
        book,
        work,
        private,
    }
}

pub(crate) fn reopen(
    work: &Arc<MemoryStore>,
    private: &Arc<MemoryStore>,
    pass: &str,
) -> crate::Result<ContactBook> {
    ContactBook::from_stores(
        Box::new(work.clone()),
        Path::new("<work>"),
        Box::new(private.clone()),
        Path::new("<private>"),
        pass,
        options(),
    )
}

/// The customer of the chat fixtures.
pub(crate) const CUSTOMER: &str = "@frau.weiss:example.org";
/// Their chat.
pub(crate) const ROOM: &str = "!chat:example.org";

/// A consent request to [`CUSTOMER`] in [`ROOM`], sent at `at`.
pub(crate) fn request(at: i64) -> ConsentRequest {
    ConsentRequest {
        room_id: ROOM.into(),
        event_id: format!("$request{at}"),
        text: "Einwilligung: Praxis Berger bittet um Ihre Einwilligung …".into(),
        purpose: "Terminerinnerungen per Kontor".into(),
        language: "de".into(),
        asked_by: "@berger:example.org".into(),
        asked_device: Some("LAPTOP".into()),
        asked_user: CUSTOMER.into(),
        asked_at: Timestamp(at),
    }
}

/// An answer in the chat from `sender`'s phone.
pub(crate) fn answer(sender: &str, text: &str, way: AnswerWay) -> ChatAnswer {
    ChatAnswer {
        event_id: "$answer".into(),
        text: text.into(),
        way,
        sender: sender.into(),
        sender_device: Some("PHONE".into()),
        server_at: Timestamp(1_800_000_100),
        received_at: Timestamp(1_800_000_101),
    }
}
