//! Importing a vCard or CSV file into both books as one atomic batch.
//!
//! Steps: parse (lenient, line-numbered) → decide consent per record →
//! normalise numbers → merge duplicates inside the file → merge with contacts
//! already stored → seal → one journalled commit across both books. Nothing is
//! written before the commit, so cancelling or crashing leaves the books as
//! they were; after the commit returns, the whole batch is there.
//!
//! Records without consent are sealed to the private book's *public* key; the
//! write path needs no secret. Only merging into an existing private contact
//! reads (and so decrypts) it.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use serde::Serialize;

use crate::book::{Sealed, Writer, encode_contact};
use crate::consent::{Consent, ConsentEvent, ConsentSource, ConsentStatus, DEFAULT_PURPOSE};
use crate::contact_book::{ContactBook, book_for, new_id, slot};
use crate::error::{Error, Result};
use crate::journal::Plan;
use crate::model::{Book, Contact, ContactId, Email, Phone};
use crate::phone::{self, Region};
use crate::record::{LineIssue, Parsed, RawRecord};
use crate::time::Timestamp;

/// How consent is decided for the imported contacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConsentMode {
    /// Per contact, from a consent column or `X-KONTOR-CONSENT`; missing means none.
    #[default]
    FromFile,
    /// The user declares that everyone in the file consented.
    Granted,
    /// Nobody in the file consented: everything goes to the private book.
    None,
}

/// Import settings.
#[derive(Debug, Clone)]
pub struct ImportOptions {
    /// Consent decision.
    pub consent: ConsentMode,
    /// Purpose recorded for granted consent when the file gives none.
    pub purpose: String,
    /// Evidence recorded with a whole-file decision (e.g. "signed forms in folder X").
    pub evidence: Option<String>,
    /// Region for numbers without country code (defaults to the book's).
    pub region: Option<Region>,
    /// Force a format instead of detecting it.
    pub format: Option<Format>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        ImportOptions {
            consent: ConsentMode::FromFile,
            purpose: DEFAULT_PURPOSE.to_owned(),
            evidence: None,
            region: None,
            format: None,
        }
    }
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// vCard 2.1, 3.0 or 4.0.
    VCard,
    /// CSV from Google Contacts, Outlook or Excel.
    Csv,
}

/// Import phases, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Parsing the file.
    Parsing,
    /// Normalising and merging records.
    Preparing,
    /// Writing the batch.
    Writing,
    /// Finished.
    Done,
}

/// A progress report: `done` of `total` records in `phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Current phase.
    pub phase: Phase,
    /// Records handled in this phase.
    pub done: usize,
    /// Records in this phase.
    pub total: usize,
}

/// A record merged into another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Merge {
    /// Line of the record that was merged away.
    pub line: u64,
    /// What it was merged into.
    pub into: MergeTarget,
    /// Why: which kind of value matched (`tel` or `email`).
    pub matched: &'static str,
}

/// Target of a merge.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeTarget {
    /// An earlier record of the same file, by its line.
    Line(u64),
    /// A contact already in a book.
    Existing(ContactId),
}

/// What an import did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ImportReport {
    /// Source file name.
    pub file: String,
    /// Records read from the file (before merging).
    pub read: usize,
    /// New contacts in the work book.
    pub added_work: usize,
    /// New contacts in the private book.
    pub added_private: usize,
    /// Existing contacts that received data from the file.
    pub updated: usize,
    /// Duplicates merged.
    pub merged: Vec<Merge>,
    /// Records not imported, with line and reason.
    pub rejected: Vec<LineIssue>,
    /// Accepted with a problem (e.g. invalid phone number kept as written).
    pub warnings: Vec<LineIssue>,
    /// Ids of the new contacts.
    pub new_ids: Vec<ContactId>,
}

/// Detects the format from the name, then from the content.
pub fn detect_format(name: &str, bytes: &[u8]) -> Option<Format> {
    let lower = name.to_lowercase();
    if lower.ends_with(".vcf") || lower.ends_with(".vcard") {
        return Some(Format::VCard);
    }
    if lower.ends_with(".csv") {
        return Some(Format::Csv);
    }
    let head = crate::record::decode_text(&bytes[..bytes.len().min(4096)]);
    if head
        .trim_start()
        .to_ascii_uppercase()
        .starts_with("BEGIN:VCARD")
    {
        Some(Format::VCard)
    } else if head.contains([',', ';', '\t']) {
        Some(Format::Csv)
    } else {
        None
    }
}

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

