use std::os::unix::fs::PermissionsExt;

use super::*;
use crate::answer::Answer;
use crate::{Customer, Date, LineItem, Money, Quantity, Quote, Sent};

const CUSTOMER: &str = "Zahnarztpraxis Dr. Özdemir";
const ITEM: &str = "Wurzelkanalbehandlung Molar";
const TITLE: &str = "Praxisumbau Wartezimmer";
const IBAN: &str = "DE02120300000000202051";

fn key(byte: u8) -> Zeroizing<[u8; 32]> {
    Zeroizing::new([byte; 32])
}

fn number(seq: u32) -> QuoteNumber {
    QuoteNumber { year: 2026, seq }
}

fn record(seq: u32) -> QuoteRecord {
    let date = Date {
        year: 2026,
        month: 12,
        day: 1,
    };
    let quote = Quote {
        number: number(seq),
        title: TITLE.into(),
        items: vec![LineItem {
            description: ITEM.into(),
            quantity: Quantity(150),
            unit: "Std.".into(),
            unit_price: Money(9_500),
            vat_percent: 19,
        }],
        discount: None,
        notes: String::new(),
        date,
        valid_until: date.plus_days(30),
        small_business: false,
    };
    let customer = Customer {
        name: CUSTOMER.into(),
        user_id: Some("@oezdemir:praxis.de".into()),
        contact_id: None,
    };
    let mut r = QuoteRecord::new(quote, customer, "ab".repeat(32));
    r.sent = Some(Sent {
        room_id: "!room:x".into(),
        event_id: format!("$q{seq}"),
        sender: "@anna:x".into(),
        counterparty: "@oezdemir:praxis.de".into(),
        at_ms: 1_796_083_200_000,
    });
    r.answer(
        "@oezdemir:praxis.de",
        1_796_169_600_000,
        Answer::Accept,
        "$a",
    )
    .unwrap();
    r
}

fn details() -> BusinessDetails {
    BusinessDetails {
        name: "Praxis Anna Berger".into(),
        address: "Hauptstraße 1\n10115 Berlin".into(),
        tax_id: "12/345/67890".into(),
        iban: IBAN.into(),
        ..BusinessDetails::new()
    }
}

/// Every regular file below `dir`, with its bytes.
fn files(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files(&path));
        } else {
            let bytes = fs::read(&path).unwrap();
            out.push((path, bytes));
        }
    }
    out
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let path = entry.unwrap().path();
        let target = to.join(path.file_name().unwrap());
        if path.is_dir() {
            copy_dir(&path, &target);
        } else {
            fs::copy(&path, &target).unwrap();
        }
    }
}

/// The app shares one store between the UI's tasks behind an `Arc`.
#[test]
fn the_store_is_send_and_sync() {
    fn shared<T: Send + Sync>() {}
    shared::<QuoteStore>();
}

#[test]
fn round_trip_replace_remove_details_and_meta() {
    let dir = tempfile::tempdir().unwrap();
    let store = QuoteStore::open(dir.path(), key(1)).unwrap();
    assert_eq!(store.all().unwrap(), vec![]);
    assert_eq!(store.details().unwrap(), None);
    for seq in [2, 10, 1] {
        store.put(&record(seq)).unwrap();
    }
    assert_eq!(store.get(&number(10)).unwrap(), Some(record(10)));
    assert_eq!(store.get(&number(3)).unwrap(), None);
    let numbers: Vec<u32> = store
        .all()
        .unwrap()
        .iter()
        .map(|r| r.quote.number.seq)
        .collect();
    assert_eq!(numbers, [10, 2, 1], "newest number first");

    let mut changed = record(2);
    changed.replaced_by = Some(number(10));
    store.put(&changed).unwrap();
    assert_eq!(store.get(&number(2)).unwrap(), Some(changed));
    assert_eq!(store.all().unwrap().len(), 3, "replaced, not added");
    let mut used = store.numbers().unwrap();
    used.sort();
    assert_eq!(used, [number(1), number(2), number(10)]);
    assert_eq!(QuoteNumber::next(2026, &used), number(11));

    assert!(store.remove(&number(1)).unwrap());
    assert!(!store.remove(&number(1)).unwrap());
    assert_eq!(store.get(&number(1)).unwrap(), None);

    store.put_details(&details()).unwrap();
    assert_eq!(store.details().unwrap(), Some(details()));
    assert_eq!(store.meta("sync").unwrap(), None);
    store.put_meta("sync", b"s72_1234").unwrap();
    store.put_meta("other", b"x").unwrap();
    assert_eq!(
        store.meta("sync").unwrap().as_deref(),
        Some(&b"s72_1234"[..])
    );
    assert_eq!(
        store.all().unwrap().len(),
        2,
        "details and meta are no quotes"
    );
}

