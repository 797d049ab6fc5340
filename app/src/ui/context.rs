//! What every view controller is given: the service, the window (weakly), the config and
//! the language now shown. Plain data that may cross threads (`Send + Sync`), so tokio
//! tasks carry it and come back to the UI thread with [`Ctx::on_ui`].
//!
//! The models the views show belong to the window's globals; [`chat_list`] and
//! [`messages`] find them there (no thread-local copies). The UI thread never waits on
//! the network or the disk: work is spawned, and only closures that run on the UI thread
//! touch models and properties.

use std::{
    rc::Rc,
    sync::{Arc, Mutex},
};

use slint::{ComponentHandle, FilterModel, Model, VecModel, Weak};

use super::{
    AppWindow, ChatConsent, ChatItem, Chats, Config, ConsentBadge, Conversation, ErrorKind,
    MessageItem, Session, format::Language, user_facing,
};
use crate::service::Service;

/// The chat list as the window holds it: all chats, shown through the search filter.
pub(crate) type ChatFilter = FilterModel<Rc<VecModel<ChatItem>>, Box<dyn Fn(&ChatItem) -> bool>>;

/// The handles a controller needs (cheap to clone).
#[derive(Clone)]
pub(crate) struct Ctx {
    /// The account and its policies.
    pub(crate) service: Arc<Service>,
    /// The window; upgraded on the UI thread only.
    pub(crate) weak: Weak<AppWindow>,
    /// What the UI was started with.
    pub(crate) config: Arc<Config>,
    language: Arc<Mutex<Language>>,
}

impl Ctx {
    pub(crate) fn new(
        service: Arc<Service>,
        weak: Weak<AppWindow>,
        config: Config,
        language: Language,
    ) -> Ctx {
        Ctx {
            service,
            weak,
            config: Arc::new(config),
            language: Arc::new(Mutex::new(language)),
        }
    }

    /// The runtime background work runs on.
    pub(crate) fn rt(&self) -> &tokio::runtime::Handle {
        self.service.runtime()
    }

    /// The language the window shows now.
    pub(crate) fn language(&self) -> Language {
        *self.language.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Switches the bundled translation and remembers it.
    pub(crate) fn apply_language(&self, w: &AppWindow, language: Language) {
        *self.language.lock().unwrap_or_else(|p| p.into_inner()) = language;
        super::apply_language(w, language);
    }

    /// Runs `f` with the window on the UI thread. When the event loop has already quit
    /// (the window was closed while a task was running) there is nobody to tell: dropped.
    pub(crate) fn on_ui(&self, f: impl FnOnce(AppWindow) + Send + 'static) {
        let _ = self.weak.upgrade_in_event_loop(f);
    }

    /// Shows an error on the current screen and ends the busy state. The words come
    /// from the translation catalogue (by kind); the technical detail goes to the log.
    pub(crate) fn fail(&self, error: impl Into<user_facing::UiError>) {
        let kind = user_facing::report(&error.into());
        self.on_ui(move |w| show_error(&w, kind));
    }
}

/// Sets the error banner (UI thread).
pub(crate) fn show_error(w: &AppWindow, kind: ErrorKind) {
    let s = w.global::<Session>();
    s.set_busy(false);
    s.set_error(kind);
}

/// The unfiltered chat list the window shows (installed by the chats controller).
pub(crate) fn chat_list(w: &AppWindow) -> Rc<VecModel<ChatItem>> {
    w.global::<Chats>()
        .get_chats()
        .as_any()
        .downcast_ref::<ChatFilter>()
        .map(|f| f.source_model().clone())
        .expect("the chats controller installs the chat list")
}

/// Shows the open conversation's partner as the chat list knows them — the contact
/// book's name, the contact and the consent badge — in its header (UI thread).
pub(crate) fn show_partner(w: &AppWindow) {
    let conversation = w.global::<Conversation>();
    let room = conversation.get_room_id();
    let row = chat_list(w)
        .iter()
        .find(|c| c.room_id == room && !c.invite && !room.is_empty());
    let c = w.global::<ChatConsent>();
    match row {
        Some(row) => {
            // The book's name; else the title it was opened with stays (a chat just
            // started shows the account typed, not the homeserver's "Empty Room").
            if !row.contact_id.is_empty() {
                conversation.set_title(row.name);
            }
            c.set_contact_id(row.contact_id);
            c.set_peer(row.peer);
            c.set_badge(row.consent);
        }
        None => {
            c.set_contact_id(Default::default());
            c.set_peer(Default::default());
            c.set_badge(ConsentBadge::None);
        }
    }
}

/// Runs `f` on the messages of the open conversation (installed by the conversation
/// controller).
pub(crate) fn with_messages<R>(w: &AppWindow, f: impl FnOnce(&VecModel<MessageItem>) -> R) -> R {
    let model = w.global::<Conversation>().get_messages();
    let messages = model
        .as_any()
        .downcast_ref::<VecModel<MessageItem>>()
        .expect("the conversation controller installs the messages");
    f(messages)
}

/// An empty list for a model property.
pub(crate) fn empty<T: Clone + 'static>() -> slint::ModelRc<T> {
    slint::ModelRc::from(Rc::new(VecModel::<T>::default()))
}

/// A list for a model property.
pub(crate) fn list<T: Clone + 'static>(items: Vec<T>) -> slint::ModelRc<T> {
    slint::ModelRc::from(Rc::new(VecModel::from(items)))
}

/// The suggested export folder: the download folder the app saves files into.
pub(crate) fn export_dir(ctx: &Ctx) -> std::path::PathBuf {
    let config = &ctx.config;
    config.download_dir.clone().unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join("Downloads"))
            .filter(|d| d.is_dir())
            .unwrap_or_else(|| config.data_dir.join("downloads"))
    })
}

/// The crate's poison-tolerant lock (see there), for the UI's maps and flags.
pub(crate) use crate::service::lock;
