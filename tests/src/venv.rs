//! The Python venv with Synapse, installed once under `target/` and reused.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use fs4::fs_std::FileExt;

use crate::{Error, Result};

/// The pinned Synapse release (see `../shared/notes/homeserver.md` for why this one).
pub const SYNAPSE_VERSION: &str = "1.163.2";

/// The Cargo target directory (honours `CARGO_TARGET_DIR`).
pub fn target_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("target")
}

/// The pinned Sydent release; the `prometheus` extra is needed because Sydent imports
/// `prometheus_client` at start even when metrics are off.
pub const SYDENT_VERSION: &str = "2.6.1";

/// Returns the venv's directory, installing Synapse into it first if needed.
///
/// Several test binaries start at once under `cargo test`; an exclusive lock on
/// `kontor-venv.lock` makes the first one install and the others wait and reuse.
pub fn ensure_venv() -> Result<PathBuf> {
    ensure(
        "kontor-venv",
        &format!("matrix-synapse=={SYNAPSE_VERSION}"),
        &format!("synapse-{SYNAPSE_VERSION}"),
    )
}

/// Returns the directory of the identity server's venv (`target/kontor-sydent-venv`),
/// installing Sydent into it first if needed, under its own lock like [`ensure_venv`].
///
/// A venv of its own because Sydent and Synapse pin overlapping libraries (Twisted,
/// signedjson, …) independently; one venv would tie their upgrades together.
pub fn ensure_sydent_venv() -> Result<PathBuf> {
    ensure(
        "kontor-sydent-venv",
        &format!("matrix-sydent[prometheus]=={SYDENT_VERSION}"),
        &format!("sydent-{SYDENT_VERSION}"),
    )
}

fn ensure(name: &str, requirement: &str, tag: &str) -> Result<PathBuf> {
    let target = target_dir();
    fs::create_dir_all(&target).map_err(|e| Error::Io(target.display().to_string(), e))?;
    let venv = target.join(name);
    let marker = venv.join(format!(".installed-{tag}"));
    if marker.exists() {
        return Ok(venv);
    }
    let lock_path = target.join(format!("{name}.lock"));
    let lock = fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .map_err(|e| Error::Io(lock_path.display().to_string(), e))?;
    lock.lock_exclusive()
        .map_err(|e| Error::Io(lock_path.display().to_string(), e))?;
    if marker.exists() {
        return Ok(venv);
    }
    eprintln!(
        "kontor-testkit: installing {requirement} into {}",
        venv.display()
    );
    let python = std::env::var("KONTOR_PYTHON").unwrap_or_else(|_| "python3".into());
    run(
        Command::new(&python)
            .args(["-m", "venv", "--clear"])
            .arg(&venv),
        "python venv",
    )?;
    run(
        Command::new(venv.join("bin/pip")).args([
            "install",
            "--quiet",
            "--disable-pip-version-check",
            requirement,
        ]),
        requirement,
    )?;
    fs::write(&marker, b"ok").map_err(|e| Error::Io(marker.display().to_string(), e))?;
    Ok(venv)
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().map_err(|e| Error::Install {
        what: what.into(),
        detail: e.to_string(),
    })?;
    if !out.status.success() {
        return Err(Error::Install {
            what: what.into(),
            detail: format!(
                "{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        });
    }
    Ok(())
}
