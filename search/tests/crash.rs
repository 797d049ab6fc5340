//! Crash safety: a worker process indexes and commits in a loop and is killed with
//! SIGKILL at random moments; after every kill the index must open (no stale lock, no
//! half-written file), its committed state must match the documents present, and no
//! hit may be wrong.
//!
//! The worker is this test binary itself, re-executed with [`WORKER_ENV`] set and
//! `--exact crash_worker`, so the test needs no helper binary.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use kontor_search::{Doc, DocKind, SearchIndex, SearchQuery};
use rand::{Rng, SeedableRng};
use zeroize::Zeroizing;

const WORKER_ENV: &str = "KONTOR_SEARCH_CRASH_WORKER_DIR";

fn key() -> Zeroizing<[u8; 32]> {
    Zeroizing::new([9; 32])
}

fn doc(i: u64) -> Doc {
    Doc {
        event_id: format!("$c{i}"),
        room_id: format!("!room{}:x", i % 5),
        sender: "@worker:x".into(),
        timestamp_ms: i as i64,
        kind: DocKind::Message,
        text: format!("crash{i} gemeinsam Wort{} Angebote für Müller", i % 7),
    }
}

/// The worker: continue from the committed state, add docs, commit with the new count.
/// Runs until killed. As a plain test (no env var) it does nothing.
#[test]
fn crash_worker() {
    let Some(dir) = std::env::var_os(WORKER_ENV) else {
        return;
    };
    let index = SearchIndex::open(Path::new(&dir), key()).unwrap();
    let mut n: u64 = index.state().map_or(0, |s| s.parse().unwrap());
    let mut rng = rand::rngs::StdRng::seed_from_u64(n);
    let mut first = true;
    loop {
        let batch = rng.gen_range(1..=30);
        let docs: Vec<Doc> = (n..n + batch).map(doc).collect();
        index.upsert(&docs).unwrap();
        // Sometimes an edit of an older doc (same text: the edit must not duplicate it).
        if n > 0 {
            index.upsert(&[doc(rng.gen_range(0..n))]).unwrap();
        }
        n += batch;
        index.commit(Some(&n.to_string())).unwrap();
        if first {
            // Tells the parent this round is under way (only once: nobody drains the pipe).
            println!("committed {n}");
            first = false;
        }
    }
}

fn check(dir: &Path) -> u64 {
    let index = SearchIndex::open(dir, key()).expect("opens after kill -9");
    let n: u64 = index.state().map_or(0, |s| s.parse().unwrap());
    assert_eq!(index.len().unwrap(), n, "exactly the committed docs");
    for i in 0..n {
        assert!(index.contains(&format!("$c{i}")).unwrap(), "doc {i} of {n}");
    }
    // Searches: a sample of unique words finds exactly its doc; a common word only
    // gives hits whose text has it.
    let step = (n / 50).max(1);
    for i in (0..n).step_by(step as usize) {
        let q = SearchQuery {
            text: format!("crash{i}"),
            ..Default::default()
        };
        let hits = index.search(&q).unwrap();
        assert_eq!(hits.len(), 1, "crash{i}");
        assert_eq!(hits[0].event_id, format!("$c{i}"));
    }
    let q = SearchQuery {
        text: "wort3 mueller".into(),
        limit: 10_000,
        ..Default::default()
    };
    let hits = index.search(&q).unwrap();
    assert_eq!(
        hits.len() as u64,
        (0..n).filter(|i| i % 7 == 3).count() as u64
    );
    for h in hits {
        assert!(h.snippet.contains("Wort3") && h.snippet.contains("Müller"));
    }
    n
}

#[test]
fn index_survives_kill_9_at_random_moments() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    eprintln!("crash test seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let exe = std::env::current_exe().unwrap();
    let mut last = 0;
    let mut progressed = 0;
    for round in 0..8 {
        let mut child = Command::new(&exe)
            .args(["--exact", "crash_worker", "--nocapture", "--test-threads=1"])
            .env(WORKER_ENV, &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // Wait for the first commit of this round, then a random moment more.
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let committed = lines.any(|l| l.is_ok_and(|l| l.contains("committed ")));
        assert!(committed, "worker committed");
        std::thread::sleep(Duration::from_millis(rng.gen_range(1..800)));
        assert!(child.try_wait().unwrap().is_none(), "worker died by itself");
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let n = check(&dir);
        eprintln!("round {round}: {n} docs committed");
        assert!(n >= last, "committed docs never go back ({last} → {n})");
        if n > last {
            progressed += 1;
        }
        last = n;
    }
    assert!(progressed >= 7, "the worker made progress in most rounds");
}
