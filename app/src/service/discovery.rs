//! Contact discovery, its gate and where it asks: one rule for the CLI and the app.
//!
//! The gate is a privacy rule, not a button state: with discovery switched off in the
//! settings, no code path may reach the identity server, whichever face asked. Before,
//! the app only hid its button and its `discover()` never looked at the setting.
//!
//! Which identity server: an explicit choice for this run (the CLI's
//! `--identity-server`, the server the contacts screen holds, e.g. the demo's Sydent)
//! wins, then `KONTOR_IDENTITY_SERVER` (set on purpose for one run: scripts, the demo),
//! then the saved setting (the lasting choice).

use kontor_contacts::{Discovery, DiscoveryReport, HttpIdentityService, OpenIdToken, WorkBook};
use kontor_core::Kontor;

use super::{ServiceError, settings::Settings};

/// The environment variable the CLI and the app read for the identity server.
pub const IDENTITY_SERVER_ENV: &str = super::settings::IDENTITY_SERVER_ENV;

/// The identity server to ask, by the precedence in the module docs; `None`: none known.
/// Blank values count as not given.
pub fn precedence(
    explicit: Option<&str>,
    settings: &Settings,
    env: impl Fn(&str) -> Option<String>,
) -> Option<String> {
    let given = |s: &str| {
        let s = s.trim();
        (!s.is_empty()).then(|| s.to_owned())
    };
    explicit
        .and_then(given)
        .or_else(|| env(IDENTITY_SERVER_ENV).as_deref().and_then(given))
        .or_else(|| settings.identity_server.as_deref().and_then(given))
}

/// The gate: the identity server discovery may use now, or why it may not run at all.
/// Checked before anything else (no passphrase asked, no book opened, no request sent).
pub fn gate(
    explicit: Option<&str>,
    settings: &Settings,
    env: impl Fn(&str) -> Option<String>,
) -> Result<String, ServiceError> {
    if !settings.discovery {
        return Err(ServiceError::DiscoveryOff);
    }
    precedence(explicit, settings, env).ok_or(ServiceError::NoIdentityServer)
}

/// Asks the homeserver for an OpenID token that vouches for the account at the identity
/// server, converted field by field in this one place (the two crates do not depend on
/// each other).
pub async fn token(kontor: &Kontor) -> Result<OpenIdToken, ServiceError> {
    let token = kontor.openid_token().await.map_err(ServiceError::Core)?;
    Ok(OpenIdToken {
        access_token: token.access_token,
        token_type: token.token_type,
        matrix_server_name: token.matrix_server_name,
        expires_in: token.expires_in,
    })
}

/// Looks the *work* book up at `server` with `token`: the identity server sees only
/// hashes of consented contacts (the type `&WorkBook` keeps private contacts out of
/// reach). Needs no account, so it can run where the account must not be held (a
/// blocking thread that sign-out cannot cancel). Call [`gate`] first.
pub async fn lookup(
    work: &WorkBook,
    server: &str,
    token: &OpenIdToken,
) -> Result<DiscoveryReport, ServiceError> {
    let service = HttpIdentityService::new(server).map_err(ServiceError::Contacts)?;
    Discovery::new(service)
        .run(work, token)
        .await
        .map_err(ServiceError::Contacts)
}

/// [`token`] then [`lookup`] (the CLI, which holds its account for the whole command).
pub async fn run(
    kontor: &Kontor,
    work: &WorkBook,
    server: &str,
) -> Result<DiscoveryReport, ServiceError> {
    lookup(work, server, &token(kontor).await?).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(discovery: bool, saved: Option<&str>) -> Settings {
        Settings {
            discovery,
            identity_server: saved.map(str::to_owned),
            ..Settings::default()
        }
    }

    fn env(value: Option<&'static str>) -> impl Fn(&str) -> Option<String> {
        move |k| {
            (k == IDENTITY_SERVER_ENV)
                .then(|| value.map(str::to_owned))
                .flatten()
        }
    }

    #[test]
    fn explicit_beats_environment_beats_saved() {
        let s = settings(true, Some("https://saved.example"));
        let both = env(Some("https://env.example"));
        assert_eq!(
            precedence(Some("https://flag.example"), &s, &both).as_deref(),
            Some("https://flag.example")
        );
        assert_eq!(
            precedence(None, &s, &both).as_deref(),
            Some("https://env.example")
        );
        assert_eq!(
            precedence(Some("  "), &s, env(None)).as_deref(),
            Some("https://saved.example"),
            "a blank field is not a choice"
        );
        assert_eq!(precedence(None, &settings(true, None), env(Some(""))), None);
    }

    #[test]
    fn discovery_off_refuses_whatever_server_is_given() {
        let off = settings(false, Some("https://saved.example"));
        assert!(matches!(
            gate(
                Some("https://flag.example"),
                &off,
                env(Some("https://env.example"))
            ),
            Err(ServiceError::DiscoveryOff)
        ));
        assert!(matches!(
            gate(None, &settings(true, None), env(None)),
            Err(ServiceError::NoIdentityServer)
        ));
        assert_eq!(
            gate(
                None,
                &settings(true, Some("https://saved.example")),
                env(None)
            )
            .unwrap(),
            "https://saved.example"
        );
    }
}
