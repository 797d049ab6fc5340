//! The UI's figures: the release binary's cold start (step 2), and the UI logged in as
//! anna in a child process (step 3): unlock, the chat list shown (first window and all
//! chats, to the presented frame), RSS, opening the 10k chat.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use kontor::ui::{App, Chats, Config, Conversation};
use kontor_core::{ConnectionState, CoreEvent, FIRST_WINDOW, KdfParams, Kontor, Profile};
use slint::{ComponentHandle, Model};

use crate::{
    ANNA, ANNA_PW, CHATS, Env, PASS,
    measure::{median, min, rss_breakdown, vm_mib},
    result, runtime,
};

/// One start of the release binary on anna's profile; (first frame, first real screen)
/// in ms since spawn.
pub(crate) fn cold_start(data_dir: &Path, display: &str) -> Option<(f64, f64)> {
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
    /// Waiting (until the deadline) for the search index's catch-up and backfill, which
    /// start after sign-in, to finish: the steady state the RSS goal is about.
    Backfill(Instant),
    Opening(Instant),
    AfterOpen(Instant),
    Done,
}

pub(crate) fn ui_child(mode: &str) {
    // As `kontor`'s `main` does first: the child stands for the app's process.
    assert!(
        kontor::memory::limit_malloc_arenas(),
        "malloc arenas limited"
    );
    let t0 = Instant::now();
    // `KB_LOG=kontor_core=debug` (a tracing filter) shows the app's own timings, e.g. how
    // long `Kontor::chats` took, on stderr; off by default so the figures are undisturbed.
    if let Ok(filter) = std::env::var("KB_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
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
    // Both modes open the profile with the real Argon2id cost (restore: unlock; fresh:
    // create), timed on its own; `t_session` is the moment after it, where the restore
    // (`Kontor::restore`) or the password login (`Kontor::login`, one sliding-sync round
    // trip) starts.
    let fresh = mode != "restore";
    let t_kdf = Instant::now();
    let profile = Profile::open_with(&profile_dir, PASS, KdfParams::default()).expect("unlock");
    let kdf_ms = t_kdf.elapsed().as_secs_f64() * 1000.0;
    result("kdf_ms", format!("{kdf_ms:.0}"));
    let t_session = Instant::now();
    let kontor = rt.block_on(async {
        if fresh {
            Kontor::login(profile, &env.hs, ANNA, ANNA_PW)
                .await
                .expect("login")
        } else {
            Kontor::restore(profile).await.expect("restore")
        }
    });
    let session_ms = t_session.elapsed().as_secs_f64() * 1000.0;
    result("session_ms", format!("{session_ms:.0}"));
    println!(
        "{mode}: Argon2id {kdf_ms:.0} ms, {} {session_ms:.0} ms, signed in {:.2} s after start; {} chats in the store",
        if fresh { "login" } else { "restore" },
        t0.elapsed().as_secs_f64(),
        kontor.sdk_client().joined_rooms().len()
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

    // Frames: after each presented frame, the time, whether it shows the opened chat's
    // messages and how many rows the chat list has (read on the UI thread right after the
    // draw).
    let frames: Arc<Mutex<Vec<(Instant, bool, usize)>>> = Arc::default();
    {
        use slint::winit_030::{EventResult, WinitWindowAccessor, winit::event::WindowEvent};
        let (frames, weak, room) = (frames.clone(), app.window.as_weak(), room.clone());
        app.window.window().on_winit_window_event(move |_, event| {
            if matches!(event, WindowEvent::RedrawRequested) {
                let (frames, weak, room) = (frames.clone(), weak.clone(), room.clone());
                let _ = slint::invoke_from_event_loop(move || {
                    let at = Instant::now();
                    let (shown, rows) = weak.upgrade().map_or((false, 0), |w| {
                        (
                            chat_shown(&w, &room),
                            w.global::<Chats>().get_chats().row_count(),
                        )
                    });
                    frames.lock().expect("frames").push((at, shown, rows));
                });
            }
            EventResult::Propagate
        });
    }

    let pid = std::process::id().to_string();
    let mut phase = Phase::WaitList;
    // The search index's progress (the settings' line): whether its run was seen, and
    // whether the RSS after it was taken.
    let search = app.service().search_progress();
    let (mut searching, mut backfill_measured) = (false, false);
    let mut t_list: Option<Instant> = None;
    let mut opens: Vec<(f64, f64)> = Vec::new();
    let mut model_seen: Option<Instant> = None;
    // When the chat list model first had the first window / every chat (polled every 2 ms).
    let (mut model_window, mut model_all): (Option<Instant>, Option<Instant>) = (None, None);
    let window = FIRST_WINDOW as usize;
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
                    if chats >= window {
                        model_window.get_or_insert(now);
                    }
                    if chats >= CHATS {
                        model_all.get_or_insert(now);
                    }
                    let first_frame = |n: usize| {
                        frames
                            .lock()
                            .expect("frames")
                            .iter()
                            .find(|f| f.2 >= n)
                            .map(|f| f.0)
                    };
                    let all_frame = first_frame(CHATS);
                    if online.load(Ordering::SeqCst)
                        && chats >= CHATS
                        && let Some(all_frame) = all_frame
                    {
                        let window_frame = first_frame(window).unwrap_or(all_frame);
                        let ms = |i: Instant, from: Instant| {
                            format!("{:.0}", i.duration_since(from).as_secs_f64() * 1000.0)
                        };
                        result("list_s", format!("{:.2}", t0.elapsed().as_secs_f64()));
                        result("chats", chats);
                        // From the child's start (the old "chat list filled" definition)
                        // and from the start of the restore / the login.
                        result("window_frame_ms", ms(window_frame, t0));
                        result("all_frame_ms", ms(all_frame, t0));
                        result("window_frame_session_ms", ms(window_frame, t_session));
                        result("all_frame_session_ms", ms(all_frame, t_session));
                        let model =
                            |m: Option<Instant>, f: Instant| ms(m.unwrap_or(f).min(f), t_session);
                        result("window_model_session_ms", model(model_window, window_frame));
                        result("all_model_session_ms", model(model_all, all_frame));
                        // How many rows the first frame with a filled list showed.
                        let first_rows = frames
                            .lock()
                            .expect("frames")
                            .iter()
                            .find(|f| f.2 > 0)
                            .map_or(0, |f| f.2);
                        result("first_rows", first_rows);
                        phase = Phase::Settle(now + Duration::from_secs(3));
                        t_list = Some(now);
                    } else if t0.elapsed() > Duration::from_secs(300) {
                        panic!("chat list has {chats} rows after 300 s");
                    }
                }
                Phase::Settle(until) if now >= until && opens.is_empty() && !backfill_measured => {
                    // 3 s after the list: the search backfill is usually still running.
                    result("rss_sync", format!("{:.1}", vm_mib(&pid, "VmRSS:")));
                    result("hwm_sync", format!("{:.1}", vm_mib(&pid, "VmHWM:")));
                    result("mem_sync", rss_breakdown(&pid));
                    phase = Phase::Backfill(now + Duration::from_secs(240));
                }
                Phase::Backfill(deadline) => {
                    let status = search.borrow().clone();
                    searching |= status.running;
                    let done = searching && !status.running;
                    if done || now >= deadline {
                        result(
                            "backfill",
                            format!(
                                "{} after {:.1} s: {} messages, {} of {} chats complete",
                                if done { "done" } else { "STILL RUNNING" },
                                t_list.map_or(0.0, |t| now.duration_since(t).as_secs_f64()),
                                status.indexed,
                                status.chats_complete,
                                status.chats
                            ),
                        );
                        result("rss_settled", format!("{:.1}", vm_mib(&pid, "VmRSS:")));
                        result("hwm_settled", format!("{:.1}", vm_mib(&pid, "VmHWM:")));
                        result("mem_settled", rss_breakdown(&pid));
                        phase = Phase::Settle(now);
                        // Next: the first open (the Settle arm below, `opens` still empty
                        // but the backfill measured).
                        backfill_measured = true;
                    }
                }
                Phase::Settle(until) if now >= until => {
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
                        .find(|(at, shown, _)| *shown && *at > t)
                        .map(|(at, _, _)| *at);
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
                        result("mem_open", rss_breakdown(&pid));
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
// The command line (the release `kontor` binary, like the cold start)

/// What one `kontor` command took, spawn to exit, and its stdout.
pub(crate) struct CliRun {
    pub(crate) ms: f64,
    pub(crate) stdout: String,
}

/// Runs the release `kontor` binary with `args` on the profile in `data_dir`, secrets from
/// the environment; panics when it fails (its stderr is passed through).
pub(crate) fn kontor_cli(data_dir: &Path, args: &[&str]) -> CliRun {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--json")
        .args(args)
        .env("KONTOR_PASSPHRASE", PASS)
        .env("KONTOR_PASSWORD", ANNA_PW)
        .env_remove("DISPLAY")
        .stdin(Stdio::null())
        .output()
        .expect("spawn kontor");
    let ms = t.elapsed().as_secs_f64() * 1000.0;
    let stdout = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    for line in stderr.lines() {
        eprintln!("  kontor {}: {line}", args[0]);
    }
    assert!(
        out.status.success(),
        "kontor {args:?} failed: {}",
        out.status
    );
    CliRun { ms, stdout }
}

/// A profile for the command line with the minimal Argon2id cost (64 KiB, one pass) the
/// debug builds' `KONTOR_INSECURE_FAST_KDF` gives: a release binary ignores that variable
/// but opens an existing profile with the cost it was created with, so the bench creates
/// the profile itself and `kontor login` logs it in.
pub(crate) fn cli_profile(data_dir: &Path) {
    let fast = KdfParams {
        m_kib: 64,
        t: 1,
        p: 1,
    };
    drop(Profile::open_with(data_dir.join("profile"), PASS, fast).expect("cli profile"));
}

// ---------------------------------------------------------------------------------------
// The shipped binary through the same path

/// What the `kontor` binary's memory was at one point of its walk: VmRSS, VmHWM (MiB) and
/// where the RSS is.
pub(crate) struct Memory {
    pub(crate) rss: f64,
    pub(crate) hwm: f64,
    pub(crate) breakdown: String,
}

impl Memory {
    fn read(pid: &str) -> Memory {
        Memory {
            rss: vm_mib(pid, "VmRSS:"),
            hwm: vm_mib(pid, "VmHWM:"),
            breakdown: rss_breakdown(pid),
        }
    }
}

/// The release `kontor` binary on a restored profile, walked by its bench hook
/// (`KONTOR_BENCH_DRIVE`, `app/src/ui/bench_drive.rs`) through what the UI child does:
/// unlock, the chat list, the search index's run, then the chat `room`. Returns its memory
/// once the list is shown and the search run is over, and 3 s after the chat showed its
/// messages (as the child reads it), with the list's rows and the messages shown. `None`
/// (with the reason on stderr) when the walk did not finish within 7 minutes.
pub(crate) fn real_binary(
    data_dir: &Path,
    display: &str,
    room: &str,
) -> Option<(Memory, Memory, String)> {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .arg("--data-dir")
        .arg(data_dir)
        .env("DISPLAY", display)
        .env("KONTOR_BENCH_DRIVE", room)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn kontor");
    let pid = child.id().to_string();
    // A walk that hangs must not hang the bench: the watchdog ends it.
    let done = Arc::new(AtomicBool::new(false));
    {
        let (done, pid) = (done.clone(), pid.clone());
        std::thread::spawn(move || {
            let until = Instant::now() + Duration::from_secs(420);
            while Instant::now() < until {
                if done.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(200));
            }
            eprintln!("  kontor (driven): no end after 420 s, killed");
            let _ = Command::new("kill").arg("-9").arg(&pid).status();
        });
    }
    let mut stdin = child.stdin.take().expect("stdin");
    writeln!(stdin, "{PASS}").expect("passphrase to kontor");
    let (mut settled, mut open, mut counts) = (None, None, Vec::new());
    for line in BufReader::new(child.stderr.take().expect("stderr")).lines() {
        let Ok(line) = line else { break };
        if let Some(rest) = line.strip_prefix("kontor: bench settled ") {
            settled = Some(Memory::read(&pid));
            counts.push(format!("{rest} chats"));
            writeln!(stdin, "open").expect("open to kontor");
        } else if let Some(rest) = line.strip_prefix("kontor: bench shown ") {
            std::thread::sleep(Duration::from_secs(3));
            open = Some(Memory::read(&pid));
            counts.push(format!("{rest} messages shown"));
            writeln!(stdin, "quit").expect("quit to kontor");
        } else {
            eprintln!("  kontor (driven): {line}");
        }
    }
    drop(stdin);
    let _ = child.wait();
    done.store(true, Ordering::SeqCst);
    settled.zip(open).map(|(s, o)| (s, o, counts.join(", ")))
}
