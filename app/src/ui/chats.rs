//! The chat list: joined chats (name, last message, time, unread count) and invitations,
//! with a search filter; opening, starting and answering chats.
//!
//! The list's model lives in the `Chats` global (a filter over all chats, see
//! [`context::chat_list`]); new messages update their row in place, anything else
//! rebuilds the list from the account (a local read, see `Kontor::chats`).

use std::{
    cell::RefCell,
    collections::HashMap,
    rc::Rc,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use kontor_core::{CoreEvent, Kontor};
use slint::{ComponentHandle, Model, ModelRc, VecModel};

use super::{
    AppWindow, ChatItem, Chats, Conversation, ErrorKind, Lock, Session,
    context::{self, ChatFilter, Ctx, lock},
    models,
    view::View,
};
use crate::service::consent::ConsentChanged;

/// Answers the `Chats` callbacks and keeps the list current.
pub(crate) struct ChatsController {
    ctx: Ctx,
    /// The direct chats started here, by room: whom with. The homeserver names a chat's
    /// partner only once the account data marking it direct has come back with a sync,
    /// so until then the list knows the partner from here.
    started: Arc<Mutex<HashMap<String, String>>>,
    /// Whether a reload runs and whether another was asked for meanwhile: the sync,
    /// the unlock and the views all ask for reloads, often several at once, and each
    /// reads every chat; concurrent reads only slow each other down (five at once took
    /// ~0.9 s each for 100 chats on a new device), so one runs and at most one follows.
    reloads: Arc<Mutex<Reloads>>,
    /// Whether the list shows the account's chats (false after unlock or sign-in until
    /// the first reload has shown them): only then does a reload first show the list
    /// the profile stored, which is there before the SDK's stores have answered.
    listed: Arc<AtomicBool>,
}

impl ChatsController {
    /// Installs the list and wires the `Chats` global.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<ChatsController> {
        let me = Arc::new(ChatsController {
            ctx: ctx.clone(),
            started: Arc::default(),
            reloads: Arc::default(),
            listed: Arc::default(),
        });
        let all = Rc::new(VecModel::<ChatItem>::default());
        // The list shows the chats through a filter for the search field.
        let query: Rc<RefCell<String>> = Rc::default();
        let filtered: Rc<ChatFilter> = {
            let query = query.clone();
            let keep: Box<dyn Fn(&ChatItem) -> bool> =
                Box::new(move |c| models::matches_search(c, &query.borrow()));
            Rc::new(ChatFilter::new(all, keep))
        };
        let c = window.global::<Chats>();
        c.set_chats(ModelRc::from(filtered.clone()));
        c.on_search(move |text| {
            *query.borrow_mut() = text.to_string();
            filtered.reset();
        });
        {
            let me = me.clone();
            c.on_open(move |room| me.open(room.to_string()));
        }
        {
            let me = me.clone();
            c.on_start_chat(move |user| me.start_chat(user.trim().to_owned()));
        }
        {
            let me = me.clone();
            c.on_accept_invite(move |room| me.answer_invite(room.to_string(), true));
        }
        {
            let me = me.clone();
            c.on_decline_invite(move |room| me.answer_invite(room.to_string(), false));
        }
        {
            let me = me.clone();
            c.on_reload(move || me.reload());
        }
        me
    }

    /// Rebuilds the chat list from the account's rooms and invitations, each named and
    /// badged as the contact book knows its partner (both books read once, on a
    /// blocking thread); the open conversation's header follows.
    ///
    /// The first reload after unlock first shows the list as the profile stored it at
    /// the last read (one sealed file: names, previews, unread counts, order), so the
    /// chats are on screen at once; reading 100 chats from the SDK's stores takes
    /// ~0.3 s on the reference machine, and then replaces it.
    fn reload(&self) {
        {
            let mut r = lock(&self.reloads);
            if r.running {
                r.again = true;
                return;
            }
            r.running = true;
        }
        let ctx = self.ctx.clone();
        let started = self.started.clone();
        let listed = self.listed.clone();
        let reloads = self.reloads.clone();
        let spawned = self.ctx.service.spawn(move |kontor| async move {
            loop {
                let people = match ctx.service.people().await {
                    Ok(p) => Some(p),
                    Err(e) => {
                        tracing::debug!("chats shown without the contact book: {e}");
                        None
                    }
                };
                if !listed.load(Ordering::SeqCst) {
                    let stored = kontor.stored_chats();
                    if !stored.is_empty() {
                        let started = lock(&started).clone();
                        show_chats(&ctx, stored, Vec::new(), &started, people.clone(), &listed);
                    }
                }
                let (rows, invites) = fetch_chats(&kontor).await;
                let started_now = lock(&started).clone();
                show_chats(&ctx, rows, invites, &started_now, people, &listed);
                let mut r = lock(&reloads);
                if !std::mem::take(&mut r.again) {
                    r.running = false;
                    break;
                }
            }
        });
        if !spawned {
            *lock(&self.reloads) = Reloads::default();
        }
    }

    fn started(&self) -> std::sync::MutexGuard<'_, HashMap<String, String>> {
        lock(&self.started)
    }

    fn open(&self, room_id: String) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let title = context::chat_list(&w)
            .iter()
            .find(|c| c.room_id == room_id.as_str())
            .map(|c| c.name)
            .unwrap_or_default();
        w.global::<Conversation>()
            .invoke_show(room_id.into(), title);
    }

    fn start_chat(self: &Arc<Self>, user: String) {
        if let Some(w) = self.ctx.weak.upgrade() {
            let s = w.global::<Session>();
            s.set_busy(true);
            s.set_error(ErrorKind::None);
        }
        let (ctx, me) = (self.ctx.clone(), self.clone());
        self.ctx.service.spawn(move |kontor| async move {
            match kontor.open_dm(&user).await {
                Ok(room) => ctx.on_ui(move |w| {
                    me.started().insert(room.clone(), user.clone());
                    w.global::<Session>().set_busy(false);
                    w.global::<Conversation>()
                        .invoke_show(room.into(), user.into());
                    w.global::<Chats>().invoke_reload();
                }),
                Err(e) => ctx.fail(e),
            }
        });
    }

    fn answer_invite(&self, room_id: String, accept: bool) {
        let ctx = self.ctx.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let result = if accept {
                kontor.accept_invite(&room_id).await
            } else {
                kontor.decline_invite(&room_id).await
            };
            if let Err(e) = result {
                ctx.fail(e);
            }
            ctx.on_ui(|w| w.global::<Chats>().invoke_reload());
        });
    }
}

