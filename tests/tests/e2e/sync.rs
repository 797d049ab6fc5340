//! Syncing: simplified sliding sync against Synapse's native MSC4186, the classic
//! `/sync` fallback for a homeserver without it, the move from one to the other, and how
//! Kontor behaves when the homeserver rate-limits or fails (429, 503).
//!
//! The homeserver "without sliding sync" and the misbehaving one are the real Synapse
//! behind kontor-testkit's proxy, which answers the chosen requests the way such servers
//! do ([`Fault`]); everything else reaches Synapse.

use std::{sync::Arc, time::Duration};

use kontor_core::{CoreEvent, Kontor, Profile, SendState, SyncMode};
use kontor_testkit::{Fault, RecordingProxy, Synapse};
use serde_json::{Value, json};

use crate::common::*;

const SLIDING_PATH: &str = "/org.matrix.simplified_msc3575/sync";
const UNRECOGNIZED: &str = r#"{"errcode":"M_UNRECOGNIZED","error":"Unrecognized request"}"#;

async fn login_at(
    url: &str,
    user: &kontor_testkit::TestUser,
    dir: &std::path::Path,
) -> Arc<Kontor> {
    let profile = Profile::open_with(dir, PASS, FAST).expect("profile");
    Kontor::login(profile, url, &user.localpart, &user.password)
        .await
        .expect("login")
}

fn joined_ids(k: &Kontor) -> std::collections::BTreeSet<String> {
    k.sdk_client()
        .joined_rooms()
        .iter()
        .map(|r| r.room_id().to_string())
        .collect()
}

/// Anna behind the proxy and Ben directly, in a DM, both syncing in the background, with
/// Ben's `first` message delivered to Anna.
struct Pair {
    proxy: RecordingProxy,
    _dir: tempfile::TempDir,
    anna: Arc<Kontor>,
    ben: Arc<Kontor>,
    room: String,
    anna_rx: tokio::sync::broadcast::Receiver<CoreEvent>,
    ben_rx: tokio::sync::broadcast::Receiver<CoreEvent>,
}

async fn pair_behind_proxy(hs: &Synapse, first: &str) -> Pair {
    let proxy = RecordingProxy::start(&hs.base_url).expect("proxy");
    let dir = tempfile::tempdir().unwrap();
    let (a, b) = (
        hs.register_unique("anna").unwrap(),
        hs.register_unique("ben").unwrap(),
    );
    let anna = login_at(&proxy.url(), &a, &dir.path().join("a")).await;
    let ben = login(hs, &b, &dir.path().join("b")).await;
    let room = dm(&anna, &ben).await;
    let mut anna_rx = anna.subscribe();
    let ben_rx = ben.subscribe();
    ben.start_sync();
    anna.start_sync();
    ben.send_text(&room, first).await.unwrap();
    wait_texts(&anna, &mut anna_rx, 1, Duration::from_secs(30)).await;
    Pair {
        proxy,
        _dir: dir,
        anna,
        ben,
        room,
        anna_rx,
        ben_rx,
    }
}

/// Waits until a request met an injected fault: the long poll already on its way when
/// the fault was injected ends first (at most 15 s).
async fn until_a_fault_was_met(proxy: &RecordingProxy) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
    while !proxy.recorded().iter().any(|r| r.injected) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no request met the fault"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[test]
