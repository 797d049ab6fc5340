//! Precision and recall on a fixed corpus: for each query, the exact set of hits (every
//! relevant document, nothing else), with the ground truth from the generator.

mod corpus;

use std::collections::BTreeSet;

use corpus::{GenDoc, TRUTH};
use kontor_search::{DocKind, SearchIndex, SearchQuery};
use zeroize::Zeroizing;

fn setup() -> (tempfile::TempDir, SearchIndex, Vec<GenDoc>) {
    let tmp = tempfile::tempdir().unwrap();
    let index = SearchIndex::open(tmp.path(), Zeroizing::new([3; 32])).unwrap();
    let docs: Vec<GenDoc> = corpus::corpus(2026, 400, 5).collect();
    let plain: Vec<_> = docs.iter().map(|d| d.doc.clone()).collect();
    index.upsert(&plain).unwrap();
    index.commit(None).unwrap();
    (tmp, index, docs)
}

fn got(index: &SearchIndex, q: SearchQuery) -> BTreeSet<String> {
    let q = SearchQuery { limit: 10_000, ..q };
    index
        .search(&q)
        .unwrap()
        .into_iter()
        .map(|h| h.event_id)
        .collect()
}

#[test]
fn every_truth_query_finds_exactly_the_relevant_documents() {
    let (_tmp, index, docs) = setup();
    assert_eq!(index.len().unwrap(), 400);
    for t in TRUTH {
        let expected: BTreeSet<String> = docs
            .iter()
            .filter(|d| t.relevant(&d.units))
            .map(|d| d.doc.event_id.clone())
            .collect();
        assert!(
            !expected.is_empty(),
            "{}: the corpus has relevant docs",
            t.text
        );
        let q = SearchQuery {
            text: t.text.into(),
            ..Default::default()
        };
        let hits = got(&index, q);
        let missing: Vec<_> = expected.difference(&hits).collect();
        let wrong: Vec<_> = hits.difference(&expected).collect();
        assert!(
            missing.is_empty() && wrong.is_empty(),
            "{}: missing {missing:?}, wrong {wrong:?}",
            t.text
        );
    }
}

/// Which generated docs pass a filter.
type Keep<'a> = Box<dyn Fn(&GenDoc) -> bool + 'a>;

#[test]
fn filters_narrow_the_truth_exactly() {
    let (_tmp, index, docs) = setup();
    let t = &TRUTH[0]; // angebot
    let room = corpus::room(1);
    let customer = corpus::customer(1);
    let mid = docs[200].doc.timestamp_ms;
    let cases: Vec<(SearchQuery, Keep<'_>)> = vec![
        (
            SearchQuery {
                chat: Some(room.clone()),
                ..Default::default()
            },
            Box::new(|d: &GenDoc| d.doc.room_id == room),
        ),
        (
            SearchQuery {
                sender: Some(customer.clone()),
                ..Default::default()
            },
            Box::new(|d: &GenDoc| d.doc.sender == customer),
        ),
        (
            SearchQuery {
                from_ms: Some(mid),
                ..Default::default()
            },
            Box::new(move |d: &GenDoc| d.doc.timestamp_ms >= mid),
        ),
        (
            SearchQuery {
                to_ms: Some(mid),
                ..Default::default()
            },
            Box::new(move |d: &GenDoc| d.doc.timestamp_ms < mid),
        ),
        (
            SearchQuery {
                has_file: true,
                ..Default::default()
            },
            Box::new(|d: &GenDoc| d.doc.kind != DocKind::Message),
        ),
    ];
    for (i, (filter, keep)) in cases.into_iter().enumerate() {
        let expected: BTreeSet<String> = docs
            .iter()
            .filter(|d| t.relevant(&d.units) && keep(d))
            .map(|d| d.doc.event_id.clone())
            .collect();
        assert!(!expected.is_empty(), "case {i} has relevant docs");
        let q = SearchQuery {
            text: t.text.into(),
            ..filter.clone()
        };
        assert_eq!(got(&index, q), expected, "case {i}");
        // The filter alone (empty text) lists every doc that passes it.
        let all: BTreeSet<String> = docs
            .iter()
            .filter(|d| keep(d))
            .map(|d| d.doc.event_id.clone())
            .collect();
        assert_eq!(got(&index, filter), all, "case {i}, empty text");
    }
}

#[test]
fn hits_come_newest_first_and_highlight_a_relevant_word() {
    let (_tmp, index, _docs) = setup();
    let hits = index
        .search(&SearchQuery {
            text: "termin".into(),
            ..Default::default()
        })
        .unwrap();
    assert!(hits.len() > 3);
    assert!(
        hits.windows(2)
            .all(|w| w[0].timestamp_ms >= w[1].timestamp_ms)
    );
    for h in hits {
        assert!(!h.highlights.is_empty(), "{}", h.event_id);
        for r in &h.highlights {
            let word = &h.snippet[r.clone()];
            assert!(
                ["Termin", "Termine", "Terminen"].contains(&word),
                "{word} highlighted"
            );
        }
    }
}
