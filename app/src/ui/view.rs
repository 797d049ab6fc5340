//! The registry of view controllers.
//!
//! Every controller registers here when the window is built. The lock and the sign-out
//! empty *every* registered view through [`Views::clear_all`], so a new screen cannot be
//! forgotten on a hand-kept list (before, `lock_now` named each screen). Core events go
//! to every view through [`Views::event`]; each picks what it cares about.

use std::sync::Arc;

use kontor_core::CoreEvent;

use super::AppWindow;
use crate::service::{consent::ConsentChanged, quotes::Answered};

/// One view's controller: it owns that view's state and wires its global's callbacks.
pub trait View: Send + Sync {
    /// A name for logs and test failures.
    fn name(&self) -> &'static str;

    /// Empties everything the view shows of the account and forgets its state: the idle
    /// lock promises that nothing of the account stays on screen.
    fn clear(&self, w: &AppWindow);

    /// What the view shows now, as text: the lock story compares it with a fresh
    /// window's, for every registered view, so a new view is covered by that test
    /// without editing it. List every property that can hold account data.
    fn snapshot(&self, w: &AppWindow) -> String;

    /// A core event, on the UI thread.
    fn event(&self, _w: &AppWindow, _event: &CoreEvent) {}

    /// The account is signed in (after login or unlock of a stored session), on the UI
    /// thread: what follows the account for the whole session starts here.
    fn signed_in(&self, _w: &AppWindow) {}

    /// A customer answered one of the account's quotes (already recorded by the
    /// service), on the UI thread.
    fn quote_answered(&self, _w: &AppWindow, _answered: &Answered) {}

    /// A contact's consent changed in the chat (already recorded by the service), on
    /// the UI thread.
    fn consent_changed(&self, _w: &AppWindow, _changed: &ConsentChanged) {}
}

/// The registered views, in registration order.
#[derive(Clone, Default)]
pub struct Views(Arc<Vec<Arc<dyn View>>>);

impl Views {
    /// The registry of `views`.
    pub fn new(views: Vec<Arc<dyn View>>) -> Views {
        Views(Arc::new(views))
    }

    /// Empties every view.
    pub fn clear_all(&self, w: &AppWindow) {
        for v in self.0.iter() {
            v.clear(w);
        }
    }

    /// Hands a core event to every view.
    pub fn event(&self, w: &AppWindow, event: &CoreEvent) {
        for v in self.0.iter() {
            v.event(w, event);
        }
    }

    /// Tells every view that the account is signed in.
    pub fn signed_in(&self, w: &AppWindow) {
        for v in self.0.iter() {
            v.signed_in(w);
        }
    }

    /// Hands a quote's answer to every view.
    pub fn quote_answered(&self, w: &AppWindow, answered: &Answered) {
        for v in self.0.iter() {
            v.quote_answered(w, answered);
        }
    }

    /// Hands a consent change to every view.
    pub fn consent_changed(&self, w: &AppWindow, changed: &ConsentChanged) {
        for v in self.0.iter() {
            v.consent_changed(w, changed);
        }
    }

    /// Each view's name and [`View::snapshot`].
    pub fn snapshots(&self, w: &AppWindow) -> Vec<(&'static str, String)> {
        self.0.iter().map(|v| (v.name(), v.snapshot(w))).collect()
    }
}
