//! The `kontor` binary driven like a script would drive it, against a real Synapse.
//!
//! Each test gets its own homeserver and temp data directories, and talks to the binary
//! only through arguments, environment, stdin, stdout, stderr and the exit code: the
//! public interface documented in README-CLI.md.

use std::{
    io::Write,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

use kontor_testkit::{Synapse, TestUser};
use serde_json::Value;

mod qr;

const PASS: &str = "correct horse battery staple";

/// One account's data directory and how to run `kontor` for it.
struct Account {
    dir: tempfile::TempDir,
    user: TestUser,
}

/// How one run passes its secrets.
enum Secrets<'a> {
    /// KONTOR_PASSPHRASE (and KONTOR_PASSWORD) in the environment.
    Env(&'a str),
    /// Nothing in the environment; stdin carries them line by line.
    Stdin,
}

/// Runs the binary with `args`, writing `stdin` to it, with a clean environment for
/// everything Kontor reads (so the developer's own settings can't leak into a test).
fn kontor(
    data_dir: &Path,
    secrets: Secrets,
    password: Option<&str>,
    args: &[&str],
    stdin: &str,
) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontor"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("KONTOR_DATA_DIR")
        .env_remove("KONTOR_PASSPHRASE")
        .env_remove("KONTOR_PASSWORD")
        .env_remove("KONTOR_RECOVERY_KEY")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Secrets::Env(p) = secrets {
        cmd.env("KONTOR_PASSPHRASE", p);
        if let Some(pw) = password {
            cmd.env("KONTOR_PASSWORD", pw);
        }
    }
    let mut child = cmd.spawn().expect("spawn kontor");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait for kontor")
}

impl Account {
    fn new(hs: &Synapse, prefix: &str) -> Account {
        Account {
            dir: tempfile::tempdir().unwrap(),
            user: hs.register_unique(prefix).expect("register"),
        }
    }

    /// `kontor --json ARGS` with the passphrase in the environment; must succeed.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let out = kontor(self.dir.path(), Secrets::Env(PASS), None, &all, "");
        parse(&out, args)
    }

    fn login(&self, hs: &Synapse) -> Value {
        let out = kontor(
            self.dir.path(),
            Secrets::Env(PASS),
            Some(&self.user.password),
            &[
                "--json",
                "login",
                "--homeserver",
                &hs.base_url,
                "--user",
                &self.user.localpart,
            ],
            "",
        );
        parse(&out, &["login"])
    }

    fn profile_dir(&self) -> PathBuf {
        self.dir.path().join("profile")
    }
}

/// Checks success and parses stdout as exactly one JSON document.
fn parse(out: &Output, what: &[&str]) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kontor {what:?} failed ({}): stdout={stdout} stderr={}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON line expected: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what:?}: not JSON ({e}): {stdout}"))
}

/// Repeats `f` (each call syncs) until it returns Some, for things that travel through
/// the homeserver (invites, room keys).
fn eventually<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Ben accepts the invite into `room` (after it reached him).
fn accept(ben: &Account, room: &str) {
    eventually("the invite", || {
        let list = ben.json(&["invites"]);
        list.as_array()
            .unwrap()
            .iter()
            .any(|i| i["room_id"] == room)
            .then_some(())
    });
    let v = ben.json(&["invites", "accept", room]);
    assert_eq!(v["status"], "joined");
}

/// The texts of `messages --json`, once all of `want` are readable.
fn texts_once(acc: &Account, peer: &str, want: &[&str]) -> Vec<String> {
    eventually("the messages to decrypt", || {
        let msgs = acc.json(&["messages", peer]);
        let texts: Vec<String> = msgs
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|m| m["body"]["text"].as_str().map(str::to_owned))
            .collect();
        want.iter()
            .all(|w| texts.iter().any(|t| t == w))
            .then_some(texts)
    })
}

fn one_error_line(out: &Output) -> String {
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        stderr.lines().count(),
        1,
        "one stderr line expected: {stderr:?}"
    );
    assert!(stderr.starts_with("kontor: error: "), "{stderr:?}");
    stderr
}

