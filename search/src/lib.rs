//! Encrypted local full-text search over a user's chat messages, file names/captions and
//! quotes.
//!
//! Why local: the homeserver only sees ciphertext (end-to-end encryption), so only the
//! device can search. Why encrypted: the index holds every word of every message; a
//! plaintext index would undo the encryption of the message store for anyone who copies
//! the profile directory. The engine is tantivy on an encrypting
//! [`Directory`](tantivy::Directory) (`directory.rs`, the approach of Element's Seshat):
//! every file on disk is sealed with XChaCha20-Poly1305.
//!
//! Words are analysed for German and English as people type them (`analysis.rs`):
//! folded diacritics ("muller" finds "Müller"), umlaut transliteration ("mueller"), and
//! both Snowball stemmers ("Angebot" finds "Angebote", "invoice" finds "invoices").
//! The query syntax (`query.rs`) is small: words, `"phrases"`, `prefix*`.
//!
//! All methods block (disk I/O, decryption): call them from `spawn_blocking`.

pub mod analysis;
mod directory;
mod highlight;
pub mod query;
mod tokenizer;

use std::collections::{BTreeSet, HashSet};
use std::fmt;
use std::fs::{self, DirBuilder, File, OpenOptions};
use std::io;
use std::ops::{Bound, Range};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::error::OpenReadError;
use tantivy::query::{
    AllQuery, BooleanQuery, InvertedIndexRangeQuery, Occur, PhrasePrefixQuery, PhraseQuery, Query,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STORED, Schema, TextFieldIndexing, TextOptions, Value,
};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{
    Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, TantivyError, Term,
};
use zeroize::Zeroizing;

pub use analysis::MAX_WORD_CHARS;
pub use highlight::SNIPPET_CHARS;
pub use query::MIN_PREFIX_CHARS;

use crate::analysis::Stemmers;
use crate::directory::EncryptedDirectory;
use crate::query::Clause;

/// Errors of the search index. None of them carries message text or a query.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    /// The key does not open this index (checked before anything else is read).
    #[error("wrong key for the search index")]
    WrongKey,
    /// A file of the index is missing, truncated or does not authenticate. The index can
    /// be deleted ([`delete_index`]) and rebuilt from the messages.
    #[error("search index is corrupt: {0}")]
    Corrupt(String),
    /// Reading or writing the index directory failed.
    #[error("search index I/O: {0}")]
    Io(#[from] std::io::Error),
    /// The search engine (tantivy) failed; its message names files, never content.
    #[error("search engine: {0}")]
    Engine(String),
    /// The query could not be run. Reserved: the parser accepts any input (characters
    /// it does not understand separate words), so no query fails today.
    #[error("bad search query: {0}")]
    BadQuery(String),
}

/// Result with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What a document is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DocKind {
    /// A text message.
    Message,
    /// A file: its name and caption.
    File,
    /// A quote: number, title, items, totals.
    Quote,
}

impl DocKind {
    fn code(self) -> u64 {
        match self {
            DocKind::Message => 0,
            DocKind::File => 1,
            DocKind::Quote => 2,
        }
    }

    fn from_code(code: u64) -> Option<DocKind> {
        Some(match code {
            0 => DocKind::Message,
            1 => DocKind::File,
            2 => DocKind::Quote,
            _ => return None,
        })
    }
}

/// A document to index: one message, file or quote.
#[derive(Clone)]
pub struct Doc {
    /// Unique key: the event id (an outbox entry uses `"txn:<id>"`).
    pub event_id: String,
    /// The room (chat) it belongs to.
    pub room_id: String,
    /// Matrix user id of the sender.
    pub sender: String,
    /// Origin server timestamp, milliseconds since the epoch.
    pub timestamp_ms: i64,
    /// What it is.
    pub kind: DocKind,
    /// What a person reads: message text; file: name + caption; quote: number, title,
    /// items, totals.
    pub text: String,
}

