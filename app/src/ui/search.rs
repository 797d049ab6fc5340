//! Searching the messages in the device's encrypted index ([`crate::service::search`]):
//! the chat list's "Messages" section, the open conversation's search strip, a hit
//! opening its chat at the message (`Conversation.show-at`), and the settings' progress
//! line.
//!
//! Search-as-you-type: every change of the text bumps a generation; the request waits
//! [`DEBOUNCE`], and goes only if no newer text came meanwhile. One request is in flight
//! at a time (the others wait for it and then see whether they are still wanted), and an
//! answer for a text no longer typed is dropped. Neither the text nor the hits are
//! logged.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use crate::service::search::{DocKind, Hit, SearchQuery, SearchStatus};
use slint::{ComponentHandle, Model, SharedString};
use tokio::task::AbortHandle;

use super::{
    AppWindow, ChatItem, Conversation, HitKind, Lock, Screen, SearchHit, Session, SnippetLine,
    SnippetPart,
    context::{self, Ctx},
    format::local_time_label,
    models,
    view::View,
};

/// How long typing must pause before the index is asked.
const DEBOUNCE: Duration = Duration::from_millis(250);
/// Characters a text needs before the index is asked (one letter finds too much).
const MIN_CHARS: usize = 2;
/// Hits shown.
const LIMIT: usize = 50;
/// A snippet's line: what fits 360 px at the body size (bold included).
const LINE_CHARS: usize = 36;
const SNIPPET_LINES: usize = 3;
/// "Last 30 days".
const RECENT_MS: i64 = 30 * 24 * 60 * 60 * 1000;

/// Which search an answer belongs to.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The chat list's.
    List,
    /// The open conversation's strip.
    Chat,
}

#[derive(Default)]
struct State {
    /// Bumped with every change of the list's text or filters.
    list: u64,
    list_text: String,
    /// Bumped with every change of the strip's text.
    chat: u64,
    /// The progress watcher of this sign-in.
    watcher: Option<AbortHandle>,
}

/// Answers the `Search` callbacks.
pub(crate) struct SearchController {
    ctx: Ctx,
    state: Mutex<State>,
    /// Held while the index is asked: one request at a time.
    in_flight: tokio::sync::Mutex<()>,
}

