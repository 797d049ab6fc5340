//! One unlocked book: a [`ContactStore`] plus the keys that seal, open and
//! index its records; and the two typed handles [`WorkBook`] and [`PrivateBook`].
//!
//! Each store keeps its own key record (`m/keys`): the X25519 public key in
//! clear, the secret key and the index key wrapped under an Argon2id key from
//! the passphrase, with salt and cost parameters. So each store opens on its
//! own: a damaged private book does not lock the user out of the work book.
//!
//! Key layout inside a store (no key or value is readable):
//! `r/<id>` sealed record · `i/<hmac><id>` index entry · `x/<id>` the record's
//! index hashes (so it can be removed without decrypting) · `t/`, `c/` journal.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::crypto::{self, Indexer, KdfParams, Opener, Sealer};
use crate::error::{Error, Result};
use crate::model::{Book, Contact, ContactId};
use crate::store::{ContactStore, Op};

const META: &[u8] = b"m/keys";
pub(crate) const REC: &[u8] = b"r/";
const IDX: &[u8] = b"i/";
const REFS: &[u8] = b"x/";
const FORMAT: u32 = 1;

#[derive(Serialize, Deserialize)]
struct KeyRecord {
    format: u32,
    book: Book,
    public: String,
    salt: String,
    kdf: KdfParams,
    secret: String,
    index_key: String,
}

fn wrap_ad(book: Book, public_hex: &str, what: &str) -> Vec<u8> {
    format!("kontor-contacts/v1 wrap\0{book}\0{public_hex}\0{what}").into_bytes()
}

/// A store with its keys unlocked.
pub(crate) struct Store {
    pub(crate) book: Book,
    pub(crate) path: PathBuf,
    pub(crate) db: Box<dyn ContactStore>,
    public: PublicKey,
    indexer: Indexer,
    opener: Opener,
}

impl Store {
    /// Whether the store has a key record (was initialised).
    pub(crate) fn is_initialised(db: &dyn ContactStore) -> Result<bool> {
        Ok(db.get(META)?.is_some())
    }

    /// Generates keys, wraps them under the passphrase and writes the key record.
    pub(crate) fn create(
        book: Book,
        path: &Path,
        db: Box<dyn ContactStore>,
        passphrase: &[u8],
        kdf: KdfParams,
    ) -> Result<Self> {
        let secret = StaticSecret::random_from_rng(rand::rngs::OsRng);
        let public = PublicKey::from(&secret);
        let public_hex = hex::encode(public.as_bytes());
        let index_key: crypto::Key = Zeroizing::new(crypto::random::<32>());
        let salt = crypto::random::<16>();
        let kek = crypto::derive_kek(passphrase, &salt, &kdf).map_err(Error::InvalidArgument)?;
        let secret_bytes = Zeroizing::new(secret.to_bytes());
        let record = KeyRecord {
            format: FORMAT,
            book,
            salt: hex::encode(salt),
            kdf,
            secret: hex::encode(crypto::aead_seal(
                &kek,
                secret_bytes.as_ref(),
                &wrap_ad(book, &public_hex, "secret"),
            )),
            index_key: hex::encode(crypto::aead_seal(
                &kek,
                index_key.as_ref(),
                &wrap_ad(book, &public_hex, "index"),
            )),
            public: public_hex,
        };
        db.apply(vec![Op::Put(META.to_vec(), serde_json::to_vec(&record)?)])?;
        Ok(Store {
            book,
            path: path.to_owned(),
            db,
            public,
            indexer: Indexer::new(index_key),
            opener: Opener::new(book.name(), secret),
        })
    }

