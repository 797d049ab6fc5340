//! Sealing records to a store's public key, wrapping keys with the passphrase,
//! and keyed hashes for index keys.
//!
//! Why sealed boxes: a record is encrypted to the store's X25519 public key
//! (ephemeral X25519 → HKDF-SHA256 → XChaCha20-Poly1305), so code that only
//! *writes* a store (an import into the private book) never needs the store's
//! secret. The store name and record id are bound as associated data, so a
//! ciphertext cannot be moved to another record or book unnoticed.
//!
//! One ephemeral key serves one write operation (an import batch, a grant):
//! an X25519 multiplication per record would cost seconds on a large import,
//! and the random 192-bit nonces keep reuse of the derived key safe.
//!
//! Index keys are HMAC-SHA256 under a per-store key, so the database holds no
//! phone number or address, not even hashed in a way an attacker could brute
//! force without the passphrase.

use std::collections::HashMap;
use std::sync::Mutex;

use argon2::{Algorithm, Argon2, Params, Version};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hkdf::Hkdf;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use x25519_dalek::{PublicKey, StaticSecret};
use zeroize::Zeroizing;

const SEAL_VERSION: u8 = 1;
const NONCE_LEN: usize = 24;
const HEADER_LEN: usize = 1 + 32 + NONCE_LEN;

/// Argon2id cost parameters, stored with each store so they can be raised later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KdfParams {
    /// Memory cost in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Lanes.
    pub p_cost: u32,
}

impl Default for KdfParams {
    /// 64 MiB, 3 passes, 1 lane (RFC 9106's second recommendation, single lane).
    fn default() -> Self {
        KdfParams {
            m_cost_kib: 64 * 1024,
            t_cost: 3,
            p_cost: 1,
        }
    }
}

impl KdfParams {
    /// Minimal cost: **tests only**; it offers no protection against guessing.
    pub fn insecure_fast() -> Self {
        KdfParams {
            m_cost_kib: 64,
            t_cost: 1,
            p_cost: 1,
        }
    }
}

/// A 32-byte symmetric key that is wiped when dropped.
pub(crate) type Key = Zeroizing<[u8; 32]>;

/// Derives the key-encryption key from the passphrase (Argon2id).
pub(crate) fn derive_kek(passphrase: &[u8], salt: &[u8], p: &KdfParams) -> Result<Key, String> {
    let params =
        Params::new(p.m_cost_kib, p.t_cost, p.p_cost, Some(32)).map_err(|e| e.to_string())?;
    let mut out = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, out.as_mut())
        .map_err(|e| e.to_string())?;
    Ok(out)
}

/// Fresh random bytes.
pub(crate) fn random<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    OsRng.fill_bytes(&mut b);
    b
}

/// Encrypts with a random nonce; output is `nonce || ciphertext`.
pub(crate) fn aead_seal(key: &[u8; 32], plaintext: &[u8], ad: &[u8]) -> Vec<u8> {
    let nonce = random::<NONCE_LEN>();
    let cipher = XChaCha20Poly1305::new(key.into());
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad: ad,
            },
        )
        // Encryption only fails for inputs beyond 256 GiB.
        .unwrap_or_default();
    let mut out = Vec::with_capacity(NONCE_LEN + ct.len());
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    out
}

/// Decrypts `nonce || ciphertext`; `None` if it does not authenticate.
pub(crate) fn aead_open(key: &[u8; 32], blob: &[u8], ad: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    if blob.len() < NONCE_LEN {
        return None;
    }
    let (nonce, ct) = blob.split_at(NONCE_LEN);
    XChaCha20Poly1305::new(key.into())
        .decrypt(XNonce::from_slice(nonce), Payload { msg: ct, aad: ad })
        .ok()
        .map(Zeroizing::new)
}

fn record_ad(store: &str, record_id: &str) -> Vec<u8> {
    let mut ad = b"kontor-contacts/v1 record\0".to_vec();
    ad.extend_from_slice(store.as_bytes());
    ad.push(0);
    ad.extend_from_slice(record_id.as_bytes());
    ad
}

fn seal_key(shared: &[u8; 32], eph: &[u8; 32], recipient: &[u8; 32]) -> Key {
    let mut salt = [0u8; 64];
    salt[..32].copy_from_slice(eph);
    salt[32..].copy_from_slice(recipient);
    let hk = Hkdf::<Sha256>::new(Some(&salt), shared);
    let mut key = Zeroizing::new([0u8; 32]);
    // 32 bytes is always a valid HKDF-SHA256 output length.
    let _ = hk.expand(b"kontor-contacts/v1 seal", key.as_mut());
    key
}

/// Seals records to one store's public key; holds no long-term secret.
pub(crate) struct Sealer {
    store: &'static str,
    eph_public: [u8; 32],
    key: Key,
}

impl Sealer {
    /// A sealer with a fresh ephemeral key for one write operation.
    pub(crate) fn new(store: &'static str, recipient: &PublicKey) -> Self {
        let eph = StaticSecret::random_from_rng(OsRng);
        let eph_public = PublicKey::from(&eph).to_bytes();
        let shared = eph.diffie_hellman(recipient);
        let key = seal_key(shared.as_bytes(), &eph_public, recipient.as_bytes());
        Sealer {
            store,
            eph_public,
            key,
        }
    }

