//! What every sled store on the device shares (the contact books, the quotes).
//!
//! Both stores hold data as private as messages, so both keep their files owner-only
//! and both must survive being closed and opened again in quick succession (lock and
//! unlock, a restart). Keeping these rules in one place keeps the stores alike.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

/// How long [`open`] waits for the database's file lock.
pub const LOCK_WAIT: Duration = Duration::from_secs(3);

/// A file or directory whose permissions could not be read or set.
#[derive(Debug, thiserror::Error)]
#[error("cannot restrict {}: {source}", path.display())]
pub struct RestrictError {
    /// The file or directory.
    pub path: PathBuf,
    /// What the file system said.
    #[source]
    pub source: io::Error,
}

/// Opens a sled database, waiting up to [`LOCK_WAIT`] for its file lock.
///
/// Why: sled's background threads keep the lock for a moment after the previous `Db`
/// of the same directory was dropped (sled's own `config.rs` says so and blocks in its
/// tests). Without the wait, a reopen right after a close (the app's lock and unlock,
/// a restart in a test) fails now and then with "could not acquire lock". A second
/// process that really holds the store still gets that error, after the wait.
pub fn open(config: &sled::Config) -> sled::Result<sled::Db> {
    let deadline = Instant::now() + LOCK_WAIT;
    loop {
        match config.open() {
            Err(sled::Error::Io(e)) if is_lock_error(&e) && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(20));
            }
            other => return other,
        }
    }
}

/// sled reports a held lock only as an `Other` I/O error with this text.
fn is_lock_error(e: &io::Error) -> bool {
    e.to_string().contains("could not acquire lock")
}

/// Sets 0700 on `path` and every directory below it, and 0600 on every file.
///
/// Why: sled creates its files with the process's umask, usually 0644; the sealed
/// values are encrypted, but which entries exist and how large they are is nobody
/// else's business on a shared machine.
pub fn restrict(path: &Path) -> Result<(), RestrictError> {
    let err = |source| RestrictError {
        path: path.to_owned(),
        source,
    };
    let meta = fs::symlink_metadata(path).map_err(err)?;
    if meta.is_dir() {
        fs::set_permissions(path, fs::Permissions::from_mode(0o700)).map_err(err)?;
        for entry in fs::read_dir(path).map_err(err)? {
            restrict(&entry.map_err(err)?.path())?;
        }
    } else if meta.is_file() && meta.permissions().mode() & 0o777 != 0o600 {
        fs::set_permissions(path, fs::Permissions::from_mode(0o600)).map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Closing and opening again at once, many times: the wait absorbs sled's
    /// lingering lock (with a plain `config.open()`, 2 of 5 runs failed here).
    #[test]
    fn reopening_at_once_never_fails_on_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let config = sled::Config::new().path(dir.path()).flush_every_ms(None);
        for round in 0..200u32 {
            let db = open(&config).unwrap_or_else(|e| panic!("round {round}: {e}"));
            db.insert(b"round", &round.to_be_bytes()).unwrap();
            db.flush().unwrap();
        }
        let db = open(&config).unwrap();
        assert_eq!(
            db.get(b"round").unwrap().unwrap().as_ref(),
            199u32.to_be_bytes()
        );
    }

    /// A database held open in this process is refused after the wait, with sled's
    /// error, not opened twice.
    #[test]
    fn a_database_held_open_is_refused_after_the_wait() {
        let dir = tempfile::tempdir().unwrap();
        let config = sled::Config::new().path(dir.path()).flush_every_ms(None);
        let _held = open(&config).unwrap();
        let started = Instant::now();
        let err = open(&config).unwrap_err();
        assert!(
            matches!(&err, sled::Error::Io(e) if is_lock_error(e)),
            "{err:?}"
        );
        assert!(started.elapsed() >= LOCK_WAIT);
    }

    #[test]
    fn restrict_makes_files_and_directories_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        fs::create_dir(&sub).unwrap();
        fs::set_permissions(&sub, fs::Permissions::from_mode(0o755)).unwrap();
        let file = sub.join("db");
        fs::write(&file, b"x").unwrap();
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
        restrict(dir.path()).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&sub), 0o700);
        assert_eq!(mode(&file), 0o600);
        let missing = restrict(&dir.path().join("gone")).unwrap_err();
        assert!(missing.to_string().contains("gone"));
    }
}
