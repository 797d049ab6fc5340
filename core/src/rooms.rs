//! The chat list and the timeline read page by page: [`Kontor::chats`],
//! [`Kontor::messages_page`] and read receipts ([`Kontor::mark_read`]).
//!
//! Kept apart from `chat.rs` (sending and the outbox) because this side only reads: the
//! room list and unread counts from the SDK's store (so the list shows offline and after
//! a restart), history from the server's `/messages` going backwards (so a chat with
//! 10,000 messages costs one small request to open), and the SDK's event cache when the
//! homeserver is unreachable.

use std::time::Duration;

use matrix_sdk::{
    Room,
    room::MessagesOptions,
    ruma::{
        EventId, UInt, UserId,
        api::client::receipt::create_receipt::v3::ReceiptType as SendReceiptType,
        events::receipt::{ReceiptThread, ReceiptType},
    },
};

use crate::{Error, Kontor, Message, Result, chat::to_message};

/// One chat in the list.
///
/// `Debug` leaves out the preview: it is message content, and summaries end up in logs
/// more easily than messages do.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ChatSummary {
    /// The room.
    pub room_id: String,
    /// The name to show: the room name, else the other member's display name.
    pub name: String,
    /// For a direct chat, the other user's Matrix id.
    pub peer: Option<String>,
    /// The newest message, for the preview and the time.
    pub last: Option<Message>,
    /// Unread messages since our last read receipt (see `Kontor::unread_count`).
    pub unread: u64,
    /// The newest event the other user of a direct chat has read (their public read
    /// receipt), so our own messages up to it can show as read.
    pub peer_read_up_to: Option<String>,
}

impl std::fmt::Debug for ChatSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatSummary")
            .field("room_id", &self.room_id)
            .field("peer", &self.peer)
            .field("last_ts", &self.last.as_ref().map(|m| m.timestamp_ms))
            .field("unread", &self.unread)
            .finish_non_exhaustive()
    }
}

/// Where the next older (or, from [`Kontor::messages_around`], newer) page of a chat
/// starts. Opaque; valid for its own chat only. Serialisable so a caller can keep it
/// across restarts (the search index's backfill resumes where it stopped).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PageToken {
    room_id: String,
    /// The server's pagination token (`end` of the previous `/messages` answer).
    from: String,
}

/// One page of a chat's history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    /// Oldest first. The newest page (asked for without a token) also ends with what is
    /// still in the outbox for the chat, pending or failed, as [`Kontor::messages`] does.
    pub messages: Vec<Message>,
    /// Where the page before this one starts; `None` at the beginning of the chat, or
    /// when the page came from the local cache.
    pub older: Option<PageToken>,
    /// The homeserver was unreachable, so this is what the sync stored locally (the
    /// newest messages only). `older` is then `None` although the chat may go further
    /// back: it is not the beginning of the chat.
    pub offline: bool,
}

/// A window of a chat's history around one message (a search result opened far back):
/// the message, some before and after it, and where to page on in both directions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AroundPage {
    /// Oldest first; holds the message asked for.
    pub messages: Vec<Message>,
    /// Where the page before this one starts; `None` at the beginning of the chat.
    pub older: Option<PageToken>,
    /// Where the page after this one starts ([`Kontor::messages_newer`]); `None` when
    /// the window reaches the newest message.
    pub newer: Option<PageToken>,
}

/// A page going forward in time from an [`AroundPage`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewerPage {
    /// Oldest first.
    pub messages: Vec<Message>,
    /// Where the next newer page starts; `None` when this page reached the newest
    /// message (the caller then follows the live events).
    pub newer: Option<PageToken>,
}

/// Events fetched for the preview of a chat whose cache holds none: a few, so reactions
/// after the newest message do not leave the preview empty.
const PREVIEW_FETCH: u32 = 5;

/// How many of a chat's newest cached events [`Kontor::chats`] looks through for the
/// preview (past reactions): all of a long chat's cache would be converted for nothing.
const PREVIEW_LOOKBACK: u32 = 50;

/// How many chats [`Kontor::chats`] reads at once.
const CHATS_AT_ONCE: usize = 8;

