//! The UI's figures: the release binary's cold start (step 2), and the UI logged in as
//! anna in a child process (step 3): chat list filled, RSS, opening the 10k chat.

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
use kontor_core::{ConnectionState, CoreEvent, KdfParams, Kontor, Profile};
use slint::{ComponentHandle, Model};

use crate::{
    ANNA, ANNA_PW, CHATS, Env, PASS,
    measure::{median, min, vm_mib},
    result, runtime,
    seed::login,
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
    Opening(Instant),
    AfterOpen(Instant),
    Done,
}

pub(crate) fn ui_child(mode: &str) {
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
