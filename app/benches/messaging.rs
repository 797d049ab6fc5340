//! Kontor's messaging benchmarks, against a real Synapse on loopback (kontor-testkit).
//!
//! Run: `cargo bench -p kontor --bench messaging` (release). Prints one table; the
//! figures go into BENCHMARKS.md. Each scenario runs in a child process of this binary so
//! peak-RSS figures (`VmHWM`) belong to that scenario alone.
//!
//! Scenarios:
//! - `latency`: 200 texts, send → decrypted on the other client (p50/p95), against a
//!   plain `PUT /send` into an unencrypted room in the same run on the same Synapse.
//! - `attachment`: a 20 MB file encrypt+upload+download+decrypt, against the raw
//!   AES-256-CTR + SHA-256 speed of this machine and a plain upload+download.
//! - `bigfile`: a 200 MB file sent and downloaded; peak RSS of the process.
//! - `rss`: peak RSS of a `kontor sync --follow` process after its first sync of 100 rooms.

use std::{
    io::{BufRead, BufReader, Read, Write},
    process::{Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};

use kontor_core::{CoreEvent, KdfParams, Kontor, MessageBody, Profile};
use kontor_testkit::{Synapse, TestUser};
use rand::RngCore;

const FAST: KdfParams = KdfParams {
    m_kib: 8 * 1024,
    t: 1,
    p: 1,
};
const PASS: &str = "bench passphrase";

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    if let Some(s) = args.first().filter(|a| a.starts_with("scenario:")) {
        let s = s.trim_start_matches("scenario:").to_owned();
        scenario(&s);
        return;
    }
    let wanted: Vec<&str> = if args.is_empty() {
        vec!["latency", "attachment", "bigfile", "rss"]
    } else {
        args.iter().map(String::as_str).collect()
    };
    println!(
        "kontor messaging benchmarks ({} cores)",
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(0)
    );
    for w in wanted {
        let status = Command::new(std::env::current_exe().unwrap())
            .arg(format!("scenario:{w}"))
            .status()
            .expect("run scenario");
        assert!(status.success(), "scenario {w} failed");
    }
}

fn scenario(name: &str) {
    let hs = Synapse::start().expect("synapse");
    let a = hs.register_unique("anna").unwrap();
    let b = hs.register_unique("ben").unwrap();
    let dirs = tempfile::tempdir().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    match name {
        "latency" => rt.block_on(latency(&hs, &a, &b, dirs.path())),
        "attachment" => rt.block_on(attachment(&hs, &a, &b, dirs.path(), 20 << 20, true)),
        "bigfile" => rt.block_on(attachment(&hs, &a, &b, dirs.path(), 200 << 20, false)),
        "rss" => rt.block_on(rss(&hs, &a, &b, dirs.path())),
        other => panic!("unknown scenario {other}"),
    }
}

async fn login(hs: &Synapse, u: &TestUser, dir: &std::path::Path) -> Arc<Kontor> {
    let p = Profile::open_with(dir, PASS, FAST).unwrap();
    Kontor::login(p, &hs.base_url, &u.localpart, &u.password)
        .await
        .unwrap()
}

async fn pair(
    hs: &Synapse,
    a: &TestUser,
    b: &TestUser,
    dir: &std::path::Path,
) -> (Arc<Kontor>, Arc<Kontor>, String) {
    let anna = login(hs, a, &dir.join("a")).await;
    let ben = login(hs, b, &dir.join("b")).await;
    let room = anna.open_dm(&ben.user_id()).await.unwrap();
    loop {
        ben.sync_once().await.unwrap();
        if ben.invites().await.unwrap().iter().any(|(r, _)| *r == room) {
            ben.accept_invite(&room).await.unwrap();
            break;
        }
    }
    for _ in 0..50 {
        anna.sync_once().await.unwrap();
        let r = anna.sdk_client().get_room(&matrix_room(&room)).unwrap();
        if r.joined_members_count() == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    (anna, ben, room)
}

fn matrix_room(id: &str) -> matrix_sdk::ruma::OwnedRoomId {
    matrix_sdk::ruma::RoomId::parse(id).unwrap()
}

fn pct(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

fn vm_hwm_mb(pid: &str) -> f64 {
    vm_status_mb(pid, "VmHWM:")
}

/// A `/proc/<pid>/status` memory field in MB.
fn vm_status_mb(pid: &str, field: &str) -> f64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|k| k.parse::<f64>().ok())
        .unwrap_or(0.0)
        / 1024.0
}

/// Logs in over plain HTTP and returns the access token (for the unencrypted baseline).
fn plain_login(base: &str, u: &TestUser) -> String {
    let r: serde_json::Value = ureq::post(&format!("{base}/_matrix/client/v3/login"))
        .send_json(serde_json::json!({"type": "m.login.password", "identifier": {"type": "m.id.user", "user": u.localpart}, "password": u.password}))
        .unwrap()
        .into_json()
        .unwrap();
    r["access_token"].as_str().unwrap().to_owned()
}

