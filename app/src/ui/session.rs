//! The account's way in and out of the window: onboarding (login), unlock, the language
//! buttons, and, once signed in, the stream of core events handed to every view.
//!
//! Unlocking while the idle lock holds is the lock controller's (`Lock.resume`); this
//! controller only passes the passphrase on.

use std::sync::Arc;

use kontor_core::CoreEvent;
use slint::{ComponentHandle, SharedString};
use tokio::sync::broadcast::error::RecvError;
use zeroize::Zeroizing;

use super::{
    AppWindow, Chats, Contacts, ErrorKind, Lock, Screen, Session, context::Ctx, format::Language,
    view::Views,
};
use crate::service::{LoginFailed, Unlocked, settings::LanguageChoice};

/// Answers the `Session` callbacks.
pub(crate) struct SessionController {
    ctx: Ctx,
    views: Views,
}

impl SessionController {
    /// Wires the `Session` global.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx, views: &Views) -> Arc<SessionController> {
        let me = Arc::new(SessionController {
            ctx: ctx.clone(),
            views: views.clone(),
        });
        let s = window.global::<Session>();
        {
            let me = me.clone();
            s.on_unlock(move |pass| me.unlock(Zeroizing::new(pass.to_string())));
        }
        {
            let me = me.clone();
            s.on_login(move |hs, user, password, pass| {
                me.login(
                    hs.trim().to_owned(),
                    user.trim().to_owned(),
                    Zeroizing::new(password.to_string()),
                    Zeroizing::new(pass.to_string()),
                )
            });
        }
        {
            let me = me.clone();
            s.on_set_language(move |code| {
                let lang = Language::from_code(&code);
                if let Some(w) = me.ctx.weak.upgrade() {
                    me.ctx.apply_language(&w, lang);
                    // The language buttons of the chat list and onboarding also set the
                    // saved choice (Prefs shows it).
                    w.global::<super::Prefs>().invoke_set_language_choice(
                        match lang {
                            Language::German => LanguageChoice::De,
                            Language::English => LanguageChoice::En,
                        }
                        .code()
                        .into(),
                    );
                }
            });
        }
        {
            let me = me.clone();
            window
                .global::<super::Prefs>()
                .on_sign_out(move || me.sign_out());
        }
        {
            let me = me.clone();
            s.on_clear_views(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    me.views.clear_all(&w);
                }
            });
        }
        me
    }

    /// Picks the first screen: unlock when a profile exists, else onboarding (a stat, so
    /// off the UI thread like all disk access).
    pub(crate) fn first_screen(&self) {
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            let exists = ctx.service.profile_exists().await;
            ctx.on_ui(move |w| {
                w.global::<Session>().set_screen(if exists {
                    Screen::Unlock
                } else {
                    Screen::Onboarding
                });
            });
        });
    }

    fn set_busy(&self) {
        if let Some(w) = self.ctx.weak.upgrade() {
            let s = w.global::<Session>();
            s.set_busy(true);
            s.set_error(ErrorKind::None);
        }
    }

    fn unlock(self: &Arc<Self>, passphrase: Zeroizing<String>) {
        if let Some(w) = self.ctx.weak.upgrade()
            && w.global::<Lock>().get_locked()
            && self.ctx.service.signed_in()
        {
            return w.global::<Lock>().invoke_resume(passphrase.as_str().into());
        }
        self.set_busy();
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            match me.ctx.service.unlock(passphrase).await {
                Ok(Unlocked::SignedIn) => me.signed_in(),
                Ok(Unlocked::NeedsLogin) => {
                    me.show_book();
                    me.ctx.on_ui(|w| {
                        let s = w.global::<Session>();
                        s.set_busy(false);
                        s.set_profile_unlocked(true);
                        s.set_onboarding_step(0);
                        s.set_screen(Screen::Onboarding);
                    });
                }
                Err(e) => me.ctx.fail(e),
            }
        });
    }

    fn login(
        self: &Arc<Self>,
        homeserver: String,
        user: String,
        password: Zeroizing<String>,
        passphrase: Zeroizing<String>,
    ) {
        self.set_busy();
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            match me
                .ctx
                .service
                .login(&homeserver, &user, password, passphrase)
                .await
            {
                Ok(()) => me.signed_in(),
                Err(LoginFailed {
                    error,
                    back_to_unlock,
                    attempted,
                }) => {
                    let kind = super::user_facing::report(&error.into());
                    me.ctx.on_ui(move |w| {
                        let s = w.global::<Session>();
                        s.set_busy(false);
                        s.set_error(kind);
                        if attempted {
                            s.set_onboarding_step(0);
                        }
                        if back_to_unlock {
                            s.set_profile_unlocked(false);
                            s.set_screen(Screen::Unlock);
                        }
                    });
                }
            }
        });
    }

    /// Shows the contacts button when the book is open.
    fn show_book(&self) {
        let available = self.ctx.service.book().is_ok();
        self.ctx
            .on_ui(move |w| w.global::<Contacts>().set_available(available));
    }

    /// After unlock or login (or the demo's ready account): follow the account's events,
    /// start the sync and show the chats.
    pub(crate) fn signed_in(self: &Arc<Self>) {
        self.show_book();
        let Some(mut rx) = self.ctx.service.start() else {
            return;
        };
        let user = self
            .ctx
            .service
            .with_account(|k| k.user_id())
            .unwrap_or_default();
        let views = self.views.clone();
        self.ctx.on_ui(move |w| {
            let s = w.global::<Session>();
            s.set_busy(false);
            s.set_profile_unlocked(false);
            s.set_user_id(user.into());
            s.set_screen(Screen::Chats);
            w.global::<Chats>().invoke_reload();
            views.signed_in(&w);
        });
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            // What the account's other devices did, and answers that came while no
            // Kontor ran (the sync delivers only what is new from now on).
            let service = me.ctx.service.clone();
            tokio::spawn(async move {
                if let Err(e) = service.catch_up_quotes().await {
                    tracing::debug!("business room not read: {e}");
                }
                if let Err(e) = service.catch_up_answers().await {
                    tracing::debug!("answers not caught up: {e}");
                }
                if let Err(e) = service.catch_up_consent().await {
                    tracing::debug!("consent answers not caught up: {e}");
                }
                // Last: the search index's catch-up and backfill (the longest, never
                // blocking anything; its progress goes to `Service::search_progress`),
                // once the device knows every chat.
                if let Err(e) = service.update_search_after_sign_in().await {
                    tracing::debug!("search index not updated: {e}");
                }
            });
            loop {
                match rx.recv().await {
                    Ok(event) => {
                        if let Some(answered) = me.ctx.service.observe_quotes(&event).await {
                            let views = me.views.clone();
                            me.ctx.on_ui(move |w| views.quote_answered(&w, &answered));
                        }
                        if let Some(changed) = me.ctx.service.observe_consent(&event).await {
                            let views = me.views.clone();
                            me.ctx.on_ui(move |w| views.consent_changed(&w, &changed));
                        }
                        me.ctx.service.observe_search(&event).await;
                        me.deliver(event)
                    }
                    // Too slow to keep up: the list is rebuilt from the server's state.
                    Err(RecvError::Lagged(_)) => {
                        me.ctx.on_ui(|w| w.global::<Chats>().invoke_reload())
                    }
                    Err(RecvError::Closed) => return,
                }
            }
        });
    }

    fn deliver(self: &Arc<Self>, event: CoreEvent) {
        let me = self.clone();
        self.ctx.on_ui(move |w| {
            if let CoreEvent::Connection(state) = &event {
                w.global::<Session>()
                    .set_online(*state == kontor_core::ConnectionState::Online);
            }
            me.views.event(&w, &event);
        });
    }
}

impl SessionController {
    /// Logs out on the server and deletes the local profile (the settings file stays),
    /// then starts onboarding. Returns to the UI when the service has closed the client.
    fn sign_out(self: &Arc<Self>) {
        if !self.ctx.service.signed_in() {
            return;
        }
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<Session>().set_busy(true);
            w.global::<Contacts>().set_available(false);
        }
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            let result = me.ctx.service.sign_out().await;
            let kind = result.err().map(|e| super::user_facing::report(&e.into()));
            let views = me.views.clone();
            me.ctx.on_ui(move |w| {
                views.clear_all(&w);
                let s = w.global::<Session>();
                s.set_busy(false);
                s.set_user_id(SharedString::new());
                if let Some(k) = kind {
                    s.set_error(k);
                }
                s.set_onboarding_step(0);
                s.set_screen(Screen::Onboarding);
            });
        });
    }
}
