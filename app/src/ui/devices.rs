//! Devices of the account, their verification by emoji comparison (SAS), and the
//! recovery key: the security part of the settings screen. Verification and recovery
//! run on tokio through the service, which cancels them at sign-out.

use std::{
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use kontor_core::Verification;
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};
use zeroize::Zeroizing;

use super::{
    AppWindow, DeviceItem, EmojiItem, ErrorKind, Lock, Prefs, RecoveryState, SasState,
    context::{Ctx, empty},
    user_facing,
    view::View,
};

/// How long each side of a verification may take before Kontor gives up.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(120);

/// Devices, the verification in progress and recovery.
pub(crate) struct DevicesController {
    ctx: Ctx,
    verification: Mutex<Option<Arc<Verification>>>,
}

impl DevicesController {
    /// Wires the device, verification and recovery callbacks of `Prefs`.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<DevicesController> {
        let me = Arc::new(DevicesController {
            ctx: ctx.clone(),
            verification: Mutex::new(None),
        });
        let p = window.global::<Prefs>();
        p.set_devices(empty::<DeviceItem>());
        p.set_sas_emojis(empty::<EmojiItem>());
        {
            let me = me.clone();
            p.on_refresh_devices(move || me.refresh_devices());
        }
        {
            let me = me.clone();
            p.on_verify_device(move |id| me.verify(Start::Device(id.to_string())));
        }
        {
            let me = me.clone();
            p.on_accept_verification(move || me.verify(Start::Next));
        }
        {
            let me = me.clone();
            p.on_verify_flow(move |user, flow_id, device| {
                me.verify(Start::Flow {
                    user: user.to_string(),
                    flow_id: flow_id.to_string(),
                    device: device.to_string(),
                })
            });
        }
        {
            let me = me.clone();
            p.on_sas_match(move || me.sas_verdict(true));
        }
        {
            let me = me.clone();
            p.on_sas_mismatch(move || me.sas_verdict(false));
        }
        {
            let me = me.clone();
            p.on_sas_close(move || {
                *me.verification() = None;
                if let Some(w) = me.ctx.weak.upgrade() {
                    reset_sas(&w);
                }
                me.refresh_devices();
            });
        }
        {
            let me = me.clone();
            p.on_enable_recovery(move || me.recovery(None));
        }
        {
            let me = me.clone();
            p.on_restore_recovery(move |key| me.recovery(Some(Zeroizing::new(key.to_string()))));
        }
        {
            let me = me.clone();
            p.on_recovery_done(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    forget_recovery_key(&w);
                }
            });
        }
        me
    }

    fn verification(&self) -> MutexGuard<'_, Option<Arc<Verification>>> {
        self.verification.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn refresh_devices(&self) {
        if !self.ctx.service.signed_in() {
            return;
        }
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<Prefs>().set_devices_loading(true);
        }
        let ctx = self.ctx.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let devices = kontor.devices().await;
            let ctx2 = ctx.clone();
            ctx.on_ui(move |w| {
                let p = w.global::<Prefs>();
                p.set_devices_loading(false);
                match devices {
                    Ok(list) => {
                        let items: Vec<DeviceItem> = list
                            .into_iter()
                            .map(|d| DeviceItem {
                                id: d.id.into(),
                                name: d.name.unwrap_or_default().into(),
                                verified: d.verified,
                                current: d.current,
                            })
                            .collect();
                        p.set_devices(ModelRc::from(Rc::new(VecModel::from(items))));
                    }
                    Err(e) => ctx2.fail(e),
                }
            });
        });
    }

    /// Starts a verification (see [`Start`]) and shows the emojis once both sides have them.
    fn verify(self: &Arc<Self>, start: Start) {
        if !self.ctx.service.signed_in() {
            return;
        }
        if let Some(w) = self.ctx.weak.upgrade() {
            let p = w.global::<Prefs>();
            p.set_sas_state(SasState::Waiting);
            p.set_sas_device(
                match &start {
                    Start::Device(d) | Start::Flow { device: d, .. } => d.as_str(),
                    Start::Next => "",
                }
                .into(),
            );
            p.set_sas_error(ErrorKind::None);
        }
        let this = self.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let me = kontor.user_id();
            let started = match &start {
                Start::Device(d) => {
                    kontor
                        .request_verification(&me, Some(d), VERIFY_TIMEOUT)
                        .await
                }
                Start::Next => kontor.accept_verification(Some(&me), VERIFY_TIMEOUT).await,
                Start::Flow { user, flow_id, .. } => {
                    kontor
                        .accept_verification_flow(user, flow_id, VERIFY_TIMEOUT)
                        .await
                }
            };
            let v = match started {
                Ok(v) => Arc::new(v),
                Err(e) => return sas_failed(&this.ctx, e),
            };
            let emojis = match v.emojis(VERIFY_TIMEOUT).await {
                Ok(e) => e,
                Err(e) => return sas_failed(&this.ctx, e),
            };
            let other = v.other_device();
            *this.verification() = Some(v);
            this.ctx.on_ui(move |w| {
                let p = w.global::<Prefs>();
                if p.get_sas_state() != SasState::Waiting {
                    return; // closed meanwhile
                }
                let items: Vec<EmojiItem> = emojis
                    .into_iter()
                    .map(|e| EmojiItem {
                        symbol: e.symbol.into(),
                        name: e.description.into(),
                    })
                    .collect();
                p.set_sas_emojis(ModelRc::from(Rc::new(VecModel::from(items))));
                p.set_sas_device(other.into());
                p.set_sas_state(SasState::Compare);
            });
        });
    }

    /// "They match" confirms and waits for the other side; "they don't match" cancels.
    fn sas_verdict(self: &Arc<Self>, matched: bool) {
        let Some(v) = self.verification().clone() else {
            return;
        };
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<Prefs>().set_sas_state(if matched {
                SasState::Confirming
            } else {
                SasState::Mismatch
            });
        }
        let me = self.clone();
        // Through the service: a sign-out meanwhile ends it, so it cannot report into
        // the next session.
        self.ctx.service.spawn(move |_| async move {
            if !matched {
                if let Err(e) = v.mismatch().await {
                    tracing::warn!("cannot cancel the verification: {e}");
                }
                *me.verification() = None;
                return;
            }
            match v.confirm(VERIFY_TIMEOUT).await {
                Ok(()) => me
                    .ctx
                    .on_ui(|w| w.global::<Prefs>().set_sas_state(SasState::Verified)),
                Err(e) => sas_failed(&me.ctx, e),
            }
            *me.verification() = None;
        });
    }

    /// Sets up the backup (no key given: shows the new recovery key once) or restores from
    /// a recovery key.
    fn recovery(&self, key: Option<Zeroizing<String>>) {
        if !self.ctx.service.signed_in() {
            return;
        }
        let restoring = key.is_some();
        if let Some(w) = self.ctx.weak.upgrade() {
            let p = w.global::<Prefs>();
            p.set_recovery_state(RecoveryState::Working);
            p.set_recovery_restoring(restoring);
            p.set_recovery_error(ErrorKind::None);
        }
        let ctx = self.ctx.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let result = match &key {
                Some(k) => kontor.recover(k).await.map(|()| None),
                None => kontor
                    .enable_recovery()
                    .await
                    .map(|k| Some(Zeroizing::new(k))),
            };
            let result = result.map_err(|e| user_facing::report(&e.into()));
            ctx.on_ui(move |w| {
                let p = w.global::<Prefs>();
                if w.global::<Lock>().get_locked() {
                    return forget_recovery_key(&w);
                }
                match result {
                    Ok(Some(new_key)) => {
                        p.set_recovery_key(new_key.as_str().into());
                        p.set_recovery_state(RecoveryState::Shown);
                    }
                    Ok(None) => p.set_recovery_state(RecoveryState::Restored),
                    Err(kind) => {
                        p.set_recovery_error(kind);
                        p.set_recovery_state(RecoveryState::Failed);
                    }
                }
            });
        });
    }
}