impl SearchController {
    /// Wires the `Search` global.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<SearchController> {
        let me = Arc::new(SearchController {
            ctx: ctx.clone(),
            state: Mutex::default(),
            in_flight: tokio::sync::Mutex::new(()),
        });
        let s = window.global::<super::Search>();
        {
            let me = me.clone();
            s.on_query(move |text| me.query_list(text.to_string()));
        }
        {
            let me = me.clone();
            s.on_refresh(move || {
                let text = me.state().list_text.clone();
                me.query_list(text);
            });
        }
        {
            let me = me.clone();
            s.on_query_chat(move |text| me.query_chat(text.to_string()));
        }
        {
            let me = me.clone();
            s.on_open_hit(move |room, event| me.open_hit(&room, &event));
        }
        {
            let me = me.clone();
            s.on_step(move |delta| me.step(delta));
        }
        {
            let ctx = ctx.clone();
            s.on_refresh_status(move || {
                let ctx2 = ctx.clone();
                ctx.rt().spawn(async move {
                    if let Ok(status) = ctx2.service.search_status().await {
                        show_status(&ctx2, status);
                    }
                });
            });
        }
        {
            let me = me.clone();
            s.on_close_chat(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    me.close_chat(&w);
                }
            });
        }
        me
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn current(&self, target: Target, generation: u64) -> bool {
        let s = self.state();
        match target {
            Target::List => s.list == generation,
            Target::Chat => s.chat == generation,
        }
    }

    /// The chat list's text changed (or a filter): asks the index once the text has
    /// [`MIN_CHARS`] and typing paused.
    fn query_list(self: &Arc<Self>, text: String) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let text = text.trim().to_owned();
        let generation = {
            let mut s = self.state();
            s.list += 1;
            s.list_text = text.clone();
            s.list
        };
        let s = w.global::<super::Search>();
        s.set_answered(false);
        if text.chars().count() < MIN_CHARS {
            s.set_active(false);
            s.set_hits(context::empty());
            return;
        }
        s.set_active(true);
        let from_ms = s.get_last_30_days().then(|| now_ms() - RECENT_MS);
        let query = SearchQuery {
            text,
            has_file: s.get_files_only(),
            from_ms,
            prefix_last: true,
            limit: LIMIT,
            ..SearchQuery::default()
        };
        self.ask(Target::List, generation, query);
    }

    /// The strip's text changed: the same search, in the open chat only.
    fn query_chat(self: &Arc<Self>, text: String) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let text = text.trim().to_owned();
        let generation = {
            let mut s = self.state();
            s.chat += 1;
            s.chat
        };
        let s = w.global::<super::Search>();
        s.set_chat_answered(false);
        s.set_chat_current(-1);
        if text.chars().count() < MIN_CHARS {
            s.set_chat_hits(context::empty());
            return;
        }
        let room = w.global::<Conversation>().get_room_id().to_string();
        let query = SearchQuery {
            text,
            chat: Some(room),
            prefix_last: true,
            limit: LIMIT,
            ..SearchQuery::default()
        };
        self.ask(Target::Chat, generation, query);
    }

    /// Asks the index after the debounce, if the text is still the one typed; shows the
    /// answer if it still is then.
    fn ask(self: &Arc<Self>, target: Target, generation: u64, query: SearchQuery) {
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            tokio::time::sleep(DEBOUNCE).await;
            if !me.current(target, generation) {
                return;
            }
            let result = {
                let _one = me.in_flight.lock().await;
                if !me.current(target, generation) {
                    return;
                }
                me.ctx.service.search(query).await
            };
            let hits = match result {
                Ok(hits) => hits,
                Err(e) => {
                    // The kind only: an engine error may quote the text searched for.
                    tracing::debug!("search not answered: {}", kind_of(&e));
                    Vec::new()
                }
            };
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                if !me2.current(target, generation) || w.global::<Lock>().get_locked() {
                    return;
                }
                let rows = hit_rows(&w, &hits, me2.ctx.language());
                let s = w.global::<super::Search>();
                match target {
                    Target::List => {
                        s.set_hits(context::list(rows));
                        s.set_answered(true);
                    }
                    Target::Chat => {
                        s.set_chat_hits(context::list(rows));
                        s.set_chat_answered(true);
                    }
                }
            });
        });
    }

    /// Opens the hit's chat at its message (from the list: the strip closed).
    fn open_hit(&self, room: &str, event: &str) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        if w.global::<Session>().get_screen() != Screen::Conversation {
            self.close_chat(&w);
        }
        let title = chat_name(&w, room);
        w.global::<Conversation>()
            .invoke_show_at(room.into(), title, event.into());
    }

    /// Up (-1: older) or Down (+1: newer) through the strip's hits (newest first).
    fn step(&self, delta: i32) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let s = w.global::<super::Search>();
        let hits = s.get_chat_hits();
        let n = i32::try_from(hits.row_count()).unwrap_or(0);
        if n == 0 {
            return;
        }
        let now = s.get_chat_current();
        let next = if now < 0 {
            0
        } else {
            (now - delta).clamp(0, n - 1)
        };
        if next == now {
            return;
        }
        s.set_chat_current(next);
        if let Some(hit) = usize::try_from(next).ok().and_then(|i| hits.row_data(i)) {
            self.open_hit(&hit.room_id, &hit.event_id);
        }
    }

    fn close_chat(&self, w: &AppWindow) {
        self.state().chat += 1;
        let s = w.global::<super::Search>();
        s.set_in_chat(false);
        s.set_chat_hits(context::empty());
        s.set_chat_answered(false);
        s.set_chat_current(-1);
    }

    /// Follows the index's progress for the settings' line and the list's "still
    /// indexing" (one watcher per sign-in; the previous one ends).
    fn watch_progress(&self) {
        let mut rx = self.ctx.service.search_progress();
        let ctx = self.ctx.clone();
        let task = self.ctx.rt().spawn(async move {
            if let Ok(status) = ctx.service.search_status().await {
                show_status(&ctx, status);
            }
            while rx.changed().await.is_ok() {
                let status = rx.borrow_and_update().clone();
                show_status(&ctx, status);
            }
        });
        if let Some(old) = self.state().watcher.replace(task.abort_handle()) {
            old.abort();
        }
    }
}