    /// `version || ephemeral public key || nonce || ciphertext`.
    pub(crate) fn seal(&self, record_id: &str, plaintext: &[u8]) -> Vec<u8> {
        let body = aead_seal(&self.key, plaintext, &record_ad(self.store, record_id));
        let mut out = Vec::with_capacity(1 + 32 + body.len());
        out.push(SEAL_VERSION);
        out.extend_from_slice(&self.eph_public);
        out.extend_from_slice(&body);
        out
    }
}

/// Opens records sealed to a store; holds the store's secret key.
pub(crate) struct Opener {
    store: &'static str,
    secret: StaticSecret,
    public: PublicKey,
    /// Derived keys per ephemeral public key: one X25519 per write operation, not per record.
    cache: Mutex<HashMap<[u8; 32], Key>>,
}

impl Opener {
    pub(crate) fn new(store: &'static str, secret: StaticSecret) -> Self {
        let public = PublicKey::from(&secret);
        Opener {
            store,
            secret,
            public,
            cache: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn open(&self, record_id: &str, blob: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if blob.len() < HEADER_LEN || blob[0] != SEAL_VERSION {
            return None;
        }
        let mut eph = [0u8; 32];
        eph.copy_from_slice(&blob[1..33]);
        let mut cache = self.cache.lock().unwrap_or_else(|p| p.into_inner());
        let key = match cache.entry(eph) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                let shared = self.secret.diffie_hellman(&PublicKey::from(eph));
                if !shared.was_contributory() {
                    return None;
                }
                e.insert(seal_key(shared.as_bytes(), &eph, self.public.as_bytes()))
            }
        };
        aead_open(key, &blob[33..], &record_ad(self.store, record_id))
    }

    /// Forgets derived keys (after an erase, so nothing cached outlives the data).
    pub(crate) fn clear_cache(&self) {
        self.cache.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}

/// Keyed hash for index keys: reveals nothing without the store's index key.
pub(crate) struct Indexer {
    key: Key,
}

impl Indexer {
    pub(crate) fn new(key: Key) -> Self {
        Indexer { key }
    }

    pub(crate) fn hash(&self, kind: &str, value: &str) -> [u8; 32] {
        // HMAC accepts keys of any length.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_ref())
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(kind.as_bytes());
        mac.update(&[0]);
        mac.update(value.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trip_and_binding() {
        let secret = StaticSecret::random_from_rng(OsRng);
        let public = PublicKey::from(&secret);
        let sealer = Sealer::new("work", &public);
        let blob = sealer.seal("abc", b"Erika Mustermann");
        assert!(!blob.windows(6).any(|w| w == b"Erika "));
        let opener = Opener::new("work", secret.clone());
        assert_eq!(
            opener.open("abc", &blob).as_deref().map(|v| &v[..]),
            Some(&b"Erika Mustermann"[..])
        );
        // Bound to the record id and the store name.
        assert!(opener.open("abd", &blob).is_none());
        assert!(Opener::new("private", secret).open("abc", &blob).is_none());
        // Another key cannot open it.
        let other = Opener::new("work", StaticSecret::random_from_rng(OsRng));
        assert!(other.open("abc", &blob).is_none());
        // Tampering is detected.
        let mut bad = blob.clone();
        let last = bad.len() - 1;
        bad[last] ^= 1;
        assert!(opener.open("abc", &bad).is_none());
        assert!(opener.open("abc", &blob[..10]).is_none());
    }

    #[test]
    fn kek_depends_on_passphrase_and_salt() {
        let p = KdfParams::insecure_fast();
        let a = derive_kek(b"pass", b"saltsaltsaltsalt", &p).unwrap();
        let b = derive_kek(b"pass", b"saltsaltsaltsalt", &p).unwrap();
        let c = derive_kek(b"pasS", b"saltsaltsaltsalt", &p).unwrap();
        let d = derive_kek(b"pass", b"saltsaltsaltsalX", &p).unwrap();
        assert_eq!(*a, *b);
        assert_ne!(*a, *c);
        assert_ne!(*a, *d);
    }

    #[test]
    fn wrap_round_trip() {
        let key = random::<32>();
        let blob = aead_seal(&key, b"secret", b"ad");
        assert_eq!(
            aead_open(&key, &blob, b"ad").as_deref().map(|v| &v[..]),
            Some(&b"secret"[..])
        );
        assert!(aead_open(&key, &blob, b"other").is_none());
    }

    #[test]
    fn index_hash_is_keyed() {
        let a = Indexer::new(Zeroizing::new([1; 32]));
        let b = Indexer::new(Zeroizing::new([2; 32]));
        assert_eq!(
            a.hash("tel", "+4915112345678"),
            a.hash("tel", "+4915112345678")
        );
        assert_ne!(
            a.hash("tel", "+4915112345678"),
            b.hash("tel", "+4915112345678")
        );
        assert_ne!(a.hash("tel", "x"), a.hash("email", "x"));
    }
}
