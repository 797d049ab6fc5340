//! Encrypted local search over every chat, file and quote (kontor-search), kept up to
//! date with the history.
//!
//! Why on the device: with end-to-end encryption the homeserver holds only ciphertext,
//! so it cannot search for the user; the client must, and its index is as private as
//! the messages (sealed with [`kontor_core::Profile::search_key`], closed by the lock
//! and sign-out, deleted by sign-out).
//!
//! How the index follows the history:
//! - **Live** ([`Service::observe_search`]): every message of the sync is indexed as it
//!   arrives, an edit replaces its original's document, a redaction removes it, and our
//!   own messages are indexed from the send queue's local echo (key `txn:…`, so a
//!   message written offline is found at once) until the server's echo replaces them.
//!   Commits are debounced, so a burst of messages costs one commit. Back online after
//!   being offline, a catch-up runs: the first sync then may have skipped messages (a
//!   limited timeline) that only the history holds.
//! - **Catch-up and backfill** ([`Service::update_search`]): for each chat, first the
//!   newest messages back to the first one already indexed (what came while the app was
//!   closed or locked), then older pages as far back as the server has them. Where each
//!   chat's backfill stands is committed **with** the documents of the page (the index's
//!   commit state), so a kill -9 between two pages repeats at most one page and a
//!   restart resumes where it stopped. Chats the account left are removed.

pub mod docs;

use std::{
    collections::{BTreeMap, HashSet},
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use kontor_core::{ConnectionState, CoreEvent, Kontor, PageToken, SendState};
pub use kontor_search::{DocKind, Hit, SearchIndex, SearchQuery};
use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError, lock};

/// Messages asked for per history page of the backfill.
const BACKFILL_PAGE: u32 = 100;
/// Messages asked for per page when catching up with the newest messages of a chat.
const CATCH_UP_PAGE: u32 = 30;
/// How long live changes wait for more before they are committed.
const COMMIT_DELAY: Duration = Duration::from_millis(300);
/// How long the run after sign-in waits for the device to know every chat (a new
/// device's sliding sync grows its window 20 chats per answer).
const LIST_WAIT: Duration = Duration::from_secs(30);

/// Where the index stands, for the settings' progress line and `kontor search --json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct SearchStatus {
    /// Documents in the index.
    pub indexed: u64,
    /// Chats the index follows.
    pub chats: usize,
    /// Chats whose history is indexed back to their beginning.
    pub chats_complete: usize,
    /// A catch-up or backfill is running now.
    pub running: bool,
}

/// Each chat's backfill, committed with the index (see the module docs).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Progress {
    chats: BTreeMap<String, ChatProgress>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct ChatProgress {
    /// Where the next older page starts; `None` with `complete` at the beginning.
    older: Option<PageToken>,
    /// Indexed back to the chat's first message.
    complete: bool,
    /// The newest event the last catch-up saw: the next one stops there even when
    /// nothing after it was indexable (reactions, messages it cannot decrypt).
    #[serde(default)]
    newest: Option<String>,
}

impl Progress {
    fn load(index: &SearchIndex) -> Progress {
        index
            .state()
            .and_then(|s| serde_json::from_str(&s).ok())
            .unwrap_or_default()
    }

    fn save(&self) -> String {
        serde_json::to_string(self).expect("progress serialises")
    }
}

impl Service {
    /// The device's search index, opened on first use while signed in and unlocked; a
    /// damaged one is deleted and rebuilt (the next [`Service::update_search`] fills it).
    pub fn search_index(&self) -> Result<Arc<SearchIndex>> {
        if self.locked.load(Ordering::SeqCst) {
            return Err(ServiceError::Locked);
        }
        let mut slot = lock(&self.search);
        if let Some(i) = slot.clone() {
            return Ok(i);
        }
        let key = self
            .with_account(|k| k.profile().search_key())
            .ok_or(ServiceError::NotSignedIn)?;
        let index = open_or_rebuild(&self.search_dir(), key)?;
        let index = Arc::new(index);
        *slot = Some(index.clone());
        Ok(index)
    }

