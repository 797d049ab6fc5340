//! kontor-testkit: a real Matrix homeserver on loopback for tests, benchmarks and demos.
//!
//! [`Synapse::start`] installs Synapse from PyPI into a venv under `target/` on first use
//! (guarded by a file lock, so parallel test binaries don't race the install), writes a
//! fresh config on free ports, starts it in its own process group and waits until it
//! answers. Dropping the handle kills the whole group, also while a test panics; a
//! watchdog in the launcher kills Synapse too if the test process dies without running
//! destructors. Data and logs of a run are deleted when it ends well and kept (path
//! printed) when it panicked.
//!
//! No mock anywhere: tests using this talk to the same Synapse a self-hosting freelancer
//! would run.
#![deny(missing_docs)]

mod synapse;
mod venv;

pub use synapse::{Synapse, TestUser};
pub use venv::{SYNAPSE_VERSION, ensure_venv, target_dir};

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Installing Synapse into the venv failed.
    #[error("installing {what} failed: {detail}")]
    Install {
        /// What was being installed.
        what: String,
        /// pip's output or the I/O error.
        detail: String,
    },
    /// Synapse did not come up.
    #[error("synapse did not start: {0}")]
    Start(String),
    /// Talking to Synapse failed.
    #[error("synapse request failed: {0}")]
    Http(String),
    /// File system trouble.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Result with the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
