//! The Matrix side of quotes: a file with a caption and a structured payload, read back
//! by Kontor and shown as a plain captioned file by another client; the customer's 👍
//! and reply coming back as answers; the business room shared by two devices; and the
//! homeserver never holding any of it in the clear.

use std::time::Duration;

use kontor_core::{CoreEvent, Kontor, MessageBody};
use kontor_testkit::{Synapse, TestUser};
use matrix_sdk::{
    Client,
    config::SyncSettings,
    deserialized_responses::TimelineEvent,
    room::MessagesOptions,
    ruma::{
        OwnedEventId, RoomId, UserId,
        events::{
            AnySyncMessageLikeEvent, AnySyncTimelineEvent, SyncMessageLikeEvent,
            reaction::ReactionEventContent,
            relation::Annotation,
            room::message::{
                AddMentions, ForwardThread, MessageType, ReplyMetadata, RoomMessageEventContent,
            },
        },
    },
};
use serde_json::json;

use crate::common::*;

const QUOTE_KEY: &str = "eu.kontor.quote";
const NUMBER: &str = "A-2026-0001";
const SECRET: &str = "SECRET-ITEM-TEXT";
const CAPTION: &str = "Ihr Angebot A-2026-0001: Website-Relaunch";
const T: Duration = Duration::from_secs(30);

/// Neither marker anywhere in the server's data directory: database (with its WAL),
/// media store (which must hold the upload when `uploaded`), logs.
fn assert_server_holds_no_plaintext(hs: &Synapse, uploaded: bool) {
    let files = files_under(hs.dir());
    assert!(
        files.contains(&hs.database()),
        "the database must be checked"
    );
    assert_eq!(
        files.iter().any(|f| f.starts_with(hs.media_store())),
        uploaded,
        "the media store holds exactly the uploads"
    );
    for f in files {
        let bytes = std::fs::read(&f).unwrap();
        for marker in [SECRET, NUMBER] {
            assert!(
                !bytes.windows(marker.len()).any(|w| w == marker.as_bytes()),
                "{marker} found in {}",
                f.display()
            );
        }
    }
}

/// A plain matrix-sdk client, no Kontor code: what Element would see.
async fn raw_client(hs: &Synapse, user: &TestUser) -> Client {
    let client = Client::builder()
        .homeserver_url(&hs.base_url)
        .build()
        .await
        .unwrap();
    client
        .matrix_auth()
        .login_username(&user.localpart, &user.password)
        .send()
        .await
        .unwrap();
    client.sync_once(SyncSettings::default()).await.unwrap();
    client
}

/// Kontor's `k` opens a DM with the raw client, which joins; returns when `k` has seen
/// the join (so the room key is shared with the raw client's device).
async fn dm_with_raw(k: &Kontor, other: &Client) -> String {
    let other_id = other.user_id().unwrap().to_owned();
    let room = k.open_dm(other_id.as_str()).await.unwrap();
    let room_id = RoomId::parse(&room).unwrap();
    let deadline = tokio::time::Instant::now() + T;
    loop {
        other.sync_once(SyncSettings::default()).await.unwrap();
        if let Some(r) = other.get_room(&room_id)
            && r.state() == matrix_sdk::RoomState::Invited
        {
            r.join().await.unwrap();
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "no invite");
    }
    loop {
        k.sync_once().await.unwrap();
        let r = k.sdk_client().get_room(&room_id).unwrap();
        if let Ok(Some(m)) = r.get_member_no_sync(&other_id).await
            && *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "join not seen");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    room
}

/// The first decrypted `m.file` in the raw client's view of the room.
fn file_event(ev: &TimelineEvent) -> Option<(OwnedEventId, String, Option<String>, bool)> {
    let AnySyncTimelineEvent::MessageLike(AnySyncMessageLikeEvent::RoomMessage(
        SyncMessageLikeEvent::Original(m),
    )) = ev.raw().deserialize().ok()?
    else {
        return None;
    };
    let MessageType::File(f) = m.content.msgtype else {
        return None;
    };
    let has_payload = ev
        .raw()
        .get_field::<serde_json::Value>("content")
        .ok()
        .flatten()
        .is_some_and(|c| c.get(QUOTE_KEY).is_some());
    Some((m.event_id, f.body, f.filename, has_payload))
}