/// Records per message from the parser thread: large enough that normalising
/// a chunk is worth spreading over the cores, small enough that the raw
/// records in flight stay a few megabytes.
const PARSE_CHUNK: usize = 2048;

impl ContactBook {
    /// Imports a file. `progress` is called now and then; setting `cancel` stops the
    /// import before anything is written ([`Error::Cancelled`]).
    pub fn import_file(
        &self,
        path: &Path,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
        let name = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let format = opts
            .format
            .or_else(|| detect_format(&name, &bytes))
            .ok_or_else(|| Error::UnknownFormat {
                path: PathBuf::from(path),
            })?;
        self.import_data(&name, Cow::Owned(bytes), format, opts, progress, cancel)
    }

    /// Imports file contents already in memory; `file_name` is recorded as the consent source.
    pub fn import_bytes(
        &self,
        file_name: &str,
        bytes: &[u8],
        format: Format,
        opts: &ImportOptions,
        progress: &mut dyn FnMut(Progress),
        cancel: &AtomicBool,
    ) -> Result<ImportReport> {
        self.import_data(
            file_name,
            Cow::Borrowed(bytes),
            format,
            opts,
            progress,
            cancel,
        )
    }

    /// [`ContactBook::import_bytes`]; a file it read itself is freed as soon
    /// as it is parsed, before the sealed records are built (a 100,000-card
    /// file is about 24 MiB of the import's peak memory otherwise).
    fn import_data(
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

        // Build contacts, seal them and merge duplicates inside the file,
        // chunk by chunk while a second thread parses the rest of the file.
        // The writers only seal until the book's lock is taken below (sealing
        // needs the public keys, nothing stored).
        let writers = [self.work.store.writer(), self.private.store.writer()];
        let had_records = [
            self.work.store.has_records()?,
            self.private.store.has_records()?,
        ];
        let mut batch: Vec<Staged> = Vec::new();
        let mut seen: HashMap<u128, usize> = HashMap::new();
        let keys = TermKeys::new();
        let parsed = std::thread::scope(|s| -> Result<Parsed> {
            let bytes: &[u8] = &bytes;
            let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<RawRecord>, usize)>(2);
            let parser = s.spawn(move || {
                let mut chunk = Vec::with_capacity(PARSE_CHUNK);
                let mut emit = |r: RawRecord, pos: usize| {
                    chunk.push(r);
                    chunk.len() < PARSE_CHUNK || tx.send((std::mem::take(&mut chunk), pos)).is_ok()
                };
                let parsed = match format {
                    Format::VCard => crate::vcard::parse_with(bytes, &mut emit),
                    Format::Csv => crate::csv_file::parse_with(bytes, &mut emit),
                };
                if !chunk.is_empty() {
                    // The receiver only hangs up on cancel.
                    let _ = tx.send((chunk, total_bytes));
                }
                parsed
            });
            let mut outcome = Ok(());
            for (records, pos) in rx.iter() {
                if let Err(e) = check() {
                    outcome = Err(e);
                    break;
                }
                if pos < total_bytes {
                    progress(Progress {
                        phase: Phase::Parsing,
                        done: pos,
                        total: total_bytes,
                    });
                }
                report.read += records.len();
                let normalised = normalise_all(&records, region, cancel);
                let built: Vec<(u64, Contact)> = records
                    .into_iter()
                    .zip(normalised)
                    .filter_map(|(raw, e164s)| {
                        let line = raw.line;
                        build(raw, e164s, file_name, opts, now, &mut report).map(|c| (line, c))
                    })
                    .collect();
                let staged = stage_all(&writers, had_records, &keys, &built);
                for ((_, contact), (staged, dedup)) in built.into_iter().zip(staged) {
                    let hit = dedup
                        .iter()
                        .zip(&staged.kinds)
                        .find_map(|(key, kind)| seen.get(key).map(|&j| (j, *kind)));
                    let Some((j, matched)) = hit else {
                        for key in dedup {
                            seen.entry(key).or_insert(batch.len());
                        }
                        batch.push(staged);
                        continue;
                    };
                    let first = &mut batch[j];
                    report.merged.push(Merge {
                        line: staged.line,
                        into: MergeTarget::Line(first.line),
                        matched,
                    });
                    let mut merged = match first.contact(&writers) {
                        Ok(c) => c,
                        Err(e) => {
                            outcome = Err(e);
                            break;
                        }
                    };
                    merge_into(&mut merged, &contact, now);
                    let terms = merged.index_terms();
                    for (k, v) in &terms {
                        seen.entry(keys.of(k, v)).or_insert(j);
                    }
                    *first = Staged::new(&writers, had_records, first.line, &merged, &terms);
                }
                if outcome.is_err() {
                    break;
                }
            }
            // Hanging up makes the parser stop at its next record.
            drop(rx);
            let parsed = parser
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            outcome.map(|()| parsed)
        })?;
        drop(seen);
        drop(bytes);
        check()?;
        // The parser's problems come first, as they did when parsing came first.
        let Parsed {
            rejected, warnings, ..
        } = parsed;
        report.rejected.splice(0..0, rejected);
        report.warnings.splice(0..0, warnings);
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
                    matched,
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
            writers[slot(staged.book)].put_sealed(staged.sealed)?;
        }
        check()?;
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

