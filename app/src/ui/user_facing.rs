//! Every error the UI can meet, turned into what the user reads, in one place.
//!
//! One exhaustive `match` per error type (the idea of GNOME Fractal's
//! `user_facing_error.rs`): a new error variant in a library does not compile until it
//! is given a kind here, and every kind has its translated text in `widgets.slint`
//! (`ErrorText.describe`). No sentence from Rust reaches the screen: the technical detail
//! (English, from a library or the OS) goes to the log, never under the message.

use super::ErrorKind;
use crate::service::{ServiceError, settings::SettingsError};

/// An error on its way to the screen.
#[derive(Debug)]
pub(crate) enum UiError {
    /// From the service (and through it, the libraries).
    Service(ServiceError),
    /// A kind decided by the UI itself (a file the opener could not open).
    Kind(ErrorKind),
}

impl From<ServiceError> for UiError {
    fn from(e: ServiceError) -> Self {
        UiError::Service(e)
    }
}

impl From<kontor_core::Error> for UiError {
    fn from(e: kontor_core::Error) -> Self {
        UiError::Service(e.into())
    }
}

impl From<kontor_contacts::Error> for UiError {
    fn from(e: kontor_contacts::Error) -> Self {
        UiError::Service(e.into())
    }
}

impl From<ErrorKind> for UiError {
    fn from(k: ErrorKind) -> Self {
        UiError::Kind(k)
    }
}

/// Logs the detail and returns the kind the view translates.
pub(crate) fn report(error: &UiError) -> ErrorKind {
    match error {
        UiError::Service(e) => {
            let k = kind(e);
            // Only the kind and, for I/O, the OS's reason: an error's full text can name
            // a file (an export named after a contact, a sender's file name) or echo what
            // was typed (a phone number for a Matrix id), and logs leave the device.
            match io_reason(e) {
                Some(reason) => tracing::warn!("shown to the user: {k:?} ({reason})"),
                None => tracing::warn!("shown to the user: {k:?}"),
            }
            k
        }
        UiError::Kind(k) => *k,
    }
}

/// The OS's reason of an I/O failure, which names no file.
fn io_reason(e: &ServiceError) -> Option<std::io::ErrorKind> {
    match e {
        ServiceError::Write { source, .. }
        | ServiceError::Core(kontor_core::Error::Io { source, .. })
        | ServiceError::Contacts(kontor_contacts::Error::Io { source, .. }) => Some(source.kind()),
        _ => None,
    }
}

/// The kind for a service error.
pub(crate) fn kind(e: &ServiceError) -> ErrorKind {
    match e {
        ServiceError::Core(e) => core(e),
        ServiceError::Contacts(e) => contacts(e),
        ServiceError::DiscoveryOff => ErrorKind::DiscoveryOff,
        ServiceError::NoIdentityServer => ErrorKind::NoIdentityServer,
        ServiceError::NotSignedIn => ErrorKind::SignedOut,
        ServiceError::NoContactBook => ErrorKind::ContactsLocked,
        ServiceError::UnknownFormat(_) => ErrorKind::UnknownFormat,
        ServiceError::Settings(e) => match e {
            SettingsError::Read { .. } | SettingsError::Write { .. } => ErrorKind::File,
            SettingsError::Corrupt { .. } => ErrorKind::Damaged,
        },
        ServiceError::Write { .. } => ErrorKind::File,
        ServiceError::Crashed | ServiceError::Search(_) | ServiceError::Locked => ErrorKind::Other,
        ServiceError::Details(_) => ErrorKind::QuoteDetails,
        ServiceError::Draft(_) => ErrorKind::QuoteInvalid,
        ServiceError::Quotes(e) => match e {
            kontor_quotes::store::StoreError::WrongKey { .. } => ErrorKind::WrongPassphrase,
            kontor_quotes::store::StoreError::Io { .. } => ErrorKind::File,
            _ => ErrorKind::Damaged,
        },
        ServiceError::Pdf(_) | ServiceError::QrCode(_) => ErrorKind::Other,
        ServiceError::QuoteNotFound(_) => ErrorKind::NotFound,
        ServiceError::QuoteAlreadySent(_) => ErrorKind::QuoteSentAlready,
        ServiceError::NoCustomerAccount => ErrorKind::NoCustomerAccount,
        ServiceError::ConsentNeedsConfirmation(_) => ErrorKind::ConsentNeedsConfirmation,
        ServiceError::NotAContact(_) => ErrorKind::NotFound,
    }
}