fn a_new_device_gets_the_most_recent_chats_first_then_every_chat() {
    run(async {
        let hs = Synapse::start().expect("synapse");
        let dir = tempfile::tempdir().unwrap();
        let a = hs.register_unique("anna").unwrap();
        let anna = login(&hs, &a, &dir.path().join("a")).await;
        assert_eq!(anna.sync_mode(), SyncMode::Sliding);
        // 45 chats, created oldest first: the creation is each chat's latest activity.
        let mut rooms = Vec::new();
        for i in 0..45 {
            let c = hs.register_unique(&format!("kunde{i}")).unwrap();
            rooms.push(anna.open_dm(&c.user_id).await.expect("open_dm"));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // A new device: its login asks for the most recent chats only, a window of 20
        // per round trip (login's sync is two round trips: the 40 newest), and
        // sync_all brings the rest.
        let second = login(&hs, &a, &dir.path().join("a2")).await;
        assert_eq!(second.sync_mode(), SyncMode::Sliding);
        let window: std::collections::BTreeSet<String> = rooms
            [45 - 2 * kontor_core::FIRST_WINDOW as usize..]
            .iter()
            .cloned()
            .collect();
        assert_eq!(joined_ids(&second), window, "the newest chats first");
        let mut rx = second.subscribe();
        second.sync_all().await.expect("sync_all");
        let all: std::collections::BTreeSet<String> = rooms.iter().cloned().collect();
        assert_eq!(joined_ids(&second), all);
        let mut changed = 0;
        while let Ok(ev) = rx.try_recv() {
            if matches!(ev, CoreEvent::ChatsChanged) {
                changed += 1;
            }
        }
        assert!(changed >= 1, "the list grew: ChatsChanged");
        // The chat list reads the store: all 45 are listed, newest first.
        let chats = second.chats().await.unwrap();
        assert_eq!(chats.len(), 45);
        assert_eq!(chats[0].room_id, rooms[44]);
    });
}

#[test]
fn a_restart_continues_where_the_last_sync_stopped() {
    run(async {
        let hs = Synapse::start().expect("synapse");
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            hs.register_unique("anna").unwrap(),
            hs.register_unique("ben").unwrap(),
        );
        let anna = login(&hs, &a, &dir.path().join("a")).await;
        let ben = login(&hs, &b, &dir.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let mut rx = anna.subscribe();
        anna.start_sync();
        ben.send_text(&room, "vor dem Neustart").await.unwrap();
        wait_texts(&anna, &mut rx, 1, Duration::from_secs(30)).await;
        anna.shutdown().await;
        drop(rx);
        drop(anna);

        // The position is kept in the store: the next start gets only what is new, so a
        // message already seen is not announced again (no second notice).
        let anna = restore(&dir.path().join("a")).await;
        let mut rx = anna.subscribe();
        anna.sync_once().await.expect("sync");
        assert_eq!(anna.sync_mode(), SyncMode::Sliding);
        while let Ok(ev) = rx.try_recv() {
            if let CoreEvent::MessageReceived(m) = ev {
                panic!("announced again after the restart: {:?}", m.event_id);
            }
        }
        anna.start_sync();
        ben.send_text(&room, "nach dem Neustart").await.unwrap();
        let got = wait_texts(&anna, &mut rx, 1, Duration::from_secs(30)).await;
        assert_eq!(text(&got[0]), "nach dem Neustart");
    });
}

#[test]
fn an_expired_connection_starts_over_without_announcing_anything_twice() {
    run(async {
        let hs = Synapse::start().expect("synapse");
        let Pair {
            proxy,
            anna,
            ben,
            room,
            anna_rx: mut rx,
            ..
        } = pair_behind_proxy(&hs, "vor dem Ablauf").await;

        // The server forgets the connection (as after a long absence): the next request
        // starts a new one, whose answer repeats the chat's latest events.
        proxy.inject(
            Fault::new(
                SLIDING_PATH,
                400,
                r#"{"errcode":"M_UNKNOWN_POS","error":"Unknown position"}"#,
            )
            .times(1),
        );
        until_a_fault_was_met(&proxy).await;
        ben.send_text(&room, "nach dem Ablauf").await.unwrap();
        let got = wait_texts(&anna, &mut rx, 1, Duration::from_secs(30)).await;
        assert_eq!(
            text(&got[0]),
            "nach dem Ablauf",
            "the old message came again"
        );
        let again = tokio::time::timeout(
            Duration::from_secs(3),
            wait_texts(&anna, &mut rx, 1, Duration::from_secs(30)),
        )
        .await;
        assert!(again.is_err(), "announced twice: {again:?}");
        // The new connection really started over (no position).
        let log = proxy.recorded();
        let expired_at = log.iter().find(|r| r.injected).expect("the expiry").at;
        let restarted = log.iter().any(|r| {
            r.path.contains(SLIDING_PATH)
                && !r.injected
                && r.at > expired_at
                && !r.path.contains("pos=")
        });
        assert!(
            restarted,
            "a request without a position followed the expiry"
        );
    });
}

#[test]
fn without_sliding_sync_the_classic_fallback_carries_everything_and_the_move_back_works() {
    run(async {
        let hs = Synapse::start().expect("synapse");
        // A homeserver that does not know the endpoint, as older ones answer.
        let proxy = RecordingProxy::start(&hs.base_url).expect("proxy");
        proxy.inject(Fault::new(SLIDING_PATH, 404, UNRECOGNIZED));
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (
            hs.register_unique("anna").unwrap(),
            hs.register_unique("ben").unwrap(),
        );
        let anna = login_at(&proxy.url(), &a, &dir.path().join("a")).await;
        assert_eq!(anna.sync_mode(), SyncMode::Classic);
        let ben = login(&hs, &b, &dir.path().join("b")).await;
        let room = dm(&anna, &ben).await;
        let mut anna_rx = anna.subscribe();
        let mut ben_rx = ben.subscribe();
        anna.start_sync();
        ben.start_sync();
        ben.send_text(&room, "über classic sync").await.unwrap();
        let got = wait_texts(&anna, &mut anna_rx, 1, Duration::from_secs(30)).await;
        assert_eq!(text(&got[0]), "über classic sync");
        anna.send_text(&room, "zurück").await.unwrap();
        let got = wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(30)).await;
        assert_eq!(text(&got[0]), "zurück");
        // Tried once per session, then never again.
        let tried = proxy
            .recorded()
            .iter()
            .filter(|r| r.path.contains(SLIDING_PATH))
            .count();
        assert_eq!(tried, 1, "sliding sync is tried once, then classic /sync");
        assert!(
            proxy
                .recorded()
                .iter()
                .any(|r| r.path.starts_with("/_matrix/client/v3/sync") && r.status == 200),
            "classic /sync carried the session"
        );
        anna.shutdown().await;
        drop(anna_rx);
        drop(anna);

        // The homeserver gains sliding sync. The store classic /sync left is taken over:
        // to-device messages keep flowing (a new peer's room key arrives by to-device).
        proxy.clear_faults();
        let anna = restore(&dir.path().join("a")).await;
        let mut anna_rx = anna.subscribe();
        anna.start_sync();
        let c = hs.register_unique("cora").unwrap();
        let cora = login(&hs, &c, &dir.path().join("c")).await;
        let room2 = dm(&cora, &anna).await;
        assert_eq!(anna.sync_mode(), SyncMode::Sliding);
        cora.send_text(&room2, "neues Gerät, neuer Schlüssel")
            .await
            .unwrap();
        let got = wait_texts(&anna, &mut anna_rx, 1, Duration::from_secs(30)).await;
        assert_eq!(text(&got[0]), "neues Gerät, neuer Schlüssel");
        assert!(
            !proxy
                .recorded()
                .iter()
                .any(|r| r.path.contains(SLIDING_PATH) && r.status == 400),
            "no sliding-sync request was refused"
        );
    });
}

