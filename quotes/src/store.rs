//! The device's sealed store of quotes ([`QuoteRecord`]s), the freelancer's
//! [`BusinessDetails`] and a few small values (e.g. a sync position).
//!
//! Why sealed: a quote names a customer, what they ordered and for how much, and the
//! business details carry the freelancer's tax number and IBAN. That is as private as
//! the messages it travels in, so nothing of it is on disk in plaintext:
//!
//! - every value is sealed with XChaCha20-Poly1305 (random 192-bit nonce) under a key
//!   derived from the caller's 32-byte key, with the entry's sled key as associated
//!   data, so a sealed value moved to another entry (another quote) does not open;
//! - sled keys are HMAC-SHA256 under a second derived key (`"quote/A-2026-0007"` →
//!   32 bytes), so not even the quote numbers, their years or their order show;
//! - a sealed check value, written when the store is created, makes a wrong key fail
//!   at [`QuoteStore::open`] with [`StoreError::WrongKey`] instead of as a flood of
//!   unreadable records;
//! - the directory is 0700 and sled's files 0600 (set at open and again at drop;
//!   files sled creates in between are inside the 0700 directory).
//!
//! What still shows: how many entries there are and roughly how big each is.
//!
//! Durability: every write is flushed before it returns, so after a crash sled's own
//! recovery finds everything a returned call stored. An entry that no longer opens
//! (damage, a bug) is an error naming it ([`Entry`]), never silently dropped:
//! [`QuoteStore::all`] fails on it, [`QuoteStore::all_with_problems`] returns the
//! readable records beside the problems, for a list that must still show.
//!
//! Limit: damage *inside sled's log* (a byte changed in its `db` file) is sled's to
//! detect, and it does not report it: its recovery takes a checksum failure for a torn
//! write at the end of the log and drops everything from there on, silently (tried:
//! one flipped byte in the third of five records left two). Noticing that needs a
//! sealed write counter kept outside sled; not done yet.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::{BusinessDetails, QuoteNumber, QuoteRecord};

/// The first byte of every sealed value: the format, so a later one can be told apart.
const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
/// Prefix of the quote entries (so `all` scans only them).
const QUOTE_PREFIX: u8 = b'q';
/// Prefix of the details and the meta values.
const OTHER_PREFIX: u8 = b'm';
/// The one fixed key: the check value.
const CHECK_KEY: &[u8] = b"k";
const CHECK_PLAINTEXT: &[u8] = b"kontor-quotes/v1 check";
/// From this many records on, `all` opens them on every core (see `open_all`).
const PARALLEL_FROM: usize = 256;

/// Which entry of the store a problem concerns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    /// A quote record.
    Quote {
        /// Its number, when known (asked for by number); a record found while listing
        /// that does not open has no readable number.
        number: Option<QuoteNumber>,
        /// The first 8 bytes of its sled key in hex: tells two damaged records apart
        /// in a log, and reveals nothing.
        id: String,
    },
    /// The business details.
    Details,
    /// A meta value, by name.
    Meta(String),
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Quote {
                number: Some(n), ..
            } => write!(f, "quote {n}"),
            Entry::Quote { number: None, id } => write!(f, "quote entry {id}"),
            Entry::Details => f.write_str("the business details"),
            Entry::Meta(name) => write!(f, "meta value {name:?}"),
        }
    }
}

/// Why an entry does not read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Damage {
    /// The sealed value does not authenticate: changed on disk, truncated, moved to
    /// another entry, or of an unknown seal version.
    NotAuthentic,
    /// It opened but is not a record of this format (written by a newer Kontor, or a
    /// bug). Only the position is kept: the decoder's message can quote the plaintext.
    Malformed {
        /// Line of the decoded JSON.
        line: usize,
        /// Column of the decoded JSON.
        column: usize,
    },
}

