//! The controller: answers the callbacks of the Slint globals and feeds them data.
//!
//! The UI thread never waits on the network or the disk. Every callback that needs
//! either spawns a task on the tokio runtime (worker threads) and returns; the task sends
//! plain data back with [`slint::Weak::upgrade_in_event_loop`], and only the closure
//! that runs on the UI thread touches models. Shared state that both sides read lives in
//! [`Shared`] behind short-held mutexes (never held across an await or I/O).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    rc::Rc,
    sync::{Arc, Mutex, MutexGuard},
};

use kontor_core::{CoreEvent, Kontor, Profile, SendState};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel, Weak};
use tokio::runtime::Handle;
use zeroize::Zeroizing;

use super::{
    AppWindow, ChatItem, Chats, Config, Conversation, ErrorKind, MessageKind, Screen, Session,
    format::{Language, local_time_label},
    models::{self, Placement},
};

/// State shared between the UI thread and the tokio tasks.
pub(crate) struct Shared {
    rt: Handle,
    config: Config,
    /// The logged-in account, once unlocked or logged in.
    kontor: Mutex<Option<Arc<Kontor>>>,
    /// A profile unlocked by its passphrase that holds no session yet (an earlier
    /// onboarding stopped after creating it): the next login goes into it.
    profile: Mutex<Option<Profile>>,
    /// Delivery reports that arrived before the bubble they belong to existed (the send
    /// queue can report "sent" before `send_text` has returned the transaction id).
    early_states: Mutex<HashMap<String, SendState>>,
    language: Mutex<Language>,
    /// The contact book, unlocked with the same passphrase as the profile.
    book: Arc<super::contacts::SharedBook>,
    /// The user's settings (settings.rs).
    pub(crate) prefs: Arc<super::settings::State>,
    /// Desktop notifications (desktop.rs).
    desktop: Arc<super::desktop::Desktop>,
}

/// Locks a mutex even if a panicking task poisoned it: every value here stays
/// consistent on its own.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Shared {
    pub(crate) fn new(rt: Handle, config: Config, language: Language) -> Arc<Shared> {
        Arc::new(Shared {
            rt,
            kontor: Mutex::new(None),
            profile: Mutex::new(None),
            early_states: Mutex::new(HashMap::new()),
            language: Mutex::new(language),
            book: Arc::new(Mutex::new(None)),
            prefs: super::settings::State::new(config.data_dir.clone(), config.language.is_some()),
            desktop: Arc::new(super::desktop::Desktop::new(config.desktop_bus.clone())),
            config,
        })
    }

    pub(crate) fn kontor(&self) -> Option<Arc<Kontor>> {
        lock(&self.kontor).clone()
    }

    pub(crate) fn desktop(&self) -> Arc<super::desktop::Desktop> {
        self.desktop.clone()
    }

    pub(crate) fn book(&self) -> &Arc<super::contacts::SharedBook> {
        &self.book
    }

    pub(crate) fn language(&self) -> Language {
        *lock(&self.language)
    }

    pub(crate) fn set_language(&self, lang: Language) {
        *lock(&self.language) = lang;
    }

    fn profile_dir(&self) -> PathBuf {
        self.config.data_dir.join("profile")
    }

    pub(crate) fn config(&self) -> &Config {
        &self.config
    }

    pub(crate) fn runtime(&self) -> &Handle {
        &self.rt
    }

    /// The account, for shutting down.
    pub(crate) fn take_kontor(&self) -> Option<Arc<Kontor>> {
        lock(&self.kontor).take()
    }
}

/// Runs `f` with the window on the UI thread. When the event loop has already quit (the
/// window was closed while a task was running) there is nobody to tell: dropped.
pub(crate) fn on_ui(weak: &Weak<AppWindow>, f: impl FnOnce(AppWindow) + Send + 'static) {
    let _ = weak.upgrade_in_event_loop(f);
}

/// Shows an error on the current screen and ends the busy state.
pub(crate) fn show_error(weak: &Weak<AppWindow>, kind: ErrorKind, detail: String) {
    on_ui(weak, move |w| {
        let s = w.global::<Session>();
        s.set_busy(false);
        s.set_error(kind);
        s.set_error_detail(detail.into());
    });
}