#[test]
fn rate_limits_are_waited_out_and_server_errors_retried_with_the_same_transaction() {
    run(async {
        let hs = Synapse::start().expect("synapse");
        let Pair {
            proxy,
            anna,
            ben,
            room,
            mut anna_rx,
            mut ben_rx,
            ..
        } = pair_behind_proxy(&hs, "eins").await;

        // 429 with Retry-After: 2 for the next six sync requests.
        let limited = json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests",
            "retry_after_ms": 2000})
        .to_string();
        proxy.inject(
            Fault::new(SLIDING_PATH, 429, &limited)
                .header("Retry-After", "2")
                .times(6),
        );
        until_a_fault_was_met(&proxy).await;
        ben.send_text(&room, "trotz Drosselung").await.unwrap();
        let got = wait_texts(&anna, &mut anna_rx, 1, Duration::from_secs(60)).await;
        assert_eq!(text(&got[0]), "trotz Drosselung");
        let hits: Vec<_> = proxy
            .recorded()
            .into_iter()
            .filter(|r| r.injected && r.status == 429)
            .collect();
        assert_eq!(
            hits.len(),
            6,
            "every 429 was used up before the message came"
        );
        for pair in hits.windows(2) {
            let gap = pair[1].at - pair[0].at;
            assert!(
                gap >= Duration::from_millis(1900),
                "retried after {gap:?}, before the server's Retry-After"
            );
        }

        // An overloaded worker: the first two attempts to send get 503. The message goes
        // out on a later attempt with the same transaction id, and arrives once.
        proxy.clear();
        proxy.inject(
            Fault::new(
                "/send/m.room.encrypted/",
                503,
                r#"{"errcode":"M_UNKNOWN","error":"overloaded"}"#,
            )
            .method("PUT")
            .times(2),
        );
        let txn = anna.send_text(&room, "nach 503").await.unwrap();
        let state = anna
            .wait_sent(&room, &txn, Duration::from_secs(60))
            .await
            .unwrap();
        assert!(matches!(state, SendState::Sent { .. }), "{state:?}");
        let sends: Vec<String> = proxy
            .recorded()
            .into_iter()
            .filter(|r| r.method == "PUT" && r.path.contains("/send/m.room.encrypted/"))
            .map(|r| r.path)
            .collect();
        assert_eq!(sends.len(), 3, "two refused, one accepted: {sends:?}");
        assert!(
            sends.iter().all(|p| *p == sends[0]),
            "one transaction id: {sends:?}"
        );
        let got = wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(30)).await;
        assert_eq!(text(&got[0]), "nach 503");
        let dup = tokio::time::timeout(
            Duration::from_secs(3),
            wait_texts(&ben, &mut ben_rx, 1, Duration::from_secs(30)),
        )
        .await;
        assert!(dup.is_err(), "the message arrived twice");
    });
}