async fn raw_sees_file(
    client: &Client,
    room: &str,
) -> (OwnedEventId, String, Option<String>, bool) {
    let room = client.get_room(&RoomId::parse(room).unwrap()).unwrap();
    let deadline = tokio::time::Instant::now() + T;
    loop {
        client.sync_once(SyncSettings::default()).await.unwrap();
        let page = room.messages(MessagesOptions::backward()).await.unwrap();
        if let Some(found) = page.chunk.iter().find_map(file_event) {
            return found;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the raw client never decrypted the file"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn next_matching<T>(
    rx: &mut tokio::sync::broadcast::Receiver<CoreEvent>,
    what: &str,
    mut pick: impl FnMut(CoreEvent) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + T;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(ev)) => {
                if let Some(found) = pick(ev) {
                    return found;
                }
            }
            Ok(Err(tokio::sync::broadcast::error::RecvError::Lagged(_))) => {}
            Ok(Err(e)) => panic!("event stream: {e}"),
            Err(_) => panic!("{what} never arrived"),
        }
    }
}

async fn next_file(
    rx: &mut tokio::sync::broadcast::Receiver<CoreEvent>,
    what: &str,
) -> kontor_core::Message {
    next_matching(rx, what, |ev| match ev {
        CoreEvent::MessageReceived(m) if matches!(m.body, MessageBody::File { .. }) => Some(m),
        _ => None,
    })
    .await
}

