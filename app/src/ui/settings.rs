//! The settings screen: answers the `Prefs` callbacks, keeps [`prefs::Settings`] and
//! saves them (on a blocking thread), runs device verification and recovery on tokio,
//! and builds the new-message notice.
//!
//! Notifications: [`notice_for`] decides whether a message gets one and what it may say;
//! [`notify`] sends it to the desktop (`desktop.rs`, D-Bus) and shows the in-app banner
//! (`Notices`) only when that fails (no session bus, no notification server), so the user
//! is told once, not twice. The desktop one is stricter than the banner: it leaves the
//! app (the desktop draws it, may keep it in a history, show it on the lock screen or
//! mirror it to a phone), so it never names a sender by a Matrix id or anything that
//! looks like a phone number ([`desktop_name`]).

use std::{
    path::PathBuf,
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use kontor_core::{Message, MessageBody, Verification};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel, Weak};
use zeroize::Zeroizing;

use super::{
    AppWindow, DeviceItem, EmojiItem, ErrorKind, Language, Lock, Notices, Prefs, RecoveryState,
    SasState, Screen, Session,
    controller::{self, Shared},
    prefs::{self, LanguageChoice, Settings},
};

/// How long each side of a verification may take before Kontor gives up.
const VERIFY_TIMEOUT: Duration = Duration::from_secs(120);
/// How long a notice stays up.
const NOTICE_TIME: Duration = Duration::from_secs(8);

/// The settings and the verification in progress, shared with tokio tasks.
pub(crate) struct State {
    data_dir: PathBuf,
    /// Loaded once at start; every change writes the whole value back.
    current: Mutex<Settings>,
    /// The config fixed the language (tests, `--lang`): the saved choice does not
    /// override it at start.
    language_fixed: bool,
    verification: Mutex<Option<Arc<Verification>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl State {
    pub(crate) fn new(data_dir: PathBuf, language_fixed: bool) -> Arc<State> {
        Arc::new(State {
            data_dir,
            current: Mutex::new(Settings::default()),
            language_fixed,
            verification: Mutex::new(None),
        })
    }

    /// A copy of the settings now in force.
    pub(crate) fn get(&self) -> Settings {
        lock(&self.current).clone()
    }

    /// The identity server contact discovery should use (see
    /// [`Settings::effective_identity_server`] for the precedence), or `None` when
    /// discovery is off or no server is known.
    pub(crate) fn discovery_server(&self) -> Option<String> {
        let s = self.get();
        s.discovery
            .then(|| s.effective_identity_server(|k| std::env::var(k).ok()))
            .flatten()
    }
}

/// Who wrote and, only if allowed, what: the data of a new-message notice. The text
/// around it ("New message from …") is translated in `settings.slint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The sender's name; empty while the app is locked (nothing is shown then).
    pub sender: String,
    /// The message text or file name; empty unless message content is switched on.
    pub body: String,
    /// The chat, so the notice can open it.
    pub room_id: String,
}

/// The notice for a received message, or `None` when there is to be none: our own
/// message, notifications off, or the chat already open in front of the user.
///
/// Why the sender's name is shown by default: without it a notice is of little use
/// ("which customer?"), and a name is far less sensitive than what the customer wrote;
/// the content stays out unless the user turns it on. While locked not even the name
/// is given: the lock promises that nothing of the account is shown.
pub fn notice_for(
    msg: &Message,
    sender_name: Option<&str>,
    settings: &Settings,
    open_room: Option<&str>,
    locked: bool,
) -> Option<Notice> {
    if msg.own || !settings.notifications || (!locked && open_room == Some(&*msg.room_id)) {
        return None;
    }
    let sender = if locked {
        String::new()
    } else {
        sender_name
            .filter(|n| !n.is_empty())
            .unwrap_or(&msg.sender)
            .to_owned()
    };
    let body = if settings.notification_content && !locked {
        match &msg.body {
            MessageBody::Text { text } | MessageBody::Other { text, .. } => text.clone(),
            MessageBody::File { name, .. } => name.clone(),
            MessageBody::Undecryptable => String::new(),
        }
    } else {
        String::new()
    };
    Some(Notice {
        sender,
        body,
        room_id: if locked {
            String::new()
        } else {
            msg.room_id.clone()
        },
    })
}

