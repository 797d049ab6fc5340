//! "Open the overview" with 5,000 quotes: open the sealed store, decrypt and parse every
//! record (`QuoteStore::all`) and compute the overview (`overview::overview`), as the
//! quotes screen does when it is shown. Goal: ≤ 100 ms.
//!
//! Writes a store of realistic quotes first (1–10 items, most sent, answers on about
//! half of those, some revised), in `$TMPDIR`, then times several runs, each opening
//! the store afresh (the page cache is warm: the quotes screen is opened on a running
//! device, whose store was just written or read).
//!
//! Run: `cargo bench -p kontor-quotes --bench overview` (optionally `-- 20000 9` for
//! another number of quotes and of runs).

use std::time::{Duration, Instant};

use kontor_quotes::answer::Answer;
use kontor_quotes::overview::{Filter, overview};
use kontor_quotes::store::QuoteStore;
use kontor_quotes::{
    Customer, Date, Discount, LineItem, Money, Quantity, Quote, QuoteNumber, QuoteRecord, Sent,
    Status,
};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use zeroize::Zeroizing;

const GOAL: Duration = Duration::from_millis(100);
const DAY: u64 = 86_400_000;
/// 2024-01-01 00:00 UTC: the first quote's day.
const START_MS: u64 = 1_704_067_200_000;

const CUSTOMERS: &[&str] = &[
    "Bäckerei Müller",
    "Zahnarztpraxis Dr. Özdemir",
    "Kanzlei Schneider & Partner",
    "Weiß Immobilien GmbH",
    "Café Größenwahn",
    "Physiotherapie Nowak",
    "Autohaus Straßer",
    "Blumen Hoffmann",
    "Architekturbüro Fischer",
    "Yılmaz Gebäudereinigung",
];
const WORK: &[(&str, &str, i64)] = &[
    ("Beratung vor Ort", "Std.", 9_500),
    ("Konzeption und Entwurf", "Std.", 8_500),
    ("Fliesen verlegen inkl. Material", "m²", 6_490),
    ("Anfahrt", "pauschal", 4_500),
    ("Website-Relaunch, Umsetzung", "Std.", 7_800),
    ("Fotografie Produktserie", "Tag", 95_000),
    ("Übersetzung Deutsch–Englisch", "Wort", 14),
    ("Wartungsvertrag Heizungsanlage", "Jahr", 38_900),
    ("Fachbuch „Steuerrecht kompakt“", "Stück", 4_990),
    ("Reinigung Praxisräume", "m²", 320),
];

