//! The outbox: messages written while the homeserver is down arrive once, in order.

use std::time::Duration;

use kontor_core::SendState;
use kontor_testkit::Synapse;

use crate::common::*;

const TEXTS: [&str; 3] = [
    "eins: Termin am Montag",
    "zwei: Angebot folgt",
    "drei: Rechnung anbei",
];

type Rx = tokio::sync::broadcast::Receiver<kontor_core::CoreEvent>;

/// Anna and Ben in an encrypted chat, with a first "hallo" delivered so the room keys are
/// shared while the server is up. Their profiles are `dir/a` and `dir/b`. Ben syncs in the
/// background; Anna only if `anna_syncs`.
async fn connected(
    hs: &Synapse,
    a: &kontor_testkit::TestUser,
    b: &kontor_testkit::TestUser,
    dir: &std::path::Path,
    anna_syncs: bool,
) -> (
    std::sync::Arc<kontor_core::Kontor>,
    std::sync::Arc<kontor_core::Kontor>,
    String,
    Rx,
) {
    let anna = login(hs, a, &dir.join("a")).await;
    let ben = login(hs, b, &dir.join("b")).await;
    let room = dm(&anna, &ben).await;
    anna.send_text(&room, "hallo").await.unwrap();
    let mut ben_rx = ben.subscribe();
    if anna_syncs {
        anna.start_sync();
    }
    ben.start_sync();
    wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(20)).await;
    (anna, ben, room, ben_rx)
}

/// Waits for the three texts, then makes sure nothing arrives twice.
async fn assert_delivered_once_in_order(
    ben: &std::sync::Arc<kontor_core::Kontor>,
    rx: &mut tokio::sync::broadcast::Receiver<kontor_core::CoreEvent>,
    room: &str,
) {
    let got = wait_texts(ben, rx, 3, Duration::from_secs(60)).await;
    let texts: Vec<_> = got.iter().map(text).collect();
    assert_eq!(texts, TEXTS);
    // Anything sent twice would show up within a few sync rounds.
    let dup = tokio::time::timeout(
        Duration::from_secs(3),
        wait_texts(ben, rx, 1, Duration::from_secs(30)),
    )
    .await;
    assert!(dup.is_err(), "an extra message arrived: {dup:?}");
    let hist = ben.messages(room, 50).await.unwrap();
    for t in TEXTS {
        let n = hist
            .iter()
            .filter(|m| matches!(&m.body, kontor_core::MessageBody::Text { text, .. } if text == t))
            .count();
        assert_eq!(n, 1, "{t:?} is in the history {n} times");
    }
}

#[test]
fn messages_queued_while_server_is_down_arrive_once_in_order() {
    let mut hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let (anna, ben, room, mut ben_rx) = connected(&hs, &a, &b, dirs.path(), true).await;

        hs.stop();
        // History still opens from the local (encrypted) cache while the server is down,
        // and the pending messages show up in it as pending.
        let cached = ben
            .messages(&room, 50)
            .await
            .expect("cached history offline");
        assert!(
            cached.iter().any(
                |m| matches!(&m.body, kontor_core::MessageBody::Text { text, .. } if text == "hallo")
            ),
            "{cached:?}"
        );
        let mut txns = Vec::new();
        for t in TEXTS {
            txns.push(
                anna.send_text(&room, t)
                    .await
                    .expect("queueing works offline"),
            );
        }
        let state = anna
            .wait_sent(&room, &txns[0], Duration::from_secs(3))
            .await
            .unwrap();
        assert_eq!(
            state,
            SendState::Pending,
            "nothing can be sent while the server is down"
        );
        let outbox = anna.outbox().await.unwrap();
        assert_eq!(outbox.len(), 3, "{outbox:?}");
        let shown = anna.messages(&room, 50).await.expect("history offline");
        let pending: Vec<_> = shown
            .iter()
            .filter(|m| m.state == SendState::Pending)
            .map(text)
            .collect();
        assert_eq!(pending, TEXTS, "{shown:?}");

        hs.restart().expect("restart synapse");
        for txn in &txns {
            let s = anna
                .wait_sent(&room, txn, Duration::from_secs(60))
                .await
                .unwrap();
            assert!(matches!(s, SendState::Sent { .. }), "{s:?}");
        }
        assert_delivered_once_in_order(&ben, &mut ben_rx, &room).await;
        assert!(anna.outbox().await.unwrap().is_empty());
    });
}

#[test]
fn queued_messages_survive_a_client_restart() {
    let mut hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let adir = dirs.path().join("a");
    run(async {
        let (anna, ben, room, mut ben_rx) = connected(&hs, &a, &b, dirs.path(), false).await;

        hs.stop();
        for t in TEXTS {
            anna.send_text(&room, t)
                .await
                .expect("queueing works offline");
        }
        // Give the queue time to fail and pause, then quit the app.
        tokio::time::sleep(Duration::from_secs(1)).await;
        anna.stop_sync();
        drop(anna);
        tokio::time::sleep(Duration::from_millis(500)).await;

        hs.restart().expect("restart synapse");
        let anna = restore(&adir).await;
        assert_eq!(
            anna.outbox().await.unwrap().len(),
            3,
            "the outbox was persisted"
        );
        anna.start_sync();
        assert_delivered_once_in_order(&ben, &mut ben_rx, &room).await;
    });
}