/// Shows where the index stands (not while locked: the lock emptied the view).
fn show_status(ctx: &Ctx, status: SearchStatus) {
    ctx.on_ui(move |w| {
        if w.global::<Lock>().get_locked() {
            return;
        }
        let s = w.global::<super::Search>();
        let int = |n: usize| i32::try_from(n).unwrap_or(i32::MAX);
        s.set_status_known(true);
        s.set_status_indexed(i32::try_from(status.indexed).unwrap_or(i32::MAX));
        s.set_status_chats(int(status.chats));
        s.set_status_complete(int(status.chats_complete));
        s.set_status_running(status.running);
        s.set_indexing(status.running && status.chats_complete < status.chats);
    });
}

/// The chat's name as the chat list shows it (its room id if the list has none).
fn chat_name(w: &AppWindow, room: &str) -> SharedString {
    context::chat_list(w)
        .iter()
        .find(|c| c.room_id == room && !c.invite)
        .map_or_else(|| room.into(), |c| c.name)
}

/// The hits as rows: chat and sender named as the chat list knows them.
fn hit_rows(w: &AppWindow, hits: &[Hit], lang: super::Language) -> Vec<SearchHit> {
    let chats: Vec<ChatItem> = context::chat_list(w).iter().collect();
    let own = w.global::<Session>().get_user_id();
    hits.iter()
        .map(|hit| {
            let chat = chats
                .iter()
                .find(|c| c.room_id == hit.room_id.as_str() && !c.invite);
            let sender = match chat {
                // A direct chat's partner: the name the list gives them.
                Some(c) if c.peer == hit.sender.as_str() => c.name.clone(),
                _ => hit.sender.as_str().into(),
            };
            let lines =
                models::snippet_lines(&hit.snippet, &hit.highlights, LINE_CHARS, SNIPPET_LINES)
                    .into_iter()
                    .map(|parts| SnippetLine {
                        parts: context::list(
                            parts
                                .into_iter()
                                .map(|(text, hit)| SnippetPart {
                                    text: text.into(),
                                    hit,
                                })
                                .collect(),
                        ),
                    })
                    .collect();
            SearchHit {
                room_id: hit.room_id.as_str().into(),
                event_id: hit.event_id.as_str().into(),
                chat: chat.map_or_else(|| hit.room_id.as_str().into(), |c| c.name.clone()),
                sender,
                own: hit.sender.as_str() == own.as_str(),
                time: local_time_label(u64::try_from(hit.timestamp_ms).unwrap_or(0), lang).into(),
                kind: match hit.kind {
                    DocKind::Message => HitKind::Message,
                    DocKind::File => HitKind::File,
                    DocKind::Quote => HitKind::Quote,
                },
                snippet: hit.snippet.as_str().into(),
                lines: context::list(lines),
            }
        })
        .collect()
}

/// What kind of error a search met, for the log (never its message).
fn kind_of(e: &crate::service::ServiceError) -> &'static str {
    use crate::service::ServiceError as E;
    match e {
        E::Locked => "locked",
        E::NotSignedIn => "not signed in",
        E::Search(_) => "index",
        _ => "other",
    }
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

impl View for SearchController {
    fn name(&self) -> &'static str {
        "search"
    }

    fn clear(&self, w: &AppWindow) {
        {
            let mut s = self.state();
            s.list += 1;
            s.list_text.clear();
        }
        self.close_chat(w);
        let s = w.global::<super::Search>();
        s.set_text(SharedString::new());
        s.set_active(false);
        s.set_hits(context::empty());
        s.set_answered(false);
        s.set_indexing(false);
        s.set_files_only(false);
        s.set_last_30_days(false);
        s.set_status_known(false);
        s.set_status_indexed(0);
        s.set_status_chats(0);
        s.set_status_complete(0);
        s.set_status_running(false);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let s = w.global::<super::Search>();
        let rows = |m: slint::ModelRc<SearchHit>| -> Vec<String> {
            m.iter()
                .map(|h| format!("{}|{}|{}|{}", h.room_id, h.chat, h.sender, h.snippet))
                .collect()
        };
        format!(
            "text={} active={} hits={:?} chat={} chat_hits={:?} status={} {} {}/{} {} indexing={}",
            s.get_text(),
            s.get_active(),
            rows(s.get_hits()),
            s.get_in_chat(),
            rows(s.get_chat_hits()),
            s.get_status_known(),
            s.get_status_indexed(),
            s.get_status_complete(),
            s.get_status_chats(),
            s.get_status_running(),
            s.get_indexing(),
        )
    }

    fn signed_in(&self, _w: &AppWindow) {
        self.watch_progress();
    }
}