/// How a core error is shown: a kind the UI translates, and the (English, untranslated)
/// detail. Core errors carry no secrets or message content.
pub(crate) fn core_error(e: &kontor_core::Error) -> (ErrorKind, String) {
    use kontor_core::Error as E;
    let kind = match e {
        E::WrongPassphrase => ErrorKind::WrongPassphrase,
        E::EmptyPassphrase => ErrorKind::EmptyField,
        E::Unreachable(_) => ErrorKind::Unreachable,
        E::Refused(_) => ErrorKind::Refused,
        E::InvalidUserId(_) => ErrorKind::InvalidUser,
        E::Unencrypted(_) => ErrorKind::NotEncrypted,
        E::Io { .. } => ErrorKind::File,
        _ => ErrorKind::Other,
    };
    (kind, e.to_string())
}

/// The UI-thread handles of the models the controller installed.
#[derive(Clone)]
pub(crate) struct Models {
    pub(crate) chats: Rc<VecModel<ChatItem>>,
    pub(crate) messages: Rc<VecModel<super::MessageItem>>,
}

thread_local! {
    /// The models of the (one) window on this UI thread. Tokio tasks cannot hold `Rc`s;
    /// the closures they send to the UI thread find the models here.
    static MODELS: std::cell::RefCell<Option<Models>> = const { std::cell::RefCell::new(None) };
}

pub(crate) fn models() -> Models {
    MODELS
        .with(|m| m.borrow().clone())
        .expect("models installed by wire()")
}

/// Installs the models and answers the callbacks.
pub(crate) fn wire(window: &AppWindow, shared: &Arc<Shared>) {
    let m = Models {
        chats: Rc::new(VecModel::default()),
        messages: Rc::new(VecModel::default()),
    };
    // The list shows the chats through a filter for the search field.
    let query: Rc<std::cell::RefCell<String>> = Rc::default();
    let filtered = {
        let query = query.clone();
        Rc::new(slint::FilterModel::new(
            m.chats.clone(),
            move |c: &ChatItem| models::matches_search(c, &query.borrow()),
        ))
    };
    window
        .global::<Chats>()
        .set_chats(ModelRc::from(filtered.clone()));
    window.global::<Chats>().on_search(move |text| {
        *query.borrow_mut() = text.to_string();
        filtered.reset();
    });
    window
        .global::<Conversation>()
        .set_messages(ModelRc::from(m.messages.clone()));
    MODELS.with(|slot| *slot.borrow_mut() = Some(m));

    super::contacts::wire(window, &shared.rt, &shared.book);
    super::import_wizard::wire(window, &shared.rt, &shared.book);
    super::contact_actions::wire(window, shared);
    super::settings::wire(window, shared);
    super::verify_prompt::wire(window, shared);
    super::idle::wire(window, shared);

    let session = window.global::<Session>();
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        session.on_unlock(move |pass| unlock(&sh, &weak, Zeroizing::new(pass.to_string())));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        session.on_login(move |hs, user, password, pass| {
            login(
                &sh,
                &weak,
                hs.trim().to_owned(),
                user.trim().to_owned(),
                Zeroizing::new(password.to_string()),
                Zeroizing::new(pass.to_string()),
            )
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        session.on_set_language(move |code| {
            let lang = Language::from_code(&code);
            if let Some(w) = weak.upgrade() {
                super::apply_language(&w, lang);
            }
            sh.set_language(lang);
            super::settings::remember_language(&sh, &weak, lang);
        });
    }

    let chats = window.global::<Chats>();
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        chats.on_open(move |room| open_room(&sh, &weak, room.to_string()));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        chats.on_start_chat(move |user| start_chat(&sh, &weak, user.trim().to_owned()));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        chats.on_accept_invite(move |room| answer_invite(&sh, &weak, room.to_string(), true));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        chats.on_decline_invite(move |room| answer_invite(&sh, &weak, room.to_string(), false));
    }

    let conv = window.global::<Conversation>();
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_send(move |text| send_text(&sh, &weak, text.to_string()));
    }
    // Send quote, cancel, open and save as: src/ui/files.rs.
    super::files::wire(window, shared);
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_retry(move |txn| outbox_action(&sh, &weak, txn.to_string(), true));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_cancel(move |txn| outbox_action(&sh, &weak, txn.to_string(), false));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_load_older(move || super::timeline::load_older(&sh, &weak));
    }
    {
        let weak = window.as_weak();
        conv.on_back(move || {
            if let Some(w) = weak.upgrade() {
                w.global::<Conversation>().set_room_id(SharedString::new());
                w.global::<Conversation>()
                    .set_saved_path(SharedString::new());
                w.global::<Session>().set_error(ErrorKind::None);
                w.global::<Session>().set_screen(Screen::Chats);
            }
        });
    }
}