    /// `<data-dir>/profile/search`: inside the profile, so whatever deletes the profile
    /// (sign-out in the app, `kontor logout`) deletes the index with it.
    pub fn search_dir(&self) -> std::path::PathBuf {
        self.profile_dir().join("search")
    }

    /// Where the index stands, as it changes (the settings' progress line): every
    /// [`Service::update_search`] publishes here after each page.
    pub fn search_progress(&self) -> tokio::sync::watch::Receiver<SearchStatus> {
        self.search_progress.subscribe()
    }

    /// Searches the index (on a blocking thread: the engine reads and decrypts).
    pub async fn search(&self, query: SearchQuery) -> Result<Vec<Hit>> {
        let index = self.search_index()?;
        tokio::task::spawn_blocking(move || index.search(&query))
            .await
            .map_err(|_| ServiceError::Crashed)?
            .map_err(Into::into)
    }

    /// Where the index stands.
    pub async fn search_status(&self) -> Result<SearchStatus> {
        let index = self.search_index()?;
        let running = self.search_running.load(Ordering::SeqCst);
        blocking(&index, move |i| status(i, &Progress::load(i), running)).await
    }

    /// Takes one core event into the index: a message (or an edit) is indexed, a
    /// redaction removes its event, our own queued message is indexed from the outbox
    /// and dropped again when it was sent (the server's echo brings it back under its
    /// event id) or cancelled. Quiet when the index is not open (locked): the next
    /// [`Service::update_search`] catches up.
    pub async fn observe_search(self: &Arc<Self>, event: &CoreEvent) {
        let Ok(index) = self.search_index() else {
            return;
        };
        let changed = match event {
            CoreEvent::MessageReceived(msg) => match docs::doc_of(msg) {
                Some(doc) => Change::Upsert(doc),
                None => return,
            },
            CoreEvent::Redacted { event_id, .. } => Change::Remove(event_id.clone()),
            CoreEvent::Connection(ConnectionState::Offline { .. }) => {
                self.search_offline.store(true, Ordering::SeqCst);
                return;
            }
            // Back online after a while: the first sync may have skipped messages (a
            // limited timeline), which only the history has; read it up to the newest
            // message indexed, then go on with a backfill the outage interrupted.
            CoreEvent::Connection(ConnectionState::Online) => {
                if self.search_offline.swap(false, Ordering::SeqCst) {
                    let me = self.clone();
                    self.rt.spawn(async move {
                        if let Err(e) = me.update_search(true, |_| {}).await {
                            tracing::debug!("search catch-up after reconnecting: {e}");
                        }
                    });
                }
                return;
            }
            CoreEvent::MessageState {
                room_id,
                transaction_id,
                state,
            } => match state {
                SendState::Pending => {
                    let (tx, rx) = tokio::sync::oneshot::channel();
                    let txn = transaction_id.clone();
                    let room = room_id.clone();
                    if !self.spawn(move |k| async move {
                        let found = k.outbox_messages(&room).await.ok().and_then(|queued| {
                            queued
                                .into_iter()
                                .find(|m| m.transaction_id.as_deref() == Some(txn.as_str()))
                        });
                        let _ = tx.send(found);
                    }) {
                        return;
                    }
                    match rx.await.ok().flatten().and_then(|m| docs::doc_of(&m)) {
                        Some(doc) => Change::Upsert(doc),
                        None => return,
                    }
                }
                SendState::Sent { .. } | SendState::Cancelled => {
                    Change::Remove(docs::outbox_key(transaction_id))
                }
                SendState::Failed { .. } => return,
            },
            _ => return,
        };
        // The engine may flush a segment (write and seal it): not on the async thread.
        let applied = blocking(&index, move |i| {
            match changed {
                Change::Upsert(doc) => i.upsert(&[doc])?,
                Change::Remove(id) => i.remove(&id)?,
            }
            Ok(())
        })
        .await;
        if let Err(e) = applied {
            tracing::warn!("search index: {e}");
            return;
        }
        self.commit_soon(index);
    }

