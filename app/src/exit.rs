//! Exit codes: the part of an error a script can branch on.

use std::process::ExitCode;

use kontor_contacts::Error as ContactsError;
use kontor_core::Error as CoreError;

/// Generic failure.
pub const FAILURE: u8 = 1;
/// Bad command line (clap's own code).
pub const USAGE: u8 = 2;
/// The passphrase does not unlock the profile; nothing was changed.
pub const WRONG_PASSPHRASE: u8 = 3;
/// No saved session: run `kontor login`.
pub const NOT_LOGGED_IN: u8 = 4;
/// The homeserver cannot be reached (or, for `contacts discover`, the identity server).
pub const UNREACHABLE: u8 = 5;
/// A verification was cancelled, timed out or the emojis did not match.
pub const VERIFICATION: u8 = 6;
/// Cancelled with Ctrl-C before anything was written (128 + SIGINT, as shells report it).
pub const CANCELLED: u8 = 130;

/// An error raised by the CLI itself with a chosen exit code.
#[derive(Debug)]
pub struct Fail {
    /// The exit code.
    pub code: u8,
    /// The one-line message.
    pub message: String,
}

impl Fail {
    /// A failure with `code` and `message`.
    pub fn new(code: u8, message: impl Into<String>) -> Fail {
        Fail {
            code,
            message: message.into(),
        }
    }
}

impl std::fmt::Display for Fail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Fail {}

/// The exit code for `err`: the first kontor-core or kontor-contacts error or [`Fail`]
/// in its chain decides.
pub fn code_for(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Fail>() {
            return f.code;
        }
        // The service wraps the libraries' errors transparently: look inside.
        let service = cause.downcast_ref::<kontor::service::ServiceError>();
        let contacts = cause.downcast_ref::<ContactsError>().or(match service {
            Some(kontor::service::ServiceError::Contacts(e)) => Some(e),
            _ => None,
        });
        if let Some(e) = contacts {
            return contacts_code(e);
        }
        let core = cause.downcast_ref::<CoreError>().or(match service {
            Some(kontor::service::ServiceError::Core(e)) => Some(e),
            _ => None,
        });
        if let Some(e) = core {
            return match e {
                CoreError::WrongPassphrase => WRONG_PASSPHRASE,
                CoreError::NotLoggedIn => NOT_LOGGED_IN,
                CoreError::Unreachable(_) => UNREACHABLE,
                CoreError::Verification(_) => VERIFICATION,
                _ => FAILURE,
            };
        }
    }
    FAILURE
}

/// Contact-book errors mapped onto the same codes as the profile's, so a script checks
/// "wrong passphrase" (3) or "server unreachable" (5) the same way for every command.
fn contacts_code(e: &ContactsError) -> u8 {
    match e {
        ContactsError::WrongPassphrase { .. } => WRONG_PASSPHRASE,
        ContactsError::Cancelled => CANCELLED,
        // Empty purpose, unknown region: the command line asked for something invalid.
        ContactsError::InvalidArgument(_) => USAGE,
        // Could not talk to the identity server at all (as opposed to an HTTP error
        // answer, which is a refusal: exit 1 like the homeserver's "refused").
        ContactsError::Http(h) if h.is_connect() || h.is_timeout() => UNREACHABLE,
        _ => FAILURE,
    }
}

/// Prints `err` as the single `kontor: error: …` line on stderr and returns its code.
pub fn report(err: &anyhow::Error) -> ExitCode {
    eprintln!("kontor: error: {}", one_line(&format!("{err:#}")));
    ExitCode::from(code_for(err))
}

/// Collapses whitespace runs (server messages may contain newlines) into single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Turns a clap error into one line plus the usage; help and version go to stdout.
pub fn clap_error(err: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    match err.kind() {
        ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
            let _ = err.print();
            ExitCode::SUCCESS
        }
        ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
            let _ = err.print();
            ExitCode::from(USAGE)
        }
        _ => {
            let text = err.render().to_string();
            let mut lines = text.lines().filter(|l| !l.trim().is_empty());
            let first = lines.next().unwrap_or("invalid arguments");
            let first = first.strip_prefix("error: ").unwrap_or(first);
            let usage = text
                .lines()
                .find_map(|l| l.trim().strip_prefix("Usage: "))
                .map(|u| format!(" (usage: {u})"))
                .unwrap_or_default();
            eprintln!("kontor: error: {}{usage}", one_line(first));
            ExitCode::from(USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_errors_map_to_documented_codes() {
        let e = anyhow::Error::from(CoreError::WrongPassphrase).context("cannot open");
        assert_eq!(code_for(&e), WRONG_PASSPHRASE);
        let e = anyhow::Error::from(CoreError::NotLoggedIn);
        assert_eq!(code_for(&e), NOT_LOGGED_IN);
        let e = anyhow::Error::from(CoreError::Unreachable("x".into()));
        assert_eq!(code_for(&e), UNREACHABLE);
        assert_eq!(code_for(&anyhow::anyhow!("other")), FAILURE);
        assert_eq!(
            code_for(&Fail::new(VERIFICATION, "no").into()),
            VERIFICATION
        );
    }

    #[test]
    fn contacts_errors_map_to_documented_codes() {
        let e = anyhow::Error::from(ContactsError::WrongPassphrase {
            book: kontor_contacts::Book::Work,
        })
        .context("cannot open the contact book");
        assert_eq!(code_for(&e), WRONG_PASSPHRASE);
        assert_eq!(code_for(&ContactsError::Cancelled.into()), CANCELLED);
        let e = ContactsError::InvalidArgument("consent needs a purpose".into());
        assert_eq!(code_for(&e.into()), USAGE);
        assert_eq!(
            code_for(&ContactsError::NotFound("abcd".into()).into()),
            FAILURE
        );
    }

    #[test]
    fn messages_become_one_line() {
        assert_eq!(one_line("a\n  b\r\nc "), "a b c");
    }
}