/// Errors of the quote store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The key does not open the store's check value: another account's store, or a
    /// wrongly derived key. Nothing was read or changed.
    #[error("the key does not open the quote store at {path}")]
    WrongKey {
        /// The store's directory.
        path: PathBuf,
    },
    /// The store holds entries but no check value, so the key cannot be verified:
    /// not a quote store, or damaged. Opened as if new it would mix keys, so it is refused.
    #[error("the quote store at {path} has no check value (damaged, or not a quote store)")]
    MissingCheck {
        /// The store's directory.
        path: PathBuf,
    },
    /// One entry cannot be read; the rest of the store may be fine.
    #[error("{entry} in the quote store cannot be read: {damage:?}")]
    Unreadable {
        /// Which entry.
        entry: Entry,
        /// What is wrong with it.
        damage: Damage,
    },
    /// sled failed (damaged database files, or the store is open in another process).
    #[error("quote store database error: {0}")]
    Database(#[from] sled::Error),
    /// The directory could not be created or its modes set.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// The sealed store in one directory. `Send + Sync`: share it behind an `Arc`.
pub struct QuoteStore {
    dir: PathBuf,
    db: sled::Db,
    /// Holds the sealing key; zeroized on drop (chacha20poly1305's `ZeroizeOnDrop`).
    cipher: XChaCha20Poly1305,
    /// Key of the HMAC that names entries.
    index_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for QuoteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("QuoteStore")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// HMAC-SHA256 of `parts` under `key`.
fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

impl QuoteStore {
    /// Opens the store in `dir`, creating it (0700) when it does not exist.
    ///
    /// The key is used only through two keys derived from it (one seals, one names
    /// entries: one key for two algorithms is avoided) and is wiped when this returns.
    /// A store left by a crash is recovered by sled. Fails with
    /// [`StoreError::WrongKey`] when `key` is not the key the store was created with.
    pub fn open(dir: &Path, key: Zeroizing<[u8; 32]>) -> Result<QuoteStore, StoreError> {
        let io = |source| StoreError::Io {
            path: dir.to_owned(),
            source,
        };
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
        let config = sled::Config::new()
            .path(dir)
            // sled's default cache is 1 GiB; thousands of quotes need a few MiB.
            .cache_capacity(16 * 1024 * 1024)
            // Every write flushes itself; no background flusher.
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput);
        let db = kontor_storage::open(&config)?;
        let seal_key = Zeroizing::new(hmac(&key, &[b"kontor-quotes/v1 seal"]));
        let store = QuoteStore {
            dir: dir.to_owned(),
            db,
            cipher: XChaCha20Poly1305::new(seal_key.as_ref().into()),
            index_key: Zeroizing::new(hmac(&key, &[b"kontor-quotes/v1 index"])),
        };
        drop(key);
        restrict(dir)?;
        store.check_key()?;
        Ok(store)
    }

    /// Verifies the key against the check value, writing it into a new store.
    fn check_key(&self) -> Result<(), StoreError> {
        match self.db.get(CHECK_KEY)? {
            Some(sealed) => match self.unseal(CHECK_KEY, &sealed) {
                Some(plain) if plain.as_slice() == CHECK_PLAINTEXT => Ok(()),
                _ => Err(StoreError::WrongKey {
                    path: self.dir.clone(),
                }),
            },
            None if self.db.iter().next().is_some() => Err(StoreError::MissingCheck {
                path: self.dir.clone(),
            }),
            None => self.write(CHECK_KEY, CHECK_PLAINTEXT),
        }
    }

    /// Inserts `record`, or replaces the one with its number; durable when it returns.
    pub fn put(&self, record: &QuoteRecord) -> Result<(), StoreError> {
        let key = self.quote_key(&record.quote.number);
        self.write(&key, &encode(record))
    }

    /// The record with this number, if stored.
    pub fn get(&self, number: &QuoteNumber) -> Result<Option<QuoteRecord>, StoreError> {
        let key = self.quote_key(number);
        let Some(sealed) = self.db.get(&key)? else {
            return Ok(None);
        };
        self.decode(&key, &sealed)
            .map(Some)
            .map_err(|damage| StoreError::Unreadable {
                entry: Entry::Quote {
                    number: Some(*number),
                    id: short_id(&key),
                },
                damage,
            })
    }

    /// Every record, newest number first. Fails on the first record that does not
    /// read: a caller that totals or numbers quotes must not work on a list with a
    /// silent gap. A list that should still show uses [`QuoteStore::all_with_problems`].
    pub fn all(&self) -> Result<Vec<QuoteRecord>, StoreError> {
        let (records, mut problems) = self.all_with_problems()?;
        match problems.is_empty() {
            true => Ok(records),
            false => Err(problems.swap_remove(0)),
        }
    }

    /// Every readable record, newest number first, and a [`StoreError::Unreadable`]
    /// naming each record that does not read. Errs only when sled itself fails.
    pub fn all_with_problems(&self) -> Result<(Vec<QuoteRecord>, Vec<StoreError>), StoreError> {
        let entries = self
            .db
            .scan_prefix([QUOTE_PREFIX])
            .collect::<Result<Vec<_>, _>>()?;
        let (mut records, problems) = self.open_all(&entries);
        records.sort_unstable_by_key(|r| std::cmp::Reverse(r.quote.number));
        Ok((records, problems))
    }

    /// Every stored number, for [`QuoteNumber::next`]. Fails when any record does not
    /// read: its number might be the highest, and reissuing a number is the one thing
    /// numbering must never do.
    pub fn numbers(&self) -> Result<Vec<QuoteNumber>, StoreError> {
        Ok(self.all()?.into_iter().map(|r| r.quote.number).collect())
    }

    /// Removes the record with this number; whether there was one. Durable when it returns.
    pub fn remove(&self, number: &QuoteNumber) -> Result<bool, StoreError> {
        let existed = self.db.remove(self.quote_key(number))?.is_some();
        self.db.flush()?;
        Ok(existed)
    }

    /// The business details, once saved.
    pub fn details(&self) -> Result<Option<BusinessDetails>, StoreError> {
        let key = self.other_key(b"details", b"");
        let Some(sealed) = self.db.get(&key)? else {
            return Ok(None);
        };
        self.decode(&key, &sealed)
            .map(Some)
            .map_err(|damage| StoreError::Unreadable {
                entry: Entry::Details,
                damage,
            })
    }

    /// Saves the business details (replacing earlier ones); durable when it returns.
    pub fn put_details(&self, details: &BusinessDetails) -> Result<(), StoreError> {
        self.write(&self.other_key(b"details", b""), &encode(details))
    }

    /// Saves a small value under `name` (e.g. a sync position); durable when it returns.
    pub fn put_meta(&self, name: &str, value: &[u8]) -> Result<(), StoreError> {
        self.write(&self.other_key(b"meta/", name.as_bytes()), value)
    }

    /// The value saved under `name`, if any.
    pub fn meta(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let key = self.other_key(b"meta/", name.as_bytes());
        let Some(sealed) = self.db.get(&key)? else {
            return Ok(None);
        };
        match self.unseal(&key, &sealed) {
            Some(plain) => Ok(Some(plain.to_vec())),
            None => Err(StoreError::Unreadable {
                entry: Entry::Meta(name.to_owned()),
                damage: Damage::NotAuthentic,
            }),
        }
    }

    /// The sled key of a quote: `q` + HMAC("quote/A-2026-0007").
    fn quote_key(&self, number: &QuoteNumber) -> Vec<u8> {
        let name = format!("quote/{number}");
        let mut key = vec![QUOTE_PREFIX];
        key.extend_from_slice(&hmac(&self.index_key, &[name.as_bytes()]));
        key
    }

    /// The sled key of the details or a meta value: `m` + HMAC(kind + name).
    fn other_key(&self, kind: &[u8], name: &[u8]) -> Vec<u8> {
        let mut key = vec![OTHER_PREFIX];
        key.extend_from_slice(&hmac(&self.index_key, &[kind, name]));
        key
    }

    /// Seals `plain` for `key`, stores it and flushes.
    fn write(&self, key: &[u8], plain: &[u8]) -> Result<(), StoreError> {
        let sealed = self.seal(key, plain);
        self.db.insert(key, sealed)?;
        self.db.flush()?;
        Ok(())
    }

    /// `version || nonce || ciphertext`, the sled key as associated data.
    fn seal(&self, key: &[u8], plain: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        OsRng.fill_bytes(&mut nonce);
        let ct = self
            .cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plain,
                    aad: key,
                },
            )
            // Encryption fails only for inputs beyond 256 GiB.
            .unwrap_or_else(|_| unreachable!("a store value is far below the AEAD limit"));
        let mut out = Vec::with_capacity(1 + NONCE_LEN + ct.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// The plaintext of a sealed value, `None` when it does not authenticate for `key`.
    fn unseal(&self, key: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != SEAL_VERSION {
            return None;
        }
        let (nonce, ct) = sealed[1..].split_at(NONCE_LEN);
        self.cipher
            .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: key })
            .ok()
            .map(Zeroizing::new)
    }

    /// Unseals and parses one value.
    fn decode<T: DeserializeOwned>(&self, key: &[u8], sealed: &[u8]) -> Result<T, Damage> {
        let plain = self.unseal(key, sealed).ok_or(Damage::NotAuthentic)?;
        serde_json::from_slice(&plain).map_err(|e| Damage::Malformed {
            line: e.line(),
            column: e.column(),
        })
    }

    /// Decodes quote entries; on more than one core and with many records, in one
    /// thread per core (unsealing and parsing 5,000 records is most of opening the
    /// overview; see BENCHMARKS.md).
    fn open_all(
        &self,
        entries: &[(sled::IVec, sled::IVec)],
    ) -> (Vec<QuoteRecord>, Vec<StoreError>) {
        let one = |(key, sealed): &(sled::IVec, sled::IVec)| {
            self.decode::<QuoteRecord>(key, sealed)
                .map_err(|damage| StoreError::Unreadable {
                    entry: Entry::Quote {
                        number: None,
                        id: short_id(key),
                    },
                    damage,
                })
        };
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let results: Vec<Result<QuoteRecord, StoreError>> =
            if threads < 2 || entries.len() < PARALLEL_FROM {
                entries.iter().map(one).collect()
            } else {
                let chunk = entries.len().div_ceil(threads);
                std::thread::scope(|s| {
                    let workers: Vec<_> = entries
                        .chunks(chunk)
                        .map(|part| s.spawn(move || part.iter().map(one).collect::<Vec<_>>()))
                        .collect();
                    workers
                        .into_iter()
                        .flat_map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                        .collect()
                })
            };
        let mut records = Vec::with_capacity(results.len());
        let mut problems = Vec::new();
        for r in results {
            match r {
                Ok(record) => records.push(record),
                Err(e) => problems.push(e),
            }
        }
        (records, problems)
    }
}

impl Drop for QuoteStore {
    fn drop(&mut self) {
        let _ = self.db.flush();
        // Files sled created since opening get 0600 too (the directory is 0700 anyway).
        let _ = restrict(&self.dir);
    }
}

/// JSON of a value, in a buffer wiped when dropped.
fn encode<T: Serialize>(value: &T) -> Zeroizing<Vec<u8>> {
    // Serialising these plain structs into a Vec cannot fail (no maps with non-string
    // keys, no fallible `Serialize`); an empty value stored instead would lose data.
    Zeroizing::new(
        serde_json::to_vec(value)
            .unwrap_or_else(|e| unreachable!("store values always serialise: {e}")),
    )
}

/// The first 8 bytes of a sled key (after its prefix) in hex.
fn short_id(key: &[u8]) -> String {
    key.iter()
        .skip(1)
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// 0700 on directories and 0600 on files under `path` (sled creates its files with the
/// process umask). Symlinks are left alone.
fn restrict(path: &Path) -> Result<(), StoreError> {
    kontor_storage::restrict(path).map_err(|e| StoreError::Io {
        path: e.path,
        source: e.source,
    })
}

#[cfg(test)]
mod tests;