/// Seals a chunk of new contacts on all cores (encrypting and hashing is
/// independent per contact), keeping their order; with each, the keys of its
/// index terms in the in-file duplicate map.
fn stage_all(
    writers: &[Writer<'_>; 2],
    had_records: [bool; 2],
    keys: &TermKeys,
    contacts: &[(u64, Contact)],
) -> Vec<(Staged, Vec<u128>)> {
    let stage = |(line, c): &(u64, Contact)| {
        let terms = c.index_terms();
        let dedup = terms.iter().map(|(k, v)| keys.of(k, v)).collect();
        (Staged::new(writers, had_records, *line, c, &terms), dedup)
    };
    let threads = if contacts.len() < 64 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
    };
    let per = contacts.len().div_ceil(threads).max(1);
    if threads == 1 {
        return contacts.iter().map(stage).collect();
    }
    std::thread::scope(|s| {
        let handles: Vec<_> = contacts
            .chunks(per)
            .map(|chunk| s.spawn(move || chunk.iter().map(stage).collect::<Vec<_>>()))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
            .collect()
    })
}

/// Merges an imported record into a stored contact. The file can grant or
/// withdraw consent; a file without consent never downgrades a contact.
fn update_existing(mut existing: Contact, new: &Contact, now: Timestamp) -> Contact {
    existing.absorb(new);
    let new_status = new.consent.status();
    if new_status != ConsentStatus::None
        && new_status != existing.consent.status()
        && let Some(ev) = new.consent.current()
    {
        existing.consent.record(ev.clone());
        if new_status != ConsentStatus::Granted {
            existing.matrix_id = None;
        }
    }
    existing.updated = now;
    existing
}

/// Merges a duplicate from the same file: data is united, the stricter consent wins
/// (withdrawn over granted over none), and both consent events are kept.
fn merge_into(first: &mut Contact, dup: &Contact, now: Timestamp) {
    first.absorb(dup);
    let rank = |s: ConsentStatus| match s {
        ConsentStatus::None => 0,
        ConsentStatus::Granted => 1,
        ConsentStatus::Withdrawn => 2,
    };
    let dup_wins = rank(dup.consent.status()) > rank(first.consent.status());
    let (mut keep, other) = if dup_wins {
        (dup.consent.clone(), &first.consent)
    } else {
        (first.consent.clone(), &dup.consent)
    };
    keep.merge_history(other);
    first.consent = keep;
    first.updated = now;
}

