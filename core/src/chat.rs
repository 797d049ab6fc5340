//! Chats: direct rooms, text, history, invites and the outbox.
//!
//! Outgoing messages go through matrix-sdk's send queue, which persists them in the
//! encrypted SQLite store before anything touches the network. That is what makes the
//! outbox survive a homeserver outage and an app restart; [`Kontor::sync_once`] and the
//! background sync re-enable the queue once the server answers again.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use matrix_sdk::{
    Room, RoomState,
    deserialized_responses::TimelineEvent,
    ruma::{
        OwnedUserId, UserId,
        events::{
            AnyMessageLikeEventContent, AnySyncMessageLikeEvent, AnySyncTimelineEvent,
            SyncMessageLikeEvent,
            room::{
                member::{MembershipState, StrippedRoomMemberEvent},
                message::{MessageType, OriginalSyncRoomMessageEvent, RoomMessageEventContent},
            },
        },
        serde::Raw,
    },
    send_queue::{LocalEchoContent, RoomSendQueueUpdate, SendQueueUpdate},
};
use serde::Serialize;

use crate::{
    ConnectionState, CoreEvent, Direction, Error, Kontor, Message, MessageBody, Result, SendState,
    parse_user_id,
};

/// A message waiting in the outbox.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxEntry {
    /// The room.
    pub room_id: String,
    /// The local id; use it to retry or cancel.
    pub transaction_id: String,
    /// Pending (will be sent) or failed (needs retry or cancel).
    pub state: SendState,
    /// What it says (text) or carries (file name), for the user's own outbox view.
    pub body: MessageBody,
}

/// Keeps the last few incoming verification requests; older ones have long timed out
/// (a request is valid for 10 minutes and nobody has dozens pending).
fn remember(inbox: &std::sync::Mutex<Vec<(String, String)>>, user: &str, flow: &str) {
    let mut v = inbox.lock().unwrap_or_else(|p| p.into_inner());
    if v.len() >= 16 {
        v.remove(0);
    }
    v.push((user.to_owned(), flow.to_owned()));
}

