//! The app benchmark (issue 4): the Slint UI against a seeded account, and the peer iamb.
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
//!    `restore` = the seeding device restarted (has every room key), `fresh` = a new
//!    device's first login (the same situation as the peer's). It waits for the first
//!    sync and the filled chat list, reads VmRSS/VmHWM, then opens the 10k chat through
//!    the chat list's `open` callback and times until the first page is in the model and
//!    until the frame showing it was presented; then reopens it a few times.
//! 4. The peer: iamb 0.0.12 (matrix-sdk, a TUI) logs in to the same account as a new
//!    device through a pty; its first sync is done when Synapse logs the answer to its
//!    `/sync` without a `since` token, then the bench waits until its background
//!    `/messages` requests stop (3 s without one) and reads its RSS.

use std::{
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use kontor::ui::{App, Chats, Config, Conversation};
use kontor_core::{ConnectionState, CoreEvent, KdfParams, Kontor, Profile};
use kontor_testkit::Synapse;
use matrix_sdk::ruma::{OwnedRoomId, UserId, events::room::message::RoomMessageEventContent};
use slint::{ComponentHandle, Model};

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

    // 3. The UI, restored and fresh.
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
        ui.push((mode, r));
    }

    // 4. The peer.
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

    println!("\nsummary vs goals (issue 4):");
    if let Some((best, med)) = cold {
        println!(
            "  cold start to first frame ≤ 500 ms: best {best:.0} ms, median {med:.0} ms → {}",
            verdict(best <= 500.0)
        );
    }
    for (mode, r) in &ui {
        let rss_open: f64 = r["rss_open"].parse().unwrap_or(f64::NAN);
        let open: f64 = r["open_frame_ms"].parse().unwrap_or(f64::NAN);
        let reopen: f64 = r["reopen_median_ms"].parse().unwrap_or(f64::NAN);
        println!(
            "  [{mode}] RSS with 100 chats + the 10k chat open ≤ 100 MB: {rss_open} MiB ({:.0} MB) → {}",
            rss_open * 1.048_576,
            verdict(rss_open * 1.048_576 <= 100.0)
        );
        println!(
            "  [{mode}] open the 10k chat ≤ 100 ms: first {open:.0} ms, reopen median {reopen:.0} ms → {}",
            verdict(open <= 100.0)
        );
    }
    println!("  load average at the end: {}", load_average());
    drop(hs);
    drop(xvfb);
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "missed" }
}

fn min(v: &[f64]) -> f64 {
    v.iter().copied().fold(f64::INFINITY, f64::min)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(f64::NAN)
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| s.split_whitespace().next().map(str::to_owned))
        .unwrap_or_default()
}

/// A `/proc/<pid>/status` memory field in MiB.
fn vm_mib(pid: &str, field: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(f64::NAN)
        / 1024.0
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

// ---------------------------------------------------------------------------------------
// Seeding

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio")
}

fn seed_child() {
    let env = Env::from_env();
    runtime().block_on(seed(&env));
    // The SDK's stores close under tasks that may still write when the runtime drops;
    // like the CLI, leave them to process exit.
    std::process::exit(0);
}

