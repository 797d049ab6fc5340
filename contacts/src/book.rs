//! One unlocked book: a [`ContactStore`] plus the keys that seal, open and
//! index its records; and the two typed handles [`WorkBook`] and [`PrivateBook`].
//!
//! Each store keeps its own key record (`m/keys`): the X25519 public key in
//! clear, the secret key and the index key wrapped under an Argon2id key from
//! the passphrase, with salt and cost parameters. So each store opens on its
//! own: a damaged private book does not lock the user out of the work book.
//!
//! Key layout inside a store (no key or value is readable): `m/keys`, record
//! buckets `r/<n>` and index shards `i/<n>` (see [`crate::layout`]), and the
//! journal's `t/`, `c/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

use crate::crypto::{self, Indexer, KdfParams, Opener, Sealer};
use crate::error::{Error, Result};
use crate::journal::Write;
use crate::layout::{self, Bucket, Entry, Shard};
use crate::model::{Book, Contact, ContactId};
use crate::store::{ContactStore, Op};

const META: &[u8] = b"m/keys";
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
    /// Serialises read-modify-write sequences in this process (sled's file lock keeps other processes out).
    pub(crate) write: std::sync::Mutex<()>,
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
            write: std::sync::Mutex::new(()),
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
            write: std::sync::Mutex::new(()),
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

    pub(crate) fn bucket(&self, b: u8) -> Result<Bucket> {
        match self.db.get(&layout::bucket_key(b))? {
            Some(v) => layout::decode_bucket(&v),
            None => Ok(Bucket::new()),
        }
    }

    pub(crate) fn shard(&self, key: &[u8]) -> Result<Shard> {
        match self.db.get(key)? {
            Some(v) => layout::decode_shard(&v),
            None => Ok(Shard::new()),
        }
    }

    pub(crate) fn get(&self, id: &str) -> Result<Option<Contact>> {
        match self.bucket(layout::bucket_of(id))?.get(id) {
            Some(e) => self.decode(id, &e.blob).map(Some),
            None => Ok(None),
        }
    }

    pub(crate) fn contains(&self, id: &str) -> Result<bool> {
        Ok(self.bucket(layout::bucket_of(id))?.contains_key(id))
    }

    fn buckets(&self) -> Result<Vec<Bucket>> {
        self.db
            .scan_prefix(layout::REC)?
            .iter()
            .map(|(_, v)| layout::decode_bucket(v))
            .collect()
    }

    /// Every contact, sorted by name.
    pub(crate) fn list(&self) -> Result<Vec<Contact>> {
        let mut out = Vec::new();
        for bucket in self.buckets()? {
            for (id, e) in &bucket {
                out.push(self.decode(id, &e.blob)?);
            }
        }
        out.sort_by_cached_key(|c| (c.display_name.to_lowercase(), c.id.clone()));
        Ok(out)
    }

    /// Ids of all records (no decryption).
    pub(crate) fn ids(&self) -> Result<Vec<ContactId>> {
        Ok(self
            .buckets()?
            .into_iter()
            .flat_map(|b| b.into_keys())
            .collect())
    }

    pub(crate) fn hash(&self, kind: &str, value: &str) -> [u8; 32] {
        self.indexer.hash(kind, value)
    }

    /// Ids of contacts with this index term.
    #[cfg(test)]
    pub(crate) fn lookup(&self, kind: &str, value: &str) -> Result<Vec<ContactId>> {
        self.lookup_hash(&self.hash(kind, value))
    }

    /// Ids of contacts with the index term whose keyed hash is `h`.
    pub(crate) fn lookup_hash(&self, h: &[u8; 32]) -> Result<Vec<ContactId>> {
        let h = *h;
        Ok(self
            .shard(&layout::shard_key(&h))?
            .into_iter()
            .filter(|(x, _)| *x == h)
            .map(|(_, id)| id)
            .collect())
    }

    /// Whether the store holds any contact.
    pub(crate) fn has_records(&self) -> Result<bool> {
        self.db.has_prefix(layout::REC)
    }

    /// A writer that collects changes to this store (sealing with a fresh ephemeral key).
    pub(crate) fn writer(&self) -> Writer<'_> {
        Writer {
            store: self,
            sealer: self.sealer(),
            buckets: BTreeMap::new(),
            shards: BTreeMap::new(),
        }
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

/// A contact as the plaintext of its sealed record: compact JSON, wiped when dropped.
pub(crate) fn encode_contact(contact: &Contact) -> Zeroizing<Vec<u8>> {
    // Serialising a plain struct of strings cannot fail.
    Zeroizing::new(serde_json::to_vec(contact).unwrap_or_default())
}

/// A record sealed for one store, ready to be written.
pub(crate) struct Sealed {
    id: ContactId,
    entry: Entry,
}

impl Sealed {
    /// The contact's id.
    pub(crate) fn id(&self) -> &ContactId {
        &self.id
    }

