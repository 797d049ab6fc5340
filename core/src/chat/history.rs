//! Reading a room's history: the server's messages, the event cache while the
//! homeserver is unreachable, and the outbox's entries appended as pending; plus the
//! conversion of SDK events into Kontor's [`Message`].

use std::time::{SystemTime, UNIX_EPOCH};

use matrix_sdk::{
    Room,
    deserialized_responses::{EncryptionInfo, TimelineEvent},
    ruma::{
        UserId,
        events::{
            AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
            room::message::{MessageType, Relation, RoomMessageEventContent},
        },
        serde::Raw,
    },
};

use crate::{Error, Kontor, Message, MessageBody, Result, SendState};

impl Kontor {
    /// The last `limit` messages of a room, oldest first, followed by what is still in the
    /// outbox for it (pending or failed), so the user sees everything they wrote. The
    /// newest page of [`Kontor::messages_page`], for callers that need no paging.
    pub async fn messages(&self, room_id: &str, limit: u32) -> Result<Vec<Message>> {
        Ok(self.messages_page(room_id, None, limit).await?.messages)
    }

    /// The room's outbox entries as messages (pending or failed), in sending order:
    /// what the user wrote that the server has not taken yet (the search index finds
    /// them at once).
    pub async fn outbox_messages(&self, room_id: &str) -> Result<Vec<Message>> {
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
                sender_device: None,
                own: true,
                timestamp_ms: now_ms(),
                body: entry.body,
                reply_to: entry.reply_to,
                replaces: None,
                state: entry.state,
            })
            .collect())
    }

    /// The last `limit` messages of a room from the server, falling back to the event
    /// cache while the homeserver is unreachable.
    pub(super) async fn room_messages(&self, room: &Room, limit: u32) -> Result<Vec<Message>> {
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
        // Newest first, converting only as many as asked for (a long chat's cache holds
        // many more), then back to oldest first.
        let mut out: Vec<Message> = events
            .iter()
            .rev()
            .filter_map(|ev| to_message(room, ev, own))
            .take(limit as usize)
            .collect();
        out.reverse();
        Some(out)
    }
}

/// What a message says or carries, as Kontor shows it. `content` is the event's raw
/// content JSON, which keeps the keys the typed SDK content drops (Kontor's structured
/// payloads); `None` where only the typed content is at hand.
pub(crate) fn body_of(msgtype: &MessageType, content: Option<&serde_json::Value>) -> MessageBody {
    match msgtype {
        MessageType::Text(t) => MessageBody::Text {
            text: t.body.clone(),
            extra: content.and_then(extras),
        },
        MessageType::File(f) => MessageBody::File {
            name: f.filename().to_owned(),
            mime: f.info.as_ref().and_then(|i| i.mimetype.clone()),
            size: f.info.as_ref().and_then(|i| i.size).map(u64::from),
            encrypted: matches!(
                f.source,
                matrix_sdk::ruma::events::room::MediaSource::Encrypted(_)
            ),
            caption: f.caption().map(str::to_owned),
            extra: content.and_then(extras),
        },
        other => MessageBody::Other {
            msgtype: other.msgtype().to_owned(),
            text: other.body().to_owned(),
        },
    }
}

/// Every key of `content` in Kontor's namespace with its value, as one object (see
/// [`MessageBody::File::extra`]); `None` when there is none.
pub(crate) fn extras(content: &serde_json::Value) -> Option<serde_json::Value> {
    let found: serde_json::Map<String, serde_json::Value> = content
        .as_object()?
        .iter()
        .filter(|(k, _)| k.starts_with(crate::EXTRA_NAMESPACE))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!found.is_empty()).then_some(serde_json::Value::Object(found))
}

/// The event a message replies to: a rich reply's `m.in_reply_to`, also inside a
/// thread when it is a real reply there (not the thread's fallback).
pub(crate) fn reply_of(content: &RoomMessageEventContent) -> Option<String> {
    match content.relates_to.as_ref()? {
        Relation::Reply(r) => Some(r.in_reply_to.event_id.to_string()),
        Relation::Thread(t) if !t.is_falling_back => {
            t.in_reply_to.as_ref().map(|r| r.event_id.to_string())
        }
        _ => None,
    }
}

/// The sender's device an event's end-to-end encryption names, if it was encrypted.
pub(crate) fn device_of(info: Option<&EncryptionInfo>) -> Option<String> {
    info?.sender_device.as_ref().map(ToString::to_string)
}

/// A timeline event as a [`Message`]; `None` for events that are no message.
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
    let mut replaces = None;
    let (body, reply_to) = match parsed {
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
            SyncMessageLikeEvent::Original(m),
        )) => {
            let content = raw.get_field::<serde_json::Value>("content").ok().flatten();
            let (body, replaced) = message_body(&m.content, content.as_ref());
            replaces = replaced;
            (body, reply_of(&m.content))
        }
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::Reaction(
            SyncMessageLikeEvent::Original(r),
        )) => (
            MessageBody::Reaction {
                relates_to: r.content.relates_to.event_id.to_string(),
                key: r.content.relates_to.key,
            },
            None,
        ),
        // A redacted event keeps its type but no content: it is gone, not undecryptable.
        AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomEncrypted(
            SyncMessageLikeEvent::Original(_),
        )) => (MessageBody::Undecryptable, None),
        _ => return None,
    };
    Some(Message {
        room_id: room.room_id().to_string(),
        event_id: Some(event_id.clone()),
        transaction_id: txn,
        own: own == Some(sender.as_ref()),
        sender: sender.to_string(),
        sender_device: device_of(ev.encryption_info().map(|i| &**i)),
        timestamp_ms: ts,
        body,
        reply_to,
        replaces,
        state: SendState::Sent { event_id },
    })
}

/// A message event's body, and for an edit the event it replaces: an edit's body is its
/// `m.new_content` (what the sender means now), not the "* …" fallback.
pub(crate) fn message_body(
    content: &RoomMessageEventContent,
    raw_content: Option<&serde_json::Value>,
) -> (MessageBody, Option<String>) {
    match content.relates_to.as_ref() {
        Some(Relation::Replacement(r)) => (
            body_of(
                &r.new_content.msgtype,
                raw_content.and_then(|c| c.get("m.new_content")),
            ),
            Some(r.event_id.to_string()),
        ),
        _ => (body_of(&content.msgtype, raw_content), None),
    }
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
