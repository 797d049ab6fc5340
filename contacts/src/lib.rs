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
mod chat;
mod consent;
mod contact_book;
mod crypto;
mod csv_file;
mod discovery;
mod error;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod import;
mod journal;
mod layout;
mod model;
mod phone;
mod preview;
mod proof;
mod record;
mod rights;
mod store;
#[cfg(test)]
mod testutil;
mod time;
mod vcard;

pub use book::{PrivateBook, WorkBook};
pub use chat::{AnswerWay, ChatAnswer, ChatEvidence, ConsentRequest, REQUEST_INTERVAL_SECS};
pub use consent::{
    Consent, ConsentEvent, ConsentSource, ConsentStatus, DEFAULT_PURPOSE, Evidence, ImportEvidence,
};
pub use contact_book::{ContactBook, OpenOptions, book_for};
pub use crypto::KdfParams;
pub use discovery::{
    Discovery, DiscoveryReport, HashDetails, HttpIdentityService, IdentityService, OpenIdToken,
    lookup_hash,
};
pub use error::{Error, Result};
pub use import::{
    ConsentMode, Format, ImportOptions, ImportReport, MatchedBy, Merge, MergeTarget, Phase,
    Progress, detect_format,
};
pub use model::{Address, Book, Contact, ContactId, Email, NewContact, Phone, Service};
pub use phone::{Region, normalise as normalise_phone};
pub use preview::{ImportPreview, PreviewRow};
pub use proof::{ConsentProof, PROOF_FORMAT, ProofPerson};
pub use record::{IssueKind, LineIssue, TextEncoding};
pub use rights::{ConsentReportRow, ContactExport, to_vcard};
pub use store::{ContactStore, MemoryStore, Op, SledStore};
pub use time::Timestamp;