fn record(rng: &mut StdRng, i: u32, numbers: &mut Vec<QuoteNumber>) -> QuoteRecord {
    // About seven quotes a day over three years and a bit, numbered per year.
    let at_ms = START_MS + u64::from(i) * DAY / 7 + rng.gen_range(0..DAY / 8);
    let date = Date::from_unix_ms(at_ms);
    let number = QuoteNumber::next(date.year, numbers.iter());
    numbers.push(number);
    let items = (0..rng.gen_range(1..=10))
        .map(|_| {
            let (description, unit, price) = WORK[rng.gen_range(0..WORK.len())];
            LineItem {
                description: description.into(),
                quantity: Quantity(rng.gen_range(1..=40) * 25),
                unit: unit.into(),
                unit_price: Money(price + rng.gen_range(0..500)),
                vat_percent: if rng.gen_bool(0.8) { 19 } else { 7 },
            }
        })
        .collect();
    let c = rng.gen_range(0..CUSTOMERS.len() * 30);
    let user = format!("@kunde{c}:example.org");
    let quote = Quote {
        number,
        title: format!("Angebot für {}", WORK[c % WORK.len()].0),
        items,
        discount: rng
            .gen_bool(0.2)
            .then(|| Discount::Percent(rng.gen_range(1..=15) * 100)),
        notes: "Vielen Dank für Ihre Anfrage. Die Arbeiten können ab sofort beginnen.".into(),
        date,
        valid_until: date.plus_days(30),
        small_business: false,
    };
    let customer = Customer {
        name: format!("{} {}", CUSTOMERS[c % CUSTOMERS.len()], c / CUSTOMERS.len()),
        user_id: Some(user.clone()),
        contact_id: Some(format!("{:016x}", rng.r#gen::<u64>())),
    };
    let sha: String = (0..32)
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect();
    let mut r = QuoteRecord::new(quote, customer, sha);
    if rng.gen_bool(0.9) {
        r.sent = Some(Sent {
            room_id: format!("!room{c}:example.org"),
            event_id: format!("$quote{i}"),
            sender: "@anna:example.org".into(),
            counterparty: user.clone(),
            at_ms,
        });
        for k in 0..[0, 0, 1, 1, 2][rng.gen_range(0..5)] {
            let answer = if rng.gen_bool(0.7) {
                Answer::Accept
            } else {
                Answer::Decline
            };
            let when = at_ms + rng.gen_range(1..40) * DAY;
            let _ = r.answer(&user, when, answer, &format!("$answer{i}-{k}"));
        }
        if rng.gen_bool(0.05) {
            r.replaced_by = Some(QuoteNumber {
                year: number.year,
                seq: number.seq + 1,
            });
        }
    }
    r
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1000.0)
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let count = args.first().copied().unwrap_or(5_000) as u32;
    let runs = args.get(1).copied().unwrap_or(7).max(1);
    let dir = tempfile::tempdir().expect("temporary directory");
    let path = dir.path().join("quotes");
    let key = || Zeroizing::new([0x5a; 32]);

    let mut rng = StdRng::seed_from_u64(11);
    let mut numbers = Vec::new();
    let records: Vec<QuoteRecord> = (0..count)
        .map(|i| record(&mut rng, i, &mut numbers))
        .collect();
    let items: usize = records.iter().map(|r| r.quote.items.len()).sum();
    let started = Instant::now();
    {
        let store = QuoteStore::open(&path, key()).expect("open");
        for r in &records {
            store.put(r).expect("put");
        }
    }
    let written = started.elapsed();
    let bytes: u64 = walk(&path);
    println!(
        "store: {count} quotes, {items} items, {:.1} MB on disk in {}; written one put \
         (each flushed) at a time in {:.2} s ({:.2} ms per put)",
        bytes as f64 / 1e6,
        path.display(),
        written.as_secs_f64(),
        written.as_secs_f64() * 1000.0 / f64::from(count.max(1)),
    );

    let today = Date::from_unix_ms(START_MS + u64::from(count) * DAY / 7);
    let (mut open, mut all, mut over, mut total) = (vec![], vec![], vec![], vec![]);
    for run in 1..=runs {
        let t0 = Instant::now();
        let store = QuoteStore::open(&path, key()).expect("open");
        let t1 = Instant::now();
        let loaded = store.all().expect("all");
        let t2 = Instant::now();
        let o = overview(&loaded, &Filter::default(), today);
        let t3 = Instant::now();
        assert_eq!(o.rows.len(), count as usize);
        println!(
            "run {run}: open {}, all() {}, overview() {}, total {} ({} open, {} accepted: {})",
            ms(t1 - t0),
            ms(t2 - t1),
            ms(t3 - t2),
            ms(t3 - t0),
            o.count(Status::Sent),
            o.count(Status::Accepted),
            o.accepted_total,
        );
        open.push(t1 - t0);
        all.push(t2 - t1);
        over.push(t3 - t2);
        total.push(t3 - t0);
        drop(store);
    }
    let best = *total.iter().min().unwrap_or(&Duration::ZERO);
    let med = median(total);
    println!(
        "median of {runs}: open {}, all() {}, overview() {}; total median {}, best {} \
         (goal ≤ {}: {})",
        ms(median(open)),
        ms(median(all)),
        ms(median(over)),
        ms(med),
        ms(best),
        ms(GOAL),
        if med <= GOAL { "met" } else { "MISSED" },
    );
}

/// Bytes of every file below `path`.
fn walk(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => walk(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}