/// Empties every model and property that shows account data (the idle lock, sign-out).
pub(crate) fn clear_views(w: &AppWindow) {
    let m = models();
    m.chats.set_vec(Vec::new());
    m.messages.set_vec(Vec::new());
    let c = w.global::<Conversation>();
    c.set_room_id(SharedString::new());
    c.set_title(SharedString::new());
    c.set_saved_path(SharedString::new());
    c.set_upload_name(SharedString::new());
    let k = w.global::<super::Contacts>();
    k.set_work(ModelRc::from(Rc::new(
        VecModel::<super::ContactItem>::default(),
    )));
    k.set_private(ModelRc::from(Rc::new(
        VecModel::<super::ContactItem>::default(),
    )));
    k.set_selected(Default::default());
    k.set_selected_purpose(SharedString::new());
    k.set_selected_reach(SharedString::new());
    k.set_selected_history(ModelRc::from(Rc::new(
        VecModel::<super::ConsentLine>::default(),
    )));
    k.set_selected_matrix_id(SharedString::new());
    // The import wizard shows names from the file; the picker shows the user's folders.
    let i = w.global::<super::ImportWizard>();
    i.set_step(super::ImportStep::Choose);
    i.set_path(SharedString::new());
    i.set_rows(ModelRc::from(Rc::new(
        VecModel::<super::ImportRow>::default(),
    )));
    i.set_problems(ModelRc::from(Rc::new(
        VecModel::<super::ImportProblem>::default(),
    )));
    i.set_report_problems(ModelRc::from(Rc::new(
        VecModel::<super::ImportProblem>::default(),
    )));
    w.global::<super::FilePicker>().set_visible(false);
    super::verify_prompt::clear(w);
}

/// Picks the first screen: unlock when a profile exists, else onboarding (a stat, so
/// off the UI thread like all disk access).
pub(crate) fn first_screen(window: &AppWindow, shared: &Arc<Shared>) {
    let (weak, dir) = (window.as_weak(), shared.profile_dir());
    shared.rt.spawn(async move {
        let exists = tokio::fs::try_exists(dir.join("profile.json"))
            .await
            .unwrap_or(false);
        on_ui(&weak, move |w| {
            w.global::<Session>().set_screen(if exists {
                Screen::Unlock
            } else {
                Screen::Onboarding
            });
        });
    });
}

/// Opens (or, with `create`, creates) the profile. Argon2id takes a noticeable moment,
/// so it runs on a blocking thread.
pub(crate) async fn open_profile(
    shared: &Shared,
    passphrase: Zeroizing<String>,
) -> Result<Profile, kontor_core::Error> {
    let dir = shared.profile_dir();
    let fast = shared.config.insecure_fast_kdf && cfg!(debug_assertions);
    tokio::task::spawn_blocking(move || {
        if fast {
            let params = kontor_core::KdfParams {
                m_kib: 64,
                t: 1,
                p: 1,
            };
            Profile::open_with(&dir, &passphrase, params)
        } else {
            Profile::open(&dir, &passphrase)
        }
    })
    .await
    .unwrap_or_else(|e| {
        Err(kontor_core::Error::Io {
            action: "cannot unlock",
            path: PathBuf::from("profile"),
            source: std::io::Error::other(e.to_string()),
        })
    })
}

fn set_busy(weak: &Weak<AppWindow>) {
    if let Some(w) = weak.upgrade() {
        let s = w.global::<Session>();
        s.set_busy(true);
        s.set_error(ErrorKind::None);
        s.set_error_detail(SharedString::new());
    }
}

