//! Benchmark hook (BENCHMARKS.md, "App"): with `KONTOR_BENCH_DRIVE=<room id>` set, the
//! window walks the path the app bench measures by itself: unlock, the chat list, the
//! search index's catch-up, then the chat `<room id>`. So the bench reads the memory of
//! the shipped `kontor` binary from outside (`/proc/<pid>`), not only of its own child,
//! which links the same app into a bigger binary (the seed, the testkit, the bench).
//!
//! The protocol is lines, so nothing moves while the bench reads:
//! - stdin's first line is the profile's passphrase (never an argument or a variable);
//! - `kontor: bench settled <rows>` on stderr once the list is shown and the search
//!   index's run is over (or after [`SETTLE_DEADLINE`]: `kontor: bench settled <rows>
//!   searching`); the window then waits for the line `open` on stdin;
//! - `kontor: bench shown <messages>` once the chat shows its messages; the window waits
//!   for `quit` and closes. The end of stdin closes it at any step.
//!
//! Only these milestones and counts go to stderr: no names, previews or message text.

use std::{
    io::BufRead,
    sync::mpsc,
    time::{Duration, Instant},
};

use slint::{ComponentHandle, Model};
use zeroize::Zeroizing;

use super::{App, AppWindow, Chats, Conversation, Screen, Session};

/// How long the hook waits for the search index's run to start and end after the list is
/// shown; the bench's own child waits as long.
const SETTLE_DEADLINE: Duration = Duration::from_secs(240);

/// Where the walk is.
#[derive(Clone, Copy, PartialEq)]
enum Step {
    /// The passphrase is not typed yet.
    Locked,
    /// Unlocking, then waiting for the list and the search index's run.
    Settling(Instant),
    /// Reported settled; waiting for `open`.
    Settled,
    /// The chat was asked for; waiting for its messages.
    Opening,
    /// Reported shown; waiting for `quit`.
    Shown,
}

/// Starts the walk if `KONTOR_BENCH_DRIVE` names a chat; the returned timer drives it and
/// must live as long as the window runs.
pub(super) fn start(app: &App) -> Option<slint::Timer> {
    let room = std::env::var("KONTOR_BENCH_DRIVE").ok()?;
    // `None` is the end of stdin, which closes the window at any step; the line `quit`
    // does after the unlock (before it, the first line is the passphrase, whatever it is).
    let (tx, rx) = mpsc::channel::<Option<Zeroizing<String>>>();
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if tx.send(Some(Zeroizing::new(line))).is_err() {
                return;
            }
        }
        let _ = tx.send(None);
    });
    let mut search = app.service().search_progress();
    let weak = app.window.as_weak();
    let mut step = Step::Locked;
    let mut ran = false;
    // The passphrase may come before the unlock screen shows.
    let mut pass: Option<Zeroizing<String>> = None;
    let timer = slint::Timer::default();
    timer.start(
        slint::TimerMode::Repeated,
        Duration::from_millis(10),
        move || {
            let Some(w) = weak.upgrade() else { return };
            let line = match rx.try_recv() {
                Ok(Some(line)) => Some(line),
                Ok(None) => {
                    let _ = slint::quit_event_loop();
                    return;
                }
                Err(_) => None,
            };
            if line.as_deref().is_some_and(|l| l.as_str() == "quit") && step != Step::Locked {
                let _ = slint::quit_event_loop();
                return;
            }
            match step {
                Step::Locked => {
                    if pass.is_none() {
                        pass = line;
                    }
                    if w.global::<Session>().get_screen() == Screen::Unlock
                        && let Some(pass) = pass.take()
                    {
                        w.global::<Session>().invoke_unlock(pass.as_str().into());
                        step = Step::Settling(Instant::now() + SETTLE_DEADLINE);
                    }
                }
                Step::Settling(deadline) => {
                    let rows = w.global::<Chats>().get_chats().row_count();
                    // A short catch-up may start and end between two ticks: any change
                    // of the status since the unlock counts as its run.
                    if search.has_changed().unwrap_or(false) {
                        search.borrow_and_update();
                        ran = true;
                    }
                    let running = search.borrow().running;
                    let late = Instant::now() >= deadline;
                    if rows > 0 && ((ran && !running) || late) {
                        let tail = if running { " searching" } else { "" };
                        eprintln!("kontor: bench settled {rows}{tail}");
                        step = Step::Settled;
                    }
                }
                Step::Settled => {
                    if line.as_deref().is_some_and(|l| l.as_str() == "open") {
                        w.global::<Chats>().invoke_open(room.as_str().into());
                        step = Step::Opening;
                    }
                }
                Step::Opening => {
                    if let Some(messages) = shown(&w, &room) {
                        eprintln!("kontor: bench shown {messages}");
                        step = Step::Shown;
                    }
                }
                Step::Shown => {}
            }
        },
    );
    Some(timer)
}

/// The number of messages the conversation view shows when it shows `room` loaded.
fn shown(w: &AppWindow, room: &str) -> Option<usize> {
    let c = w.global::<Conversation>();
    let rows = c.get_messages().row_count();
    (c.get_room_id() == room && !c.get_loading() && rows > 0).then_some(rows)
}