async fn latency(hs: &Synapse, a: &TestUser, b: &TestUser, dir: &std::path::Path) {
    let (anna, ben, room) = pair(hs, a, b, dir).await;
    let mut rx = ben.subscribe();
    anna.start_sync();
    ben.start_sync();
    // Warm up: room keys shared, sync loops running.
    anna.send_text(&room, "warm-up").await.unwrap();
    wait_text(&mut rx, "warm-up").await;

    let n = 200;
    let mut e2e = Vec::with_capacity(n);
    for i in 0..n {
        let body = format!("bench message {i}");
        let t = Instant::now();
        anna.send_text(&room, &body).await.unwrap();
        wait_text(&mut rx, &body).await;
        e2e.push(t.elapsed().as_secs_f64() * 1000.0);
    }

    // Baseline: a third user PUTs plain events into an unencrypted room, same Synapse.
    let c = hs.register_unique("plain").unwrap();
    let base = hs.base_url.clone();
    let mut plain = tokio::task::spawn_blocking(move || {
        let token = plain_login(&base, &c);
        let auth = format!("Bearer {token}");
        let r: serde_json::Value = ureq::post(&format!("{base}/_matrix/client/v3/createRoom"))
            .set("Authorization", &auth)
            .send_json(serde_json::json!({"preset": "private_chat"}))
            .unwrap()
            .into_json()
            .unwrap();
        let room = r["room_id"].as_str().unwrap().to_owned();
        let mut v = Vec::new();
        for i in 0..n {
            let t = Instant::now();
            ureq::put(&format!(
                "{base}/_matrix/client/v3/rooms/{room}/send/m.room.message/plain{i}"
            ))
            .set("Authorization", &auth)
            .send_json(serde_json::json!({"msgtype": "m.text", "body": format!("plain {i}")}))
            .unwrap();
            v.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        v
    })
    .await
    .unwrap();
    let (p50, p95) = (pct(&mut e2e, 0.5), pct(&mut e2e, 0.95));
    let (b50, b95) = (pct(&mut plain, 0.5), pct(&mut plain, 0.95));
    println!("latency  send→decrypted ({n} msgs)  p50 {p50:.1} ms  p95 {p95:.1} ms");
    println!("latency  plain PUT /send ({n} msgs)     p50 {b50:.1} ms  p95 {b95:.1} ms");
    println!("latency  ratio p50 {:.2}× (goal ≤ 3×)", p50 / b50);
}

async fn wait_text(rx: &mut tokio::sync::broadcast::Receiver<CoreEvent>, want: &str) {
    loop {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv())
            .await
            .expect("message never arrived")
        {
            Ok(CoreEvent::MessageReceived(m))
                if !m.own
                    && m.body
                        == MessageBody::Text {
                            text: want.into(),
                            extra: None,
                        } =>
            {
                return;
            }
            Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
            Err(e) => panic!("{e}"),
        }
    }
}

