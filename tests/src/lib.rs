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
//! [`Sydent::start`] does the same for the identity server (its own venv), and puts a
//! [`RecordingProxy`] in front of its client API, so a test can assert exactly which
//! requests and bodies reached it.
//!
//! No mock anywhere: tests using this talk to the same Synapse and Sydent a self-hosting
//! freelancer would run.
#![deny(missing_docs)]

mod process;
mod proxy;
mod sydent;
mod synapse;
mod venv;

pub use proxy::{Fault, Recorded, RecordingProxy};
pub use sydent::Sydent;
pub use synapse::{Synapse, TestUser};
pub use venv::{SYDENT_VERSION, SYNAPSE_VERSION, ensure_sydent_venv, ensure_venv, target_dir};

/// Errors of the harness.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Installing Synapse or Sydent into a venv failed.
    #[error("installing {what} failed: {detail}")]
    Install {
        /// What was being installed.
        what: String,
        /// pip's output or the I/O error.
        detail: String,
    },
    /// Synapse or Sydent did not come up.
    #[error("server did not start: {0}")]
    Start(String),
    /// Talking to Synapse or Sydent failed.
    #[error("request failed: {0}")]
    Http(String),
    /// File system trouble.
    #[error("{0}: {1}")]
    Io(String, std::io::Error),
}

/// Result with the harness's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