fn unlock(shared: &Arc<Shared>, weak: &Weak<AppWindow>, passphrase: Zeroizing<String>) {
    set_busy(weak);
    if super::idle::is_locked(weak, shared) {
        return super::idle::resume(shared, weak, passphrase);
    }
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        let profile = match open_profile(&sh, passphrase.clone()).await {
            Ok(p) => p,
            Err(e) => {
                let (k, d) = core_error(&e);
                return show_error(&weak, k, d);
            }
        };
        open_book(&sh, &weak, passphrase).await;
        if !profile.has_session() {
            // Created by an onboarding that did not finish: log in into it.
            *lock(&sh.profile) = Some(profile);
            return on_ui(&weak, |w| {
                let s = w.global::<Session>();
                s.set_busy(false);
                s.set_profile_unlocked(true);
                s.set_onboarding_step(0);
                s.set_screen(Screen::Onboarding);
            });
        }
        match Kontor::restore(profile).await {
            Ok(k) => signed_in(&sh, &weak, k),
            Err(e) => {
                let (k, d) = core_error(&e);
                show_error(&weak, k, d);
            }
        }
    });
}

fn login(
    shared: &Arc<Shared>,
    weak: &Weak<AppWindow>,
    homeserver: String,
    user: String,
    password: Zeroizing<String>,
    passphrase: Zeroizing<String>,
) {
    set_busy(weak);
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        let kept = lock(&sh.profile).take();
        let created = kept.is_none();
        let profile = match kept {
            Some(p) => p,
            None => match open_profile(&sh, passphrase.clone()).await {
                Ok(p) => {
                    open_book(&sh, &weak, passphrase).await;
                    p
                }
                Err(e) => {
                    let (k, d) = core_error(&e);
                    return show_error(&weak, k, d);
                }
            },
        };
        match Kontor::login(profile, &homeserver, &user, &password).await {
            Ok(k) => signed_in(&sh, &weak, k),
            Err(e) => {
                // A profile this attempt created holds nothing yet: remove it, so a retry
                // may choose another passphrase and the next start is onboarding again.
                // One unlocked earlier was consumed by the attempt; opening it again
                // needs the passphrase, so that user goes back to the unlock screen.
                if created {
                    remove_profile(&sh.profile_dir()).await;
                }
                let (k, d) = core_error(&e);
                on_ui(&weak, move |w| {
                    let s = w.global::<Session>();
                    s.set_busy(false);
                    s.set_error(k);
                    s.set_error_detail(d.into());
                    s.set_onboarding_step(0);
                    if !created {
                        s.set_profile_unlocked(false);
                        s.set_screen(Screen::Unlock);
                    }
                });
            }
        }
    });
}

/// Unlocks the contact book beside the profile (creating it on first use) and shows the
/// contacts button when that worked.
pub(crate) async fn open_book(
    shared: &Arc<Shared>,
    weak: &Weak<AppWindow>,
    passphrase: Zeroizing<String>,
) {
    let dir = shared.config.data_dir.clone();
    let fast = shared.config.insecure_fast_kdf;
    let book = tokio::task::spawn_blocking(move || super::contacts::open(&dir, &passphrase, fast))
        .await
        .ok()
        .flatten();
    set_book(shared, weak, book);
}

/// Keeps the unlocked contact book and shows the contacts button when there is one.
pub(crate) fn set_book(
    shared: &Arc<Shared>,
    weak: &Weak<AppWindow>,
    book: Option<kontor_contacts::ContactBook>,
) {
    let available = book.is_some();
    *lock(&shared.book) = book.map(Arc::new);
    on_ui(weak, move |w| {
        w.global::<super::Contacts>().set_available(available)
    });
}

async fn remove_profile(dir: &Path) {
    if let Err(e) = tokio::fs::remove_dir_all(dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("cannot remove the unfinished profile: {e}");
    }
}

