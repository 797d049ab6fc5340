//! The user's settings and how they are kept: `<data-dir>/settings.json`.
//!
//! Why beside the profile rather than inside `profile/`: the data directory is Kontor's
//! unit of one account (`--data-dir`, holding `profile/` and `contacts/`); a sign-out
//! deletes `profile/`, yet the chosen language and the identity server are the user's
//! and should survive it, and the language must be known before the first passphrase.
//! Nothing in here is secret (no message text, no keys), so it is plain JSON, but it is
//! still created 0600 and replaced atomically (temp file, fsync, rename): a crash while
//! saving leaves the old file or the new one, never half of one. A file that cannot be
//! read or parsed gives the defaults and a warning the settings screen shows; the app
//! never fails to start because of it.
//!
//! Pure data and blocking file I/O: callers run [`load`] and [`save`] on a blocking
//! thread, never on the UI thread.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde::{Deserialize, Serialize};

use super::language::Language;

/// The file name inside the data directory.
pub const FILE: &str = "settings.json";

/// The environment variable the CLI reads for the identity server; it wins over the
/// settings file in the app too, so a script or the demo can point both at one server.
pub const IDENTITY_SERVER_ENV: &str = "KONTOR_IDENTITY_SERVER";

/// Which language the user chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LanguageChoice {
    /// Follow the system locale (`LC_ALL`, `LC_MESSAGES`, `LANG`), read at each start.
    #[default]
    System,
    /// Always German.
    De,
    /// Always English.
    En,
}

impl LanguageChoice {
    /// "system", "de" or "en": what the settings screen's buttons send.
    pub fn code(self) -> &'static str {
        match self {
            LanguageChoice::System => "system",
            LanguageChoice::De => "de",
            LanguageChoice::En => "en",
        }
    }

    /// From the settings screen's code; anything unknown is "system".
    pub fn from_code(code: &str) -> LanguageChoice {
        match code {
            "de" => LanguageChoice::De,
            "en" => LanguageChoice::En,
            _ => LanguageChoice::System,
        }
    }

    /// The language to show now; `System` asks the environment through `env`.
    pub fn resolve(self, env: impl Fn(&str) -> Option<String>) -> Language {
        match self {
            LanguageChoice::De => Language::German,
            LanguageChoice::En => Language::English,
            LanguageChoice::System => Language::from_lookup(env),
        }
    }
}

/// Everything the settings screen changes. Unknown fields in the file are ignored and
/// missing ones take their defaults, so older and newer versions read each other's files.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Settings {
    /// The UI language.
    pub language: LanguageChoice,
    /// Identity server for contact discovery (`https://…`); `None`: not configured.
    pub identity_server: Option<String>,
    /// Contact discovery may run at all. Off means it never runs, whatever else is set.
    pub discovery: bool,
    /// Show a notice when a message arrives.
    pub notifications: bool,
    /// Put the message text into that notice. Off by default: a notice can be seen by
    /// whoever looks at the screen, and customer messages are confidential.
    pub notification_content: bool,
    /// Lock after this many minutes without input; 0 never locks.
    pub idle_lock_minutes: u32,
    /// The freelancer's own first paragraph of a consent request in German (placeholders
    /// `{name}`, `{account}`, `{purpose}`); `None`: Kontor's. How to answer and how to
    /// withdraw are always added after it (`service::consent::wording`).
    pub consent_intro_de: Option<String>,
    /// The same in English.
    pub consent_intro_en: Option<String>,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            language: LanguageChoice::System,
            identity_server: None,
            // Discovery only ever sees the consented work book (kontor-contacts enforces
            // that), so it is on unless the user turns it off.
            discovery: true,
            notifications: true,
            notification_content: false,
            idle_lock_minutes: 5,
            consent_intro_de: None,
            consent_intro_en: None,
        }
    }
}

impl Settings {
    /// The idle time after which the app locks; `None`: never.
    pub fn idle_timeout(&self) -> Option<Duration> {
        (self.idle_lock_minutes > 0)
            .then(|| Duration::from_secs(60 * self.idle_lock_minutes as u64))
    }

    /// The identity server discovery uses when nothing is chosen for this run:
    /// `KONTOR_IDENTITY_SERVER` when set, else the one saved here, else none (the one
    /// rule is [`super::discovery::precedence`]).
    pub fn effective_identity_server(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Option<String> {
        super::discovery::precedence(None, self, env)
    }
}

/// Why the saved settings were not used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid settings JSON (edited by hand, or damaged).
    #[error("{path} is damaged, using the defaults: {source}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// The settings cannot be written.
    #[error("cannot save {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Reads the settings of a data directory. No file: the defaults, silently. A file that
/// cannot be read or parsed: the defaults and the reason, which the caller shows.
pub fn load(data_dir: &Path) -> (Settings, Option<SettingsError>) {
    let path = data_dir.join(FILE);
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(s) => (s, None),
            Err(source) => (
                Settings::default(),
                Some(SettingsError::Corrupt { path, source }),
            ),
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => (Settings::default(), None),
        Err(source) => (
            Settings::default(),
            Some(SettingsError::Read { path, source }),
        ),
    }
}