#[test]
fn quote_file_with_caption_and_payload_and_the_customers_answers() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let c = hs.register_unique("carla").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let pdf = dirs.path().join("Angebot.pdf");
    std::fs::write(&pdf, format!("%PDF-1.7\n{SECRET} {NUMBER}\n%%EOF\n")).unwrap();
    let payload = json!({ "number": NUMBER, "marker": SECRET });

    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let carla = raw_client(&hs, &c).await;
        let with_ben = dm(&anna, &ben).await;
        let with_carla = dm_with_raw(&anna, &carla).await;
        let mut ben_rx = ben.subscribe();
        let mut anna_rx = anna.subscribe();
        anna.start_sync();
        ben.start_sync();

        // A payload key outside Kontor's namespace is refused before anything is sent.
        let err = anna
            .send_file_with(
                &with_ben,
                &pdf,
                None,
                None,
                Some(("quote", payload.clone())),
                &Default::default(),
            )
            .await
            .unwrap_err();
        assert!(
            matches!(err, kontor_core::Error::ForeignExtraKey(_)),
            "{err:?}"
        );

        for room in [&with_ben, &with_carla] {
            let sent = anna
                .send_file_with(
                    room,
                    &pdf,
                    None,
                    Some(CAPTION),
                    Some((QUOTE_KEY, payload.clone())),
                    &Default::default(),
                )
                .await
                .unwrap();
            anna.wait_sent(room, &sent.transaction_id, T).await.unwrap();
        }

        // (a) Kontor reads caption and payload back, live and from history.
        let live = next_file(&mut ben_rx, "the quote at ben").await;
        let MessageBody::File {
            name,
            mime,
            caption,
            encrypted,
            ..
        } = &live.body
        else {
            unreachable!()
        };
        assert_eq!(name, "Angebot.pdf");
        assert_eq!(mime.as_deref(), Some("application/pdf"));
        assert_eq!(caption.as_deref(), Some(CAPTION));
        assert!(encrypted);
        assert_eq!(live.body.extra(QUOTE_KEY), Some(&payload));
        let page = ben.messages_page(&with_ben, None, 20).await.unwrap();
        let stored = page
            .messages
            .iter()
            .find(|m| m.event_id == live.event_id)
            .expect("the quote in ben's history");
        assert_eq!(stored.body, live.body);

        // … and a plain Matrix client sees an ordinary captioned file.
        let (quote_event, body, filename, has_payload) = raw_sees_file(&carla, &with_carla).await;
        assert_eq!(body, CAPTION, "body = the caption, as Element shows it");
        assert_eq!(filename.as_deref(), Some("Angebot.pdf"));
        assert!(has_payload, "the payload travels in the same event");

        // (b) The raw client's reply and 👍 (the newest event) come back to Kontor as answers to the quote.
        let carla_room = carla
            .get_room(&RoomId::parse(&with_carla).unwrap())
            .unwrap();
        let anna_id = UserId::parse(anna.user_id()).unwrap();
        let reply = RoomMessageEventContent::text_plain("Ja, passt").make_reply_to(
            ReplyMetadata::new(&quote_event, &anna_id, None),
            ForwardThread::No,
            AddMentions::Yes,
        );
        carla_room.send(reply).await.unwrap();
        carla_room
            .send(ReactionEventContent::new(Annotation::new(
                quote_event.clone(),
                "👍".into(),
            )))
            .await
            .unwrap();

        let quote = quote_event.to_string();
        let (mut reaction, mut answer) = (None, None);
        while reaction.is_none() || answer.is_none() {
            let m = next_matching(&mut anna_rx, "carla's answers", |ev| match ev {
                CoreEvent::MessageReceived(m) if m.room_id == with_carla && !m.own => Some(m),
                _ => None,
            })
            .await;
            match &m.body {
                MessageBody::Reaction { .. } => reaction = Some(m),
                MessageBody::Text { .. } => answer = Some(m),
                other => panic!("unexpected {other:?}"),
            }
        }
        let (reaction, answer) = (reaction.unwrap(), answer.unwrap());
        assert_eq!(
            reaction.body,
            MessageBody::Reaction {
                relates_to: quote.clone(),
                key: "👍".into()
            }
        );
        assert_eq!(text(&answer), "Ja, passt");
        assert_eq!(answer.reply_to.as_deref(), Some(quote.as_str()));

        let page = anna.messages_page(&with_carla, None, 20).await.unwrap();
        assert!(
            page.messages
                .iter()
                .any(|m| m.event_id == reaction.event_id && m.body == reaction.body),
            "the reaction in the history page: {page:?}"
        );
        assert!(
            page.messages
                .iter()
                .any(|m| m.event_id == answer.event_id && m.reply_to.as_deref() == Some(&quote)),
            "the reply in the history page"
        );
        let cached = anna.cached_page(&with_carla, 20).await.unwrap();
        assert!(cached.iter().any(|m| m.body == reaction.body));

        // The chat list previews the reply, not the newer reaction, and counts only the
        // reply as unread.
        anna.sync_once().await.unwrap();
        let chat = anna
            .chats()
            .await
            .unwrap()
            .into_iter()
            .find(|c| c.room_id == with_carla)
            .unwrap();
        assert_eq!(
            chat.last.as_ref().map(|m| m.event_id.clone()),
            Some(answer.event_id)
        );
        assert_eq!(chat.unread, 1, "the reaction is no unread message");
    });

    assert_server_holds_no_plaintext(&hs, true);
}

