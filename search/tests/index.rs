//! Behaviour of the index through its public API: upsert, remove, filters, order,
//! state, reopen, encryption at rest, wrong key, tampering.

use std::fs;
use std::path::Path;

use kontor_search::{Doc, DocKind, Error, SearchIndex, SearchQuery, delete_index};
use zeroize::Zeroizing;

fn key(b: u8) -> Zeroizing<[u8; 32]> {
    Zeroizing::new([b; 32])
}

fn doc(id: &str, room: &str, sender: &str, ts: i64, kind: DocKind, text: &str) -> Doc {
    Doc {
        event_id: id.into(),
        room_id: room.into(),
        sender: sender.into(),
        timestamp_ms: ts,
        kind,
        text: text.into(),
    }
}

fn msg(id: &str, ts: i64, text: &str) -> Doc {
    doc(id, "!a:x", "@alice:x", ts, DocKind::Message, text)
}

fn ids(index: &SearchIndex, q: SearchQuery) -> Vec<String> {
    index
        .search(&q)
        .unwrap()
        .into_iter()
        .map(|h| h.event_id)
        .collect()
}

fn text(t: &str) -> SearchQuery {
    SearchQuery {
        text: t.into(),
        ..Default::default()
    }
}

/// Every file under `dir` as bytes.
fn all_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            out.push((
                e.file_name().to_string_lossy().into_owned(),
                fs::read(e.path()).unwrap(),
            ));
        }
    }
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

#[test]
fn finds_words_as_people_type_them_with_highlights() {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    index
        .upsert(&[
            msg("$1", 1, "Die Angebote für Frau Müller sind raus"),
            msg("$2", 2, "Termine nächste Woche in der Hauptstraße"),
            msg("$3", 3, "Please send the invoices by Friday"),
            msg("$4", 4, "Die Terrasse ist fertig"),
            msg("$5", 5, "Angebot A-2026-0007 über 1.234,56 €"),
        ])
        .unwrap();
    index.commit(None).unwrap();
    assert_eq!(ids(&index, text("angebot")), ["$5", "$1"]);
    assert_eq!(ids(&index, text("mueller")), ["$1"]);
    assert_eq!(ids(&index, text("muller angebot")), ["$1"]);
    assert_eq!(ids(&index, text("hauptstrasse")), ["$2"]);
    assert_eq!(ids(&index, text("Termin")), ["$2"]);
    assert_eq!(ids(&index, text("invoice")), ["$3"]);
    assert_eq!(ids(&index, text("A-2026-0007")), ["$5"]);
    assert_eq!(ids(&index, text("1.234,56")), ["$5"]);
    assert_eq!(ids(&index, text("A-2026-0008")), Vec::<String>::new());
    assert_eq!(ids(&index, text("\"frau müller\"")), ["$1"]);
    assert_eq!(ids(&index, text("\"müller frau\"")), Vec::<String>::new());
    assert_eq!(ids(&index, text("terr*")), ["$4"]);
    assert_eq!(ids(&index, text("invoice angebot")), Vec::<String>::new());
    let q = SearchQuery {
        text: "Fri".into(),
        prefix_last: true,
        ..Default::default()
    };
    assert_eq!(ids(&index, q), ["$3"]);

    let hits = index.search(&text("angebot müller")).unwrap();
    let h = &hits[0];
    let marked: Vec<&str> = h.highlights.iter().map(|r| &h.snippet[r.clone()]).collect();
    assert_eq!(marked, ["Angebote", "Müller"]);
}

#[test]
fn upsert_replaces_remove_and_remove_chat_delete() {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    index
        .upsert(&[
            msg("$1", 1, "alter Text"),
            doc("$2", "!b:x", "@bob:x", 2, DocKind::Message, "Text in b"),
            doc(
                "$3",
                "!b:x",
                "@bob:x",
                3,
                DocKind::Message,
                "noch ein Text in b",
            ),
        ])
        .unwrap();
    index.commit(None).unwrap();
    assert_eq!(index.len().unwrap(), 3);
    assert!(index.contains("$1").unwrap());
    assert_eq!(index.chats().unwrap(), ["!a:x", "!b:x"]);

    // An edit: the old text is gone, the new one found, still one doc.
    index.upsert(&[msg("$1", 1, "neuer Inhalt")]).unwrap();
    index.commit(None).unwrap();
    assert!(ids(&index, text("alter")).is_empty());
    assert_eq!(ids(&index, text("inhalt")), ["$1"]);
    assert_eq!(index.len().unwrap(), 3);

    index.remove("$1").unwrap();
    // Not visible before commit.
    assert!(index.contains("$1").unwrap());
    index.commit(None).unwrap();
    assert!(!index.contains("$1").unwrap());
    assert_eq!(index.chats().unwrap(), ["!b:x"]);

    index.remove_chat("!b:x").unwrap();
    index.commit(None).unwrap();
    assert!(index.is_empty().unwrap());
    assert!(index.chats().unwrap().is_empty());
    assert!(ids(&index, text("text")).is_empty());
}

