//! Atomic writes across the two books (two separate databases).
//!
//! sled is atomic within one database, not across two. A grant deletes from the
//! private book and writes to the work book; an import writes to both. A crash
//! between the two must not leave a contact in both books or in none. So every
//! two-store write is a small two-phase commit with undo logs:
//!
//! 1. each store touched: `t/<txn>` = undo log (the values before), durable
//! 2. each store: the ops, in chunks of bounded size (a 100,000-contact import)
//! 3. work:    `c/<txn>` commit marker — the decision point
//! 4. drop the undo logs, then the commit marker
//!
//! A small write to a single store skips all this: sled applies one batch atomically.
//!
//! On open, [`recover`] finishes committed transactions and rolls back the
//! rest from their undo logs. The logs hold only what the stores hold anyway
//! (sealed blobs, keyed hashes), so they reveal nothing either.

use crate::crypto::random;
use crate::error::{Error, Result};
use crate::layout::{self, Bucket, Shard};
use crate::store::{ContactStore, Op};

const TXN: &[u8] = b"t/";
const COMMIT: &[u8] = b"c/";

fn key(prefix: &[u8], id: &[u8]) -> Vec<u8> {
    [prefix, id].concat()
}

/// Ops for each store, to be applied together or not at all.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    pub(crate) work: Vec<Write>,
    pub(crate) private: Vec<Write>,
}

/// One write of a plan: an op, or a record bucket or index shard that is
/// encoded only just before its chunk is written. A large import so never
/// holds its sealed records and their encoded copies at once.
#[derive(Debug)]
pub(crate) enum Write {
    /// An op ready to apply.
    Now(Op),
    /// `Put(key, encoded bucket)`, with the encoded size.
    Bucket(Vec<u8>, Bucket, usize),
    /// `Put(key, encoded shard)`, with the encoded size.
    Shard(Vec<u8>, Shard, usize),
}

impl Write {
    /// Writes `bucket` under `key` (its encoding is sized now, built later).
    pub(crate) fn bucket(key: Vec<u8>, bucket: Bucket) -> Self {
        let size = layout::bucket_size(&bucket);
        Write::Bucket(key, bucket, size)
    }

    /// Writes `shard` under `key`.
    pub(crate) fn shard(key: Vec<u8>, shard: Shard) -> Self {
        let size = layout::shard_size(&shard);
        Write::Shard(key, shard, size)
    }

    fn key(&self) -> &[u8] {
        match self {
            Write::Now(op) => op.key(),
            Write::Bucket(k, ..) | Write::Shard(k, ..) => k,
        }
    }

    fn size(&self) -> usize {
        match self {
            Write::Now(op) => op_size(op),
            Write::Bucket(k, _, n) | Write::Shard(k, _, n) => k.len() + n,
        }
    }

    /// The op, encoding a bucket or shard now (and freeing its entries).
    pub(crate) fn into_op(self) -> Op {
        match self {
            Write::Now(op) => op,
            Write::Bucket(k, b, _) => Op::Put(k, layout::encode_bucket_owned(b)),
            Write::Shard(k, s, _) => Op::Put(k, layout::encode_shard(&s)),
        }
    }
}

impl From<Op> for Write {
    fn from(op: Op) -> Self {
        Write::Now(op)
    }
}

fn ops(writes: Vec<Write>) -> Vec<Op> {
    writes.into_iter().map(Write::into_op).collect()
}

/// Bytes per write: a big import is written in chunks so memory stays bounded;
/// the undo log written first makes the chunks one transaction.
const CHUNK_BYTES: usize = 8 << 20;

fn op_size(op: &Op) -> usize {
    match op {
        Op::Put(k, v) => k.len() + v.len(),
        Op::Del(k) => k.len(),
    }
}

/// How many of the first ops make one write of at most about [`CHUNK_BYTES`]
/// (at least one op).
fn chunk_len(ops: &[Write]) -> usize {
    let mut size = 0;
    for (i, op) in ops.iter().enumerate() {
        if size > 0 && size + op.size() > CHUNK_BYTES {
            return i;
        }
        size += op.size();
    }
    ops.len()
}