/// The sender as a desktop notification may name them: the chat's name, but nothing that
/// may be a phone number: no Matrix id (the fallback when a chat has no name; bridged
/// contacts have ids like `@whatsapp_4917…`) and no name with six or more digits (a
/// chat named after the number). Empty: the notification says only "New message".
pub fn desktop_name(sender: &str) -> &str {
    let digits = sender.chars().filter(char::is_ascii_digit).count();
    if sender.starts_with('@') || digits >= 6 {
        ""
    } else {
        sender
    }
}

/// A received message, on the UI thread: shows its notice if one is due, on the desktop
/// when it can, else in the window.
pub(crate) fn notify(
    shared: &Arc<Shared>,
    w: &AppWindow,
    msg: &Message,
    sender_name: Option<&str>,
) {
    let locked = w.global::<Lock>().get_locked();
    let screen = w.global::<Session>().get_screen();
    let open = w.global::<super::Conversation>().get_room_id();
    let open = (screen == Screen::Conversation).then_some(open.as_str());
    let Some(n) = notice_for(msg, sender_name, &shared.prefs.get(), open, locked) else {
        return;
    };
    let desktop = shared.desktop();
    if !desktop.enabled() {
        return show_notice(w, n);
    }
    // Translated by the view, in the language the window shows.
    let summary = w
        .global::<Notices>()
        .invoke_title(desktop_name(&n.sender).into())
        .to_string();
    let open_label = w.global::<Notices>().invoke_open_label().to_string();
    let weak = w.as_weak();
    shared.runtime().spawn(async move {
        if let Err(e) = desktop
            .notify(&summary, &n.body, &n.room_id, &open_label)
            .await
        {
            tracing::debug!("no desktop notification, showing it in the window: {e}");
            let _ = weak.upgrade_in_event_loop(move |w| {
                // Locked meanwhile: a notice made before the lock must not show its name.
                if w.global::<Lock>().get_locked() && !n.sender.is_empty() {
                    return;
                }
                show_notice(&w, n);
            });
        }
    });
}

/// Shows the in-app notice for a while.
fn show_notice(w: &AppWindow, n: Notice) {
    let notices = w.global::<Notices>();
    notices.set_sender(n.sender.into());
    notices.set_body(n.body.into());
    notices.set_room_id(n.room_id.into());
    notices.set_visible(true);
    NOTICE_TIMER.with(|t| {
        let weak = w.as_weak();
        t.start(slint::TimerMode::SingleShot, NOTICE_TIME, move || {
            if let Some(w) = weak.upgrade() {
                hide_notice(&w);
            }
        })
    });
}

/// Hides the notice and forgets what it said.
pub(crate) fn hide_notice(w: &AppWindow) {
    let n = w.global::<Notices>();
    n.set_visible(false);
    n.set_sender(SharedString::new());
    n.set_body(SharedString::new());
    n.set_room_id(SharedString::new());
}

thread_local! {
    static NOTICE_TIMER: slint::Timer = slint::Timer::default();
}

/// Shows the settings in the `Prefs` properties.
fn show(w: &AppWindow, s: &Settings) {
    let p = w.global::<Prefs>();
    p.set_language_choice(s.language.code().into());
    p.set_identity_server(s.identity_server.clone().unwrap_or_default().into());
    p.set_discovery_enabled(s.discovery);
    p.set_notifications(s.notifications);
    p.set_notification_content(s.notification_content);
    p.set_idle_minutes(i32::try_from(s.idle_lock_minutes).unwrap_or(i32::MAX));
    // The contacts screens offer discovery only when it is on, against the server the
    // settings name. A server set directly on `Contacts` (the demo's Sydent) stays when
    // neither the environment nor the file names one.
    let c = w.global::<super::Contacts>();
    c.set_discovery_enabled(s.discovery);
    if let Some(url) = s.effective_identity_server(|k| std::env::var(k).ok()) {
        c.set_identity_server(url.into());
    }
}

