//! The one error type of kontor-core.
//!
//! Variants are what a caller can act on (wrong passphrase, not logged in, unreachable
//! server, unencrypted room); the SDK's own errors are kept as sources so nothing is lost,
//! but never turned into user-facing text here: translation happens at the app's edge.

use std::path::PathBuf;

use matrix_sdk::ruma::{OwnedRoomId, OwnedUserId};

/// Everything that can go wrong in kontor-core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The passphrase does not unlock this profile. Nothing on disk was changed.
    #[error("wrong passphrase for this profile")]
    WrongPassphrase,
    /// An empty passphrase would leave the stores effectively unencrypted.
    #[error("the passphrase must not be empty")]
    EmptyPassphrase,
    /// The profile has no saved session: log in first.
    #[error("this profile is not logged in (run `kontor login` first)")]
    NotLoggedIn,
    /// The profile already holds a session; log out before logging in again.
    #[error("this profile is already logged in as {0}")]
    AlreadyLoggedIn(String),
    /// A profile file exists but cannot be understood (truncated, edited, other version).
    #[error("profile file {path} is damaged: {reason}")]
    CorruptProfile {
        /// The damaged file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A file system operation failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What we were doing ("cannot read", "cannot write", …).
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Kontor never sends into a room that is not end-to-end encrypted.
    #[error("room {0} is not end-to-end encrypted; Kontor refuses to send into it")]
    Unencrypted(OwnedRoomId),
    /// The text is not a valid Matrix user id (`@name:server`).
    #[error("not a valid Matrix user id: {0:?}")]
    InvalidUserId(String),
    /// There is no joined direct chat with this user.
    #[error("no chat with {0}")]
    NoChat(OwnedUserId),
    /// No joined room knows this room id.
    #[error("no joined room {0}")]
    NoRoom(String),
    /// No invite for this room is pending.
    #[error("no pending invite for room {0}")]
    NoInvite(String),
    /// The event could not be found in any joined room.
    #[error("event {0} not found in any chat")]
    EventNotFound(String),
    /// The event exists but does not carry a file.
    #[error("event {0} is not a file message")]
    NotAFile(String),
    /// A downloaded attachment did not match its hash, or could not be decrypted.
    #[error("attachment {0} failed its integrity check: {1}")]
    Integrity(String, String),
    /// The homeserver cannot be reached (down, wrong URL, no network).
    #[error("homeserver unreachable: {0}")]
    Unreachable(String),
    /// The homeserver rejected the request (login refused, forbidden, …).
    #[error("homeserver refused: {0}")]
    Refused(String),
    /// A [`crate::PageToken`] from another chat was passed for this one.
    #[error("page token belongs to another chat than {0}")]
    ForeignPageToken(String),
    /// A queued message with this transaction id is not in the outbox.
    #[error("no queued message {0}")]
    NotQueued(String),
    /// Verification could not proceed (cancelled by the other side, timed out, mismatch).
    #[error("verification failed: {0}")]
    Verification(String),
    /// Key backup or recovery failed (wrong recovery key, no backup on the server).
    #[error("recovery failed: {0}")]
    Recovery(String),
    /// The caller cancelled the operation (e.g. the upload of a file) before it was done;
    /// nothing was sent.
    #[error("cancelled")]
    Cancelled,
    /// A structured payload's key is outside Kontor's namespace
    /// ([`crate::EXTRA_NAMESPACE`]): it would be sent but never read back.
    #[error("payload key {0:?} is outside Kontor's namespace")]
    ForeignExtraKey(String),
    /// Any other error reported by matrix-sdk.
    #[error("matrix: {0}")]
    Matrix(Box<matrix_sdk::Error>),
}

/// Result with kontor-core's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<matrix_sdk::Error> for Error {
    fn from(e: matrix_sdk::Error) -> Self {
        match &e {
            matrix_sdk::Error::Http(h) if is_network(h) => Error::Unreachable(h.to_string()),
            matrix_sdk::Error::Http(h) if h.as_client_api_error().is_some() => {
                Error::Refused(h.to_string())
            }
            _ => Error::Matrix(Box::new(e)),
        }
    }
}

impl From<matrix_sdk::HttpError> for Error {
    fn from(e: matrix_sdk::HttpError) -> Self {
        Error::from(matrix_sdk::Error::Http(Box::new(e)))
    }
}

impl From<matrix_sdk::ClientBuildError> for Error {
    fn from(e: matrix_sdk::ClientBuildError) -> Self {
        match e {
            matrix_sdk::ClientBuildError::Http(h) => h.into(),
            other => Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(other)))),
        }
    }
}

/// True when an HTTP error means "could not talk to the server at all".
pub(crate) fn is_network(e: &matrix_sdk::HttpError) -> bool {
    match e {
        matrix_sdk::HttpError::Reqwest(_) => true,
        matrix_sdk::HttpError::Cached(inner) => is_network(inner),
        _ => false,
    }
}

impl Error {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
        source: std::io::Error,
    ) -> Self {
        Error::Io {
            action,
            path: path.into(),
            source,
        }
    }
}
