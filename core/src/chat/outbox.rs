//! Sending and the outbox: every message goes into matrix-sdk's persistent send queue
//! (on disk before the network is touched); the outbox lists what still waits there,
//! and `retry` / `cancel` act on one entry by its transaction id.

use std::time::Duration;

use matrix_sdk::{
    Room,
    ruma::events::{
        AnyMessageLikeEventContent, MessageLikeEventContent,
        relation::Reply,
        room::message::{Relation, RoomMessageEventContent},
    },
    ruma::serde::Raw,
    send_queue::{LocalEchoContent, RoomSendQueueUpdate, SendQueueUpdate},
};
use serde::Serialize;

use super::history::{body_of, reply_of};
use crate::{CoreEvent, Error, Kontor, MessageBody, Result, SendState};

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
    /// The event it replies to, if it is a reply.
    pub reply_to: Option<String>,
}

impl Kontor {
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

    /// [`Kontor::send_text`] with a structured payload under `key` in the same event
    /// (so it is end-to-end encrypted with the text): how a consent request carries
    /// what Kontor needs to read it back, while any client shows the text. `key` must be
    /// in Kontor's namespace ([`crate::EXTRA_NAMESPACE`], else
    /// [`Error::ForeignExtraKey`]); the receiving side reads it with
    /// [`MessageBody::extra`].
    pub async fn send_text_with(
        &self,
        room_id: &str,
        text: &str,
        key: &str,
        value: serde_json::Value,
    ) -> Result<String> {
        if !key.starts_with(crate::EXTRA_NAMESPACE) {
            return Err(Error::ForeignExtraKey(key.to_owned()));
        }
        let room = self.joined_room(room_id)?;
        self.ensure_encrypted(&room).await?;
        let content = serde_json::json!({ "msgtype": "m.text", "body": text, key: value });
        let raw = Raw::new(&content)
            .map_err(|e| Error::Matrix(Box::new(e.into())))?
            .cast_unchecked();
        self.enqueue_raw(&room, raw, "m.room.message".to_owned())
            .await
    }

    /// Queues a plain-text rich reply to `in_reply_to` (an event id of this room) and
    /// returns its transaction id, like [`Kontor::send_text`].
    ///
    /// The reply carries only `m.relates_to.m.in_reply_to` and no quoted fallback in its
    /// body: the fallback was removed from the Matrix spec (v1.13), Element shows the
    /// relation as a reply, and a fallback would copy the quoted message's text.
    pub async fn send_reply(&self, room_id: &str, in_reply_to: &str, text: &str) -> Result<String> {
        let room = self.joined_room(room_id)?;
        self.ensure_encrypted(&room).await?;
        let event = matrix_sdk::ruma::EventId::parse(in_reply_to)
            .map_err(|_| Error::EventNotFound(in_reply_to.to_owned()))?;
        let mut content = RoomMessageEventContent::text_plain(text);
        content.relates_to = Some(Relation::Reply(Reply::with_event_id(event)));
        self.enqueue(&room, AnyMessageLikeEventContent::RoomMessage(content))
            .await
    }

    /// Puts `content` into the room's persistent send queue and returns its transaction id.
    pub(crate) async fn enqueue(
        &self,
        room: &Room,
        content: AnyMessageLikeEventContent,
    ) -> Result<String> {
        let event_type = MessageLikeEventContent::event_type(&content).to_string();
        let raw = Raw::new(&content).map_err(|e| Error::Matrix(Box::new(e.into())))?;
        self.enqueue_raw(room, raw, event_type).await
    }

    /// [`Kontor::enqueue`] for content built as JSON, which may carry keys the SDK's
    /// typed content has no field for (Kontor's structured payloads). Encrypted by the
    /// queue like any event, since the whole content is what gets encrypted.
    ///
    /// matrix-sdk 0.18's `SendHandle` does not expose the id, but the queue announces every
    /// new local echo on its update channel before `send_raw` returns; with our sends
    /// serialised by `send_lock`, the first announcement for this room is ours.
    pub(crate) async fn enqueue_raw(
        &self,
        room: &Room,
        content: Raw<AnyMessageLikeEventContent>,
        event_type: String,
    ) -> Result<String> {
        let _guard = self.send_lock.lock().await;
        let mut updates = self.client.send_queue().subscribe();
        room.send_queue()
            .send_raw(content, event_type)
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
                    let raw = serialized_event
                        .raw()
                        .0
                        .deserialize_as_unchecked::<serde_json::Value>()
                        .ok();
                    let (body, reply_to) = match serialized_event.deserialize() {
                        Ok(AnyMessageLikeEventContent::RoomMessage(c)) => {
                            (body_of(&c.msgtype, raw.as_ref()), reply_of(&c))
                        }
                        _ => (
                            MessageBody::Other {
                                msgtype: "unknown".into(),
                                text: String::new(),
                            },
                            None,
                        ),
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
                        reply_to,
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