/// How long [`Kontor::chats`] waits for one such preview before it lists the chat
/// without one.
const PREVIEW_FETCH_WAIT: Duration = Duration::from_secs(2);

/// How long [`Kontor::mark_read`] waits for the sync to bring the server's new unread
/// count, when the background sync is running.
const READ_SYNC_WAIT: Duration = Duration::from_secs(12);

impl Kontor {
    /// The joined chats, newest activity first.
    ///
    /// Reads the SDK's store only (room names, the server's unread counts, receipts) and
    /// takes the preview from the event cache the sync fills; only a room whose cache
    /// holds no message yet costs one request for its newest message, and only once the
    /// homeserver has answered a sync in this session. Works offline and never waits for
    /// an unreachable homeserver.
    pub async fn chats(&self) -> Result<Vec<ChatSummary>> {
        use futures_util::StreamExt as _;
        let started = std::time::Instant::now();
        let own = self.client.user_id().map(|u| u.to_owned());
        let online = *self.synced.borrow() > 0;
        let rooms: Vec<Room> = self
            .client
            .joined_rooms()
            .into_iter()
            // The business room is the account's own data, not a chat.
            .filter(|r| !crate::business::is_business_room(r))
            .collect();
        // Each chat costs a few reads of the encrypted store; several at once keep both
        // cores (and the store's connection pool) busy instead of waiting in turn.
        let mut out: Vec<(ChatSummary, u64)> = futures_util::stream::iter(rooms)
            .map(|room| self.summary_of(room, own.as_deref(), online))
            .buffered(CHATS_AT_ONCE)
            .collect()
            .await;
        // Newest message first; chats without one (a new device that cannot decrypt yet)
        // by the server's recency order (sliding sync's bump stamp).
        out.sort_by_key(|(c, recency)| {
            (
                std::cmp::Reverse(c.last.as_ref().map_or(0, |m| m.timestamp_ms)),
                std::cmp::Reverse(*recency),
            )
        });
        tracing::debug!(
            chats = out.len(),
            ms = started.elapsed().as_millis() as u64,
            "chat list read"
        );
        let chats: Vec<ChatSummary> = out.into_iter().map(|(c, _)| c).collect();
        self.store_chats(&chats).await;
        Ok(chats)
    }

    /// The chat list as the last [`Kontor::chats`] of this profile read it, from one
    /// sealed file: what the app shows the moment the profile is unlocked, before the
    /// SDK's stores have answered (reading them takes a few ms per chat, ~0.3 s for 100
    /// chats on the reference machine). Empty when there is none or it does not decrypt;
    /// the caller then waits for [`Kontor::chats`], which also replaces this list.
    pub fn stored_chats(&self) -> Vec<ChatSummary> {
        let read = self.profile.load_chat_list().and_then(|plain| {
            serde_json::from_slice::<Vec<ChatSummary>>(&plain)
                .map_err(|e| tracing::debug!("stored chat list not readable, ignored: {e}"))
                .ok()
        });
        // What is on disk now, so the next read stores its list again if this one was
        // missing or damaged.
        if let Ok(mut stored) = self.stored_chats.try_lock() {
            stored.clone_from(&read);
        }
        read.unwrap_or_default()
    }

    /// Stores the chat list for the next unlock when it differs from the stored one
    /// (sealed, on a blocking thread: the write is fsynced). A failure costs only the
    /// fast start, so it is logged, not returned.
    async fn store_chats(&self, chats: &[ChatSummary]) {
        let mut stored = self.stored_chats.lock().await;
        if stored.as_deref() == Some(chats) {
            return;
        }
        let plain = match serde_json::to_vec(chats) {
            Ok(p) => zeroize::Zeroizing::new(p),
            Err(e) => {
                tracing::debug!("chat list not stored: {e}");
                return;
            }
        };
        let (path, sealed) = self.profile.sealed_chat_list(&plain);
        let written = tokio::task::spawn_blocking(move || {
            crate::profile::write_private_atomic(&path, &sealed)
        })
        .await;
        match written {
            Ok(Ok(())) => *stored = Some(chats.to_vec()),
            Ok(Err(e)) => tracing::debug!("chat list not stored: {e}"),
            Err(e) => tracing::debug!("chat list not stored: {e}"),
        }
    }

