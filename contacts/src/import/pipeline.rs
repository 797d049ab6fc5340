//! The import pipeline: one parser thread, one worker per core that builds
//! and seals chunks of records, the importing thread that merges the
//! duplicates of each chunk in file order and then writes both books in one
//! journalled commit (see the crate README).

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::sync_channel;

use super::build::{build, merge_into, normalise_all, update_existing};
use super::{Format, ImportOptions, ImportReport, MatchedBy, Merge, MergeTarget, Phase, Progress};
use crate::book::{Sealed, Writer, encode_contact};
use crate::contact_book::{ContactBook, book_for, slot};
use crate::error::{Error, Result};
use crate::journal::Plan;
use crate::model::{Book, Contact, ContactId};
use crate::phone::Region;
use crate::record::{LineIssue, Parsed, RawRecord};
use crate::time::Timestamp;

const CHUNK: usize = 1000;

/// A contact between parsing and the commit: sealed for its book as soon as
/// it is built, so its plaintext (as a struct or as JSON) never lives longer
/// than its chunk of the file. Only the few that are merged are opened again.
struct Staged {
    /// Line where the (first) record starts.
    line: u64,
    book: Book,
    /// The kind of each index term (`tel`, `email`), in the order of the
    /// sealed record's index hashes.
    kinds: Box<[&'static str]>,
    /// The terms' hashes under the *other* book's index key, when that book
    /// held contacts as the import started (to merge with them).
    other: Option<Box<[[u8; 32]]>>,
    sealed: Sealed,
}

impl Staged {
    /// Seals `contact` for its book, with its index `terms`.
    fn new(
        writers: &[Writer<'_>; 2],
        had_records: [bool; 2],
        line: u64,
        contact: &Contact,
        terms: &[(&'static str, String)],
    ) -> Self {
        let book = book_for(contact.consent.status());
        let other = 1 - slot(book);
        Staged {
            line,
            book,
            kinds: terms.iter().map(|(k, _)| *k).collect(),
            other: had_records[other].then(|| {
                terms
                    .iter()
                    .map(|(k, v)| writers[other].hash(k, v))
                    .collect()
            }),
            sealed: writers[slot(book)].seal_encoded(&contact.id, &encode_contact(contact), terms),
        }
    }

    /// The contact back as a struct (only for the few that are merged).
    fn contact(&self, writers: &[Writer<'_>; 2]) -> Result<Contact> {
        writers[slot(self.book)].open(&self.sealed)
    }
}

/// Keys of the in-file duplicate map: a 128-bit hash of an index term under
/// two random SipHash keys instead of a copy of the term. Smaller (16 bytes
/// instead of a string per term, about 300,000 of them in a large file) and no
/// allocation; with random keys per import, two different terms collide with
/// a probability of about n²/2¹²⁹ — never in practice.
struct TermKeys(RandomState, RandomState);

impl TermKeys {
    fn new() -> Self {
        TermKeys(RandomState::new(), RandomState::new())
    }

    fn of(&self, kind: &str, value: &str) -> u128 {
        let term = (kind, value);
        (u128::from(self.0.hash_one(term)) << 64) | u128::from(self.1.hash_one(term))
    }
}

/// Records per message from the parser thread: large enough that handing a
/// chunk to a worker costs nothing next to preparing it, small enough that
/// the chunks in flight (a few per worker) stay a few megabytes.
pub(super) const PARSE_CHUNK: usize = 2048;

/// Below this many bytes a file is a chunk or two: one worker, no thread
/// that would only wait.
const ONE_WORKER_BELOW: usize = 1 << 20;

/// How many workers prepare chunks: one per core. With the parser and the
/// importing thread that is more threads than cores, which is the point:
/// whichever stage has work fills a core the others leave idle.
fn worker_count(total_bytes: usize) -> usize {
    if cfg!(test) {
        // The unit tests' files are small: they go through three workers
        // anyway, on any machine, so the rotation (file order of merges and
        // issues, cancelling) is what they test; the integration tests get
        // the one worker of a small file.
        3
    } else if total_bytes < ONE_WORKER_BELOW {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
    }
}

/// What every worker of an import shares: the writers that seal (only
/// their public keys are used until the lock is taken), and how to build
/// a contact from a record.
struct Prep<'a> {
    writers: &'a [Writer<'a>; 2],
    /// Which books held contacts as the import started (see [`Staged::other`]).
    had_records: [bool; 2],
    keys: &'a TermKeys,
    file: &'a str,
    opts: &'a ImportOptions,
    now: Timestamp,
    region: Region,
    cancel: &'a AtomicBool,
}

/// One chunk of the file as a worker hands it back: its contacts sealed,
/// each with its keys in the in-file duplicate map.
struct Prepared {
    /// Input bytes read when the parser sent the chunk.
    pos: usize,
    /// Records in the chunk (before merging).
    read: usize,
    staged: Vec<(Staged, Vec<u128>)>,
    /// What `build` found wrong in this chunk; appended to the report in
    /// chunk order, so the report stays in line order.
    issues: Issues,
}

/// Rejections and warnings of the importer itself (the parser keeps its own).
#[derive(Default)]
pub(crate) struct Issues {
    pub(crate) rejected: Vec<LineIssue>,
    pub(crate) warnings: Vec<LineIssue>,
}

impl Prep<'_> {
    /// Normalises, builds and seals one chunk, one record at a time: each
    /// contact's plaintext (struct, JSON, index terms) is dropped as soon as
    /// it is sealed, and the importing thread receives only sealed records.
    fn chunk(&self, records: Vec<RawRecord>, pos: usize) -> Prepared {
        let read = records.len();
        let normalised = normalise_all(&records, self.region, self.cancel);
        let mut issues = Issues::default();
        let staged = records
            .into_iter()
            .zip(normalised)
            .filter_map(|(raw, e164s)| {
                let line = raw.line;
                let contact = build(
                    raw,
                    e164s,
                    self.file,
                    self.opts,
                    self.region,
                    self.now,
                    &mut issues,
                )?;
                let terms = contact.index_terms();
                let dedup = terms.iter().map(|(k, v)| self.keys.of(k, v)).collect();
                let staged = Staged::new(self.writers, self.had_records, line, &contact, &terms);
                Some((staged, dedup))
            })
            .collect();
        Prepared {
            pos,
            read,
            staged,
            issues,
        }
    }
}

/// The in-file duplicate check, fed chunk by chunk in file order.
#[derive(Default)]
struct InFile {
    /// The file's contacts after merging, in the order of their first line.
    batch: Vec<Staged>,
    /// Index term key → the contact in `batch` that has it.
    seen: HashMap<u128, usize>,
}

impl InFile {
    /// Adds a chunk's contacts, merging each duplicate into the first
    /// contact with one of its terms. Both are opened again for that: the
    /// duplicate was sealed by its worker like every other record (about
    /// 0.4 % of a large file are merged).
    fn add(
        &mut self,
        prep: &Prep<'_>,
        staged: Vec<(Staged, Vec<u128>)>,
        merges: &mut Vec<Merge>,
    ) -> Result<()> {
        for (staged, dedup) in staged {
            let hit = dedup
                .iter()
                .zip(&staged.kinds)
                .find_map(|(key, kind)| self.seen.get(key).map(|&j| (j, *kind)));
            let Some((j, matched)) = hit else {
                for key in dedup {
                    self.seen.entry(key).or_insert(self.batch.len());
                }
                self.batch.push(staged);
                continue;
            };
            let first = &mut self.batch[j];
            merges.push(Merge {
                line: staged.line,
                into: MergeTarget::Line(first.line),
                matched: MatchedBy::of_term(matched),
            });
            let mut merged = first.contact(prep.writers)?;
            merge_into(&mut merged, &staged.contact(prep.writers)?, prep.now);
            let terms = merged.index_terms();
            for (k, v) in &terms {
                self.seen.entry(prep.keys.of(k, v)).or_insert(j);
            }
            *first = Staged::new(prep.writers, prep.had_records, first.line, &merged, &terms);
        }
        Ok(())
    }
}

impl ContactBook {
    /// [`ContactBook::import_bytes`]; a file it read itself is freed as soon
    /// as it is parsed, before the sealed records are built (a 100,000-card
    /// file is about 24 MiB of the import's peak memory otherwise).
    pub(super) fn import_data(
        &self,
        file_name: &str,
        bytes: Cow<'_, [u8]>,
        format: Format,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        let check = || {
            if cancel.load(Ordering::Relaxed) {
                Err(Error::Cancelled)
            } else {
                Ok(())
            }
        };
        let total_bytes = bytes.len();
        progress(Progress {
            phase: Phase::Parsing,
            done: 0,
            total: total_bytes,
        });
        let mut report = ImportReport {
            file: file_name.to_owned(),
            ..Default::default()
        };
        let region = opts.region.unwrap_or(self.region);
        let now = Timestamp::now();

        // Build contacts, seal them and merge duplicates inside the file, as
        // a pipeline (see `Prep`): the parser thread reads ahead, workers
        // normalise, build and seal the next chunks, and this thread merges
        // the duplicates of each chunk as it arrives, in file order. The
        // writers only seal until the book's lock is taken below (sealing
        // needs the public keys, nothing stored).
        let writers = [self.work.store.writer(), self.private.store.writer()];
        let keys = TermKeys::new();
        let prep = Prep {
            writers: &writers,
            had_records: [
                self.work.store.has_records()?,
                self.private.store.has_records()?,
            ],
            keys: &keys,
            file: file_name,
            opts,
            now,
            region,
            cancel,
        };
        let mut in_file = InFile::default();
        let mut issues = Issues::default();
        let parsed = std::thread::scope(|s| -> Result<Parsed> {
            let bytes: &[u8] = &bytes;
            let prep = &prep;
            let mut to_workers = Vec::new();
            let mut results = Vec::new();
            let mut workers = Vec::new();
            for _ in 0..worker_count(total_bytes) {
                let (tx, rx) = sync_channel::<(Vec<RawRecord>, usize)>(1);
                let (done_tx, done_rx) = sync_channel::<Prepared>(1);
                workers.push(s.spawn(move || {
                    for (records, pos) in rx {
                        // Either hangs up when the import stops early.
                        if cancel.load(Ordering::Relaxed)
                            || done_tx.send(prep.chunk(records, pos)).is_err()
                        {
                            break;
                        }
                    }
                }));
                to_workers.push(tx);
                results.push(done_rx);
            }
            let parser = s.spawn(move || {
                // Chunk k goes to worker k mod n, and this thread takes the
                // results in the same rotation: file order without sorting.
                let mut sent = 0;
                let mut send = |records: Vec<RawRecord>, pos: usize| {
                    let worker = &to_workers[sent % to_workers.len()];
                    sent += 1;
                    worker.send((records, pos)).is_ok()
                };
                let mut chunk = Vec::with_capacity(PARSE_CHUNK);
                let mut emit = |r: RawRecord, pos: usize| {
                    chunk.push(r);
                    chunk.len() < PARSE_CHUNK || send(std::mem::take(&mut chunk), pos)
                };
                let parsed = match format {
                    Format::VCard => crate::vcard::parse_with(bytes, &mut emit),
                    Format::Csv => crate::csv_file::parse_with(bytes, &mut emit),
                };
                if !chunk.is_empty() {
                    // The workers only hang up on cancel.
                    let _ = send(chunk, total_bytes);
                }
                parsed
            });
            let mut outcome = Ok(());
            for k in 0.. {
                // No result: the parser is done and every chunk was handled.
                let Ok(chunk) = results[k % results.len()].recv() else {
                    break;
                };
                if let Err(e) = check() {
                    outcome = Err(e);
                    break;
                }
                if chunk.pos < total_bytes {
                    progress(Progress {
                        phase: Phase::Parsing,
                        done: chunk.pos,
                        total: total_bytes,
                    });
                }
                report.read += chunk.read;
                issues.rejected.extend(chunk.issues.rejected);
                issues.warnings.extend(chunk.issues.warnings);
                if let Err(e) = in_file.add(prep, chunk.staged, &mut report.merged) {
                    outcome = Err(e);
                    break;
                }
            }
            // Hanging up stops the workers at their next chunk, and with them
            // the parser at its next record.
            drop(results);
            for worker in workers {
                worker
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            }
            let parsed = parser
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            outcome.map(|()| parsed)
        })?;
        let batch = in_file.batch;
        drop(bytes);
        check()?;
        // The parser's problems come first, as they did when parsing came first.
        let Parsed {
            rejected, warnings, ..
        } = parsed;
        report.rejected = rejected;
        report.rejected.append(&mut issues.rejected);
        report.warnings = warnings;
        report.warnings.append(&mut issues.warnings);
        // In line order (stable: the parser's first on one line), as the
        // preview lists them: the user goes through them with the file open.
        report.rejected.sort_by_key(|i| i.line);
        report.warnings.sort_by_key(|i| i.line);
        progress(Progress {
            phase: Phase::Parsing,
            done: total_bytes,
            total: total_bytes,
        });
        progress(Progress {
            phase: Phase::Preparing,
            done: report.read,
            total: report.read,
        });

        let _guard = self.lock();
        let mut writers = writers;
        let check_existing = [
            self.work.store.has_records()?,
            self.private.store.has_records()?,
        ];
        // Existing contacts updated by this import: (book they are in now, new version).
        let mut updates: HashMap<ContactId, (Book, Contact)> = HashMap::new();
        let n = batch.len();
        report.new_ids.reserve_exact(n);
        // The new records of each book, in file order.
        let mut new: [Vec<Sealed>; 2] = Default::default();
        for (i, staged) in batch.into_iter().enumerate() {
            if i % CHUNK == 0 {
                check()?;
                progress(Progress {
                    phase: Phase::Writing,
                    done: i,
                    total: n,
                });
            }
            if let Some((book, existing, matched)) =
                self.find_existing(&writers, &staged, check_existing, &updates)?
            {
                report.merged.push(Merge {
                    line: staged.line,
                    into: MergeTarget::Existing(existing.id.clone()),
                    matched: MatchedBy::of_term(matched),
                });
                let updated = update_existing(existing, &staged.contact(&writers)?, now);
                if updates
                    .insert(updated.id.clone(), (book, updated))
                    .is_none()
                {
                    report.updated += 1;
                }
                continue;
            }
            match staged.book {
                Book::Work => report.added_work += 1,
                Book::Private => report.added_private += 1,
            }
            report.new_ids.push(staged.sealed.id().clone());
            new[slot(staged.book)].push(staged.sealed);
        }
        check()?;
        // Into their buckets and shards, both books at once (the writers are
        // independent, and the lookups above read only what is stored).
        let [work, private] = &mut writers;
        let [new_work, new_private] = new;
        std::thread::scope(|s| {
            let private_done = s.spawn(move || {
                new_private
                    .into_iter()
                    .try_for_each(|r| private.put_sealed(r))
            });
            let work_done = new_work.into_iter().try_for_each(|r| work.put_sealed(r));
            private_done
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                .and(work_done)
        })?;
        for (from, c) in updates.into_values() {
            let to = book_for(c.consent.status());
            writers[slot(to)].put(&c)?;
            if from != to {
                writers[slot(from)].delete(&c.id)?;
            }
        }
        let [w, p] = writers;
        let plan = Plan {
            work: w.finish_later(),
            private: p.finish_later(),
        };
        check()?;
        progress(Progress {
            phase: Phase::Writing,
            done: n,
            total: n,
        });
        self.commit(plan)?;
        progress(Progress {
            phase: Phase::Done,
            done: n,
            total: n,
        });
        Ok(report)
    }

