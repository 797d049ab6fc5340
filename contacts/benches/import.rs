//! Import benchmark: generates a 100,000-contact vCard file (German and
//! international numbers, mixed vCard versions and consent), imports it into a
//! fresh profile and prints wall time, peak RSS and the unlock time with the
//! default Argon2id parameters.
//!
//! The peer: the same file parsed with Python `vobject` and every TEL
//! normalised with `phonenumbers` (`import_peer.py`), in a venv the bench
//! creates under `target/kontor-bench-venv` with pinned versions; skipped with
//! a message when Python or PyPI is not reachable.
//!
//! Run: `cargo bench -p kontor-contacts --bench import` (optionally `-- 20000` for another size,
//! `-- --no-peer` to skip the Python peer while iterating).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::Instant;

use kontor_contacts::{ContactBook, ImportOptions, KdfParams, OpenOptions};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const FIRST: &[&str] = &[
    "Jürgen",
    "Anna",
    "Özlem",
    "Björn",
    "Sophie",
    "Lukas",
    "Käthe",
    "Mehmet",
    "Zoë",
    "François",
    "Maximilian",
    "Jörg",
];
const LAST: &[&str] = &[
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weiß",
    "Größer",
    "Yılmaz",
    "Nowak",
    "Bäcker",
    "O'Brien",
    "Straßer",
    "Hoffmann",
];

fn number(rng: &mut StdRng, i: usize) -> String {
    let tail = i % 10_000_000;
    match rng.gen_range(0..10) {
        0..=3 => format!("0151 {:08}", i % 100_000_000),
        4 => format!("+49 171 {tail:07}"),
        5 => format!("030 {:08}", 20_000_000 + i % 70_000_000),
        6 => format!("+43 664 {tail:07}"),
        7 => format!(
            "+41 79 {:03} {:02} {:02}",
            (i / 10_000) % 1000,
            (i / 100) % 100,
            i % 100
        ),
        8 => format!("+44 7700 {:06}", 900_000 + i % 100_000),
        _ => format!("+1 415 {:03} {:04}", 200 + (i / 10_000) % 700, i % 10_000),
    }
}

fn qp(s: &str) -> String {
    s.bytes().fold(String::new(), |mut o, b| {
        let _ = write!(o, "={b:02X}");
        o
    })
}

fn generate(n: usize) -> String {
    let mut rng = StdRng::seed_from_u64(42);
    let mut out = String::with_capacity(n * 260);
    for i in 0..n {
        let first = FIRST[rng.gen_range(0..FIRST.len())];
        let last = LAST[rng.gen_range(0..LAST.len())];
        // 1% duplicates of an earlier contact's number, to exercise merging.
        let id = if i > 100 && rng.gen_range(0..100) == 0 {
            i - 50
        } else {
            i
        };
        let consent = match rng.gen_range(0..20) {
            0..=5 => "granted",
            6 => "withdrawn",
            _ => "none",
        };
        if i % 10 == 0 {
            let name = format!("{first} {last}");
            let _ = write!(
                out,
                "BEGIN:VCARD\r\nVERSION:2.1\r\nN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{};{};;;\r\nFN;CHARSET=UTF-8;ENCODING=QUOTED-PRINTABLE:{}\r\nTEL;CELL:{}\r\nX-KONTOR-CONSENT:{consent}\r\nEND:VCARD\r\n",
                qp(last),
                qp(first),
                qp(&name),
                number(&mut rng, id)
            );
        } else {
            let _ = write!(
                out,
                "BEGIN:VCARD\nVERSION:3.0\nN:{last};{first};;;\nFN:{first} {last}\nORG:Firma {} GmbH\nTEL;TYPE=CELL:{}\nTEL;TYPE=WORK:{}\nEMAIL;TYPE=INTERNET:{}.{}{id}@example.de\nNOTE:Kunde seit {}\nX-KONTOR-CONSENT:{consent}\nEND:VCARD\n",
                i % 977,
                number(&mut rng, id),
                number(&mut rng, id + 3_000_000),
                first.to_lowercase(),
                last.to_lowercase(),
                2000 + i % 25
            );
        }
    }
    out
}

fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU time (user + system, all threads) this process has used, in seconds:
/// less sensitive than wall time to other work on a shared machine.
fn cpu_s() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<f64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0.0))
        .collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after ") ".
    (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
}

/// Pinned so runs stay comparable; phonenumbers 9.0.33 carries the same
/// metadata release as the Rust `phonenumber` crate (0.3.10+9.0.33).
const PEER_PACKAGES: &[&str] = &["phonenumbers==9.0.33", "vobject==0.9.9"];

/// `target/` of this build (the bench binary runs from `target/release/deps`).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.parent()?.to_path_buf()))
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"))
}

