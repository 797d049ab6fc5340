//! The open conversation's timeline, page by page: it opens with what the device already
//! has (no network), then the newest page from the homeserver only (a chat with 10,000
//! messages costs one small request), and puts the page before on top when the view asks
//! (`Conversation.load-older`, raised near the top).
//!
//! The paging state lives on the UI thread (the models are there too); the fetch runs on
//! tokio and comes back through [`on_ui`]. One page at a time: a request while one is
//! loading is ignored, and an answer for a conversation the user has left (or reopened
//! since) is dropped by its generation number.

use std::sync::{Arc, Mutex, MutexGuard};

use kontor_core::{Page, PageToken};
use slint::{ComponentHandle, Model};

use super::{
    AppWindow, ChatConsent, Conversation,
    consent_cards::ConsentCards,
    context::{Ctx, with_messages},
    models as rules,
    quote_cards::Cards,
};
use crate::service::language::Language;

/// Messages per page: a screen and a half at phone size, one quick request.
pub(crate) const PAGE: u32 = 30;

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
}

/// The open conversation's paging (shared with the tasks that fetch pages).
pub(crate) struct Timeline {
    ctx: Ctx,
    paging: Mutex<Paging>,
    /// The open chat's quotes and their answers (the cards).
    cards: Mutex<Cards>,
    /// The open chat's consent requests and their answers.
    consent: Mutex<ConsentCards>,
}

impl Timeline {
    /// A timeline with nothing open.
    pub(crate) fn new(ctx: &Ctx) -> Arc<Timeline> {
        Arc::new(Timeline {
            ctx: ctx.clone(),
            paging: Mutex::default(),
            cards: Mutex::default(),
            consent: Mutex::default(),
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
        let generation = {
            let mut p = self.paging();
            p.generation += 1;
            p.room_id = room_id.clone();
            p.older = None;
            p.busy = true;
            p.server_page = false;
            p.generation
        };
        self.cards().reset();
        self.consent().reset();
        if let Some(w) = self.ctx.weak.upgrade() {
            let c = w.global::<Conversation>();
            c.set_loading_older(false);
            c.set_history_complete(false);
        }
        self.show_cached(&room_id, generation);
        let me = self.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let result = kontor.messages_page(&room_id, None, PAGE).await;
            let lang = me.ctx.language();
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                if !me2.current(generation) {
                    return; // the user went elsewhere meanwhile
                }
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
                        let mut items: Vec<_> = page
                            .messages
                            .iter()
                            .filter(|m| rules::shown(m))
                            .map(|m| rules::message_item(m, lang))
                            .collect();
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
            });
        });
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
                let items: Vec<_> = messages
                    .iter()
                    .filter(|m| rules::shown(m))
                    .map(|m| rules::message_item(m, lang))
                    .collect();
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
        let me = self.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let result = kontor.messages_page(&room_id, Some(&token), PAGE).await;
            let lang = me.ctx.language();
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                if !me2.current(generation) {
                    return;
                }
                let c = w.global::<Conversation>();
                c.set_loading_older(false);
                me2.paging().busy = false;
                match result {
                    Ok(page) => {
                        c.set_history_complete(page.older.is_none());
                        me2.paging().older = page.older;
                        with_messages(&w, |model| {
                            let items: Vec<_> = page
                                .messages
                                .iter()
                                .filter(|m| rules::shown(m))
                                .filter(|m| {
                                    // A message that arrived live while paging can be in both.
                                    let id = m.event_id.as_deref().unwrap_or_default();
                                    id.is_empty() || !model.iter().any(|i| i.event_id == id)
                                })
                                .map(|m| rules::message_item(m, lang))
                                .collect();
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
            });
        });
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
        self.cards().reset();
        self.consent().reset();
        let mut p = self.paging();
        let generation = p.generation + 1;
        *p = Paging {
            generation,
            ..Paging::default()
        };
    }
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