/// See [`ChatsController::reloads`].
#[derive(Default)]
struct Reloads {
    running: bool,
    again: bool,
}

/// Shows `rows` (joined chats, in order) after the invitations: chats started here
/// keep their partner until the server names it, and contacts give names and badges.
fn show_chats(
    ctx: &Ctx,
    mut rows: Vec<kontor_core::ChatSummary>,
    invites: Vec<(String, Option<String>)>,
    started: &HashMap<String, String>,
    people: Option<crate::service::people::People>,
    listed: &Arc<AtomicBool>,
) {
    for r in rows.iter_mut().filter(|r| r.peer.is_none()) {
        r.peer = started.get(&r.room_id).cloned();
    }
    let lang = ctx.language();
    let listed = listed.clone();
    ctx.on_ui(move |w| {
        if w.global::<Lock>().get_locked() {
            return;
        }
        let open = w.global::<Conversation>().get_room_id();
        let mut items: Vec<ChatItem> = invites
            .into_iter()
            .map(|(room_id, inviter)| models::invite_row(room_id, inviter, people.as_ref()))
            .collect();
        let people = people.unwrap_or_default();
        items.extend(
            rows.into_iter()
                .map(|r| models::chat_row(r, &people, &open, lang)),
        );
        context::chat_list(&w).set_vec(items);
        context::show_partner(&w);
        listed.store(true, Ordering::SeqCst);
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

impl View for ChatsController {
    fn name(&self) -> &'static str {
        "chats"
    }

    fn clear(&self, w: &AppWindow) {
        self.started().clear();
        self.listed.store(false, Ordering::SeqCst);
        context::chat_list(w).set_vec(Vec::new());
    }

    /// A consent given or withdrawn in the chat: the badges follow.
    fn consent_changed(&self, _w: &AppWindow, _changed: &ConsentChanged) {
        self.reload();
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let rows: Vec<String> = context::chat_list(w)
            .iter()
            .map(|c| format!("{}|{}|{}", c.room_id, c.name, c.last_message))
            .collect();
        format!("chats={rows:?}")
    }

    fn event(&self, w: &AppWindow, event: &CoreEvent) {
        if w.global::<Lock>().get_locked() {
            return; // nothing is shown while locked; unlocking reloads the list
        }
        match event {
            CoreEvent::MessageReceived(msg) => {
                let open = w.global::<Conversation>().get_room_id();
                if !models::chat_message(&context::chat_list(w), msg, &open, self.ctx.language()) {
                    self.reload();
                }
            }
            // (The session has let the service make an unknown inviter a contact first.)
            CoreEvent::Invite { .. } => self.reload(),
            // A new device learns its chats a window at a time.
            CoreEvent::ChatsChanged => self.reload(),
            _ => {}
        }
    }
}
