//! The fixtures: a temp data directory (`Env`), the mixed vCard file, and the runner
//! with its checks (`parse` for one JSON line, `fails` for one error line and a code).

use std::{
    io::Write,
    path::Path,
    process::{Command, Output, Stdio},
};

use serde_json::Value;

pub(crate) const PASS: &str = "correct horse battery staple";

/// Five cards: Anna consented (and appears twice: merged), Bernd has no consent field,
/// Carla said no and has a number that is not valid, Dora's consent value is unknown
/// (rejected).
pub(crate) const MIXED: &str = "\
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
pub(crate) fn line_of(text: &str, needle: &str) -> u64 {
    text.lines().position(|l| l.contains(needle)).unwrap() as u64 + 1
}

/// A data directory with its fixtures.
pub(crate) struct Env {
    dir: tempfile::TempDir,
}

impl Env {
    pub(crate) fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub(crate) fn data(&self) -> &Path {
        self.dir.path()
    }

    /// Writes a fixture file beside (not inside) the data directory's stores.
    pub(crate) fn file(&self, name: &str, content: &str) -> String {
        let path = self.dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        path.to_str().unwrap().to_owned()
    }

    /// `kontor ARGS` with `pass` in KONTOR_PASSPHRASE (or none: stdin carries it).
    pub(crate) fn run(&self, pass: Option<&str>, args: &[&str], stdin: &str) -> Output {
        run(self.data(), pass, args, stdin)
    }

    /// `kontor --json ARGS` with the right passphrase; must succeed with one JSON line.
    pub(crate) fn json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        parse(&self.run(Some(PASS), &all, ""), args)
    }

    /// `kontor ARGS` with the right passphrase; must succeed; stdout as text.
    pub(crate) fn text(&self, args: &[&str]) -> String {
        let out = self.run(Some(PASS), args, "");
        assert!(out.status.success(), "{args:?}: {}", stderr(&out));
        String::from_utf8(out.stdout).unwrap()
    }

    /// Imports the mixed fixture and returns the JSON report.
    pub(crate) fn import_mixed(&self) -> Value {
        let f = self.file("kunden.vcf", MIXED);
        self.json(&["contacts", "import", &f])
    }

    /// `(name, book)` of every contact, as `list --json` shows them.
    pub(crate) fn names(&self, book: Option<&str>) -> Vec<(String, String)> {
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
    pub(crate) fn id(&self, name: &str) -> String {
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

/// stderr as text.
pub(crate) fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Checks success and parses stdout as exactly one JSON document.
pub(crate) fn parse(out: &Output, what: &[&str]) -> Value {
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
pub(crate) fn fails(out: &Output, code: i32) -> String {
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
