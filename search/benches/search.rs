//! Search benchmark (issue 13): `cargo bench -p kontor-search --bench search`.
//!
//! 100,000 generated German/English messages over 200 chats (seeded, `tests/corpus`),
//! indexed and searched by four engines on the same data and queries:
//! 1. Kontor: tantivy on the encrypting directory (what the app uses);
//! 2. the same tantivy index on tantivy's plain `MmapDirectory` (the cost of encryption);
//! 3. SQLite FTS5 in-process (rusqlite, bundled SQLite), fed the same folded/stemmed text;
//! 4. the peer: `benches/peer.py`, Python's `sqlite3` with an unencrypted FTS5 table and
//!    the stock `porter unicode61 remove_diacritics 2` tokenizer.
//!
//! Each engine indexes in a child process of this binary, so its peak RSS (VmHWM) is its
//! own. Then 200 mixed queries (words, inflected forms, prefixes, phrases, filters) give
//! p50/p95 latency, and the folding/stemming queries of `tests/corpus` give recall and
//! precision against the generator's ground truth.
//!
//! `KONTOR_BENCH_N` sets the number of messages (default 100,000) for a quick run.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::collections::BTreeSet;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use corpus::{CONCEPTS, FILLERS, GenDoc, NAMES, TRUTH};
use kontor_search::analysis::{Stemmers, words};
use kontor_search::query::{Clause, parse};
use kontor_search::{DocKind, SearchIndex, SearchQuery};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use zeroize::Zeroizing;

const SEED: u64 = 13;
const CHATS: usize = 200;
const BATCH: usize = 5_000;
const CHILD_ENV: &str = "KONTOR_BENCH_CHILD";
const DIR_ENV: &str = "KONTOR_BENCH_DIR";
const ENGINES: [&str; 3] = ["kontor", "tantivy-plain", "fts5"];