#[test]
fn a_failed_message_can_be_cancelled() {
    let mut hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    run(async {
        let (anna, ben, room, mut ben_rx) = connected(&hs, &a, &b, dirs.path(), false).await;
        hs.stop();
        let keep = anna.send_text(&room, "bleibt").await.unwrap();
        let drop_it = anna.send_text(&room, "zurückgezogen").await.unwrap();
        assert!(
            anna.cancel(&drop_it).await.unwrap(),
            "still queued, so cancellable"
        );
        let outbox: Vec<_> = anna
            .outbox()
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.transaction_id)
            .collect();
        assert_eq!(outbox, std::slice::from_ref(&keep));
        hs.restart().unwrap();
        anna.start_sync();
        let s = anna
            .wait_sent(&room, &keep, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(matches!(s, SendState::Sent { .. }), "{s:?}");
        let got = wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(30)).await;
        assert_eq!(text(&got[0]), "bleibt");
        let late = tokio::time::timeout(
            Duration::from_secs(3),
            wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(30)),
        )
        .await;
        assert!(late.is_err(), "the cancelled message must never arrive");
    });
}

#[test]
fn a_quote_sent_offline_is_queued_and_arrives_before_the_next_text() {
    let mut hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let quote: Vec<u8> = (0..200_000u32).flat_map(|i| i.to_le_bytes()).collect();
    let src = dirs.path().join("Angebot-offline.pdf");
    std::fs::write(&src, &quote).unwrap();
    run(async {
        let (anna, ben, room, mut ben_rx) = connected(&hs, &a, &b, dirs.path(), true).await;

        hs.stop();
        let sent = anna
            .send_file(&room, &src, Some("application/pdf"))
            .await
            .expect("a quote is queued while offline");
        assert_eq!(sent.size, quote.len() as u64);
        let after = anna.send_text(&room, "Angebot anbei").await.unwrap();
        let outbox = anna.outbox().await.unwrap();
        assert_eq!(outbox.len(), 2, "{outbox:?}");
        assert!(
            outbox
                .iter()
                .any(|e| matches!(&e.body, kontor_core::MessageBody::File { name, .. } if name == "Angebot-offline.pdf")),
            "{outbox:?}"
        );

        hs.restart().expect("restart synapse");
        for txn in [&sent.transaction_id, &after] {
            let s = anna
                .wait_sent(&room, txn, Duration::from_secs(90))
                .await
                .unwrap();
            assert!(matches!(s, SendState::Sent { .. }), "{s:?}");
        }
        // Ben gets the file first, then the text.
        let mut got = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        while got.len() < 2 {
            if let Ok(kontor_core::CoreEvent::MessageReceived(m)) =
                tokio::time::timeout_at(deadline, ben_rx.recv())
                    .await
                    .expect("queued quote and text never arrived")
                && !m.own
            {
                got.push(m);
            }
        }
        let kontor_core::MessageBody::File {
            name, encrypted, ..
        } = &got[0].body
        else {
            panic!("expected the file first: {got:?}");
        };
        assert_eq!(name, "Angebot-offline.pdf");
        assert!(encrypted);
        assert_eq!(text(&got[1]), "Angebot anbei");
        let out = dirs.path().join("received.pdf");
        ben.download(got[0].event_id.as_deref().unwrap(), &out)
            .await
            .expect("download the queued quote");
        assert_eq!(std::fs::read(&out).unwrap(), quote);
    });
}

/// A quote queued while offline is taken back before the server returns: the outbox is
/// empty, a token cancelled before sending stops at once, and once the server is back ben
/// gets the next text but never the file.
#[test]
fn a_quote_queued_offline_can_be_cancelled() {
    let mut hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let src = dirs.path().join("Angebot-zurueck.pdf");
    std::fs::write(&src, vec![3u8; 150_000]).unwrap();
    run(async {
        let (anna, _ben, room, mut ben_rx) = connected(&hs, &a, &b, dirs.path(), true).await;

        hs.stop();
        let sent = anna
            .send_file(&room, &src, None)
            .await
            .expect("queued while offline");
        assert_eq!(anna.outbox().await.unwrap().len(), 1);
        assert!(
            anna.cancel(&sent.transaction_id).await.unwrap(),
            "still queued, so cancellable"
        );
        assert!(anna.outbox().await.unwrap().is_empty(), "taken out");
        let cancelled = kontor_core::CancellationToken::new();
        cancelled.cancel();
        let r = anna
            .send_file_cancellable(&room, &src, None, &cancelled)
            .await;
        assert!(matches!(r, Err(kontor_core::Error::Cancelled)), "{r:?}");
        assert!(anna.outbox().await.unwrap().is_empty());

        hs.restart().expect("restart synapse");
        let after = anna.send_text(&room, "doch kein Angebot").await.unwrap();
        let s = anna
            .wait_sent(&room, &after, Duration::from_secs(90))
            .await
            .unwrap();
        assert!(matches!(s, SendState::Sent { .. }), "{s:?}");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(kontor_core::CoreEvent::MessageReceived(m)) =
                tokio::time::timeout_at(deadline, ben_rx.recv())
                    .await
                    .expect("the text never arrived")
                && !m.own
            {
                assert!(
                    !matches!(m.body, kontor_core::MessageBody::File { .. }),
                    "the cancelled quote arrived: {m:?}"
                );
                if text(&m) == "doch kein Angebot" {
                    break;
                }
            }
        }
    });
}
