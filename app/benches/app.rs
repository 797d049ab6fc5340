//! The app benchmark (issues 4 and 15): the Slint UI and the command line against a seeded
//! account, and the peer iamb.
//!
//! Run: `cargo bench -p kontor --bench app` (release). Needs `Xvfb` and `python3` (for
//! iamb's pty); installs iamb into `target/iamb` on first use (`cargo install`, several
//! minutes) and prints "peer skipped" if that fails. Prints one table; the figures go into
//! BENCHMARKS.md. Options: `--cold-runs N` (default 10), `--open-runs N` (default 6),
//! `--no-peer`.
//!
//! What it does, in one run against one Synapse (kontor-testkit):
//! 1. Seeds "anna": 100 encrypted DMs with distinct customers; in one of them anna and the
//!    customer exchange 10,000 messages (both sides at once, each one at a time: concurrent
//!    sends into one room crash matrix-sdk-crypto 0.18 at the session rotation). Seeding runs
//!    in a child process and is timed; nothing is cached between runs, so every figure
//!    comes from a fresh server and a fresh store.
//! 2. Cold start: the release `kontor` binary on anna's profile under Xvfb, with
//!    `KONTOR_EXIT_AFTER_FIRST_FRAME` (see `ui::exit_after_first_frame`): time from spawn to
//!    the first presented frame and to the first frame showing the unlock screen.
//! 3. The UI logged in as anna, in a child process of this binary (so its RSS is its own),
//!    built exactly like `kontor` builds it after unlock (`App::with_session`), twice:
//!    `restore` = the seeding device restarted (has every room key and every chat in its
//!    store), `fresh` = a new device's first login (the same situation as the peer's).
//!    The Argon2id unlock (restore) or profile creation (fresh) is timed on its own; then
//!    the first presented frames whose chat list has 20 rows (the first sliding-sync
//!    window) and 100 rows are timed, from the child's start and from the start of
//!    `Kontor::restore` / `Kontor::login`. It waits for the sync to be online, reads
//!    VmRSS/VmHWM 3 s later (the search index's backfill, which starts after sign-in, is
//!    then usually still running) and again when the backfill is done (the steady state;
//!    at most 240 s), each with where the memory is (`measure::rss_breakdown`), then
//!    opens the 10k chat through the chat list's `open` callback and
//!    times until the first page is in the model and until the frame showing it was
//!    presented; then reopens it a few times.
//! 4. The command line: a profile with the minimal Argon2id cost (created by the bench;
//!    the release binary ignores `KONTOR_INSECURE_FAST_KDF`), `kontor login` as a new
//!    device of anna's, then `kontor sync` (its first sync after the login: every chat)
//!    and `kontor send` to a customer, each timed from spawn to exit.
//! 5. The peer: iamb 0.0.12 (matrix-sdk, a TUI) logs in to the same account as a new
//!    device through a pty; its first sync is done when Synapse logs the answer to its
//!    `/sync` without a `since` token, then the bench waits until its background
//!    `/messages` requests stop (3 s without one) and reads its RSS.
//!
//! The steps live in modules beside this file (`app/`): `seed`, `ui` (cold start and the
//! UI child), `iamb` (the peer), `xvfb`, and `measure` (statistics, `/proc` readings).
//! This file parses the options, runs the steps and prints the table.

#[path = "app/iamb.rs"]
mod iamb;
#[path = "app/measure.rs"]
mod measure;
#[path = "app/seed.rs"]
mod seed;
#[path = "app/ui.rs"]
mod ui;
#[path = "app/xvfb.rs"]
mod xvfb;

use std::{
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Command, Stdio},
    time::Instant,
};

use kontor_testkit::Synapse;

use iamb::{ensure_iamb, run_iamb};
use measure::{load_average, median, min, verdict};
use seed::seed_child;
use ui::{cli_profile, cold_start, kontor_cli, real_binary, ui_child};
use xvfb::Xvfb;