/// The venv's python with the pinned packages, creating it if needed.
fn peer_python() -> Result<PathBuf, String> {
    let venv = target_dir().join("kontor-bench-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("kontor-bench-packages.txt");
    let wanted = PEER_PACKAGES.join("\n");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(python);
    }
    let run = |cmd: &mut Command, what: &str| -> Result<(), String> {
        let out = cmd.output().map_err(|e| format!("{what}: {e}"))?;
        if out.status.success() {
            Ok(())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let last = err
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("");
            Err(format!("{what} failed: {last}"))
        }
    };
    if !python.exists() {
        run(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        )?;
    }
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(PEER_PACKAGES),
        "pip install (PyPI not reachable?)",
    )?;
    std::fs::write(&stamp, wanted).map_err(|e| e.to_string())?;
    Ok(python)
}

/// Runs the Python peer on `file`; its JSON report.
fn run_peer(file: &Path) -> Result<serde_json::Value, String> {
    let python = peer_python()?;
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/import_peer.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(file)
        .output()
        .map_err(|e| format!("running {}: {e}", python.display()))?;
    if !out.status.success() {
        return Err(format!(
            "peer failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("peer output: {e}"))
}

fn main() {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("contacts.vcf");
    std::fs::write(&file, generate(n)).expect("write vCard");
    let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
    println!(
        "generated {n} contacts, {:.1} MiB, peak RSS so far {:.0} MiB",
        size as f64 / 1048576.0,
        peak_rss_mib()
    );

    // Breakdown: phone normalisation alone, one thread.
    let mut rng = StdRng::seed_from_u64(7);
    let numbers: Vec<String> = (0..20_000).map(|i| number(&mut rng, i)).collect();
    let t = Instant::now();
    let valid = numbers
        .iter()
        .filter(|n| kontor_contacts::normalise_phone(n, Default::default()).is_some())
        .count();
    let per = t.elapsed().as_secs_f64() / numbers.len() as f64 * 1e6;
    println!(
        "phone normalisation: {per:.1} µs per number on one thread ({valid}/{} valid)",
        numbers.len()
    );

    let profile = dir.path().join("profile");
    let opts = OpenOptions {
        kdf: KdfParams::default(),
        ..OpenOptions::default()
    };
    let t = Instant::now();
    let book = ContactBook::open_with(&profile, "bench passphrase", opts).expect("create");
    println!(
        "create (2x Argon2id {:?}): {:.2} s",
        KdfParams::default(),
        t.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let cpu0 = cpu_s();
    let mut marks: Vec<(String, f64, f64)> = Vec::new();
    let mut last = String::new();
    let mut on_progress = |p: kontor_contacts::Progress| {
        let label = format!(
            "{:?}{}",
            p.phase,
            if p.done == p.total && p.total > 0 {
                " end"
            } else {
                ""
            }
        );
        if label != last {
            marks.push((
                format!("{label} rss {:.0} hwm {:.0}", rss_mib(), peak_rss_mib()),
                t.elapsed().as_secs_f64(),
                cpu_s() - cpu0,
            ));
            last = label;
        }
    };
    let report = book
        .import_file(
            &file,
            &ImportOptions::default(),
            &mut on_progress,
            &AtomicBool::new(false),
        )
        .expect("import");
    let import_s = t.elapsed().as_secs_f64();
    let import_cpu = cpu_s() - cpu0;
    println!("phase start (label, RSS MiB, wall s, CPU s):");
    for (label, wall, cpu) in &marks {
        println!("  {label:<24} {wall:6.2} {cpu:6.2}");
    }
    println!("import CPU time (user + sys, all threads): {import_cpu:.2} s");
    println!(
        "import: {import_s:.2} s — {} read, {} work, {} private, {} merged, {} rejected, {} warnings; peak RSS {:.0} MiB",
        report.read,
        report.added_work,
        report.added_private,
        report.merged.len(),
        report.rejected.len(),
        report.warnings.len(),
        peak_rss_mib()
    );
    drop(book);

    // The peer runs after our import so neither disturbs the other's peak RSS
    // (it is a separate process anyway) or timing.
    let peer = if std::env::args().any(|a| a == "--no-peer") {
        Err("--no-peer given".to_owned())
    } else {
        run_peer(&file)
    };
    match peer {
        Ok(peer) => {
            let secs = peer["seconds"].as_f64().unwrap_or(f64::NAN);
            println!(
                "peer (Python {} vobject {} + phonenumbers {}, parse + normalise only, one core): \
                 {secs:.2} s, {} cards, {} TELs ({} valid), peak RSS {:.0} MiB",
                peer["python"].as_str().unwrap_or("?"),
                peer["vobject"].as_str().unwrap_or("?"),
                peer["phonenumbers"].as_str().unwrap_or("?"),
                peer["cards"],
                peer["tels"],
                peer["valid"],
                peer["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
            );
            println!(
                "ratio peer / kontor full import (parse, normalise, merge, seal, commit): {:.1}x",
                secs / import_s
            );
        }
        Err(e) => println!("peer skipped: {e}"),
    }

    let t = Instant::now();
    let book = ContactBook::open(&profile, "bench passphrase").expect("reopen");
    println!(
        "unlock (open both books): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    let t = Instant::now();
    let work = book.work().list().expect("list").len();
    println!(
        "list work book ({work} contacts, decrypt all): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    println!("peak RSS overall {:.0} MiB", peak_rss_mib());
}