impl fmt::Debug for Doc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Doc")
            .field("event_id", &self.event_id)
            .field("room_id", &self.room_id)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// A search. `Default` is the empty query: newest documents first.
///
/// `Debug` leaves out `text` (what a person searched for says as much as a message).
#[derive(Clone, Default)]
pub struct SearchQuery {
    /// What the person typed: words (all must match), `"a phrase"`, `prefix*`.
    pub text: String,
    /// Only this room.
    pub chat: Option<String>,
    /// Only this sender (Matrix user id).
    pub sender: Option<String>,
    /// Only at or after this time (ms).
    pub from_ms: Option<i64>,
    /// Only before this time (ms).
    pub to_ms: Option<i64>,
    /// Only files and quotes.
    pub has_file: bool,
    /// Search-as-you-type: the last bare word also matches as a prefix.
    pub prefix_last: bool,
    /// Most hits to return; 0 = [`DEFAULT_LIMIT`].
    pub limit: usize,
}

impl fmt::Debug for SearchQuery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchQuery")
            .field("text_chars", &self.text.chars().count())
            .field("chat", &self.chat)
            .field("sender", &self.sender)
            .field("from_ms", &self.from_ms)
            .field("to_ms", &self.to_ms)
            .field("has_file", &self.has_file)
            .field("prefix_last", &self.prefix_last)
            .field("limit", &self.limit)
            .finish()
    }
}

/// Hits returned when [`SearchQuery::limit`] is 0.
pub const DEFAULT_LIMIT: usize = 50;

/// One search result.
#[derive(Clone, Serialize)]
pub struct Hit {
    /// Event id of the document.
    pub event_id: String,
    /// Its room.
    pub room_id: String,
    /// Its sender.
    pub sender: String,
    /// Its timestamp (ms).
    pub timestamp_ms: i64,
    /// What it is.
    pub kind: DocKind,
    /// The whole text if at most [`SNIPPET_CHARS`] chars, else a window around the first
    /// match with "…" where it was cut.
    pub snippet: String,
    /// Byte ranges in `snippet` of the words that matched.
    pub highlights: Vec<Range<usize>>,
}

impl fmt::Debug for Hit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hit")
            .field("event_id", &self.event_id)
            .field("room_id", &self.room_id)
            .field("timestamp_ms", &self.timestamp_ms)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The schema's fields.
#[derive(Clone, Copy)]
struct Fields {
    event_id: Field,
    room_id: Field,
    sender: Field,
    ts: Field,
    kind: Field,
    text: Field,
    words: Field,
    stems: Field,
}

impl Fields {
    fn schema() -> Schema {
        let mut b = Schema::builder();
        // Keys and filters: exact strings, no field norms (nothing is scored by length).
        let key = TextOptions::default()
            .set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer("raw")
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            )
            .set_stored();
        b.add_text_field("event_id", key.clone());
        b.add_text_field("room_id", key.clone());
        b.add_text_field("sender", key);
        // Range filter and sort key: a fast field is all it needs.
        b.add_i64_field("ts", NumericOptions::default().set_fast().set_stored());
        b.add_u64_field(
            "kind",
            NumericOptions::default()
                .set_indexed()
                .set_fast()
                .set_stored(),
        );
        b.add_text_field("text", STORED);
        b.add_text_field(
            "words",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer::WORDS)
                    .set_index_option(IndexRecordOption::WithFreqsAndPositions)
                    .set_fieldnorms(false),
            ),
        );
        b.add_text_field(
            "stems",
            TextOptions::default().set_indexing_options(
                TextFieldIndexing::default()
                    .set_tokenizer(tokenizer::STEMS)
                    .set_index_option(IndexRecordOption::Basic)
                    .set_fieldnorms(false),
            ),
        );
        b.build()
    }

    fn of(schema: &Schema) -> Result<Fields> {
        let f = |name: &str| {
            schema
                .get_field(name)
                .map_err(|_| Error::Corrupt(format!("index has no field {name}")))
        };
        Ok(Fields {
            event_id: f("event_id")?,
            room_id: f("room_id")?,
            sender: f("sender")?,
            ts: f("ts")?,
            kind: f("kind")?,
            text: f("text")?,
            words: f("words")?,
            stems: f("stems")?,
        })
    }
}