/// The profile passphrase; anna's profile uses the real Argon2id cost (64 MiB), like a user's.
const PASS: &str = "bench passphrase";
const ANNA: &str = "anna";
const ANNA_PW: &str = "anna-bench-password";
const CUSTOMER_PW: &str = "kunde-bench-password";
const CHATS: usize = 100;
const BIG: usize = 10_000;
/// Requests in flight per sender while seeding.
const IN_FLIGHT: usize = 8;
const IAMB_VERSION: &str = "0.0.12";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    if args.first().map(String::as_str) == Some("child") {
        match args.get(1).map(String::as_str) {
            Some("seed") => seed_child(),
            Some("ui") => ui_child(args.get(2).map_or("restore", String::as_str)),
            other => panic!("unknown child {other:?}"),
        }
        return;
    }
    let opt = |name: &str, default: usize| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    orchestrate(
        opt("--cold-runs", 10),
        opt("--open-runs", 6),
        !args.iter().any(|a| a == "--no-peer"),
    );
}

/// What the children need to know, passed through the environment.
struct Env {
    hs: String,
    server_name: String,
    dir: PathBuf,
}

impl Env {
    fn apply(&self, cmd: &mut Command) {
        cmd.env("KB_HS", &self.hs)
            .env("KB_SERVER", &self.server_name)
            .env("KB_DIR", &self.dir);
    }

    fn from_env() -> Env {
        let get = |k: &str| std::env::var(k).unwrap_or_else(|_| panic!("{k} not set"));
        Env {
            hs: get("KB_HS"),
            server_name: get("KB_SERVER"),
            dir: PathBuf::from(get("KB_DIR")),
        }
    }

    fn anna_data(&self) -> PathBuf {
        self.dir.join("anna")
    }
}

fn customer(i: usize) -> String {
    format!("kunde-{i:03}")
}