/// After unlock or login: keep the account, follow its events, start the sync and show
/// the chats.
pub(crate) fn signed_in(shared: &Arc<Shared>, weak: &Weak<AppWindow>, kontor: Arc<Kontor>) {
    *lock(&shared.kontor) = Some(kontor.clone());
    // Subscribe before the sync starts, so nothing it reports is missed.
    let mut rx = kontor.subscribe();
    {
        // start_sync spawns onto the current runtime; this may run on the UI thread.
        let _runtime = shared.rt.enter();
        kontor.start_sync();
    }
    let user = kontor.user_id();
    on_ui(weak, move |w| {
        let s = w.global::<Session>();
        s.set_busy(false);
        s.set_profile_unlocked(false);
        s.set_user_id(user.into());
        s.set_screen(Screen::Chats);
    });
    reload_chats(shared, weak);
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        loop {
            match rx.recv().await {
                Ok(event) => {
                    let sh2 = sh.clone();
                    let weak2 = weak.clone();
                    on_ui(&weak, move |w| apply_event(&sh2, &weak2, &w, event));
                }
                // Too slow to keep up: the list is rebuilt from the server's state.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    reload_chats(&sh, &weak);
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
}

/// A core event, on the UI thread.
fn apply_event(shared: &Arc<Shared>, weak: &Weak<AppWindow>, w: &AppWindow, event: CoreEvent) {
    let m = models();
    let open_room = w.global::<Conversation>().get_room_id();
    match event {
        CoreEvent::MessageReceived(msg) => {
            let name = m
                .chats
                .iter()
                .find(|c| !c.invite && c.room_id == msg.room_id.as_str())
                .map(|c| c.name.to_string());
            super::settings::notify(shared, w, &msg, name.as_deref());
            if w.global::<super::Lock>().get_locked() {
                return; // nothing is shown while locked; unlocking reloads the list
            }
            let lang = shared.language();
            if !models::chat_message(&m.chats, &msg, &open_room, lang) {
                reload_chats(shared, weak);
            }
            if msg.room_id == open_room.as_str()
                && models::placement(&m.messages, &msg) == Placement::Append
            {
                m.messages.push(models::message_item(&msg, lang));
                if let (false, Some(event)) = (msg.own, msg.event_id.clone()) {
                    // The user is looking at it.
                    super::timeline::mark_read(shared, weak, msg.room_id.clone(), event);
                }
            }
        }
        CoreEvent::MessageState {
            room_id,
            transaction_id,
            state,
        } => {
            let applied = room_id == open_room.as_str()
                && models::apply_state(&m.messages, &transaction_id, &state);
            if !applied {
                lock(&shared.early_states).insert(transaction_id, state);
            }
        }
        CoreEvent::Invite { .. } => reload_chats(shared, weak),
        CoreEvent::Connection(state) => {
            w.global::<Session>()
                .set_online(state == kontor_core::ConnectionState::Online);
        }
        CoreEvent::Transfer {
            direction: kontor_core::Direction::Upload,
            done,
            total,
            ..
        } => {
            let c = w.global::<Conversation>();
            if c.get_upload_progress() >= 0.0 && total > 0 {
                c.set_upload_progress((done as f64 / total as f64) as f32);
            }
        }
        CoreEvent::VerificationRequest { user_id, flow_id } => {
            super::verify_prompt::incoming(shared, weak, w, user_id, flow_id);
        }
        CoreEvent::Transfer { .. } => {}
    }
}

/// Rebuilds the chat list from the account's rooms and invitations.
pub(crate) fn reload_chats(shared: &Arc<Shared>, weak: &Weak<AppWindow>) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        let (rows, invites) = fetch_chats(&kontor).await;
        let lang = sh.language();
        on_ui(&weak, move |w| {
            if w.global::<super::Lock>().get_locked() {
                return;
            }
            let open = w.global::<Conversation>().get_room_id();
            let mut items: Vec<ChatItem> = invites
                .into_iter()
                .map(|(room_id, inviter)| {
                    let name = inviter.unwrap_or_else(|| room_id.clone());
                    ChatItem {
                        initial: models::initial(&name),
                        room_id: room_id.into(),
                        name: name.into(),
                        invite: true,
                        ..Default::default()
                    }
                })
                .collect();
            items.extend(rows.into_iter().map(|r| {
                let (kind, text) = r
                    .last
                    .as_ref()
                    .map(|m| models::body_view(&m.body))
                    .unwrap_or((MessageKind::Text, String::new()));
                ChatItem {
                    initial: models::initial(&r.name),
                    unread: if r.room_id == open.as_str() {
                        0
                    } else {
                        i32::try_from(r.unread).unwrap_or(i32::MAX)
                    },
                    room_id: r.room_id.into(),
                    name: r.name.into(),
                    last_message: text.into(),
                    last_kind: kind,
                    time: r
                        .last
                        .map(|m| local_time_label(m.timestamp_ms, lang))
                        .unwrap_or_default()
                        .into(),
                    invite: false,
                }
            }));
            models().chats.set_vec(items);
        });
    });
}