impl Kontor {
    pub(crate) fn install_handlers(&self) {
        let tx = self.events.clone();
        let inbox = self.verification_inbox.clone();
        self.client
            .add_event_handler(move |ev: OriginalSyncRoomMessageEvent, room: Room| {
                let tx = tx.clone();
                let inbox = inbox.clone();
                async move {
                    let own = room.own_user_id() == ev.sender;
                    let msg = Message {
                        room_id: room.room_id().to_string(),
                        event_id: Some(ev.event_id.to_string()),
                        transaction_id: None,
                        sender: ev.sender.to_string(),
                        own,
                        timestamp_ms: ev.origin_server_ts.0.into(),
                        body: body_of(&ev.content.msgtype),
                        state: SendState::Sent {
                            event_id: ev.event_id.to_string(),
                        },
                    };
                    if let MessageType::VerificationRequest(_) = &ev.content.msgtype
                        && !own
                    {
                        remember(&inbox, ev.sender.as_str(), ev.event_id.as_str());
                        let _ = tx.send(CoreEvent::VerificationRequest {
                            user_id: ev.sender.to_string(),
                            flow_id: ev.event_id.to_string(),
                        });
                    }
                    let _ = tx.send(CoreEvent::MessageReceived(msg));
                }
            });

        let tx = self.events.clone();
        self.client
            .add_event_handler(move |ev: StrippedRoomMemberEvent, room: Room| {
                let tx = tx.clone();
                async move {
                    if ev.content.membership == MembershipState::Invite
                        && ev.state_key == room.own_user_id()
                    {
                        let _ = tx.send(CoreEvent::Invite {
                            room_id: room.room_id().to_string(),
                            inviter: Some(ev.sender.to_string()),
                        });
                    }
                }
            });

        let tx = self.events.clone();
        let inbox = self.verification_inbox.clone();
        self.client.add_event_handler(
            move |ev: matrix_sdk::ruma::events::key::verification::request::ToDeviceKeyVerificationRequestEvent| {
                let tx = tx.clone();
                let inbox = inbox.clone();
                async move {
                    remember(&inbox, ev.sender.as_str(), ev.content.transaction_id.as_str());
                    let _ = tx.send(CoreEvent::VerificationRequest {
                        user_id: ev.sender.to_string(),
                        flow_id: ev.content.transaction_id.to_string(),
                    });
                }
            },
        );

        // Outbox updates → MessageState / Transfer events.
        let tx = self.events.clone();
        let sent_ids = self.sent_ids.clone();
        let mut updates = self.client.send_queue().subscribe();
        tokio::spawn(async move {
            loop {
                let SendQueueUpdate { room_id, update } = match updates.recv().await {
                    Ok(u) => u,
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(_) => return,
                };
                let room_id = room_id.to_string();
                let event = match update {
                    RoomSendQueueUpdate::NewLocalEvent(echo) => {
                        Some((echo.transaction_id, SendState::Pending))
                    }
                    RoomSendQueueUpdate::CancelledLocalEvent { transaction_id } => {
                        Some((transaction_id, SendState::Cancelled))
                    }
                    RoomSendQueueUpdate::SendError {
                        transaction_id,
                        error,
                        is_recoverable,
                    } => {
                        if is_recoverable {
                            let _ = tx.send(CoreEvent::Connection(ConnectionState::Offline {
                                reason: error.to_string(),
                            }));
                            Some((transaction_id, SendState::Pending))
                        } else {
                            Some((
                                transaction_id,
                                SendState::Failed {
                                    reason: error.to_string(),
                                },
                            ))
                        }
                    }
                    RoomSendQueueUpdate::RetryEvent { transaction_id } => {
                        Some((transaction_id, SendState::Pending))
                    }
                    RoomSendQueueUpdate::SentEvent {
                        transaction_id,
                        event_id,
                    } => {
                        sent_ids
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .insert(transaction_id.to_string(), event_id.to_string());
                        Some((
                            transaction_id,
                            SendState::Sent {
                                event_id: event_id.to_string(),
                            },
                        ))
                    }
                    RoomSendQueueUpdate::MediaUpload {
                        related_to,
                        progress,
                        ..
                    } => {
                        let _ = tx.send(CoreEvent::Transfer {
                            id: related_to.to_string(),
                            direction: Direction::Upload,
                            done: progress.current as u64,
                            total: progress.total as u64,
                        });
                        None
                    }
                    _ => None,
                };
                if let Some((txn, state)) = event {
                    let _ = tx.send(CoreEvent::MessageState {
                        room_id: room_id.clone(),
                        transaction_id: txn.to_string(),
                        state,
                    });
                }
            }
        });
    }

    /// Finds the joined direct chat with `user`, if there is one.
    ///
    /// A room counts when the SDK marks it as a DM with exactly this user, or when it has
    /// exactly two members, us and them (an invite accepted from a client that did not set
    /// `is_direct`).
    pub async fn find_dm(&self, user: &str) -> Result<Option<String>> {
        let user = parse_user_id(user)?;
        Ok(self
            .find_dm_room(&user)
            .await
            .map(|r| r.room_id().to_string()))
    }

    async fn find_dm_room(&self, user: &UserId) -> Option<Room> {
        if let Some(r) = self.client.get_dm_room(user) {
            return Some(r);
        }
        for room in self.client.joined_rooms() {
            if room.active_members_count() + room.invited_members_count() == 2
                && let Ok(Some(_)) = room.get_member_no_sync(user).await
            {
                return Some(room);
            }
        }
        None
    }

    /// Returns the direct chat with `user`, creating it if needed.
    ///
    /// A new room is encrypted from its creation event (the `m.room.encryption` state is
    /// part of the `createRoom` request), so no message can ever be sent into it in clear.
    pub async fn open_dm(&self, user: &str) -> Result<String> {
        let user: OwnedUserId = parse_user_id(user)?;
        if let Some(room) = self.find_dm_room(&user).await {
            return Ok(room.room_id().to_string());
        }
        let room = self.client.create_dm(&user).await?;
        Ok(room.room_id().to_string())
    }

