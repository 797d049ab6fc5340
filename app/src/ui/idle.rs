//! The idle lock. A work phone lies on the counter: after a while without input Kontor
//! hides everything and asks for the passphrase again.
//!
//! Input: `app.slint` wraps every screen in a `TouchArea` whose mouse position changes
//! with each pointer event on its way to the views, and a `FocusScope` whose
//! `capture-key-pressed` sees each key press first; both call `Lock.activity`, which
//! stamps the time here. A Slint timer on the UI thread checks the stamp twice a second.
//!
//! Locking clears every model and property that shows account data, drops the unlocked
//! contact book (its keys are `Zeroizing` and wiped on drop) and shows the unlock
//! screen. The Matrix client keeps running, so sync and the outbox go on; events that
//! arrive meanwhile change nothing visible. Unlocking checks the passphrase against the
//! profile (Argon2id, off the UI thread), reopens the book and reloads the chat list:
//! no new login.

use std::{
    cell::Cell,
    sync::Arc,
    time::{Duration, Instant},
};

use slint::{ComponentHandle, SharedString, Weak};
use zeroize::Zeroizing;

use super::{
    AppWindow, ErrorKind, Lock, Screen, Session,
    controller::{self, Shared},
};

/// How often the timer looks at the last input.
const TICK: Duration = Duration::from_millis(500);

thread_local! {
    static LAST_INPUT: Cell<Instant> = Cell::new(Instant::now());
    /// `None`: never lock.
    static TIMEOUT: Cell<Option<Duration>> = const { Cell::new(Some(Duration::from_secs(300))) };
    static TIMER: slint::Timer = slint::Timer::default();
}

/// Sets the idle time (from the settings; tests set a short one). Restarts the count.
pub fn set_timeout(timeout: Option<Duration>) {
    TIMEOUT.with(|t| t.set(timeout));
    touch();
}

/// Input happened.
fn touch() {
    LAST_INPUT.with(|l| l.set(Instant::now()));
}

/// Whether the app should lock now: a session is shown, not already locked, and the
/// idle time has passed. Pure, for the unit test.
fn due(idle_for: Duration, timeout: Option<Duration>, signed_in: bool, locked: bool) -> bool {
    signed_in && !locked && timeout.is_some_and(|t| idle_for >= t)
}

/// Installs the input hook and starts the timer.
pub(crate) fn wire(window: &AppWindow, shared: &Arc<Shared>) {
    window.global::<Lock>().on_activity(touch);
    touch();
    let (sh, weak) = (shared.clone(), window.as_weak());
    TIMER.with(|t| {
        t.start(slint::TimerMode::Repeated, TICK, move || {
            let Some(w) = weak.upgrade() else { return };
            let idle_for = LAST_INPUT.with(|l| l.get().elapsed());
            let timeout = TIMEOUT.with(Cell::get);
            let signed_in = sh.kontor().is_some();
            if due(
                idle_for,
                timeout,
                signed_in,
                w.global::<Lock>().get_locked(),
            ) {
                lock_now(&sh, &w);
            }
        });
    });
}

/// Locks: nothing of the account stays on screen or unlocked in memory.
pub(crate) fn lock_now(shared: &Arc<Shared>, w: &AppWindow) {
    w.global::<Lock>().set_locked(true);
    super::verify_prompt::lock(shared, w);
    controller::clear_views(w);
    super::settings::clear(shared, w);
    controller::set_book(shared, &w.as_weak(), None);
    let s = w.global::<Session>();
    s.set_busy(false);
    s.set_error(ErrorKind::None);
    s.set_error_detail(SharedString::new());
    s.set_screen(Screen::Unlock);
}

/// Whether the window is locked over a running session (the unlock screen then
/// resumes it instead of restoring the account).
pub(crate) fn is_locked(weak: &Weak<AppWindow>, shared: &Shared) -> bool {
    shared.kontor().is_some()
        && weak
            .upgrade()
            .is_some_and(|w| w.global::<Lock>().get_locked())
}

/// The unlock screen while locked: checks the passphrase, reopens the contact book and
/// shows the chats again. A wrong passphrase shows the same error as at start.
pub(crate) fn resume(shared: &Arc<Shared>, weak: &Weak<AppWindow>, passphrase: Zeroizing<String>) {
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.runtime().spawn(async move {
        match controller::open_profile(&sh, passphrase.clone()).await {
            // The account is already open; this copy of its keys only proved the
            // passphrase and is wiped right away.
            Ok(profile) => drop(profile),
            Err(e) => {
                let (k, d) = controller::core_error(&e);
                return controller::show_error(&weak, k, d);
            }
        }
        controller::open_book(&sh, &weak, passphrase).await;
        let sh2 = sh.clone();
        let weak2 = weak.clone();
        let _ = weak.upgrade_in_event_loop(move |w| {
            w.global::<Lock>().set_locked(false);
            touch();
            let s = w.global::<Session>();
            s.set_busy(false);
            s.set_error(ErrorKind::None);
            s.set_screen(Screen::Chats);
            controller::reload_chats(&sh2, &weak2);
        });
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_only_a_session_after_the_idle_time() {
        let five = Some(Duration::from_secs(300));
        assert!(due(Duration::from_secs(300), five, true, false));
        assert!(!due(Duration::from_secs(299), five, true, false));
        assert!(
            !due(Duration::from_secs(900), five, false, false),
            "no session"
        );
        assert!(
            !due(Duration::from_secs(900), five, true, true),
            "already locked"
        );
        assert!(!due(Duration::from_secs(9000), None, true, false), "never");
    }
}
