//! The business room: the freelancer's own data (quotes, customers' answers, numbers),
//! synced between their devices and end-to-end encrypted, so the homeserver stores it
//! without being able to read it.
//!
//! It is a private room of the account alone (no invites), encrypted from its creation
//! event like every room Kontor creates, with the custom room type
//! [`BUSINESS_TYPE`] in its creation content; entries are message-like events of the
//! same type with content `{ "kind": …, "value": … }`. It never shows as a chat: it is
//! left out of [`Kontor::chats`], invites, unread counts and `MessageReceived`.
//!
//! Why a room and not secret-storage (SSSS) account data:
//! - room events are megolm-encrypted with the same keys, key sharing and key backup as
//!   the chats, so a new device that can read the chats (after verification or
//!   [`Kontor::recover`]) can read this too, with nothing else to set up; SSSS account
//!   data needs the recovery key entered on every device before it can be read;
//! - a room has history and order: every entry stays, with who (which device) wrote it
//!   and when, and is paged like a chat; account data holds one value per type, and the
//!   last writer silently replaces what another device wrote meanwhile;
//! - entries arrive through the sync like any event, so a second device learns of a new
//!   quote the moment it is posted.
//!
//! Two devices that both find no business room may each create one before either has
//! synced the other's. Then every device picks the same one to write to — the oldest by
//! the server's creation time, ties broken by room id — and reads entries from all of
//! them, so nothing written into the other twin is lost.

use matrix_sdk::{
    Room,
    deserialized_responses::{EncryptionInfo, RawSyncOrStrippedState, TimelineEvent},
    room::MessagesOptions,
    ruma::{
        OwnedRoomId, UInt, UserId,
        api::client::room::create_room::v3::{CreationContent, Request, RoomPreset},
        events::{
            AnySyncMessageLikeEvent, InitialStateEvent,
            room::{create::RoomCreateEventContent, encryption::RoomEncryptionEventContent},
        },
        room::RoomType,
        serde::Raw,
    },
};
use serde::{Deserialize, Serialize};

use crate::{CoreEvent, Error, Kontor, Result};

/// The room type of the business room and the event type of its entries.
pub const BUSINESS_TYPE: &str = "eu.kontor.business";

/// Events asked for per `/messages` request when reading the business room.
const PAGE: u32 = 100;

/// One entry of the business room.
///
/// `Debug` leaves out `value`: it is the user's business data, and events end up in
/// logs more easily than anything else.
#[derive(Clone, PartialEq, Eq, Serialize)]
pub struct BusinessEvent {
    /// What it is (`"quote"`, …), chosen by the caller.
    pub kind: String,
    /// The entry itself, as posted.
    pub value: serde_json::Value,
    /// The device that posted it, as the encryption reports it.
    pub sender_device: Option<String>,
    /// The server's timestamp, milliseconds since the epoch.
    pub at_ms: u64,
    /// The event id.
    pub event_id: String,
}

impl std::fmt::Debug for BusinessEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusinessEvent")
            .field("kind", &self.kind)
            .field("sender_device", &self.sender_device)
            .field("at_ms", &self.at_ms)
            .field("event_id", &self.event_id)
            .finish_non_exhaustive()
    }
}

/// The content of an entry on the wire.
#[derive(Serialize, Deserialize)]
struct Entry {
    kind: String,
    value: serde_json::Value,
}

/// True for a room of the business type (ours or not): never a chat.
pub(crate) fn is_business_room(room: &Room) -> bool {
    room.room_type()
        .is_some_and(|t| t.to_string() == BUSINESS_TYPE)
}

/// True for a business room this account created: someone else's room of that type
/// (an invite we accepted) must never receive or supply our data.
fn is_own_business_room(room: &Room) -> bool {
    is_business_room(room)
        && room
            .create_content()
            .is_some_and(|c| c.creator == room.own_user_id())
}

/// An entry from a timeline event: only our own, encrypted events of the business type
/// count (the homeserver could inject plaintext events in our name).
fn entry_of(
    raw: &serde_json::value::RawValue,
    encryption: Option<&EncryptionInfo>,
    own: &UserId,
) -> Option<BusinessEvent> {
    #[derive(Deserialize)]
    struct Event {
        #[serde(rename = "type")]
        kind: String,
        sender: String,
        event_id: String,
        origin_server_ts: u64,
        content: Entry,
    }
    let encryption = encryption?;
    if encryption.sender != own {
        return None;
    }
    let ev: Event = serde_json::from_str(raw.get()).ok()?;
    if ev.kind != BUSINESS_TYPE || ev.sender != own.as_str() {
        return None;
    }
    Some(BusinessEvent {
        kind: ev.content.kind,
        value: ev.content.value,
        sender_device: encryption.sender_device.as_ref().map(|d| d.to_string()),
        at_ms: ev.origin_server_ts,
        event_id: ev.event_id,
    })
}

fn timeline_entry(ev: &TimelineEvent, own: &UserId) -> Option<BusinessEvent> {
    entry_of(ev.raw().json(), ev.encryption_info().map(|i| &**i), own)
}

/// The server's creation time of a room, if its create event is in the store.
async fn created_at(room: &Room) -> Option<u64> {
    match room
        .get_state_event_static::<RoomCreateEventContent>()
        .await
        .ok()??
    {
        RawSyncOrStrippedState::Sync(raw) => raw.get_field::<u64>("origin_server_ts").ok()?,
        RawSyncOrStrippedState::Stripped(_) => None,
    }
}

