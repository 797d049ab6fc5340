//! The raw key/value layer under each book: a [`ContactStore`] trait, the sled
//! implementation used on disk and an in-memory one for unit tests.
//!
//! The layer knows nothing about contacts or keys: it stores opaque bytes
//! (sealed records, keyed hashes, undo logs) and applies a list of writes
//! atomically and durably. Everything above it is testable without a disk,
//! and the on-disk guarantees (file modes, flush before return) live here.

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{Error, Result};
use crate::model::Book;

/// One write in an atomic batch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// Insert or replace a value.
    Put(Vec<u8>, Vec<u8>),
    /// Remove a key (no error if absent).
    Del(Vec<u8>),
}

impl Op {
    /// The key this op writes.
    pub fn key(&self) -> &[u8] {
        match self {
            Op::Put(k, _) | Op::Del(k) => k,
        }
    }
}

/// A byte-oriented store: what each book needs from a database.
pub trait ContactStore: Send + Sync {
    /// Reads one key.
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>>;
    /// All entries whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>>;
    /// Applies all ops atomically; when it returns `Ok` they are durable.
    fn apply(&self, ops: Vec<Op>) -> Result<()>;
    /// Whether any key starts with `prefix`.
    fn has_prefix(&self, prefix: &[u8]) -> Result<bool> {
        Ok(!self.scan_prefix(prefix)?.is_empty())
    }
}

impl<T: ContactStore + ?Sized> ContactStore for std::sync::Arc<T> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        (**self).get(key)
    }
    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        (**self).scan_prefix(prefix)
    }
    fn apply(&self, ops: Vec<Op>) -> Result<()> {
        (**self).apply(ops)
    }
    fn has_prefix(&self, prefix: &[u8]) -> Result<bool> {
        (**self).has_prefix(prefix)
    }
}

/// The on-disk store: one sled database in its own directory (mode 0700, files 0600).
pub struct SledStore {
    book: Book,
    path: PathBuf,
    db: sled::Db,
}

impl SledStore {
    /// Opens (or creates) the database in `path`.
    pub fn open(book: Book, path: &Path) -> Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|e| Error::io(path, e))?;
        let config = sled::Config::new()
            .path(path)
            // sled's default cache is 1 GiB; a contact book needs far less.
            .cache_capacity(32 * 1024 * 1024)
            // Every `apply` flushes itself; no background flusher needed.
            .flush_every_ms(None)
            .mode(sled::Mode::HighThroughput);
        let db = kontor_storage::open(&config).map_err(|e| Error::StoreCorrupt {
            book,
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
        let store = SledStore {
            book,
            path: path.to_owned(),
            db,
        };
        store.restrict_permissions()?;
        Ok(store)
    }

    /// Sets 0700 on directories and 0600 on files under the store directory.
    pub fn restrict_permissions(&self) -> Result<()> {
        restrict(&self.path)
    }

    fn db_err(&self, source: sled::Error) -> Error {
        Error::Database {
            book: self.book,
            source,
        }
    }
}

fn restrict(path: &Path) -> Result<()> {
    kontor_storage::restrict(path).map_err(|e| Error::io(e.path, e.source))
}

impl ContactStore for SledStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self
            .db
            .get(key)
            .map_err(|e| self.db_err(e))?
            .map(|v| v.to_vec()))
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        self.db
            .scan_prefix(prefix)
            .map(|r| {
                r.map(|(k, v)| (k.to_vec(), v.to_vec()))
                    .map_err(|e| self.db_err(e))
            })
            .collect()
    }

    fn has_prefix(&self, prefix: &[u8]) -> Result<bool> {
        Ok(self
            .db
            .scan_prefix(prefix)
            .next()
            .transpose()
            .map_err(|e| self.db_err(e))?
            .is_some())
    }

    fn apply(&self, ops: Vec<Op>) -> Result<()> {
        let mut batch = sled::Batch::default();
        for op in ops {
            match op {
                Op::Put(k, v) => batch.insert(k, v),
                Op::Del(k) => batch.remove(k),
            }
        }
        self.db.apply_batch(batch).map_err(|e| self.db_err(e))?;
        self.db.flush().map_err(|e| self.db_err(e))?;
        Ok(())
    }
}