/// Name of the sealed check file: opens with the right key only.
const CHECK_FILE: &str = "kontor-search.check";
const CHECK_PLAINTEXT: &[u8] = b"kontor-search index v1";
/// Name of the file the OS advisory lock is taken on (empty; the lock dies with the
/// process, so a crash never leaves a stale lock).
const LOCK_FILE: &str = "kontor-search.lock";
/// Memory the index writer may use before it writes a segment: tantivy's minimum. The
/// app commits every page of at most 100 messages, far below it, and tantivy sizes the
/// writer's term table by this budget up front (a third of it, up to 8 MB, allocated
/// again after every commit), so a larger budget only costs memory (issue 15).
const WRITER_MEMORY: usize = 15_000_000;

/// Derives a sub-key, so the check file and the index files never share a key with
/// anything else made from the caller's key.
fn subkey(key: &[u8; 32], label: &str) -> Zeroizing<[u8; 32]> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(label.as_bytes());
    let mut out = Zeroizing::new([0u8; 32]);
    out.copy_from_slice(&mac.finalize().into_bytes());
    out
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The writer and the event ids added since the last commit.
struct Writer {
    writer: IndexWriter,
    pending: HashSet<String>,
}

/// The encrypted search index of one account on this device.
///
/// `Send + Sync`; all methods take `&self` (the writer sits behind a mutex) and block.
/// Changes become visible and durable at [`SearchIndex::commit`].
pub struct SearchIndex {
    reader: IndexReader,
    /// `None` only while dropping.
    writer: Mutex<Option<Writer>>,
    fields: Fields,
    stemmers: Stemmers,
    state: Mutex<Option<String>>,
    /// The encrypting directory (`None` only in the benchmark's unencrypted variant).
    directory: Option<EncryptedDirectory>,
    /// Holds the OS advisory lock on [`LOCK_FILE`] while the index is open.
    _lock: File,
}

impl fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SearchIndex").finish_non_exhaustive()
    }
}

impl SearchIndex {
    /// Opens the index in `dir`, creating it (dir 0700, files 0600) if missing.
    ///
    /// A wrong `key` gives [`Error::WrongKey`] before any index file is read; a damaged
    /// index gives [`Error::Corrupt`]. Only one `SearchIndex` per directory can be open
    /// at a time (also across processes): a second open fails with [`Error::Engine`].
    pub fn open(dir: &Path, key: Zeroizing<[u8; 32]>) -> Result<SearchIndex> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;

