//! A tantivy [`Directory`] that keeps every file sealed on disk.
//!
//! Why: the index holds every word of every message, and tantivy's own directories
//! write term dictionaries and the document store in plaintext. Element's Seshat solves
//! the same problem the same way: the engine stays unchanged, the directory encrypts.
//!
//! Format of each file: `KSE1` ‖ 24-byte random nonce ‖ XChaCha20-Poly1305 ciphertext,
//! with the file name as associated data (a file cannot be swapped for another). Names
//! stay tantivy's (uuids, `meta.json`): they reveal nothing about content.
//!
//! - Writes are buffered in memory and sealed at `terminate`: written to a temp file,
//!   fsynced, renamed into place, so a crash leaves either the whole file or none (temp
//!   files are swept at the next open). `atomic_write` (meta.json) works the same way.
//! - Reads decrypt the whole file into memory and keep it in a cache keyed by name (a
//!   tantivy reader reopens its files at every reload); a delete or overwrite drops the
//!   entry. The index is small (≈ the text it holds), so memory ≈ index size.
//! - A file that does not authenticate is reported as corrupt (and remembered, so the
//!   caller can say `Error::Corrupt` rather than a generic I/O error), never a panic.
//! - Locks are in-process: `SearchIndex` holds an OS advisory lock for the whole
//!   directory, which the kernel drops when the process dies. tantivy's default lock is
//!   a *file* that a `kill -9` would leave behind, failing every later open.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use std::{fmt, thread};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::RngCore;
use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, FileSlice, Lock, OwnedBytes,
    TerminatingWrite, WatchCallback, WatchHandle, WritePtr,
};
use zeroize::Zeroizing;

const MAGIC: &[u8; 4] = b"KSE1";
const NONCE_LEN: usize = 24;
/// Prefix of temp files; anything with it is a leftover of a crash.
pub(crate) const TEMP_PREFIX: &str = ".kontor-tmp-";

/// Seals `plain` for the file `name`.
pub(crate) fn seal(key: &[u8; 32], name: &str, plain: &[u8]) -> io::Result<Vec<u8>> {
    let cipher = XChaCha20Poly1305::new(key.into());
    let mut nonce = [0u8; NONCE_LEN];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(
            XNonce::from_slice(&nonce),
            Payload {
                msg: plain,
                aad: name.as_bytes(),
            },
        )
        .map_err(|_| io::Error::other("encryption failed"))?;
    let mut out = Vec::with_capacity(MAGIC.len() + NONCE_LEN + ct.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&ct);
    Ok(out)
}

/// True when `bytes` has the shape of a sealed file (magic and room for nonce and tag):
/// tells a damaged file apart from one sealed with another key.
pub(crate) fn looks_sealed(bytes: &[u8]) -> bool {
    bytes.len() >= MAGIC.len() + NONCE_LEN + 16 && &bytes[..MAGIC.len()] == MAGIC
}

/// Opens a sealed file; `None` when it is not one of ours, truncated, tampered with or
/// sealed with another key.
pub(crate) fn open_sealed(key: &[u8; 32], name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
    let header = MAGIC.len() + NONCE_LEN;
    if sealed.len() < header || &sealed[..MAGIC.len()] != MAGIC {
        return None;
    }
    let cipher = XChaCha20Poly1305::new(key.into());
    cipher
        .decrypt(
            XNonce::from_slice(&sealed[MAGIC.len()..header]),
            Payload {
                msg: &sealed[header..],
                aad: name.as_bytes(),
            },
        )
        .ok()
}

