//! The idle lock: after the chosen time without input the window locks. Every registered
//! view is emptied (one list, [`Views::clear_all`]), the contact book's keys are dropped,
//! and only the passphrase opens it again. The account stays signed in meanwhile, so
//! messages still arrive (their notices name nobody while locked). A login is not needed
//! again: the profile checks the passphrase.

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use slint::ComponentHandle;
use zeroize::Zeroizing;

use super::{
    AppWindow, Chats, Contacts, ErrorKind, Lock, Screen, Session, context::Ctx, view::Views,
};

/// How often the idle time is checked.
const TICK: Duration = Duration::from_millis(500);

/// The lock's state: the last input and the idle time.
pub(crate) struct LockController {
    ctx: Ctx,
    /// Set once every view is registered (the settings view needs the lock first).
    views: OnceLock<Views>,
    idle: Mutex<Idle>,
}

struct Idle {
    last_input: Instant,
    /// `None`: never lock.
    timeout: Option<Duration>,
}

/// Whether it is time to lock: a signed-in session, not locked yet, idle long enough.
fn due(idle_for: Duration, timeout: Option<Duration>, signed_in: bool, locked: bool) -> bool {
    signed_in && !locked && timeout.is_some_and(|t| idle_for >= t)
}

impl LockController {
    /// Wires `Lock` and starts the idle timer, which the caller keeps (dropping it stops
    /// the checks).
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> (Arc<LockController>, slint::Timer) {
        let me = Arc::new(LockController {
            ctx: ctx.clone(),
            views: OnceLock::new(),
            idle: Mutex::new(Idle {
                last_input: Instant::now(),
                timeout: Some(Duration::from_secs(300)),
            }),
        });
        let l = window.global::<Lock>();
        {
            let me = me.clone();
            l.on_activity(move || me.touch());
        }
        {
            let me = me.clone();
            l.on_resume(move |pass| me.resume(Zeroizing::new(pass.to_string())));
        }
        let timer = slint::Timer::default();
        {
            let me = me.clone();
            timer.start(slint::TimerMode::Repeated, TICK, move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let (idle_for, timeout) = {
                    let i = me.idle.lock().unwrap_or_else(|p| p.into_inner());
                    (i.last_input.elapsed(), i.timeout)
                };
                if due(
                    idle_for,
                    timeout,
                    me.ctx.service.signed_in(),
                    w.global::<Lock>().get_locked(),
                ) {
                    me.lock_now(&w);
                }
            });
        }
        (me, timer)
    }

    /// The views the lock empties.
    pub(crate) fn set_views(&self, views: Views) {
        let _ = self.views.set(views);
    }

    fn touch(&self) {
        self.idle
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .last_input = Instant::now();
    }

    /// Sets the idle time (`None`: never) and counts it from now.
    pub(crate) fn set_timeout(&self, timeout: Option<Duration>) {
        let mut i = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        i.timeout = timeout;
        i.last_input = Instant::now();
    }

    /// Locks now: every view emptied, the book's keys dropped, the unlock screen shown.
    pub(crate) fn lock_now(&self, w: &AppWindow) {
        w.global::<Lock>().set_locked(true);
        if let Some(views) = self.views.get() {
            views.clear_all(w);
        }
        self.ctx.service.lock();
        w.global::<Contacts>().set_available(false);
        let s = w.global::<Session>();
        s.set_busy(false);
        s.set_error(ErrorKind::None);
        s.set_screen(Screen::Unlock);
    }

    /// The passphrase while locked: checked against the profile (no new login), the book
    /// opened again, and the chats shown.
    fn resume(self: &Arc<Self>, passphrase: Zeroizing<String>) {
        if let Some(w) = self.ctx.weak.upgrade() {
            let s = w.global::<Session>();
            s.set_busy(true);
            s.set_error(ErrorKind::None);
        }
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            if let Err(e) = me.ctx.service.resume(passphrase).await {
                return me.ctx.fail(e);
            }
            // What arrived while locked was not indexed (the index was closed).
            let service = me.ctx.service.clone();
            tokio::spawn(async move {
                if let Err(e) = service.update_search(true, |_| {}).await {
                    tracing::debug!("search index not updated: {e}");
                }
            });
            let available = me.ctx.service.book().is_ok();
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                w.global::<Lock>().set_locked(false);
                me2.touch();
                w.global::<Contacts>().set_available(available);
                let s = w.global::<Session>();
                s.set_busy(false);
                s.set_error(ErrorKind::None);
                s.set_screen(Screen::Chats);
                w.global::<Chats>().invoke_reload();
                if let Some(views) = me2.views.get() {
                    views.signed_in(&w);
                }
            });
        });
    }
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