    /// Commits the live changes a moment later, once for a burst.
    fn commit_soon(self: &Arc<Self>, index: Arc<SearchIndex>) {
        if self.search_dirty.swap(true, Ordering::SeqCst) {
            return; // a commit is on its way and takes this change too
        }
        let me = self.clone();
        self.rt.spawn(async move {
            tokio::time::sleep(COMMIT_DELAY).await;
            me.search_dirty.store(false, Ordering::SeqCst);
            let done = tokio::task::spawn_blocking(move || index.commit(None)).await;
            if let Ok(Err(e)) = done {
                tracing::warn!("search index commit: {e}");
            }
        });
    }

    /// The run after sign-in ([`Service::update_search`] with the backfill), once the
    /// device knows every chat. Why wait: a run follows the chats known when it starts,
    /// and on a new device sliding sync shows the list a window at a time, so a run
    /// started at once followed only the first window's chats (40 of 100 in the app
    /// bench) until the next unlock. If the list was still growing after
    /// [`LIST_WAIT`], a second run follows the chats the first did not see.
    pub async fn update_search_after_sign_in(self: &Arc<Self>) -> Result<SearchStatus> {
        let complete = self.wait_for_every_chat().await;
        let status = self.update_search(true, |_| {}).await?;
        if complete || !self.wait_for_every_chat().await {
            return Ok(status);
        }
        self.update_search(true, |_| {}).await
    }

