#!/usr/bin/env python3
"""The peer of the search benchmark: what a plain, unencrypted SQLite FTS5 index gives.

Python's standard sqlite3, one FTS5 table with the stock tokenizer
`porter unicode61 remove_diacritics 2`, the same messages and the same queries as
`benches/search.rs` (which writes them to DIR and runs this script). The query syntax is
mapped to FTS5: bare words are ANDed, "quoted phrases" stay phrases, word* is a prefix, a
bare word with punctuation inside (A-2026-0007) is the phrase of its words, and with
prefix_last the last unfinished bare word is a prefix.

Prints JSON: index time, size, peak RSS of this process, p50/p95 latency, and the hits
of the truth queries (for recall).

usage: peer.py DIR   (DIR has messages.jsonl and queries.json)
"""

import json
import os
import re
import resource
import sqlite3
import sys
import time

WORD = re.compile(r"[^\W_]+")


def words(text):
    return WORD.findall(text)


def quote(s):
    return '"' + s.replace('"', '""') + '"'


def to_fts5(text, prefix_last):
    clauses = []  # (fts5 text, is_bare_single_word, word)
    last_bare = None
    i = 0
    n = len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            last_bare = None
            continue
        if c == '"':
            j = text.find('"', i + 1)
            j = n if j < 0 else j
            ws = words(text[i + 1 : j])
            if ws:
                clauses.append(quote(" ".join(ws)))
            i = j + 1
            last_bare = None
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] != '"':
            j += 1
        chunk = text[i:j]
        i = j
        ws = words(chunk)
        if not ws:
            last_bare = None
            continue
        star = chunk.endswith("*") and len(ws[-1]) >= 2
        q = quote(" ".join(ws)) + (" *" if star else "")
        clauses.append(q)
        last_bare = None if chunk.endswith("*") else len(clauses) - 1
        if last_bare is not None and len(ws[-1]) < 2:
            last_bare = None
    if prefix_last and last_bare is not None:
        clauses[last_bare] += " *"
    return " AND ".join(clauses)


def search(db, q):
    sql = "SELECT eid, text FROM docs WHERE 1"
    params = []
    m = to_fts5(q["text"], q.get("prefix_last", False))
    if m:
        sql += " AND docs MATCH ?"
        params.append(m)
    if q.get("chat"):
        sql += " AND room = ?"
        params.append(q["chat"])
    if q.get("sender"):
        sql += " AND sender = ?"
        params.append(q["sender"])
    if q.get("from") is not None:
        sql += " AND ts >= ?"
        params.append(q["from"])
    if q.get("to") is not None:
        sql += " AND ts < ?"
        params.append(q["to"])
    if q.get("has_file"):
        sql += " AND kind IN (1, 2)"
    sql += " ORDER BY ts DESC LIMIT %d" % int(q.get("limit") or 50)
    return [row[0] for row in db.execute(sql, params).fetchall()]


def main():
    d = sys.argv[1]
    path = os.path.join(d, "peer.db")
    if os.path.exists(path):
        os.remove(path)
    with open(os.path.join(d, "queries.json"), encoding="utf-8") as f:
        qs = json.load(f)

    t0 = time.perf_counter()
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(
        "CREATE VIRTUAL TABLE docs USING fts5(text, eid UNINDEXED, room UNINDEXED, "
        "sender UNINDEXED, ts UNINDEXED, kind UNINDEXED, "
        "tokenize='porter unicode61 remove_diacritics 2')"
    )

    def rows():
        with open(os.path.join(d, "messages.jsonl"), encoding="utf-8") as f:
            for line in f:
                m = json.loads(line)
                yield (m["text"], m["eid"], m["room"], m["sender"], m["ts"], m["kind"])

    with db:
        db.executemany("INSERT INTO docs VALUES (?, ?, ?, ?, ?, ?)", rows())
    db.execute("INSERT INTO docs(docs) VALUES('optimize')")
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    index_s = time.perf_counter() - t0
    size = sum(
        os.path.getsize(os.path.join(d, f))
        for f in os.listdir(d)
        if f.startswith("peer.db")
    )

    for q in qs["queries"]:  # warm-up
        search(db, q)
    lat = []
    for q in qs["queries"]:  # the median of three runs, as the Rust side does
        runs = []
        for _ in range(3):
            t = time.perf_counter()
            search(db, q)
            runs.append((time.perf_counter() - t) * 1000.0)
        lat.append(sorted(runs)[1])
    lat.sort()

    def pct(p):
        return lat[round((len(lat) - 1) * p)] if lat else 0.0

    truth_hits = [search(db, q) for q in qs["truth"]]
    print(
        json.dumps(
            {
                "index_s": index_s,
                "size_bytes": size,
                "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
                "p50_ms": pct(0.5),
                "p95_ms": pct(0.95),
                "sqlite": sqlite3.sqlite_version,
                "truth_hits": truth_hits,
            }
        )
    )


if __name__ == "__main__":
    main()
