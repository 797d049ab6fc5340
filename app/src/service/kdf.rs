//! How expensive the key derivation of new stores is: one rule for the profile and the
//! contact book, in the CLI and in the app.
//!
//! `KONTOR_INSECURE_FAST_KDF=1` (CLI) or `Config::insecure_fast_kdf` (app, UI tests):
//! **tests only.** New profiles and contact books get a minimal Argon2id cost, so a test
//! that creates dozens of them spends milliseconds instead of seconds. Existing stores
//! keep the cost they were created with. Only debug builds honour it: a release binary
//! can never be talked into creating a store that is cheap to brute-force.

/// The environment variable the CLI reads.
pub const FAST_KDF_ENV: &str = "KONTOR_INSECURE_FAST_KDF";

/// Whether the cheap test cost applies: asked for, and a debug build.
pub fn fast(requested: bool) -> bool {
    requested && cfg!(debug_assertions)
}

/// The CLI's request: `KONTOR_INSECURE_FAST_KDF=1`, honoured in debug builds only.
pub fn fast_from_env() -> bool {
    fast(std::env::var_os(FAST_KDF_ENV).is_some_and(|v| v == "1"))
}

/// Argon2id parameters for a new profile.
pub fn profile(fast: bool) -> Option<kontor_core::KdfParams> {
    fast.then_some(kontor_core::KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    })
}

/// Options for opening (or creating) the contact book.
pub fn contacts(fast: bool) -> kontor_contacts::OpenOptions {
    kontor_contacts::OpenOptions {
        kdf: if fast {
            kontor_contacts::KdfParams::insecure_fast()
        } else {
            kontor_contacts::KdfParams::default()
        },
        ..kontor_contacts::OpenOptions::default()
    }
}

/// Opens (or creates) the profile in `dir` with the cost [`profile`] picks. Blocking:
/// Argon2id takes a noticeable moment.
pub fn open_profile(
    dir: &std::path::Path,
    passphrase: &str,
    fast: bool,
) -> kontor_core::Result<kontor_core::Profile> {
    match profile(fast) {
        Some(params) => kontor_core::Profile::open_with(dir, passphrase, params),
        None => kontor_core::Profile::open(dir, passphrase),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_only_when_asked_and_never_in_release() {
        assert!(!fast(false));
        assert_eq!(fast(true), cfg!(debug_assertions));
        assert!(profile(false).is_none());
        assert_eq!(profile(true).map(|p| p.m_kib), Some(64));
    }
}