/// Shows why a verification failed.
fn sas_failed(ctx: &Ctx, e: kontor_core::Error) {
    let kind = user_facing::report(&e.into());
    ctx.on_ui(move |w| {
        let p = w.global::<Prefs>();
        p.set_sas_state(SasState::Failed);
        p.set_sas_error(kind);
    });
}

/// Clears the recovery key from the UI (it is shown once, then gone).
fn forget_recovery_key(w: &AppWindow) {
    let p = w.global::<Prefs>();
    p.set_recovery_key(SharedString::new());
    p.set_recovery_error(ErrorKind::None);
    p.set_recovery_state(RecoveryState::Idle);
}

fn reset_sas(w: &AppWindow) {
    let p = w.global::<Prefs>();
    p.set_sas_state(SasState::Idle);
    p.set_sas_device(SharedString::new());
    p.set_sas_error(ErrorKind::None);
    p.set_sas_emojis(ModelRc::from(Rc::new(VecModel::<EmojiItem>::default())));
}

impl View for DevicesController {
    fn name(&self) -> &'static str {
        "devices"
    }

    fn clear(&self, w: &AppWindow) {
        *self.verification() = None;
        reset_sas(w);
        forget_recovery_key(w);
        w.global::<Prefs>().set_devices(empty::<DeviceItem>());
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let p = w.global::<Prefs>();
        let devices: Vec<String> = p.get_devices().iter().map(|d| d.id.to_string()).collect();
        format!(
            "devices={devices:?} sas={:?} sas_device={} emojis={:?} recovery={:?} key={}",
            p.get_sas_state(),
            p.get_sas_device(),
            emojis(w),
            p.get_recovery_state(),
            p.get_recovery_key()
        )
    }
}

/// How a verification begins.
enum Start {
    /// We ask our device with this id (its "Verify" button).
    Device(String),
    /// We accept the next request another device of ours sends ("Accept a request").
    Next,
    /// We accept exactly this request (the prompt, `verify_prompt.rs`).
    Flow {
        /// Who asks (our own id).
        user: String,
        /// The request.
        flow_id: String,
        /// The device that asks, shown while waiting.
        device: String,
    },
}

/// The model's contents as plain values (tests read the emojis through this).
pub fn emojis(w: &AppWindow) -> Vec<(String, String)> {
    w.global::<Prefs>()
        .get_sas_emojis()
        .iter()
        .map(|e| (e.symbol.to_string(), e.name.to_string()))
        .collect()
}