#[test]
fn reopened_with_the_right_key_everything_is_there_and_a_wrong_key_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = QuoteStore::open(dir.path(), key(1)).unwrap();
        store.put(&record(7)).unwrap();
        store.put_details(&details()).unwrap();
        store.put_meta("sync", b"pos").unwrap();
    }
    let err = QuoteStore::open(dir.path(), key(2)).unwrap_err();
    assert!(
        matches!(&err, StoreError::WrongKey { path } if path == dir.path()),
        "{err:?}"
    );
    let store = QuoteStore::open(dir.path(), key(1)).unwrap();
    assert_eq!(store.all().unwrap(), vec![record(7)]);
    assert_eq!(store.details().unwrap(), Some(details()));
    assert_eq!(store.meta("sync").unwrap().as_deref(), Some(&b"pos"[..]));
}

/// What is on disk when `put` returns is enough: a copy of the directory taken while
/// the store is still open (as a crash leaves it, no flush at drop) opens with every
/// record. Fails if `write` stops flushing.
#[test]
fn what_a_returned_put_stored_survives_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let store = QuoteStore::open(&dir.path().join("live"), key(1)).unwrap();
    store.put(&record(20)).unwrap();
    assert!(store.remove(&number(20)).unwrap());
    store.put_details(&details()).unwrap();
    for seq in 1..=19 {
        store.put(&record(seq)).unwrap();
    }
    let crashed = dir.path().join("crashed");
    copy_dir(&dir.path().join("live"), &crashed);
    let recovered = QuoteStore::open(&crashed, key(1)).unwrap();
    assert_eq!(recovered.all().unwrap().len(), 19);
    assert_eq!(recovered.get(&number(20)).unwrap(), None);
    assert_eq!(recovered.details().unwrap(), Some(details()));
    drop(store);
}

#[test]
fn nothing_readable_in_any_file_of_the_store() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = QuoteStore::open(dir.path(), key(1)).unwrap();
        for seq in 1..=50 {
            store.put(&record(seq)).unwrap();
        }
        store.put_details(&details()).unwrap();
        store.put_meta("sync-position", b"s72_1234_secret").unwrap();
    }
    // Reopened, so sled has also written whatever it writes at open and close.
    drop(QuoteStore::open(dir.path(), key(1)).unwrap());
    let all = files(dir.path());
    assert!(all.iter().map(|(_, b)| b.len()).sum::<usize>() > 50 * 200);
    let needles: [&[u8]; 9] = [
        b"A-2026-0007",
        b"quote/",
        b"\"seq\"",
        CUSTOMER.as_bytes(),
        "Özdemir".as_bytes(),
        ITEM.as_bytes(),
        TITLE.as_bytes(),
        IBAN.as_bytes(),
        b"s72_1234",
    ];
    for (path, bytes) in &all {
        for needle in needles {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "{} in plaintext in {path:?}",
                String::from_utf8_lossy(needle)
            );
        }
    }
}

#[test]
fn directory_0700_and_files_0600_even_if_loosened() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("quotes");
    drop(QuoteStore::open(&path, key(1)).unwrap());
    // Someone (a backup restore, a umask of 0) loosened them; opening tightens again.
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    for (file, _) in files(&path) {
        fs::set_permissions(&file, fs::Permissions::from_mode(0o644)).unwrap();
    }
    let store = QuoteStore::open(&path, key(1)).unwrap();
    store.put(&record(1)).unwrap();
    drop(store);
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o700);
    let all = files(&path);
    assert!(all.len() >= 2, "sled wrote its files: {all:?}");
    for (file, _) in all {
        assert_eq!(mode(&file), 0o600, "{file:?}");
    }
}