        let check_key = subkey(&key, "kontor-search check v1");
        let check_path = dir.join(CHECK_FILE);
        match fs::read(&check_path) {
            Ok(sealed) => {
                if !directory::looks_sealed(&sealed) {
                    return Err(Error::Corrupt("check file damaged".into()));
                }
                match directory::open_sealed(&check_key, CHECK_FILE, &sealed) {
                    Some(plain) if plain == CHECK_PLAINTEXT => {}
                    // Sealed, but not with this key (a flipped bit inside the check file
                    // looks the same; a rebuild fixes both).
                    _ => return Err(Error::WrongKey),
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if dir.join("meta.json").exists() {
                    return Err(Error::Corrupt("check file missing".into()));
                }
            }
            Err(e) => return Err(e.into()),
        }

        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        let lock_file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(LOCK_FILE))?;
        match lock_file.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => {
                return Err(Error::Engine("the search index is already open".into()));
            }
            Err(fs::TryLockError::Error(e)) => return Err(e.into()),
        }
        directory::sweep_temp_files(dir)?;
        if !check_path.exists() {
            let sealed = directory::seal(&check_key, CHECK_FILE, CHECK_PLAINTEXT)?;
            directory::write_atomic(dir, CHECK_FILE, &sealed)?;
        }

        let directory = EncryptedDirectory::new(dir, subkey(&key, "kontor-search files v1"));
        drop(key);
        Self::open_engine(Box::new(directory.clone()), Some(directory), lock_file)
    }

    /// The same index on tantivy's plain `MmapDirectory`, **unencrypted**: only for the
    /// benchmark, which measures what the encryption costs. Never use it for user data.
    #[doc(hidden)]
    pub fn open_unencrypted_for_benchmark(dir: &Path) -> Result<SearchIndex> {
        DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        let lock_file = File::open(dir)?;
        let mmap = tantivy::directory::MmapDirectory::open(dir)
            .map_err(|e| Error::Engine(e.to_string()))?;
        Self::open_engine(Box::new(mmap), None, lock_file)
    }

    fn open_engine(
        directory: Box<dyn tantivy::Directory>,
        encrypted: Option<EncryptedDirectory>,
        lock_file: File,
    ) -> Result<SearchIndex> {
        let enc = encrypted.as_ref();
        let opening = |e: TantivyError| open_error(enc, e);
        let exists = Index::exists(&*directory).map_err(|e| match e {
            OpenReadError::FileDoesNotExist(_) => Error::Corrupt("missing file".into()),
            other => open_error(enc, other.into()),
        })?;
        let index = if exists {
            Index::open(directory).map_err(opening)?
        } else {
            Index::create(directory, Fields::schema(), index_settings()).map_err(opening)?
        };
        let fields = Fields::of(&index.schema())?;
        index.tokenizers().register(
            tokenizer::WORDS,
            TextAnalyzer::from(tokenizer::WordsTokenizer),
        );
        index.tokenizers().register(
            tokenizer::STEMS,
            TextAnalyzer::from(tokenizer::StemsTokenizer::default()),
        );
        let writer = index
            .writer_with_num_threads(1, WRITER_MEMORY)
            .map_err(opening)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(opening)?;
        let state = index.load_metas().map_err(opening)?.payload;
        Ok(SearchIndex {
            reader,
            writer: Mutex::new(Some(Writer {
                writer,
                pending: HashSet::new(),
            })),
            fields,
            stemmers: Stemmers::default(),
            state: Mutex::new(state),
            directory: encrypted,
            _lock: lock_file,
        })
    }

    fn engine(&self, e: TantivyError) -> Error {
        engine_error(self.directory.as_ref(), e)
    }

    fn with_writer<T>(&self, f: impl FnOnce(&mut Writer) -> Result<T>) -> Result<T> {
        let mut guard = lock(&self.writer);
        let writer = guard
            .as_mut()
            .ok_or_else(|| Error::Engine("index is closing".into()))?;
        f(writer)
    }

    /// Adds documents, replacing any with the same `event_id` (an edit). Visible after
    /// [`SearchIndex::commit`].
    pub fn upsert(&self, docs: &[Doc]) -> Result<()> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        self.with_writer(|w| {
            for d in docs {
                // A delete costs tantivy ≈ 1.4 kB of memory until the commit (a query
                // weight per operation): issue it only when there can be a doc to replace,
                // i.e. one committed or added since the last commit.
                let term = Term::from_field_text(f.event_id, &d.event_id);
                let committed = searcher.doc_freq(&term).map_err(|e| self.engine(e))? > 0;
                if !w.pending.insert(d.event_id.clone()) || committed {
                    w.writer.delete_term(term);
                }
                let mut doc = TantivyDocument::default();
                doc.add_text(f.event_id, &d.event_id);
                doc.add_text(f.room_id, &d.room_id);
                doc.add_text(f.sender, &d.sender);
                doc.add_i64(f.ts, d.timestamp_ms);
                doc.add_u64(f.kind, d.kind.code());
                doc.add_text(f.text, &d.text);
                doc.add_text(f.words, &d.text);
                doc.add_text(f.stems, &d.text);
                w.writer.add_document(doc).map_err(|e| self.engine(e))?;
            }
            Ok(())
        })
    }

    /// Removes the document with this event id (a redaction). Visible after commit.
    pub fn remove(&self, event_id: &str) -> Result<()> {
        self.with_writer(|w| {
            w.writer
                .delete_term(Term::from_field_text(self.fields.event_id, event_id));
            Ok(())
        })
    }

    /// Removes every document of a room (the user left it). Visible after commit.
    pub fn remove_chat(&self, room_id: &str) -> Result<()> {
        self.with_writer(|w| {
            w.writer
                .delete_term(Term::from_field_text(self.fields.room_id, room_id));
            Ok(())
        })
    }

    /// Makes all changes durable and visible. `state` (the caller's backfill progress)
    /// is stored in the same atomic step (tantivy's commit payload in the sealed
    /// `meta.json`), so after a crash the state never claims documents that are not
    /// there. `None` keeps the previous state.
    pub fn commit(&self, state: Option<&str>) -> Result<()> {
        self.with_writer(|w| {
            let mut current = lock(&self.state);
            let next = state.map(str::to_owned).or_else(|| current.clone());
            let mut prepared = w.writer.prepare_commit().map_err(|e| self.engine(e))?;
            if let Some(s) = &next {
                prepared.set_payload(s);
            }
            prepared.commit().map_err(|e| self.engine(e))?;
            *current = next;
            // Reload under the writer lock: an upsert must see either the doc pending or
            // the doc committed, never neither.
            self.reader.reload().map_err(|e| self.engine(e))?;
            w.pending.clear();
            Ok(())
        })
    }

    /// The state stored by the last commit.
    pub fn state(&self) -> Option<String> {
        lock(&self.state).clone()
    }

    /// Committed documents.
    pub fn len(&self) -> Result<u64> {
        Ok(self.reader.searcher().num_docs())
    }

    /// True when no document is committed.
    pub fn is_empty(&self) -> Result<bool> {
        Ok(self.len()? == 0)
    }

    /// Room ids that have committed documents (so the caller can remove chats it left).
    pub fn chats(&self) -> Result<Vec<String>> {
        let searcher = self.reader.searcher();
        let mut candidates = BTreeSet::new();
        for segment in searcher.segment_readers() {
            let inverted = segment
                .inverted_index(self.fields.room_id)
                .map_err(|e| self.engine(e))?;
            let mut stream = inverted
                .terms()
                .stream()
                .map_err(|e| self.engine(e.into()))?;
            while stream.advance() {
                candidates.insert(String::from_utf8_lossy(stream.key()).into_owned());
            }
        }
        // A term survives deletes until segments merge: keep rooms with live documents.
        let mut out = Vec::new();
        for room in candidates {
            let q = TermQuery::new(
                Term::from_field_text(self.fields.room_id, &room),
                IndexRecordOption::Basic,
            );
            if searcher.search(&q, &Count).map_err(|e| self.engine(e))? > 0 {
                out.push(room);
            }
        }
        Ok(out)
    }

    /// True when a document with this event id is committed.
    pub fn contains(&self, event_id: &str) -> Result<bool> {
        let q = TermQuery::new(
            Term::from_field_text(self.fields.event_id, event_id),
            IndexRecordOption::Basic,
        );
        let n = self
            .reader
            .searcher()
            .search(&q, &Count)
            .map_err(|e| self.engine(e))?;
        Ok(n > 0)
    }

    /// Searches: newest first, every term must match, filters applied. An empty query
    /// text lists the newest documents that pass the filters ("all files in this chat").
    pub fn search(&self, q: &SearchQuery) -> Result<Vec<Hit>> {
        let clauses = query::parse(&self.stemmers, &q.text, q.prefix_last);
        let query = self.build_query(q, &clauses);
        let searcher = self.reader.searcher();
        // tantivy sizes its top-k heap by the limit (and panics on 0): never more than
        // there are documents.
        let limit = if q.limit == 0 { DEFAULT_LIMIT } else { q.limit }
            .min(usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX))
            .max(1);
        let top = searcher
            .search(
                &query,
                &TopDocs::with_limit(limit).order_by_fast_field::<i64>("ts", Order::Desc),
            )
            .map_err(|e| self.engine(e))?;
        let f = self.fields;
        let mut hits = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(|e| self.engine(e))?;
            let text_of = |field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_owned()
            };
            let text = text_of(f.text);
            let ranges = highlight::highlight(&self.stemmers, &text, &clauses);
            let (snippet, highlights) = highlight::snippet(&text, &ranges);
            hits.push(Hit {
                event_id: text_of(f.event_id),
                room_id: text_of(f.room_id),
                sender: text_of(f.sender),
                timestamp_ms: doc.get_first(f.ts).and_then(|v| v.as_i64()).unwrap_or(0),
                kind: doc
                    .get_first(f.kind)
                    .and_then(|v| v.as_u64())
                    .and_then(DocKind::from_code)
                    .ok_or_else(|| Error::Corrupt("document without kind".into()))?,
                snippet,
                highlights,
            });
        }
        Ok(hits)
    }

    fn build_query(&self, q: &SearchQuery, clauses: &[Clause]) -> Box<dyn Query> {
        let f = self.fields;
        let mut must: Vec<Box<dyn Query>> = Vec::new();
        for clause in clauses {
            must.push(match clause {
                Clause::Word(forms) => self.forms_query(forms),
                Clause::Prefix(prefix) => prefix_query(f.words, prefix),
                Clause::WordOrPrefix { forms, prefix } => Box::new(BooleanQuery::new(vec![
                    (Occur::Should, self.forms_query(forms)),
                    (Occur::Should, prefix_query(f.words, prefix)),
                ])),
                Clause::Phrase { words, prefix } => phrase_query(f.words, words, *prefix),
            });
        }
        let term = |field, text: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, text),
                IndexRecordOption::Basic,
            ))
        };
        if let Some(chat) = &q.chat {
            must.push(term(f.room_id, chat));
        }
        if let Some(sender) = &q.sender {
            must.push(term(f.sender, sender));
        }
        if q.from_ms.is_some() || q.to_ms.is_some() {
            let lower = q.from_ms.map_or(Bound::Unbounded, |v| {
                Bound::Included(Term::from_field_i64(f.ts, v))
            });
            let upper = q.to_ms.map_or(Bound::Unbounded, |v| {
                Bound::Excluded(Term::from_field_i64(f.ts, v))
            });
            must.push(Box::new(RangeQuery::new(lower, upper)));
        }
        if q.has_file {
            let kind = |k: DocKind| -> Box<dyn Query> {
                Box::new(TermQuery::new(
                    Term::from_field_u64(f.kind, k.code()),
                    IndexRecordOption::Basic,
                ))
            };
            must.push(Box::new(BooleanQuery::new(vec![
                (Occur::Should, kind(DocKind::File)),
                (Occur::Should, kind(DocKind::Quote)),
            ])));
        }
        match must.len() {
            0 => Box::new(AllQuery),
            1 => must.pop().unwrap_or_else(|| Box::new(AllQuery)),
            _ => Box::new(BooleanQuery::new(
                must.into_iter().map(|q| (Occur::Must, q)).collect(),
            )),
        }
    }

    /// Any of the forms, as an exact word (`words`) or a stem (`stems`).
    fn forms_query(&self, forms: &[String]) -> Box<dyn Query> {
        let f = self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for form in forms {
            for field in [f.words, f.stems] {
                should.push((
                    Occur::Should,
                    Box::new(TermQuery::new(
                        Term::from_field_text(field, form),
                        IndexRecordOption::Basic,
                    )),
                ));
            }
        }
        Box::new(BooleanQuery::new(should))
    }
}