/// Writes `data` to `dir/name` atomically with owner-only permissions: temp file,
/// fsync, rename.
pub(crate) fn write_atomic(dir: &Path, name: &str, data: &[u8]) -> io::Result<()> {
    let mut suffix = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut suffix);
    let tmp = dir.join(format!("{TEMP_PREFIX}{}", hex(&suffix)));
    let result = (|| {
        let mut f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Removes temp files a crash left behind. Call only while holding the directory lock.
pub(crate) fn sweep_temp_files(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// The encrypting directory. Cheap to clone (tantivy clones it freely).
#[derive(Clone)]
pub(crate) struct EncryptedDirectory {
    inner: Arc<Inner>,
}

struct Inner {
    root: PathBuf,
    key: Zeroizing<[u8; 32]>,
    cache: Mutex<HashMap<PathBuf, OwnedBytes>>,
    locks: Arc<Mutex<HashSet<PathBuf>>>,
    corrupt: AtomicBool,
}

impl fmt::Debug for EncryptedDirectory {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EncryptedDirectory")
            .field("root", &self.inner.root)
            .finish_non_exhaustive()
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl EncryptedDirectory {
    /// A directory over `root` (which must exist) sealing with `key`.
    pub(crate) fn new(root: &Path, key: Zeroizing<[u8; 32]>) -> Self {
        EncryptedDirectory {
            inner: Arc::new(Inner {
                root: root.to_owned(),
                key,
                cache: Mutex::new(HashMap::new()),
                locks: Arc::new(Mutex::new(HashSet::new())),
                corrupt: AtomicBool::new(false),
            }),
        }
    }

    /// True once a file failed to authenticate.
    pub(crate) fn saw_corruption(&self) -> bool {
        self.inner.corrupt.load(Ordering::Relaxed)
    }

    fn name(path: &Path) -> io::Result<&str> {
        path.to_str()
            .filter(|n| !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "unexpected file name"))
    }

    fn store(&self, path: &Path, plain: Vec<u8>) -> io::Result<()> {
        let name = Self::name(path)?;
        let sealed = seal(&self.inner.key, name, &plain)?;
        write_atomic(&self.inner.root, name, &sealed)?;
        lock(&self.inner.cache).insert(path.to_owned(), OwnedBytes::new(plain));
        Ok(())
    }

    fn load(&self, path: &Path) -> Result<OwnedBytes, OpenReadError> {
        if let Some(bytes) = lock(&self.inner.cache).get(path) {
            return Ok(bytes.clone());
        }
        let io_err = |e: io::Error| OpenReadError::IoError {
            io_error: Arc::new(e),
            filepath: path.to_owned(),
        };
        let name = Self::name(path).map_err(io_err)?;
        let sealed = match fs::read(self.inner.root.join(name)) {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(OpenReadError::FileDoesNotExist(path.to_owned()));
            }
            Err(e) => return Err(io_err(e)),
        };
        let Some(plain) = open_sealed(&self.inner.key, name, &sealed) else {
            self.inner.corrupt.store(true, Ordering::Relaxed);
            return Err(io_err(io::Error::new(
                io::ErrorKind::InvalidData,
                "index file does not authenticate (corrupt or tampered)",
            )));
        };
        let bytes = OwnedBytes::new(plain);
        lock(&self.inner.cache).insert(path.to_owned(), bytes.clone());
        Ok(bytes)
    }
}

/// A file being written: bytes pile up in memory and are sealed at `terminate`.
struct SealingWriter {
    dir: EncryptedDirectory,
    path: PathBuf,
    buf: Vec<u8>,
    terminated: bool,
}

impl Write for SealingWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        if self.terminated {
            return Err(io::Error::other("write after terminate"));
        }
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        // Nothing reaches the disk before `terminate`: a half-written file would not
        // authenticate anyway, and tantivy only reads files it has terminated.
        Ok(())
    }
}

impl TerminatingWrite for SealingWriter {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        if self.terminated {
            return Ok(());
        }
        self.terminated = true;
        let buf = std::mem::take(&mut self.buf);
        self.dir.store(&self.path, buf)
    }
}

/// The in-process lock tantivy asks for (writer lock, meta lock): released on drop.
struct HeldLock {
    locks: Arc<Mutex<HashSet<PathBuf>>>,
    path: PathBuf,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        lock(&self.locks).remove(&self.path);
    }
}

