//! Test support for `tests/crash.rs`: opens the profile in `argv[1]` and grants,
//! withdraws, imports and answers consent requests in the chat (the move after a
//! customer's "yes" and "STOP") in a loop until it is killed. Prints each finished step.

use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;

use kontor_contacts::{
    AnswerWay, Book, ChatAnswer, ConsentRequest, ContactBook, Format, ImportOptions, Timestamp,
};

/// The customer's account in the chat steps.
const CUSTOMER: &str = "@customer:crash.test";
const ROOM: &str = "!chat:crash.test";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = PathBuf::from(std::env::args().nth(1).ok_or("usage: crash-worker DIR")?);
    let book = ContactBook::open(&dir, "crash test")?;
    let pid = std::process::id();
    let mut stdout = std::io::stdout();
    // Load the phone metadata now, so the parent's random kill times fall on real work.
    let _ = kontor_contacts::normalise_phone("030 12345678", Default::default());
    writeln!(stdout, "ready")?;
    stdout.flush()?;
    for k in 0u64.. {
        if k % 4 == 3 {
            let mut vcf = String::new();
            for j in 0..3 {
                let n = (u64::from(pid) * 1000 + k * 3 + j) % 100_000_000;
                vcf.push_str(&format!(
                    "BEGIN:VCARD\nVERSION:3.0\nFN:Batch {k} {j}\nTEL:+49 151 {n:08}\nCATEGORIES:batch-{pid}-{k}\nX-KONTOR-CONSENT:{}\nEND:VCARD\n",
                    if j == 0 { "granted" } else { "none" }
                ));
            }
            let opts = ImportOptions::default();
            book.import_bytes(
                "batch.vcf",
                vcf.as_bytes(),
                Format::VCard,
                &opts,
                &mut |_| {},
                &AtomicBool::new(false),
            )?;
        } else {
            let mut all: Vec<(Book, String)> = Vec::new();
            for b in [Book::Work, Book::Private] {
                all.extend(book.list(b)?.into_iter().map(|c| (b, c.id)));
            }
            all.sort_by(|a, b| a.1.cmp(&b.1));
            let (b, id) = &all[(k as usize) % all.len()];
            if k % 4 == 1 {
                // The chat: the customer's answer moves the contact and closes the
                // request in one journaled step; STOP moves it back.
                book.link_chat(id, CUSTOMER)?;
                match b {
                    Book::Work => book.withdraw_in_chat(id, ROOM, answer(k, "STOP"))?,
                    Book::Private => {
                        if book.get(id)?.1.consent_request.is_none() {
                            book.record_request(id, request(k))?;
                        }
                        book.answer_request(id, true, answer(k, "JA"))?
                    }
                };
            } else {
                match b {
                    Book::Work => book.withdraw(id, Some("crash test"))?,
                    Book::Private => book.grant(id, "crash test", None)?,
                };
            }
        }
        writeln!(stdout, "{k}")?;
        stdout.flush()?;
    }
    Ok(())
}

fn request(k: u64) -> ConsentRequest {
    ConsentRequest {
        room_id: ROOM.into(),
        event_id: format!("$request{k}"),
        text: "Bitte um Einwilligung".into(),
        purpose: "crash test".into(),
        language: "de".into(),
        asked_by: "@freelancer:crash.test".into(),
        asked_device: Some("WORKER".into()),
        asked_user: CUSTOMER.into(),
        asked_at: Timestamp::now(),
    }
}

fn answer(k: u64, text: &str) -> ChatAnswer {
    ChatAnswer {
        event_id: format!("$answer{k}"),
        text: text.into(),
        way: AnswerWay::Message,
        sender: CUSTOMER.into(),
        sender_device: Some("PHONE".into()),
        server_at: Timestamp::now(),
        received_at: Timestamp::now(),
    }
}
