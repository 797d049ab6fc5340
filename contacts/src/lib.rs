//! Kontor's split contact book.
//!
//! Contacts live in one of two encrypted stores: the **work book** (people who
//! consented to be contacted through Kontor) and the **private book** (everyone
//! else, who never leaves the device). Only the work book can be handed to
//! identity-server discovery, and the type system enforces it. Consent is
//! recorded with its purpose, time, source and evidence in an append-only
//! history, so the user can demonstrate it (GDPR Art. 7(1)), export it
//! (Art. 15/20) and erase a person entirely (Art. 17).
//!
//! Start at [`ContactBook::open`]; see the crate README for the on-disk format
//! and the threat model.
#![deny(missing_docs)]

mod book;
mod consent;
mod contact_book;
mod crypto;
mod csv_file;
mod error;
mod journal;
mod model;
mod phone;
mod record;
mod store;
mod time;
mod vcard;

pub use book::{PrivateBook, WorkBook};
pub use consent::{Consent, ConsentEvent, ConsentSource, ConsentStatus, DEFAULT_PURPOSE};
pub use contact_book::{ContactBook, OpenOptions, book_for};
pub use crypto::KdfParams;
pub use error::{Error, Result};
pub use model::{Book, Contact, ContactId, Email, NewContact, Phone};
pub use phone::{Region, normalise as normalise_phone};
pub use store::{ContactStore, MemoryStore, Op, SledStore};
pub use time::Timestamp;
