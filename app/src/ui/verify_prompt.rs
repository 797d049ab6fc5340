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

use std::sync::{Arc, Mutex, MutexGuard};

use kontor_core::CoreEvent;
use slint::{ComponentHandle, SharedString};

use super::{AppWindow, Lock, Prefs, VerifyPrompt, context::Ctx, view::View};

/// The request the prompt is about.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Shown {
    user: String,
    flow_id: String,
    device: String,
}

/// The prompt's one request at a time.
pub(crate) struct VerifyPromptController {
    ctx: Ctx,
    shown: Mutex<Option<Shown>>,
}

impl VerifyPromptController {
    /// Wires `VerifyPrompt`.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<VerifyPromptController> {
        let me = Arc::new(VerifyPromptController {
            ctx: ctx.clone(),
            shown: Mutex::new(None),
        });
        let p = window.global::<VerifyPrompt>();
        {
            let me = me.clone();
            p.on_accept(move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let Some(req) = me.take(&w) else { return };
                // The emoji comparison is the settings' (devices.rs): over any screen.
                w.global::<Prefs>().invoke_verify_flow(
                    req.user.into(),
                    req.flow_id.into(),
                    req.device.into(),
                );
            });
        }
        {
            let me = me.clone();
            p.on_decline(move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                if let Some(req) = me.take(&w) {
                    me.decline(req);
                }
            });
        }
        me
    }

    fn shown(&self) -> MutexGuard<'_, Option<Shown>> {
        self.shown.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn is_shown(&self, flow_id: &str) -> bool {
        self.shown().as_ref().is_some_and(|s| s.flow_id == flow_id)
    }

    /// A request arrived (UI thread).
    fn incoming(self: &Arc<Self>, w: &AppWindow, user_id: &str, flow_id: &str) {
        let Some(me_id) = self.ctx.service.with_account(|k| k.user_id()) else {
            return;
        };
        if user_id != me_id {
            tracing::debug!("verification request from another user: no prompt");
            return;
        }
        if w.global::<Lock>().get_locked() || self.is_shown(flow_id) {
            return; // the same request again (to-device and sync may both report it)
        }
        let (me, user_id, flow_id) = (self.clone(), user_id.to_owned(), flow_id.to_owned());
        self.ctx.service.spawn(move |kontor| async move {
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
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                if w.global::<Lock>().get_locked() {
                    return;
                }
                let p = w.global::<VerifyPrompt>();
                p.set_device_name(name.into());
                p.set_device_id(shown.device.as_str().into());
                p.set_visible(true);
                *me2.shown() = Some(shown);
            });
            kontor.verification_request_settled(&user_id, &flow).await;
            let me3 = me.clone();
            me.ctx.on_ui(move |w| {
                if me3.is_shown(&flow) {
                    me3.hide(&w);
                }
            });
        });
    }

    fn take(&self, w: &AppWindow) -> Option<Shown> {
        let shown = self.shown().take();
        self.hide(w);
        shown
    }

    fn decline(&self, req: Shown) {
        self.ctx.service.spawn(move |kontor| async move {
            if let Err(e) = kontor.decline_verification(&req.user, &req.flow_id).await {
                tracing::warn!("cannot decline the verification request: {e}");
            }
        });
    }

    fn hide(&self, w: &AppWindow) {
        *self.shown() = None;
        let p = w.global::<VerifyPrompt>();
        p.set_visible(false);
        p.set_device_name(SharedString::new());
        p.set_device_id(SharedString::new());
    }
}

impl View for Arc<VerifyPromptController> {
    fn name(&self) -> &'static str {
        "verify-prompt"
    }

    /// Removes the prompt and declines its request (see the module docs).
    fn clear(&self, w: &AppWindow) {
        if let Some(req) = self.take(w) {
            self.decline(req);
        }
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let p = w.global::<VerifyPrompt>();
        format!(
            "visible={} name={} id={}",
            p.get_visible(),
            p.get_device_name(),
            p.get_device_id()
        )
    }

    fn event(&self, w: &AppWindow, event: &CoreEvent) {
        if let CoreEvent::VerificationRequest { user_id, flow_id } = event {
            self.incoming(w, user_id, flow_id);
        }
    }
}