async fn seed(env: &Env) {
    let t0 = Instant::now();
    let anna_profile = env.anna_data().join("profile");
    let anna = login(env, &anna_profile, ANNA, ANNA_PW, KdfParams::default()).await;
    // The customer of the big chat writes through a Kontor of its own (its half of the
    // messages must be encrypted too); the other 99 only join over plain HTTP.
    let ben = login(
        env,
        &env.dir.join("ben"),
        &customer(0),
        CUSTOMER_PW,
        KdfParams {
            m_kib: 8 * 1024,
            t: 1,
            p: 1,
        },
    )
    .await;
    let client = anna.sdk_client().clone();
    let rooms: Vec<OwnedRoomId> = stream::iter(0..CHATS)
        .map(|i| {
            let client = client.clone();
            let user =
                UserId::parse(format!("@{}:{}", customer(i), env.server_name)).expect("user id");
            async move {
                client
                    .create_dm(&user)
                    .await
                    .expect("create dm")
                    .room_id()
                    .to_owned()
            }
        })
        .buffered(4)
        .collect()
        .await;
    let big = rooms[0].clone();
    // The other customers join over plain HTTP (they read nothing, so need no keys).
    let hs = env.hs.clone();
    let joins: Vec<_> = rooms[1..]
        .iter()
        .enumerate()
        .map(|(i, r)| (customer(i + 1), r.to_string()))
        .collect();
    let joined = tokio::task::spawn_blocking(move || {
        std::thread::scope(|s| {
            for chunk in joins.chunks(25) {
                let hs = &hs;
                s.spawn(move || {
                    for (user, room) in chunk {
                        plain_join(hs, user, room);
                    }
                });
            }
        });
    });
    loop {
        ben.sync_once().await.expect("ben sync");
        if ben
            .invites()
            .await
            .expect("invites")
            .iter()
            .any(|(r, _)| *r == big.as_str())
        {
            ben.accept_invite(big.as_str()).await.expect("accept");
            break;
        }
    }
    joined.await.expect("joins");
    for _ in 0..100 {
        anna.sync_once().await.expect("anna sync");
        if anna
            .sdk_client()
            .get_room(&big)
            .is_some_and(|r| r.joined_members_count() == 2)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rooms_s = t0.elapsed().as_secs_f64();
    println!("{CHATS} rooms created and joined in {rooms_s:.1} s");
    result("rooms_s", format!("{rooms_s:.1}"));

    // One message from anna in each small chat, so the list has previews.
    send_many(&anna, &rooms[1..], 1, "Ihr Angebot").await;
    // The big chat: both sides at once, then one last message so it is the newest chat.
    let t = Instant::now();
    let half = BIG / 2;
    tokio::join!(
        send_many(&anna, std::slice::from_ref(&big), half, "Anna"),
        send_many(&ben, std::slice::from_ref(&big), BIG - half, "Kunde"),
    );
    let big_s = t.elapsed().as_secs_f64();
    result("big_s", format!("{big_s:.1}"));
    result("big_rate", format!("{:.0}", BIG as f64 / big_s));
    // anna's device receives ben's room keys now rather than during the measured sync.
    anna.sync_once().await.expect("anna sync");
    anna.sync_once().await.expect("anna sync");
    result("room", big);
    result("total_s", format!("{:.1}", t0.elapsed().as_secs_f64()));
    anna.shutdown().await;
    ben.shutdown().await;
    std::mem::forget(anna);
    std::mem::forget(ben);
}

async fn login(env: &Env, profile: &Path, user: &str, pw: &str, kdf: KdfParams) -> Arc<Kontor> {
    let dir = profile.to_path_buf();
    let profile = tokio::task::spawn_blocking(move || Profile::open_with(&dir, PASS, kdf))
        .await
        .expect("join")
        .expect("profile");
    Kontor::login(profile, &env.hs, user, pw)
        .await
        .expect("login")
}

/// `per_room` encrypted texts into each room, straight through the SDK's `Room::send`,
/// up to `IN_FLIGHT` rooms at a time.
async fn send_many(k: &Kontor, rooms: &[OwnedRoomId], per_room: usize, who: &str) {
    let client = k.sdk_client().clone();
    let jobs = rooms
        .iter()
        .flat_map(|r| (0..per_room).map(move |i| (r.clone(), i)));
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let total = rooms.len() * per_room;
    stream::iter(jobs)
        // One send at a time per room: matrix-sdk-crypto 0.18 panics ("Session expired",
        // group_sessions/mod.rs:220) when concurrent sends in one room race the megolm
        // session's rotation after 100 messages. So the big chat goes at 2 in flight (one
        // per side), the small chats at `IN_FLIGHT`.
        .for_each_concurrent(rooms.len().min(IN_FLIGHT), |(room_id, i)| {
            let room = client.get_room(&room_id).expect("joined room");
            let sent = &sent;
            async move {
                let text = format!(
                    "{who} #{i}: Guten Tag, anbei die Unterlagen zum Auftrag, bitte prüfen Sie Position {}.",
                    i % 97
                );
                room.send(RoomMessageEventContent::text_plain(text))
                    .await
                    .expect("send");
                let n = sent.fetch_add(1, Ordering::Relaxed) + 1;
                if total >= 1000 && n.is_multiple_of(2000) {
                    println!("{who}: {n}/{total} sent");
                }
            }
        })
        .await;
}

/// Logs a customer in over plain HTTP and joins the room it was invited to.
fn plain_join(hs: &str, user: &str, room: &str) {
    let r: serde_json::Value = ureq::post(&format!("{hs}/_matrix/client/v3/login"))
        .send_json(serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": CUSTOMER_PW,
        }))
        .expect("customer login")
        .into_json()
        .expect("login json");
    let token = r["access_token"].as_str().expect("token");
    ureq::post(&format!("{hs}/_matrix/client/v3/join/{room}"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({}))
        .expect("join");
}