/// E.164 forms of every record's numbers.
///
/// Parsing numbers is the costliest part of an import. The phone library keeps
/// some compiled patterns in a small shared LRU cache behind one lock; numbers
/// of one country in a row keep that cache warm, so numbers are normalised in
/// order of their leading digits, in one contiguous run of that order per core.
fn normalise_all(
    records: &[RawRecord],
    region: Region,
    cancel: &AtomicBool,
) -> Vec<Vec<Option<String>>> {
    let mut out: Vec<Vec<Option<String>>> =
        records.iter().map(|r| vec![None; r.phones.len()]).collect();
    let mut order: Vec<(String, usize, usize)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (j, (raw, _)) in r.phones.iter().enumerate() {
            let digits: String = raw
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .take(5)
                .collect();
            let key = match digits.strip_prefix("00") {
                Some(rest) => format!("+{rest}"),
                None => digits,
            };
            order.push((key, i, j));
        }
    }
    order.sort_unstable();
    let run = |part: &[(String, usize, usize)]| -> Vec<Option<String>> {
        let mut done = Vec::with_capacity(part.len());
        for (n, (_, i, j)) in part.iter().enumerate() {
            if n % 1024 == 0 && cancel.load(Ordering::Relaxed) {
                break;
            }
            done.push(phone::normalise(&records[*i].phones[*j].0, region));
        }
        done
    };
    // A thread costs tens of microseconds; small files are done inline.
    let threads = if order.len() < 256 {
        1
    } else {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .clamp(1, 8)
    };
    let per = order.len().div_ceil(threads).max(1);
    let results: Vec<Vec<Option<String>>> = if threads == 1 {
        vec![run(&order)]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = order
                .chunks(per)
                .map(|part| s.spawn(move || run(part)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)))
                .collect()
        })
    };
    for (part, done) in order.chunks(per).zip(results) {
        for ((_, i, j), e164) in part.iter().zip(done) {
            out[*i][*j] = e164;
        }
    }
    out
}

fn build(
    raw: RawRecord,
    e164s: Vec<Option<String>>,
    file: &str,
    opts: &ImportOptions,
    now: Timestamp,
    report: &mut ImportReport,
) -> Option<Contact> {
    let line = raw.line;
    let status = match opts.consent {
        ConsentMode::Granted => ConsentStatus::Granted,
        ConsentMode::None => ConsentStatus::None,
        ConsentMode::FromFile => match raw.consent.as_deref() {
            None => ConsentStatus::None,
            Some(v) => match ConsentStatus::parse_lenient(v) {
                Some(s) => s,
                None => {
                    report.rejected.push(LineIssue {
                        line,
                        message: format!("unknown consent value {v:?}"),
                    });
                    return None;
                }
            },
        },
    };
    let purpose = raw.purpose.clone().unwrap_or_else(|| opts.purpose.clone());
    let evidence = match (opts.consent, status) {
        (_, ConsentStatus::None) => None,
        (ConsentMode::Granted, _) => Some(opts.evidence.clone().unwrap_or_else(|| {
            format!("Bei Import erklärt: alle Kontakte in {file} haben eingewilligt ({purpose})")
        })),
        _ => raw.evidence.clone().or_else(|| {
            Some(format!(
                "{file} Zeile {line}: Einwilligung = {}",
                raw.consent.as_deref().unwrap_or("")
            ))
        }),
    };
    let mut phones = Vec::with_capacity(raw.phones.len());
    let mut e164s = e164s.into_iter();
    for (number, kind) in raw.phones {
        let e164 = e164s.next().flatten();
        if e164.is_none() {
            report.warnings.push(LineIssue {
                line,
                message: format!("invalid phone number {number:?} kept as written"),
            });
        }
        if !phones.iter().any(|p: &Phone| p.raw == number) {
            phones.push(Phone {
                raw: number,
                e164,
                kind,
            });
        }
    }
    let emails: Vec<Email> = raw
        .emails
        .into_iter()
        .map(|(address, kind)| Email { address, kind })
        .collect();
    let name = [Some(raw.name.trim().to_owned()), raw.organisation.clone()]
        .into_iter()
        .flatten()
        .chain(emails.first().map(|e| e.address.clone()))
        .chain(phones.first().map(|p| p.raw.clone()))
        .find(|s| !s.trim().is_empty())?;
    let event = ConsentEvent {
        status,
        purpose: (status != ConsentStatus::None).then_some(purpose),
        at: now,
        source: ConsentSource::Import {
            file: file.to_owned(),
            line,
        },
        evidence,
    };
    Some(Contact {
        id: new_id(),
        display_name: name,
        organisation: raw.organisation,
        phones,
        emails,
        note: raw.note,
        labels: raw.labels,
        created: now,
        updated: now,
        consent: Consent::with(event),
        matrix_id: None,
    })
}

#[cfg(test)]
mod tests;