    /// [`Kontor::wait_for_every_chat`] for at most [`LIST_WAIT`]; false when signed out.
    async fn wait_for_every_chat(self: &Arc<Self>) -> bool {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let _ = tx.send(kontor.wait_for_every_chat(LIST_WAIT).await);
        });
        started && rx.await.unwrap_or(false)
    }

    /// Brings the index up to date with every chat (see the module docs): removes the
    /// chats the account left, catches up with each chat's newest messages, then
    /// indexes older history page by page as far back as the server has it, reporting
    /// after each page. Resumable: a restart goes on where this stopped. One run at a
    /// time (a second call returns the status at once).
    ///
    /// `backfill = false` stops after the catch-up (newest messages only).
    pub async fn update_search(
        self: &Arc<Self>,
        backfill: bool,
        on_progress: impl Fn(SearchStatus) + Send + Sync + 'static,
    ) -> Result<SearchStatus> {
        let index = self.search_index()?;
        if self.search_running.swap(true, Ordering::SeqCst) {
            return self.search_status().await;
        }
        // On the account's task list, so sign-out cancels it mid-page (the last
        // committed page and its progress stay).
        let (tx, rx) = tokio::sync::oneshot::channel();
        let me = self.clone();
        let on_progress = Arc::new(on_progress);
        let report = {
            let on_progress = on_progress.clone();
            let me = self.clone();
            move |s: SearchStatus| {
                me.search_progress.send_replace(s.clone());
                on_progress(s);
            }
        };
        let started = self.spawn(move |kontor| async move {
            let result = me
                .update_search_inner(&kontor, &index, backfill, &report)
                .await;
            let _ = tx.send(result);
        });
        let result = if started {
            rx.await.unwrap_or(Err(ServiceError::NotSignedIn))
        } else {
            Err(ServiceError::NotSignedIn)
        };
        self.search_running.store(false, Ordering::SeqCst);
        // The run decrypted and indexed up to thousands of messages: what it freed would
        // stay resident in the allocator's arenas (crate::memory).
        crate::memory::release_free_memory();
        let status = self.search_status().await?;
        on_progress(status.clone());
        self.search_progress.send_replace(status.clone());
        result.map(|()| status)
    }

    async fn update_search_inner(
        &self,
        kontor: &Kontor,
        index: &Arc<SearchIndex>,
        backfill: bool,
        on_progress: &(dyn Fn(SearchStatus) + Send + Sync),
    ) -> Result<()> {
        let chats = kontor.chats().await?;
        let joined: HashSet<String> = chats.iter().map(|c| c.room_id.clone()).collect();
        let mut progress = blocking(index, |i| Ok(Progress::load(i))).await?;

        // Chats left (or gone) since the last run: nothing of them stays findable.
        let indexed = blocking(index, |i| Ok(i.chats()?)).await?;
        let gone: Vec<String> = indexed
            .into_iter()
            .chain(progress.chats.keys().cloned())
            .filter(|r| !joined.contains(r))
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if !gone.is_empty() {
            for room in &gone {
                progress.chats.remove(room);
            }
            let state = progress.save();
            blocking(index, move |i| {
                for room in &gone {
                    i.remove_chat(room)?;
                }
                i.commit(Some(&state))?;
                Ok(())
            })
            .await?;
        }

        // The newest messages first, in every chat (newest activity first).
        for chat in &chats {
            let room = chat.room_id.clone();
            if let Some(mut p) = progress.chats.get(&room).cloned() {
                p.newest = self
                    .catch_up_chat(kontor, index, &room, p.newest.as_deref())
                    .await?
                    .or(p.newest);
                progress.chats.insert(room, p);
            } else {
                self.still_unlocked()?;
                let page = kontor.messages_page(&room, None, BACKFILL_PAGE).await?;
                let messages = page.messages.clone();
                progress.chats.insert(
                    room,
                    ChatProgress {
                        complete: page.older.is_none() && !page.offline,
                        older: page.older,
                        newest: newest_of(&messages),
                    },
                );
                commit_page(index, messages, &progress).await?;
            }
            on_progress(self.status_of(index, &progress).await?);
        }
        if !backfill {
            return Ok(());
        }

        // Then the history, chat by chat, page by page.
        for chat in &chats {
            let room = chat.room_id.clone();
            while let Some(p) = progress.chats.get(&room) {
                let Some(token) = p.older.clone().filter(|_| !p.complete) else {
                    break;
                };
                self.still_unlocked()?;
                let page = kontor
                    .messages_page(&room, Some(&token), BACKFILL_PAGE)
                    .await?;
                let messages = page.messages.clone();
                let newest = progress.chats.get(&room).and_then(|p| p.newest.clone());
                progress.chats.insert(
                    room.clone(),
                    ChatProgress {
                        complete: page.older.is_none(),
                        older: page.older,
                        newest,
                    },
                );
                commit_page(index, messages, &progress).await?;
                on_progress(self.status_of(index, &progress).await?);
            }
        }
        Ok(())
    }

    /// The messages of one chat that came after the newest one indexed (while the app
    /// was closed, locked or offline): pages back from the newest until one holds a
    /// message the index already has, or `stop` (the newest event the last catch-up
    /// saw). Returns the newest event seen now.
    async fn catch_up_chat(
        &self,
        kontor: &Kontor,
        index: &Arc<SearchIndex>,
        room: &str,
        stop: Option<&str>,
    ) -> Result<Option<String>> {
        let mut token: Option<PageToken> = None;
        let mut newest = None;
        loop {
            self.still_unlocked()?;
            let page = kontor
                .messages_page(room, token.as_ref(), CATCH_UP_PAGE)
                .await?;
            let messages = page.messages.clone();
            if newest.is_none() {
                newest = newest_of(&messages);
            }
            let seen =
                stop.is_some_and(|s| messages.iter().any(|m| m.event_id.as_deref() == Some(s)));
            let known = blocking(index, move |i| {
                let known = index_page(i, &messages)?;
                i.commit(None)?;
                Ok(known)
            })
            .await?;
            match page.older {
                Some(older) if !known && !seen && !page.offline => token = Some(older),
                _ => return Ok(newest),
            }
        }
    }

    /// A catch-up or backfill stops at the next page once the app is locked: the index
    /// is closed then, and the run holds the last handle to it only until this check.
    fn still_unlocked(&self) -> Result<()> {
        if self.locked.load(Ordering::SeqCst) {
            Err(ServiceError::Locked)
        } else {
            Ok(())
        }
    }

    async fn status_of(
        &self,
        index: &Arc<SearchIndex>,
        progress: &Progress,
    ) -> Result<SearchStatus> {
        let progress = progress.clone();
        blocking(index, move |i| status(i, &progress, true)).await
    }
}