/// Applies `plan` atomically across both stores (see module docs).
pub(crate) fn commit(
    work: &dyn ContactStore,
    private: &dyn ContactStore,
    plan: Plan,
) -> Result<()> {
    if plan.work.is_empty() && plan.private.is_empty() {
        return Ok(());
    }
    let size: usize = plan.work.iter().chain(&plan.private).map(Write::size).sum();
    if size <= CHUNK_BYTES && (plan.work.is_empty() || plan.private.is_empty()) {
        // One atomic write to one store needs no journal.
        let (store, ops) = if plan.work.is_empty() {
            (private, plan.private)
        } else {
            (work, plan.work)
        };
        return store.apply(self::ops(ops));
    }
    let id = random::<16>();
    let txn = key(TXN, &id);
    let parts: Vec<(&dyn ContactStore, Vec<Write>)> = [(work, plan.work), (private, plan.private)]
        .into_iter()
        .filter(|(_, ops)| !ops.is_empty())
        .collect();
    // Phase 1: undo logs first, then the ops (possibly in several writes).
    for (store, ops) in &parts {
        store.apply(vec![Op::Put(
            txn.clone(),
            undo_log(*store, ops.iter().map(Write::key))?,
        )])?;
    }
    // Both stores at once, one thread each: they are separate databases, so
    // encoding one's buckets and sled's work (and flushes) on it overlap the
    // other's; on two cores that takes the commit of a large import from the
    // sum of the two stores to about the larger one. The decision below
    // waits for both.
    let stores: Vec<&dyn ContactStore> = parts.iter().map(|(store, _)| *store).collect();
    std::thread::scope(|s| {
        let mut parts = parts.into_iter();
        let first = parts.next();
        let others: Vec<_> = parts
            .map(|(store, ops)| s.spawn(move || write_chunks(store, ops)))
            .collect();
        let mine = first.map_or(Ok(()), |(store, ops)| write_chunks(store, ops));
        others
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .fold(mine, Result::and)
    })?;
    // Phase 2: the decision, always in the work store.
    work.apply(vec![Op::Put(key(COMMIT, &id), Vec::new())])?;
    // Committed. A failure from here on is finished by `recover` at the next open.
    for store in stores.iter().rev() {
        store.apply(vec![Op::Del(txn.clone())])?;
    }
    work.apply(vec![Op::Del(key(COMMIT, &id))])
}

/// Applies `rest` to `store` in writes of about [`CHUNK_BYTES`]. Each write
/// takes its ops, so what is written is freed as it goes; buckets and
/// shards are encoded only now, chunk by chunk.
fn write_chunks(store: &dyn ContactStore, mut rest: Vec<Write>) -> Result<()> {
    while !rest.is_empty() {
        let tail = rest.split_off(chunk_len(&rest));
        store.apply(self::ops(std::mem::replace(&mut rest, tail)))?;
    }
    Ok(())
}

/// Finishes or rolls back transactions interrupted by a crash. Returns how many it found.
pub(crate) fn recover(work: &dyn ContactStore, private: &dyn ContactStore) -> Result<usize> {
    let mut ids: Vec<Vec<u8>> = Vec::new();
    for store in [work, private] {
        for (k, _) in store.scan_prefix(TXN)? {
            let id = k[TXN.len()..].to_vec();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
    }
    for id in &ids {
        let committed = work.get(&key(COMMIT, id))?.is_some();
        for store in [private, work] {
            let Some(log) = store.get(&key(TXN, id))? else {
                continue;
            };
            let mut ops = if committed {
                Vec::new()
            } else {
                decode_undo(&log)?
            };
            ops.push(Op::Del(key(TXN, id)));
            store.apply(ops)?;
        }
        work.apply(vec![Op::Del(key(COMMIT, id))])?;
    }
    // Commit markers whose logs were already removed.
    let stray: Vec<Op> = work
        .scan_prefix(COMMIT)?
        .into_iter()
        .map(|(k, _)| Op::Del(k))
        .collect();
    if !stray.is_empty() {
        work.apply(stray)?;
    }
    Ok(ids.len())
}

/// Recovery with only the work store at hand (the work book opened alone):
/// rolls back its half of uncommitted transactions, which is what the full
/// recovery would do too since the decision lives in the work store. Committed
/// ones are left for the full recovery, which cleans up the private half.
pub(crate) fn recover_work_only(work: &dyn ContactStore) -> Result<()> {
    for (k, log) in work.scan_prefix(TXN)? {
        let id = &k[TXN.len()..];
        if work.get(&key(COMMIT, id))?.is_none() {
            let mut ops = decode_undo(&log)?;
            ops.push(Op::Del(k.clone()));
            work.apply(ops)?;
        }
    }
    Ok(())
}

/// Encodes the current value (or absence) of every key the ops touch.
fn undo_log<'a>(store: &dyn ContactStore, keys: impl Iterator<Item = &'a [u8]>) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for k in keys {
        if !seen.insert(k) {
            continue;
        }
        out.extend_from_slice(&(k.len() as u32).to_le_bytes());
        out.extend_from_slice(k);
        match store.get(k)? {
            Some(v) => {
                out.push(1);
                out.extend_from_slice(&(v.len() as u32).to_le_bytes());
                out.extend_from_slice(&v);
            }
            None => out.push(0),
        }
    }
    Ok(out)
}