#[test]
fn filters_and_newest_first() {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    index
        .upsert(&[
            doc(
                "$1",
                "!a:x",
                "@alice:x",
                100,
                DocKind::Message,
                "Rechnung eins",
            ),
            doc(
                "$2",
                "!b:x",
                "@bob:x",
                300,
                DocKind::File,
                "Rechnung.pdf zwei",
            ),
            doc(
                "$3",
                "!a:x",
                "@bob:x",
                200,
                DocKind::Quote,
                "Angebot Rechnung drei",
            ),
            doc(
                "$4",
                "!b:x",
                "@alice:x",
                400,
                DocKind::Message,
                "Rechnungen vier",
            ),
        ])
        .unwrap();
    index.commit(None).unwrap();
    assert_eq!(ids(&index, text("rechnung")), ["$4", "$2", "$3", "$1"]);
    let q = |f: &dyn Fn(&mut SearchQuery)| {
        let mut q = text("rechnung");
        f(&mut q);
        ids(&index, q)
    };
    assert_eq!(q(&|q| q.chat = Some("!a:x".into())), ["$3", "$1"]);
    assert_eq!(q(&|q| q.sender = Some("@bob:x".into())), ["$2", "$3"]);
    assert_eq!(q(&|q| q.from_ms = Some(200)), ["$4", "$2", "$3"]);
    assert_eq!(q(&|q| q.to_ms = Some(300)), ["$3", "$1"]);
    assert_eq!(
        q(&|q| {
            q.from_ms = Some(200);
            q.to_ms = Some(400);
        }),
        ["$2", "$3"]
    );
    assert_eq!(q(&|q| q.has_file = true), ["$2", "$3"]);
    assert_eq!(q(&|q| q.limit = 2), ["$4", "$2"]);
    // Empty text with a filter: all files in the chat.
    let files = SearchQuery {
        chat: Some("!b:x".into()),
        has_file: true,
        ..Default::default()
    };
    assert_eq!(ids(&index, files), ["$2"]);
    assert_eq!(
        ids(&index, SearchQuery::default()),
        ["$4", "$2", "$3", "$1"]
    );
}

