//! Shared fixtures: a runtime, a fast KDF for throw-away profiles, logged-in clients.

use std::{future::Future, path::Path, sync::Arc, time::Duration};

use kontor_core::{CoreEvent, KdfParams, Kontor, Message, MessageBody, Profile};
use kontor_testkit::{Synapse, TestUser};

/// Test profiles don't need a costly KDF; the production default is covered by the
/// unit tests and the benchmark.
pub const FAST: KdfParams = KdfParams {
    m_kib: 1024,
    t: 1,
    p: 1,
};
pub const PASS: &str = "test passphrase";

pub fn run<F: Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

pub async fn login(hs: &Synapse, user: &TestUser, dir: &Path) -> Arc<Kontor> {
    let profile = Profile::open_with(dir, PASS, FAST).expect("profile");
    Kontor::login(profile, &hs.base_url, &user.localpart, &user.password)
        .await
        .expect("login")
}

pub async fn restore(dir: &Path) -> Arc<Kontor> {
    let profile = Profile::open(dir, PASS).expect("profile");
    Kontor::restore(profile).await.expect("restore")
}

/// Alice opens a DM with Bob, Bob accepts; returns (alice's room id, bob's room id).
pub async fn dm(alice: &Arc<Kontor>, bob: &Arc<Kontor>) -> String {
    let room = alice.open_dm(&bob.user_id()).await.expect("open_dm");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        bob.sync_once().await.expect("bob sync");
        let invites = bob.invites().await.expect("invites");
        if invites.iter().any(|(r, _)| *r == room) {
            bob.accept_invite(&room).await.expect("accept");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "invite never arrived"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Alice must see Bob joined (and his device keys) before room keys are shared.
    let bob_id = kontor_core::parse_user_id(&bob.user_id()).unwrap();
    loop {
        alice.sync_once().await.expect("alice sync");
        let r = alice
            .sdk_client()
            .get_room(&matrix_sdk::ruma::RoomId::parse(&room).unwrap())
            .unwrap();
        if let Ok(Some(m)) = r.get_member_no_sync(&bob_id).await
            && *m.membership() == matrix_sdk::ruma::events::room::member::MembershipState::Join
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "alice never saw bob join"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    room
}

/// Collects text messages received by `k` until `n` have arrived with `pred`, or panics.
pub async fn wait_texts(
    k: &Arc<Kontor>,
    rx: &mut tokio::sync::broadcast::Receiver<CoreEvent>,
    n: usize,
    timeout: Duration,
) -> Vec<Message> {
    let mut got = Vec::new();
    let deadline = tokio::time::Instant::now() + timeout;
    while got.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Ok(CoreEvent::MessageReceived(m)))
                if !m.own && matches!(m.body, MessageBody::Text { .. }) =>
            {
                got.push(m)
            }
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("event stream: {e}"),
            Err(_) => panic!(
                "{}: only {} of {n} messages arrived: {got:?}",
                k.user_id(),
                got.len()
            ),
        }
    }
    got
}

pub fn text(m: &Message) -> &str {
    match &m.body {
        MessageBody::Text { text, .. } => text,
        other => panic!("not text: {other:?}"),
    }
}

/// Every file below `dir`, recursively (to search what a server stored).
pub fn files_under(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(files_under(&p))
        } else {
            out.push(p)
        }
    }
    out
}