    /// Reads the key record and unwraps the keys. Writes nothing.
    pub(crate) fn unlock(
        book: Book,
        path: &Path,
        db: Box<dyn ContactStore>,
        passphrase: &[u8],
    ) -> Result<Self> {
        let corrupt = |reason: String| Error::StoreCorrupt {
            book,
            path: path.to_owned(),
            reason,
        };
        let raw = db
            .get(META)?
            .ok_or_else(|| corrupt("no key record".into()))?;
        let rec: KeyRecord =
            serde_json::from_slice(&raw).map_err(|e| corrupt(format!("key record: {e}")))?;
        if rec.format != FORMAT || rec.book != book {
            return Err(corrupt(format!(
                "key record is for format {} / book {}",
                rec.format, rec.book
            )));
        }
        let bytes32 = |s: &str, what: &str| -> Result<[u8; 32]> {
            hex::decode(s)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok())
                .ok_or_else(|| corrupt(format!("bad {what}")))
        };
        let public = PublicKey::from(bytes32(&rec.public, "public key")?);
        let salt = hex::decode(&rec.salt).map_err(|_| corrupt("bad salt".into()))?;
        let kek = crypto::derive_kek(passphrase, &salt, &rec.kdf).map_err(corrupt)?;
        let unwrap = |field: &str, what: &str| -> Result<Zeroizing<[u8; 32]>> {
            let blob = hex::decode(field).map_err(|_| corrupt(format!("bad wrapped {what}")))?;
            let plain = crypto::aead_open(&kek, &blob, &wrap_ad(book, &rec.public, what))
                .ok_or(Error::WrongPassphrase { book })?;
            let mut out = Zeroizing::new([0u8; 32]);
            if plain.len() != 32 {
                return Err(corrupt(format!("wrapped {what} has the wrong length")));
            }
            out.copy_from_slice(&plain);
            Ok(out)
        };
        let secret = StaticSecret::from(*unwrap(&rec.secret, "secret")?);
        if PublicKey::from(&secret) != public {
            return Err(corrupt("secret key does not match public key".into()));
        }
        let index_key = unwrap(&rec.index_key, "index")?;
        Ok(Store {
            book,
            path: path.to_owned(),
            db,
            public,
            indexer: Indexer::new(index_key),
            opener: Opener::new(book.name(), secret),
        })
    }

    /// A sealer for one write operation (needs only the public key).
    pub(crate) fn sealer(&self) -> Sealer {
        Sealer::new(self.book.name(), &self.public)
    }

    fn decode(&self, id: &str, blob: &[u8]) -> Result<Contact> {
        let plain = self.opener.open(id, blob).ok_or_else(|| Error::Decrypt {
            book: self.book,
            id: id.to_owned(),
        })?;
        serde_json::from_slice(&plain).map_err(|e| Error::Malformed {
            book: self.book,
            id: id.to_owned(),
            reason: e.to_string(),
        })
    }

    pub(crate) fn get(&self, id: &str) -> Result<Option<Contact>> {
        match self.db.get(&[REC, id.as_bytes()].concat())? {
            Some(blob) => self.decode(id, &blob).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn contains(&self, id: &str) -> Result<bool> {
        Ok(self.db.get(&[REC, id.as_bytes()].concat())?.is_some())
    }

    /// Every contact, sorted by name.
    pub(crate) fn list(&self) -> Result<Vec<Contact>> {
        let mut out = Vec::new();
        for (k, blob) in self.db.scan_prefix(REC)? {
            let id = String::from_utf8_lossy(&k[REC.len()..]).into_owned();
            out.push(self.decode(&id, &blob)?);
        }
        out.sort_by_cached_key(|c| (c.display_name.to_lowercase(), c.id.clone()));
        Ok(out)
    }

    /// Ids of all records (no decryption).
    pub(crate) fn ids(&self) -> Result<Vec<ContactId>> {
        Ok(self
            .db
            .scan_prefix(REC)?
            .into_iter()
            .map(|(k, _)| String::from_utf8_lossy(&k[REC.len()..]).into_owned())
            .collect())
    }

    pub(crate) fn hash(&self, kind: &str, value: &str) -> [u8; 32] {
        self.indexer.hash(kind, value)
    }

    /// Ids of contacts with this index term.
    pub(crate) fn lookup(&self, kind: &str, value: &str) -> Result<Vec<ContactId>> {
        let prefix = [IDX, &self.hash(kind, value)[..]].concat();
        Ok(self
            .db
            .scan_prefix(&prefix)?
            .into_iter()
            .map(|(k, _)| String::from_utf8_lossy(&k[prefix.len()..]).into_owned())
            .collect())
    }

    /// Ops that write `contact` (replacing any previous version and its index entries).
    pub(crate) fn put_ops(&self, sealer: &Sealer, contact: &Contact) -> Result<Vec<Op>> {
        let id = contact.id.as_bytes();
        let mut ops = self.del_index_ops(&contact.id)?;
        let plain = Zeroizing::new(serde_json::to_vec(contact)?);
        ops.push(Op::Put(
            [REC, id].concat(),
            sealer.seal(&contact.id, &plain),
        ));
        let mut refs = Vec::new();
        for (kind, value) in contact.index_terms() {
            let h = self.hash(kind, &value);
            refs.extend_from_slice(&h);
            ops.push(Op::Put([IDX, &h[..], id].concat(), Vec::new()));
        }
        ops.push(Op::Put([REFS, id].concat(), refs));
        Ok(ops)
    }

    fn del_index_ops(&self, id: &str) -> Result<Vec<Op>> {
        let mut ops = Vec::new();
        if let Some(refs) = self.db.get(&[REFS, id.as_bytes()].concat())? {
            for h in refs.chunks_exact(32) {
                ops.push(Op::Del([IDX, h, id.as_bytes()].concat()));
            }
        }
        Ok(ops)
    }

    /// Ops that remove a record and its index entries (no decryption needed).
    pub(crate) fn del_ops(&self, id: &str) -> Result<Vec<Op>> {
        let mut ops = self.del_index_ops(id)?;
        ops.push(Op::Del([REFS, id.as_bytes()].concat()));
        ops.push(Op::Del([REC, id.as_bytes()].concat()));
        Ok(ops)
    }

    /// Forgets cached derived keys.
    pub(crate) fn clear_caches(&self) {
        self.opener.clear_cache();
    }
}

/// The consented book. Only this type can be handed to discovery, and it can be
/// opened on its own ([`WorkBook::open`]) so the private book's keys are never in memory then.
pub struct WorkBook {
    pub(crate) store: Store,
}

/// The non-consented book: never leaves the device.
pub struct PrivateBook {
    pub(crate) store: Store,
}

macro_rules! read_api {
    ($t:ty) => {
        impl $t {
            /// Every contact in this book, sorted by name.
            pub fn list(&self) -> Result<Vec<Contact>> {
                self.store.list()
            }

            /// One contact by its full id.
            pub fn get(&self, id: &str) -> Result<Option<Contact>> {
                self.store.get(id)
            }

            /// Number of contacts.
            pub fn len(&self) -> Result<usize> {
                Ok(self.store.ids()?.len())
            }

            /// Whether the book is empty.
            pub fn is_empty(&self) -> Result<bool> {
                Ok(self.len()? == 0)
            }

            /// Where the store lives.
            pub fn path(&self) -> &Path {
                &self.store.path
            }
        }
    };
}

read_api!(WorkBook);
read_api!(PrivateBook);