    /// One chat of [`Kontor::chats`], with the server's recency stamp to order it by.
    async fn summary_of(
        &self,
        room: Room,
        own: Option<&UserId>,
        online: bool,
    ) -> (ChatSummary, u64) {
        let room_id = room.room_id().to_string();
        let peer = peer_of(&room, own).await;
        let name = match room.display_name().await {
            Ok(n) => n.to_string(),
            Err(_) => peer.clone().unwrap_or_else(|| room_id.clone()),
        };
        // The preview is the newest message that is not a reaction; the cache's events
        // are in memory already, so looking past a few reactions is cheap.
        let mut last = self
            .cached_messages(&room, PREVIEW_LOOKBACK, own)
            .await
            .and_then(|v| v.into_iter().rev().find(|m| !m.body.is_reaction()));
        // Asked from the server only once it has answered in this session, and briefly:
        // the list is read from the device right after unlock, and must not wait for a
        // homeserver that is slow or unreachable.
        if last.is_none() && online {
            last = tokio::time::timeout(
                PREVIEW_FETCH_WAIT,
                self.history_page(&room, None, PREVIEW_FETCH, own),
            )
            .await
            .ok()
            .and_then(|r| r.ok())
            .and_then(|p| p.messages.into_iter().rev().find(|m| !m.body.is_reaction()));
        }
        let peer_read_up_to = match peer.as_deref().and_then(|p| UserId::parse(p).ok()) {
            Some(p) => room
                .load_user_receipt(ReceiptType::Read, ReceiptThread::Unthreaded, &p)
                .await
                .ok()
                .flatten()
                .map(|(event, _)| event.to_string()),
            None => None,
        };
        let recency = room.recency_stamp().map_or(0, u64::from);
        let summary = ChatSummary {
            room_id,
            name,
            peer,
            last,
            // Neither count includes a reaction (the quotes e2e test checks it).
            unread: self.unread_count(&room),
            peer_read_up_to,
        };
        (summary, recency)
    }

    /// The newest messages of a chat (up to `limit`, plus our queued ones) that this
    /// device already holds: what the sync stored in the event cache. Never touches the
    /// network, so a chat can be shown the moment it is opened; [`Self::messages_page`]
    /// then brings the authoritative page and the token for older ones. Fewer than
    /// `limit` (or none) when the sync delivered fewer (e.g. right after a gap).
    pub async fn cached_page(&self, room_id: &str, limit: u32) -> Result<Vec<Message>> {
        let room = self.joined_room(room_id)?;
        let own = self.client.user_id().map(|u| u.to_owned());
        let mut messages = self
            .cached_messages(&room, limit, own.as_deref())
            .await
            .unwrap_or_default();
        messages.extend(self.outbox_messages(room_id).await?);
        Ok(messages)
    }

    /// One page of a chat's history going back in time: the newest `limit` messages when
    /// `before` is `None`, else the `limit` messages before that token (from an earlier
    /// [`Page::older`]). Messages are decrypted as they arrive; events that are not
    /// messages (membership, encryption setup) are skipped and do not count. Reactions
    /// are included and count (a caller computes a quote's answers from the page; views
    /// drop them, so a page may show fewer than `limit` bubbles).
    ///
    /// While the homeserver is unreachable the newest page falls back to the messages
    /// the sync stored locally ([`Page::offline`]); older pages then fail with
    /// [`Error::Unreachable`].
    pub async fn messages_page(
        &self,
        room_id: &str,
        before: Option<&PageToken>,
        limit: u32,
    ) -> Result<Page> {
        let room = self.joined_room(room_id)?;
        if let Some(t) = before
            && t.room_id != room_id
        {
            return Err(Error::ForeignPageToken(room_id.to_owned()));
        }
        let own = self.client.user_id().map(|u| u.to_owned());
        let mut page = match self
            .history_page(
                &room,
                before.map(|t| t.from.as_str()),
                limit,
                own.as_deref(),
            )
            .await
        {
            Err(Error::Unreachable(reason)) if before.is_none() => Page {
                messages: self
                    .cached_messages(&room, limit, own.as_deref())
                    .await
                    .ok_or(Error::Unreachable(reason))?,
                older: None,
                offline: true,
            },
            other => other?,
        };
        if before.is_none() {
            page.messages.extend(self.outbox_messages(room_id).await?);
        }
        Ok(page)
    }

