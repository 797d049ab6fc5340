//! `kontor contacts …` driven like a script drives it: arguments, environment, stdin,
//! stdout, stderr and the exit code, without a terminal.
//!
//! Only `discover::discover_with_an_unreachable_identity_server_exits_5` needs a
//! homeserver (discovery needs a login); the rest run the binary against a temp data
//! directory. KONTOR_INSECURE_FAST_KDF=1 (honoured by debug builds only) keeps the
//! Argon2id of each new store to milliseconds.
//!
//! One test binary (`cargo test -p kontor --test contacts_cli`), one module per topic;
//! `support` holds the fixture file and the runner.

mod consent;
mod discover;
mod guards;
mod import;
mod proof;
mod rights;
mod support;
