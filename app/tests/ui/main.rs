//! The headless UI stories against a real Synapse, in one test binary with its own harness.
//!
//! Why one binary that re-runs itself: Slint's testing backend with an event loop is set
//! up once per process (`init_integration_test_with_system_time`), so every story needs a
//! fresh process. They used to be fourteen test files, i.e. fourteen links of Slint and
//! matrix-sdk of a few hundred MB each, and that filled the CI machine's disk. Now there is
//! one link, and this `main` starts the binary again once per story with
//! `KONTOR_UI_STORY=<name>`, so each story still runs alone in its process (the stories
//! set environment variables before any other thread exists; see `settings`).
//!
//! It speaks enough of libtest's command line for everyday use:
//! `cargo test -p kontor --test ui -- lock` runs the stories whose name contains `lock`,
//! `--exact`, `--skip NAME`, `--list` and `--nocapture` work as usual. A story's output is
//! shown only when it fails, unless `--nocapture` is given.
//! A story that hangs is killed after `KONTOR_UI_STORY_TIMEOUT_SECS` (default 600) and fails.

mod support;
// Shared with the CLI tests: reading QR codes back.
#[path = "../qr/mod.rs"]
mod qr;

mod ask_consent;
mod chat;
mod consent;
mod contact_actions;
mod contacts;
mod desktop_notify;
mod discovery_off;
mod file_picker;
mod files;
mod import;
mod import_fidelity;
mod language;
mod link;
mod lock;
mod open;
mod quotes;
mod search;
mod search_sign_in;
mod settings;
mod sign_out;
mod startup;
mod timeline;
mod unlock;
mod verify;

