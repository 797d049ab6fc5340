//! Kill -9 a process in the middle of grants, withdrawals and imports, many
//! times at random moments; after every restart each contact must be in exactly
//! one book, in the book its consent says, with a well-formed history, and
//! every import batch must be there completely or not at all.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use kontor_contacts::{
    Book, ConsentEvent, ConsentSource, ConsentStatus, ContactBook, Evidence, KdfParams, NewContact,
    OpenOptions,
};
use rand::{Rng, SeedableRng};

const PASS: &str = "crash test";

fn check(dir: &std::path::Path) -> usize {
    let book = ContactBook::open(dir, PASS).unwrap_or_else(|e| panic!("reopen after kill: {e}"));
    let mut seen: HashMap<String, Book> = HashMap::new();
    let mut batches: HashMap<String, usize> = HashMap::new();
    for b in [Book::Work, Book::Private] {
        for c in book.list(b).unwrap() {
            assert!(
                seen.insert(c.id.clone(), b).is_none(),
                "contact {} is in both books",
                c.id
            );
            let status = c.consent.status();
            assert_eq!(
                b == Book::Work,
                status == ConsentStatus::Granted,
                "{} in {b} with status {status}",
                c.id
            );
            // A decision closes the request it answers, in the same step as the move.
            if status == ConsentStatus::Granted {
                assert!(
                    c.consent_request.is_none(),
                    "{} granted with a request open",
                    c.id
                );
            }
            if let Some(ConsentEvent {
                source: ConsentSource::Chat { .. },
                evidence: Some(Evidence::Chat(chat)),
                ..
            }) = c.consent.current()
            {
                assert_eq!(c.chat_id.as_deref(), Some(chat.answer.sender.as_str()));
                if chat.request.is_some() {
                    assert!(
                        c.consent_request.is_none(),
                        "{} answered, still asked",
                        c.id
                    );
                }
            }
            let h = c.consent.history();
            for pair in h.windows(2) {
                assert_ne!(
                    pair[0].status, pair[1].status,
                    "history of {} repeats a status: {h:?}",
                    c.id
                );
            }
            for l in &c.labels {
                *batches.entry(l.clone()).or_default() += 1;
            }
        }
    }
    for (label, n) in batches {
        assert_eq!(n, 3, "import batch {label} is partial");
    }
    seen.len()
}

#[test]
fn kill_dash_nine_at_random_points() {
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("profile");
    {
        let opts = OpenOptions {
            kdf: KdfParams::insecure_fast(),
            ..OpenOptions::default()
        };
        let book = ContactBook::open_with(&profile, PASS, opts).unwrap();
        for i in 0..6 {
            let c = NewContact {
                display_name: format!("Kontakt {i}"),
                phones: vec![format!("030 {:08}", 20_000_000 + i)],
                ..NewContact::default()
            };
            book.add(
                c,
                if i % 2 == 0 {
                    Some(("Kundenkommunikation", None))
                } else {
                    None
                },
            )
            .unwrap();
        }
    }
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    println!("seed {seed}");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut progressed = 0;
    for round in 0..25 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_kontor-contacts-crash-worker"))
            .arg(&profile)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut ready = String::new();
        stdout.read_line(&mut ready).unwrap();
        assert_eq!(ready.trim(), "ready", "worker failed to start");
        std::thread::sleep(Duration::from_millis(rng.gen_range(0..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let mut rest = String::new();
        stdout.read_to_string(&mut rest).unwrap();
        let steps = rest.lines().count();
        progressed += steps;
        let n = check(&profile);
        println!("round {round}: killed after {steps} steps, {n} contacts consistent");
    }
    let n = check(&profile);
    assert!(
        progressed > 25,
        "the worker hardly ran ({progressed} steps); the test proved little"
    );
    assert!(
        n > 6,
        "no import batch ever committed; the test proved little"
    );
}
