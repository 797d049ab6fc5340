//! `kontor contacts …` driven like a script drives it: arguments, environment, stdin,
//! stdout, stderr and the exit code, without a terminal.
//!
//! Only the last test needs a homeserver (discovery needs a login); the rest run the
//! binary against a temp data directory. KONTOR_INSECURE_FAST_KDF=1 (honoured by debug
//! builds only) keeps the Argon2id of each new store to milliseconds.

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use serde_json::Value;

const PASS: &str = "correct horse battery staple";

/// Five cards: Anna consented (and appears twice: merged), Bernd has no consent field,
/// Carla said no and has a number that is not valid, Dora's consent value is unknown
/// (rejected).
const MIXED: &str = "\
BEGIN:VCARD
VERSION:3.0
FN:Anna Arzt
ORG:Praxis Arzt
TEL;TYPE=CELL:0151 12345678
EMAIL:anna@praxis.example
X-KONTOR-CONSENT:granted
X-KONTOR-CONSENT-PURPOSE:Terminabsprachen
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Bernd Bauer
TEL:030 12345678
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Carla Chef
TEL:0815
EMAIL:carla@firma.example
X-KONTOR-CONSENT:nein
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Anna A.
TEL:+49 151 12345678
END:VCARD
BEGIN:VCARD
VERSION:3.0
FN:Dora Dach
EMAIL:dora@dach.example
X-KONTOR-CONSENT:vielleicht
END:VCARD
";

/// The 1-based line where `needle` first occurs in `text`.
fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