#[test]
fn business_room_is_shared_by_two_devices_and_never_a_chat() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let value = json!({ "number": NUMBER, "items": [{ "text": SECRET, "cents": 120000 }] });

    run(async {
        let laptop = login(&hs, &a, &dirs.path().join("laptop")).await;
        let phone = login(&hs, &a, &dirs.path().join("phone")).await;
        let ben = login(&hs, &b, &dirs.path().join("ben")).await;
        let with_ben = dm(&laptop, &ben).await;
        // The laptop must know the phone's device before it shares the room key.
        laptop.sync_once().await.unwrap();
        phone.sync_once().await.unwrap();
        laptop.sync_once().await.unwrap();
        let mut laptop_rx = laptop.subscribe();
        let mut phone_rx = phone.subscribe();
        laptop.start_sync();
        phone.start_sync();

        let room = laptop.business_room().await.unwrap();
        assert_eq!(laptop.business_room().await.unwrap(), room, "found again");
        let event_id = laptop.post_business("quote", value.clone()).await.unwrap();

        // Live on both devices (the laptop's own echo too).
        for (rx, who) in [(&mut laptop_rx, "laptop"), (&mut phone_rx, "phone")] {
            let got = next_matching(rx, who, |ev| match ev {
                CoreEvent::Business(e) => Some(e),
                _ => None,
            })
            .await;
            assert_eq!(got.event_id, event_id, "{who}");
            assert_eq!((got.kind.as_str(), &got.value), ("quote", &value), "{who}");
            assert_eq!(got.sender_device.as_deref(), Some(&*laptop.device_id()));
        }

        // The phone finds the same room and reads the entry from history.
        assert_eq!(phone.business_room().await.unwrap(), room);
        let entries = phone.business_events(None).await.unwrap();
        assert_eq!(entries.len(), 1, "{entries:?}");
        assert_eq!(entries[0].event_id, event_id);
        assert_eq!(entries[0].value, value);
        let later = laptop
            .post_business("answer", json!({ "ok": true }))
            .await
            .unwrap();
        let since = phone
            .business_events(Some(entries[0].at_ms + 1))
            .await
            .unwrap();
        assert!(since.iter().all(|e| e.event_id != event_id), "{since:?}");
        let all = phone.business_events(None).await.unwrap();
        let order: Vec<_> = all.iter().map(|e| e.event_id.as_str()).collect();
        assert_eq!(order, [event_id.as_str(), later.as_str()], "oldest first");

        // Never a chat, an invite or an unread count.
        for k in [&laptop, &phone] {
            let chats = k.chats().await.unwrap();
            assert!(chats.iter().all(|c| c.room_id != room), "{chats:?}");
            assert!(k.invites().await.unwrap().iter().all(|(r, _)| *r != room));
        }
        assert!(
            laptop
                .chats()
                .await
                .unwrap()
                .iter()
                .any(|c| c.room_id == with_ben)
        );

        // What the server stored for the business room: only encrypted events.
        let db = rusqlite::Connection::open(hs.database()).unwrap();
        let mut stmt = db
            .prepare("SELECT DISTINCT type FROM events WHERE room_id = ?1 AND state_key IS NULL")
            .unwrap();
        let types: Vec<String> = stmt
            .query_map([&room], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(types, ["m.room.encrypted"], "{types:?}");
    });

    assert_server_holds_no_plaintext(&hs, false);
}

/// With the homeserver down a file with a payload is refused (`Unreachable`: the SDK's
/// offline attachment queue cannot carry the payload), while a captioned file without
/// one is queued and arrives with its caption once the server is back.
#[test]
fn offline_a_payload_is_refused_and_a_caption_is_queued() {
    let mut hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let pdf = dirs.path().join("Angebot.pdf");
    std::fs::write(&pdf, b"%PDF-1.7\n%%EOF\n").unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let mut ben_rx = ben.subscribe();

        hs.stop();
        let payload = Some((QUOTE_KEY, json!({ "number": "A-1" })));
        let err = anna
            .send_file_with(
                &room,
                &pdf,
                None,
                Some(CAPTION),
                payload,
                &Default::default(),
            )
            .await
            .unwrap_err();
        assert!(matches!(err, kontor_core::Error::Unreachable(_)), "{err:?}");
        assert!(anna.outbox().await.unwrap().is_empty(), "nothing queued");
        let queued = anna
            .send_file_with(&room, &pdf, None, Some(CAPTION), None, &Default::default())
            .await
            .expect("queued offline");

        hs.restart().expect("restart synapse");
        anna.start_sync();
        ben.start_sync();
        anna.wait_sent(&room, &queued.transaction_id, Duration::from_secs(90))
            .await
            .unwrap();
        let got = next_file(&mut ben_rx, "the queued file").await;
        let MessageBody::File {
            name,
            caption,
            extra,
            ..
        } = got.body
        else {
            unreachable!()
        };
        assert_eq!(name, "Angebot.pdf");
        assert_eq!(caption.as_deref(), Some(CAPTION));
        assert_eq!(extra, None);
    });
}
