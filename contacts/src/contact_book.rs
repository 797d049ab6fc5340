//! [`ContactBook`]: both books together, and the operations that move a
//! contact between them (grant, withdraw) or remove it everywhere (erase).
//!
//! Invariant: a contact whose current consent is `granted` is in the work
//! book, every other contact is in the private book, and each contact is in
//! exactly one of them. Moves go through [`crate::journal`], so a crash at any
//! point leaves the contact in exactly one book with its full history.

use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::sync::MutexGuard;

use crate::book::{PrivateBook, Store, WorkBook};
use crate::consent::{Consent, ConsentEvent, ConsentSource, ConsentStatus, Evidence};
use crate::crypto::KdfParams;
use crate::error::{Error, Result};
use crate::journal::{self, Plan};
use crate::model::{Book, Contact, ContactId, Email, NewContact, Phone, Service};
use crate::phone::{self, Region};
use crate::store::{ContactStore, SledStore};
use crate::time::Timestamp;

/// Options for opening (and, the first time, creating) a profile's books.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpenOptions {
    /// Argon2id cost for *new* stores; existing stores keep the parameters stored with them.
    pub kdf: KdfParams,
    /// Default region for numbers without a country code.
    pub region: Region,
}

/// Both books of a profile, unlocked.
pub struct ContactBook {
    pub(crate) work: WorkBook,
    pub(crate) private: PrivateBook,
    pub(crate) region: Region,
}

fn present(path: &Path) -> bool {
    path.join("db").exists() || path.join("conf").exists()
}

/// A new random contact id.
pub(crate) fn new_id() -> ContactId {
    hex::encode(crate::crypto::random::<8>())
}

impl ContactBook {
    /// Opens the books in `dir` (`dir/work`, `dir/private`), creating both on first use.
    pub fn open(dir: &Path, passphrase: &str) -> Result<Self> {
        Self::open_with(dir, passphrase, OpenOptions::default())
    }