fn decode_undo(mut b: &[u8]) -> Result<Vec<Op>> {
    fn take<'a>(b: &mut &'a [u8], n: usize) -> Result<&'a [u8]> {
        if b.len() < n {
            return Err(Error::InvalidState("truncated undo log".into()));
        }
        let (head, tail) = b.split_at(n);
        *b = tail;
        Ok(head)
    }
    fn len(b: &mut &[u8]) -> Result<usize> {
        let mut n = [0u8; 4];
        n.copy_from_slice(take(b, 4)?);
        Ok(u32::from_le_bytes(n) as usize)
    }
    let mut ops = Vec::new();
    while !b.is_empty() {
        let n = len(&mut b)?;
        let k = take(&mut b, n)?.to_vec();
        match take(&mut b, 1)?[0] {
            0 => ops.push(Op::Del(k)),
            _ => {
                let n = len(&mut b)?;
                ops.push(Op::Put(k, take(&mut b, n)?.to_vec()));
            }
        }
    }
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn put(k: &str, v: &str) -> Op {
        Op::Put(k.as_bytes().to_vec(), v.as_bytes().to_vec())
    }

    fn now(ops: Vec<Op>) -> Vec<Write> {
        ops.into_iter().map(Write::from).collect()
    }

    fn setup() -> (MemoryStore, MemoryStore) {
        let (w, p) = (MemoryStore::new(), MemoryStore::new());
        p.apply(vec![put("r/1", "old"), put("i/x", "1")]).unwrap();
        (w, p)
    }

    fn plan() -> Plan {
        Plan {
            work: now(vec![put("r/1", "new"), put("i/y", "1")]),
            private: now(vec![Op::Del(b"r/1".to_vec()), Op::Del(b"i/x".to_vec())]),
        }
    }

    /// Crash after every possible number of writes of either store: after
    /// recovery the state is exactly "before" or exactly "after".
    #[test]
    fn crash_at_every_step_is_all_or_nothing() {
        let (w0, p0) = setup();
        let before = (w0.snapshot(), p0.snapshot());
        commit(&w0, &p0, plan()).unwrap();
        let after = (w0.snapshot(), p0.snapshot());
        assert_ne!(before, after);
        for crash_w in 0..6 {
            for crash_p in 0..5 {
                let (w, p) = setup();
                w.crash_after(crash_w);
                p.crash_after(crash_p);
                let ok = commit(&w, &p, plan()).is_ok();
                w.restart();
                p.restart();
                recover(&w, &p).unwrap();
                let state = (w.snapshot(), p.snapshot());
                assert!(
                    state == before || state == after,
                    "crash at w{crash_w}/p{crash_p}"
                );
                if ok {
                    assert_eq!(state, after);
                }
            }
        }
    }

    #[test]
    fn undo_log_round_trip_and_truncation() {
        let (_, p) = setup();
        let ops = [Op::Del(b"r/1".to_vec()), put("r/2", "z")];
        let log = undo_log(&p, ops.iter().map(Op::key)).unwrap();
        assert_eq!(
            decode_undo(&log).unwrap(),
            vec![put("r/1", "old"), Op::Del(b"r/2".to_vec())]
        );
        assert!(decode_undo(&log[..log.len() - 1]).is_err());
    }

    #[test]
    fn chunk_len_bounds_writes() {
        let big = |k: &str| Op::Put(k.as_bytes().to_vec(), vec![0; CHUNK_BYTES / 2]);
        assert_eq!(chunk_len(&[]), 0);
        assert_eq!(chunk_len(&now(vec![big("a"), big("b"), big("c")])), 1);
        assert_eq!(chunk_len(&now(vec![put("a", "1"), put("b", "2")])), 2);
        // An op larger than a chunk still goes, alone.
        let huge = Op::Put(b"h".to_vec(), vec![0; CHUNK_BYTES * 2]);
        assert_eq!(chunk_len(&now(vec![huge, put("a", "1")])), 1);
        // A bucket is counted at its encoded size before it is encoded.
        let mut bucket = Bucket::new();
        bucket.insert(
            "id".into(),
            layout::Entry {
                refs: vec![[1; 32]],
                blob: vec![0; CHUNK_BYTES / 2],
            },
        );
        let w = Write::bucket(b"r/1".to_vec(), bucket);
        let size = w.size();
        match w.into_op() {
            Op::Put(k, v) => assert_eq!(size, k.len() + v.len()),
            Op::Del(_) => panic!("a bucket is a put"),
        }
    }

    /// A plan too large for one write is split into several, and a crash
    /// between any two of them still rolls back or completes the whole plan.
    #[test]
    fn crash_between_chunks_is_all_or_nothing() {
        let big_plan = || Plan {
            work: (0..3u8)
                .map(|i| Op::Put(vec![b'r', i], vec![i; CHUNK_BYTES / 2 + 1]).into())
                .collect(),
            private: now(vec![Op::Del(b"r/1".to_vec())]),
        };
        let (w0, p0) = setup();
        let before = (w0.snapshot(), p0.snapshot());
        commit(&w0, &p0, big_plan()).unwrap();
        let after = (w0.snapshot(), p0.snapshot());
        for crash_w in 0..8 {
            for crash_p in 0..4 {
                let (w, p) = setup();
                w.crash_after(crash_w);
                p.crash_after(crash_p);
                let ok = commit(&w, &p, big_plan()).is_ok();
                w.restart();
                p.restart();
                recover(&w, &p).unwrap();
                let state = (w.snapshot(), p.snapshot());
                assert!(
                    state == before || state == after,
                    "crash at w{crash_w}/p{crash_p}"
                );
                if ok {
                    assert_eq!(state, after);
                }
            }
        }
    }
}
