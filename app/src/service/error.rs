//! What the service can refuse or fail with, as kinds and data. The faces turn these
//! into words: the CLI into one English line (`Display`), the app into translated text
//! (`ui/user_facing.rs`, one exhaustive match).

use std::path::PathBuf;

/// Why a service operation did not happen.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The Matrix side failed (network, server, store, passphrase).
    #[error(transparent)]
    Core(#[from] kontor_core::Error),
    /// The contact book failed.
    #[error(transparent)]
    Contacts(#[from] kontor_contacts::Error),
    /// Contact discovery is switched off in the settings: nothing was sent anywhere.
    #[error(
        "contact discovery is turned off in the settings; turn it on in the app \
         (Settings → Contact discovery) to look contacts up"
    )]
    DiscoveryOff,
    /// Discovery is on but no identity server is known.
    #[error(
        "no identity server: pass --identity-server URL, set KONTOR_IDENTITY_SERVER, \
         or choose one in the app's settings"
    )]
    NoIdentityServer,
    /// The operation needs a signed-in account and there is none (signed out, or
    /// signing out right now).
    #[error("not signed in")]
    NotSignedIn,
    /// The contact book is not open (locked, or it could not be opened).
    #[error("the contact book is not open")]
    NoContactBook,
    /// An export format other than `json` or `vcard`.
    #[error("unknown export format {0:?} (json or vcard)")]
    UnknownFormat(String),
    /// The settings could not be saved.
    #[error(transparent)]
    Settings(#[from] super::settings::SettingsError),
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A background thread died (a bug); the operation may not have happened.
    #[error("an internal task stopped unexpectedly")]
    Crashed,
}