    /// Server history before `from` (or from the newest event), as a page of up to
    /// `limit` messages. Asks for exactly the number still missing each time, so no
    /// message is fetched and then dropped, and the returned token continues right
    /// after the oldest message returned.
    pub(crate) async fn history_page(
        &self,
        room: &Room,
        from: Option<&str>,
        limit: u32,
        own: Option<&UserId>,
    ) -> Result<Page> {
        let mut newest_first: Vec<Message> = Vec::new();
        let mut token: Option<String> = from.map(str::to_owned);
        let limit = limit as usize;
        while newest_first.len() < limit {
            let mut opts = MessagesOptions::backward().from(token.as_deref());
            opts.limit = UInt::try_from(limit - newest_first.len()).unwrap_or(UInt::MAX);
            let resp = room.messages(opts).await?;
            newest_first.extend(resp.chunk.iter().filter_map(|ev| to_message(room, ev, own)));
            match resp.end {
                Some(end) if !resp.chunk.is_empty() => token = Some(end),
                // No `end`, or nothing left: the beginning of the room.
                _ => {
                    token = None;
                    break;
                }
            }
        }
        newest_first.reverse();
        Ok(Page {
            messages: newest_first,
            older: token.map(|from| PageToken {
                room_id: room.room_id().to_string(),
                from,
            }),
            offline: false,
        })
    }

    /// The history around one message: up to `limit` messages before and after it (the
    /// server's `/context`, decrypted like every page), with tokens to page on in both
    /// directions. How a search result far back in a chat is opened without paging
    /// through everything after it. [`Error::EventNotFound`] when the server does not
    /// know the event in this room (redacted, or another room's id).
    pub async fn messages_around(
        &self,
        room_id: &str,
        event_id: &str,
        limit: u32,
    ) -> Result<AroundPage> {
        let room = self.joined_room(room_id)?;
        let event =
            EventId::parse(event_id).map_err(|_| Error::EventNotFound(event_id.to_owned()))?;
        let own = self.client.user_id().map(|u| u.to_owned());
        // The context size counts the events on both sides together.
        let size = UInt::from(limit.saturating_mul(2));
        let resp = match room.event_with_context(&event, true, size, None).await {
            Ok(r) => r,
            Err(matrix_sdk::Error::Http(e))
                if e.as_client_api_error()
                    .is_some_and(|c| c.status_code.as_u16() == 404) =>
            {
                return Err(Error::EventNotFound(event_id.to_owned()));
            }
            Err(e) => return Err(e.into()),
        };
        let target = resp
            .event
            .as_ref()
            .ok_or_else(|| Error::EventNotFound(event_id.to_owned()))?;
        let mut messages: Vec<Message> = resp
            .events_before
            .iter()
            .rev()
            .filter_map(|ev| to_message(&room, ev, own.as_deref()))
            .collect();
        let before = messages.len();
        messages.extend(to_message(&room, target, own.as_deref()));
        if messages.len() == before {
            // The event is no message (a state event): nothing to show it in.
            return Err(Error::EventNotFound(event_id.to_owned()));
        }
        messages.extend(
            resp.events_after
                .iter()
                .filter_map(|ev| to_message(&room, ev, own.as_deref())),
        );
        let token = |from: Option<String>| {
            from.map(|from| PageToken {
                room_id: room_id.to_owned(),
                from,
            })
        };
        // Fewer events before than asked for: the window starts at the room's
        // beginning. Fewer after: it reaches the newest event.
        // (Synapse gives half of the context size to each side.)
        let side = limit as usize;
        let older = if resp.events_before.len() < side {
            None
        } else {
            token(resp.prev_batch_token)
        };
        let newer = if resp.events_after.len() < side {
            None
        } else {
            token(resp.next_batch_token)
        };
        Ok(AroundPage {
            messages,
            older,
            newer,
        })
    }