async fn attachment(
    hs: &Synapse,
    a: &TestUser,
    b: &TestUser,
    dir: &std::path::Path,
    size: usize,
    compare: bool,
) {
    let (anna, ben, room) = pair(hs, a, b, dir).await;
    let mut rx = ben.subscribe();
    anna.start_sync();
    ben.start_sync();
    let src = dir.join("quote.pdf");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&src).unwrap());
        let mut chunk = vec![0u8; 1 << 20];
        for _ in 0..size >> 20 {
            rand::thread_rng().fill_bytes(&mut chunk);
            f.write_all(&chunk).unwrap();
        }
    }
    let pid = std::process::id().to_string();
    let rss_before = vm_hwm_mb(&pid);
    let t = Instant::now();
    anna.send_file(&room, &src, None).await.unwrap();
    let t_up = t.elapsed().as_secs_f64();
    let event_id = loop {
        match tokio::time::timeout(Duration::from_secs(120), rx.recv())
            .await
            .expect("file never arrived")
        {
            Ok(CoreEvent::MessageReceived(m)) if matches!(m.body, MessageBody::File { .. }) => {
                break m.event_id.unwrap();
            }
            _ => {}
        }
    };
    let t_msg = t.elapsed().as_secs_f64() - t_up;
    let out = dir.join("out.pdf");
    let td = Instant::now();
    ben.download(&event_id, &out).await.unwrap();
    let t_down = td.elapsed().as_secs_f64();
    let all = t.elapsed().as_secs_f64();
    // What the issue measures: the file's own path, without the message's trip through sync.
    let e2e = t_up + t_down;
    let mb = size as f64 / (1 << 20) as f64;
    println!(
        "attach   {mb:.0} MB encrypt+upload {:.0} ms, m.file event reaches the peer {:.0} ms, download+decrypt {:.0} ms",
        t_up * 1000.0,
        t_msg * 1000.0,
        t_down * 1000.0
    );
    println!(
        "attach   {mb:.0} MB encrypt+upload+download+decrypt {e2e:.2} s ({:.0} MB/s); with the message round trip {all:.2} s",
        mb / e2e
    );
    if !compare {
        println!(
            "bigfile  peak RSS {:.0} MB before the transfer, {:.0} MB after ({:.2}× the file size added)",
            rss_before,
            vm_hwm_mb(&pid),
            (vm_hwm_mb(&pid) - rss_before) / mb
        );
        return;
    }

    // Raw crypto speed: the SDK's AttachmentEncryptor is AES-256-CTR + SHA-256.
    let data = std::fs::read(&src).unwrap();
    let t = Instant::now();
    let mut cursor = std::io::Cursor::new(&data);
    let mut enc = matrix_sdk_crypto::AttachmentEncryptor::new(&mut cursor);
    let mut sink = vec![0u8; 1 << 20];
    while enc.read(&mut sink).unwrap() > 0 {}
    let _ = enc.finish();
    let raw = t.elapsed().as_secs_f64();
    // Both directions pay encrypt-or-decrypt + hash once.
    let raw_round = 2.0 * raw;
    println!(
        "attach   raw AES-256-CTR+SHA-256 {mb:.0} MB  {:.0} ms ({:.0} MB/s); round trip crypto {:.0} ms",
        raw * 1000.0,
        mb / raw,
        raw_round * 1000.0
    );
    println!(
        "attach   end-to-end vs raw crypto: {:.1} % of raw speed (goal ≥ 25 %)",
        100.0 * raw_round / e2e
    );

    // Plain upload + download of the same bytes through the same Synapse.
    let c = hs.register_unique("plain").unwrap();
    let base = hs.base_url.clone();
    let plain = tokio::task::spawn_blocking(move || {
        let token = plain_login(&base, &c);
        let auth = format!("Bearer {token}");
        let t = Instant::now();
        let r: serde_json::Value = ureq::post(&format!("{base}/_matrix/media/v3/upload"))
            .set("Authorization", &auth)
            .set("Content-Type", "application/octet-stream")
            .send_bytes(&data)
            .unwrap()
            .into_json()
            .unwrap();
        let uri = r["content_uri"]
            .as_str()
            .unwrap()
            .trim_start_matches("mxc://")
            .to_owned();
        let mut body = Vec::new();
        ureq::get(&format!("{base}/_matrix/client/v1/media/download/{uri}"))
            .set("Authorization", &auth)
            .call()
            .unwrap()
            .into_reader()
            .read_to_end(&mut body)
            .unwrap();
        assert_eq!(body.len(), data.len());
        t.elapsed().as_secs_f64()
    })
    .await
    .unwrap();
    println!(
        "attach   plain upload+download {mb:.0} MB  {plain:.2} s; encryption adds {:.0} % (goal ≤ 20 %); ceiling for the raw-crypto ratio on this server: {:.1} %",
        100.0 * (e2e - plain) / plain,
        100.0 * raw_round / plain
    );
}

async fn rss(hs: &Synapse, a: &TestUser, b: &TestUser, dir: &std::path::Path) {
    let (anna, ben, _room) = pair(hs, a, b, dir).await;
    // 99 more encrypted rooms with ben: 100 in all.
    for _ in 0..99 {
        let room = anna
            .sdk_client()
            .create_dm(&matrix_sdk::ruma::UserId::parse(ben.user_id()).unwrap())
            .await
            .unwrap();
        anna.send_text(room.room_id().as_str(), "Hallo")
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rooms = anna.sdk_client().joined_rooms().len();
    anna.shutdown().await;
    drop(anna);
    drop(ben);
    // A new device: the CLI logs in to a fresh profile, then its first sync fetches and
    // decrypts all 100 rooms.
    let cli_dir = dir.join("cli");
    let login = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .args(["--data-dir"])
        .arg(&cli_dir)
        .args([
            "login",
            "--homeserver",
            &hs.base_url,
            "--user",
            &a.localpart,
        ])
        .env("KONTOR_PASSPHRASE", PASS)
        .env("KONTOR_PASSWORD", &a.password)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        login.status.success(),
        "{}",
        String::from_utf8_lossy(&login.stderr)
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_kontor"))
        .args(["--data-dir"])
        .arg(&cli_dir)
        .args(["sync", "--follow"])
        .env("KONTOR_PASSPHRASE", PASS)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let pid = child.id().to_string();
    let t = Instant::now();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("online") {
            break;
        }
    }
    let synced = t.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "rss      kontor sync --follow on a new device, {rooms} rooms: first sync {synced:.2} s, RSS {:.0} MB after sync (peak {:.0} MB, incl. the 64 MiB Argon2id unlock)",
        vm_status_mb(&pid, "VmRSS:"),
        vm_status_mb(&pid, "VmHWM:")
    );
    drop(child.stdin.take());
    let _ = child.wait();
}
