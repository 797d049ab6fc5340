//! Reading chats: the chat list, history page by page, and read receipts.

use std::{sync::Arc, time::Duration};

use kontor_core::{ChatSummary, Kontor, MessageBody, SendState};
use kontor_testkit::Synapse;

use crate::common::*;

/// Sends `texts` from `k` through its outbox, in order, and waits until the last is on
/// the server (the send queue delivers one after the other). Returns the event ids.
async fn send_all(k: &Arc<Kontor>, room: &str, texts: &[String]) -> Vec<String> {
    let mut txns = Vec::new();
    for t in texts {
        txns.push(k.send_text(room, t).await.expect("queue"));
    }
    let mut ids = Vec::new();
    for txn in txns {
        match k
            .wait_sent(room, &txn, Duration::from_secs(120))
            .await
            .expect("wait_sent")
        {
            SendState::Sent { event_id } => ids.push(event_id),
            other => panic!("not sent: {other:?}"),
        }
    }
    ids
}

async fn chat(k: &Arc<Kontor>, room: &str) -> ChatSummary {
    k.chats()
        .await
        .expect("chats")
        .into_iter()
        .find(|c| c.room_id == room)
        .expect("the chat is listed")
}

#[test]
fn pages_back_through_the_whole_history_once_and_in_order() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let texts: Vec<String> = (0..120).map(|i| format!("m{i:03}")).collect();
        send_all(&ben, &room, &texts).await;

        // anna needs ben's room keys (two sessions: they rotate after 100 messages).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let mut pages;
        loop {
            anna.sync_once().await.expect("anna sync");
            pages = Vec::new();
            let mut before = None;
            loop {
                let page = anna
                    .messages_page(&room, before.as_ref(), 25)
                    .await
                    .expect("page");
                assert!(!page.offline);
                assert!(page.messages.len() <= 25, "{}", page.messages.len());
                before = page.older.clone();
                pages.push(page);
                assert!(pages.len() <= 10, "paging does not end");
                if before.is_none() {
                    break;
                }
            }
            let undecrypted = pages
                .iter()
                .flat_map(|p| &p.messages)
                .any(|m| m.body == MessageBody::Undecryptable);
            if !undecrypted {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "keys never arrived");
            tokio::time::sleep(Duration::from_millis(300)).await;
        }

        // Newest page first; each page oldest-first; 25 + 25 + 25 + 25 + 20.
        let sizes: Vec<usize> = pages.iter().map(|p| p.messages.len()).collect();
        assert_eq!(sizes, [25, 25, 25, 25, 20]);
        let got: Vec<String> = pages
            .iter()
            .rev()
            .flat_map(|p| &p.messages)
            .map(|m| text(m).to_owned())
            .collect();
        assert_eq!(got, texts, "every message exactly once, in order");
        assert!(pages.iter().flat_map(|p| &p.messages).all(|m| !m.own));

        // `messages` is the newest page.
        let last = anna.messages(&room, 10).await.expect("messages");
        let last: Vec<&str> = last.iter().map(text).collect();
        assert_eq!(
            last,
            texts[110..].iter().map(String::as_str).collect::<Vec<_>>()
        );

        // A token only continues its own chat.
        let other = anna
            .open_dm(&hs.register_unique("carl").unwrap().user_id)
            .await;
        let other = other.expect("second chat");
        let token = anna
            .messages_page(&room, None, 5)
            .await
            .unwrap()
            .older
            .expect("more history");
        assert!(matches!(
            anna.messages_page(&other, Some(&token), 5).await,
            Err(kontor_core::Error::ForeignPageToken(_))
        ));
    });
}