/// A sealed value changed on disk (bit rot that passes sled, a bug) and one moved to
/// another quote's entry: both are named, and the other records still list.
#[test]
fn a_damaged_record_is_named_and_the_others_still_list() {
    let dir = tempfile::tempdir().unwrap();
    let store = QuoteStore::open(dir.path(), key(1)).unwrap();
    for seq in 1..=5 {
        store.put(&record(seq)).unwrap();
    }
    let key3 = store.quote_key(&number(3));
    let mut sealed = store.db.get(&key3).unwrap().unwrap().to_vec();
    let middle = sealed.len() / 2;
    sealed[middle] ^= 0x20;
    store.db.insert(&key3, sealed).unwrap();
    // Quote 4's sealed value copied over quote 5's entry.
    let sealed4 = store.db.get(store.quote_key(&number(4))).unwrap().unwrap();
    store
        .db
        .insert(store.quote_key(&number(5)), sealed4)
        .unwrap();
    store.db.flush().unwrap();
    drop(store);

    let store = QuoteStore::open(dir.path(), key(1)).unwrap();
    match store.get(&number(3)) {
        Err(StoreError::Unreadable {
            entry: Entry::Quote {
                number: Some(n), ..
            },
            damage: Damage::NotAuthentic,
        }) => assert_eq!(n, number(3)),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        store.get(&number(5)),
        Err(StoreError::Unreadable {
            damage: Damage::NotAuthentic,
            ..
        })
    ));
    assert_eq!(store.get(&number(4)).unwrap(), Some(record(4)));

    let (records, problems) = store.all_with_problems().unwrap();
    let seqs: Vec<u32> = records.iter().map(|r| r.quote.number.seq).collect();
    assert_eq!(seqs, [4, 2, 1]);
    assert_eq!(problems.len(), 2);
    let ids: Vec<String> = problems
        .iter()
        .map(|p| match p {
            StoreError::Unreadable {
                entry: Entry::Quote { number: None, id },
                ..
            } => id.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_ne!(ids[0], ids[1], "each damaged record named apart");
    assert!(problems[0].to_string().starts_with("quote entry "));
    assert!(matches!(store.all(), Err(StoreError::Unreadable { .. })));
    assert!(
        store.numbers().is_err(),
        "no next number while one may be unknown"
    );
    // Writing the quote again heals the entry.
    store.put(&record(3)).unwrap();
    assert_eq!(store.get(&number(3)).unwrap(), Some(record(3)));
}

#[test]
fn a_record_that_opens_but_does_not_parse_is_malformed_without_its_text() {
    let dir = tempfile::tempdir().unwrap();
    let store = QuoteStore::open(dir.path(), key(1)).unwrap();
    let k = store.quote_key(&number(1));
    store
        .write(&k, br#"{"quote": "Praxis Anna Berger, secret"}"#)
        .unwrap();
    store.put_details(&details()).unwrap();
    let details_key = store.other_key(b"details", b"");
    store.write(&details_key, b"[1, 2").unwrap();
    let err = store.get(&number(1)).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Unreadable {
                damage: Damage::Malformed { line: 1, .. },
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("secret"));
    assert!(matches!(
        store.details(),
        Err(StoreError::Unreadable {
            entry: Entry::Details,
            ..
        })
    ));
}

#[test]
fn entries_without_a_check_value_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    {
        let db = sled::open(dir.path()).unwrap();
        db.insert(b"foreign", b"data").unwrap();
        db.flush().unwrap();
    }
    let opened = QuoteStore::open(dir.path(), key(1));
    assert!(
        matches!(opened, Err(StoreError::MissingCheck { .. })),
        "{:?}",
        opened.err()
    );
}

#[test]
fn many_records_list_the_same_in_parallel() {
    let dir = tempfile::tempdir().unwrap();
    let store = QuoteStore::open(dir.path(), key(1)).unwrap();
    let n = PARALLEL_FROM as u32 + 3;
    let entries: Vec<(sled::IVec, sled::IVec)> = (1..=n)
        .map(|seq| {
            let k = store.quote_key(&number(seq));
            let v = store.seal(&k, &encode(&record(seq)));
            (k.into(), v.into())
        })
        .collect();
    let mut batch = sled::Batch::default();
    for (k, v) in &entries {
        batch.insert(k, v);
    }
    store.db.apply_batch(batch).unwrap();
    let all = store.all().unwrap();
    assert_eq!(all.len(), n as usize);
    assert!(
        all.windows(2)
            .all(|w| w[0].quote.number > w[1].quote.number)
    );
    assert_eq!(all[0], record(n));
}
