//! The prompt for incoming verification requests (`verify_prompt.slint`).
//!
//! When another device of the account asks to verify this one, a banner over whatever
//! screen is open names that device and offers Accept and Decline. Accept runs the
//! emoji comparison for exactly that request (by its flow id, not "the next request");
//! Decline cancels it on the protocol level, so the other device stops waiting.
//!
//! Which requests get a prompt, and why:
//! - Only our own devices. A request from another user (a customer, or anyone who can
//!   send us a message) gets none: the app offers no verification of other people yet,
//!   and a prompt per request would let anyone put a dialog on the freelancer's screen
//!   as often as they like. Such requests are left unanswered and expire by themselves
//!   (the spec gives them ten minutes); `kontor verify accept --from USER` can still
//!   take one.
//! - One prompt at a time. Two requests from one user at once are cancelled both by
//!   matrix-sdk (the crypto machine refuses parallel verifications with a user), so a
//!   second request takes the first prompt away and brings none of its own.
//! - Nothing while locked, and locking removes the prompt and declines its request: the
//!   lock promises that nothing of the account is shown or answered without the
//!   passphrase, the other device learns at once instead of waiting for the request to
//!   expire, and a request left open would make matrix-sdk cancel the next one the
//!   device sends after unlocking (the rule above).
//! - A request that is settled elsewhere (cancelled by the other device, accepted from
//!   the settings, expired) takes its prompt away.

use std::{cell::RefCell, sync::Arc};

use slint::{ComponentHandle, SharedString, Weak};

use super::{
    AppWindow, Lock, VerifyPrompt,
    controller::Shared,
    settings::{self, Start},
};

/// The request the prompt shows.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    user: String,
    flow_id: String,
    device: String,
}

thread_local! {
    /// The UI thread's one prompt (the window's state, like the models).
    static SHOWN: RefCell<Option<Shown>> = const { RefCell::new(None) };
}

/// Answers the prompt's buttons.
pub(crate) fn wire(window: &AppWindow, shared: &Arc<Shared>) {
    let p = window.global::<VerifyPrompt>();
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_accept(move || {
            let Some(req) = take(&weak) else { return };
            settings::verify(
                &sh,
                &weak,
                Start::Flow {
                    user: req.user,
                    flow_id: req.flow_id,
                    device: req.device,
                },
            );
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_decline(move || {
            if let (Some(req), Some(kontor)) = (take(&weak), sh.kontor()) {
                decline(&sh, kontor, req);
            }
        });
    }
}

/// A `CoreEvent::VerificationRequest`, on the UI thread: looks the request up (off the
/// UI thread) and shows the prompt if it is one of ours and still waits.
pub(crate) fn incoming(
    shared: &Arc<Shared>,
    weak: &Weak<AppWindow>,
    w: &AppWindow,
    user_id: String,
    flow_id: String,
) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    if user_id != kontor.user_id() {
        tracing::debug!("verification request from another user: no prompt");
        return;
    }
    if w.global::<Lock>().get_locked() {
        return;
    }
    if SHOWN.with(|s| s.borrow().as_ref().is_some_and(|s| s.flow_id == flow_id)) {
        return; // the same request again (to-device and sync may both report it)
    }
    let weak = weak.clone();
    shared.runtime().spawn(async move {
        let info = match kontor.incoming_verification(&user_id, &flow_id).await {
            Ok(Some(info)) if info.own => info,
            Ok(_) => return,
            Err(e) => return tracing::warn!("cannot read the verification request: {e}"),
        };
        let shown = Shown {
            user: info.user_id,
            flow_id: info.flow_id,
            device: info.device_id,
        };
        let name = info.device_name.unwrap_or_default();
        let flow = shown.flow_id.clone();
        let _ = weak.upgrade_in_event_loop(move |w| {
            if w.global::<Lock>().get_locked() {
                return;
            }
            let p = w.global::<VerifyPrompt>();
            p.set_device_name(name.into());
            p.set_device_id(shown.device.as_str().into());
            p.set_visible(true);
            SHOWN.with(|s| *s.borrow_mut() = Some(shown));
        });
        // Answered elsewhere, cancelled or expired: the prompt goes.
        kontor.verification_request_settled(&user_id, &flow).await;
        let _ = weak.upgrade_in_event_loop(move |w| {
            if SHOWN.with(|s| s.borrow().as_ref().is_some_and(|s| s.flow_id == flow)) {
                clear(&w);
            }
        });
    });
}

/// Hides the prompt and returns the request it showed.
fn take(weak: &Weak<AppWindow>) -> Option<Shown> {
    let w = weak.upgrade()?;
    let shown = SHOWN.with(|s| s.borrow_mut().take());
    clear(&w);
    shown
}

/// The idle lock: hides the prompt and declines its request (see the module docs).
pub(crate) fn lock(shared: &Arc<Shared>, w: &AppWindow) {
    let shown = SHOWN.with(|s| s.borrow_mut().take());
    clear(w);
    if let (Some(req), Some(kontor)) = (shown, shared.kontor()) {
        decline(shared, kontor, req);
    }
}

fn decline(shared: &Shared, kontor: Arc<kontor_core::Kontor>, req: Shown) {
    shared.runtime().spawn(async move {
        if let Err(e) = kontor.decline_verification(&req.user, &req.flow_id).await {
            tracing::warn!("cannot decline the verification request: {e}");
        }
    });
}

/// Hides the prompt and forgets the request (sign-out: the account is going away).
pub(crate) fn clear(w: &AppWindow) {
    SHOWN.with(|s| *s.borrow_mut() = None);
    let p = w.global::<VerifyPrompt>();
    p.set_visible(false);
    p.set_device_name(SharedString::new());
    p.set_device_id(SharedString::new());
}
