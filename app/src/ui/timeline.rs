//! The open conversation's timeline, page by page: it opens with what the device already
//! has (no network), then the newest page from the homeserver only (a chat with 10,000
//! messages costs one small request), and puts the page before on top when the view asks
//! (`Conversation.load-older`, raised near the top).
//!
//! A search hit opens the chat **at** a message ([`Timeline::load_around`]): the
//! messages around it (`Kontor::messages_around`), shown up to the hit so the view,
//! which opens at its bottom, has the hit in view; the rest of that window and then the
//! pages after it (`Kontor::messages_newer`) come below when the user scrolls to the
//! bottom (`Conversation.load-newer`), until the present is reached. Until then live
//! messages of the chat are kept aside (appending them would put them out of order) and
//! added once paging forward reaches the present; "Jump to newest" reopens the chat.
//!
//! Edits are no bubbles: they change their original's text ([`rules::Edits`]);
//! a redaction takes its bubble away.
//!
//! The paging state lives on the UI thread (the models are there too); the fetch runs on
//! tokio and comes back through [`on_ui`]. One page at a time: a request while one is
//! loading is ignored, and an answer for a conversation the user has left (or reopened
//! since) is dropped by its generation number.

use std::sync::{Arc, Mutex, MutexGuard};

use kontor_core::{Message, Page, PageToken};
use slint::{ComponentHandle, Model, SharedString};

use super::{
    AppWindow, ChatConsent, Conversation, MessageItem,
    consent_cards::ConsentCards,
    context::{Ctx, with_messages},
    models as rules,
    quote_cards::Cards,
};
use crate::service::language::Language;

/// Messages per page: a screen and a half at phone size, one quick request.
pub(crate) const PAGE: u32 = 30;
/// Messages on each side of a message jumped to.
const AROUND: u32 = 25;
/// How long a message jumped to stays outlined.
const HIGHLIGHT: std::time::Duration = std::time::Duration::from_secs(3);

#[derive(Default)]
struct Paging {
    room_id: String,
    /// Where the page before the oldest shown one starts; `None` at the beginning or
    /// before the first page arrived.
    older: Option<PageToken>,
    /// A page is on its way.
    busy: bool,
    /// The newest page came from the homeserver (so the locally cached one, which is
    /// shown first because it needs no network, must not overwrite it when late).
    server_page: bool,
    /// Bumped on every (re)open, so late answers for an earlier one are dropped.
    generation: u64,
    /// After a jump: the shown window does not reach the present.
    behind: bool,
    /// After a jump: where the page after the newest shown message starts (`None`: the
    /// server had nothing newer when asked).
    newer: Option<PageToken>,
    /// After a jump: the window's messages after the hit, not shown yet (the first
    /// page forward).
    held: Vec<Message>,
    /// Live messages of the chat that came while `behind`.
    live: Vec<Message>,
    /// A page forward is on its way.
    busy_newer: bool,
}

/// The open conversation's paging (shared with the tasks that fetch pages).
pub(crate) struct Timeline {
    ctx: Ctx,
    paging: Mutex<Paging>,
    /// The open chat's quotes and their answers (the cards).
    cards: Mutex<Cards>,
    /// The open chat's consent requests and their answers.
    consent: Mutex<ConsentCards>,
    /// The open chat's edits.
    edits: Mutex<rules::Edits>,
}

impl Timeline {
    /// A timeline with nothing open.
    pub(crate) fn new(ctx: &Ctx) -> Arc<Timeline> {
        Arc::new(Timeline {
            ctx: ctx.clone(),
            paging: Mutex::default(),
            cards: Mutex::default(),
            consent: Mutex::default(),
            edits: Mutex::default(),
        })
    }

    /// Shows the newest page of `room_id` (replacing what the timeline shows) and marks the
    /// chat read up to its newest message. May be called from any thread (after an upload it
    /// is called from tokio): the paging state lives on the UI thread, so it starts there.
    pub(crate) fn load_newest(self: &Arc<Self>, room_id: String) {
        let me = self.clone();
        self.ctx.on_ui(move |_| me.start_newest(room_id));
    }