/// Documents with a word in `field` starting with `prefix`: a range over the term
/// dictionary, [prefix, prefix ‖ 0xFF) (0xFF never occurs in UTF-8).
fn prefix_query(field: Field, prefix: &str) -> Box<dyn Query> {
    let lower = Term::from_field_text(field, prefix);
    let mut upper = lower.clone();
    upper.append_bytes(&[0xFF]);
    Box::new(InvertedIndexRangeQuery::new(
        Bound::Included(lower),
        Bound::Excluded(upper),
    ))
}

fn phrase_query(field: Field, words: &[String], prefix: bool) -> Box<dyn Query> {
    let terms: Vec<Term> = words
        .iter()
        .map(|w| Term::from_field_text(field, w))
        .collect();
    match (terms.len(), prefix) {
        (1, true) => prefix_query(field, &words[0]),
        (1, false) => Box::new(TermQuery::new(terms[0].clone(), IndexRecordOption::Basic)),
        (_, true) => {
            let mut q = PhrasePrefixQuery::new(terms);
            q.set_max_expansions(1000);
            Box::new(q)
        }
        (_, false) => Box::new(PhraseQuery::new(terms)),
    }
}

/// Settings of a new index: the document store (every text, plus the ids) compressed
/// with zstd level 3 instead of tantivy's default lz4: the whole index of 100k messages
/// measured 14 % smaller (17.8 vs 20.7 MB) at the same search latency (BENCHMARKS.md).
fn index_settings() -> tantivy::IndexSettings {
    tantivy::IndexSettings {
        docstore_compression: tantivy::store::Compressor::Zstd(tantivy::store::ZstdCompressor {
            compression_level: Some(3),
        }),
        ..Default::default()
    }
}

