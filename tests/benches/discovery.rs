//! Discovery benchmark: 10,000 consented contacts (each with a number and an e-mail
//! address, so 20,000 hashes) against a real Sydent and Synapse on loopback; 100 of the
//! numbers are bound to a Matrix user. Prints the time of a first run (which stores the
//! 100 Matrix ids), a second run (nothing changes) and the parts of a run.
//!
//! Run: `cargo bench -p kontor-testkit --bench discovery` (optionally `-- 20000` for
//! another size). Lives in the testkit because it needs both servers; the work book
//! uses the fast test KDF, since unlocking is measured by the import benchmark.

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, ensure};
use kontor_contacts::{
    ConsentMode, ContactBook, Discovery, Format, HttpIdentityService, IdentityService,
    ImportOptions, KdfParams, OpenIdToken, OpenOptions, WorkBook, lookup_hash,
};
use kontor_testkit::{Sydent, Synapse};

const PASS: &str = "bench";
const BOUND: usize = 100;

fn number(i: usize) -> String {
    format!("49151{:08}", 10_000_000 + i)
}

fn vcard(n: usize) -> String {
    let mut out = String::with_capacity(n * 120);
    for i in 0..n {
        out.push_str(&format!(
            "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Kundin {i}\r\nTEL:+{}\r\n\
             EMAIL:kundin{i}@beispiel.example\r\nEND:VCARD\r\n",
            number(i)
        ));
    }
    out
}

/// An OpenID token for `user`, straight from the client-server API.
fn openid(hs: &Synapse, login: &str, password: &str) -> Result<OpenIdToken> {
    let session: serde_json::Value =
        ureq::post(&format!("{}/_matrix/client/v3/login", hs.base_url))
            .send_json(serde_json::json!({
                "type": "m.login.password",
                "identifier": {"type": "m.id.user", "user": login},
                "password": password,
            }))?
            .into_json()?;
    let access = session["access_token"]
        .as_str()
        .context("no access token")?;
    let user = session["user_id"].as_str().context("no user id")?;
    let token: OpenIdToken = ureq::post(&format!(
        "{}/_matrix/client/v3/user/{user}/openid/request_token",
        hs.base_url
    ))
    .set("Authorization", &format!("Bearer {access}"))
    .send_json(serde_json::json!({}))?
    .into_json()?;
    Ok(token)
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn main() -> Result<()> {
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(10_000);
    let hs = Synapse::start()?;
    let is = Sydent::start()?;
    hs.register("anna", "anna-pass")?;
    let ben = hs.register("ben", "ben-pass")?;
    for i in 0..BOUND.min(n) {
        is.bind_msisdn(&number(i * (n / BOUND.min(n).max(1))), &ben.user_id)?;
    }

    let dir = tempfile::tempdir()?;
    let started = Instant::now();
    {
        let book = ContactBook::open_with(
            dir.path(),
            PASS,
            OpenOptions {
                kdf: KdfParams::insecure_fast(),
                ..OpenOptions::default()
            },
        )?;
        let report = book.import_bytes(
            "bench.vcf",
            vcard(n).as_bytes(),
            Format::VCard,
            &ImportOptions {
                consent: ConsentMode::Granted,
                ..ImportOptions::default()
            },
            &mut |_| {},
            &AtomicBool::new(false),
        )?;
        ensure!(report.added_work == n, "imported {}", report.added_work);
    }
    println!(
        "setup: {n} consented contacts imported, {BOUND} numbers bound ({})",
        ms(started.elapsed())
    );

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let work = WorkBook::open(dir.path(), PASS)?;
    let service = HttpIdentityService::new(&is.direct_url())?;
    let discovery = Discovery::new(service.clone());

    for run in ["first run (stores ids)", "second run (no change)"] {
        let token = openid(&hs, "anna", "anna-pass")?;
        let t = Instant::now();
        let report = rt.block_on(discovery.run(&work, &token))?;
        let took = t.elapsed();
        ensure!(report.found == BOUND.min(n), "found {}", report.found);
        println!(
            "{run}: {} — {} contacts, {} hashes, {} lookups, {} found, {} changed",
            ms(took),
            report.contacts,
            report.hashes_sent,
            report.batches,
            report.found,
            report.changed
        );
    }

    // The parts, to see where the time goes.
    let t = Instant::now();
    let contacts = work.list()?;
    let list = t.elapsed();
    let token = openid(&hs, "anna", "anna-pass")?;
    let (hashes, lookups) = rt.block_on(async {
        let access = service.register(&token).await?;
        let pepper = service.hash_details(&access).await?.lookup_pepper;
        let t = Instant::now();
        let mut all = Vec::new();
        for c in &contacts {
            for p in &c.phones {
                if let Some(e) = &p.e164 {
                    all.push(lookup_hash(e.trim_start_matches('+'), "msisdn", &pepper));
                }
            }
            for e in &c.emails {
                all.push(lookup_hash(&e.normalised(), "email", &pepper));
            }
        }
        let hashes = t.elapsed();
        let t = Instant::now();
        for chunk in all.chunks(500) {
            service.lookup(&access, &pepper, chunk).await?;
        }
        Ok::<_, kontor_contacts::Error>((hashes, t.elapsed()))
    })?;
    println!(
        "parts: decrypt + list {} ({}), hashing {}, lookups alone {}",
        ms(list),
        contacts.len(),
        ms(hashes),
        ms(lookups)
    );
    println!(
        "peak RSS of the benchmark process: {:.0} MiB",
        peak_rss_mib()
    );
    Ok(())
}