    fn start_newest(self: &Arc<Self>, room_id: String) {
        if !self.ctx.service.signed_in() {
            return;
        }
        let generation = self.begin(&room_id, None);
        self.show_cached(&room_id, generation);
        let room = room_id.clone();
        self.fetch(
            generation,
            move |kontor| async move { kontor.messages_page(&room, None, PAGE).await },
            move |me2, w, result| {
                let lang = me2.ctx.language();
                let c = w.global::<Conversation>();
                c.set_loading(false);
                {
                    let mut p = me2.paging();
                    p.busy = false;
                    p.server_page = true;
                }
                match result {
                    Ok(page) => {
                        let newest = newest_event(&page);
                        c.set_history_complete(page.older.is_none() && !page.offline);
                        me2.paging().older = page.older;
                        let mut items = me2.bubbles(&page.messages, lang);
                        with_messages(&w, |m| {
                            keep_newer_echoes(m, &mut items);
                            m.set_vec(items);
                        });
                        me2.absorb_cards(&w, &page.messages);
                        if let Some(event_id) = newest {
                            me2.mark_read(room_id, event_id);
                        }
                    }
                    Err(e) => me2.ctx.fail(e),
                }
            },
        );
    }

    /// Shows what this device already has of the chat while the homeserver's page is on
    /// its way: opening a chat then costs a local read (milliseconds), not a round trip,
    /// and works the same on a slow link. Paging back waits for the server's page (only it
    /// carries the token), and that page replaces this one when it arrives.
    fn show_cached(self: &Arc<Self>, room_id: &str, generation: u64) {
        let (me, room_id) = (self.clone(), room_id.to_owned());
        self.ctx.service.spawn(move |kontor| async move {
            let Ok(messages) = kontor.cached_page(&room_id, PAGE).await else {
                return; // the server's page will tell what is wrong
            };
            if messages.is_empty() {
                return;
            }
            let lang = me.ctx.language();
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                if !me2.current(generation) || me2.paging().server_page {
                    return;
                }
                let items = me2.bubbles(&messages, lang);
                with_messages(&w, |m| m.set_vec(items));
                me2.absorb_cards(&w, &messages);
                w.global::<Conversation>().set_loading(false);
            });
        });
    }

    /// Puts the page before the oldest shown message on top, unless one is already on its
    /// way or the beginning is shown.
    pub(crate) fn load_older(self: &Arc<Self>) {
        if !self.ctx.service.signed_in() {
            return;
        }
        let request = (|| {
            let mut p = self.paging();
            if p.busy {
                return None;
            }
            let token = p.older.clone()?;
            p.busy = true;
            Some((p.room_id.clone(), token, p.generation))
        })();
        let Some((room_id, token, generation)) = request else {
            return;
        };
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<Conversation>().set_loading_older(true);
        }
        self.fetch(
            generation,
            move |kontor| async move { kontor.messages_page(&room_id, Some(&token), PAGE).await },
            move |me2, w, result| {
                let lang = me2.ctx.language();
                let c = w.global::<Conversation>();
                c.set_loading_older(false);
                me2.paging().busy = false;
                match result {
                    Ok(page) => {
                        c.set_history_complete(page.older.is_none());
                        me2.paging().older = page.older;
                        let items = me2.bubbles(&page.messages, lang);
                        with_messages(&w, |model| {
                            // A message that arrived live while paging can be in both.
                            let items = not_shown(model, items);
                            c.set_prepended(i32::try_from(items.len()).unwrap_or(0));
                            for item in items.into_iter().rev() {
                                model.insert(0, item);
                            }
                        });
                        me2.absorb_cards(&w, &page.messages);
                    }
                    // The token stays: scrolling up again retries the same page.
                    Err(e) => me2.ctx.fail(e),
                }
            },
        );
    }

    /// Fetches with the account on tokio, then runs `then` on the UI thread, unless the
    /// user has opened something else meanwhile (`generation`).
    fn fetch<T, Fut>(
        self: &Arc<Self>,
        generation: u64,
        fetch: impl FnOnce(Arc<kontor_core::Kontor>) -> Fut + Send + 'static,
        then: impl FnOnce(&Arc<Self>, AppWindow, T) + Send + 'static,
    ) where
        T: Send + 'static,
        Fut: std::future::Future<Output = T> + Send + 'static,
    {
        let me = self.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let result = fetch(kontor).await;
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                if me2.current(generation) {
                    then(&me2, w, result);
                }
            });
        });
    }

    /// Starts showing `room_id` afresh, at its newest message or at the message `at`
    /// (a jump: behind the present until paging forward reaches it). Returns the new
    /// generation; the first page is on its way (`busy`).
    fn begin(&self, room_id: &str, at: Option<&str>) -> u64 {
        let generation = {
            let mut p = self.paging();
            let generation = p.generation + 1;
            *p = Paging {
                room_id: room_id.to_owned(),
                busy: true,
                // After a jump nothing cached may replace the window.
                server_page: at.is_some(),
                behind: at.is_some(),
                generation,
                ..Paging::default()
            };
            generation
        };
        self.forget_chat();
        if let Some(w) = self.ctx.weak.upgrade() {
            let c = w.global::<Conversation>();
            c.set_loading_older(false);
            c.set_loading_newer(false);
            c.set_history_complete(false);
            c.set_at_present(at.is_none());
            c.set_highlight(at.unwrap_or_default().into());
        }
        generation
    }

    /// Shows `room_id` at the message `event_id` (a search hit): the messages around it,
    /// the hit outlined for a moment, paged both ways (see the module docs). Falls back
    /// to the newest page when the message cannot be found. UI thread.
    pub(crate) fn load_around(self: &Arc<Self>, room_id: String, event_id: String) {
        if !self.ctx.service.signed_in() {
            return;
        }
        let generation = self.begin(&room_id, Some(&event_id));
        let (room, event) = (room_id.clone(), event_id.clone());
        self.fetch(
            generation,
            move |kontor| async move { kontor.messages_around(&room, &event, AROUND).await },
            move |me2, w, result| {
                let lang = me2.ctx.language();
                let c = w.global::<Conversation>();
                c.set_loading(false);
                me2.paging().busy = false;
                let page = match result {
                    Ok(page) => page,
                    Err(e) => {
                        me2.ctx.fail(e);
                        return me2.start_newest(room_id);
                    }
                };
                c.set_history_complete(page.older.is_none());
                let mut shown = page.messages.clone();
                let at = shown
                    .iter()
                    .position(|m| m.event_id.as_deref() == Some(event_id.as_str()))
                    .map_or(shown.len(), |i| i + 1);
                let held = shown.split_off(at);
                {
                    let mut p = me2.paging();
                    p.older = page.older;
                    p.newer = page.newer;
                    p.held = held;
                }
                me2.edits().absorb(&page.messages);
                let items = me2.bubbles(&shown, lang);
                with_messages(&w, |m| m.set_vec(items));
                me2.absorb_cards(&w, &page.messages);
                me2.settle_present(&w);
                // The outline goes after a moment.
                let me3 = me2.clone();
                me2.ctx.rt().spawn(async move {
                    tokio::time::sleep(HIGHLIGHT).await;
                    let me4 = me3.clone();
                    me3.ctx.on_ui(move |w| {
                        let c = w.global::<Conversation>();
                        if me4.current(generation) && c.get_highlight() == event_id.as_str() {
                            c.set_highlight(SharedString::new());
                        }
                    });
                });
            },
        );
    }

    /// After a jump: puts what comes after the newest shown message below it (first the
    /// rest of the window around the hit, then pages from the homeserver), unless one is
    /// on its way or the present is shown. UI thread.
    pub(crate) fn load_newer(self: &Arc<Self>) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let held = {
            let mut p = self.paging();
            if !p.behind || p.busy_newer || p.busy {
                return;
            }
            std::mem::take(&mut p.held)
        };
        if !held.is_empty() {
            self.append(&w, &held);
            self.settle_present(&w);
            return;
        }
        let request = (|| {
            let mut p = self.paging();
            let token = p.newer.clone()?;
            p.busy_newer = true;
            Some((p.room_id.clone(), token, p.generation))
        })();
        let Some((room_id, token, generation)) = request else {
            return self.settle_present(&w);
        };
        w.global::<Conversation>().set_loading_newer(true);
        self.fetch(
            generation,
            move |kontor| async move { kontor.messages_newer(&room_id, &token, PAGE).await },
            move |me2, w, result| {
                w.global::<Conversation>().set_loading_newer(false);
                me2.paging().busy_newer = false;
                match result {
                    Ok(page) => {
                        me2.paging().newer = page.newer;
                        me2.append(&w, &page.messages);
                        me2.settle_present(&w);
                    }
                    // The token stays: scrolling down again retries the same page.
                    Err(e) => me2.ctx.fail(e),
                }
            },
        );
    }

    /// Appends `messages` (oldest first) below the shown ones, without those already
    /// shown; the view keeps its position (`Conversation.appended`).
    fn append(&self, w: &AppWindow, messages: &[Message]) {
        self.edits().absorb(messages);
        let items = self.bubbles(messages, self.ctx.language());
        with_messages(w, |model| {
            let items = not_shown(model, items);
            w.global::<Conversation>()
                .set_appended(i32::try_from(items.len()).unwrap_or(0));
            for item in items {
                model.push(item);
            }
            self.edits().apply(model);
        });
        self.absorb_cards(w, messages);
    }

    /// Once paging forward has reached the present: the live messages kept aside come
    /// below, live ones are appended again, and the chat is read.
    fn settle_present(&self, w: &AppWindow) {
        let live = {
            let mut p = self.paging();
            if !p.behind || p.newer.is_some() || !p.held.is_empty() {
                return;
            }
            p.behind = false;
            std::mem::take(&mut p.live)
        };
        self.append(w, &live);
        let c = w.global::<Conversation>();
        c.set_at_present(true);
        let newest = with_messages(w, |m| {
            m.iter()
                .filter(|i| !i.own && !i.event_id.is_empty())
                .last()
                .map(|i| i.event_id.to_string())
        });
        if let Some(event) = newest {
            self.mark_read(c.get_room_id().to_string(), event);
        }
    }

    /// After a jump, before the present is shown: keeps a live message of the open chat
    /// for later and returns true; else false (the caller appends it).
    pub(crate) fn hold_live(&self, msg: &Message) -> bool {
        let mut p = self.paging();
        if !p.behind {
            return false;
        }
        p.live.push(msg.clone());
        true
    }

    /// The window does not reach the present (after a jump).
    pub(crate) fn behind(&self) -> bool {
        self.paging().behind
    }

    /// A live edit of a message in the open chat: the bubble shows the new text (or will,
    /// when its page comes). UI thread.
    pub(crate) fn edit(&self, w: &AppWindow, msg: &Message) {
        let edits = {
            let mut e = self.edits();
            e.absorb(std::slice::from_ref(msg));
            e
        };
        with_messages(w, |m| edits.apply(m));
    }

    /// The bubbles for a page, edits applied (and remembered for pages still to come).
    fn bubbles(&self, messages: &[Message], lang: crate::ui::Language) -> Vec<MessageItem> {
        let mut edits = self.edits();
        edits.absorb(messages);
        edits.bubbles(messages, lang)
    }

    /// Forgets what belonged to the chat shown before (cards, edits).
    fn forget_chat(&self) {
        self.cards().reset();
        self.consent().reset();
        self.edits().clear();
    }

    fn edits(&self) -> MutexGuard<'_, rules::Edits> {
        self.edits.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Sends the read receipt for the open chat (the list already shows it read). Failing
    /// is harmless: the chat is marked again the next time it is opened.
    pub(crate) fn mark_read(&self, room: String, event: String) {
        self.ctx.service.spawn(move |kontor| async move {
            if let Err(e) = kontor.mark_read(&room, &event).await {
                tracing::debug!("read receipt not sent: {e}");
            }
        });
    }

    /// Takes note of quotes and answers among `messages` and puts the cards on the shown
    /// rows (UI thread; rows just replaced come without their card).
    pub(crate) fn absorb_cards(&self, w: &AppWindow, messages: &[kontor_core::Message]) {
        self.cards().absorb(messages);
        self.consent().absorb(messages);
        self.apply_cards(w);
    }

    /// Puts the current cards on the shown rows (after rows were added).
    pub(crate) fn apply_cards(&self, w: &AppWindow) {
        let own = self
            .ctx
            .service
            .with_account(|k| k.user_id())
            .unwrap_or_default();
        let lang = self.ctx.language();
        let cards = self.cards();
        with_messages(w, |m| cards.apply(m, &own, lang));
        let consent = self.consent();
        with_messages(w, |m| consent.apply(m));
        w.global::<ChatConsent>()
            .set_peer_asks(consent.asked_by_peer());
    }

    /// The language of the open chat's consent request `event_id`, if it is one.
    pub(crate) fn request_language(&self, event_id: &str) -> Option<Language> {
        self.consent().language(event_id)
    }

    /// Marks the viewer's answer to the request `event_id` as on its way (or no longer),
    /// on the shown card (UI thread).
    pub(crate) fn answer_sending(&self, w: &AppWindow, event_id: &str, on: bool) {
        self.consent().set_sending(event_id, on);
        self.apply_cards(w);
    }

    fn cards(&self) -> MutexGuard<'_, Cards> {
        self.cards.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn consent(&self) -> MutexGuard<'_, ConsentCards> {
        self.consent.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self, generation: u64) -> bool {
        self.paging().generation == generation
    }

    fn paging(&self) -> MutexGuard<'_, Paging> {
        self.paging.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Forgets the conversation (the lock, leaving it): late pages are dropped.
    pub(crate) fn reset(&self) {
        self.forget_chat();
        let mut p = self.paging();
        let generation = p.generation + 1;
        *p = Paging {
            generation,
            ..Paging::default()
        };
    }
}

