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
    /// The business details are incomplete or wrong (each field named).
    #[error("business details: {}", list(.0))]
    Details(Vec<kontor_quotes::DetailsError>),
    /// The quote as written has problems (each field named).
    #[error("the quote cannot be sent: {}", list(.0))]
    Draft(Vec<super::quotes::draft::DraftError>),
    /// The device's quote store failed.
    #[error(transparent)]
    Quotes(#[from] kontor_quotes::store::StoreError),
    /// The PDF could not be rendered.
    #[error(transparent)]
    Pdf(#[from] kontor_quotes::pdf::PdfError),
    /// No quote with this number on this device.
    #[error("no quote {0}")]
    QuoteNotFound(String),
    /// The quote went out already: a change is a new quote that replaces it.
    #[error("quote {0} was already sent; write a new one that replaces it")]
    QuoteAlreadySent(String),
    /// The customer has no Matrix account in this chat to send the quote to.
    #[error("the customer has no Matrix id to send the quote to")]
    NoCustomerAccount,
    /// Asking a contact of the private book (no consent) needs the freelancer's explicit
    /// confirmation each time: no request goes out to such contacts in bulk.
    #[error("contact {0} is in the private book: asking them needs an explicit confirmation")]
    ConsentNeedsConfirmation(String),
    /// No contact with this Matrix account, and no chat with it to take one from.
    #[error("{0} is not a contact and has no chat with you; add or link them first")]
    NotAContact(String),
    /// The business link does not fit a QR code (or its image could not be encoded).
    #[error("the QR code cannot be made: {0}")]
    QrCode(String),
    /// The search index failed (a wrong key, a damaged file, a query it cannot read).
    #[error(transparent)]
    Search(#[from] kontor_search::Error),
    /// The app is locked: what needs the passphrase's keys waits for it.
    #[error("Kontor is locked")]
    Locked,
    /// A background thread died (a bug); the operation may not have happened.
    #[error("an internal task stopped unexpectedly")]
    Crashed,
}

/// "a; b; c" for a list of problems.
fn list<T: std::fmt::Display>(items: &[T]) -> String {
    items
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}
