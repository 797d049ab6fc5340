//! How records and index entries are packed into a store's keys.
//!
//! sled costs about 2.5 KiB of memory and 10 µs per key written; a
//! 100,000-contact import with a key per record and per index entry needed
//! gigabytes. So records are packed into 256 buckets (`r/<byte>`, chosen by
//! the contact id) and index entries into 256 shards (`i/<byte>`, chosen by
//! the first byte of the keyed hash). A single change rewrites one bucket and a
//! few shards; an import writes each touched bucket and shard once.
//!
//! Bucket value: repeated `[id len u8][id][n refs u16][refs 32·n][blob len u32][sealed blob]`,
//! where refs are the record's index hashes (so it can be removed without decrypting).
//! Shard value: repeated `[hash 32][id len u8][id]`.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

pub(crate) const REC: &[u8] = b"r/";
pub(crate) const IDX: &[u8] = b"i/";

/// One record in a bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Entry {
    pub(crate) refs: Vec<[u8; 32]>,
    pub(crate) blob: Vec<u8>,
}

pub(crate) type Bucket = BTreeMap<String, Entry>;
pub(crate) type Shard = Vec<([u8; 32], String)>;

pub(crate) fn bucket_of(id: &str) -> u8 {
    id.bytes()
        .fold(0u8, |a, b| a.wrapping_mul(31).wrapping_add(b))
}

pub(crate) fn bucket_key(b: u8) -> Vec<u8> {
    [REC, &[b]].concat()
}

pub(crate) fn shard_key(hash: &[u8; 32]) -> Vec<u8> {
    [IDX, &[hash[0]]].concat()
}

fn corrupt(what: &str) -> Error {
    Error::InvalidState(format!("damaged {what} in the store"))
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (h, t) = self.0.split_at(n);
        self.0 = t;
        Some(h)
    }
    fn u8(&mut self) -> Option<usize> {
        self.take(1).map(|b| b[0] as usize)
    }
    fn u16(&mut self) -> Option<usize> {
        self.take(2)
            .map(|b| u16::from_le_bytes([b[0], b[1]]) as usize)
    }
    fn u32(&mut self) -> Option<usize> {
        self.take(4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    }
    fn hash(&mut self) -> Option<[u8; 32]> {
        self.take(32).and_then(|b| b.try_into().ok())
    }
    fn id(&mut self) -> Option<String> {
        let n = self.u8()?;
        self.take(n)
            .map(|b| String::from_utf8_lossy(b).into_owned())
    }
}

pub(crate) fn decode_bucket(v: &[u8]) -> Result<Bucket> {
    let mut r = Reader(v);
    let mut out = Bucket::new();
    while !r.0.is_empty() {
        let entry = (|| {
            let id = r.id()?;
            let n = r.u16()?;
            let refs = (0..n).map(|_| r.hash()).collect::<Option<Vec<_>>>()?;
            let len = r.u32()?;
            let blob = r.take(len)?.to_vec();
            Some((id, Entry { refs, blob }))
        })()
        .ok_or_else(|| corrupt("record bucket"))?;
        out.insert(entry.0, entry.1);
    }
    Ok(out)
}

#[cfg(test)]
pub(crate) fn encode_bucket(b: &Bucket) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        b.values()
            .map(|e| e.blob.len() + 40 + 32 * e.refs.len())
            .sum(),
    );
    for (id, e) in b {
        write_entry(&mut out, id, e);
    }
    out
}

/// The exact length of a bucket's encoding.
pub(crate) fn bucket_size(b: &Bucket) -> usize {
    b.iter()
        .map(|(id, e)| 1 + id.len() + 2 + 32 * e.refs.len() + 4 + e.blob.len())
        .sum()
}

/// The exact length of a shard's encoding.
pub(crate) fn shard_size(s: &Shard) -> usize {
    s.iter().map(|(_, id)| 32 + 1 + id.len()).sum()
}

/// [`encode_bucket`], dropping each record as soon as it is copied.
pub(crate) fn encode_bucket_owned(b: Bucket) -> Vec<u8> {
    let mut out = Vec::with_capacity(bucket_size(&b));
    for (id, e) in b {
        write_entry(&mut out, &id, &e);
    }
    out
}

fn write_entry(out: &mut Vec<u8>, id: &str, e: &Entry) {
    out.push(id.len() as u8);
    out.extend_from_slice(id.as_bytes());
    out.extend_from_slice(&(e.refs.len() as u16).to_le_bytes());
    for r in &e.refs {
        out.extend_from_slice(r);
    }
    out.extend_from_slice(&(e.blob.len() as u32).to_le_bytes());
    out.extend_from_slice(&e.blob);
}

pub(crate) fn decode_shard(v: &[u8]) -> Result<Shard> {
    let mut r = Reader(v);
    let mut out = Shard::new();
    while !r.0.is_empty() {
        let h = r.hash().ok_or_else(|| corrupt("index shard"))?;
        let id = r.id().ok_or_else(|| corrupt("index shard"))?;
        out.push((h, id));
    }
    Ok(out)
}

pub(crate) fn encode_shard(s: &Shard) -> Vec<u8> {
    let mut out = Vec::with_capacity(shard_size(s));
    for (h, id) in s {
        out.extend_from_slice(h);
        out.push(id.len() as u8);
        out.extend_from_slice(id.as_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_and_shard_round_trip() {
        let mut b = Bucket::new();
        b.insert(
            "00aa".into(),
            Entry {
                refs: vec![[1; 32], [2; 32]],
                blob: vec![9; 300],
            },
        );
        b.insert(
            "ffee".into(),
            Entry {
                refs: vec![],
                blob: vec![],
            },
        );
        let enc = encode_bucket(&b);
        assert_eq!(decode_bucket(&enc).unwrap(), b);
        assert_eq!(encode_bucket_owned(b.clone()), enc);
        assert_eq!(bucket_size(&b), enc.len());
        assert!(decode_bucket(&enc[..enc.len() - 1]).is_err());
        let s: Shard = vec![([7; 32], "00aa".into()), ([8; 32], "ffee".into())];
        assert_eq!(decode_shard(&encode_shard(&s)).unwrap(), s);
        assert_eq!(shard_size(&s), encode_shard(&s).len());
        assert!(decode_shard(&[1, 2, 3]).is_err());
    }
}