impl Directory for EncryptedDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        Ok(Arc::new(self.load(path)?))
    }

    fn open_read(&self, path: &Path) -> Result<FileSlice, OpenReadError> {
        Ok(FileSlice::new(Arc::new(self.load(path)?)))
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        lock(&self.inner.cache).remove(path);
        match fs::remove_file(self.inner.root.join(path)) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(DeleteError::FileDoesNotExist(path.to_owned()))
            }
            Err(e) => Err(DeleteError::IoError {
                io_error: Arc::new(e),
                filepath: path.to_owned(),
            }),
        }
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        if lock(&self.inner.cache).contains_key(path) {
            return Ok(true);
        }
        Ok(self.inner.root.join(path).exists())
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        if self.exists(path).unwrap_or(false) {
            return Err(OpenWriteError::FileAlreadyExists(path.to_owned()));
        }
        Ok(io::BufWriter::new(Box::new(SealingWriter {
            dir: self.clone(),
            path: path.to_owned(),
            buf: Vec::new(),
            terminated: false,
        })))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        Ok(self.load(path)?.as_slice().to_vec())
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        self.store(path, data.to_vec())?;
        self.sync_directory()
    }

    fn sync_directory(&self) -> io::Result<()> {
        File::open(&self.inner.root)?.sync_all()
    }

    fn acquire_lock(&self, lock_spec: &Lock) -> Result<DirectoryLock, LockError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if lock(&self.inner.locks).insert(lock_spec.filepath.clone()) {
                return Ok(DirectoryLock::from(Box::new(HeldLock {
                    locks: self.inner.locks.clone(),
                    path: lock_spec.filepath.clone(),
                })));
            }
            if !lock_spec.is_blocking || Instant::now() >= deadline {
                return Err(LockError::LockBusy);
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    fn watch(&self, _cb: WatchCallback) -> tantivy::Result<WatchHandle> {
        Ok(WatchHandle::empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_round_trips_and_rejects_tampering_other_names_and_keys() {
        let key = [7u8; 32];
        let sealed = seal(&key, "a.idx", b"hello").unwrap();
        assert_eq!(open_sealed(&key, "a.idx", &sealed).unwrap(), b"hello");
        assert!(
            open_sealed(&key, "b.idx", &sealed).is_none(),
            "name is bound"
        );
        assert!(
            open_sealed(&[8u8; 32], "a.idx", &sealed).is_none(),
            "key is bound"
        );
        for i in 0..sealed.len() {
            let mut t = sealed.clone();
            t[i] ^= 1;
            assert!(open_sealed(&key, "a.idx", &t).is_none(), "flip at {i}");
        }
        for n in 0..sealed.len() {
            assert!(
                open_sealed(&key, "a.idx", &sealed[..n]).is_none(),
                "truncated to {n}"
            );
        }
        // Same plaintext twice: different ciphertexts (random nonce).
        assert_ne!(sealed, seal(&key, "a.idx", b"hello").unwrap());
    }

    #[test]
    fn written_files_are_sealed_owner_only_and_read_back() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let dir = EncryptedDirectory::new(tmp.path(), Zeroizing::new([1u8; 32]));
        let path = Path::new("seg.term");
        let mut w = dir.open_write(path).unwrap();
        w.write_all(b"plaintext-marker").unwrap();
        w.terminate().unwrap();
        let on_disk = fs::read(tmp.path().join(path)).unwrap();
        assert!(!on_disk.windows(16).any(|w| w == b"plaintext-marker"));
        let mode = fs::metadata(tmp.path().join(path))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        assert!(matches!(
            dir.open_write(path),
            Err(OpenWriteError::FileAlreadyExists(_))
        ));
        // A fresh directory (no cache) decrypts from disk.
        let fresh = EncryptedDirectory::new(tmp.path(), Zeroizing::new([1u8; 32]));
        let bytes = fresh.open_read(path).unwrap().read_bytes().unwrap();
        assert_eq!(bytes.as_slice(), b"plaintext-marker");
        // Another key: an error, remembered as corruption.
        let wrong = EncryptedDirectory::new(tmp.path(), Zeroizing::new([2u8; 32]));
        assert!(wrong.open_read(path).is_err());
        assert!(wrong.saw_corruption());
        // Delete drops the cached copy too.
        dir.delete(path).unwrap();
        assert!(!dir.exists(path).unwrap());
        assert!(matches!(
            dir.open_read(path),
            Err(OpenReadError::FileDoesNotExist(_))
        ));
    }

    #[test]
    fn locks_are_exclusive_and_released_on_drop() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = EncryptedDirectory::new(tmp.path(), Zeroizing::new([1u8; 32]));
        let spec = Lock {
            filepath: PathBuf::from(".lock"),
            is_blocking: false,
        };
        let held = dir.acquire_lock(&spec).unwrap();
        assert!(matches!(dir.acquire_lock(&spec), Err(LockError::LockBusy)));
        drop(held);
        assert!(dir.acquire_lock(&spec).is_ok());
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0, "no lock file");
    }
}