    /// Refuses rooms that are not end-to-end encrypted. Uses the cached state when it is
    /// known, so this works offline for rooms we have synced.
    pub(crate) async fn ensure_encrypted(&self, room: &Room) -> Result<()> {
        let state = room.encryption_state();
        let encrypted = if state.is_unknown() {
            room.latest_encryption_state().await?.is_encrypted()
        } else {
            state.is_encrypted()
        };
        if encrypted {
            Ok(())
        } else {
            Err(Error::Unencrypted(room.room_id().to_owned()))
        }
    }

    /// Queues a text message for the room and returns its transaction id. The message is
    /// on disk when this returns; delivery is reported through [`CoreEvent::MessageState`].
    pub async fn send_text(&self, room_id: &str, text: &str) -> Result<String> {
        let room = self.joined_room(room_id)?;
        self.ensure_encrypted(&room).await?;
        let content = RoomMessageEventContent::text_plain(text);
        self.enqueue(&room, AnyMessageLikeEventContent::RoomMessage(content))
            .await
    }

    /// Puts `content` into the room's persistent send queue and returns its transaction id.
    ///
    /// matrix-sdk 0.18's `SendHandle` does not expose the id, but the queue announces every
    /// new local echo on its update channel before `send` returns; with our sends
    /// serialised by `send_lock`, the first announcement for this room is ours.
    pub(crate) async fn enqueue(
        &self,
        room: &Room,
        content: AnyMessageLikeEventContent,
    ) -> Result<String> {
        let _guard = self.send_lock.lock().await;
        let mut updates = self.client.send_queue().subscribe();
        room.send_queue()
            .send(content)
            .await
            .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))?;
        queued_txn(&mut updates, room)
    }
}

/// The transaction id of the local echo the send queue announced for `room` (the
/// SDK's `SendHandle` keeps its id private). Callers hold `send_lock` from subscribing
/// until here, so the first echo for the room is theirs.
pub(crate) fn queued_txn(
    updates: &mut tokio::sync::broadcast::Receiver<SendQueueUpdate>,
    room: &Room,
) -> Result<String> {
    loop {
        match updates.try_recv() {
            Ok(SendQueueUpdate {
                room_id,
                update: RoomSendQueueUpdate::NewLocalEvent(echo),
            }) if room_id == room.room_id() => {
                return Ok(echo.transaction_id.to_string());
            }
            Ok(_) | Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => {}
            Err(_) => {
                return Err(Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(
                    "send queue did not announce the queued message".into(),
                ))));
            }
        }
    }
}

