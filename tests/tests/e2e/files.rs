//! Attachments round-trip byte-identical, and the server only ever holds ciphertext.

use std::time::Duration;

use kontor_core::{CoreEvent, MessageBody, SendState};
use kontor_testkit::Synapse;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::common::*;

const MARKER: &[u8] = b"KONTOR-PLAINTEXT-MARKER-7f3a9c";
const TEXT_MARKER: &str = "GEHEIMES-ANGEBOT-4711";

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn five_mb_quote_round_trips_and_the_server_sees_only_ciphertext() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let mut data = vec![0u8; 5 * 1024 * 1024];
    rand::thread_rng().fill_bytes(&mut data);
    for off in [0, 1_000_000, 4_000_000] {
        data[off..off + MARKER.len()].copy_from_slice(MARKER);
    }
    let src = dirs.path().join("Angebot-2026-11.pdf");
    std::fs::write(&src, &data).unwrap();

    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let mut ben_rx = ben.subscribe();
        anna.start_sync();
        ben.start_sync();

        let txt = anna.send_text(&room, TEXT_MARKER).await.unwrap();
        anna.wait_sent(&room, &txt, Duration::from_secs(20))
            .await
            .unwrap();
        let sent = anna.send_file(&room, &src, None).await.unwrap();
        assert_eq!(sent.size, data.len() as u64);
        assert_eq!(sent.sha256, hex::encode(Sha256::digest(&data)));
        let state = anna
            .wait_sent(&room, &sent.transaction_id, Duration::from_secs(30))
            .await
            .unwrap();
        assert!(matches!(state, SendState::Sent { .. }), "{state:?}");

        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let (event_id, name, mime, size) = loop {
            if let Ok(CoreEvent::MessageReceived(m)) =
                tokio::time::timeout_at(deadline, ben_rx.recv())
                    .await
                    .expect("file never arrived")
                && let MessageBody::File {
                    name,
                    mime,
                    size,
                    encrypted,
                    ..
                } = m.body
            {
                assert!(encrypted, "the file itself must be encrypted");
                break (m.event_id.unwrap(), name, mime, size);
            }
        };
        assert_eq!(name, "Angebot-2026-11.pdf");
        assert_eq!(mime.as_deref(), Some("application/pdf"));
        assert_eq!(size, Some(data.len() as u64));

        let out = dirs.path().join("received.pdf");
        let got = ben.download(&event_id, &out).await.unwrap();
        assert_eq!(got.sha256, sent.sha256);
        assert!(
            std::fs::read(&out).unwrap() == data,
            "downloaded file differs"
        );

        // Not a file: a clear error, and nothing written.
        let txt_event = match anna
            .wait_sent(&room, &txt, Duration::from_secs(1))
            .await
            .unwrap()
        {
            SendState::Sent { event_id } => event_id,
            s => panic!("{s:?}"),
        };
        let not_file = dirs.path().join("nope");
        let err = ben.download(&txt_event, &not_file).await.unwrap_err();
        assert!(matches!(err, kontor_core::Error::NotAFile(_)), "{err:?}");
        assert!(!not_file.exists());
    });

    // What the server stored: for the chat, message events are only m.room.encrypted …
    let db = rusqlite::Connection::open(hs.database()).unwrap();
    let mut stmt = db
        .prepare("SELECT DISTINCT type FROM events WHERE state_key IS NULL")
        .unwrap();
    let types: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(types.contains(&"m.room.encrypted".to_owned()), "{types:?}");
    assert!(
        !types.iter().any(|t| t == "m.room.message"),
        "plaintext message events on the server: {types:?}"
    );
    drop(stmt);
    drop(db);
    // … no file of the server's database holds the text …
    for f in files_under(hs.dir()) {
        if f.extension().is_some_and(|e| e == "log") {
            continue;
        }
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !contains(&bytes, TEXT_MARKER.as_bytes()),
            "message text found in {}",
            f.display()
        );
    }
    // … and the media store holds no plaintext of the file.
    let media = files_under(&hs.media_store());
    assert!(!media.is_empty(), "the upload should be in the media store");
    for f in media {
        let bytes = std::fs::read(&f).unwrap();
        assert!(
            !contains(&bytes, MARKER),
            "plaintext marker found in {}",
            f.display()
        );
    }
}