/// Reads the saved settings off the UI thread, then applies them (language, idle time)
/// and calls `then` on the UI thread.
pub(crate) fn load(
    shared: &Arc<Shared>,
    weak: &Weak<AppWindow>,
    then: impl FnOnce(&AppWindow) + Send + 'static,
) {
    let (sh, weak) = (shared.clone(), weak.clone());
    let dir = shared.prefs.data_dir.clone();
    shared.runtime().spawn(async move {
        let (settings, warning) = tokio::task::spawn_blocking(move || prefs::load(&dir))
            .await
            .unwrap_or_else(|_| (Settings::default(), None));
        if let Some(w) = &warning {
            tracing::warn!("{w}");
        }
        *lock(&sh.prefs.current) = settings.clone();
        let warning = warning.map(|w| w.to_string());
        let sh2 = sh.clone();
        let _ = weak.upgrade_in_event_loop(move |w| {
            show(&w, &settings);
            let p = w.global::<Prefs>();
            p.set_damaged(warning.is_some());
            p.set_damaged_detail(warning.unwrap_or_default().into());
            if !sh2.prefs.language_fixed {
                let lang = settings.language.resolve(|k| std::env::var(k).ok());
                super::apply_language(&w, lang);
                sh2.set_language(lang);
            }
            super::idle::set_timeout(settings.idle_timeout());
            then(&w);
        });
    });
}

/// Changes the settings with `f`, shows them and saves them in the background.
fn change(shared: &Arc<Shared>, weak: &Weak<AppWindow>, f: impl FnOnce(&mut Settings)) {
    let settings = {
        let mut cur = lock(&shared.prefs.current);
        f(&mut cur);
        cur.clone()
    };
    if let Some(w) = weak.upgrade() {
        show(&w, &settings);
    }
    super::idle::set_timeout(settings.idle_timeout());
    let dir = shared.prefs.data_dir.clone();
    let weak = weak.clone();
    shared.runtime().spawn_blocking(move || {
        if let Err(e) = prefs::save(&dir, &settings) {
            tracing::warn!("{e}");
            let detail = e.to_string();
            let _ = weak.upgrade_in_event_loop(move |w| {
                let s = w.global::<Session>();
                s.set_error(ErrorKind::File);
                s.set_error_detail(detail.into());
            });
        } else {
            let _ = weak.upgrade_in_event_loop(|w| w.global::<Prefs>().set_damaged(false));
        }
    });
}

/// The language buttons of the chat list and onboarding also set the saved choice.
pub(crate) fn remember_language(shared: &Arc<Shared>, weak: &Weak<AppWindow>, lang: Language) {
    let choice = match lang {
        Language::German => LanguageChoice::De,
        Language::English => LanguageChoice::En,
    };
    change(shared, weak, |s| s.language = choice);
}

