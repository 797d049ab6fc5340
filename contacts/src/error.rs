//! The crate's one error type.
//!
//! Every failure a caller can act on has its own variant, with the context a
//! person needs to fix it (which store, which path, which line). The app
//! translates these into user-facing text; this crate builds no UI strings.

use std::path::PathBuf;

use crate::model::Book;

/// Errors of the contact book.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The passphrase does not unlock the store's keys. Nothing was changed.
    #[error("wrong passphrase for the {book} book")]
    WrongPassphrase {
        /// The store whose key could not be unwrapped.
        book: Book,
    },
    /// A store's database exists but cannot be read (damaged files, foreign data).
    #[error("the {book} book at {path} is damaged: {reason}")]
    StoreCorrupt {
        /// The damaged store.
        book: Book,
        /// Its directory.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// One store is missing while the other exists, so a fresh one is not created silently.
    #[error("the {book} book is missing at {path} (the other book exists)")]
    StoreMissing {
        /// The missing store.
        book: Book,
        /// Where it was expected.
        path: PathBuf,
    },
    /// The embedded database reported an error.
    #[error("database error in the {book} book: {source}")]
    Database {
        /// The store concerned.
        book: Book,
        /// The sled error.
        #[source]
        source: sled::Error,
    },
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A sealed record failed to decrypt or authenticate (tampering, a record moved between keys).
    #[error("record {id} in the {book} book cannot be decrypted")]
    Decrypt {
        /// The store.
        book: Book,
        /// The record id (not personal data).
        id: String,
    },
    /// A decrypted record did not deserialize.
    #[error("record {id} in the {book} book is malformed: {reason}")]
    Malformed {
        /// The store.
        book: Book,
        /// The record id.
        id: String,
        /// The decoding error.
        reason: String,
    },
    /// No contact has that id (or id prefix).
    #[error("no contact with id {0}")]
    NotFound(String),
    /// An id prefix matches more than one contact.
    #[error("id prefix {0} matches several contacts")]
    AmbiguousId(String),
    /// The operation does not apply in the contact's current state (e.g. granting twice).
    #[error("{0}")]
    InvalidState(String),
    /// A consent request to this contact is still waiting for an answer; a new one may
    /// be sent 30 days after it ([`crate::REQUEST_INTERVAL_SECS`]).
    #[error("contact {id} was asked for consent at {since} and has not answered yet")]
    RequestOpen {
        /// The contact.
        id: String,
        /// When the open request was sent.
        since: crate::Timestamp,
    },
    /// An argument was rejected (empty purpose, unknown region, …).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// The import file is not a format we read.
    #[error("{path}: unrecognised contact file format (expected vCard or CSV)")]
    UnknownFormat {
        /// The file.
        path: PathBuf,
    },
    /// The import was cancelled before it was committed; the stores are unchanged.
    #[error("import cancelled; nothing was written")]
    Cancelled,
    /// The identity server could not be reached or answered with an HTTP error.
    #[error("identity server: {0}")]
    Http(#[from] reqwest::Error),
    /// The identity server answered, but refused or said something we cannot use.
    #[error("identity server refused: {0}")]
    IdentityServer(String),
    /// Serialising a report or export failed.
    #[error("serialisation failed: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// The crate's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}