/// A data directory with its fixtures.
struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn data(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a fixture file beside (not inside) the data directory's stores.
    fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// `kontor ARGS` with `pass` in KONTOR_PASSPHRASE (or none: stdin carries it).
    fn run(&self, pass: Option<&str>, args: &[&str], stdin: &str) -> Output {
        run(self.data(), pass, args, stdin)
    }

    /// `kontor --json ARGS` with the right passphrase; must succeed with one JSON line.
    fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        parse(&self.run(Some(PASS), &all, ""), args)
    }

    /// `kontor ARGS` with the right passphrase; must succeed; stdout as text.
    fn text(&self, args: &[&str]) -> String {
        let out = self.run(Some(PASS), args, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Imports the mixed fixture and returns the JSON report.
    fn import_mixed(&self) -> Value {
        let f = self.file("kunden.vcf", MIXED);
        self.json(&["contacts", "import", &f])
    }

    /// `(name, book)` of every contact, as `list --json` shows them.
    fn names(&self, book: Option<&str>) -> Vec<(String, String)> {
        let mut args = vec!["contacts", "list"];
        if let Some(b) = book {
            args.extend(["--book", b]);
        }
        self.json(&args)
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["display_name"].as_str().unwrap().to_owned(),
                    c["book"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The id of the contact called `name`.
    fn id(&self, name: &str) -> String {
        self.json(&["contacts", "list"])
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["display_name"] == name)
            .unwrap_or_else(|| panic!("no contact {name}"))["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

/// Runs the binary with a clean environment for everything Kontor reads.
fn run(data_dir: &Path, pass: Option<&str>, args: &[&str], stdin: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kontor"));
    cmd.arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .env_remove("KONTOR_DATA_DIR")
        .env_remove("KONTOR_PASSPHRASE")
        .env_remove("KONTOR_PASSWORD")
        .env_remove("KONTOR_IDENTITY_SERVER")
        .env("KONTOR_INSECURE_FAST_KDF", "1")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if let Some(p) = pass {
        cmd.env("KONTOR_PASSPHRASE", p);
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

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks success and parses stdout as exactly one JSON document.
fn parse(out: &Output, what: &[&str]) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "kontor {what:?} failed ({}): stdout={stdout} stderr={}",
        out.status,
        stderr(out)
    );
    assert_eq!(
        stdout.lines().count(),
        1,
        "one JSON line expected: {stdout}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{what:?}: not JSON ({e}): {stdout}"))
}

/// Checks a failure with `code`: nothing on stdout, exactly one `kontor: error:` line
/// (progress lines may precede it); returns that line.
fn fails(out: &Output, code: i32) -> String {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(code), "stderr: {err}");
    assert!(
        out.stdout.is_empty(),
        "stdout: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("kontor: error: "))
        .collect();
    assert_eq!(lines.len(), 1, "one error line expected: {err}");
    lines[0].to_owned()
}

#[test]
fn import_splits_the_books_by_consent_and_reports_every_line() {
    let env = Env::new();
    let r = env.import_mixed();
    assert_eq!(r["file"], "kunden.vcf");
    // Dora is read, then rejected for her consent value.
    assert_eq!(r["read"], 5, "{r}");
    assert_eq!(r["added_work"], 1, "{r}");
    assert_eq!(r["added_private"], 2, "{r}");
    let merged = r["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{r}");
    assert_eq!(merged[0]["line"], line_of(MIXED, "FN:Anna A.") - 2);
    assert_eq!(merged[0]["into"]["line"], 1);
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{r}");
    assert_eq!(rejected[0]["line"], line_of(MIXED, "FN:Dora") - 2);
    assert!(
        rejected[0]["message"]
            .as_str()
            .unwrap()
            .contains("vielleicht")
    );
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            // At the line of the invalid number, not the card's first.
            .any(|w| w["line"] == line_of(MIXED, "TEL:0815") && w["kind"] == "invalid_phone"),
        "{r}"
    );

    let mut all = env.names(None);
    all.sort();
    assert_eq!(
        all,
        [
            ("Anna Arzt".into(), "work".into()),
            ("Bernd Bauer".into(), "private".into()),
            ("Carla Chef".into(), "private".into()),
        ]
    );
    assert_eq!(
        env.names(Some("work")),
        [("Anna Arzt".into(), "work".into())]
    );
    let private = env.names(Some("private"));
    assert_eq!(private.len(), 2);
    assert!(private.iter().all(|(_, b)| b == "private"));

    // The list entries carry the data and the status.
    let list = env.json(&["contacts", "list", "--book", "work"]);
    let anna = &list[0];
    assert_eq!(anna["status"], "granted");
    assert_eq!(anna["phones"][0]["e164"], "+4915112345678");
    assert_eq!(anna["emails"][0]["address"], "anna@praxis.example");

    // Again, for people: everything merges into what is stored; the summary names lines.
    let f = env.file("kunden.vcf", MIXED);
    let out = env.run(Some(PASS), &["contacts", "import", &f], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        summary.starts_with("kunden.vcf: 5 records read; imported 0"),
        "{summary}"
    );
    assert!(summary.contains("3 updated"), "{summary}");
    let dora = line_of(MIXED, "FN:Dora") - 2;
    assert!(
        summary.contains(&format!("rejected line {dora}: ")),
        "{summary}"
    );
    assert!(summary.contains("into contact "), "{summary}");
    // No terminal: plain percentage lines on stderr, ending at 100 %.
    assert!(
        stderr(&out).contains("importing kunden.vcf: 100%"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.names(None).len(), 3, "nothing duplicated");
}

#[test]
fn json_import_prints_no_progress() {
    let env = Env::new();
    let f = env.file("kunden.vcf", MIXED);
    let out = env.run(Some(PASS), &["--json", "contacts", "import", &f], "");
    parse(&out, &["import"]);
    assert_eq!(stderr(&out), "", "no progress with --json");
}

#[test]
fn grant_moves_to_work_and_withdraw_moves_back_with_history() {
    let env = Env::new();
    env.import_mixed();
    let bernd = env.id("Bernd Bauer");

    // By unique prefix, human and JSON.
    let shown = env.text(&["contacts", "show", &bernd[..6]]);
    assert!(
        shown.contains("book:      private (consent none)"),
        "{shown}"
    );
    assert!(shown.contains("phone:     +493012345678"), "{shown}");
    let s = env.json(&["contacts", "show", &bernd]);
    assert_eq!(
        (s["book"].as_str(), s["status"].as_str()),
        (Some("private"), Some("none"))
    );

    let g = env.json(&[
        "contacts",
        "grant",
        &bernd,
        "--purpose",
        "Angebote",
        "--evidence",
        "Anruf 3.2.",
    ]);
    assert_eq!(g["book"], "work");
    assert!(
        env.names(Some("work"))
            .contains(&("Bernd Bauer".into(), "work".into()))
    );
    assert!(
        !env.names(Some("private"))
            .iter()
            .any(|(n, _)| n == "Bernd Bauer")
    );
    let s = env.json(&["contacts", "show", &bernd]);
    let history = s["consent"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["status"], "granted");
    assert_eq!(history[1]["purpose"], "Angebote");
    assert_eq!(history[1]["evidence"], "Anruf 3.2.");

    let out = env.text(&["contacts", "withdraw", &bernd, "--evidence", "E-Mail 4.2."]);
    assert!(out.contains("now in the private book"), "{out}");
    let s = env.json(&["contacts", "show", &bernd]);
    assert_eq!(
        (s["book"].as_str(), s["status"].as_str()),
        (Some("private"), Some("withdrawn"))
    );
    assert_eq!(s["consent"]["history"].as_array().unwrap().len(), 3);
    assert!(
        env.names(Some("work"))
            .iter()
            .all(|(n, _)| n != "Bernd Bauer")
    );

    // Nothing left to withdraw; an unknown id; an empty purpose (usage).
    let out = env.run(Some(PASS), &["contacts", "withdraw", &bernd], "");
    assert!(fails(&out, 1).contains("no consent to withdraw"));
    let out = env.run(Some(PASS), &["contacts", "show", "ffffffffffffffff"], "");
    assert!(fails(&out, 1).contains("no contact"));
    let out = env.run(
        Some(PASS),
        &["contacts", "grant", &bernd, "--purpose", " "],
        "",
    );
    assert!(fails(&out, 2).contains("purpose"));
}

#[test]
fn export_contains_the_data_and_erase_removes_it_from_both_books() {
    let env = Env::new();
    env.import_mixed();
    let anna = env.id("Anna Arzt");

    let e = env.json(&["contacts", "export", &anna]);
    assert_eq!(e["format"], "kontor-contact/1");
    assert_eq!(e["book"], "work");
    assert_eq!(e["contact"]["phones"][0]["e164"], "+4915112345678");
    assert_eq!(e["contact"]["emails"][0]["address"], "anna@praxis.example");
    assert_eq!(e["contact"]["organisation"], "Praxis Arzt");
    let history = e["contact"]["consent"]["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|h| h["status"] == "granted" && h["purpose"] == "Terminabsprachen"),
        "{e}"
    );
    // The plain export (no --json) is the same document, pretty-printed.
    let plain: Value = serde_json::from_str(&env.text(&["contacts", "export", &anna])).unwrap();
    assert_eq!(plain, e);

    let vcf = env.data().join("anna.vcf");
    let w = env.json(&[
        "contacts",
        "export",
        &anna,
        "--format",
        "vcard",
        "--out",
        vcf.to_str().unwrap(),
    ]);
    assert_eq!(w["format"], "vcard");
    assert_eq!(w["id"], anna.as_str());
    let card = std::fs::read_to_string(&vcf).unwrap();
    assert_eq!(w["bytes"], card.len());
    for want in [
        "BEGIN:VCARD",
        "FN:Anna Arzt",
        "tel:+4915112345678",
        "EMAIL:anna@praxis.example",
        "X-KONTOR-CONSENT:granted",
    ] {
        assert!(card.contains(want), "{want} missing: {card}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&vcf).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "exports hold personal data");
    let v = env.json(&["contacts", "export", &anna, "--format", "vcard"]);
    assert_eq!(v["content"].as_str(), Some(card.as_str()));

    // No terminal and no --yes: refused (usage), before anything is unlocked.
    let out = env.run(None, &["contacts", "erase", &anna], "");
    assert!(fails(&out, 2).contains("--yes"));
    assert_eq!(env.names(None).len(), 3);

    let gone = env.json(&["contacts", "erase", &anna, "--yes"]);
    assert_eq!(gone["erased"], true);
    assert_eq!(gone["book"], "work");
    assert!(env.names(None).iter().all(|(n, _)| n != "Anna Arzt"));
    let out = env.run(Some(PASS), &["contacts", "show", &anna], "");
    assert!(fails(&out, 1).contains("no contact"));
    let out = env.run(Some(PASS), &["contacts", "export", &anna], "");
    fails(&out, 1);
    let report = env.text(&["contacts", "report"]);
    assert!(
        !report.contains("Anna"),
        "erased from the report too: {report}"
    );

    // A private contact is erased just the same.
    let carla = env.id("Carla Chef");
    let gone = env.json(&["contacts", "erase", &carla, "--yes"]);
    assert_eq!(gone["book"], "private");
    assert_eq!(env.names(None), [("Bernd Bauer".into(), "private".into())]);
}

#[test]
fn consent_report_holds_the_history() {
    let env = Env::new();
    env.import_mixed();
    let bernd = env.id("Bernd Bauer");
    env.json(&["contacts", "grant", &bernd, "--purpose", "Angebote"]);
    env.json(&["contacts", "withdraw", &bernd]);

    let csv = env.text(&["contacts", "report"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,name,book,status,purpose,since,source,evidence,history")
    );
    let row = csv.lines().find(|l| l.contains("Bernd Bauer")).unwrap();
    assert!(row.contains(",private,withdrawn,"), "{row}");
    assert!(row.contains("granted Angebote (manual entry)"), "{row}");
    assert!(row.contains("kunden.vcf line"), "{row}");
    assert_eq!(csv.lines().count(), 4, "header and three contacts: {csv}");

    let rows = env.json(&["contacts", "report", "--format", "json"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let b = rows.iter().find(|r| r["id"] == bernd.as_str()).unwrap();
    let statuses: Vec<&str> = b["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["none", "granted", "withdrawn"]);

    let out = env.data().join("report.csv");
    let w = env.json(&["contacts", "report", "--out", out.to_str().unwrap()]);
    assert_eq!(w["format"], "csv");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
    let wrapped = env.json(&["contacts", "report"]);
    assert_eq!(wrapped["content"].as_str(), Some(csv.as_str()));
}

#[test]
fn a_malformed_file_fails_with_its_line_and_keeps_what_is_stored() {
    let env = Env::new();
    env.import_mixed();
    let before = env.json(&["contacts", "list"]);

    // A card without any usable field, after two blank lines: line 3.
    let bad = env.file(
        "kaputt.vcf",
        "\n\nBEGIN:VCARD\nVERSION:3.0\nNOTE:nur eine Notiz\nEND:VCARD\n",
    );
    let out = env.run(Some(PASS), &["contacts", "import", &bad], "");
    let err = fails(&out, 1);
    assert!(err.contains("kaputt.vcf line 3: "), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    // A CSV without a name, phone or e-mail column: its header, line 1.
    let csv = env.file("liste.csv", "Farbe;Größe\nrot;XL\n");
    let err = fails(
        &env.run(Some(PASS), &["--json", "contacts", "import", &csv], ""),
        1,
    );
    assert!(err.contains("liste.csv line 1: header"), "{err}");

    // Not a contact file at all, a missing file, a directory.
    let junk = env.file("notes.txt", "just some words\n");
    let err = fails(&env.run(Some(PASS), &["contacts", "import", &junk], ""), 1);
    assert!(err.contains("notes.txt"), "{err}");
    let missing = env.data().join("fehlt.vcf");
    let err = fails(
        &env.run(None, &["contacts", "import", missing.to_str().unwrap()], ""),
        1,
    );
    assert!(err.contains("fehlt.vcf"), "{err}");

    assert_eq!(
        env.json(&["contacts", "list"]),
        before,
        "stored contacts intact"
    );
}

#[test]
fn wrong_passphrase_exits_3_and_changes_nothing() {
    let env = Env::new();
    env.import_mixed();
    let before = env.json(&["contacts", "report", "--format", "json"]);
    let anna = env.id("Anna Arzt");
    let f = env.file("kunden.vcf", MIXED);

    for args in [
        &["contacts", "list"][..],
        &["contacts", "show", &anna],
        &["contacts", "import", &f],
        &["contacts", "add", "--name", "Eva"],
        &["contacts", "withdraw", &anna],
        &["contacts", "erase", &anna, "--yes"],
        &["contacts", "report"],
    ] {
        let out = env.run(Some("wrong horse"), args, "");
        assert!(fails(&out, 3).contains("passphrase"), "{args:?}");
    }
    // The same with the passphrase as a stdin line.
    let out = env.run(
        None,
        &["--json", "contacts", "grant", &anna, "--purpose", "x"],
        "nope\n",
    );
    fails(&out, 3);
    // The right one through stdin works.
    let out = env.run(None, &["--json", "contacts", "list"], &format!("{PASS}\n"));
    assert_eq!(parse(&out, &["list"]).as_array().unwrap().len(), 3);

    assert_eq!(
        env.json(&["contacts", "report", "--format", "json"]),
        before
    );
}

#[test]
fn add_enters_contacts_by_hand() {
    let env = Env::new();
    let a = env.json(&[
        "contacts",
        "add",
        "--name",
        "Frieda Fischer",
        "--phone",
        "0171 7654321",
        "--phone",
        "+43 664 1234567",
        "--email",
        "frieda@example.org",
        "--org",
        "Fischerei",
        "--note",
        "Kundin seit 2019",
        "--consent",
        "granted",
        "--purpose",
        "Lieferungen",
    ]);
    assert_eq!(a["book"], "work");
    assert_eq!(a["phones"][0]["e164"], "+491717654321");
    assert_eq!(a["phones"][1]["e164"], "+436641234567");
    assert_eq!(a["consent"]["history"][0]["purpose"], "Lieferungen");
    assert_eq!(a["consent"]["history"][0]["source"]["kind"], "manual");

    let out = env.run(
        Some(PASS),
        &["contacts", "add", "--name", "Gerd", "--phone", "12"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("to the private book"));
    // The warning names the position, never the number.
    let err = stderr(&out);
    assert!(
        err.contains("phone number 1 is not a valid number"),
        "{err}"
    );
    assert!(!err.contains("12"), "{err}");

    let out = env.run(
        Some(PASS),
        &["contacts", "add", "--name", "H", "--purpose", "x"],
        "",
    );
    assert!(fails(&out, 2).contains("--consent granted"));
    let out = env.run(Some(PASS), &["contacts", "add", "--email", "x@y.z"], "");
    assert_eq!(out.status.code(), Some(2), "--name is required");
    assert_eq!(env.names(None).len(), 2);
}

#[test]
fn without_a_book_commands_fail_and_create_nothing() {
    let env = Env::new();
    for args in [
        &["contacts", "list"][..],
        &["--json", "contacts", "report"],
        &["contacts", "show", "abcd"],
        &["contacts", "erase", "abcd", "--yes"],
    ] {
        let out = env.run(Some(PASS), args, "");
        assert!(fails(&out, 1).contains("no contact book"), "{args:?}");
    }
    // Without a login, discovery is exit 4 before anything else.
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
    assert!(fails(&out, 4).contains("not logged in"));
    let out = env.run(
        Some(PASS),
        &["contacts", "discover", "--identity-server", "vector.im"],
        "",
    );
    fails(&out, 2);
    assert_eq!(
        std::fs::read_dir(env.data()).unwrap().count(),
        0,
        "nothing written"
    );
}

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