fn core(e: &kontor_core::Error) -> ErrorKind {
    use kontor_core::Error as E;
    match e {
        E::WrongPassphrase => ErrorKind::WrongPassphrase,
        E::EmptyPassphrase => ErrorKind::EmptyField,
        E::NotLoggedIn => ErrorKind::SignedOut,
        E::AlreadyLoggedIn(_) => ErrorKind::InvalidInput,
        E::CorruptProfile { .. } | E::Integrity(..) => ErrorKind::Damaged,
        E::Io { .. } => ErrorKind::File,
        E::Unencrypted(_) => ErrorKind::NotEncrypted,
        E::InvalidUserId(_) => ErrorKind::InvalidUser,
        E::NoChat(_)
        | E::NoRoom(_)
        | E::NoInvite(_)
        | E::EventNotFound(_)
        | E::NotQueued(_)
        | E::ForeignPageToken(_) => ErrorKind::NotFound,
        E::NotAFile(_) => ErrorKind::UnknownFormat,
        E::ForeignExtraKey(_) => ErrorKind::InvalidInput,
        E::Unreachable(_) => ErrorKind::Unreachable,
        E::Refused(_) => ErrorKind::Refused,
        E::Verification(_) => ErrorKind::VerificationFailed,
        E::Recovery(_) => ErrorKind::RecoveryFailed,
        E::Cancelled => ErrorKind::Cancelled,
        E::Matrix(_) => ErrorKind::Other,
    }
}

fn contacts(e: &kontor_contacts::Error) -> ErrorKind {
    use kontor_contacts::Error as E;
    match e {
        E::WrongPassphrase { .. } => ErrorKind::WrongPassphrase,
        E::StoreCorrupt { .. }
        | E::StoreMissing { .. }
        | E::Decrypt { .. }
        | E::Malformed { .. } => ErrorKind::Damaged,
        E::Database { .. } | E::Io { .. } => ErrorKind::File,
        E::NotFound(_) | E::AmbiguousId(_) => ErrorKind::NotFound,
        E::InvalidState(_) | E::InvalidArgument(_) => ErrorKind::InvalidInput,
        E::RequestOpen { .. } => ErrorKind::ConsentAskedAlready,
        E::UnknownFormat { .. } => ErrorKind::UnknownFormat,
        E::Cancelled => ErrorKind::Cancelled,
        E::Http(_) | E::IdentityServer(_) => ErrorKind::IdentityServer,
        E::Serialize(_) => ErrorKind::Other,
    }
}

/// Every kind the views can be handed, for the test that renders each in German. The
/// `match` below does not compile when `globals.slint` gains a kind this list lacks.
pub fn all_kinds() -> Vec<ErrorKind> {
    let all = vec![
        ErrorKind::None,
        ErrorKind::WrongPassphrase,
        ErrorKind::PassphraseMismatch,
        ErrorKind::EmptyField,
        ErrorKind::Unreachable,
        ErrorKind::Refused,
        ErrorKind::InvalidUser,
        ErrorKind::NotEncrypted,
        ErrorKind::File,
        ErrorKind::Other,
        ErrorKind::CannotOpen,
        ErrorKind::Damaged,
        ErrorKind::NotFound,
        ErrorKind::DiscoveryOff,
        ErrorKind::NoIdentityServer,
        ErrorKind::IdentityServer,
        ErrorKind::ContactsLocked,
        ErrorKind::VerificationFailed,
        ErrorKind::RecoveryFailed,
        ErrorKind::Cancelled,
        ErrorKind::UnknownFormat,
        ErrorKind::SignedOut,
        ErrorKind::InvalidInput,
        ErrorKind::QuoteDetails,
        ErrorKind::QuoteInvalid,
        ErrorKind::QuoteSentAlready,
        ErrorKind::NoCustomerAccount,
        ErrorKind::ConsentNeedsConfirmation,
        ErrorKind::ConsentAskedAlready,
    ];
    for k in &all {
        // Exhaustive on purpose: a new kind fails here until it is listed above.
        match k {
            ErrorKind::None
            | ErrorKind::WrongPassphrase
            | ErrorKind::PassphraseMismatch
            | ErrorKind::EmptyField
            | ErrorKind::Unreachable
            | ErrorKind::Refused
            | ErrorKind::InvalidUser
            | ErrorKind::NotEncrypted
            | ErrorKind::File
            | ErrorKind::Other
            | ErrorKind::CannotOpen
            | ErrorKind::Damaged
            | ErrorKind::NotFound
            | ErrorKind::DiscoveryOff
            | ErrorKind::NoIdentityServer
            | ErrorKind::IdentityServer
            | ErrorKind::ContactsLocked
            | ErrorKind::VerificationFailed
            | ErrorKind::RecoveryFailed
            | ErrorKind::Cancelled
            | ErrorKind::UnknownFormat
            | ErrorKind::SignedOut
            | ErrorKind::InvalidInput
            | ErrorKind::QuoteDetails
            | ErrorKind::QuoteInvalid
            | ErrorKind::QuoteSentAlready
            | ErrorKind::NoCustomerAccount
            | ErrorKind::ConsentNeedsConfirmation
            | ErrorKind::ConsentAskedAlready => {}
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_consent_request_says_why() {
        let open = ServiceError::Contacts(kontor_contacts::Error::RequestOpen {
            id: "c1".into(),
            since: kontor_contacts::Timestamp(0),
        });
        assert_eq!(kind(&open), ErrorKind::ConsentAskedAlready);
        let unconfirmed = ServiceError::ConsentNeedsConfirmation("c1".into());
        assert_eq!(kind(&unconfirmed), ErrorKind::ConsentNeedsConfirmation);
        assert!(all_kinds().contains(&ErrorKind::ConsentAskedAlready));
    }
}