/// Opens the index; a damaged one (or one sealed with another key) is deleted and
/// opened empty: it is derived data, rebuilt from the history by the next
/// [`Service::update_search`], rather than leaving search broken.
fn open_or_rebuild(
    dir: &std::path::Path,
    key: zeroize::Zeroizing<[u8; 32]>,
) -> Result<SearchIndex> {
    match SearchIndex::open(dir, key.clone()) {
        Ok(i) => Ok(i),
        Err(e @ (kontor_search::Error::Corrupt(_) | kontor_search::Error::WrongKey)) => {
            tracing::warn!("search index unusable ({e}); rebuilding it");
            kontor_search::delete_index(dir).map_err(kontor_search::Error::Io)?;
            Ok(SearchIndex::open(dir, key)?)
        }
        Err(e) => Err(e.into()),
    }
}

/// Where the index stands, from its documents and the chats' progress.
fn status(index: &SearchIndex, progress: &Progress, running: bool) -> Result<SearchStatus> {
    Ok(SearchStatus {
        indexed: index.len()?,
        chats: progress.chats.len(),
        chats_complete: progress.chats.values().filter(|c| c.complete).count(),
        running,
    })
}

/// Indexes one page and commits it with the chats' progress, so the two are durable
/// together.
async fn commit_page(
    index: &Arc<SearchIndex>,
    messages: Vec<kontor_core::Message>,
    progress: &Progress,
) -> Result<()> {
    let state = progress.save();
    blocking(index, move |i| {
        index_page(i, &messages)?;
        i.commit(Some(&state))?;
        Ok(())
    })
    .await
}

/// What one live event changes in the index.
enum Change {
    Upsert(kontor_search::Doc),
    Remove(String),
}

/// The newest event id of a page (oldest first).
fn newest_of(messages: &[kontor_core::Message]) -> Option<String> {
    messages.iter().rev().find_map(|m| m.event_id.clone())
}

/// Indexes one page of history (oldest first) and tells whether the index already held
/// one of its messages (where a catch-up can stop).
///
/// A message already in the index is left as it is: it may hold the wording of a later
/// edit, seen first because history is read going back in time. An edit always
/// replaces its original's document; within the page, the original comes first.
fn index_page(index: &SearchIndex, messages: &[kontor_core::Message]) -> Result<bool> {
    let mut known = false;
    let mut docs = Vec::new();
    for msg in messages {
        // Our own message back from the server: the outbox's copy (indexed while it
        // waited) goes, this one stays.
        if let (Some(_), Some(txn)) = (&msg.event_id, &msg.transaction_id) {
            index.remove(&docs::outbox_key(txn))?;
        }
        let Some(doc) = docs::doc_of(msg) else {
            continue;
        };
        let is_edit = msg.replaces.is_some();
        if msg.event_id.is_some() && !is_edit && index.contains(&doc.event_id)? {
            known = true;
            continue;
        }
        docs.push(doc);
    }
    index.upsert(&docs)?;
    Ok(known)
}

/// Runs index work on a blocking thread (the engine reads, seals and fsyncs).
async fn blocking<T: Send + 'static>(
    index: &Arc<SearchIndex>,
    f: impl FnOnce(&SearchIndex) -> Result<T> + Send + 'static,
) -> Result<T> {
    let index = index.clone();
    tokio::task::spawn_blocking(move || f(&index))
        .await
        .map_err(|_| ServiceError::Crashed)?
}

#[cfg(test)]
mod tests {
    use kontor_core::{Message, MessageBody, SendState};
    use zeroize::Zeroizing;

    use super::*;

    fn msg(id: &str, text: &str, ts: u64) -> Message {
        Message {
            room_id: "!r:x".into(),
            event_id: Some(id.into()),
            transaction_id: None,
            sender: "@ben:x".into(),
            sender_device: None,
            own: false,
            timestamp_ms: ts,
            body: MessageBody::Text {
                text: text.into(),
                extra: None,
            },
            reply_to: None,
            replaces: None,
            state: SendState::Sent {
                event_id: id.into(),
            },
        }
    }

    fn found(index: &SearchIndex, q: &str) -> Vec<String> {
        index.commit(None).unwrap();
        index
            .search(&SearchQuery {
                text: q.into(),
                ..Default::default()
            })
            .unwrap()
            .into_iter()
            .map(|h| h.event_id)
            .collect()
    }