// ---------------------------------------------------------------------------------------
// Cold start

/// One start of the release binary on anna's profile; (first frame, first real screen)
/// in ms since spawn.
fn cold_start(data_dir: &Path, display: &str) -> Option<(f64, f64)> {
    let t = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .arg("--data-dir")
        .arg(data_dir)
        .env("DISPLAY", display)
        .env("KONTOR_EXIT_AFTER_FIRST_FRAME", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kontor");
    let (mut first, mut screen) = (None, None);
    for line in BufReader::new(child.stderr.take().expect("stderr")).lines() {
        let Ok(line) = line else { break };
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if line.contains("kontor: first frame") {
            first.get_or_insert(ms);
        } else if line.contains("kontor: first screen") {
            screen.get_or_insert(ms);
        } else {
            eprintln!("  kontor: {line}");
        }
    }
    let _ = child.wait();
    first.zip(screen)
}

// ---------------------------------------------------------------------------------------
// The UI, logged in as anna

#[derive(Clone, Copy, PartialEq)]
enum Phase {
    WaitList,
    Settle(Instant),
    Opening(Instant),
    AfterOpen(Instant),
    Done,
}

fn ui_child(mode: &str) {
    let t0 = Instant::now();
    let env = Env::from_env();
    let room = std::env::var("KB_ROOM").expect("KB_ROOM");
    let open_runs: usize = std::env::var("KB_OPEN_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(6)
        .max(1);
    let rt = runtime();
    let data_dir = match mode {
        "restore" => env.anna_data(),
        _ => env.dir.join("fresh"),
    };
    let profile_dir = data_dir.join("profile");
    let kontor = rt.block_on(async {
        if mode == "restore" {
            let profile = tokio::task::spawn_blocking(move || Profile::open(&profile_dir, PASS))
                .await
                .expect("join")
                .expect("unlock");
            Kontor::restore(profile).await.expect("restore")
        } else {
            login(&env, &profile_dir, ANNA, ANNA_PW, KdfParams::default()).await
        }
    });
    println!(
        "{mode}: signed in after {:.2} s",
        t0.elapsed().as_secs_f64()
    );
    let online = Arc::new(AtomicBool::new(false));
    {
        let mut rx = kontor.subscribe();
        let online = online.clone();
        rt.spawn(async move {
            while let Ok(ev) = rx.recv().await {
                if matches!(ev, CoreEvent::Connection(ConnectionState::Online)) {
                    online.store(true, Ordering::SeqCst);
                }
            }
        });
    }
    let config = Config {
        data_dir,
        insecure_fast_kdf: false,
        language: None,
        download_dir: None,
        desktop_bus: kontor::ui::DesktopBus::Session,
    };
    let app = App::with_session(config, rt.handle().clone(), kontor, None).expect("window");

    // Frames: after each presented frame, the time and whether it shows the opened chat's
    // messages (checked on the UI thread right after the draw).
    let frames: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
    {
        use slint::winit_030::{EventResult, WinitWindowAccessor, winit::event::WindowEvent};
        let (frames, weak, room) = (frames.clone(), app.window.as_weak(), room.clone());
        app.window.window().on_winit_window_event(move |_, event| {
            if matches!(event, WindowEvent::RedrawRequested) {
                let (frames, weak, room) = (frames.clone(), weak.clone(), room.clone());
                let _ = slint::invoke_from_event_loop(move || {
                    let shown = weak.upgrade().is_some_and(|w| chat_shown(&w, &room));
                    frames.lock().expect("frames").push((Instant::now(), shown));
                });
            }
            EventResult::Propagate
        });
    }

    let pid = std::process::id().to_string();
    let mut phase = Phase::WaitList;
    let mut opens: Vec<(f64, f64)> = Vec::new();
    let mut model_seen: Option<Instant> = None;
    let weak = app.window.as_weak();
    let timer = slint::Timer::default();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(2),
        move || {
            let Some(w) = weak.upgrade() else { return };
            let now = Instant::now();
            match phase {
                Phase::WaitList => {
                    let chats = w.global::<Chats>().get_chats().row_count();
                    if online.load(Ordering::SeqCst) && chats >= CHATS {
                        result("list_s", format!("{:.2}", t0.elapsed().as_secs_f64()));
                        result("chats", chats);
                        phase = Phase::Settle(now + Duration::from_secs(3));
                    } else if t0.elapsed() > Duration::from_secs(300) {
                        panic!("chat list has {chats} rows after 300 s");
                    }
                }
                Phase::Settle(until) if now >= until => {
                    if opens.is_empty() {
                        result("rss_sync", format!("{:.1}", vm_mib(&pid, "VmRSS:")));
                        result("hwm_sync", format!("{:.1}", vm_mib(&pid, "VmHWM:")));
                    }
                    model_seen = None;
                    let t = Instant::now();
                    w.global::<Chats>().invoke_open(room.as_str().into());
                    phase = Phase::Opening(t);
                }
                Phase::Opening(t) => {
                    if model_seen.is_none() && chat_shown(&w, &room) {
                        model_seen = Some(now);
                        if opens.is_empty() {
                            // How much the first shown state holds (the device's cache
                            // may have fewer than a page).
                            let rows = w.global::<Conversation>().get_messages().row_count();
                            result("open_first_rows", rows);
                        }
                    }
                    let frame = frames
                        .lock()
                        .expect("frames")
                        .iter()
                        .find(|(at, shown)| *shown && *at > t)
                        .map(|(at, _)| *at);
                    if let Some(frame) = frame {
                        let model = model_seen.map_or(frame, |m| m.min(frame));
                        let ms = |i: Instant| i.duration_since(t).as_secs_f64() * 1000.0;
                        opens.push((ms(model), ms(frame)));
                        phase = Phase::AfterOpen(
                            now + Duration::from_secs(if opens.len() == 1 { 3 } else { 1 }),
                        );
                    } else if now.duration_since(t) > Duration::from_secs(60) {
                        panic!("the chat did not open within 60 s");
                    }
                }
                Phase::AfterOpen(until) if now >= until => {
                    if opens.len() == 1 {
                        result("rss_open", format!("{:.1}", vm_mib(&pid, "VmRSS:")));
                        result("hwm_open", format!("{:.1}", vm_mib(&pid, "VmHWM:")));
                        result(
                            "messages",
                            w.global::<Conversation>().get_messages().row_count(),
                        );
                    }
                    if opens.len() >= open_runs {
                        let (m, f) = opens[0];
                        result("open_model_ms", format!("{m:.0}"));
                        result("open_frame_ms", format!("{f:.0}"));
                        let re: Vec<f64> = opens[1..].iter().map(|o| o.1).collect();
                        result("reopen_median_ms", format!("{:.0}", median(&re)));
                        result("reopen_best_ms", format!("{:.0}", min(&re)));
                        result(
                            "opens_ms",
                            opens
                                .iter()
                                .map(|o| format!("{:.0}/{:.0}", o.0, o.1))
                                .collect::<Vec<_>>()
                                .join(","),
                        );
                        phase = Phase::Done;
                        let _ = slint::quit_event_loop();
                    } else {
                        w.global::<Conversation>().invoke_back();
                        phase = Phase::Settle(now + Duration::from_millis(500));
                    }
                }
                _ => {}
            }
        },
    );
    app.window.run().expect("event loop");
    drop(timer);
    // Like `kontor`: stop the sync, leave the client to process exit.
    rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), app.shutdown()).await;
    });
    std::process::exit(0);
}