fn n_docs() -> usize {
    std::env::var("KONTOR_BENCH_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000)
}

fn key() -> Zeroizing<[u8; 32]> {
    Zeroizing::new([42; 32])
}

/// Peak resident set of this process (VmHWM), in kB.
fn vm_hwm_kb() -> u64 {
    fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

fn dir_size(dir: &Path) -> u64 {
    fs::read_dir(dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

// ---------------------------------------------------------------- SQLite FTS5 (in-process)

/// The analyzed text of a document as two FTS5 columns: folded words (positions kept,
/// for phrases) and the other forms (umlaut forms, stems).
fn fts5_columns(stemmers: &Stemmers, text: &str) -> (String, String) {
    let mut w = String::new();
    let mut s = String::new();
    for word in words(text) {
        w.push_str(&word.folded);
        w.push(' ');
        for f in stemmers.forms(&word).into_iter().skip(1) {
            s.push_str(&f);
            s.push(' ');
        }
    }
    (w, s)
}

fn fts5_open(dir: &Path) -> rusqlite::Connection {
    let db = rusqlite::Connection::open(dir.join("fts.db")).unwrap();
    db.execute_batch(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;
         CREATE VIRTUAL TABLE IF NOT EXISTS docs USING fts5(
           words, stems, text UNINDEXED, eid UNINDEXED, room UNINDEXED, sender UNINDEXED,
           ts UNINDEXED, kind UNINDEXED, tokenize='unicode61 remove_diacritics 0');",
    )
    .unwrap();
    db
}

fn quote(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

/// Kontor's clauses in FTS5 syntax, on the analyzed columns.
fn fts5_match(clauses: &[Clause]) -> String {
    let or = |forms: &[String]| {
        forms
            .iter()
            .map(|f| quote(f))
            .collect::<Vec<_>>()
            .join(" OR ")
    };
    clauses
        .iter()
        .map(|c| match c {
            Clause::Word(forms) => format!("({})", or(forms)),
            Clause::Prefix(p) => format!("(words : {} *)", quote(p)),
            Clause::WordOrPrefix { forms, prefix } => {
                format!("({} OR {} *)", or(forms), quote(prefix))
            }
            Clause::Phrase { words, prefix } => format!(
                "(words : {}{})",
                quote(&words.join(" ")),
                if *prefix { " *" } else { "" }
            ),
        })
        .collect::<Vec<_>>()
        .join(" AND ")
}

fn fts5_search(db: &rusqlite::Connection, stemmers: &Stemmers, q: &SearchQuery) -> Vec<String> {
    let clauses = parse(stemmers, &q.text, q.prefix_last);
    let mut sql = String::from("SELECT eid, text FROM docs WHERE 1");
    let mut params: Vec<rusqlite::types::Value> = Vec::new();
    if !clauses.is_empty() {
        sql.push_str(" AND docs MATCH ?");
        params.push(fts5_match(&clauses).into());
    }
    if let Some(c) = &q.chat {
        sql.push_str(" AND room = ?");
        params.push(c.clone().into());
    }
    if let Some(s) = &q.sender {
        sql.push_str(" AND sender = ?");
        params.push(s.clone().into());
    }
    if let Some(f) = q.from_ms {
        sql.push_str(" AND ts >= ?");
        params.push(f.into());
    }
    if let Some(t) = q.to_ms {
        sql.push_str(" AND ts < ?");
        params.push(t.into());
    }
    if q.has_file {
        sql.push_str(" AND kind IN (1, 2)");
    }
    let limit = if q.limit == 0 { 50 } else { q.limit };
    sql.push_str(&format!(" ORDER BY ts DESC LIMIT {limit}"));
    let mut stmt = db.prepare_cached(&sql).unwrap();
    let rows = stmt
        .query_map(rusqlite::params_from_iter(params), |r| {
            let _text: String = r.get(1)?;
            r.get::<_, String>(0)
        })
        .unwrap();
    rows.map(|r| r.unwrap()).collect()
}

fn kind_code(k: DocKind) -> i64 {
    match k {
        DocKind::Message => 0,
        DocKind::File => 1,
        DocKind::Quote => 2,
    }
}

// ---------------------------------------------------------------- child: indexing

fn child(engine: &str, dir: &Path) {
    let n = n_docs();
    let started = Instant::now();
    match engine {
        "kontor" | "tantivy-plain" => {
            let index = if engine == "kontor" {
                SearchIndex::open(dir, key()).unwrap()
            } else {
                SearchIndex::open_unencrypted_for_benchmark(dir).unwrap()
            };
            let mut docs = corpus::corpus(SEED, n, CHATS);
            loop {
                let batch: Vec<_> = docs.by_ref().take(BATCH).map(|g| g.doc).collect();
                if batch.is_empty() {
                    break;
                }
                index.upsert(&batch).unwrap();
            }
            index.commit(Some("{\"bench\":true}")).unwrap();
            drop(index); // waits for merges: the index is final on disk
        }
        "fts5" => {
            let stemmers = Stemmers::default();
            let mut db = fts5_open(dir);
            let tx = db.transaction().unwrap();
            {
                let mut ins = tx
                    .prepare("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
                    .unwrap();
                for g in corpus::corpus(SEED, n, CHATS) {
                    let d = g.doc;
                    let (w, s) = fts5_columns(&stemmers, &d.text);
                    ins.execute(rusqlite::params![
                        w,
                        s,
                        d.text,
                        d.event_id,
                        d.room_id,
                        d.sender,
                        d.timestamp_ms,
                        kind_code(d.kind)
                    ])
                    .unwrap();
                }
            }
            tx.commit().unwrap();
            db.execute_batch(
                "INSERT INTO docs(docs) VALUES('optimize'); PRAGMA wal_checkpoint(TRUNCATE);",
            )
            .unwrap();
        }
        other => panic!("unknown engine {other}"),
    }
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    println!("RESULT {ms:.0} {}", vm_hwm_kb());
}

// ---------------------------------------------------------------- queries

struct BenchQuery {
    q: SearchQuery,
    /// Kind of query, for the table.
    class: &'static str,
}

fn pick_word(rng: &mut StdRng) -> String {
    let r: f64 = rng.r#gen();
    if r < 0.5 {
        CONCEPTS
            .choose(rng)
            .unwrap()
            .choose(rng)
            .unwrap()
            .to_string()
    } else if r < 0.65 {
        NAMES.choose(rng).unwrap().to_string()
    } else {
        FILLERS.choose(rng).unwrap().to_string()
    }
}

fn prefix_of(rng: &mut StdRng, word: &str) -> String {
    let chars: Vec<char> = word.chars().collect();
    let len = rng.gen_range(3.min(chars.len())..=chars.len().clamp(3, 5));
    chars[..len.min(chars.len())].iter().collect()
}

fn make_queries(docs: &[GenDoc]) -> Vec<BenchQuery> {
    let mut rng = StdRng::seed_from_u64(7);
    let mut out = Vec::new();
    let q = |text: String| SearchQuery {
        text,
        ..Default::default()
    };
    for _ in 0..50 {
        out.push(BenchQuery {
            q: q(pick_word(&mut rng)),
            class: "word",
        });
    }
    for _ in 0..30 {
        let a = pick_word(&mut rng);
        let b = pick_word(&mut rng);
        out.push(BenchQuery {
            q: q(format!("{a} {b}")),
            class: "two words",
        });
    }
    for _ in 0..25 {
        let mut w = pick_word(&mut rng);
        while w.chars().count() < 4 {
            w = pick_word(&mut rng);
        }
        out.push(BenchQuery {
            q: q(format!("{}*", prefix_of(&mut rng, &w))),
            class: "prefix",
        });
    }
    for _ in 0..25 {
        let mut w = pick_word(&mut rng);
        while w.chars().count() < 4 {
            w = pick_word(&mut rng);
        }
        let lead = pick_word(&mut rng);
        out.push(BenchQuery {
            q: SearchQuery {
                text: format!("{lead} {}", prefix_of(&mut rng, &w)),
                prefix_last: true,
                ..Default::default()
            },
            class: "as-you-type",
        });
    }
    while out.len() < 160 {
        let d = &docs[rng.gen_range(0..docs.len())];
        if d.doc.kind != DocKind::Message || d.units.len() < 2 {
            continue;
        }
        let i = rng.gen_range(0..d.units.len() - 1);
        let (a, b) = (&d.units[i], &d.units[i + 1]);
        if !(a.chars().all(char::is_alphabetic) && b.chars().all(char::is_alphabetic)) {
            continue;
        }
        out.push(BenchQuery {
            q: q(format!("\"{a} {b}\"")),
            class: "phrase",
        });
    }
    let t_end = docs.last().map_or(corpus::T0, |d| d.doc.timestamp_ms);
    for i in 0..40 {
        let d = &docs[rng.gen_range(0..docs.len())];
        let mut sq = q(pick_word(&mut rng));
        match i % 4 {
            0 => sq.chat = Some(d.doc.room_id.clone()),
            1 => sq.sender = Some(d.doc.sender.clone()),
            2 => {
                let from = rng.gen_range(corpus::T0..t_end.max(corpus::T0 + 1));
                sq.from_ms = Some(from);
                sq.to_ms = Some(from + 30 * 24 * 3600 * 1000);
            }
            _ => {
                sq.has_file = true;
                sq.chat = if rng.gen_bool(0.5) {
                    Some(d.doc.room_id.clone())
                } else {
                    None
                };
            }
        }
        out.push(BenchQuery {
            q: sq,
            class: "filtered",
        });
    }
    out
}

fn query_json(q: &SearchQuery) -> Value {
    json!({
        "text": q.text, "chat": q.chat, "sender": q.sender, "from": q.from_ms,
        "to": q.to_ms, "has_file": q.has_file, "prefix_last": q.prefix_last,
        "limit": if q.limit == 0 { 50 } else { q.limit },
    })
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// Latency of each query (ms, in query order): after one warm-up pass, the median of three runs (the
/// machine is shared; one slow run should not make a query slow).
fn time_queries(run: &mut dyn FnMut(&SearchQuery) -> Vec<String>, qs: &[BenchQuery]) -> Vec<f64> {
    for b in qs {
        run(&b.q);
    }
    let ms: Vec<f64> = qs
        .iter()
        .map(|b| {
            let mut runs: Vec<f64> = (0..3)
                .map(|_| {
                    let t = Instant::now();
                    let hits = run(&b.q);
                    std::hint::black_box(hits);
                    t.elapsed().as_secs_f64() * 1000.0
                })
                .collect();
            runs.sort_by(f64::total_cmp);
            runs[1]
        })
        .collect();
    ms
}

fn sorted(v: &[f64]) -> Vec<f64> {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    v
}

/// How to run `word*` in tantivy: a range over the term dictionary (what Kontor uses),
/// a regex automaton, or a one-term `PhrasePrefixQuery` (which caps the expansion at 50
/// terms unless told otherwise). Counts all matching documents, on the plain index.
fn measure_prefix_strategies(dir: &Path, qs: &[BenchQuery]) {
    use std::ops::Bound;
    use tantivy::collector::Count;
    use tantivy::query::{InvertedIndexRangeQuery, PhrasePrefixQuery, Query, RegexQuery};
    use tantivy::{Index, Term};
    let index = Index::open_in_dir(dir).unwrap();
    let searcher = index.reader().unwrap().searcher();
    let field = index.schema().get_field("words").unwrap();
    let stemmers = Stemmers::default();
    let prefixes: Vec<String> = qs
        .iter()
        .filter(|b| b.class == "prefix")
        .flat_map(|b| parse(&stemmers, &b.q.text, false))
        .filter_map(|c| match c {
            Clause::Prefix(p) => Some(p),
            _ => None,
        })
        .collect();
    type Make = fn(tantivy::schema::Field, &str) -> Box<dyn Query>;
    let strategies: [(&str, Make); 3] = [
        ("term range", |f, p| {
            let lower = Term::from_field_text(f, p);
            let mut upper = lower.clone();
            upper.append_bytes(&[0xFF]);
            Box::new(InvertedIndexRangeQuery::new(
                Bound::Included(lower),
                Bound::Excluded(upper),
            ))
        }),
        ("regex", |f, p| {
            let escaped: String = p
                .chars()
                .map(|c| {
                    if c.is_alphanumeric() {
                        c.to_string()
                    } else {
                        format!("\\{c}")
                    }
                })
                .collect();
            Box::new(RegexQuery::from_pattern(&format!("{escaped}.*"), f).unwrap())
        }),
        ("phrase prefix", |f, p| {
            Box::new(PhrasePrefixQuery::new(vec![Term::from_field_text(f, p)]))
        }),
    ];
    let mut reference: Vec<usize> = Vec::new();
    for (name, make) in strategies {
        let mut ms = Vec::new();
        let mut counts = Vec::new();
        for p in &prefixes {
            let q = make(field, p);
            searcher.search(&q, &Count).unwrap();
            let t = Instant::now();
            counts.push(searcher.search(&q, &Count).unwrap());
            ms.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        ms.sort_by(f64::total_cmp);
        if reference.is_empty() {
            reference = counts.clone();
        }
        let same = counts == reference;
        eprintln!(
            "  prefix as {name:13}: p50 {:6.2} ms  p95 {:6.2} ms  {} docs{}",
            percentile(&ms, 0.5),
            percentile(&ms, 0.95),
            counts.iter().sum::<usize>(),
            if same {
                ""
            } else {
                "  (differs from the term range!)"
            }
        );
    }
}

/// Per truth query: text, relevant, relevant found, returned.
type PerQuery = (String, usize, usize, usize);

/// Recall and precision over the truth queries, summed over all queries (micro average).
fn quality(
    docs: &[GenDoc],
    hits_of: &mut dyn FnMut(&corpus::TruthQuery) -> BTreeSet<String>,
) -> (f64, f64, Vec<PerQuery>) {
    let (mut relevant, mut found, mut returned) = (0usize, 0usize, 0usize);
    let mut per = Vec::new();
    for t in TRUTH {
        let truth: BTreeSet<&str> = docs
            .iter()
            .filter(|d| t.relevant(&d.units))
            .map(|d| d.doc.event_id.as_str())
            .collect();
        let hits = hits_of(t);
        let ok = hits.iter().filter(|h| truth.contains(h.as_str())).count();
        relevant += truth.len();
        found += ok;
        returned += hits.len();
        per.push((t.text.to_string(), truth.len(), ok, hits.len()));
    }
    (
        found as f64 / relevant.max(1) as f64,
        found as f64 / returned.max(1) as f64,
        per,
    )
}

struct Row {
    engine: String,
    index_s: f64,
    rss_mb: f64,
    size_mb: f64,
    p50: f64,
    p95: f64,
    recall: f64,
    precision: f64,
    per: Vec<PerQuery>,
}

fn run_child(engine: &str, dir: &Path) -> (f64, f64) {
    let out = Command::new(std::env::current_exe().unwrap())
        .env(CHILD_ENV, engine)
        .env(DIR_ENV, dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find(|l| l.starts_with("RESULT "))
        .unwrap_or_else(|| {
            panic!(
                "{engine} child failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
    let mut it = line.split_whitespace().skip(1);
    let ms: f64 = it.next().unwrap().parse().unwrap();
    let kb: f64 = it.next().unwrap().parse().unwrap();
    (ms / 1000.0, kb / 1024.0)
}

fn main() {
    if let Ok(engine) = std::env::var(CHILD_ENV) {
        let dir = PathBuf::from(std::env::var_os(DIR_ENV).unwrap());
        child(&engine, &dir);
        return;
    }
    let n = n_docs();
    let tmp = tempfile::tempdir().unwrap();
    eprintln!("generating {n} messages over {CHATS} chats …");
    let docs: Vec<GenDoc> = corpus::corpus(SEED, n, CHATS).collect();
    let text_bytes: usize = docs.iter().map(|d| d.doc.text.len()).sum();
    let files = docs
        .iter()
        .filter(|d| d.doc.kind != DocKind::Message)
        .count();
    let words_total: usize = docs.iter().map(|d| d.units.len()).sum();
    eprintln!(
        "{n} docs, {files} files/quotes, {:.1} words/doc, {:.2} MB of text",
        words_total as f64 / n as f64,
        text_bytes as f64 / 1e6
    );
    let queries = make_queries(&docs);
    let stemmers = Stemmers::default();
    let mut rows = Vec::new();

    for engine in ENGINES {
        let dir = tmp.path().join(engine);
        fs::create_dir_all(&dir).unwrap();
        eprintln!("indexing with {engine} …");
        let (index_s, rss_mb) = run_child(engine, &dir);
        let size_mb = dir_size(&dir) as f64 / 1e6;
        eprintln!("querying {engine} …");
        let (lat, recall, precision, per) = if engine == "fts5" {
            let db = fts5_open(&dir);
            let lat = time_queries(&mut |q| fts5_search(&db, &stemmers, q), &queries);
            let (r, p, per) = quality(&docs, &mut |t| {
                let q = SearchQuery {
                    text: t.text.into(),
                    limit: n + 1,
                    ..Default::default()
                };
                fts5_search(&db, &stemmers, &q).into_iter().collect()
            });
            (lat, r, p, per)
        } else {
            let index = if engine == "kontor" {
                SearchIndex::open(&dir, key()).unwrap()
            } else {
                SearchIndex::open_unencrypted_for_benchmark(&dir).unwrap()
            };
            assert_eq!(index.len().unwrap() as usize, n);
            let lat = time_queries(
                &mut |q| {
                    index
                        .search(q)
                        .unwrap()
                        .into_iter()
                        .map(|h| h.event_id)
                        .collect()
                },
                &queries,
            );
            let (r, p, per) = quality(&docs, &mut |t| {
                let q = SearchQuery {
                    text: t.text.into(),
                    limit: n + 1,
                    ..Default::default()
                };
                index
                    .search(&q)
                    .unwrap()
                    .into_iter()
                    .map(|h| h.event_id)
                    .collect()
            });
            (lat, r, p, per)
        };
        if engine == "kontor" {
            let mut by_class: Vec<(&str, Vec<f64>)> = Vec::new();
            for (b, ms) in queries.iter().zip(&lat) {
                match by_class.iter_mut().find(|(c, _)| *c == b.class) {
                    Some((_, v)) => v.push(*ms),
                    None => by_class.push((b.class, vec![*ms])),
                }
            }
            for (class, mut v) in by_class {
                v.sort_by(f64::total_cmp);
                eprintln!(
                    "  kontor {class:12} n={:3} p50 {:6.2} ms  p95 {:6.2} ms",
                    v.len(),
                    percentile(&v, 0.5),
                    percentile(&v, 0.95)
                );
            }
        }
        if engine == "tantivy-plain" {
            measure_prefix_strategies(&dir, &queries);
        }
        rows.push(Row {
            engine: engine.into(),
            index_s,
            rss_mb,
            size_mb,
            p50: percentile(&sorted(&lat), 0.5),
            p95: percentile(&sorted(&lat), 0.95),
            recall,
            precision,
            per,
        });
    }

    // The peer: Python's sqlite3, stock FTS5 tokenizer, unencrypted.
    let peer_dir = tmp.path().join("peer");
    fs::create_dir_all(&peer_dir).unwrap();
    {
        let mut f =
            std::io::BufWriter::new(fs::File::create(peer_dir.join("messages.jsonl")).unwrap());
        for d in &docs {
            let v = json!({
                "eid": d.doc.event_id, "room": d.doc.room_id, "sender": d.doc.sender,
                "ts": d.doc.timestamp_ms, "kind": kind_code(d.doc.kind), "text": d.doc.text,
            });
            writeln!(f, "{v}").unwrap();
        }
    }
    let qs: Vec<Value> = queries.iter().map(|b| query_json(&b.q)).collect();
    let truth: Vec<Value> = TRUTH
        .iter()
        .map(|t| {
            query_json(&SearchQuery {
                text: t.text.into(),
                limit: n + 1,
                ..Default::default()
            })
        })
        .collect();
    fs::write(
        peer_dir.join("queries.json"),
        json!({"queries": qs, "truth": truth}).to_string(),
    )
    .unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/peer.py");
    eprintln!("running the peer ({}) …", script.display());
    let out = Command::new("python3")
        .arg(&script)
        .arg(&peer_dir)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "peer failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let peer: Value = serde_json::from_slice(&out.stdout).expect("peer prints JSON");
    let peer_hits: Vec<BTreeSet<String>> = peer["truth_hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_str().unwrap().to_string())
                .collect()
        })
        .collect();
    let mut k = 0;
    let (recall, precision, per) = quality(&docs, &mut |_| {
        k += 1;
        peer_hits[k - 1].clone()
    });
    rows.push(Row {
        engine: "peer: python sqlite3 FTS5 porter".into(),
        index_s: peer["index_s"].as_f64().unwrap(),
        rss_mb: peer["rss_mb"].as_f64().unwrap(),
        size_mb: peer["size_bytes"].as_f64().unwrap() / 1e6,
        p50: peer["p50_ms"].as_f64().unwrap(),
        p95: peer["p95_ms"].as_f64().unwrap(),
        recall,
        precision,
        per,
    });

    // ------------------------------------------------------------ report
    println!();
    println!(
        "Search benchmark: {n} messages, {CHATS} chats, {:.2} MB text, {} queries",
        text_bytes as f64 / 1e6,
        queries.len()
    );
    println!();
    println!(
        "| engine | index time | peak RSS | size on disk (× text) | p50 | p95 | recall | precision |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for r in &rows {
        println!(
            "| {} | {:.2} s | {:.0} MB | {:.1} MB ({:.2}×) | {:.2} ms | {:.2} ms | {:.3} | {:.3} |",
            r.engine,
            r.index_s,
            r.rss_mb,
            r.size_mb,
            r.size_mb * 1e6 / text_bytes as f64,
            r.p50,
            r.p95,
            r.recall,
            r.precision
        );
    }
    println!();
    println!("Recall per folding/stemming query (relevant / found by each engine):");
    print!("| query | relevant |");
    for r in &rows {
        print!(" {} |", r.engine);
    }
    println!();
    print!("|---|---:|");
    for _ in &rows {
        print!("---:|");
    }
    println!();
    for (i, t) in TRUTH.iter().enumerate() {
        print!("| `{}` | {} |", t.text, rows[0].per[i].1);
        for r in &rows {
            let (_, _, ok, ret) = &r.per[i];
            print!(" {ok} ({} wrong) |", ret - ok);
        }
        println!();
    }
    let kontor = &rows[0];
    let peer = rows.last().unwrap();
    println!();
    println!(
        "Goals: index ≤ 10 s: {:.2} s {}; RSS ≤ 150 MB: {:.0} MB {}; size ≤ 1.5× text: {:.2}× {}; p95 ≤ 30 ms: {:.2} ms {}; p95 within 2× of the peer ({:.2} ms): {}; recall ≥ peer ({:.3} vs {:.3}): {}",
        kontor.index_s,
        ok(kontor.index_s <= 10.0),
        kontor.rss_mb,
        ok(kontor.rss_mb <= 150.0),
        kontor.size_mb * 1e6 / text_bytes as f64,
        ok(kontor.size_mb * 1e6 / text_bytes as f64 <= 1.5),
        kontor.p95,
        ok(kontor.p95 <= 30.0),
        peer.p95,
        ok(kontor.p95 <= 2.0 * peer.p95),
        kontor.recall,
        peer.recall,
        ok(kontor.recall >= peer.recall),
    );
}

fn ok(b: bool) -> &'static str {
    if b { "✔" } else { "✘ MISSED" }
}
