//! `kontor`: the command-line client of Kontor. See README-CLI.md for the reference.
//!
//! This file only wires things up: parse (usage errors exit 2 with one line), set up
//! logging to stderr, run the command on a tokio runtime, and turn an error into the one
//! `kontor: error: …` line and its documented exit code.

mod cli;
mod commands;
mod exit;
mod input;
mod output;

use std::{process::ExitCode, time::Duration};

use clap::Parser;

fn main() -> ExitCode {
    kontor::memory::limit_malloc_arenas();
    let cli = match cli::Cli::try_parse() {
        Ok(c) => c,
        Err(e) => return exit::clap_error(e),
    };
    init_logging();
    if cli.command.is_none() {
        return run_ui(cli.data_dir);
    }
    #[cfg(feature = "demo")]
    if matches!(cli.command, Some(cli::Command::Demo)) {
        return match kontor::demo::run() {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => exit::report(&e.into()),
        };
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => return exit::report(&anyhow::Error::from(e).context("cannot start")),
    };
    let result = runtime.block_on(commands::run(cli));
    // Give store writes in flight a moment; never hang on them.
    runtime.shutdown_timeout(Duration::from_secs(2));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e),
    }
}

/// `kontor` without a subcommand: the window (onboarding on a fresh data directory,
/// else unlock), on the same profile the CLI uses.
fn run_ui(data_dir: Option<std::path::PathBuf>) -> ExitCode {
    let data_dir = match data_dir.map_or_else(commands::default_data_dir, Ok) {
        Ok(d) => d,
        Err(e) => return exit::report(&e),
    };
    let config = kontor::ui::Config {
        data_dir,
        // Tests only; the UI honours it in debug builds only, like the CLI.
        insecure_fast_kdf: std::env::var_os("KONTOR_INSECURE_FAST_KDF").is_some_and(|v| v == "1"),
        language: None,
        download_dir: None,
        desktop_bus: kontor::ui::DesktopBus::Session,
    };
    match kontor::ui::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => exit::report(&e.into()),
    }
}

/// Logs go to stderr only (stdout belongs to results), at `warn` unless RUST_LOG says
/// otherwise. Neither Kontor nor the SDK logs message bodies or secrets at any level.
///
/// matrix-sdk's HTTP client logs every failed request at ERROR, including the 404s it
/// expects while probing for secret storage and key backup on each start, and its
/// recovery task logs an ERROR on every offline start; those lines would bury the one
/// `kontor: error:` line, so both targets are off unless RUST_LOG asks (failures that
/// matter reach Kontor as errors anyway). So is its latest-event tracker, which with
/// sliding sync logs "Room is unknown" at ERROR for every chat whose keys or events come
/// before the chat's window does (a new device: one line per chat; Kontor's chat list
/// computes its own previews).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new(
            "warn,matrix_sdk::http_client=off,matrix_sdk::encryption::recovery=off,\
             matrix_sdk::latest_events=off",
        )
    });
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_target(false)
        .init();
}
