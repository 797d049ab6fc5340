//! Consent in the chat on a book of realistic size: how long Kontor needs to find the
//! contact behind a chat account (every message that may be an answer — "Ja", 👍,
//! "STOP" — costs one such lookup, and the chat list's names read the same records),
//! and how long the journaled move after a customer's "yes" takes.
//!
//! Run: `cargo bench -p kontor-contacts --bench chat` (optionally `-- 20000` for another
//! size). Prints the median and best of 15 rounds.

use std::time::{Duration, Instant};

use kontor_contacts::{
    AnswerWay, Book, ChatAnswer, ConsentRequest, ContactBook, KdfParams, NewContact, OpenOptions,
    Timestamp,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let n: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with('-'))
        .and_then(|a| a.parse().ok())
        .unwrap_or(5_000);
    let dir = tempfile::tempdir()?;
    let opts = OpenOptions {
        kdf: KdfParams::insecure_fast(),
        ..OpenOptions::default()
    };
    let book = ContactBook::open_with(dir.path(), "bench", opts)?;
    let started = Instant::now();
    // Half the contacts chat (linked accounts), a quarter have consented.
    let mut ids = Vec::with_capacity(n);
    for i in 0..n {
        let consent = (i % 4 == 0).then_some(("Kundenkommunikation über Kontor", None));
        let c = book.add(
            NewContact {
                display_name: format!("Kunde {i}"),
                phones: vec![format!("0151 {:08}", i)],
                ..NewContact::default()
            },
            consent,
        )?;
        if i % 2 == 0 {
            book.link_chat(&c.id, &format!("@kunde{i}:example.org"))?;
        }
        ids.push(c.id);
    }
    println!(
        "book: {n} contacts ({} work, {} private), written in {:.1} s",
        book.list(Book::Work)?.len(),
        book.list(Book::Private)?.len(),
        started.elapsed().as_secs_f64()
    );

    // The last linked account: the lookup reads every record before it finds it.
    let last = (n - 1) / 2 * 2;
    let user = format!("@kunde{last}:example.org");
    let lookup = rounds(|| {
        let found = book.by_matrix_user(&user).expect("lookup");
        assert!(found.is_some());
        None
    });
    report("find the contact of a chat account", &lookup);
    let missing = rounds(|| {
        assert!(
            book.by_matrix_user("@stranger:example.org")
                .expect("lookup")
                .is_none()
        );
        None
    });
    report("… of an account that is no contact", &missing);

    // The answer: a private contact asked and answering yes moves to the work book.
    let mut k = 0;
    let private: Vec<String> = book
        .list(Book::Private)?
        .into_iter()
        .filter(|c| c.chat_id.is_some())
        .map(|c| c.id)
        .collect();
    let moves = rounds(|| {
        let id = &private[k];
        let asked = format!("@kunde-asked{k}:example.org");
        book.link_chat(id, &asked).expect("link");
        book.record_request(id, request(k, &asked))
            .expect("request");
        let t = Instant::now();
        book.answer_request(id, true, answer(k, &asked))
            .expect("answer");
        k += 1;
        Some(t.elapsed())
    });
    report("the customer's yes: recorded and moved", &moves);
    Ok(())
}

/// 15 rounds of `f`; `f` may return the part of its time to count.
fn rounds(mut f: impl FnMut() -> Option<Duration>) -> Vec<Duration> {
    let mut out: Vec<Duration> = (0..15)
        .map(|_| {
            let t = Instant::now();
            f().unwrap_or_else(|| t.elapsed())
        })
        .collect();
    out.sort();
    out
}

fn report(what: &str, times: &[Duration]) {
    println!(
        "{what}: median {:.2} ms, best {:.2} ms",
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[0].as_secs_f64() * 1e3
    );
}

fn request(k: usize, user: &str) -> ConsentRequest {
    ConsentRequest {
        room_id: "!bench:example.org".into(),
        event_id: format!("$request{k}"),
        text: "Bitte um Einwilligung".into(),
        purpose: "Kundenkommunikation über Kontor".into(),
        language: "de".into(),
        asked_by: "@freelancer:example.org".into(),
        asked_device: Some("BENCH".into()),
        asked_user: user.into(),
        asked_at: Timestamp::now(),
    }
}

fn answer(k: usize, user: &str) -> ChatAnswer {
    ChatAnswer {
        event_id: format!("$answer{k}"),
        text: "JA".into(),
        way: AnswerWay::Message,
        sender: user.into(),
        sender_device: Some("PHONE".into()),
        server_at: Timestamp::now(),
        received_at: Timestamp::now(),
    }
}