/// Writes the settings atomically, readable only by the user ([`super::fs`]).
pub fn save(data_dir: &Path, settings: &Settings) -> Result<(), SettingsError> {
    let path = data_dir.join(FILE);
    let json = serde_json::to_vec_pretty(settings).map_err(|e| SettingsError::Write {
        path: path.clone(),
        source: std::io::Error::other(e),
    })?;
    super::fs::write_private(&path, &json).map_err(|source| SettingsError::Write { path, source })
}

/// An identity server address that is not an `http(s)://host…` URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not an http:// or https:// URL with a host")]
pub struct InvalidUrl;

/// Checks an identity server URL as typed: `http://` or `https://` and a host, no
/// spaces. Returns it trimmed, without a trailing slash. Empty means "none".
pub fn validate_identity_server(input: &str) -> Result<Option<String>, InvalidUrl> {
    let s = input.trim();
    if s.is_empty() {
        return Ok(None);
    }
    let rest = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .ok_or(InvalidUrl)?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_name = host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.chars().all(|c| c.is_ascii_digit()) && !port.is_empty() {
            h
        } else {
            host
        }
    });
    if host_name.is_empty()
        || s.chars().any(char::is_whitespace)
        || host_name.contains('@')
        || !host_name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    {
        return Err(InvalidUrl);
    }
    Ok(Some(s.trim_end_matches('/').to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_file_gives_defaults_without_warning() {
        let dir = tempfile::tempdir().unwrap();
        let (s, warn) = load(dir.path());
        assert_eq!(s, Settings::default());
        assert!(warn.is_none());
        assert!(!s.notification_content, "content is off by default");
        assert_eq!(s.idle_timeout(), Some(Duration::from_secs(300)));
    }

    #[test]
    fn saved_settings_come_back_and_the_file_is_private() {
        let dir = tempfile::tempdir().unwrap();
        let s = Settings {
            language: LanguageChoice::De,
            identity_server: Some("https://id.example.org".into()),
            discovery: false,
            notifications: true,
            notification_content: true,
            idle_lock_minutes: 0,
            consent_intro_de: Some("Hallo {name}".into()),
            consent_intro_en: None,
        };
        save(dir.path(), &s).unwrap();
        assert_eq!(load(dir.path()).0, s);
        assert_eq!(s.idle_timeout(), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(!dir.path().join(".settings.json.tmp").exists());
    }

    #[test]
    fn corrupt_file_gives_defaults_and_a_warning() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE), b"{\"language\": 42, ").unwrap();
        let (s, warn) = load(dir.path());
        assert_eq!(s, Settings::default());
        assert!(matches!(warn, Some(SettingsError::Corrupt { .. })));
    }

    #[test]
    fn unknown_fields_and_missing_ones_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(FILE),
            br#"{"language":"en","future_option":true}"#,
        )
        .unwrap();
        let (s, warn) = load(dir.path());
        assert!(warn.is_none());
        assert_eq!(s.language, LanguageChoice::En);
        assert!(s.discovery);
    }

    #[test]
    fn system_language_follows_the_environment() {
        let german = |k: &str| (k == "LANG").then(|| "de_DE.UTF-8".to_owned());
        let english = |k: &str| (k == "LANG").then(|| "en_US.UTF-8".to_owned());
        assert_eq!(LanguageChoice::System.resolve(german), Language::German);
        assert_eq!(LanguageChoice::System.resolve(english), Language::English);
        assert_eq!(LanguageChoice::En.resolve(german), Language::English);
        assert_eq!(LanguageChoice::from_code("system"), LanguageChoice::System);
    }

    #[test]
    fn identity_server_precedence() {
        let s = Settings {
            identity_server: Some("https://saved.example".into()),
            ..Settings::default()
        };
        let env = |k: &str| (k == IDENTITY_SERVER_ENV).then(|| "https://env.example".to_owned());
        assert_eq!(
            s.effective_identity_server(env).as_deref(),
            Some("https://env.example")
        );
        assert_eq!(
            s.effective_identity_server(|_| None).as_deref(),
            Some("https://saved.example")
        );
    }

    #[test]
    fn identity_server_urls_are_checked() {
        assert_eq!(
            validate_identity_server(" https://vector.im/ "),
            Ok(Some("https://vector.im".into()))
        );
        assert_eq!(
            validate_identity_server("http://127.0.0.1:8090"),
            Ok(Some("http://127.0.0.1:8090".into()))
        );
        assert_eq!(validate_identity_server(""), Ok(None));
        for bad in [
            "vector.im",
            "ftp://vector.im",
            "https://",
            "https:///path",
            "https://exa mple.org",
            "https://user@host",
        ] {
            assert_eq!(validate_identity_server(bad), Err(InvalidUrl), "{bad}");
        }
    }
}
