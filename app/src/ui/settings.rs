//! The settings screen: answers the `Prefs` callbacks for the user's choices (language,
//! identity server, discovery, notifications, idle lock), shows them and has the service
//! save them. Devices, verification and recovery are `devices.rs`; sign-out is the
//! session's.

use std::sync::Arc;

use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, Contacts, ErrorKind, Prefs, Screen, Session, context::Ctx, lock::LockController,
    view::View,
};
use crate::service::settings::{self as prefs, LanguageChoice, Settings};

pub use super::devices::emojis;
pub use super::notices::desktop_name;

/// Keeps the settings on screen and saved.
pub(crate) struct SettingsController {
    ctx: Ctx,
    lock: Arc<LockController>,
}

impl SettingsController {
    /// Wires the `Prefs` callbacks of the user's choices.
    pub(crate) fn wire(
        window: &AppWindow,
        ctx: &Ctx,
        lock: &Arc<LockController>,
    ) -> Arc<SettingsController> {
        let me = Arc::new(SettingsController {
            ctx: ctx.clone(),
            lock: lock.clone(),
        });
        let p = window.global::<Prefs>();
        {
            let me = me.clone();
            p.on_open(move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let p = w.global::<Prefs>();
                if let Some((hs, device)) = me
                    .ctx
                    .service
                    .with_account(|k| (k.homeserver().to_owned(), k.device_id()))
                {
                    p.set_homeserver(hs.into());
                    p.set_device_id(device.into());
                }
                p.set_identity_server_invalid(false);
                p.set_identity_server_saved(false);
                let s = w.global::<Session>();
                s.set_error(ErrorKind::None);
                s.set_screen(Screen::Settings);
                p.invoke_refresh_devices();
            });
        }
        {
            let me = me.clone();
            p.on_back(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    w.global::<Session>().set_error(ErrorKind::None);
                    w.global::<Session>().set_screen(Screen::Chats);
                }
            });
        }
        {
            let me = me.clone();
            p.on_set_language_choice(move |code| {
                let choice = LanguageChoice::from_code(&code);
                let lang = choice.resolve(|k| std::env::var(k).ok());
                if let Some(w) = me.ctx.weak.upgrade() {
                    me.ctx.apply_language(&w, lang);
                }
                me.change(|s| s.language = choice);
            });
        }
        {
            let me = me.clone();
            p.on_set_identity_server(move |url| {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let p = w.global::<Prefs>();
                match prefs::validate_identity_server(&url) {
                    Ok(server) => {
                        p.set_identity_server_invalid(false);
                        p.set_identity_server_saved(true);
                        me.change(|s| s.identity_server = server);
                    }
                    Err(_) => {
                        p.set_identity_server_invalid(true);
                        p.set_identity_server_saved(false);
                    }
                }
            });
        }
        {
            let me = me.clone();
            p.on_set_discovery(move |on| me.change(|s| s.discovery = on));
        }
        {
            let me = me.clone();
            p.on_set_notifications(move |on| me.change(|s| s.notifications = on));
        }
        {
            let me = me.clone();
            p.on_set_notification_content(move |on| me.change(|s| s.notification_content = on));
        }
        {
            let me = me.clone();
            p.on_set_idle_minutes(move |m| {
                me.change(|s| s.idle_lock_minutes = u32::try_from(m).unwrap_or(0))
            });
        }
        me
    }

    /// Reads the saved settings off the UI thread, then applies them (language unless
    /// the config fixed it, idle time) and calls `then` on the UI thread.
    pub(crate) fn load(self: &Arc<Self>, then: impl FnOnce(&AppWindow) + Send + 'static) {
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            let (settings, warning) = me.ctx.service.load_settings().await;
            if let Some(w) = &warning {
                tracing::warn!("{w}");
            }
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                // Read on the UI thread, where `App::set_identity_server` also runs: a
                // server chosen for this run meanwhile is not overwritten.
                show(&w, &settings, me2.ctx.service.identity_server());
                w.global::<Prefs>().set_damaged(warning.is_some());
                if me2.ctx.config.language.is_none() {
                    let lang = settings.language.resolve(|k| std::env::var(k).ok());
                    me2.ctx.apply_language(&w, lang);
                }
                me2.lock.set_timeout(settings.idle_timeout());
                then(&w);
            });
        });
    }

    /// Changes the settings with `f`, shows them and saves them in the background.
    fn change(&self, f: impl FnOnce(&mut Settings)) {
        let (settings, save) = self.ctx.service.change_settings(f);
        if let Some(w) = self.ctx.weak.upgrade() {
            show(&w, &settings, self.ctx.service.identity_server());
        }
        self.lock.set_timeout(settings.idle_timeout());
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            match save.await {
                Ok(()) => ctx.on_ui(|w| w.global::<Prefs>().set_damaged(false)),
                Err(e) => ctx.fail(e),
            }
        });
    }
}

/// Shows the settings in the `Prefs` properties, and on the contacts screen whether
/// discovery is on and which server it would ask (`server`, the service's precedence).
fn show(w: &AppWindow, s: &Settings, server: Option<String>) {
    let p = w.global::<Prefs>();
    p.set_language_choice(s.language.code().into());
    p.set_identity_server(s.identity_server.clone().unwrap_or_default().into());
    p.set_discovery_enabled(s.discovery);
    p.set_notifications(s.notifications);
    p.set_notification_content(s.notification_content);
    p.set_idle_minutes(i32::try_from(s.idle_lock_minutes).unwrap_or(i32::MAX));
    // The contacts screens offer discovery only when it is on, and name the server the
    // service would ask (a removed one is no longer shown, or used).
    let c = w.global::<Contacts>();
    c.set_discovery_enabled(s.discovery);
    c.set_identity_server(server.unwrap_or_default().into());
}

impl View for SettingsController {
    fn name(&self) -> &'static str {
        "settings"
    }

    /// The account facts (the user's choices are not the account's and stay).
    fn clear(&self, w: &AppWindow) {
        let p = w.global::<Prefs>();
        p.set_homeserver(SharedString::new());
        p.set_device_id(SharedString::new());
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let p = w.global::<Prefs>();
        format!(
            "homeserver={} device={}",
            p.get_homeserver(),
            p.get_device_id()
        )
    }
}