/// A file the server refuses (here: the session was revoked) is a clear refusal, not an
/// outage: it must not land in the offline queue.
#[test]
fn a_refused_upload_is_an_error_and_not_queued() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let src = dirs.path().join("Angebot.pdf");
    std::fs::write(&src, vec![0x5au8; 2 << 20]).unwrap();
    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let token = anna.sdk_client().access_token().unwrap();
        let base = hs.base_url.clone();
        tokio::task::spawn_blocking(move || {
            ureq::post(&format!("{base}/_matrix/client/v3/logout"))
                .set("Authorization", &format!("Bearer {token}"))
                .send_json(serde_json::json!({}))
                .expect("revoke the session")
        })
        .await
        .unwrap();
        let err = anna.send_file(&room, &src, None).await.unwrap_err();
        assert!(
            matches!(err, kontor_core::Error::Refused(_)),
            "expected a refusal, got {err:?}"
        );
        assert!(anna.outbox().await.unwrap().is_empty());
    });
}

/// Cancel after the first progress report of a 40 MB upload: `send_file_cancellable`
/// returns `Cancelled`, nothing is left in the outbox, ben's room never gets a file event,
/// and the next message still goes through.
#[test]
fn cancelling_an_upload_in_flight_sends_no_file_and_later_messages_flow() {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let mut data = vec![0u8; 40 * 1024 * 1024];
    rand::thread_rng().fill_bytes(&mut data);
    let src = dirs.path().join("Angebot-gross.pdf");
    std::fs::write(&src, &data).unwrap();
    drop(data);

    run(async {
        let anna = login(&hs, &a, &dirs.path().join("a")).await;
        let ben = login(&hs, &b, &dirs.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let mut ben_rx = ben.subscribe();
        let mut anna_rx = anna.subscribe();
        anna.start_sync();
        ben.start_sync();

        let cancel = kontor_core::CancellationToken::new();
        let sending = {
            let (anna, room, src, cancel) =
                (anna.clone(), room.clone(), src.clone(), cancel.clone());
            tokio::spawn(
                async move { anna.send_file_cancellable(&room, &src, None, &cancel).await },
            )
        };
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, anna_rx.recv())
                .await
                .expect("no progress report")
            {
                Ok(CoreEvent::Transfer { done, total, .. }) => {
                    assert!(done < total, "the upload must still be running");
                    cancel.cancel();
                    break;
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
        let result = sending.await.expect("send task");
        assert!(
            matches!(result, Err(kontor_core::Error::Cancelled)),
            "{result:?}"
        );
        assert!(anna.outbox().await.unwrap().is_empty(), "nothing queued");

        let txt = anna.send_text(&room, "Nach dem Abbruch").await.unwrap();
        anna.wait_sent(&room, &txt, Duration::from_secs(20))
            .await
            .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            match tokio::time::timeout_at(deadline, ben_rx.recv())
                .await
                .expect("the later message never arrived")
            {
                Ok(CoreEvent::MessageReceived(m)) => {
                    assert!(
                        !matches!(m.body, MessageBody::File { .. }),
                        "a file event reached ben: {m:?}"
                    );
                    if matches!(&m.body, MessageBody::Text { text, .. } if text == "Nach dem Abbruch")
                    {
                        break;
                    }
                }
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(e) => panic!("event stream: {e}"),
            }
        }
        // Nor is one in the room's history (a late event would sort before the text).
        tokio::time::sleep(Duration::from_secs(1)).await;
        let history = ben.messages(&room, 50).await.unwrap();
        assert!(
            history
                .iter()
                .all(|m| !matches!(m.body, MessageBody::File { .. })),
            "{history:?}"
        );
        assert!(history.iter().any(|m| m.event_id.is_some() && !m.own));
    });
}