    /// Like [`ContactBook::open`] with explicit options.
    pub fn open_with(dir: &Path, passphrase: &str, opts: OpenOptions) -> Result<Self> {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| Error::io(dir, e))?;
        let (wp, pp) = (dir.join("work"), dir.join("private"));
        match (present(&wp), present(&pp)) {
            (false, true) => {
                return Err(Error::StoreMissing {
                    book: Book::Work,
                    path: wp,
                });
            }
            (true, false) => {
                return Err(Error::StoreMissing {
                    book: Book::Private,
                    path: pp,
                });
            }
            _ => {}
        }
        let work = SledStore::open(Book::Work, &wp)?;
        let private = SledStore::open(Book::Private, &pp)?;
        Self::from_stores(
            Box::new(work),
            &wp,
            Box::new(private),
            &pp,
            passphrase,
            opts,
        )
    }

    /// Opens books on any [`ContactStore`]s (an in-memory pair in unit tests).
    pub fn from_stores(
        work: Box<dyn ContactStore>,
        work_path: &Path,
        private: Box<dyn ContactStore>,
        private_path: &Path,
        passphrase: &str,
        opts: OpenOptions,
    ) -> Result<Self> {
        let pass = passphrase.as_bytes();
        let (wi, pi) = (
            Store::is_initialised(&*work)?,
            Store::is_initialised(&*private)?,
        );
        let fresh =
            |db: &dyn ContactStore| -> Result<bool> { Ok(!db.has_prefix(crate::layout::REC)?) };
        let (work, private) = if !wi && !pi || (wi != pi && fresh(&*work)? && fresh(&*private)?) {
            // First use, or a first use that was interrupted before both key records were written.
            let p = Store::create(Book::Private, private_path, private, pass, opts.kdf)?;
            let w = Store::create(Book::Work, work_path, work, pass, opts.kdf)?;
            (w, p)
        } else if !wi || !pi {
            let (book, path) = if wi {
                (Book::Private, private_path)
            } else {
                (Book::Work, work_path)
            };
            return Err(Error::StoreCorrupt {
                book,
                path: path.to_owned(),
                reason: "no key record".into(),
            });
        } else {
            let w = Store::unlock(Book::Work, work_path, work, pass)?;
            let p = Store::unlock(Book::Private, private_path, private, pass)?;
            (w, p)
        };
        journal::recover(&*work.db, &*private.db)?;
        Ok(ContactBook {
            work: WorkBook { store: work },
            private: PrivateBook { store: private },
            region: opts.region,
        })
    }

    /// The consented book (for discovery).
    pub fn work(&self) -> &WorkBook {
        &self.work
    }

    /// The non-consented book.
    pub fn private(&self) -> &PrivateBook {
        &self.private
    }

    /// The default region for phone numbers.
    pub fn region(&self) -> Region {
        self.region
    }

    pub(crate) fn store(&self, book: Book) -> &Store {
        match book {
            Book::Work => &self.work.store,
            Book::Private => &self.private.store,
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, ()> {
        // The work store's lock: discovery, which holds only the work book, takes the same one.
        self.work
            .store
            .write
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn commit(&self, plan: Plan) -> Result<()> {
        journal::commit(&*self.work.store.db, &*self.private.store.db, plan)
    }

    /// Contacts of one book, sorted by name.
    pub fn list(&self, book: Book) -> Result<Vec<Contact>> {
        self.store(book).list()
    }

    /// Finds a contact by full id or by a unique prefix of at least 4 characters.
    pub fn resolve(&self, id: &str) -> Result<(Book, ContactId)> {
        let id = id.trim().to_ascii_lowercase();
        for book in [Book::Work, Book::Private] {
            if self.store(book).contains(&id)? {
                return Ok((book, id));
            }
        }
        if id.len() < 4 {
            return Err(Error::NotFound(id));
        }
        let mut hits = Vec::new();
        for book in [Book::Work, Book::Private] {
            for full in self.store(book).ids()? {
                if full.starts_with(&id) {
                    hits.push((book, full));
                }
            }
        }
        match hits.len() {
            0 => Err(Error::NotFound(id)),
            1 => Ok(hits.remove(0)),
            _ => Err(Error::AmbiguousId(id)),
        }
    }

    /// One contact and the book it is in.
    pub fn get(&self, id: &str) -> Result<(Book, Contact)> {
        let (book, id) = self.resolve(id)?;
        let contact = self.store(book).get(&id)?.ok_or(Error::NotFound(id))?;
        Ok((book, contact))
    }

    /// Adds a contact entered by hand. With `consent` it goes to the work book.
    pub fn add(&self, new: NewContact, consent: Option<(&str, Option<&str>)>) -> Result<Contact> {
        if new.display_name.trim().is_empty() {
            return Err(Error::InvalidArgument("a contact needs a name".into()));
        }
        let now = Timestamp::now();
        let event = match consent {
            Some((purpose, evidence)) => {
                grant_event(purpose, evidence, ConsentSource::Manual, now)?
            }
            None => ConsentEvent {
                status: ConsentStatus::None,
                purpose: None,
                at: now,
                source: ConsentSource::Manual,
                evidence: None,
            },
        };
        let contact = Contact {
            id: new_id(),
            display_name: new.display_name.trim().to_owned(),
            organisation: new.organisation,
            title: None,
            addresses: Vec::new(),
            phones: new
                .phones
                .into_iter()
                .map(|raw| Phone {
                    e164: phone::normalise(&raw, self.region),
                    raw,
                    kind: None,
                    service: Service::Voice,
                })
                .collect(),
            emails: new
                .emails
                .into_iter()
                .map(|address| Email {
                    address,
                    kind: None,
                })
                .collect(),
            note: new.note,
            labels: new.labels,
            created: now,
            updated: now,
            consent: Consent::with(event),
            matrix_id: None,
            chat_id: None,
            consent_request: None,
        };
        let _guard = self.lock();
        let book = book_for(contact.consent.status());
        let store = self.store(book);
        let mut w = store.writer();
        w.put(&contact)?;
        store.db.apply(w.finish())?;
        Ok(contact)
    }

    /// Records consent given by hand, moving the contact to the work book.
    pub fn grant(&self, id: &str, purpose: &str, evidence: Option<&str>) -> Result<Contact> {
        self.grant_from(id, purpose, evidence, ConsentSource::Manual)
    }

    /// Records consent with an explicit source (e.g. a customer opt-in).
    pub fn grant_from(
        &self,
        id: &str,
        purpose: &str,
        evidence: Option<&str>,
        source: ConsentSource,
    ) -> Result<Contact> {
        let event = grant_event(purpose, evidence, source, Timestamp::now())?;
        self.record_consent(id, event)
    }

    /// Records a withdrawal: the contact moves to the private book and its Matrix id is dropped.
    pub fn withdraw(&self, id: &str, evidence: Option<&str>) -> Result<Contact> {
        let (_, contact) = self.get(id)?;
        if contact.consent.status() != ConsentStatus::Granted {
            return Err(Error::InvalidState(format!(
                "contact {} has no consent to withdraw",
                contact.id
            )));
        }
        let event = ConsentEvent {
            status: ConsentStatus::Withdrawn,
            purpose: contact.consent.current().and_then(|e| e.purpose.clone()),
            at: Timestamp::now(),
            source: ConsentSource::Manual,
            evidence: evidence.map(Evidence::from),
        };
        self.record_consent(&contact.id, event)
    }

    /// Appends a consent event and moves the contact to the book its new status belongs in.
    pub fn record_consent(&self, id: &str, event: ConsentEvent) -> Result<Contact> {
        self.change_consent(id, event, |_| Ok(()))
    }

    /// [`ContactBook::record_consent`] with a change of the contact checked and made in
    /// the same journaled write (so an answer clears its request exactly when the
    /// contact moves, even across a crash).
    pub(crate) fn change_consent(
        &self,
        id: &str,
        event: ConsentEvent,
        edit: impl FnOnce(&mut Contact) -> Result<()>,
    ) -> Result<Contact> {
        let _guard = self.lock();
        let (from, mut contact) = self.get(id)?;
        edit(&mut contact)?;
        // Every decision closes the request that was waiting: a consent recorded by hand
        // (a signed form) makes the chat's question moot, and an answer arriving later
        // would only repeat it.
        contact.consent_request = None;
        let to = book_for(event.status);
        if event.status != ConsentStatus::Granted {
            contact.matrix_id = None;
        }
        contact.consent.record(event);
        contact.updated = Timestamp::now();
        let mut writers = [self.work.store.writer(), self.private.store.writer()];
        writers[slot(to)].put(&contact)?;
        if from != to {
            writers[slot(from)].delete(&contact.id)?;
        }
        let [w, p] = writers;
        let plan = Plan {
            work: w.finish_later(),
            private: p.finish_later(),
        };
        self.commit(plan)?;
        Ok(contact)
    }

    /// Erases a contact from both books (GDPR Art. 17) and forgets cached keys.
    /// Returns the book it was in.
    pub fn erase(&self, id: &str) -> Result<Book> {
        let _guard = self.lock();
        let (book, id) = self.resolve(id)?;
        let (mut w, mut p) = (self.work.store.writer(), self.private.store.writer());
        w.delete(&id)?;
        p.delete(&id)?;
        let plan = Plan {
            work: w.finish_later(),
            private: p.finish_later(),
        };
        self.commit(plan)?;
        self.work.store.clear_caches();
        self.private.store.clear_caches();
        Ok(book)
    }
}

/// Index of a book in `[work, private]` arrays.
pub(crate) fn slot(book: Book) -> usize {
    match book {
        Book::Work => 0,
        Book::Private => 1,
    }
}

/// The book a status belongs in.
pub fn book_for(status: ConsentStatus) -> Book {
    match status {
        ConsentStatus::Granted => Book::Work,
        ConsentStatus::None | ConsentStatus::Withdrawn => Book::Private,
    }
}

pub(crate) fn grant_event(
    purpose: &str,
    evidence: Option<&str>,
    source: ConsentSource,
    at: Timestamp,
) -> Result<ConsentEvent> {
    if purpose.trim().is_empty() {
        return Err(Error::InvalidArgument("consent needs a purpose".into()));
    }
    Ok(ConsentEvent {
        status: ConsentStatus::Granted,
        purpose: Some(purpose.trim().to_owned()),
        at,
        source,
        evidence: evidence.map(Evidence::from),
    })
}

impl WorkBook {
    /// Opens only the work book: the private book's keys are never derived or loaded.
    pub fn open(dir: &Path, passphrase: &str) -> Result<Self> {
        let path = dir.join("work");
        if !present(&path) {
            return Err(Error::StoreMissing {
                book: Book::Work,
                path,
            });
        }
        let db = SledStore::open(Book::Work, &path)?;
        let store = Store::unlock(Book::Work, &path, Box::new(db), passphrase.as_bytes())?;
        journal::recover_work_only(&*store.db)?;
        Ok(WorkBook { store })
    }
}

impl PrivateBook {
    /// Opens only the private book, read-only in spirit (e.g. when the work book is damaged).
    pub fn open(dir: &Path, passphrase: &str) -> Result<Self> {
        let path = dir.join("private");
        if !present(&path) {
            return Err(Error::StoreMissing {
                book: Book::Private,
                path,
            });
        }
        let db = SledStore::open(Book::Private, &path)?;
        let store = Store::unlock(Book::Private, &path, Box::new(db), passphrase.as_bytes())?;
        Ok(PrivateBook { store })
    }
}

mod chat;

#[cfg(test)]
mod tests;