#[test]
fn state_and_docs_survive_reopen() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
        assert_eq!(index.state(), None);
        index.upsert(&[msg("$1", 1, "bleibt")]).unwrap();
        index.commit(Some(r#"{"done":1}"#)).unwrap();
        index.upsert(&[msg("$2", 2, "auch")]).unwrap();
        index.commit(None).unwrap();
        assert_eq!(index.state().as_deref(), Some(r#"{"done":1}"#));
        // Uncommitted: lost at close.
        index.upsert(&[msg("$3", 3, "verloren")]).unwrap();
    }
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    assert_eq!(index.state().as_deref(), Some(r#"{"done":1}"#));
    assert_eq!(ids(&index, text("bleibt")), ["$1"]);
    assert_eq!(ids(&index, text("auch")), ["$2"]);
    assert!(ids(&index, text("verloren")).is_empty());
    index.commit(Some("2")).unwrap();
    drop(index);
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    assert_eq!(index.state().as_deref(), Some("2"));
}

#[test]
fn second_open_of_the_same_directory_fails_while_the_first_is_open() {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    assert!(matches!(
        SearchIndex::open(tmp.path(), key(1)),
        Err(Error::Engine(_))
    ));
    drop(index);
    SearchIndex::open(tmp.path(), key(1)).unwrap();
}

#[test]
fn nothing_on_disk_reveals_an_indexed_word() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    let word = "Quarkstrudelmärchen";
    let folded = "quarkstrudelmarchen";
    {
        let index = SearchIndex::open(&dir, key(1)).unwrap();
        let docs: Vec<Doc> = (0..20)
            .map(|i| {
                msg(
                    &format!("$w{i}"),
                    i,
                    &format!("{word} Nummer {i} Lieferung"),
                )
            })
            .collect();
        index.upsert(&docs).unwrap();
        index.commit(Some("secret-state-marker")).unwrap();
        assert_eq!(ids(&index, text(folded)).len(), 20);
    }
    let files = all_bytes(&dir);
    assert!(files.len() > 3, "index files were written: {}", files.len());
    for (name, bytes) in &files {
        for needle in [
            word,
            folded,
            "quarkstrudel",
            "lieferung",
            "secret-state-marker",
        ] {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{needle} found in {name}"
            );
        }
        let mode = fs::metadata(dir.join(name)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{name}");
    }
    assert_eq!(
        fs::metadata(&dir).unwrap().permissions().mode() & 0o777,
        0o700
    );

    // Control: the same documents in a plain tantivy index are found by the same check,
    // so the check above can fail.
    let plain = tmp.path().join("plain");
    fs::create_dir(&plain).unwrap();
    let mut b = tantivy::schema::Schema::builder();
    let f = b.add_text_field("text", tantivy::schema::TEXT | tantivy::schema::STORED);
    let pindex = tantivy::Index::create_in_dir(&plain, b.build()).unwrap();
    let mut w: tantivy::IndexWriter = pindex.writer(15_000_000).unwrap();
    w.add_document(tantivy::doc!(f => format!("{word} Lieferung")))
        .unwrap();
    w.commit().unwrap();
    let found = all_bytes(&plain)
        .iter()
        .any(|(_, b)| [word, folded].iter().any(|n| contains(b, n.as_bytes())));
    assert!(found, "the check finds words in a plaintext index");
}

#[test]
fn wrong_key_is_reported_before_anything_is_touched() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
        index.upsert(&[msg("$1", 1, "hallo")]).unwrap();
        index.commit(Some("s")).unwrap();
    }
    let before = all_bytes(tmp.path());
    assert!(matches!(
        SearchIndex::open(tmp.path(), key(2)),
        Err(Error::WrongKey)
    ));
    assert_eq!(all_bytes(tmp.path()), before, "nothing changed");
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    assert_eq!(ids(&index, text("hallo")), ["$1"]);
    drop(index);
    // A truncated check file is damage, not a wrong key.
    let check = tmp.path().join("kontor-search.check");
    let bytes = fs::read(&check).unwrap();
    fs::write(&check, &bytes[..10]).unwrap();
    assert!(matches!(
        SearchIndex::open(tmp.path(), key(1)),
        Err(Error::Corrupt(_))
    ));
}

#[test]
fn tampered_or_truncated_files_are_corrupt_not_a_panic() {
    let tmp = tempfile::tempdir().unwrap();
    {
        let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
        index
            .upsert(&[msg("$1", 1, "hallo welt"), msg("$2", 2, "zweite")])
            .unwrap();
        index.commit(None).unwrap();
    }
    let names: Vec<String> = all_bytes(tmp.path())
        .into_iter()
        .map(|(n, _)| n)
        .filter(|n| !n.starts_with("kontor-search") && !n.starts_with('.'))
        .collect();
    assert!(names.iter().any(|n| n == "meta.json"));
    for name in &names {
        for how in ["flip", "truncate", "empty"] {
            let copy = tempfile::tempdir().unwrap();
            for (n, b) in all_bytes(tmp.path()) {
                fs::write(copy.path().join(&n), b).unwrap();
            }
            let p = copy.path().join(name);
            let mut b = fs::read(&p).unwrap();
            match how {
                "flip" => {
                    let i = b.len() / 2;
                    b[i] ^= 0x40;
                }
                "truncate" => b.truncate(b.len() - 7),
                _ => b.clear(),
            }
            fs::write(&p, b).unwrap();
            match SearchIndex::open(copy.path(), key(1)) {
                Err(Error::Corrupt(_)) => {}
                Err(other) => panic!("{name} {how}: {other:?}"),
                Ok(index) => {
                    // A file tantivy does not read at open must fail at first use.
                    let r = index.search(&text("hallo"));
                    assert!(
                        matches!(r, Err(Error::Corrupt(_))),
                        "{name} {how}: opened and searched: {r:?}"
                    );
                }
            }
        }
    }
    // A deleted file is corrupt too.
    fs::remove_file(
        tmp.path()
            .join(names.iter().find(|n| n.ends_with(".idx")).unwrap()),
    )
    .unwrap();
    assert!(matches!(
        SearchIndex::open(tmp.path(), key(1)),
        Err(Error::Corrupt(_))
    ));
}

#[test]
fn delete_index_removes_everything_and_tolerates_a_missing_dir() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("idx");
    {
        let index = SearchIndex::open(&dir, key(1)).unwrap();
        index.upsert(&[msg("$1", 1, "x")]).unwrap();
        index.commit(None).unwrap();
    }
    delete_index(&dir).unwrap();
    assert!(!dir.exists());
    delete_index(&dir).unwrap();
    let index = SearchIndex::open(&dir, key(2)).unwrap();
    assert!(index.is_empty().unwrap());
}