    fn open() -> (tempfile::TempDir, SearchIndex) {
        let dir = tempfile::tempdir().unwrap();
        let index = SearchIndex::open(&dir.path().join("i"), Zeroizing::new([7; 32])).unwrap();
        (dir, index)
    }

    #[test]
    fn history_read_backwards_keeps_the_edit_over_its_original() {
        let (_dir, index) = open();
        let mut edit = msg("$edit", "Termin Mittwoch", 20);
        edit.replaces = Some("$orig".into());
        // The newer page (with the edit) comes first when paging back.
        assert!(!index_page(&index, &[edit]).unwrap());
        index.commit(None).unwrap();
        let known = index_page(&index, &[msg("$orig", "Termin Dienstag", 10)]).unwrap();
        assert!(known, "the original's id is in the index already");
        assert_eq!(found(&index, "mittwoch"), ["$orig"]);
        assert!(
            found(&index, "dienstag").is_empty(),
            "the old wording stays gone"
        );
    }

    #[test]
    fn an_original_and_its_edit_on_one_page_end_as_the_edit() {
        let (_dir, index) = open();
        let mut edit = msg("$edit", "Termin Mittwoch", 20);
        edit.replaces = Some("$orig".into());
        index_page(&index, &[msg("$orig", "Termin Dienstag", 10), edit]).unwrap();
        assert_eq!(found(&index, "termin"), ["$orig"]);
        assert!(found(&index, "dienstag").is_empty());
    }

    #[test]
    fn the_servers_echo_replaces_the_outbox_copy() {
        let (_dir, index) = open();
        let mut queued = msg("x", "Kranich", 10);
        queued.event_id = None;
        queued.transaction_id = Some("t1".into());
        index_page(&index, &[queued]).unwrap();
        assert_eq!(found(&index, "kranich"), ["txn:t1"]);
        let mut echo = msg("$sent", "Kranich", 11);
        echo.transaction_id = Some("t1".into());
        index_page(&index, &[echo]).unwrap();
        assert_eq!(
            found(&index, "kranich"),
            ["$sent"],
            "found once, by its event id"
        );
    }

    #[test]
    fn a_damaged_index_is_rebuilt_empty_instead_of_failing() {
        let (dir, index) = open();
        index_page(&index, &[msg("$a", "Kranich", 1)]).unwrap();
        index.commit(Some("{}")).unwrap();
        drop(index);
        // Tamper with every sealed file: the engine cannot read them any more.
        for entry in std::fs::read_dir(dir.path().join("i")).unwrap() {
            let path = entry.unwrap().path();
            let mut bytes = std::fs::read(&path).unwrap();
            if let Some(b) = bytes.last_mut() {
                *b ^= 0xff;
            }
            std::fs::write(&path, bytes).unwrap();
        }
        let index = open_or_rebuild(&dir.path().join("i"), Zeroizing::new([7; 32])).unwrap();
        assert_eq!(index.len().unwrap(), 0, "empty, to be filled again");
        assert!(index.state().is_none(), "the backfill starts over");
        index_page(&index, &[msg("$a", "Kranich", 1)]).unwrap();
        assert_eq!(found(&index, "kranich"), ["$a"]);
        drop(index);
        let other = open_or_rebuild(&dir.path().join("i"), Zeroizing::new([8; 32])).unwrap();
        assert_eq!(
            other.len().unwrap(),
            0,
            "another key: rebuilt, not an error"
        );
    }

    #[test]
    fn progress_survives_as_the_index_state() {
        let (dir, index) = open();
        let mut p = Progress::default();
        p.chats.insert(
            "!r:x".into(),
            ChatProgress {
                older: None,
                complete: true,
                newest: Some("$n".into()),
            },
        );
        index.commit(Some(&p.save())).unwrap();
        drop(index);
        let index = SearchIndex::open(&dir.path().join("i"), Zeroizing::new([7; 32])).unwrap();
        let back = Progress::load(&index);
        assert!(back.chats["!r:x"].complete);
        assert_eq!(back.chats["!r:x"].newest.as_deref(), Some("$n"));
    }
}