#[test]
fn mark_read_clears_the_unread_count_for_good_and_the_sender_sees_it() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let adir = dirs.path().join("a");
    run(async {
        let anna = login(&hs, &a, &adir).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let texts: Vec<String> = (1..=3).map(|i| format!("Frage {i}")).collect();
        let ids = send_all(&ben, &room, &texts).await;
        let newest = ids.last().unwrap().clone();

        // The list shows the chat with ben, his newest message and three unread.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        let summary = loop {
            anna.sync_once().await.expect("anna sync");
            let c = chat(&anna, &room).await;
            if c.unread == 3
                && c.last.as_ref().and_then(|m| m.event_id.clone()) == Some(newest.clone())
            {
                break c;
            }
            assert!(tokio::time::Instant::now() < deadline, "list: {c:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(summary.peer.as_deref(), Some(ben.user_id().as_str()));
        assert_eq!(text(summary.last.as_ref().unwrap()), "Frage 3");
        assert!(
            !format!("{summary:?}").contains("Frage"),
            "Debug leaves out the preview"
        );

        // Reading it: 0 at once (no background sync: mark_read syncs itself).
        anna.mark_read(&room, &newest).await.expect("mark_read");
        assert_eq!(chat(&anna, &room).await.unread, 0);

        // ben sees that anna read up to his newest message.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            ben.sync_once().await.expect("ben sync");
            let c = chat(&ben, &room).await;
            if c.peer_read_up_to.as_deref() == Some(newest.as_str()) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "receipt: {c:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }

        // Still 0 after a restart, before and after the first sync.
        anna.shutdown().await;
        drop(anna);
        tokio::time::sleep(Duration::from_millis(300)).await;
        let anna = restore(&adir).await;
        assert_eq!(chat(&anna, &room).await.unread, 0, "from the store");
        anna.sync_once().await.expect("sync after restore");
        assert_eq!(chat(&anna, &room).await.unread, 0, "after a sync");

        // With the background sync running: a new message counts, reading clears it.
        anna.start_sync();
        let id = send_all(&ben, &room, &["Noch eine Frage".to_owned()]).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while chat(&anna, &room).await.unread != 1 {
            assert!(tokio::time::Instant::now() < deadline, "never counted");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        anna.mark_read(&room, &id[0]).await.expect("mark_read");
        assert_eq!(chat(&anna, &room).await.unread, 0);
    });
}

#[test]
fn a_message_far_back_opens_with_its_context_and_pages_both_ways() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let texts: Vec<String> = (0..60).map(|i| format!("m{i:03}")).collect();
        let ids = send_all(&ben, &room, &texts).await;

        // The window around m030: the message itself, up to 10 on each side, in order.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let around = loop {
            anna.sync_once().await.expect("sync");
            let page = anna
                .messages_around(&room, &ids[30], 10)
                .await
                .expect("around");
            if page
                .messages
                .iter()
                .all(|m| m.body != MessageBody::Undecryptable)
                || tokio::time::Instant::now() > deadline
            {
                break page;
            }
        };
        let got: Vec<&str> = around.messages.iter().map(text).collect();
        let want: Vec<String> = (20..=40).map(|i| format!("m{i:03}")).collect();
        assert_eq!(got, want, "ten before, the message, ten after");
        assert!(around.older.is_some() && around.newer.is_some());

        // Forward from the window to the newest message, then no more.
        let mut newer = around.newer.clone();
        let mut forward = Vec::new();
        while let Some(token) = newer {
            let page = anna.messages_newer(&room, &token, 8).await.expect("newer");
            forward.extend(page.messages.iter().map(|m| text(m).to_owned()));
            newer = page.newer;
            assert!(forward.len() <= 60, "forward paging does not end");
        }
        let want: Vec<String> = (41..60).map(|i| format!("m{i:03}")).collect();
        assert_eq!(forward, want);

        // Backward from the window reaches the beginning.
        let older = anna
            .messages_page(&room, around.older.as_ref(), 100)
            .await
            .expect("older");
        let want: Vec<String> = (0..20).map(|i| format!("m{i:03}")).collect();
        let got: Vec<String> = older.messages.iter().map(|m| text(m).to_owned()).collect();
        assert_eq!(got, want);
        assert!(older.older.is_none());

        // An id the room does not have is no message.
        assert!(matches!(
            anna.messages_around(&room, "$nope:localhost", 10).await,
            Err(kontor_core::Error::EventNotFound(_))
        ));
    });
}

#[test]
fn edits_carry_their_new_wording_and_redactions_are_announced() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let ids = send_all(&ben, &room, &["Termin Dienstag".into(), "weg damit".into()]).await;
        let mut events = anna.subscribe();
        let sdk_room = ben
            .sdk_client()
            .get_room(&matrix_sdk::ruma::RoomId::parse(&room).unwrap())
            .unwrap();
        sdk_room
            .send_raw(
                "m.room.message",
                serde_json::json!({
                    "msgtype": "m.text",
                    "body": "* Termin Mittwoch",
                    "m.new_content": { "msgtype": "m.text", "body": "Termin Mittwoch" },
                    "m.relates_to": { "rel_type": "m.replace", "event_id": ids[0] },
                }),
            )
            .await
            .expect("edit");
        sdk_room
            .redact(
                &matrix_sdk::ruma::EventId::parse(&ids[1]).unwrap(),
                None,
                None,
            )
            .await
            .expect("redact");

        // Live: the edit names its original and brings the new wording; the
        // redaction names the event.
        let (mut edit, mut redacted) = (None, None);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while (edit.is_none() || redacted.is_none()) && tokio::time::Instant::now() < deadline {
            anna.sync_once().await.expect("sync");
            while let Ok(ev) = events.try_recv() {
                match ev {
                    kontor_core::CoreEvent::MessageReceived(m) if m.replaces.is_some() => {
                        edit = Some(m)
                    }
                    kontor_core::CoreEvent::Redacted { event_id, .. } => redacted = Some(event_id),
                    _ => {}
                }
            }
        }
        let edit = edit.expect("the edit arrives");
        assert_eq!(edit.replaces.as_deref(), Some(ids[0].as_str()));
        assert_eq!(
            text(&edit),
            "Termin Mittwoch",
            "the new content, not the fallback"
        );
        assert_eq!(redacted.as_deref(), Some(ids[1].as_str()));

        // In history too: the edit reads the same; the redacted message is gone.
        let page = anna.messages_page(&room, None, 20).await.expect("page");
        let in_history = page
            .messages
            .iter()
            .find(|m| m.replaces.is_some())
            .expect("the edit in history");
        assert_eq!(text(in_history), "Termin Mittwoch");
        assert!(page.messages.iter().all(|m| text(m) != "weg damit"));
    });
}
