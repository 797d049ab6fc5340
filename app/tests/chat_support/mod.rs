//! What the end-to-end CLI suites share: a device of the freelancer driven through the
//! `kontor` binary like a script, and a customer who is a plain matrix-sdk client (as
//! Element would be) and answers through the SDK's raw room API, never through Kontor's
//! business code.

#![allow(dead_code)] // each suite uses its own part

use std::{
    future::IntoFuture,
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use kontor_core::{KdfParams, Kontor, Profile};
use kontor_testkit::{Synapse, TestUser};
use matrix_sdk::{room::MessagesOptions, ruma::RoomId};
use serde_json::{Value, json};

/// The profile passphrase of every device.
pub const PASS: &str = "correct horse battery staple";

/// One data directory of the freelancer's account (a device).
pub struct Device {
    pub dir: tempfile::TempDir,
}

impl Device {
    pub fn new() -> Device {
        Device {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn run(&self, args: &[&str], password: Option<&str>) -> Output {
        self.run_env(args, password, &[])
    }

    /// [`Device::run`] with extra environment variables.
    pub fn run_env(&self, args: &[&str], password: Option<&str>, env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontor"));
        cmd.envs(env.iter().copied());
        cmd.arg("--data-dir")
            .arg(self.dir.path())
            .args(args)
            .env_remove("KONTOR_DATA_DIR")
            .env("KONTOR_PASSPHRASE", PASS)
            .env("KONTOR_INSECURE_FAST_KDF", "1")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        match password {
            Some(pw) => cmd.env("KONTOR_PASSWORD", pw),
            None => cmd.env_remove("KONTOR_PASSWORD"),
        };
        let mut child = cmd.spawn().expect("spawn kontor");
        drop(child.stdin.take().unwrap().write_all(b""));
        child.wait_with_output().expect("wait for kontor")
    }

    /// `kontor --json ARGS`; must succeed with one JSON line.
    pub fn json(&self, args: &[&str]) -> Value {
        self.json_env(args, &[])
    }

    /// [`Device::json`] with extra environment variables.
    pub fn json_env(&self, args: &[&str], env: &[(&str, &str)]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = self.run_env(&all, None, env);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "kontor {args:?} failed: {stdout} {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_str(stdout.trim()).unwrap_or_else(|e| panic!("{args:?}: {e}: {stdout}"))
    }

    pub fn login(&self, hs: &Synapse, user: &TestUser) {
        let out = self.run(
            &[
                "--json",
                "login",
                "--homeserver",
                &hs.base_url,
                "--user",
                &user.localpart,
            ],
            Some(&user.password),
        );
        assert!(
            out.status.success(),
            "login: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    pub fn file(&self, name: &str, text: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.display().to_string()
    }
}

pub fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// The customer: a Matrix account whose answers go through the raw SDK room API.
pub struct Customer {
    pub rt: tokio::runtime::Runtime,
    pub kontor: std::sync::Arc<Kontor>,
    _dir: tempfile::TempDir,
}

impl Drop for Customer {
    /// The client's stores close on its runtime (dropping it elsewhere panics), and,
    /// as the CLI does, it is left to the runtime's end rather than dropped mid-task.
    fn drop(&mut self) {
        let kontor = self.kontor.clone();
        self.rt.block_on(kontor.shutdown());
        std::mem::forget(kontor);
    }
}

impl Customer {
    pub fn login(hs: &Synapse, user: &TestUser) -> Customer {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let kdf = KdfParams {
            m_kib: 64,
            t: 1,
            p: 1,
        };
        let profile = Profile::open_with(dir.path(), "customer", kdf).unwrap();
        let kontor = rt
            .block_on(Kontor::login(
                profile,
                &hs.base_url,
                &user.localpart,
                &user.password,
            ))
            .expect("customer login");
        // Device keys uploaded before anyone encrypts for this device.
        rt.block_on(kontor.sync_once()).unwrap();
        Customer {
            rt,
            kontor,
            _dir: dir,
        }
    }

    pub fn join(&self, room: &str) {
        eventually("the invite", || {
            self.rt.block_on(self.kontor.sync_once()).ok()?;
            self.rt.block_on(self.kontor.accept_invite(room)).ok()
        });
    }

    /// The decrypted content of the quote event whose structured quote has `number`, as
    /// any client receives it.
    pub fn quote_event(&self, room: &str, number: &str) -> (String, Value) {
        let room_id = RoomId::parse(room).unwrap();
        eventually("the quote to arrive and decrypt", || {
            self.rt.block_on(self.kontor.sync_once()).ok()?;
            let room = self.kontor.sdk_client().get_room(&room_id)?;
            let page = self
                .rt
                .block_on(room.messages(MessagesOptions::backward()))
                .ok()?;
            page.chunk.iter().find_map(|ev| {
                let json: Value = ev.raw().deserialize_as().ok()?;
                let content = json.get("content")?;
                (content["eu.kontor.quote"]["number"] == number).then(|| {
                    (
                        json["event_id"].as_str().unwrap().to_owned(),
                        content.clone(),
                    )
                })
            })
        })
    }

    /// A reaction with `key` on `event_id`, as any client sends it.
    pub fn react(&self, room: &str, event_id: &str, key: &str) {
        let relates = json!({ "rel_type": "m.annotation", "event_id": event_id, "key": key });
        self.send_raw(room, "m.reaction", json!({ "m.relates_to": relates }));
    }

    /// A plain text message, as any client sends it.
    pub fn say(&self, room: &str, text: &str) {
        self.send_raw(
            room,
            "m.room.message",
            json!({ "msgtype": "m.text", "body": text }),
        );
    }

    /// A rich reply to `event_id`, as Element sends it.
    pub fn reply(&self, room: &str, event_id: &str, text: &str) {
        self.send_raw(
            room,
            "m.room.message",
            json!({
                "msgtype": "m.text",
                "body": text,
                "m.relates_to": { "m.in_reply_to": { "event_id": event_id } }
            }),
        );
    }

    /// The room's newest events as any client receives them (decrypted JSON), newest
    /// first, after a sync.
    pub fn events(&self, room: &str) -> Vec<Value> {
        let room_id = RoomId::parse(room).unwrap();
        let _ = self.rt.block_on(self.kontor.sync_once());
        let Some(room) = self.kontor.sdk_client().get_room(&room_id) else {
            return Vec::new();
        };
        self.rt
            .block_on(room.messages(MessagesOptions::backward()))
            .map(|page| {
                page.chunk
                    .iter()
                    .filter_map(|ev| ev.raw().deserialize_as().ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Redacts (deletes for everyone) one of the customer's events, as any client does.
    pub fn redact(&self, room: &str, event_id: &str) {
        let room_id = RoomId::parse(room).unwrap();
        let event = matrix_sdk::ruma::EventId::parse(event_id).unwrap();
        let room = self.kontor.sdk_client().get_room(&room_id).unwrap();
        self.rt
            .block_on(room.redact(&event, None, None))
            .expect("redact");
    }

    /// A new encrypted room of the customer's (not a DM) with `user` invited; its id.
    pub fn create_group(&self, user: &str) -> String {
        use matrix_sdk::ruma::api::client::room::create_room::v3::Request;
        let mut req = Request::new();
        req.invite = vec![matrix_sdk::ruma::UserId::parse(user).unwrap()];
        req.name = Some("Baustelle".into());
        let room = self
            .rt
            .block_on(self.kontor.sdk_client().create_room(req))
            .expect("create room");
        self.rt
            .block_on(room.enable_encryption())
            .expect("encrypt room");
        room.room_id().to_string()
    }

    /// Removes `user` from a room the customer administers.
    pub fn kick(&self, room: &str, user: &str) {
        let room_id = RoomId::parse(room).unwrap();
        let user = matrix_sdk::ruma::UserId::parse(user).unwrap();
        let room = self.kontor.sdk_client().get_room(&room_id).unwrap();
        self.rt.block_on(room.kick_user(&user, None)).expect("kick");
    }

    pub fn send_raw(&self, room: &str, event_type: &str, content: Value) {
        let room_id = RoomId::parse(room).unwrap();
        let room = self.kontor.sdk_client().get_room(&room_id).unwrap();
        self.rt
            .block_on(room.send_raw(event_type, content).into_future())
            .expect("raw send");
    }
}

/// Every file under `dir`, searched for each needle (SQLite, its WAL, the media store).
pub fn assert_absent(dir: &Path, needles: &[&str]) {
    for entry in walk(dir) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        for n in needles {
            let found = bytes.windows(n.len()).any(|w| w == n.as_bytes());
            assert!(!found, "{n:?} is in the homeserver's {}", entry.display());
        }
    }
}

pub fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
