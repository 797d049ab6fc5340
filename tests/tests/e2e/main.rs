//! End-to-end suites against a real Synapse on loopback (one per test, started by
//! kontor-testkit). One binary, one module per area (ripgrep's layout).

mod common;
mod discovery;
mod files;
mod messaging;
mod offline;
mod profile;
mod quotes;
mod security;
mod sync;
mod timeline;