/// True when the conversation view shows `room` with its messages loaded.
fn chat_shown(w: &kontor::ui::AppWindow, room: &str) -> bool {
    let c = w.global::<Conversation>();
    c.get_room_id() == room && !c.get_loading() && c.get_messages().row_count() > 0
}

// ---------------------------------------------------------------------------------------
// Xvfb

struct Xvfb {
    display: String,
    child: Child,
}

impl Xvfb {
    /// A private X server on the first free display from :140.
    fn start() -> Xvfb {
        for n in 140..200 {
            if Path::new(&format!("/tmp/.X11-unix/X{n}")).exists()
                || Path::new(&format!("/tmp/.X{n}-lock")).exists()
            {
                continue;
            }
            let child = Command::new("Xvfb")
                .arg(format!(":{n}"))
                .args(["-screen", "0", "1280x800x24", "-nolisten", "tcp"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("Xvfb (apt-get install xvfb)");
            let socket = format!("/tmp/.X11-unix/X{n}");
            let t = Instant::now();
            while !Path::new(&socket).exists() && t.elapsed() < Duration::from_secs(10) {
                std::thread::sleep(Duration::from_millis(20));
            }
            return Xvfb {
                display: format!(":{n}"),
                child,
            };
        }
        panic!("no free X display");
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

// ---------------------------------------------------------------------------------------
// The peer: iamb

/// iamb in `target/iamb/bin`, installed with `cargo install` when missing. Default
/// features need dbus (desktop notifications); `bundled` builds SQLite in.
fn ensure_iamb() -> Option<PathBuf> {
    let root = kontor_testkit::target_dir().join("iamb");
    let bin = root.join("bin/iamb");
    if bin.exists() {
        return Some(bin);
    }
    println!(
        "peer     installing iamb {IAMB_VERSION} into {} (takes minutes)",
        root.display()
    );
    let log = std::fs::File::create(kontor_testkit::target_dir().join("iamb-install.log")).ok()?;
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["install", "iamb", "--version", IAMB_VERSION, "--locked"])
        .args(["--no-default-features", "--features", "bundled", "--root"])
        .arg(&root)
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .ok()?;
    (status.success() && bin.exists()).then_some(bin)
}

/// Python's `pty` gives iamb the terminal it needs (with a size), and drains its screen
/// output; iamb is killed when the driver's stdin closes.
const PTY_DRIVER: &str = r#"
import os, pty, select, signal, struct, sys, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
print(pid, flush=True)
log = open(os.environ["KB_PTY_LOG"], "wb")
while True:
    r, _, _ = select.select([fd, 0], [], [], 1.0)
    if 0 in r and not os.read(0, 1024):
        break
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        log.write(data[-4096:])
        # Answer the terminal queries a real terminal would (crossterm waits for them and
        # iamb gives up with "cursor position could not be read" otherwise).
        replies = {b"\x1b[6n": b"\x1b[1;1R", b"\x1b[5n": b"\x1b[0n",
                   b"\x1b[16t": b"\x1b[6;16;8t", b"\x1b[c": b"\x1b[?62;22c"}
        for query, reply in replies.items():
            for _ in range(data.count(query)):
                os.write(fd, reply)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
"#;

/// The last `max` bytes of a file as text, terminal escapes removed (iamb's screen log
/// is full of them).
fn tail_text(path: &Path, max: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(max)..]).into_owned();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte; other escapes: ESC + one char.
            if chars.next_if_eq(&'[').is_some() {
                while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
            } else {
                chars.next();
            }
        } else if c == '\n' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// Runs iamb as anna (a new device) until its first sync and background loads are done;
/// (RSS MiB, peak MiB, seconds to the first sync).
fn run_iamb(bin: &Path, hs: &Synapse, env: &Env) -> Option<(f64, f64, f64)> {
    let dir = env.dir.join("iamb");
    let cfg = dir.join("config/iamb");
    std::fs::create_dir_all(&cfg).ok()?;
    std::fs::write(dir.join("password"), ANNA_PW).ok()?;
    let d = dir.display();
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            r#"default_profile = "anna"

[profiles.anna]
user_id = "@{ANNA}:{server}"
url = "{url}"
password_file = "{d}/password"

[dirs]
cache = "{d}/cache"
data = "{d}/data"
logs = "{d}/logs"
downloads = "{d}/downloads"
"#,
            server = env.server_name,
            url = env.hs,
        ),
    )
    .ok()?;
    std::fs::write(dir.join("driver.py"), PTY_DRIVER).ok()?;
    let log = hs.dir().join("homeserver.log");
    let start_at = std::fs::metadata(&log).map_or(0, |m| m.len());
    let t = Instant::now();
    let mut driver = Command::new("python3")
        .arg(dir.join("driver.py"))
        .arg(bin)
        .arg("-C")
        .arg(dir.join("config"))
        .env("KB_PTY_LOG", dir.join("pty.log"))
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut pid_line = String::new();
    BufReader::new(driver.stdout.take()?)
        .read_line(&mut pid_line)
        .ok()?;
    let pid = pid_line.trim().to_owned();
    let me = format!("{{@{ANNA}:{}}}", env.server_name);
    let requests = |what: &[&str]| -> usize {
        let text = std::fs::read(&log).unwrap_or_default();
        let text =
            String::from_utf8_lossy(&text[(start_at as usize).min(text.len())..]).into_owned();
        text.lines()
            .filter(|l| l.contains(&me) && what.iter().all(|w| l.contains(w)))
            .count()
    };
    let mut synced = None;
    let (mut last, mut stable_since) = (0, Instant::now());
    let outcome = loop {
        std::thread::sleep(Duration::from_millis(250));
        if !Path::new(&format!("/proc/{pid}")).exists() {
            // The temporary directory goes with the bench, so say why here.
            eprintln!("peer: iamb exited; the end of its screen and of its logs:");
            eprintln!("{}", tail_text(&dir.join("pty.log"), 1500));
            for entry in std::fs::read_dir(dir.join("logs")).into_iter().flatten() {
                let path = entry.map(|e| e.path()).unwrap_or_default();
                eprintln!("--- {}\n{}", path.display(), tail_text(&path, 1500));
            }
            break None;
        }
        // The initial sync has no `since`; Synapse logs a request when it is answered.
        if synced.is_none() && requests(&["/sync?"]) > requests(&["/sync?", "since="]) {
            synced = Some(t.elapsed().as_secs_f64());
            stable_since = Instant::now();
        }
        if let Some(s) = synced {
            let n = requests(&["/messages"]);
            if n != last {
                (last, stable_since) = (n, Instant::now());
            } else if stable_since.elapsed() > Duration::from_secs(3) {
                println!("peer: {n} /messages requests after its first sync");
                break Some((vm_mib(&pid, "VmRSS:"), vm_mib(&pid, "VmHWM:"), s));
            }
        }
        if t.elapsed() > Duration::from_secs(300) {
            eprintln!(
                "peer: no sync within 300 s; screen log in {}",
                dir.join("pty.log").display()
            );
            break None;
        }
    };
    drop(driver.stdin.take());
    let _ = driver.wait();
    outcome
}