use std::{
    io::{Read, Seek, Write},
    path::Path,
    process::{Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

/// Set in the child process: the name of the one story it runs.
const STORY_VAR: &str = "KONTOR_UI_STORY";

/// Every story, by the name the command line filters on.
const STORIES: &[(&str, fn())] = &[
    (
        "consent::customer_consents_with_the_button",
        consent::customer_consents_with_the_button,
    ),
    (
        "consent::freelancer_asks_and_the_badge_follows_the_answer",
        consent::freelancer_asks_and_the_badge_follows_the_answer,
    ),
    (
        "quotes::write_send_and_track_a_quote",
        quotes::write_send_and_track_a_quote,
    ),
    (
        "ask_consent::ask_in_the_chat_and_the_answer_arrives",
        ask_consent::ask_in_the_chat_and_the_answer_arrives,
    ),
    (
        "search::find_an_old_message_and_jump_to_it",
        search::find_an_old_message_and_jump_to_it,
    ),
    (
        "chat::onboarding_login_send_and_receive",
        chat::onboarding_login_send_and_receive,
    ),
    (
        "contact_actions::start_chat_after_discovery_export_and_erase",
        contact_actions::start_chat_after_discovery_export_and_erase,
    ),
    (
        "contacts::grant_and_withdraw_move_contacts_between_the_books",
        contacts::grant_and_withdraw_move_contacts_between_the_books,
    ),
    (
        "discovery_off::discovery_off_sends_nothing_and_says_so",
        discovery_off::discovery_off_sends_nothing_and_says_so,
    ),
    (
        "language::every_error_kind_reads_german",
        language::every_error_kind_reads_german,
    ),
    (
        "desktop_notify::desktop_notifications_hide_content_by_default",
        desktop_notify::desktop_notifications_hide_content_by_default,
    ),
    (
        "file_picker::picker_browses_filters_picks_and_asks_before_overwriting",
        file_picker::picker_browses_filters_picks_and_asks_before_overwriting,
    ),
    (
        "files::send_quote_cancel_and_save_as_through_the_picker",
        files::send_quote_cancel_and_save_as_through_the_picker,
    ),
    (
        "import::import_wizard_previews_imports_reports_and_cancels",
        import::import_wizard_previews_imports_reports_and_cancels,
    ),
    (
        "import_fidelity::preview_names_region_and_merges_detail_shows_address_and_evidence",
        import_fidelity::preview_names_region_and_merges_detail_shows_address_and_evidence,
    ),
    (
        "language::language_switches_at_run_time",
        language::language_switches_at_run_time,
    ),
    (
        "link::the_business_qr_code_decodes_to_the_link_and_exports",
        link::the_business_qr_code_decodes_to_the_link_and_exports,
    ),
    (
        "lock::notices_hide_content_and_the_idle_lock_hides_everything",
        lock::notices_hide_content_and_the_idle_lock_hides_everything,
    ),
    (
        "open::a_chat_opens_from_the_device_while_the_homeserver_does_not_answer",
        open::a_chat_opens_from_the_device_while_the_homeserver_does_not_answer,
    ),
    (
        "sign_out::sign_out_during_an_upload_leaves_nothing_behind",
        sign_out::sign_out_during_an_upload_leaves_nothing_behind,
    ),
    (
        "search_sign_in::a_new_device_indexes_every_chat_not_only_the_first_window",
        search_sign_in::a_new_device_indexes_every_chat_not_only_the_first_window,
    ),
    (
        "startup::the_chat_list_shows_from_the_device_before_the_homeserver_answers",
        startup::the_chat_list_shows_from_the_device_before_the_homeserver_answers,
    ),
    (
        "settings::settings_persist_across_restarts",
        settings::settings_persist_across_restarts,
    ),
    (
        "timeline::a_long_chat_opens_with_the_newest_page_and_pages_back_on_scroll",
        timeline::a_long_chat_opens_with_the_newest_page_and_pages_back_on_scroll,
    ),
    (
        "unlock::later_starts_ask_only_for_the_passphrase",
        unlock::later_starts_ask_only_for_the_passphrase,
    ),
    (
        "verify::verify_a_second_device_and_set_up_recovery",
        verify::verify_a_second_device_and_set_up_recovery,
    ),
];

/// How a story ended.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Verdict {
    Passed,
    Failed,
    TimedOut,
}

/// The longest a story may run before it is killed: every wait inside a story has its own
/// timeout, so this only catches a hang the story cannot see (a deadlock on the UI
/// thread), which would otherwise hold CI until its own limit. Default 10 minutes;
/// `KONTOR_UI_STORY_TIMEOUT_SECS` changes it.
fn story_limit() -> Duration {
    let secs = std::env::var("KONTOR_UI_STORY_TIMEOUT_SECS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(600);
    Duration::from_secs(secs)
}

/// Runs one story in a fresh process of this binary. Its output goes to a temporary file
/// (not a pipe, which a chatty story could fill while nobody reads it) and is returned
/// for the failure report, unless `nocapture` lets it through as it comes.
fn run_one(
    exe: &Path,
    name: &str,
    nocapture: bool,
    limit: Duration,
) -> std::io::Result<(Verdict, Vec<u8>)> {
    let mut cmd = Command::new(exe);
    cmd.env(STORY_VAR, name).stdin(Stdio::null());
    let mut log = None;
    if !nocapture {
        let file = tempfile::tempfile()?;
        cmd.stdout(file.try_clone()?).stderr(file.try_clone()?);
        log = Some(file);
    }
    let mut child = cmd.spawn()?;
    let deadline = Instant::now() + limit;
    let verdict = loop {
        if let Some(status) = child.try_wait()? {
            break if status.success() {
                Verdict::Passed
            } else {
                Verdict::Failed
            };
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            break Verdict::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut output = Vec::new();
    if let Some(mut file) = log {
        file.rewind()?;
        file.read_to_end(&mut output)?;
    }
    Ok((verdict, output))
}

/// What the command line asked for.
#[derive(Debug, Default, PartialEq)]
struct Options {
    filters: Vec<String>,
    skips: Vec<String>,
    exact: bool,
    list: bool,
    nocapture: bool,
}

impl Options {
    /// Reads libtest-style arguments; flags this harness has no use for (`--test-threads 2`,
    /// `--color always`, `-q`, ...) are accepted and ignored so `cargo test -- ...` lines
    /// written for the other test binaries work here too.
    fn parse(args: impl IntoIterator<Item = String>) -> Options {
        const WITH_VALUE: &[&str] = &["--test-threads", "--color", "--format", "--logfile", "-Z"];
        let mut o = Options::default();
        let mut args = args.into_iter();
        while let Some(a) = args.next() {
            match a.as_str() {
                "--exact" => o.exact = true,
                "--list" => o.list = true,
                "--nocapture" | "--no-capture" => o.nocapture = true,
                "--skip" => o.skips.extend(args.next()),
                flag if WITH_VALUE.contains(&flag) => {
                    args.next();
                }
                flag if flag.starts_with('-') => {}
                filter => o.filters.push(filter.to_owned()),
            }
        }
        o
    }

    fn selects(&self, name: &str) -> bool {
        let hit = |f: &String| {
            if self.exact {
                name == f
            } else {
                name.contains(f.as_str())
            }
        };
        (self.filters.is_empty() || self.filters.iter().any(hit)) && !self.skips.iter().any(hit)
    }
}

fn main() -> ExitCode {
    if let Ok(name) = std::env::var(STORY_VAR) {
        let Some((_, story)) = STORIES.iter().find(|(n, _)| *n == name) else {
            eprintln!("no UI story is called {name:?}");
            return ExitCode::from(2);
        };
        // A failing story panics; the panic ends this process with exit code 101.
        story();
        return ExitCode::SUCCESS;
    }

    let options = Options::parse(std::env::args().skip(1));
    let chosen: Vec<&str> = STORIES
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| options.selects(n))
        .collect();
    if options.list {
        for name in &chosen {
            println!("{name}: test");
        }
        return ExitCode::SUCCESS;
    }

    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this test binary to run the stories: {e}");
            return ExitCode::FAILURE;
        }
    };
    let limit = story_limit();
    println!("\nrunning {} tests", chosen.len());
    let started = Instant::now();
    let mut failed = Vec::new();
    for name in &chosen {
        let t = Instant::now();
        let (verdict, output) = match run_one(&exe, name, options.nocapture, limit) {
            Ok(result) => result,
            Err(e) => (
                Verdict::Failed,
                format!("cannot run the story: {e}\n").into_bytes(),
            ),
        };
        let secs = t.elapsed().as_secs_f64();
        match verdict {
            Verdict::Passed => println!("test {name} ... ok ({secs:.1} s)"),
            Verdict::Failed => println!("test {name} ... FAILED ({secs:.1} s)"),
            Verdict::TimedOut => println!(
                "test {name} ... FAILED: killed after {} s (KONTOR_UI_STORY_TIMEOUT_SECS)",
                limit.as_secs()
            ),
        }
        if verdict != Verdict::Passed {
            failed.push((*name, output));
        }
    }

    if !failed.is_empty() {
        println!("\nfailures:");
        for (name, output) in &failed {
            println!("\n---- {name} output ----");
            // Best effort: a closed stdout must not hide the summary's exit code.
            let _ = std::io::stdout().write_all(output);
        }
        println!("\nfailures:");
        for (name, _) in &failed {
            println!("    {name}");
        }
    }
    let result = if failed.is_empty() { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {result}. {} passed; {} failed; finished in {:.1} s\n",
        chosen.len() - failed.len(),
        failed.len(),
        started.elapsed().as_secs_f64()
    );
    if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}