/// Installs the models and answers the `Prefs` callbacks.
pub(crate) fn wire(window: &AppWindow, shared: &Arc<Shared>) {
    let p = window.global::<Prefs>();
    p.set_devices(ModelRc::from(Rc::new(VecModel::<DeviceItem>::default())));
    p.set_sas_emojis(ModelRc::from(Rc::new(VecModel::<EmojiItem>::default())));
    {
        // A click on a desktop notification opens its chat, as the in-app notice does;
        // while locked there is nothing to open (the notice carried no room).
        let weak = window.as_weak();
        shared.desktop().on_open(move |room| {
            let _ = weak.upgrade_in_event_loop(move |w| {
                if w.global::<Lock>().get_locked() {
                    return;
                }
                hide_notice(&w);
                w.global::<super::Chats>().invoke_open(room.into());
            });
        });
    }
    {
        let weak = window.as_weak();
        window.global::<Notices>().on_dismiss(move || {
            if let Some(w) = weak.upgrade() {
                hide_notice(&w);
            }
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_open(move || {
            let Some(w) = weak.upgrade() else { return };
            let p = w.global::<Prefs>();
            if let Some(k) = sh.kontor() {
                p.set_homeserver(k.homeserver().into());
                p.set_device_id(k.device_id().into());
            }
            p.set_identity_server_invalid(false);
            p.set_identity_server_saved(false);
            let s = w.global::<Session>();
            s.set_error(ErrorKind::None);
            s.set_screen(Screen::Settings);
            refresh_devices(&sh, &weak);
        });
    }
    {
        let weak = window.as_weak();
        p.on_back(move || {
            if let Some(w) = weak.upgrade() {
                w.global::<Session>().set_error(ErrorKind::None);
                w.global::<Session>().set_screen(Screen::Chats);
            }
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_set_language_choice(move |code| {
            let choice = LanguageChoice::from_code(&code);
            let lang = choice.resolve(|k| std::env::var(k).ok());
            if let Some(w) = weak.upgrade() {
                super::apply_language(&w, lang);
            }
            sh.set_language(lang);
            change(&sh, &weak, |s| s.language = choice);
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_set_identity_server(move |url| {
            let Some(w) = weak.upgrade() else { return };
            let p = w.global::<Prefs>();
            match prefs::validate_identity_server(&url) {
                Ok(server) => {
                    p.set_identity_server_invalid(false);
                    p.set_identity_server_saved(true);
                    change(&sh, &weak, |s| s.identity_server = server);
                }
                Err(_) => {
                    p.set_identity_server_invalid(true);
                    p.set_identity_server_saved(false);
                }
            }
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_set_discovery(move |on| change(&sh, &weak, |s| s.discovery = on));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_set_notifications(move |on| change(&sh, &weak, |s| s.notifications = on));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_set_notification_content(move |on| {
            change(&sh, &weak, |s| s.notification_content = on)
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_set_idle_minutes(move |m| {
            change(&sh, &weak, |s| {
                s.idle_lock_minutes = u32::try_from(m).unwrap_or(0)
            })
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_sign_out(move || sign_out(&sh, &weak));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_refresh_devices(move || refresh_devices(&sh, &weak));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_verify_device(move |id| verify(&sh, &weak, Start::Device(id.to_string())));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_accept_verification(move || verify(&sh, &weak, Start::Next));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_sas_match(move || sas_verdict(&sh, &weak, true));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_sas_mismatch(move || sas_verdict(&sh, &weak, false));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_sas_close(move || {
            *lock(&sh.prefs.verification) = None;
            if let Some(w) = weak.upgrade() {
                reset_sas(&w);
            }
            refresh_devices(&sh, &weak);
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_enable_recovery(move || recovery(&sh, &weak, None));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        p.on_restore_recovery(move |key| {
            recovery(&sh, &weak, Some(Zeroizing::new(key.to_string())))
        });
    }
    {
        let weak = window.as_weak();
        p.on_recovery_done(move || {
            if let Some(w) = weak.upgrade() {
                forget_recovery_key(&w);
            }
        });
    }
}

/// Clears the recovery key from the UI (it is shown once, then gone).
pub(crate) fn forget_recovery_key(w: &AppWindow) {
    let p = w.global::<Prefs>();
    p.set_recovery_key(SharedString::new());
    p.set_recovery_detail(SharedString::new());
    p.set_recovery_state(RecoveryState::Idle);
}

fn reset_sas(w: &AppWindow) {
    let p = w.global::<Prefs>();
    p.set_sas_state(SasState::Idle);
    p.set_sas_device(SharedString::new());
    p.set_sas_detail(SharedString::new());
    p.set_sas_emojis(ModelRc::from(Rc::new(VecModel::<EmojiItem>::default())));
}

/// Empties everything the settings screen shows about the account (the idle lock).
pub(crate) fn clear(shared: &Shared, w: &AppWindow) {
    *lock(&shared.prefs.verification) = None;
    reset_sas(w);
    forget_recovery_key(w);
    let p = w.global::<Prefs>();
    p.set_devices(ModelRc::from(Rc::new(VecModel::<DeviceItem>::default())));
    p.set_homeserver(SharedString::new());
    p.set_device_id(SharedString::new());
    hide_notice(w);
}

fn refresh_devices(shared: &Arc<Shared>, weak: &Weak<AppWindow>) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    if let Some(w) = weak.upgrade() {
        w.global::<Prefs>().set_devices_loading(true);
    }
    let weak = weak.clone();
    shared.runtime().spawn(async move {
        let devices = kontor.devices().await;
        let _ = weak.upgrade_in_event_loop(move |w| {
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
                Err(e) => {
                    let s = w.global::<Session>();
                    s.set_error(ErrorKind::Other);
                    s.set_error_detail(e.to_string().into());
                }
            }
        });
    });
}

fn sas_failed(weak: &Weak<AppWindow>, detail: String) {
    let _ = weak.upgrade_in_event_loop(move |w| {
        let p = w.global::<Prefs>();
        p.set_sas_state(SasState::Failed);
        p.set_sas_detail(detail.into());
    });
}

/// How a verification begins.
pub(crate) enum Start {
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

/// Starts a verification (see [`Start`]) and shows the emojis once both sides have them.
pub(crate) fn verify(shared: &Arc<Shared>, weak: &Weak<AppWindow>, start: Start) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    if let Some(w) = weak.upgrade() {
        let p = w.global::<Prefs>();
        p.set_sas_state(SasState::Waiting);
        p.set_sas_device(
            match &start {
                Start::Device(d) | Start::Flow { device: d, .. } => d.as_str(),
                Start::Next => "",
            }
            .into(),
        );
        p.set_sas_detail(SharedString::new());
    }
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.runtime().spawn(async move {
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
            Err(e) => return sas_failed(&weak, e.to_string()),
        };
        let emojis = match v.emojis(VERIFY_TIMEOUT).await {
            Ok(e) => e,
            Err(e) => return sas_failed(&weak, e.to_string()),
        };
        let other = v.other_device();
        *lock(&sh.prefs.verification) = Some(v);
        let _ = weak.upgrade_in_event_loop(move |w| {
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
fn sas_verdict(shared: &Arc<Shared>, weak: &Weak<AppWindow>, matched: bool) {
    let Some(v) = lock(&shared.prefs.verification).clone() else {
        return;
    };
    if let Some(w) = weak.upgrade() {
        w.global::<Prefs>().set_sas_state(if matched {
            SasState::Confirming
        } else {
            SasState::Mismatch
        });
    }
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.runtime().spawn(async move {
        if !matched {
            if let Err(e) = v.mismatch().await {
                tracing::warn!("cannot cancel the verification: {e}");
            }
            *lock(&sh.prefs.verification) = None;
            return;
        }
        match v.confirm(VERIFY_TIMEOUT).await {
            Ok(()) => {
                let _ = weak.upgrade_in_event_loop(|w| {
                    w.global::<Prefs>().set_sas_state(SasState::Verified)
                });
            }
            Err(e) => sas_failed(&weak, e.to_string()),
        }
        *lock(&sh.prefs.verification) = None;
    });
}

/// Sets up the backup (no key given: shows the new recovery key once) or restores from
/// a recovery key.
fn recovery(shared: &Arc<Shared>, weak: &Weak<AppWindow>, key: Option<Zeroizing<String>>) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let restoring = key.is_some();
    if let Some(w) = weak.upgrade() {
        let p = w.global::<Prefs>();
        p.set_recovery_state(RecoveryState::Working);
        p.set_recovery_restoring(restoring);
        p.set_recovery_detail(SharedString::new());
    }
    let weak = weak.clone();
    shared.runtime().spawn(async move {
        let result = match &key {
            Some(k) => kontor.recover(k).await.map(|()| None),
            None => kontor
                .enable_recovery()
                .await
                .map(|k| Some(Zeroizing::new(k))),
        };
        let _ = weak.upgrade_in_event_loop(move |w| {
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
                Err(e) => {
                    p.set_recovery_detail(e.to_string().into());
                    p.set_recovery_state(RecoveryState::Failed);
                }
            }
        });
    });
}

/// Logs out on the server and deletes the local profile (the settings file stays),
/// then starts onboarding.
fn sign_out(shared: &Arc<Shared>, weak: &Weak<AppWindow>) {
    let Some(kontor) = shared.take_kontor() else {
        return;
    };
    if let Some(w) = weak.upgrade() {
        w.global::<Session>().set_busy(true);
    }
    controller::set_book(shared, weak, None);
    let weak = weak.clone();
    shared.runtime().spawn(async move {
        kontor.stop_sync();
        // Tasks that still hold the account (a chat list reload) end soon after the
        // sync stops; logout needs the last reference to delete the stores.
        for _ in 0..50 {
            if Arc::strong_count(&kontor) == 1 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let result = kontor.logout(true).await;
        let detail = result.err().map(|e| e.to_string());
        let _ = weak.upgrade_in_event_loop(move |w| {
            controller::clear_views(&w);
            let s = w.global::<Session>();
            s.set_busy(false);
            s.set_user_id(SharedString::new());
            if let Some(d) = detail {
                s.set_error(ErrorKind::Other);
                s.set_error_detail(d.into());
            }
            s.set_onboarding_step(0);
            s.set_screen(Screen::Onboarding);
        });
    });
}

/// The model's contents as plain values (tests read the emojis through this).
pub fn emojis(w: &AppWindow) -> Vec<(String, String)> {
    w.global::<Prefs>()
        .get_sas_emojis()
        .iter()
        .map(|e| (e.symbol.to_string(), e.name.to_string()))
        .collect()
}

#[cfg(test)]
mod tests {
    use kontor_core::SendState;

    use super::*;

    fn msg(own: bool, body: MessageBody) -> Message {
        Message {
            room_id: "!r:hs".into(),
            event_id: Some("$e".into()),
            transaction_id: None,
            sender: "@ben:hs".into(),
            own,
            timestamp_ms: 0,
            body,
            state: SendState::Sent {
                event_id: "$e".into(),
            },
        }
    }

    fn text(t: &str) -> MessageBody {
        MessageBody::Text { text: t.into() }
    }

    #[test]
    fn notice_has_no_content_by_default() {
        let s = Settings::default();
        let n = notice_for(
            &msg(false, text("Angebot 1200 €")),
            Some("Ben"),
            &s,
            None,
            false,
        )
        .unwrap();
        assert_eq!(n.sender, "Ben");
        assert_eq!(n.body, "");
    }

    #[test]
    fn notice_has_content_when_allowed() {
        let s = Settings {
            notification_content: true,
            ..Settings::default()
        };
        let n = notice_for(&msg(false, text("Angebot 1200 €")), None, &s, None, false).unwrap();
        assert_eq!(n.sender, "@ben:hs");
        assert_eq!(n.body, "Angebot 1200 €");
    }

    #[test]
    fn no_notice_for_own_open_or_switched_off() {
        let s = Settings::default();
        assert!(notice_for(&msg(true, text("x")), None, &s, None, false).is_none());
        assert!(notice_for(&msg(false, text("x")), None, &s, Some("!r:hs"), false).is_none());
        let off = Settings {
            notifications: false,
            ..Settings::default()
        };
        assert!(notice_for(&msg(false, text("x")), None, &off, None, false).is_none());
    }

    #[test]
    fn desktop_names_no_number() {
        assert_eq!(desktop_name("Ben Bauer"), "Ben Bauer");
        assert_eq!(desktop_name("Praxis Raum 12"), "Praxis Raum 12");
        assert_eq!(desktop_name("@ben:hs"), "", "a Matrix id");
        assert_eq!(desktop_name("@whatsapp_4917012345678:hs"), "");
        assert_eq!(desktop_name("+49 170 1234567"), "", "a phone number");
        assert_eq!(desktop_name("0170/123456"), "");
        assert_eq!(desktop_name(""), "");
    }

    #[test]
    fn locked_notice_names_nobody_and_shows_nothing() {
        let s = Settings {
            notification_content: true,
            ..Settings::default()
        };
        let n = notice_for(&msg(false, text("secret")), Some("Ben"), &s, None, true).unwrap();
        assert_eq!(n.sender, "");
        assert_eq!(n.body, "");
        assert_eq!(n.room_id, "");
    }
}