impl Kontor {
    /// Waits until the queued message `txn` is sent (returns its event id), fails for good,
    /// or `timeout` passes while it is still pending (returns [`SendState::Pending`]).
    pub async fn wait_sent(
        &self,
        room_id: &str,
        txn: &str,
        timeout: Duration,
    ) -> Result<SendState> {
        let mut rx = self.events.subscribe();
        // It may have been sent before we subscribed: then it is no longer in the outbox.
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if !self.outbox().await?.iter().any(|e| e.transaction_id == txn) {
                // Gone from the outbox: sent (or cancelled). Find its event id if we saw it.
                return Ok(self.sent_event_id(room_id, txn).await);
            }
            let wait = tokio::time::timeout_at(deadline, rx.recv()).await;
            match wait {
                Err(_) => return Ok(SendState::Pending),
                Ok(Ok(CoreEvent::MessageState {
                    transaction_id,
                    state,
                    ..
                })) if transaction_id == txn => match state {
                    SendState::Sent { .. } | SendState::Failed { .. } | SendState::Cancelled => {
                        return Ok(state);
                    }
                    SendState::Pending => {}
                },
                Ok(Ok(_)) | Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
                Ok(Err(_)) => return Ok(SendState::Pending),
            }
        }
    }

    async fn sent_event_id(&self, room_id: &str, txn: &str) -> SendState {
        let known = self
            .sent_ids
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(txn)
            .cloned();
        if let Some(event_id) = known {
            return SendState::Sent { event_id };
        }
        // The event cache keeps the transaction id of our own sent events in `unsigned`.
        if let Ok(room) = self.joined_room(room_id)
            && let Ok(msgs) = self.room_messages(&room, 50).await
        {
            for m in msgs {
                if m.transaction_id.as_deref() == Some(txn)
                    && let Some(id) = m.event_id
                {
                    return SendState::Sent { event_id: id };
                }
            }
        }
        SendState::Sent {
            event_id: String::new(),
        }
    }

    /// The last `limit` messages of a room, oldest first, followed by what is still in the
    /// outbox for it (pending or failed), so the user sees everything they wrote. The
    /// newest page of [`Kontor::messages_page`], for callers that need no paging.
    pub async fn messages(&self, room_id: &str, limit: u32) -> Result<Vec<Message>> {
        Ok(self.messages_page(room_id, None, limit).await?.messages)
    }

    /// The room's outbox entries as messages (pending or failed), in sending order.
    pub(crate) async fn outbox_messages(&self, room_id: &str) -> Result<Vec<Message>> {
        Ok(self
            .outbox()
            .await?
            .into_iter()
            .filter(|entry| entry.room_id == room_id)
            .map(|entry| Message {
                room_id: entry.room_id,
                event_id: None,
                transaction_id: Some(entry.transaction_id),
                sender: self.user_id(),
                own: true,
                timestamp_ms: now_ms(),
                body: entry.body,
                state: entry.state,
            })
            .collect())
    }

    /// The last `limit` messages of a room from the server, falling back to the event
    /// cache while the homeserver is unreachable.
    async fn room_messages(&self, room: &Room, limit: u32) -> Result<Vec<Message>> {
        let own = self.client.user_id().map(|u| u.to_owned());
        match self.history_page(room, None, limit, own.as_deref()).await {
            Ok(page) => Ok(page.messages),
            // Offline: show what the sync already stored (matrix-sdk's event cache,
            // in the encrypted SQLite store), so a chat still opens on a train.
            Err(e @ Error::Unreachable(_)) => self
                .cached_messages(room, limit, own.as_deref())
                .await
                .ok_or(e),
            Err(e) => Err(e),
        }
    }

    /// The last `limit` messages matrix-sdk's event cache holds for `room` (filled by the
    /// sync and persisted in the profile's encrypted store), or `None` if it has none.
    pub(crate) async fn cached_messages(
        &self,
        room: &Room,
        limit: u32,
        own: Option<&UserId>,
    ) -> Option<Vec<Message>> {
        let (cache, _handles) = room.event_cache().await.ok()?;
        let events = cache.events().await.ok()?;
        let mut out: Vec<Message> = events
            .iter()
            .filter_map(|ev| to_message(room, ev, own))
            .collect();
        let skip = out.len().saturating_sub(limit as usize);
        out.drain(..skip);
        Some(out)
    }

    /// Pending invites: (room id, inviter).
    pub async fn invites(&self) -> Result<Vec<(String, Option<String>)>> {
        let mut out = Vec::new();
        for room in self.client.invited_rooms() {
            let inviter = match room.invite_details().await {
                Ok(d) => d.inviter.map(|m| m.user_id().to_string()),
                Err(_) => None,
            };
            out.push((room.room_id().to_string(), inviter));
        }
        Ok(out)
    }

    /// Accepts an invite. A direct-chat invite is recorded as a DM with the inviter.
    pub async fn accept_invite(&self, room_id: &str) -> Result<()> {
        let room = self.invited_room(room_id)?;
        let details = room.invite_details().await.ok();
        room.join().await?;
        if let Some(inviter) = details
            .and_then(|d| d.inviter)
            .map(|m| m.user_id().to_owned())
            && room.is_direct().await.unwrap_or(false)
        {
            let _ = self
                .client
                .account()
                .mark_as_dm(room.room_id(), &[inviter])
                .await;
        }
        Ok(())
    }

    /// Declines an invite.
    pub async fn decline_invite(&self, room_id: &str) -> Result<()> {
        self.invited_room(room_id)?.leave().await?;
        Ok(())
    }

    fn invited_room(&self, room_id: &str) -> Result<Room> {
        let id = matrix_sdk::ruma::RoomId::parse(room_id)
            .map_err(|_| Error::NoInvite(room_id.into()))?;
        self.client
            .get_room(&id)
            .filter(|r| r.state() == RoomState::Invited)
            .ok_or_else(|| Error::NoInvite(room_id.into()))
    }

    /// Everything in the outbox, all rooms, in sending order per room.
    pub async fn outbox(&self) -> Result<Vec<OutboxEntry>> {
        let echoes =
            self.client.send_queue().local_echoes().await.map_err(|e| {
                Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e))))
            })?;
        let mut out = Vec::new();
        for (room_id, list) in echoes {
            for echo in list {
                if let LocalEchoContent::Event {
                    serialized_event,
                    send_error,
                    ..
                } = echo.content
                {
                    let body = match serialized_event.deserialize() {
                        Ok(AnyMessageLikeEventContent::RoomMessage(c)) => body_of(&c.msgtype),
                        _ => MessageBody::Other {
                            msgtype: "unknown".into(),
                            text: String::new(),
                        },
                    };
                    let state = match send_error {
                        Some(e) => SendState::Failed {
                            reason: e.to_string(),
                        },
                        None => SendState::Pending,
                    };
                    out.push(OutboxEntry {
                        room_id: room_id.to_string(),
                        transaction_id: echo.transaction_id.to_string(),
                        state,
                        body,
                    });
                }
            }
        }
        Ok(out)
    }

    async fn outbox_handle(&self, txn: &str) -> Result<matrix_sdk::send_queue::SendHandle> {
        let echoes =
            self.client.send_queue().local_echoes().await.map_err(|e| {
                Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e))))
            })?;
        for echo in echoes.into_values().flatten() {
            if echo.transaction_id.as_str() == txn
                && let LocalEchoContent::Event { send_handle, .. } = echo.content
            {
                return Ok(send_handle);
            }
        }
        Err(Error::NotQueued(txn.to_owned()))
    }

    /// Retries a failed message (and wakes a paused outbox).
    pub async fn retry(&self, txn: &str) -> Result<()> {
        let handle = self.outbox_handle(txn).await?;
        handle
            .unwedge()
            .await
            .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))?;
        self.client.send_queue().set_enabled(true).await;
        Ok(())
    }

    /// Removes a message from the outbox before it is sent. Returns false when it was
    /// already on its way (then it will arrive).
    pub async fn cancel(&self, txn: &str) -> Result<bool> {
        let handle = self.outbox_handle(txn).await?;
        handle
            .abort()
            .await
            .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))
    }
}

