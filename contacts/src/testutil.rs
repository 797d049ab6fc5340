//! Fixtures shared by the unit tests: a book on in-memory stores.

use std::path::Path;
use std::sync::Arc;

use crate::contact_book::{ContactBook, OpenOptions};
use crate::crypto::KdfParams;
use crate::store::MemoryStore;

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