#[test]
fn repeated_upserts_before_a_commit_keep_only_the_last_version() {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    index.upsert(&[msg("$1", 1, "erste Fassung")]).unwrap();
    index.upsert(&[msg("$1", 1, "zweite Fassung")]).unwrap();
    index
        .upsert(&[msg("$2", 2, "xenon"), msg("$2", 2, "yttrium")])
        .unwrap();
    index.upsert(&[msg("$3", 3, "weg")]).unwrap();
    index.remove("$3").unwrap();
    index.upsert(&[msg("$3", 3, "wieder da")]).unwrap();
    index.commit(None).unwrap();
    assert_eq!(index.len().unwrap(), 3);
    assert!(ids(&index, text("erste")).is_empty());
    assert_eq!(ids(&index, text("zweite")), ["$1"]);
    assert!(ids(&index, text("xenon")).is_empty());
    assert_eq!(ids(&index, text("yttrium")), ["$2"]);
    assert_eq!(ids(&index, text("wieder")), ["$3"]);
    // After the commit: replaced against the committed doc.
    index.upsert(&[msg("$2", 2, "zirkon")]).unwrap();
    index.upsert(&[msg("$2", 2, "zirkonium")]).unwrap();
    index.commit(None).unwrap();
    assert_eq!(index.len().unwrap(), 3);
    assert!(ids(&index, text("yttrium")).is_empty());
    assert!(ids(&index, text("zirkon")).is_empty());
    assert_eq!(ids(&index, text("zirkonium")), ["$2"]);
}

#[test]
fn searches_run_from_other_threads_while_one_writes() {
    let tmp = tempfile::tempdir().unwrap();
    let index = std::sync::Arc::new(SearchIndex::open(tmp.path(), key(1)).unwrap());
    let writer = {
        let index = index.clone();
        std::thread::spawn(move || {
            for round in 0..20 {
                let docs: Vec<Doc> = (0..10)
                    .map(|i| {
                        let n = round * 10 + i;
                        msg(&format!("${n}"), n, &format!("Rechnung {n} parallel"))
                    })
                    .collect();
                index.upsert(&docs).unwrap();
                index.commit(Some(&((round + 1) * 10).to_string())).unwrap();
            }
        })
    };
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let index = index.clone();
            std::thread::spawn(move || {
                let mut last = 0;
                for _ in 0..50 {
                    let n = ids(
                        &index,
                        SearchQuery {
                            text: "rechnungen parallel".into(),
                            limit: 1000,
                            ..Default::default()
                        },
                    )
                    .len();
                    assert!(n >= last, "a committed doc never disappears");
                    assert_eq!(n % 10, 0, "commits are all-or-nothing");
                    last = n;
                }
            })
        })
        .collect();
    writer.join().unwrap();
    for r in readers {
        r.join().unwrap();
    }
    assert_eq!(index.len().unwrap(), 200);
    assert_eq!(index.state().as_deref(), Some("200"));
}

#[test]
fn any_limit_and_an_empty_index_are_fine() {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), key(1)).unwrap();
    for limit in [0, 1, usize::MAX] {
        let q = SearchQuery {
            text: "nichts".into(),
            limit,
            ..Default::default()
        };
        assert!(index.search(&q).unwrap().is_empty());
        assert!(
            index
                .search(&SearchQuery {
                    limit,
                    ..Default::default()
                })
                .unwrap()
                .is_empty()
        );
    }
    index
        .upsert(&[msg("$1", 1, "eins"), msg("$2", 2, "eins")])
        .unwrap();
    index.commit(None).unwrap();
    let q = SearchQuery {
        text: "eins".into(),
        limit: usize::MAX,
        ..Default::default()
    };
    assert_eq!(ids(&index, q), ["$2", "$1"]);
    let q = SearchQuery {
        text: "eins".into(),
        limit: 1,
        ..Default::default()
    };
    assert_eq!(ids(&index, q), ["$2"]);
}