#[test]
fn two_users_chat_through_the_cli() {
    let hs = Synapse::start().expect("synapse");
    let anna = Account::new(&hs, "anna");
    let ben = Account::new(&hs, "ben");

    let who = anna.login(&hs);
    assert_eq!(who["user_id"], anna.user.user_id.as_str());
    assert_eq!(who["homeserver"], hs.base_url.as_str());
    assert!(who["device_id"].as_str().is_some_and(|d| !d.is_empty()));

    // Ben gives both secrets on stdin: passphrase first, then password.
    let out = kontor(
        ben.dir.path(),
        Secrets::Stdin,
        None,
        &[
            "--json",
            "login",
            "--homeserver",
            &hs.base_url,
            "--user",
            &ben.user.localpart,
        ],
        &format!("{PASS}\n{}\n", ben.user.password),
    );
    assert_eq!(
        parse(&out, &["login"])["user_id"],
        ben.user.user_id.as_str()
    );
    assert_eq!(ben.json(&["whoami"])["user_id"], ben.user.user_id.as_str());

    let sent = anna.json(&[
        "send",
        &ben.user.user_id,
        "Hallo Ben, das Angebot kommt heute.",
    ]);
    assert_eq!(sent["state"]["state"], "sent", "{sent}");
    assert!(sent["state"]["event_id"].as_str().unwrap().starts_with('$'));
    let room = sent["room_id"].as_str().unwrap().to_owned();

    accept(&ben, &room);
    let synced = ben.json(&["sync"]);
    assert_eq!(synced["outbox"], serde_json::json!([]));
    assert_eq!(
        synced["sync"], "sliding",
        "Synapse has simplified sliding sync"
    );
    texts_once(
        &ben,
        &anna.user.user_id,
        &["Hallo Ben, das Angebot kommt heute."],
    );

    // Ben replies with the text on stdin, after the passphrase line.
    let out = kontor(
        ben.dir.path(),
        Secrets::Stdin,
        None,
        &["--json", "send", &anna.user.user_id, "-"],
        &format!("{PASS}\nDanke, Anna!\n"),
    );
    let reply = parse(&out, &["send", "-"]);
    assert_eq!(
        reply["room_id"],
        room.as_str(),
        "the reply goes into the same DM"
    );
    assert_eq!(reply["state"]["state"], "sent", "{reply}");

    let texts = texts_once(
        &anna,
        &ben.user.user_id,
        &["Hallo Ben, das Angebot kommt heute.", "Danke, Anna!"],
    );
    let first = texts.iter().position(|t| t.starts_with("Hallo")).unwrap();
    let second = texts.iter().position(|t| t == "Danke, Anna!").unwrap();
    assert!(first < second, "oldest first: {texts:?}");
    assert_eq!(anna.json(&["outbox"]), serde_json::json!([]));
}

#[test]
fn wrong_passphrase_exits_3_and_changes_nothing() {
    let hs = Synapse::start().expect("synapse");
    let anna = Account::new(&hs, "anna");
    anna.login(&hs);
    let files = ["profile.json", "session.enc"];
    let before: Vec<Vec<u8>> = files
        .iter()
        .map(|f| std::fs::read(anna.profile_dir().join(f)).unwrap())
        .collect();

    let out = kontor(
        anna.dir.path(),
        Secrets::Env("wrong horse"),
        None,
        &["whoami"],
        "",
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(one_error_line(&out).contains("passphrase"));
    assert!(out.stdout.is_empty());
    // The same through stdin, and for login (which must not start a new profile).
    let out = kontor(
        anna.dir.path(),
        Secrets::Stdin,
        None,
        &["send", "@x:y", "hi"],
        "nope\n",
    );
    assert_eq!(out.status.code(), Some(3));
    one_error_line(&out);

    for (f, b) in files.iter().zip(&before) {
        assert_eq!(
            &std::fs::read(anna.profile_dir().join(f)).unwrap(),
            b,
            "{f} changed"
        );
    }
    assert_eq!(
        anna.json(&["whoami"])["user_id"],
        anna.user.user_id.as_str()
    );
}

#[test]
fn file_round_trip_is_byte_identical() {
    let hs = Synapse::start().expect("synapse");
    let anna = Account::new(&hs, "anna");
    let ben = Account::new(&hs, "ben");
    anna.login(&hs);
    ben.login(&hs);

    let work = tempfile::tempdir().unwrap();
    let src = work.path().join("Angebot 2025.pdf");
    // 1 MB that is not all one byte, so a broken chunk boundary would show.
    let data: Vec<u8> = (0..1_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    std::fs::write(&src, &data).unwrap();

    let sent = anna.json(&[
        "send-file",
        &ben.user.user_id,
        src.to_str().unwrap(),
        "--mime",
        "application/pdf",
    ]);
    assert_eq!(sent["size"], 1_000_000);
    assert_eq!(sent["state"]["state"], "sent", "{sent}");
    let sha = sent["sha256"].as_str().unwrap().to_owned();
    accept(&ben, sent["room_id"].as_str().unwrap());

    let event_id = eventually("the file message", || {
        let msgs = ben.json(&["messages", &anna.user.user_id]);
        msgs.as_array().unwrap().iter().find_map(|m| {
            (m["body"]["kind"] == "file").then(|| {
                assert_eq!(m["body"]["name"], "Angebot 2025.pdf");
                assert_eq!(m["body"]["encrypted"], true);
                m["event_id"].as_str().unwrap().to_owned()
            })
        })
    });
    let dst = work.path().join("received.pdf");
    let got = ben.json(&["download", &event_id, "--out", dst.to_str().unwrap()]);
    assert_eq!(got["size"], 1_000_000);
    assert_eq!(got["sha256"], sha.as_str());
    assert_eq!(got["name"], "Angebot 2025.pdf");
    assert!(
        std::fs::read(&dst).unwrap() == data,
        "downloaded bytes differ"
    );
}

#[test]
fn without_a_session_commands_exit_4_and_create_nothing() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["send", "@ben:example.org", "hi"][..],
        &["--json", "messages", "@ben:example.org"],
        &["whoami"],
        &["sync"],
    ] {
        let out = kontor(dir.path(), Secrets::Env(PASS), None, args, "");
        assert_eq!(out.status.code(), Some(4), "{args:?}");
        assert!(one_error_line(&out).contains("not logged in"));
        assert!(out.stdout.is_empty());
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing written"
    );
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    for args in [
        &["send", "ben", "hi"][..],
        &["frobnicate"],
        &["download", "$x"],
    ] {
        let out = kontor(dir.path(), Secrets::Env(PASS), None, args, "");
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        one_error_line(&out);
    }
}