fn engine_error(dir: Option<&EncryptedDirectory>, e: TantivyError) -> Error {
    if dir.is_some_and(EncryptedDirectory::saw_corruption) {
        return Error::Corrupt("an index file does not authenticate".into());
    }
    match e {
        TantivyError::DataCorruption(c) => Error::Corrupt(format!("{c:?}")),
        other => Error::Engine(other.to_string()),
    }
}

/// Errors while opening: a missing or unreadable file means a damaged index.
fn open_error(dir: Option<&EncryptedDirectory>, e: TantivyError) -> Error {
    match e {
        TantivyError::OpenReadError(OpenReadError::FileDoesNotExist(_))
        | TantivyError::OpenDirectoryError(_)
        | TantivyError::SchemaError(_) => Error::Corrupt(e.to_string()),
        other => engine_error(dir, other),
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        // Let background merges finish before the directory lock is released, so a
        // reopen in this process never races a merge still writing files.
        if let Some(w) = lock(&self.writer).take()
            && let Err(e) = w.writer.wait_merging_threads()
        {
            tracing::warn!(error = %e, "search index: merge did not finish");
        }
    }
}

/// Deletes the index directory (logout). A missing directory is not an error.
pub fn delete_index(dir: &Path) -> io::Result<()> {
    match fs::remove_dir_all(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_index_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<SearchIndex>();
    }

    #[test]
    fn debug_output_has_no_text() {
        let doc = Doc {
            event_id: "$e".into(),
            room_id: "!r".into(),
            sender: "@a:x".into(),
            timestamp_ms: 1,
            kind: DocKind::Message,
            text: "geheimwort".into(),
        };
        assert!(!format!("{doc:?}").contains("geheimwort"));
        let hit = Hit {
            event_id: "$e".into(),
            room_id: "!r".into(),
            sender: "@a:x".into(),
            timestamp_ms: 1,
            kind: DocKind::File,
            snippet: "geheimwort".into(),
            highlights: vec![0..3, 4..5],
        };
        assert!(!format!("{hit:?}").contains("geheimwort"));
        let q = SearchQuery {
            text: "geheimwort".into(),
            ..Default::default()
        };
        assert!(!format!("{q:?}").contains("geheimwort"));
        assert_eq!(serde_json::to_string(&DocKind::File).unwrap(), "\"file\"");
    }
}