impl Kontor {
    /// The account's business rooms, the one to write to first (oldest creation, then
    /// room id; see the module docs). Normally one; includes the room this process
    /// created while the sync has not yet brought its type.
    async fn business_rooms(&self) -> Vec<Room> {
        let created = self.business.lock().await.clone();
        let mut rooms = Vec::new();
        for room in self.client.joined_rooms() {
            let just_created = created.as_deref() == Some(room.room_id());
            if is_own_business_room(&room) || just_created {
                let at = created_at(&room).await.unwrap_or(u64::MAX);
                rooms.push((at, room.room_id().to_string(), room));
            }
        }
        rooms.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        rooms.into_iter().map(|(_, _, r)| r).collect()
    }

    /// The id of the account's business room, creating it when there is none.
    ///
    /// Found by its room type among the joined rooms, so a second device finds the room
    /// the first created once it has synced. The new room is private, has no invites,
    /// is encrypted from its creation event and does not federate (only this account's
    /// devices, all on its homeserver, ever read it).
    pub async fn business_room(&self) -> Result<String> {
        if let Some(room) = self.business_rooms().await.into_iter().next() {
            return Ok(room.room_id().to_string());
        }
        let mut guard = self.business.lock().await;
        if let Some(id) = guard.as_ref() {
            return Ok(id.to_string()); // created by a concurrent call meanwhile
        }
        let mut creation = CreationContent::new();
        creation.room_type = Some(RoomType::from(BUSINESS_TYPE));
        creation.federate = false;
        let mut request = Request::new();
        request.creation_content =
            Some(Raw::new(&creation).map_err(|e| Error::Matrix(Box::new(e.into())))?);
        request.initial_state = vec![
            InitialStateEvent::with_empty_state_key(
                RoomEncryptionEventContent::with_recommended_defaults(),
            )
            .to_raw_any(),
        ];
        request.name = Some("Kontor".into());
        request.preset = Some(RoomPreset::PrivateChat);
        let room = self.client.create_room(request).await?;
        let id: OwnedRoomId = room.room_id().to_owned();
        *guard = Some(id.clone());
        Ok(id.to_string())
    }

    /// Posts an entry `{ "kind": kind, "value": value }` into the business room (created
    /// if needed) and returns its event id. The event is encrypted with the room's
    /// megolm session, so the homeserver stores only `m.room.encrypted`.
    ///
    /// Sent directly, not through the outbox: it fails with [`Error::Unreachable`] while
    /// the homeserver is down, and the caller, which keeps its own (sealed) copy of the
    /// data, posts it again later.
    pub async fn post_business(&self, kind: &str, value: serde_json::Value) -> Result<String> {
        let room_id = self.business_room().await?;
        let room = self.joined_room(&room_id)?;
        self.ensure_encrypted(&room).await?;
        let content = serde_json::to_value(Entry {
            kind: kind.to_owned(),
            value,
        })
        .map_err(|e| Error::Matrix(Box::new(e.into())))?;
        let sent = room.send_raw(BUSINESS_TYPE, content).await?;
        Ok(sent.response.event_id.to_string())
    }

    /// Every entry of the business room(s), oldest first, decrypted; with `since_ms`
    /// only those the server stamped at or after it (the same millisecond again, so a
    /// caller that remembers the newest `at_ms` it has seen misses nothing; it drops
    /// repeats by event id). Reads the server's history backwards from the end until
    /// the start (or `since_ms`). Empty when there is no business room yet.
    pub async fn business_events(&self, since_ms: Option<u64>) -> Result<Vec<BusinessEvent>> {
        let own = self.client.user_id().ok_or(Error::NotLoggedIn)?.to_owned();
        let mut all = Vec::new();
        for room in self.business_rooms().await {
            let mut newest_first = Vec::new();
            let mut from: Option<String> = None;
            loop {
                let mut opts = MessagesOptions::backward().from(from.as_deref());
                opts.limit = UInt::from(PAGE);
                let resp = room.messages(opts).await?;
                let mut reached_since = false;
                for ev in &resp.chunk {
                    let Some(entry) = timeline_entry(ev, &own) else {
                        continue;
                    };
                    if since_ms.is_some_and(|s| entry.at_ms < s) {
                        reached_since = true;
                    } else {
                        newest_first.push(entry);
                    }
                }
                match resp.end {
                    Some(end) if !resp.chunk.is_empty() && !reached_since => from = Some(end),
                    _ => break,
                }
            }
            newest_first.reverse();
            all.extend(newest_first);
        }
        // Stable: entries of one room keep the server's order.
        all.sort_by_key(|e| e.at_ms);
        Ok(all)
    }

    /// Publishes [`CoreEvent::Business`] for every entry the sync brings, also this
    /// device's own (so all views of the data update the same way).
    pub(crate) fn install_business_handler(&self) {
        let tx = self.events.clone();
        self.client.add_event_handler(
            move |raw: Raw<AnySyncMessageLikeEvent>,
                  room: Room,
                  encryption: Option<EncryptionInfo>| {
                let tx = tx.clone();
                async move {
                    if !is_own_business_room(&room) {
                        return;
                    }
                    if let Some(entry) =
                        entry_of(raw.json(), encryption.as_ref(), room.own_user_id())
                    {
                        let _ = tx.send(CoreEvent::Business(entry));
                    }
                }
            },
        );
    }
}
