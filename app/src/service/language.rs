//! The languages Kontor speaks. A plain value, shared by the settings (which language the
//! user chose), the service and the UI (which catalogue Slint shows).

/// The UI languages Kontor ships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    /// Deutsch.
    German,
    /// English.
    English,
}

impl Language {
    /// The code the bundled translations use (`i18n/<code>/LC_MESSAGES/kontor.po`).
    pub fn code(self) -> &'static str {
        match self {
            Language::German => "de",
            Language::English => "en",
        }
    }

    /// From a code; anything not German is English, the language of the msgids.
    pub fn from_code(code: &str) -> Language {
        if code.to_ascii_lowercase().starts_with("de") {
            Language::German
        } else {
            Language::English
        }
    }

    /// The language the system asks for: the first of `LC_ALL`, `LC_MESSAGES`, `LANG`
    /// that is set (gettext's order), German for any `de*` locale, else English.
    pub fn from_environment() -> Language {
        Language::from_lookup(|k| std::env::var(k).ok())
    }

    /// [`Language::from_environment`] with the variables read through `env` (tests).
    pub fn from_lookup(env: impl Fn(&str) -> Option<String>) -> Language {
        ["LC_ALL", "LC_MESSAGES", "LANG"]
            .iter()
            .filter_map(|v| env(v))
            .find(|v| !v.is_empty())
            .map_or(Language::English, |v| Language::from_code(&v))
    }
}