/// The server's count of this device's signed curve25519 one-time keys (an empty key
/// upload answers with the counts and changes nothing).
async fn otk_count(hs: &Synapse, k: &Kontor) -> u64 {
    let token = k.sdk_client().access_token().expect("token");
    let v: Value = matrix_sdk::reqwest::Client::new()
        .post(format!("{}/_matrix/client/v3/keys/upload", hs.base_url))
        .bearer_auth(token)
        .json(&json!({}))
        .send()
        .await
        .expect("keys/upload")
        .json()
        .await
        .expect("json");
    v["one_time_key_counts"]["signed_curve25519"]
        .as_u64()
        .unwrap_or(0)
}

/// Claims `n` one-time keys of `k`'s device, as peers opening Olm sessions do.
async fn drain_otks(hs: &Synapse, claimer: &Kontor, k: &Kontor, n: usize) {
    let token = claimer.sdk_client().access_token().expect("token");
    let http = matrix_sdk::reqwest::Client::new();
    for _ in 0..n {
        let v: Value = http
            .post(format!("{}/_matrix/client/v3/keys/claim", hs.base_url))
            .bearer_auth(&token)
            .json(&json!({"one_time_keys": {k.user_id(): {k.device_id(): "signed_curve25519"}}}))
            .send()
            .await
            .expect("keys/claim")
            .json()
            .await
            .expect("json");
        assert!(
            v["one_time_keys"][k.user_id()][k.device_id()].is_object(),
            "a one-time key was there to claim: {v}"
        );
    }
}

#[test]
fn one_time_keys_stay_stocked_and_fresh_peers_always_open_an_olm_session() {
    run(async {
        let hs = Synapse::start().expect("synapse");
        let dir = tempfile::tempdir().unwrap();
        let a = hs.register_unique("anna").unwrap();
        let anna = login(&hs, &a, &dir.path().join("a")).await;
        let mut rx = anna.subscribe();
        anna.start_sync();
        let b = hs.register_unique("ben").unwrap();
        let ben = login(&hs, &b, &dir.path().join("b")).await;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        let initial = loop {
            let n = otk_count(&hs, &anna).await;
            if n > 0 || tokio::time::Instant::now() > deadline {
                break n;
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        };
        assert!((1..=100).contains(&initial), "after login: {initial}");
        for round in 0..3 {
            // Peers take keys until 20 are left; the sync reports the lower count through
            // the e2ee extension and the device tops its stock up again (to 50), without
            // overshooting.
            let before = otk_count(&hs, &anna).await;
            drain_otks(&hs, &ben, &anna, before.saturating_sub(20) as usize).await;
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            let refilled = loop {
                let n = otk_count(&hs, &anna).await;
                assert!(
                    (1..=100).contains(&n),
                    "round {round}: {n} one-time keys on the server"
                );
                if n >= 50 || tokio::time::Instant::now() > deadline {
                    break n;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
            };
            assert!(
                refilled >= 50,
                "round {round}: only {refilled} one-time keys after the refill"
            );
            // A peer that never talked to this device opens an Olm session (it claims a
            // key) to send its room key, and the message decrypts.
            let c = hs.register_unique(&format!("peer{round}")).unwrap();
            let peer = login(&hs, &c, &dir.path().join(format!("p{round}"))).await;
            let room = dm(&peer, &anna).await;
            let said = format!("Hallo von Gerät {round}");
            peer.send_text(&room, &said).await.unwrap();
            let got = wait_texts(&anna, &mut rx, 1, Duration::from_secs(30)).await;
            assert_eq!(text(&got[0]), said);
        }
        assert_eq!(anna.sync_mode(), SyncMode::Sliding);
    });
}
