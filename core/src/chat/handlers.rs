//! What the sync and the send queue report, turned into [`CoreEvent`]s.
//!
//! The handlers installed once per client: incoming messages, invites and verification
//! requests from the sync, and the send queue's updates (local echo, error, retry, sent,
//! upload progress) as [`CoreEvent::MessageState`] and [`CoreEvent::Transfer`].

use matrix_sdk::{
    Room,
    deserialized_responses::EncryptionInfo,
    event_handler::RawEvent,
    ruma::events::{
        reaction::OriginalSyncReactionEvent,
        room::{
            member::{MembershipState, StrippedRoomMemberEvent},
            message::{MessageType, OriginalSyncRoomMessageEvent},
            redaction::OriginalSyncRoomRedactionEvent,
        },
    },
    send_queue::{RoomSendQueueUpdate, SendQueueUpdate},
};

use super::history::{device_of, message_body, reply_of};
use crate::{ConnectionState, CoreEvent, Direction, Kontor, Message, MessageBody, SendState};

/// Keeps the last few incoming verification requests; older ones have long timed out
/// (a request is valid for 10 minutes and nobody has dozens pending).
fn remember(inbox: &std::sync::Mutex<Vec<(String, String)>>, user: &str, flow: &str) {
    let mut v = inbox.lock().unwrap_or_else(|p| p.into_inner());
    if v.len() >= 16 {
        v.remove(0);
    }
    v.push((user.to_owned(), flow.to_owned()));
}

/// The events this process has announced, newest last: a sliding-sync connection that
/// the server expired (`M_UNKNOWN_POS`) starts over and repeats each chat's latest events,
/// which must not become new messages (and notices) a second time. By event id, so
/// nothing new is ever held back; bounded, since a repeat covers only the latest events.
#[derive(Default)]
pub(crate) struct Announced {
    order: std::collections::VecDeque<String>,
    seen: std::collections::HashSet<String>,
}

impl Announced {
    const KEEP: usize = 4096;

    /// Records `event_id`; false if it was announced before.
    pub(crate) fn first_time(&mut self, event_id: &str) -> bool {
        if !self.seen.insert(event_id.to_owned()) {
            return false;
        }
        self.order.push_back(event_id.to_owned());
        if self.order.len() > Self::KEEP
            && let Some(old) = self.order.pop_front()
        {
            self.seen.remove(&old);
        }
        true
    }
}

/// True the first time `event_id` is announced by this process.
fn first_time(announced: &std::sync::Mutex<Announced>, event_id: &str) -> bool {
    announced
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .first_time(event_id)
}

impl Kontor {
    pub(crate) fn install_handlers(&self) {
        let tx = self.events.clone();
        let inbox = self.verification_inbox.clone();
        let quiet = self.quiet_history.clone();
        let announced = self.announced.clone();
        self.client.add_event_handler(
            move |ev: OriginalSyncRoomMessageEvent,
                  room: Room,
                  raw: RawEvent,
                  encryption: Option<EncryptionInfo>| {
                let tx = tx.clone();
                let inbox = inbox.clone();
                let quiet = quiet.load(std::sync::atomic::Ordering::Relaxed);
                let announced = announced.clone();
                async move {
                    if crate::business::is_business_room(&room) {
                        return; // the account's own data, never a chat message
                    }
                    // History this device has seen, repeated by the sync.
                    if quiet || !first_time(&announced, ev.event_id.as_str()) {
                        return;
                    }
                    let own = room.own_user_id() == ev.sender;
                    // The raw content keeps the keys the typed content drops (Kontor's
                    // structured payloads); `raw` is the decrypted event.
                    let content = serde_json::from_str::<serde_json::Value>(raw.get())
                        .ok()
                        .and_then(|mut v| v.get_mut("content").map(serde_json::Value::take));
                    let (body, replaces) = message_body(&ev.content, content.as_ref());
                    let msg = Message {
                        room_id: room.room_id().to_string(),
                        event_id: Some(ev.event_id.to_string()),
                        transaction_id: None,
                        sender: ev.sender.to_string(),
                        sender_device: device_of(encryption.as_ref()),
                        own,
                        timestamp_ms: ev.origin_server_ts.0.into(),
                        body,
                        reply_to: reply_of(&ev.content),
                        replaces,
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
            },
        );

        // Reactions: delivered as messages of their own kind, so a caller sees a 👍 on a
        // quote the moment it arrives; views skip them as messages.
        let tx = self.events.clone();
        let quiet = self.quiet_history.clone();
        let announced = self.announced.clone();
        self.client.add_event_handler(
            move |ev: OriginalSyncReactionEvent, room: Room, encryption: Option<EncryptionInfo>| {
                let tx = tx.clone();
                let quiet = quiet.load(std::sync::atomic::Ordering::Relaxed);
                let announced = announced.clone();
                async move {
                    if crate::business::is_business_room(&room)
                        || quiet
                        || !first_time(&announced, ev.event_id.as_str())
                    {
                        return;
                    }
                    let _ = tx.send(CoreEvent::MessageReceived(Message {
                        room_id: room.room_id().to_string(),
                        event_id: Some(ev.event_id.to_string()),
                        transaction_id: None,
                        own: room.own_user_id() == ev.sender,
                        sender: ev.sender.to_string(),
                        sender_device: device_of(encryption.as_ref()),
                        timestamp_ms: ev.origin_server_ts.0.into(),
                        body: MessageBody::Reaction {
                            relates_to: ev.content.relates_to.event_id.to_string(),
                            key: ev.content.relates_to.key,
                        },
                        replaces: None,
                        reply_to: None,
                        state: SendState::Sent {
                            event_id: ev.event_id.to_string(),
                        },
                    }));
                }
            },
        );

        // Redactions: whatever the app kept of the event (its search index entry) goes.
        let tx = self.events.clone();
        self.client
            .add_event_handler(move |ev: OriginalSyncRoomRedactionEvent, room: Room| {
                let tx = tx.clone();
                async move {
                    // Room versions before 11 carry the target at the top level, later
                    // ones in the content.
                    if let Some(target) = ev.content.redacts.or(ev.redacts) {
                        let _ = tx.send(CoreEvent::Redacted {
                            room_id: room.room_id().to_string(),
                            event_id: target.to_string(),
                        });
                    }
                }
            });

        self.install_business_handler();

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
                            direct: ev.content.is_direct.unwrap_or(false),
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
}

#[cfg(test)]
mod tests {
    use super::Announced;

    #[test]
    fn an_event_is_announced_once_and_the_memory_stays_bounded() {
        let mut a = Announced::default();
        assert!(a.first_time("$one"));
        assert!(!a.first_time("$one"));
        for i in 0..Announced::KEEP {
            assert!(a.first_time(&format!("${i}")));
        }
        assert_eq!(a.seen.len(), Announced::KEEP);
        assert!(a.first_time("$one"), "forgotten once it is old enough");
    }
}