    /// Its index hashes under the store's index key, in the order of its terms.
    pub(crate) fn refs(&self) -> &[[u8; 32]] {
        &self.entry.refs
    }
}

/// Collects puts and deletes for one store; [`Writer::finish`] turns them into
/// one write per touched bucket and shard.
pub(crate) struct Writer<'a> {
    store: &'a Store,
    sealer: Sealer,
    buckets: BTreeMap<u8, Bucket>,
    /// By the shard's byte (the first byte of the hash), not its whole key:
    /// an import looks a shard up for every index term.
    shards: BTreeMap<u8, Shard>,
}

impl Writer<'_> {
    fn bucket(&mut self, id: &str) -> Result<&mut Bucket> {
        let b = layout::bucket_of(id);
        if !self.buckets.contains_key(&b) {
            let loaded = self.store.bucket(b)?;
            self.buckets.insert(b, loaded);
        }
        Ok(self.buckets.entry(b).or_default())
    }

    fn shard(&mut self, hash: &[u8; 32]) -> Result<&mut Shard> {
        let b = hash[0];
        if !self.shards.contains_key(&b) {
            let loaded = self.store.shard(&layout::shard_key(hash))?;
            self.shards.insert(b, loaded);
        }
        Ok(self.shards.entry(b).or_default())
    }

    fn unindex(&mut self, id: &str, refs: &[[u8; 32]]) -> Result<()> {
        for h in refs {
            self.shard(h)?.retain(|(x, i)| !(x == h && i == id));
        }
        Ok(())
    }

    /// Seals a contact and computes its index hashes; needs only `&self`, so
    /// an import can run it on several threads.
    pub(crate) fn seal(&self, contact: &Contact) -> Sealed {
        let plain = encode_contact(contact);
        self.seal_encoded(&contact.id, &plain, &contact.index_terms())
    }

    /// Seals a contact already serialised with [`encode_contact`], with its
    /// index terms. An import keeps its contacts in this compact form between
    /// parsing and sealing (a third of the memory of the structs), so it
    /// serialises each contact once.
    pub(crate) fn seal_encoded(
        &self,
        id: &str,
        plain: &[u8],
        terms: &[(&'static str, String)],
    ) -> Sealed {
        let blob = self.sealer.seal(id, plain);
        let refs = terms
            .iter()
            .map(|(kind, value)| self.store.hash(kind, value))
            .collect();
        Sealed {
            id: id.to_owned(),
            entry: Entry { refs, blob },
        }
    }

    /// The contact in a record sealed by a writer of this store (an import
    /// opens again only the few records it merges).
    pub(crate) fn open(&self, sealed: &Sealed) -> Result<Contact> {
        self.store.decode(&sealed.id, &sealed.entry.blob)
    }

    /// The keyed hash of an index term in this store.
    pub(crate) fn hash(&self, kind: &str, value: &str) -> [u8; 32] {
        self.store.hash(kind, value)
    }

    /// Writes (or replaces) a contact.
    pub(crate) fn put(&mut self, contact: &Contact) -> Result<()> {
        let sealed = self.seal(contact);
        self.put_sealed(sealed)
    }

    /// Writes (or replaces) a record sealed with [`Writer::seal`] of this writer.
    pub(crate) fn put_sealed(&mut self, sealed: Sealed) -> Result<()> {
        let Sealed { id, entry } = sealed;
        if let Some(old) = self.bucket(&id)?.remove(&id) {
            self.unindex(&id, &old.refs)?;
        }
        for h in &entry.refs {
            self.shard(h)?.push((*h, id.clone()));
        }
        self.bucket(&id)?.insert(id, entry);
        Ok(())
    }

    /// Removes a contact and its index entries (no decryption needed).
    pub(crate) fn delete(&mut self, id: &str) -> Result<()> {
        if let Some(old) = self.bucket(id)?.remove(id) {
            self.unindex(id, &old.refs)?;
        }
        Ok(())
    }

    /// The ops that write every touched bucket and shard.
    pub(crate) fn finish(self) -> Vec<Op> {
        self.finish_later()
            .into_iter()
            .map(Write::into_op)
            .collect()
    }

    /// [`Writer::finish`] for the journal, which encodes each bucket and
    /// shard just before it writes it: a large import holds its sealed
    /// records once, not as entries and as encoded bytes at the same time.
    pub(crate) fn finish_later(self) -> Vec<Write> {
        let mut ops = Vec::with_capacity(self.buckets.len() + self.shards.len());
        for (b, bucket) in self.buckets {
            let key = layout::bucket_key(b);
            ops.push(if bucket.is_empty() {
                Op::Del(key).into()
            } else {
                Write::bucket(key, bucket)
            });
        }
        for (b, shard) in self.shards {
            let key = [layout::IDX, &[b]].concat();
            ops.push(if shard.is_empty() {
                Op::Del(key).into()
            } else {
                Write::shard(key, shard)
            });
        }
        ops
    }
}