/// The joined chats, newest activity first, and the pending invitations.
async fn fetch_chats(
    kontor: &Kontor,
) -> (Vec<kontor_core::ChatSummary>, Vec<(String, Option<String>)>) {
    let chats = match kontor.chats().await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot list the chats: {e}");
            Vec::new()
        }
    };
    let invites = kontor.invites().await.unwrap_or_default();
    (chats, invites)
}

fn open_room(shared: &Arc<Shared>, weak: &Weak<AppWindow>, room_id: String) {
    let Some(w) = weak.upgrade() else { return };
    let title = models()
        .chats
        .iter()
        .find(|c| c.room_id == room_id.as_str())
        .map(|c| c.name)
        .unwrap_or_default();
    show_room(&w, &room_id, title);
    load_messages(shared, weak, room_id);
}

fn show_room(w: &AppWindow, room_id: &str, title: SharedString) {
    let c = w.global::<Conversation>();
    c.set_room_id(room_id.into());
    c.set_title(title);
    c.set_loading(true);
    models().messages.set_vec(Vec::new());
    models::mark_read(&models().chats, room_id);
    let s = w.global::<Session>();
    s.set_error(ErrorKind::None);
    s.set_screen(Screen::Conversation);
}

pub(crate) fn load_messages(shared: &Arc<Shared>, weak: &Weak<AppWindow>, room_id: String) {
    super::timeline::load_newest(shared, weak, room_id);
}

fn start_chat(shared: &Arc<Shared>, weak: &Weak<AppWindow>, user: String) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    set_busy(weak);
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        let room = match kontor.open_dm(&user).await {
            Ok(r) => r,
            Err(e) => {
                let (k, d) = core_error(&e);
                return show_error(&weak, k, d);
            }
        };
        let (sh2, weak2, room2) = (sh.clone(), weak.clone(), room.clone());
        on_ui(&weak, move |w| {
            w.global::<Session>().set_busy(false);
            show_room(&w, &room2, user.into());
            load_messages(&sh2, &weak2, room2);
        });
        reload_chats(&sh, &weak);
    });
}

fn answer_invite(shared: &Arc<Shared>, weak: &Weak<AppWindow>, room_id: String, accept: bool) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        let result = if accept {
            kontor.accept_invite(&room_id).await
        } else {
            kontor.decline_invite(&room_id).await
        };
        if let Err(e) = result {
            let (k, d) = core_error(&e);
            show_error(&weak, k, d);
        }
        reload_chats(&sh, &weak);
    });
}

fn send_text(shared: &Arc<Shared>, weak: &Weak<AppWindow>, text: String) {
    let (Some(kontor), Some(w)) = (shared.kontor(), weak.upgrade()) else {
        return;
    };
    let room = w.global::<Conversation>().get_room_id().to_string();
    if room.is_empty() || text.trim().is_empty() {
        return;
    }
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.rt.spawn(async move {
        match kontor.send_text(&room, &text).await {
            Ok(txn) => {
                let lang = sh.language();
                on_ui(&weak, move |w| {
                    if w.global::<Conversation>().get_room_id() != room.as_str() {
                        return;
                    }
                    let state = lock(&sh.early_states)
                        .remove(&txn)
                        .unwrap_or(SendState::Pending);
                    if state == SendState::Cancelled {
                        return;
                    }
                    let now = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |d| d.as_millis() as u64);
                    let event_id = match &state {
                        SendState::Sent { event_id } => event_id.clone(),
                        _ => String::new(),
                    };
                    models().messages.push(super::MessageItem {
                        key: txn.into(),
                        event_id: event_id.into(),
                        own: true,
                        sender: w.global::<Session>().get_user_id(),
                        text: text.into(),
                        kind: MessageKind::Text,
                        time: local_time_label(now, lang).into(),
                        delivery: models::delivery(&state),
                        ..Default::default()
                    });
                });
            }
            Err(e) => {
                let (k, d) = core_error(&e);
                show_error(&weak, k, d);
            }
        }
    });
}

fn outbox_action(shared: &Arc<Shared>, weak: &Weak<AppWindow>, txn: String, retry: bool) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let weak = weak.clone();
    shared.rt.spawn(async move {
        let result = if retry {
            kontor.retry(&txn).await
        } else {
            kontor.cancel(&txn).await.map(|_| ())
        };
        if let Err(e) = result {
            let (k, d) = core_error(&e);
            show_error(&weak, k, d);
        }
    });
}
