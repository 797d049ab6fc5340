//! `contacts discover`: the app's settings decide whether and where it asks, and an
//! identity server that does not answer is exit 5 (with a real login).

use std::process::{Command, Stdio};

use crate::support::{Env, PASS, fails, parse, stderr};

/// `contacts discover` follows the app's settings file in the same data directory:
/// discovery turned off there refuses even with an explicit server, and without a flag
/// the saved server is the one used (no login here, so that run stops at exit 4 — after
/// the server was accepted; the login test below shows it is really contacted).
#[test]
fn discover_follows_the_apps_settings() {
    let env = Env::new();
    let out = env.run(Some(PASS), &["contacts", "discover"], "");
    assert!(
        fails(&out, 2).contains("no identity server"),
        "nothing configured: a usage error"
    );
    let settings = env.data().join("settings.json");
    std::fs::write(&settings, r#"{"discovery": false}"#).unwrap();
    let out = env.run(
        Some(PASS),
        &[
            "contacts",
            "discover",
            "--identity-server",
            "http://127.0.0.1:9",
        ],
        "",
    );
    assert!(fails(&out, 1).contains("turned off in the settings"));
    std::fs::write(
        &settings,
        r#"{"discovery": true, "identity_server": "http://127.0.0.1:9"}"#,
    )
    .unwrap();
    let out = env.run(Some(PASS), &["contacts", "discover"], "");
    assert!(fails(&out, 4).contains("not logged in"));
    // A damaged file: the defaults (no server), with a warning naming the file.
    std::fs::write(&settings, "{ not json").unwrap();
    let out = env.run(Some(PASS), &["contacts", "discover"], "");
    assert!(fails(&out, 2).contains("no identity server"));
    let warning = stderr(&out);
    assert!(
        warning.contains("warning:") && warning.contains("settings.json"),
        "{warning}"
    );
}

/// Discovery's error paths with a real login. The successful run against a real Sydent
/// lives with the end-to-end suites (tests/tests/e2e/).
#[test]
fn discover_with_an_unreachable_identity_server_exits_5() {
    use kontor_testkit::Synapse;
    let hs = Synapse::start().expect("synapse");
    let user = hs.register_unique("anna").expect("register");
    let env = Env::new();

    // A contact book made first pins the passphrase: login must use the same one.
    env.json(&[
        "contacts",
        "add",
        "--name",
        "Ida",
        "--phone",
        "0151 11112222",
        "--consent",
        "granted",
    ]);
    let login = |pass: &str| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontor"));
        cmd.arg("--data-dir")
            .arg(env.data())
            .args(["--json", "login", "--homeserver", &hs.base_url, "--user"])
            .arg(&user.localpart)
            .env_remove("KONTOR_DATA_DIR")
            .env("KONTOR_PASSPHRASE", pass)
            .env("KONTOR_PASSWORD", &user.password)
            .env("KONTOR_INSECURE_FAST_KDF", "1")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = login("another passphrase");
    assert!(fails(&out, 3).contains("contact book"));
    assert!(!env.data().join("profile").exists(), "no profile created");
    parse(&login(PASS), &["login"]);

    // Nothing listens on a port we just closed.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let out = env.run(
        Some(PASS),
        &["contacts", "discover", "--identity-server", &url],
        "",
    );
    let err = fails(&out, 5);
    assert!(err.contains("identity server"), "{err}");
    assert!(err.contains(&url), "{err}");
    // The server saved in the app's settings is used when no flag names one.
    std::fs::write(
        env.data().join("settings.json"),
        format!(r#"{{"identity_server": "{url}"}}"#),
    )
    .unwrap();
    let out = env.run(Some(PASS), &["contacts", "discover"], "");
    let err = fails(&out, 5);
    assert!(err.contains(&url), "{err}");
    // Wrong passphrase: exit 3, as everywhere.
    let out = env.run(
        Some("wrong"),
        &["contacts", "discover", "--identity-server", &url],
        "",
    );
    fails(&out, 3);
}
