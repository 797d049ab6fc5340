//! The encrypted local search end to end on a real Synapse: two customers (plain
//! matrix-sdk clients, as Element would be) write 300 messages with known words into
//! two encrypted chats, the freelancer sends a file, and `kontor search` must find
//! exactly the expected messages (every expected hit, no unexpected one), follow a
//! redaction and an edit, keep its index across restarts, keep it sealed (no search
//! term anywhere in the data directory), and a new device must back-fill the history
//! from the server and find the oldest message.

mod chat_support;

use std::collections::BTreeSet;

use chat_support::{Customer, Device, eventually};
use kontor_testkit::Synapse;
use serde_json::{Value, json};

/// The fixture's words: each message is "Nachricht N:" plus filler, and some carry a
/// known word in one of its forms. Filler words share no stem with any query.
const FILLER: &[&str] = &[
    "bitte", "danke", "heute", "morgen", "gern", "wir", "sehen", "uns", "kurz", "noch", "alles",
    "klar", "prima", "Woche", "Uhr", "passt", "gut", "dann", "bis", "bald",
];

fn text_of(i: usize) -> String {
    let mut words = vec![format!("Nachricht {i}:")];
    for k in 0..(6 + i % 9) {
        words.push(FILLER[(i * 7 + k * 3) % FILLER.len()].to_owned());
    }
    if i.is_multiple_of(10) {
        words.push("die Angebote".into());
    }
    if i.is_multiple_of(7) {
        words.push("für Frau Müller".into());
    }
    if i.is_multiple_of(13) {
        words.push("in der Hauptstraße 5".into());
    }
    if i.is_multiple_of(17) {
        words.push("neue Fenster einbauen".into());
    }
    if i.is_multiple_of(19) {
        words.push("Fenster sind neue".into());
    }
    if i.is_multiple_of(11) {
        words.push("zwei Termine".into());
    }
    if i == 1 {
        words.push("Zebrafink".into());
    }
    words.join(" ")
}