pub(crate) fn body_of(msgtype: &MessageType) -> MessageBody {
    match msgtype {
        MessageType::Text(t) => MessageBody::Text {
            text: t.body.clone(),
        },
        MessageType::File(f) => MessageBody::File {
            name: f.filename.clone().unwrap_or_else(|| f.body.clone()),
            mime: f.info.as_ref().and_then(|i| i.mimetype.clone()),
            size: f.info.as_ref().and_then(|i| i.size).map(u64::from),
            encrypted: matches!(
                f.source,
                matrix_sdk::ruma::events::room::MediaSource::Encrypted(_)
            ),
        },
        other => MessageBody::Other {
            msgtype: other.msgtype().to_owned(),
            text: other.body().to_owned(),
        },
    }
}

pub(crate) fn to_message(room: &Room, ev: &TimelineEvent, own: Option<&UserId>) -> Option<Message> {
    let raw: &Raw<AnySyncTimelineEvent> = ev.raw();
    let parsed = raw.deserialize().ok()?;
    let sender = parsed.sender().to_owned();
    let event_id = parsed.event_id().to_string();
    let ts: u64 = parsed.origin_server_ts().0.into();
    let txn = raw
        .get_field::<serde_json::Value>("unsigned")
        .ok()
        .flatten()
        .and_then(|u| {
            u.get("transaction_id")
                .and_then(|t| t.as_str())
                .map(str::to_owned)
        });
    let body = match parsed {
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(m),
        )) => body_of(&m.content.msgtype),
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomEncrypted(_)) => {
            MessageBody::Undecryptable
        }
        _ => return None,
    };
    Some(Message {
        room_id: room.room_id().to_string(),
        event_id: Some(event_id.clone()),
        transaction_id: txn,
        own: own == Some(sender.as_ref()),
        sender: sender.to_string(),
        timestamp_ms: ts,
        body,
        state: SendState::Sent { event_id },
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
