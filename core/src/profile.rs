//! The local profile directory and the keys derived from its passphrase.
//!
//! A profile holds everything Kontor stores for one account: the matrix-sdk SQLite stores
//! (state, crypto, event cache, media) and the saved session. All of it is encrypted with
//! keys derived from the user's passphrase by Argon2id:
//!
//! ```text
//! <dir>/profile.json   KDF parameters, salt, and a check value (no secrets)
//! <dir>/session.enc    XChaCha20-Poly1305: homeserver URL + Matrix session (tokens)
//! <dir>/chats.enc      XChaCha20-Poly1305: the chat list as last shown (names, previews,
//!                      unread counts), so the next unlock shows it before the stores answer
//! <dir>/store/         matrix-sdk SQLite stores, encrypted with a raw 32-byte key
//! <dir>/tmp/           attachment ciphertext while it streams (deleted after use)
//! ```
//!
//! The check value lets a wrong passphrase fail *before* anything is opened or written.
//! Handing SQLite a raw key (instead of the passphrase) skips the SDK's own PBKDF2 run per
//! store, so one Argon2id derivation unlocks everything.

use std::{
    fs,
    io::Write,
    path::{Path, PathBuf},
};

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::{
    XChaCha20Poly1305, XNonce,
    aead::{Aead, KeyInit, Payload},
};
use matrix_sdk::authentication::matrix::MatrixSession;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::{Zeroize, Zeroizing};

use crate::{Error, Result};

const PROFILE_FILE: &str = "profile.json";
const SESSION_FILE: &str = "session.enc";
const CHAT_LIST_FILE: &str = "chats.enc";
const CHECK_PLAINTEXT: &[u8] = b"kontor-profile-v1";
const FORMAT: u32 = 1;

/// Argon2id cost. 64 MiB and 3 passes take about 0.2 s on the reference machine in an
/// optimised build: slow enough to make offline guessing expensive, fast enough to unlock.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_kib: u32,
    /// Passes.
    pub t: u32,
    /// Lanes.
    pub p: u32,
}