/// The items whose message is not shown yet (by event id; our own unsent ones always).
fn not_shown(model: &slint::VecModel<MessageItem>, items: Vec<MessageItem>) -> Vec<MessageItem> {
    items
        .into_iter()
        .filter(|item| {
            item.event_id.is_empty() || !model.iter().any(|i| i.event_id == item.event_id)
        })
        .collect()
}

/// The newest message of the page that the server knows (the outbox part has no id yet).
fn newest_event(page: &Page) -> Option<String> {
    page.messages.iter().rev().find_map(|m| m.event_id.clone())
}

/// A reload can race the sync: a message (e.g. our own file, just uploaded) may already
/// have been appended live while the page was fetched from a store that did not have it
/// yet. Keeps the shown messages that come after the newest one the page also has, so
/// the reload never takes a delivered message off the screen; the sync will not deliver
/// it a second time.
fn keep_newer_echoes(
    shown: &slint::VecModel<crate::ui::MessageItem>,
    page: &mut Vec<crate::ui::MessageItem>,
) {
    let known: std::collections::HashSet<slint::SharedString> = page
        .iter()
        .filter(|i| !i.event_id.is_empty())
        .map(|i| i.event_id.clone())
        .collect();
    let shown: Vec<_> = shown.iter().collect();
    let Some(last) = shown.iter().rposition(|i| known.contains(&i.event_id)) else {
        return;
    };
    page.extend(
        shown[last + 1..]
            .iter()
            .filter(|i| !i.event_id.is_empty() && !known.contains(&i.event_id))
            .cloned(),
    );
}