impl Drop for SledStore {
    fn drop(&mut self) {
        let _ = self.db.flush();
        // Files sled created since opening get 0600 too (the directory is 0700 anyway).
        let _ = self.restrict_permissions();
    }
}

/// An in-memory store for unit tests; can simulate a crash after N writes.
#[derive(Default)]
pub struct MemoryStore {
    inner: Mutex<MemoryInner>,
}

#[derive(Default)]
struct MemoryInner {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    /// `Some(n)`: the next `n` applies succeed, later ones fail as a crash would.
    writes_left: Option<usize>,
}

impl MemoryStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// After `n` more successful `apply` calls, every further one fails (a simulated crash).
    pub fn crash_after(&self, n: usize) {
        self.lock().writes_left = Some(n);
    }

    /// Ends a simulated crash: writes succeed again (as after a restart).
    pub fn restart(&self) {
        self.lock().writes_left = None;
    }

    /// A copy of every entry (for tests that compare states).
    pub fn snapshot(&self) -> BTreeMap<Vec<u8>, Vec<u8>> {
        self.lock().map.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, MemoryInner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl ContactStore for MemoryStore {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.lock().map.get(key).cloned())
    }

    fn scan_prefix(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        Ok(self
            .lock()
            .map
            .range(prefix.to_vec()..)
            .take_while(|(k, _)| k.starts_with(prefix))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn apply(&self, ops: Vec<Op>) -> Result<()> {
        let mut inner = self.lock();
        if let Some(left) = inner.writes_left.as_mut() {
            if *left == 0 {
                return Err(Error::io(
                    "<memory>",
                    std::io::Error::other("simulated crash"),
                ));
            }
            *left -= 1;
        }
        for op in ops {
            match op {
                Op::Put(k, v) => inner.map.insert(k, v),
                Op::Del(k) => inner.map.remove(&k),
            };
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn exercise(s: &dyn ContactStore) {
        s.apply(vec![
            Op::Put(b"r/1".to_vec(), b"a".to_vec()),
            Op::Put(b"r/2".to_vec(), b"b".to_vec()),
        ])
        .unwrap();
        s.apply(vec![
            Op::Put(b"i/1".to_vec(), b"x".to_vec()),
            Op::Del(b"r/1".to_vec()),
        ])
        .unwrap();
        assert_eq!(s.get(b"r/1").unwrap(), None);
        assert_eq!(s.get(b"r/2").unwrap(), Some(b"b".to_vec()));
        let r = s.scan_prefix(b"r/").unwrap();
        assert_eq!(r, vec![(b"r/2".to_vec(), b"b".to_vec())]);
    }

    #[test]
    fn memory_store_basics_and_crash() {
        let m = MemoryStore::new();
        exercise(&m);
        m.crash_after(0);
        assert!(m.apply(vec![Op::Del(b"r/2".to_vec())]).is_err());
        assert!(m.get(b"r/2").unwrap().is_some());
    }

    #[test]
    fn sled_store_basics_and_modes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("work");
        {
            let s = SledStore::open(Book::Work, &path).unwrap();
            exercise(&s);
        }
        let s = SledStore::open(Book::Work, &path).unwrap();
        assert_eq!(s.get(b"r/2").unwrap(), Some(b"b".to_vec()));
        drop(s);
        let mode = fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        for e in fs::read_dir(&path).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                assert_eq!(
                    e.metadata().unwrap().permissions().mode() & 0o777,
                    0o600,
                    "{:?}",
                    e.path()
                );
            }
        }
    }
}