fn orchestrate(cold_runs: usize, open_runs: usize, peer: bool) {
    println!(
        "kontor app benchmark ({} cores, load average {})",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        load_average()
    );
    // The peer's install is the long pole on a fresh clone: build it while seeding.
    let iamb_install = peer.then(|| std::thread::spawn(ensure_iamb));
    let xvfb = Xvfb::start();
    let hs = Synapse::start().expect("synapse");
    let work = tempfile::tempdir().expect("temp dir");
    let env = Env {
        hs: hs.base_url.clone(),
        server_name: hs.server_name.clone(),
        dir: work.path().to_path_buf(),
    };
    let t = Instant::now();
    hs.register(ANNA, ANNA_PW).expect("register anna");
    for i in 0..CHATS {
        hs.register(&customer(i), CUSTOMER_PW)
            .expect("register customer");
    }
    println!(
        "setup    registered anna and {CHATS} customers in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    // 1. Seed.
    let seeded = run_child(&env, &["seed"], None);
    let room = seeded.get("room").expect("seed prints the room").clone();
    for k in ["rooms_s", "big_s", "big_rate", "total_s"] {
        seeded.get(k).expect("seed figures");
    }
    println!(
        "seed     {CHATS} encrypted DMs + {BIG} messages in one: {} s in all ({} s for the {BIG} messages, {} msg/s)",
        seeded["total_s"], seeded["big_s"], seeded["big_rate"]
    );

    // 2. Cold start of the binary.
    let mut first = Vec::new();
    let mut screen = Vec::new();
    for _ in 0..cold_runs {
        if let Some((f, s)) = cold_start(&env.anna_data(), &xvfb.display) {
            first.push(f);
            screen.push(s);
        }
    }
    let cold = (!first.is_empty()).then(|| {
        let line = format!(
            "cold start to first frame: best {:.0} ms, median {:.0} ms, first run {:.0} ms; to the unlock screen: best {:.0} ms, median {:.0} ms ({} runs)",
            min(&first),
            median(&first),
            first[0],
            min(&screen),
            median(&screen),
            first.len()
        );
        println!("cold     {line}");
        (min(&first), median(&first))
    });

    // 3. The UI, restored and fresh. A copy of the restored device's data goes to the
    // shipped binary (3b), so it starts where the child starts.
    let real_dir = env.dir.join("anna-kontor");
    let copied = Command::new("cp")
        .arg("-a")
        .arg(env.anna_data())
        .arg(&real_dir)
        .status()
        .is_ok_and(|s| s.success());
    assert!(copied, "copy anna's data for the kontor binary");
    let mut ui = Vec::new();
    for mode in ["restore", "fresh"] {
        let r = run_child(&env, &["ui", mode], Some((&xvfb.display, &room, open_runs)));
        println!(
            "ui {mode:<7} chat list filled {} s after start (sync + {} chats); RSS after sync {} MiB (peak {}); opening the 10k chat: first {} ms to the model ({} messages) / {} ms to the frame, reopen median {} ms (best {}); RSS with it open {} MiB (peak {})",
            r["list_s"],
            r["chats"],
            r["rss_sync"],
            r["hwm_sync"],
            r["open_model_ms"],
            r["open_first_rows"],
            r["open_frame_ms"],
            r["reopen_median_ms"],
            r["reopen_best_ms"],
            r["rss_open"],
            r["hwm_open"]
        );
        println!("ui {mode:<7} RSS after sync: {}", r["mem_sync"]);
        println!(
            "ui {mode:<7} search backfill {}; RSS then {} MiB (peak {}): {}",
            r["backfill"], r["rss_settled"], r["hwm_settled"], r["mem_settled"]
        );
        println!("ui {mode:<7} RSS with the 10k chat open: {}", r["mem_open"]);
        println!(
            "ui {mode:<7} Argon2id {} ms, {} {} ms; chat list frame with ≥20 rows {} ms / ≥{CHATS} rows {} ms after start, {} / {} ms after the {} began (model {} / {} ms); first list frame {} rows",
            r["kdf_ms"],
            if mode == "fresh" { "login" } else { "restore" },
            r["session_ms"],
            r["window_frame_ms"],
            r["all_frame_ms"],
            r["window_frame_session_ms"],
            r["all_frame_session_ms"],
            if mode == "fresh" { "login" } else { "restore" },
            r["window_model_session_ms"],
            r["all_model_session_ms"],
            r["first_rows"]
        );
        ui.push((mode, r));
    }

    // 3b. The shipped binary, restored, through the same path by its bench hook.
    let real = real_binary(&real_dir, &xvfb.display, &room);
    match &real {
        Some((settled, open, counts)) => {
            println!(
                "kontor   restore (the kontor binary, driven): {counts}; RSS after the search run {:.1} MiB (peak {:.1}): {}",
                settled.rss, settled.hwm, settled.breakdown
            );
            println!(
                "kontor   restore (the kontor binary, driven): RSS with the 10k chat open {:.1} MiB (peak {:.1}): {}",
                open.rss, open.hwm, open.breakdown
            );
        }
        None => println!("kontor   restore (the kontor binary, driven): did not finish"),
    }

    // 4. The command line, on a profile of its own (a new device of anna's).
    let cli_dir = env.dir.join("cli");
    cli_profile(&cli_dir);
    let login = kontor_cli(
        &cli_dir,
        &["login", "--homeserver", &env.hs, "--user", ANNA],
    );
    let sync = kontor_cli(&cli_dir, &["sync"]);
    println!(
        "cli      kontor login {:.0} ms; kontor sync (first sync after the login, {CHATS} chats) {:.0} ms",
        login.ms, sync.ms
    );
    let to = format!("@{}:{}", customer(1), env.server_name);
    let mut sends = Vec::new();
    for i in 0..open_runs.max(1) {
        let r = kontor_cli(&cli_dir, &["send", &to, &format!("Bench {i}: Ihr Angebot")]);
        let sent = r.stdout.contains(r#""state":"sent""#);
        println!(
            "cli      kontor send #{} {:.0} ms ({})",
            i + 1,
            r.ms,
            if sent { "sent" } else { r.stdout.as_str() }
        );
        sends.push((r.ms, sent));
    }
    let send_ms: Vec<f64> = sends.iter().map(|s| s.0).collect();
    let all_sent = sends.iter().all(|s| s.1);

    // 5. The peer.
    let iamb = iamb_install
        .and_then(|h| h.join().ok().flatten())
        .and_then(|bin| run_iamb(&bin, &hs, &env));
    match &iamb {
        Some((rss, hwm, secs)) => {
            println!(
                "peer     iamb {IAMB_VERSION}, new device: first sync done after {secs:.1} s, RSS {rss:.1} MiB after sync and its background loads (peak {hwm:.1})"
            );
            for (mode, r) in &ui {
                let k: f64 = r["rss_sync"].parse().unwrap_or(f64::NAN);
                println!(
                    "ratio    kontor ({mode}) / iamb, RSS after sync: {:.2}",
                    k / rss
                );
            }
        }
        None => println!("peer     skipped (iamb could not be installed or run)"),
    }

    let num = |r: &std::collections::HashMap<String, String>, k: &str| -> f64 {
        r.get(k).and_then(|v| v.parse().ok()).unwrap_or(f64::NAN)
    };
    let restore = &ui[0].1;
    let fresh = &ui[1].1;
    let iamb_rss = iamb.map(|(rss, _, _)| rss);
    println!("\nsummary vs goals (issues 4 and 15): figure | value | goal | verdict");
    let row = |figure: &str, value: String, goal: &str, met: Option<bool>| {
        println!(
            "  {figure} | {value} | {goal} | {}",
            met.map_or("reported", verdict)
        );
    };
    if let Some((best, med)) = cold {
        row(
            "cold start to first frame (best / median)",
            format!("{best:.0} / {med:.0} ms"),
            "≤ 500 ms",
            Some(best <= 500.0),
        );
    }
    let v = num(restore, "kdf_ms");
    row(
        "[restore] Argon2id unlock (64 MiB profile)",
        format!("{v:.0} ms"),
        "separate",
        None,
    );
    let v = num(restore, "all_frame_session_ms");
    row(
        "[restore] session restored → frame with the filled list (100 rows)",
        format!(
            "{v:.0} ms (Kontor::restore {} ms, first list frame had {} rows)",
            restore["session_ms"], restore["first_rows"]
        ),
        "≤ 150 ms",
        Some(v <= 150.0),
    );
    for (key, n, goal, lim) in [
        ("window", 20, "≤ 1.5 s", 1500.0),
        ("all", CHATS, "≤ 3 s", 3000.0),
    ] {
        let from_start = num(fresh, &format!("{key}_frame_ms"));
        let from_login = num(fresh, &format!("{key}_frame_session_ms"));
        row(
            &format!(
                "[fresh] child start → frame with ≥{n} chats (incl. Argon2id {} ms)",
                fresh["kdf_ms"]
            ),
            format!("{:.2} s", from_start / 1000.0),
            goal,
            Some(from_start <= lim),
        );
        row(
            &format!(
                "[fresh] login start → frame with ≥{n} chats (model {} ms)",
                fresh[&format!("{key}_model_session_ms")]
            ),
            format!("{:.2} s", from_login / 1000.0),
            goal,
            Some(from_login <= lim),
        );
    }
    row(
        "[cli] kontor sync, first sync after login (fast KDF profile)",
        format!("{:.2} s", sync.ms / 1000.0),
        "≤ 2 s",
        Some(sync.ms <= 2000.0),
    );
    let (best, med) = (min(&send_ms), median(&send_ms));
    row(
        "[cli] kontor send, restored profile, spawn → exit (best / median / first)",
        format!(
            "{best:.0} / {med:.0} / {:.0} ms{}",
            send_ms[0],
            if all_sent { "" } else { " (NOT all sent)" }
        ),
        "≤ 500 ms",
        Some(med <= 500.0 && all_sent),
    );
    for (mode, r) in &ui {
        let rss_sync = num(r, "rss_sync");
        row(
            &format!("[{mode}] RSS 3 s after the list (search backfill running)"),
            format!("{rss_sync:.1} MiB (peak {} MiB)", r["hwm_sync"]),
            "reported",
            None,
        );
        let rss_open = num(r, "rss_open");
        row(
            &format!("[{mode}] RSS with 100 chats + the 10k chat open (search backfill done)"),
            format!("{rss_open:.1} MiB ({:.0} MB)", rss_open * 1.048_576),
            "≤ 100 MB",
            Some(rss_open * 1.048_576 <= 100.0),
        );
        if let Some(peer) = iamb_rss {
            row(
                &format!("[{mode}] … and ≤ iamb's RSS after its sync"),
                format!("{rss_open:.1} vs {peer:.1} MiB"),
                "≤ iamb",
                Some(rss_open <= peer),
            );
        }
        let open = num(r, "open_frame_ms");
        let reopen = num(r, "reopen_median_ms");
        row(
            &format!("[{mode}] open the 10k chat (first; reopen median)"),
            format!("{open:.0} ms; {reopen:.0} ms"),
            "≤ 100 ms",
            Some(open <= 100.0),
        );
    }
    match &real {
        Some((_, open, _)) => {
            let rss = open.rss;
            row(
                "[kontor binary, restore] RSS with 100 chats + the 10k chat open (search run done)",
                format!("{rss:.1} MiB ({:.0} MB)", rss * 1.048_576),
                "≤ 100 MB",
                Some(rss * 1.048_576 <= 100.0),
            );
            if let Some(peer) = iamb_rss {
                row(
                    "[kontor binary, restore] … and ≤ iamb's RSS after its sync",
                    format!("{rss:.1} vs {peer:.1} MiB"),
                    "≤ iamb",
                    Some(rss <= peer),
                );
            }
        }
        None => row(
            "[kontor binary, restore] RSS",
            "did not finish".to_owned(),
            "≤ 100 MB",
            Some(false),
        ),
    }
    println!("  load average at the end: {}", load_average());
    drop(hs);
    drop(xvfb);
}

/// Runs this binary as a child and collects its `result <key> <value>` lines; the rest of
/// its output is passed through.
fn run_child(
    env: &Env,
    args: &[&str],
    ui: Option<(&str, &str, usize)>,
) -> std::collections::HashMap<String, String> {
    let mut cmd = Command::new(std::env::current_exe().expect("own path"));
    cmd.arg("child").args(args).stdout(Stdio::piped());
    env.apply(&mut cmd);
    if let Some((display, room, runs)) = ui {
        cmd.env("DISPLAY", display)
            .env("KB_ROOM", room)
            .env("KB_OPEN_RUNS", runs.to_string());
    }
    let mut child = cmd.spawn().expect("spawn child");
    let mut out = std::collections::HashMap::new();
    for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
        let line = line.expect("child output");
        match line.strip_prefix("result ") {
            Some(kv) => {
                let (k, v) = kv.split_once(' ').unwrap_or((kv, ""));
                out.insert(k.to_owned(), v.to_owned());
            }
            None => println!("  | {line}"),
        }
    }
    let status = child.wait().expect("child");
    assert!(status.success(), "child {args:?} failed");
    out
}

fn result(key: &str, value: impl std::fmt::Display) {
    println!("result {key} {value}");
    let _ = std::io::stdout().flush();
}

/// The children's tokio runtime (two workers, like the UI's).
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}