    /// The `limit` messages after `after` (from [`AroundPage::newer`] or an earlier
    /// [`NewerPage::newer`]), oldest first.
    pub async fn messages_newer(
        &self,
        room_id: &str,
        after: &PageToken,
        limit: u32,
    ) -> Result<NewerPage> {
        let room = self.joined_room(room_id)?;
        if after.room_id != room_id {
            return Err(Error::ForeignPageToken(room_id.to_owned()));
        }
        let own = self.client.user_id().map(|u| u.to_owned());
        let mut messages = Vec::new();
        let mut token = Some(after.from.clone());
        while messages.len() < limit as usize {
            let Some(from) = token.take() else { break };
            let mut opts = MessagesOptions::forward().from(Some(from.as_str()));
            opts.limit = UInt::try_from(limit as usize - messages.len()).unwrap_or(UInt::MAX);
            let resp = room.messages(opts).await?;
            messages.extend(
                resp.chunk
                    .iter()
                    .filter_map(|ev| to_message(&room, ev, own.as_deref())),
            );
            match resp.end {
                Some(end) if !resp.chunk.is_empty() => token = Some(end),
                // Nothing more: the present.
                _ => break,
            }
        }
        Ok(NewerPage {
            messages,
            newer: token.map(|from| PageToken {
                room_id: room_id.to_owned(),
                from,
            }),
        })
    }

    /// Marks a chat as read up to `event_id`: sends a public read receipt (so the other
    /// side sees that we read it) and waits until the new unread count is in the local
    /// store, so the count is 0 right after this returns and stays 0 after a restart,
    /// also offline.
    ///
    /// With the background sync running, its next round trips bring the receipt back
    /// (waiting at most a few seconds); without it, this syncs itself.
    pub async fn mark_read(&self, room_id: &str, event_id: &str) -> Result<()> {
        let room = self.joined_room(room_id)?;
        let event =
            EventId::parse(event_id).map_err(|_| Error::EventNotFound(event_id.to_owned()))?;
        let mut synced = self.synced.subscribe();
        room.send_single_receipt(SendReceiptType::Read, ReceiptThread::Unthreaded, event)
            .await?;
        // The count follows once a sync has brought the receipt back and the event cache
        // has applied it (in the background, so poll briefly). Three syncs without it
        // mean new messages came in after `event_id`.
        let deadline = tokio::time::Instant::now() + READ_SYNC_WAIT;
        let mut syncs = 0;
        while self.unread_count(&room) != 0 && syncs < 3 {
            if tokio::time::Instant::now() >= deadline {
                break;
            }
            if self.sync_running() {
                let tick = tokio::time::Instant::now() + Duration::from_millis(100);
                if let Ok(Ok(())) =
                    tokio::time::timeout_at(tick.min(deadline), synced.changed()).await
                {
                    syncs += 1;
                }
            } else {
                self.sync_once().await?;
                syncs += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        Ok(())
    }

    /// Unread messages of a chat. Sliding sync's answers carry no server count (Synapse
    /// sends 0), so with it the count is the SDK's own, computed from the read receipts
    /// and the messages this device holds (messages of others, not reactions or edits,
    /// like the server's); with classic `/sync`, the server's notification count.
    fn unread_count(&self, room: &Room) -> u64 {
        match self.sync_mode() {
            crate::SyncMode::Classic => room.unread_notification_counts().notification_count,
            _ => room.num_unread_messages(),
        }
    }
}

/// The other member of a direct chat: the SDK's DM target, else the one other member of a
/// two-person room (an invite accepted from a client that did not mark it direct).
async fn peer_of(room: &Room, own: Option<&UserId>) -> Option<String> {
    let targets = room.direct_targets();
    if let Some(user) = targets
        .iter()
        .filter_map(|t| t.as_user_id())
        .find(|u| Some(*u) != own)
    {
        return Some(user.to_string());
    }
    if room.active_members_count() + room.invited_members_count() != 2 {
        return None;
    }
    let members = room
        .members_no_sync(matrix_sdk::RoomMemberships::ACTIVE)
        .await
        .ok()?;
    members
        .iter()
        .map(|m| m.user_id())
        .find(|u| Some(*u) != own)
        .map(|u| u.to_string())
}