#[test]
fn send_while_the_server_is_down_queues_and_sync_delivers() {
    let mut hs = Synapse::start().expect("synapse");
    let anna = Account::new(&hs, "anna");
    let ben = Account::new(&hs, "ben");
    anna.login(&hs);
    ben.login(&hs);
    let first = anna.json(&["send", &ben.user.user_id, "vor dem Ausfall"]);
    accept(&ben, first["room_id"].as_str().unwrap());
    anna.json(&["sync"]);

    hs.stop();
    let queued = anna.json(&[
        "send",
        &ben.user.user_id,
        "während des Ausfalls",
        "--timeout",
        "2",
    ]);
    assert_eq!(queued["state"]["state"], "pending", "{queued}");
    let txn = queued["transaction_id"].as_str().unwrap().to_owned();
    let outbox = anna.json(&["outbox"]);
    assert!(
        outbox
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["transaction_id"] == txn.as_str()),
        "{outbox}"
    );
    // `sync` exists to reach the server, so there an outage is the error (exit 5).
    let out = kontor(anna.dir.path(), Secrets::Env(PASS), None, &["sync"], "");
    assert_eq!(out.status.code(), Some(5));
    assert!(String::from_utf8_lossy(&out.stderr).contains("kontor: error: homeserver unreachable"));

    hs.restart().expect("restart synapse");
    let synced = anna.json(&["sync"]);
    assert_eq!(synced["outbox"], serde_json::json!([]), "{synced}");
    texts_once(
        &ben,
        &anna.user.user_id,
        &["vor dem Ausfall", "während des Ausfalls"],
    );
}

#[test]
fn link_prints_the_business_link_and_writes_its_qr_code_offline() {
    use std::os::unix::fs::PermissionsExt;

    let mut hs = Synapse::start().expect("synapse");
    let anna = Account::new(&hs, "anna");
    anna.login(&hs);
    // The link is the saved session's user id: no homeserver needed.
    hs.stop();
    let card = anna.dir.path().join("card");
    let (png, svg) = (card.join("qr.png"), card.join("qr.svg"));
    let out = anna.json(&[
        "link",
        "--png",
        png.to_str().unwrap(),
        "--svg",
        svg.to_str().unwrap(),
    ]);
    let want = format!("https://matrix.to/#/{}", anna.user.user_id);
    assert_eq!(out["link"], want.as_str(), "{out}");
    assert_eq!(out["user_id"], anna.user.user_id.as_str(), "{out}");
    assert_eq!(out["png"], png.to_str().unwrap(), "{out}");
    assert_eq!(out["svg"], svg.to_str().unwrap(), "{out}");
    assert_eq!(qr::codes_in_png(&png), vec![want.clone()]);
    // The SVG is the service's, whose modules its unit tests read back and decode.
    assert_eq!(
        std::fs::read_to_string(&svg).unwrap(),
        kontor::service::link::qr_svg(&want).unwrap()
    );
    for file in [&png, &svg] {
        let mode = std::fs::metadata(file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{}", file.display());
    }

    // For people: the link alone on stdout; without flags nothing is written.
    let plain = kontor(anna.dir.path(), Secrets::Env(PASS), None, &["link"], "");
    assert!(plain.status.success(), "{plain:?}");
    assert_eq!(String::from_utf8_lossy(&plain.stdout), format!("{want}\n"));
    let nothing = anna.json(&["link"]);
    assert_eq!(nothing["png"], Value::Null, "{nothing}");
    assert_eq!(nothing["svg"], Value::Null, "{nothing}");
}
