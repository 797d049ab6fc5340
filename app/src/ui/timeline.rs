//! The open conversation's timeline, page by page: it opens with what the device already
//! has (no network), then the newest page from the homeserver only (a chat with 10,000
//! messages costs one small request), and puts the page before on top when the view asks
//! (`Conversation.load-older`, raised near the top).
//!
//! The paging state lives on the UI thread (the models are there too); the fetch runs on
//! tokio and comes back through [`on_ui`]. One page at a time: a request while one is
//! loading is ignored, and an answer for a conversation the user has left (or reopened
//! since) is dropped by its generation number.

use std::{cell::RefCell, sync::Arc};

use kontor_core::{Page, PageToken};
use slint::{ComponentHandle, Model, Weak};

use super::{
    AppWindow, Conversation, Session,
    controller::{Shared, core_error, models, on_ui},
    models as rules,
};

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

thread_local! {
    static PAGING: RefCell<Paging> = RefCell::default();
}

/// Shows the newest page of `room_id` (replacing what the timeline shows) and marks the
/// chat read up to its newest message. May be called from any thread (after an upload it
/// is called from tokio): the paging state lives on the UI thread, so it starts there.
pub(crate) fn load_newest(shared: &Arc<Shared>, weak: &Weak<AppWindow>, room_id: String) {
    let (sh, weak2) = (shared.clone(), weak.clone());
    on_ui(weak, move |_| start_newest(&sh, &weak2, room_id));
}

fn start_newest(shared: &Arc<Shared>, weak: &Weak<AppWindow>, room_id: String) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let generation = PAGING.with(|p| {
        let mut p = p.borrow_mut();
        p.generation += 1;
        p.room_id = room_id.clone();
        p.older = None;
        p.busy = true;
        p.server_page = false;
        p.generation
    });
    if let Some(w) = weak.upgrade() {
        let c = w.global::<Conversation>();
        c.set_loading_older(false);
        c.set_history_complete(false);
    }
    show_cached(shared, weak, &room_id, generation);
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.runtime().spawn(async move {
        let result = kontor.messages_page(&room_id, None, PAGE).await;
        let lang = sh.language();
        let (sh2, weak2) = (sh.clone(), weak.clone());
        on_ui(&weak, move |w| {
            if !current(generation) {
                return; // the user went elsewhere meanwhile
            }
            let c = w.global::<Conversation>();
            c.set_loading(false);
            PAGING.with(|p| {
                let mut p = p.borrow_mut();
                p.busy = false;
                p.server_page = true;
            });
            match result {
                Ok(page) => {
                    let newest = newest_event(&page);
                    c.set_history_complete(page.older.is_none() && !page.offline);
                    PAGING.with(|p| p.borrow_mut().older = page.older);
                    let mut items: Vec<_> = page
                        .messages
                        .iter()
                        .map(|m| rules::message_item(m, lang))
                        .collect();
                    keep_newer_echoes(&models().messages, &mut items);
                    models().messages.set_vec(items);
                    if let Some(event_id) = newest {
                        mark_read(&sh2, &weak2, room_id, event_id);
                    }
                }
                Err(e) => show(&w, &e),
            }
        });
    });
}

/// Shows what this device already has of the chat while the homeserver's page is on
/// its way: opening a chat then costs a local read (milliseconds), not a round trip,
/// and works the same on a slow link. Paging back waits for the server's page (only it
/// carries the token), and that page replaces this one when it arrives.
fn show_cached(shared: &Arc<Shared>, weak: &Weak<AppWindow>, room_id: &str, generation: u64) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let (sh, weak, room_id) = (shared.clone(), weak.clone(), room_id.to_owned());
    shared.runtime().spawn(async move {
        let Ok(messages) = kontor.cached_page(&room_id, PAGE).await else {
            return; // the server's page will tell what is wrong
        };
        if messages.is_empty() {
            return;
        }
        let lang = sh.language();
        on_ui(&weak, move |w| {
            if !current(generation) || PAGING.with(|p| p.borrow().server_page) {
                return;
            }
            let items: Vec<_> = messages
                .iter()
                .map(|m| rules::message_item(m, lang))
                .collect();
            models().messages.set_vec(items);
            w.global::<Conversation>().set_loading(false);
        });
    });
}

/// Puts the page before the oldest shown message on top, unless one is already on its
/// way or the beginning is shown.
pub(crate) fn load_older(shared: &Arc<Shared>, weak: &Weak<AppWindow>) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let request = PAGING.with(|p| {
        let mut p = p.borrow_mut();
        if p.busy {
            return None;
        }
        let token = p.older.clone()?;
        p.busy = true;
        Some((p.room_id.clone(), token, p.generation))
    });
    let Some((room_id, token, generation)) = request else {
        return;
    };
    if let Some(w) = weak.upgrade() {
        w.global::<Conversation>().set_loading_older(true);
    }
    let sh = shared.clone();
    let weak = weak.clone();
    shared.runtime().spawn(async move {
        let result = kontor.messages_page(&room_id, Some(&token), PAGE).await;
        let lang = sh.language();
        on_ui(&weak, move |w| {
            if !current(generation) {
                return;
            }
            let c = w.global::<Conversation>();
            c.set_loading_older(false);
            PAGING.with(|p| p.borrow_mut().busy = false);
            match result {
                Ok(page) => {
                    c.set_history_complete(page.older.is_none());
                    PAGING.with(|p| p.borrow_mut().older = page.older);
                    let model = models().messages;
                    let items: Vec<_> = page
                        .messages
                        .iter()
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
                }
                // The token stays: scrolling up again retries the same page.
                Err(e) => show(&w, &e),
            }
        });
    });
}

/// Sends the read receipt for the open chat (the list already shows it read). Failing
/// is harmless: the chat is marked again the next time it is opened.
pub(crate) fn mark_read(
    shared: &Arc<Shared>,
    _weak: &Weak<AppWindow>,
    room: String,
    event: String,
) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    shared.runtime().spawn(async move {
        if let Err(e) = kontor.mark_read(&room, &event).await {
            tracing::debug!("read receipt not sent: {e}");
        }
    });
}

fn current(generation: u64) -> bool {
    PAGING.with(|p| p.borrow().generation == generation)
}

/// The newest message of the page that the server knows (the outbox part has no id yet).
fn newest_event(page: &Page) -> Option<String> {
    page.messages.iter().rev().find_map(|m| m.event_id.clone())
}

fn show(w: &AppWindow, e: &kontor_core::Error) {
    let (kind, detail) = core_error(e);
    let s = w.global::<Session>();
    s.set_error(kind);
    s.set_error_detail(detail.into());
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
