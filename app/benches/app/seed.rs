//! Seeding (step 1, in a child process): anna's 100 encrypted DMs, and the 10,000
//! messages of the big chat, written by both sides.

use std::{
    path::Path,
    sync::{Arc, atomic::Ordering},
    time::{Duration, Instant},
};

use futures_util::{StreamExt, stream};
use kontor_core::{KdfParams, Kontor, Profile};
use matrix_sdk::ruma::{OwnedRoomId, UserId, events::room::message::RoomMessageEventContent};

use crate::{
    ANNA, ANNA_PW, BIG, CHATS, CUSTOMER_PW, Env, IN_FLIGHT, PASS, customer, result, runtime,
};

pub(crate) fn seed_child() {
    let env = Env::from_env();
    runtime().block_on(seed(&env));
    // The SDK's stores close under tasks that may still write when the runtime drops;
    // like the CLI, leave them to process exit.
    std::process::exit(0);
}

async fn seed(env: &Env) {
    let t0 = Instant::now();
    let anna_profile = env.anna_data().join("profile");
    let anna = login(env, &anna_profile, ANNA, ANNA_PW, KdfParams::default()).await;
    // The customer of the big chat writes through a Kontor of its own (its half of the
    // messages must be encrypted too); the other 99 only join over plain HTTP.
    let ben = login(
        env,
        &env.dir.join("ben"),
        &customer(0),
        CUSTOMER_PW,
        KdfParams {
            m_kib: 8 * 1024,
            t: 1,
            p: 1,
        },
    )
    .await;
    let client = anna.sdk_client().clone();
    let rooms: Vec<OwnedRoomId> = stream::iter(0..CHATS)
        .map(|i| {
            let client = client.clone();
            let user =
                UserId::parse(format!("@{}:{}", customer(i), env.server_name)).expect("user id");
            async move {
                client
                    .create_dm(&user)
                    .await
                    .expect("create dm")
                    .room_id()
                    .to_owned()
            }
        })
        .buffered(4)
        .collect()
        .await;
    let big = rooms[0].clone();
    // The other customers join over plain HTTP (they read nothing, so need no keys).
    let hs = env.hs.clone();
    let joins: Vec<_> = rooms[1..]
        .iter()
        .enumerate()
        .map(|(i, r)| (customer(i + 1), r.to_string()))
        .collect();
    let joined = tokio::task::spawn_blocking(move || {
        std::thread::scope(|s| {
            for chunk in joins.chunks(25) {
                let hs = &hs;
                s.spawn(move || {
                    for (user, room) in chunk {
                        plain_join(hs, user, room);
                    }
                });
            }
        });
    });
    loop {
        ben.sync_once().await.expect("ben sync");
        if ben
            .invites()
            .await
            .expect("invites")
            .iter()
            .any(|(r, _)| *r == big.as_str())
        {
            ben.accept_invite(big.as_str()).await.expect("accept");
            break;
        }
    }
    joined.await.expect("joins");
    for _ in 0..100 {
        anna.sync_once().await.expect("anna sync");
        if anna
            .sdk_client()
            .get_room(&big)
            .is_some_and(|r| r.joined_members_count() == 2)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let rooms_s = t0.elapsed().as_secs_f64();
    println!("{CHATS} rooms created and joined in {rooms_s:.1} s");
    result("rooms_s", format!("{rooms_s:.1}"));

    // One message from anna in each small chat, so the list has previews.
    send_many(&anna, &rooms[1..], 1, "Ihr Angebot").await;
    // The big chat: both sides at once, then one last message so it is the newest chat.
    let t = Instant::now();
    let half = BIG / 2;
    tokio::join!(
        send_many(&anna, std::slice::from_ref(&big), half, "Anna"),
        send_many(&ben, std::slice::from_ref(&big), BIG - half, "Kunde"),
    );
    let big_s = t.elapsed().as_secs_f64();
    result("big_s", format!("{big_s:.1}"));
    result("big_rate", format!("{:.0}", BIG as f64 / big_s));
    // anna's device receives ben's room keys now rather than during the measured sync,
    // and knows every chat (sliding sync: `sync_once` grows the window by 20 per call),
    // so the restored device's chat list comes from its store.
    anna.sync_all().await.expect("anna sync");
    anna.sync_once().await.expect("anna sync");
    // As the app does whenever it shows the list: the restored device then has the list
    // it showed last (`chats.enc`), like any device whose app ran before.
    let listed = anna.chats().await.expect("anna's chats").len();
    assert_eq!(listed, CHATS, "anna's device lists every chat");
    result("room", big);
    result("total_s", format!("{:.1}", t0.elapsed().as_secs_f64()));
    anna.shutdown().await;
    ben.shutdown().await;
    std::mem::forget(anna);
    std::mem::forget(ben);
}

pub(crate) async fn login(
    env: &Env,
    profile: &Path,
    user: &str,
    pw: &str,
    kdf: KdfParams,
) -> Arc<Kontor> {
    let dir = profile.to_path_buf();
    let profile = tokio::task::spawn_blocking(move || Profile::open_with(&dir, PASS, kdf))
        .await
        .expect("join")
        .expect("profile");
    Kontor::login(profile, &env.hs, user, pw)
        .await
        .expect("login")
}

/// `per_room` encrypted texts into each room, straight through the SDK's `Room::send`,
/// up to `IN_FLIGHT` rooms at a time.
async fn send_many(k: &Kontor, rooms: &[OwnedRoomId], per_room: usize, who: &str) {
    let client = k.sdk_client().clone();
    let jobs = rooms
        .iter()
        .flat_map(|r| (0..per_room).map(move |i| (r.clone(), i)));
    let sent = std::sync::atomic::AtomicUsize::new(0);
    let total = rooms.len() * per_room;
    stream::iter(jobs)
        // One send at a time per room: matrix-sdk-crypto 0.18 panics ("Session expired",
        // group_sessions/mod.rs:220) when concurrent sends in one room race the megolm
        // session's rotation after 100 messages. So the big chat goes at 2 in flight (one
        // per side), the small chats at `IN_FLIGHT`.
        .for_each_concurrent(rooms.len().min(IN_FLIGHT), |(room_id, i)| {
            let room = client.get_room(&room_id).expect("joined room");
            let sent = &sent;
            async move {
                let text = format!(
                    "{who} #{i}: Guten Tag, anbei die Unterlagen zum Auftrag, bitte prüfen Sie Position {}.",
                    i % 97
                );
                room.send(RoomMessageEventContent::text_plain(text))
                    .await
                    .expect("send");
                let n = sent.fetch_add(1, Ordering::Relaxed) + 1;
                if total >= 1000 && n.is_multiple_of(2000) {
                    println!("{who}: {n}/{total} sent");
                }
            }
        })
        .await;
}

/// Logs a customer in over plain HTTP and joins the room it was invited to.
fn plain_join(hs: &str, user: &str, room: &str) {
    let r: serde_json::Value = ureq::post(&format!("{hs}/_matrix/client/v3/login"))
        .send_json(serde_json::json!({
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": user},
            "password": CUSTOMER_PW,
        }))
        .expect("customer login")
        .into_json()
        .expect("login json");
    let token = r["access_token"].as_str().expect("token");
    ureq::post(&format!("{hs}/_matrix/client/v3/join/{room}"))
        .set("Authorization", &format!("Bearer {token}"))
        .send_json(serde_json::json!({}))
        .expect("join");
}