impl Default for KdfParams {
    fn default() -> Self {
        KdfParams {
            m_kib: 64 * 1024,
            t: 3,
            p: 1,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct ProfileFile {
    format: u32,
    kdf: KdfParams,
    salt: String,
    check: String,
}

/// What `session.enc` holds.
#[derive(Serialize, Deserialize, Clone)]
pub(crate) struct SavedSession {
    pub homeserver: String,
    pub session: MatrixSession,
}

/// An unlocked profile: its directory and the keys derived from the passphrase.
///
/// Keys live in [`Zeroizing`] buffers so they are wiped when the profile is dropped.
pub struct Profile {
    dir: PathBuf,
    store_key: Zeroizing<[u8; 32]>,
    session_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Profile")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

impl Profile {
    /// Opens the profile in `dir`, creating it on first use.
    ///
    /// A wrong passphrase returns [`Error::WrongPassphrase`] without writing anything.
    pub fn open(dir: impl AsRef<Path>, passphrase: &str) -> Result<Profile> {
        Self::open_with(dir, passphrase, KdfParams::default())
    }

    /// Like [`Profile::open`], with explicit KDF parameters for a *new* profile (an
    /// existing one always uses the parameters it was created with).
    pub fn open_with(
        dir: impl AsRef<Path>,
        passphrase: &str,
        new_params: KdfParams,
    ) -> Result<Profile> {
        if passphrase.is_empty() {
            return Err(Error::EmptyPassphrase);
        }
        let dir = dir.as_ref().to_path_buf();
        let path = dir.join(PROFILE_FILE);
        match fs::read(&path) {
            Ok(bytes) => {
                let file: ProfileFile =
                    serde_json::from_slice(&bytes).map_err(|e| Error::CorruptProfile {
                        path: path.clone(),
                        reason: e.to_string(),
                    })?;
                if file.format != FORMAT {
                    return Err(Error::CorruptProfile {
                        path,
                        reason: format!("unknown format {}", file.format),
                    });
                }
                let salt = hex::decode(&file.salt).map_err(|e| Error::CorruptProfile {
                    path: path.clone(),
                    reason: format!("salt: {e}"),
                })?;
                let check = hex::decode(&file.check).map_err(|e| Error::CorruptProfile {
                    path: path.clone(),
                    reason: format!("check: {e}"),
                })?;
                let profile = Self::derive(dir, passphrase, &salt, file.kdf)?;
                let check_key = profile.subkey(b"kontor/check");
                match open_sealed(&check_key, &check, b"check") {
                    Some(plain) if plain.as_slice() == CHECK_PLAINTEXT => Ok(profile),
                    _ => Err(Error::WrongPassphrase),
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                create_private_dir(&dir)?;
                let mut salt = [0u8; 16];
                rand::thread_rng().fill_bytes(&mut salt);
                let profile = Self::derive(dir, passphrase, &salt, new_params)?;
                let check_key = profile.subkey(b"kontor/check");
                let file = ProfileFile {
                    format: FORMAT,
                    kdf: new_params,
                    salt: hex::encode(salt),
                    check: hex::encode(seal(&check_key, CHECK_PLAINTEXT, b"check")),
                };
                let json = serde_json::to_vec_pretty(&file).expect("profile file serialises");
                write_private_atomic(&path, &json)?;
                Ok(profile)
            }
            Err(e) => Err(Error::io("cannot read", path, e)),
        }
    }

    fn derive(dir: PathBuf, passphrase: &str, salt: &[u8], kdf: KdfParams) -> Result<Profile> {
        let params =
            Params::new(kdf.m_kib, kdf.t, kdf.p, Some(32)).map_err(|e| Error::CorruptProfile {
                path: dir.join(PROFILE_FILE),
                reason: format!("kdf: {e}"),
            })?;
        let mut master = Zeroizing::new([0u8; 32]);
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
            .hash_password_into(passphrase.as_bytes(), salt, master.as_mut())
            .map_err(|e| Error::CorruptProfile {
                path: dir.join(PROFILE_FILE),
                reason: format!("kdf: {e}"),
            })?;
        let store_key = Zeroizing::new(derive_subkey(&master, b"kontor/sqlite-store"));
        let session_key = Zeroizing::new(derive_subkey(&master, b"kontor/session"));
        Ok(Profile {
            dir,
            store_key,
            session_key,
        })
    }

    fn subkey(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        Zeroizing::new(derive_subkey(&self.session_key, label))
    }

    /// A key for the app's own sealed business data on this device (the local quote
    /// store), derived from the passphrase like the stores' keys: unlocked with the
    /// profile, different from every other key of it, and the same on every run.
    pub fn business_key(&self) -> Zeroizing<[u8; 32]> {
        self.subkey(b"kontor/business")
    }

    /// A key for the device's search index (messages, files, quotes: as private as
    /// the messages themselves), derived from the passphrase like the other keys and
    /// different from each of them.
    pub fn search_key(&self) -> Zeroizing<[u8; 32]> {
        self.subkey(b"kontor/search")
    }

    /// The profile directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Where the matrix-sdk SQLite stores live.
    pub fn store_dir(&self) -> PathBuf {
        self.dir.join("store")
    }

    /// Scratch space for attachment ciphertext; inside the profile so it shares its
    /// permissions and file system (renames stay atomic).
    pub fn tmp_dir(&self) -> Result<PathBuf> {
        let tmp = self.dir.join("tmp");
        create_private_dir(&tmp)?;
        Ok(tmp)
    }

    /// The raw key for the SQLite stores.
    pub(crate) fn store_key(&self) -> &[u8; 32] {
        &self.store_key
    }

    /// True when a session is saved (the user logged in and has not logged out).
    pub fn has_session(&self) -> bool {
        self.dir.join(SESSION_FILE).exists()
    }

    pub(crate) fn load_session(&self) -> Result<Option<SavedSession>> {
        let path = self.dir.join(SESSION_FILE);
        let sealed = match fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("cannot read", path, e)),
        };
        let plain = open_sealed(&self.session_key, &sealed, b"session").ok_or_else(|| {
            Error::CorruptProfile {
                path: path.clone(),
                reason: "cannot decrypt".into(),
            }
        })?;
        let session = serde_json::from_slice(&plain).map_err(|e| Error::CorruptProfile {
            path,
            reason: e.to_string(),
        })?;
        Ok(Some(session))
    }

    pub(crate) fn save_session(&self, session: &SavedSession) -> Result<()> {
        let plain = Zeroizing::new(serde_json::to_vec(session).expect("session serialises"));
        let sealed = seal(&self.session_key, &plain, b"session");
        write_private_atomic(&self.dir.join(SESSION_FILE), &sealed)
    }

    /// The chat list as [`Profile::save_chat_list`] last stored it (JSON), or `None`
    /// when there is none. A file that does not decrypt (damaged, or from another
    /// profile) also gives `None`: it is a cache, rebuilt from the stores on the next
    /// read of the chats, so it never stops an unlock.
    pub(crate) fn load_chat_list(&self) -> Option<Zeroizing<Vec<u8>>> {
        let path = self.dir.join(CHAT_LIST_FILE);
        let sealed = fs::read(&path).ok()?;
        let plain = open_sealed(&self.subkey(b"kontor/chat-list"), &sealed, b"chat-list");
        if plain.is_none() {
            tracing::debug!("stored chat list does not decrypt; ignored");
        }
        plain
    }

    /// The chat list (JSON) sealed with its own key, and the file it goes to. The
    /// caller writes it with [`write_private_atomic`] (off the async threads: it
    /// fsyncs), so a crash leaves the old list or the new one, never a torn file.
    pub(crate) fn sealed_chat_list(&self, plain: &[u8]) -> (PathBuf, Vec<u8>) {
        let sealed = seal(&self.subkey(b"kontor/chat-list"), plain, b"chat-list");
        (self.dir.join(CHAT_LIST_FILE), sealed)
    }

    /// Tightens permissions of everything in the store directory to owner-only. SQLite
    /// creates its files with the process umask; its WAL and journal files copy the
    /// database file's mode, so fixing the databases once is enough.
    pub(crate) fn harden_store_permissions(&self) -> Result<()> {
        harden(&self.store_dir())
    }

    /// Deletes the whole profile directory (logout).
    pub fn wipe(self) -> Result<()> {
        let dir = self.dir.clone();
        drop(self);
        match fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("cannot delete", dir, e)),
        }
    }
}

fn derive_subkey(key: &[u8; 32], label: &[u8]) -> [u8; 32] {
    use hmac::{Hmac, Mac};
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label);
    mac.finalize().into_bytes().into()
}