/// `kontor --json search ARGS`: the hits' texts (snippets: every fixture text is
/// shorter than a snippet) and the whole answer.
fn search(device: &Device, args: &[&str]) -> (BTreeSet<String>, Value) {
    let mut all = vec!["search", "--limit", "1000"];
    all.extend_from_slice(args);
    let out = device.json(&all);
    let texts = out["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|h| h["snippet"].as_str().unwrap().to_owned())
        .collect();
    (texts, out)
}

fn expected(range: std::ops::Range<usize>, f: impl Fn(usize) -> bool) -> BTreeSet<String> {
    range.filter(|i| f(*i)).map(text_of).collect()
}

#[test]
fn search_finds_exactly_the_expected_messages_follows_the_history_and_stays_sealed() {
    let mut hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").unwrap();
    let ben = hs.register_unique("ben").unwrap();
    let carla = hs.register_unique("carla").unwrap();
    let laptop = Device::new();
    laptop.login(&hs, &anna);
    let to_ben = Customer::login(&hs, &ben);
    let to_carla = Customer::login(&hs, &carla);

    // Two encrypted chats, opened by the freelancer.
    let opened = laptop.json(&["send", &ben.user_id, "Guten Tag, Ihr Angebot kommt morgen."]);
    let room_ben = opened["room_id"].as_str().unwrap().to_owned();
    let opened = laptop.json(&["send", &carla.user_id, "Hallo Carla"]);
    let room_carla = opened["room_id"].as_str().unwrap().to_owned();
    to_ben.join(&room_ben);
    to_carla.join(&room_carla);

    // 300 messages: 0..150 from Ben, 150..300 from Carla, oldest first.
    for i in 0..300 {
        let (who, room) = if i < 150 {
            (&to_ben, &room_ben)
        } else {
            (&to_carla, &room_carla)
        };
        who.say(room, &text_of(i));
    }
    // A file from the freelancer, found by its name.
    let plan = laptop.file("Grundriss-Wohnzimmer.pdf", "%PDF-1.4 plan");
    laptop.json(&["send-file", &ben.user_id, &plan]);

    // The first search brings the index up to date (backfill from the server).
    let (hits, first) = search(&laptop, &["angebot"]);
    let mut want = expected(0..300, |i| i.is_multiple_of(10));
    want.insert("Guten Tag, Ihr Angebot kommt morgen.".into());
    assert_eq!(
        hits, want,
        "stems: 'angebot' finds Angebot and Angebote, nothing else"
    );
    assert_eq!(first["index"]["chats"], 2, "{}", first["index"]);
    assert_eq!(first["index"]["chats_complete"], 2, "{}", first["index"]);

    // Folding, phrases, filters — each set exact.
    assert_eq!(
        search(&laptop, &["muller"]).0,
        expected(0..300, |i| i.is_multiple_of(7))
    );
    assert_eq!(
        search(&laptop, &["hauptstrasse"]).0,
        expected(0..300, |i| i.is_multiple_of(13))
    );
    assert_eq!(
        search(&laptop, &["\"neue Fenster\""]).0,
        expected(0..300, |i| i.is_multiple_of(17)),
        "a phrase is the words in that order"
    );
    assert_eq!(
        search(&laptop, &["fenster neue"]).0,
        expected(0..300, |i| i.is_multiple_of(17) || i.is_multiple_of(19)),
        "without quotes both words anywhere"
    );
    assert_eq!(
        search(&laptop, &["termin", "--chat", &carla.user_id]).0,
        expected(150..300, |i| i.is_multiple_of(11)),
        "--chat keeps to Carla's chat"
    );
    assert_eq!(
        search(&laptop, &["termin", "--sender", &ben.user_id]).0,
        expected(0..150, |i| i.is_multiple_of(11)),
        "--sender keeps to Ben's messages"
    );
    assert_eq!(
        search(&laptop, &["muller", "angebot"]).0,
        expected(0..300, |i| i.is_multiple_of(70)),
        "every word must occur"
    );
    let today = chrono_today();
    assert_eq!(
        search(&laptop, &["muller", "--from", "2000-01-01", "--to", &today]).0,
        expected(0..300, |i| i.is_multiple_of(7))
    );
    assert!(
        search(&laptop, &["muller", "--to", "2000-01-01"])
            .0
            .is_empty(),
        "nothing was written before 2000"
    );
    let (files, out) = search(&laptop, &["grundriss"]);
    assert_eq!(files.len(), 1, "{out}");
    assert_eq!(out["hits"][0]["kind"], "file", "{out}");
    let (files, _) = search(&laptop, &["--files"]);
    assert_eq!(files.len(), 1, "--files lists only the file");
    let hit = &search(&laptop, &["zebrafink"]).1["hits"][0];
    assert_eq!(hit["room_id"], room_ben.as_str());
    assert_eq!(hit["sender"], ben.user_id.as_str());
    let ranges = hit["highlights"].as_array().unwrap();
    let snippet = hit["snippet"].as_str().unwrap();
    let marked: Vec<&str> = ranges
        .iter()
        .map(|r| {
            &snippet[r["start"].as_u64().unwrap() as usize..r["end"].as_u64().unwrap() as usize]
        })
        .collect();
    assert_eq!(marked, ["Zebrafink"], "the match is highlighted");

    // The hit opens in its chat, far back, with what was said around it.
    let around = laptop.json(&[
        "messages",
        &ben.user_id,
        "--limit",
        "6",
        "--around",
        hit["event_id"].as_str().unwrap(),
    ]);
    let texts: Vec<&str> = around
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["body"]["text"].as_str().unwrap_or(""))
        .collect();
    // Three events on each side; membership events count there but are no messages.
    let at = texts
        .iter()
        .position(|t| *t == text_of(1))
        .unwrap_or_else(|| panic!("message 1 in {texts:?}"));
    assert_eq!(texts[at - 1], text_of(0), "{texts:?}");
    assert_eq!(
        texts[at + 1..],
        [text_of(2), text_of(3), text_of(4)],
        "{texts:?}"
    );

    // The index is sealed: no search term anywhere in the data directory.
    for needle in [
        "Zebrafink",
        "zebrafink",
        "Hauptstraße",
        "hauptstrasse",
        "Grundriss",
    ] {
        for file in chat_support::walk(laptop.dir.path()) {
            let bytes = std::fs::read(&file).unwrap_or_default();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle:?} is readable in {}",
                file.display()
            );
        }
    }

    // A redaction removes the hit; an edit replaces the wording.
    let redacted = search(&laptop, &["muller", "--chat", &ben.user_id]).1["hits"][0]["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    to_ben.redact(&room_ben, &redacted);
    let edited_text = text_of(20);
    let edited = search(&laptop, &["angebot", "--chat", &ben.user_id]).1["hits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["snippet"] == edited_text.as_str())
        .expect("message 20")["event_id"]
        .as_str()
        .unwrap()
        .to_owned();
    to_ben.send_raw(
        &room_ben,
        "m.room.message",
        json!({
            "msgtype": "m.text",
            "body": "* Nachricht 20: Kolibri",
            "m.new_content": { "msgtype": "m.text", "body": "Nachricht 20: Kolibri" },
            "m.relates_to": { "rel_type": "m.replace", "event_id": edited },
        }),
    );
    let muller = eventually("the redaction to reach the index", || {
        let (hits, out) = search(&laptop, &["muller"]);
        let ids: Vec<&str> = out["hits"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["event_id"].as_str().unwrap())
            .collect();
        (!ids.contains(&redacted.as_str())).then_some(hits)
    });
    assert_eq!(
        muller.len(),
        expected(0..300, |i| i.is_multiple_of(7)).len() - 1
    );
    let kolibri = eventually("the edit to reach the index", || {
        let (_, out) = search(&laptop, &["kolibri"]);
        (out["hits"].as_array().unwrap().len() == 1).then_some(out)
    });
    assert_eq!(
        kolibri["hits"][0]["event_id"],
        edited.as_str(),
        "the original's id"
    );
    assert!(
        !search(&laptop, &["angebot"]).0.contains(&edited_text),
        "the old wording is gone"
    );

    // A chat the freelancer is no longer in leaves the index.
    let group_room = to_ben.create_group(&anna.user_id);
    eventually("the invite", || {
        laptop
            .run(&["--json", "invites", "accept", &group_room], None)
            .status
            .success()
            .then_some(())
    });
    to_ben.say(&group_room, "Zaunkönig im zweiten Chat");
    let (hits, out) = search(&laptop, &["zaunkonig"]);
    assert_eq!(hits.len(), 1, "{out}");
    assert_eq!(out["index"]["chats"], 3, "{}", out["index"]);
    to_ben.kick(&group_room, &anna.user_id);
    eventually("the chat left to leave the index", || {
        let (hits, out) = search(&laptop, &["zaunkonig"]);
        (hits.is_empty() && out["index"]["chats"] == 2).then_some(())
    });

    // A restart keeps the index: no sync, no backfill, the same answers.
    let (offline, out) = search(&laptop, &["hauptstrasse", "--no-update"]);
    assert_eq!(offline, expected(0..300, |i| i.is_multiple_of(13)), "{out}");

    // Written while the homeserver is down: found at once (from the outbox), and once
    // only, under its event id, after it was sent.
    hs.stop();
    let queued = laptop.run(
        &[
            "--json",
            "send",
            &ben.user_id,
            "Kranich offline geschrieben",
            "--timeout",
            "1",
        ],
        None,
    );
    assert!(
        queued.status.success(),
        "{}",
        String::from_utf8_lossy(&queued.stderr)
    );
    let (hits, out) = search(&laptop, &["kranich"]);
    assert_eq!(
        hits,
        BTreeSet::from(["Kranich offline geschrieben".to_owned()]),
        "{out}"
    );
    assert!(
        out["hits"][0]["event_id"]
            .as_str()
            .unwrap()
            .starts_with("txn:"),
        "{out}"
    );
    hs.restart().expect("restart synapse");
    eventually("the queued message sent and found once", || {
        let (_, out) = search(&laptop, &["kranich"]);
        let hits = out["hits"].as_array().unwrap();
        (hits.len() == 1 && !hits[0]["event_id"].as_str().unwrap().starts_with("txn:"))
            .then_some(())
    });

    // A new device restores the keys and back-fills the history from the server.
    let key = laptop.json(&["recovery", "enable"])["recovery_key"]
        .as_str()
        .unwrap()
        .to_owned();
    let phone = Device::new();
    phone.login(&hs, &anna);
    let restored = phone.run_env(
        &["--json", "recovery", "restore"],
        None,
        &[("KONTOR_RECOVERY_KEY", key.as_str())],
    );
    assert!(
        restored.status.success(),
        "{}",
        String::from_utf8_lossy(&restored.stderr)
    );
    let (old, out) = search(&phone, &["zebrafink"]);
    assert_eq!(old, expected(0..300, |i| i == 1), "{out}");
    assert_eq!(out["index"]["chats_complete"], 2, "{}", out["index"]);
}

/// Today as YYYY-MM-DD (UTC), for `--to`.
fn chrono_today() -> String {
    chrono::Utc::now().format("%Y-%m-%d").to_string()
}