    /// The stored contact `staged` duplicates, by the first of its index
    /// terms found in either book.
    fn find_existing(
        &self,
        writers: &[Writer<'_>; 2],
        staged: &Staged,
        check: [bool; 2],
        updates: &HashMap<ContactId, (Book, Contact)>,
    ) -> Result<Option<(Book, Contact, &'static str)>> {
        let own = slot(staged.book);
        let mut other: Option<Cow<'_, [[u8; 32]]>> = staged.other.as_deref().map(Cow::Borrowed);
        for (t, &kind) in staged.kinds.iter().enumerate() {
            for book in [Book::Work, Book::Private] {
                if !check[slot(book)] {
                    continue;
                }
                let h = if slot(book) == own {
                    staged.sealed.refs()[t]
                } else {
                    if other.is_none() {
                        // The other book was empty when the import started
                        // and received contacts since: hash the terms now.
                        let terms = staged.contact(writers)?.index_terms();
                        other = Some(Cow::Owned(
                            terms
                                .iter()
                                .map(|(k, v)| self.store(book).hash(k, v))
                                .collect(),
                        ));
                    }
                    match other.as_deref().and_then(|o| o.get(t)) {
                        Some(h) => *h,
                        None => continue,
                    }
                };
                let Some(id) = self.store(book).lookup_hash(&h)?.into_iter().next() else {
                    continue;
                };
                if let Some((b, pending)) = updates.get(&id) {
                    return Ok(Some((*b, pending.clone(), kind)));
                }
                if let Some(existing) = self.store(book).get(&id)? {
                    return Ok(Some((book, existing, kind)));
                }
            }
        }
        Ok(None)
    }
}