/// Seals `plain` as `nonce || ciphertext`, binding `aad` (what the blob is for).
fn seal(key: &[u8; 32], plain: &[u8], aad: &[u8]) -> Vec<u8> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut nonce);
    let mut out = nonce.to_vec();
    out.extend(
        cipher
            .encrypt(XNonce::from_slice(&nonce), Payload { msg: plain, aad })
            .expect("XChaCha20-Poly1305 encryption cannot fail"),
    );
    nonce.zeroize();
    out
}

fn open_sealed(key: &[u8; 32], sealed: &[u8], aad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if sealed.len() < 24 {
        return None;
    }
    let (nonce, ct) = sealed.split_at(24);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad })
        .ok()
        .map(Zeroizing::new)
}

/// Creates `dir` (and parents) with mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).map_err(|e| Error::io("cannot create", dir, e))?;
    set_mode(dir, 0o700)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .map_err(|e| Error::io("cannot set permissions of", path, e))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> Result<()> {
    Ok(())
}

fn harden(dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io("cannot list", dir, e)),
    };
    set_mode(dir, 0o700)?;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            harden(&path)?;
        } else {
            set_mode(&path, 0o600)?;
        }
    }
    Ok(())
}

/// Writes a file so that a crash leaves either the old or the new content: a temp file
/// in the same directory, fsync, rename, fsync of the directory. Mode 0600 from creation.
pub(crate) fn write_private_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = path.with_extension("tmp");
    {
        let mut opts = fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(|e| Error::io("cannot write", &tmp, e))?;
        f.write_all(bytes)
            .map_err(|e| Error::io("cannot write", &tmp, e))?;
        f.sync_all()
            .map_err(|e| Error::io("cannot sync", &tmp, e))?;
    }
    fs::rename(&tmp, path).map_err(|e| Error::io("cannot replace", path, e))?;
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: KdfParams = KdfParams {
        m_kib: 1024,
        t: 1,
        p: 1,
    };

    #[test]
    fn wrong_passphrase_is_rejected_and_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open_with(dir.path(), "correct horse", FAST).unwrap();
        drop(p);
        let before = fs::read(dir.path().join(PROFILE_FILE)).unwrap();
        let err = Profile::open(dir.path(), "wrong horse").unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase), "{err:?}");
        assert_eq!(before, fs::read(dir.path().join(PROFILE_FILE)).unwrap());
        assert!(Profile::open(dir.path(), "correct horse").is_ok());
    }

    #[test]
    fn the_chat_list_reads_back_only_with_its_own_profile_and_intact() {
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open_with(dir.path().join("a"), "pw", FAST).unwrap();
        assert!(p.load_chat_list().is_none(), "none stored yet");
        let (path, sealed) = p.sealed_chat_list(b"[{\"name\":\"Weiss\"}]");
        write_private_atomic(&path, &sealed).unwrap();
        assert_eq!(
            p.load_chat_list().as_deref().map(Vec::as_slice),
            Some(&b"[{\"name\":\"Weiss\"}]"[..])
        );
        // Another profile with the same passphrase (another salt) cannot read it.
        let other = Profile::open_with(dir.path().join("b"), "pw", FAST).unwrap();
        fs::copy(&path, other.dir().join(CHAT_LIST_FILE)).unwrap();
        assert!(other.load_chat_list().is_none());
        // A flipped byte: no list rather than a wrong one.
        let mut bad = sealed.clone();
        bad[30] ^= 1;
        fs::write(&path, bad).unwrap();
        assert!(p.load_chat_list().is_none());
    }

    #[test]
    fn keys_are_stable_per_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let a = Profile::open_with(dir.path(), "pw", FAST).unwrap();
        let b = Profile::open(dir.path(), "pw").unwrap();
        assert_eq!(a.store_key(), b.store_key());
        assert_ne!(a.store_key(), &*a.session_key);
    }

    #[test]
    fn corrupt_profile_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join(PROFILE_FILE), b"{not json").unwrap();
        match Profile::open(dir.path(), "pw").unwrap_err() {
            Error::CorruptProfile { path, .. } => assert!(path.ends_with(PROFILE_FILE)),
            e => panic!("unexpected {e:?}"),
        }
    }

    #[test]
    fn empty_passphrase_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            Profile::open(dir.path(), ""),
            Err(Error::EmptyPassphrase)
        ));
        assert!(!dir.path().join(PROFILE_FILE).exists());
    }

    #[test]
    fn sealed_blobs_are_bound_to_their_purpose() {
        let key = [7u8; 32];
        let sealed = seal(&key, b"secret", b"session");
        assert_eq!(
            open_sealed(&key, &sealed, b"session").unwrap().as_slice(),
            b"secret"
        );
        assert!(open_sealed(&key, &sealed, b"check").is_none());
        assert!(open_sealed(&[8u8; 32], &sealed, b"session").is_none());
    }

    #[cfg(unix)]
    #[test]
    fn files_are_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = Profile::open_with(dir.path().join("p"), "pw", FAST).unwrap();
        let mode = fs::metadata(p.dir().join(PROFILE_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let mode = fs::metadata(p.dir()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o700);
    }
}
