//! The contact-book screens: both books listed apart, a contact's consent and history,
//! grant and withdraw. Every book operation (sealed records, sled, Argon2id on open)
//! runs on a blocking tokio thread; the UI thread only installs the results.
//!
//! The book lives in `<data-dir>/contacts/`, beside the profile, and opens with the
//! profile's passphrase, as `kontor contacts …` does.

use std::{
    path::Path,
    rc::Rc,
    sync::{Arc, Mutex},
};

use kontor_contacts::{Book, ConsentStatus, Contact, ContactBook, KdfParams, OpenOptions};
use slint::{ComponentHandle, ModelRc, VecModel, Weak};
use zeroize::Zeroizing;

use super::{
    AppWindow, ConsentKind, ConsentLine, ContactItem, Contacts, ErrorKind, Screen, Session,
};

/// The unlocked book, shared with the tasks that use it.
pub(crate) type SharedBook = Mutex<Option<Arc<ContactBook>>>;

/// Opens (creating on first use) the book with the profile passphrase. Blocking.
pub(crate) fn open(
    data_dir: &Path,
    passphrase: &Zeroizing<String>,
    fast: bool,
) -> Option<ContactBook> {
    let kdf = if fast && cfg!(debug_assertions) {
        KdfParams::insecure_fast()
    } else {
        KdfParams::default()
    };
    let opts = OpenOptions {
        kdf,
        ..OpenOptions::default()
    };
    match ContactBook::open_with(&data_dir.join("contacts"), passphrase, opts) {
        Ok(b) => Some(b),
        Err(e) => {
            // Chats work without it; the contacts button stays hidden.
            tracing::warn!("contact book unavailable: {e}");
            None
        }
    }
}

fn item(c: &Contact, work: bool) -> ContactItem {
    let detail = c
        .organisation
        .clone()
        .or_else(|| {
            c.phones
                .first()
                .map(|p| p.e164.clone().unwrap_or(p.raw.clone()))
        })
        .or_else(|| c.emails.first().map(|e| e.address.clone()))
        .unwrap_or_default();
    ContactItem {
        id: c.id.to_string().into(),
        name: c.display_name.clone().into(),
        detail: detail.into(),
        work,
    }
}

fn kind(s: ConsentStatus) -> ConsentKind {
    match s {
        ConsentStatus::Granted => ConsentKind::Granted,
        ConsentStatus::None => ConsentKind::None,
        ConsentStatus::Withdrawn => ConsentKind::Withdrawn,
    }
}

/// Installs empty models and answers the contacts callbacks.
pub(crate) fn wire(window: &AppWindow, rt: &tokio::runtime::Handle, book: &Arc<SharedBook>) {
    let c = window.global::<Contacts>();
    c.set_work(ModelRc::from(Rc::new(VecModel::<ContactItem>::default())));
    c.set_private(ModelRc::from(Rc::new(VecModel::<ContactItem>::default())));
    {
        let (rt2, book, weak) = (rt.clone(), book.clone(), window.as_weak());
        c.on_refresh(move || refresh(&rt2, &book, &weak));
    }
    {
        let (rt2, book, weak) = (rt.clone(), book.clone(), window.as_weak());
        c.on_open(move |id| show(&rt2, &book, &weak, id.to_string(), true));
    }
    {
        let (rt2, book, weak) = (rt.clone(), book.clone(), window.as_weak());
        c.on_grant(move |id, purpose| {
            let purpose = purpose.to_string();
            change(&rt2, &book, &weak, id.to_string(), move |b, id| {
                b.grant(id, &purpose, None).map(|_| ())
            })
        });
    }
    {
        let (rt2, book, weak) = (rt.clone(), book.clone(), window.as_weak());
        c.on_withdraw(move |id| {
            change(&rt2, &book, &weak, id.to_string(), |b, id| {
                b.withdraw(id, None).map(|_| ())
            })
        });
    }
}

pub(crate) fn book_of(book: &SharedBook) -> Option<Arc<ContactBook>> {
    book.lock().unwrap_or_else(|p| p.into_inner()).clone()
}

fn error(weak: &Weak<AppWindow>, e: kontor_contacts::Error) {
    let detail = e.to_string();
    let _ = weak.upgrade_in_event_loop(move |w| {
        let s = w.global::<Session>();
        s.set_error(ErrorKind::Other);
        s.set_error_detail(detail.into());
    });
}

/// Reloads both lists.
pub(crate) fn refresh(rt: &tokio::runtime::Handle, book: &Arc<SharedBook>, weak: &Weak<AppWindow>) {
    let Some(b) = book_of(book) else { return };
    let weak = weak.clone();
    rt.spawn_blocking(move || {
        let lists = b
            .list(Book::Work)
            .and_then(|w| Ok((w, b.list(Book::Private)?)));
        match lists {
            Ok((work, private)) => {
                let work: Vec<_> = work.iter().map(|c| item(c, true)).collect();
                let private: Vec<_> = private.iter().map(|c| item(c, false)).collect();
                let _ = weak.upgrade_in_event_loop(move |w| {
                    let c = w.global::<Contacts>();
                    c.set_work(ModelRc::from(Rc::new(VecModel::from(work))));
                    c.set_private(ModelRc::from(Rc::new(VecModel::from(private))));
                });
            }
            Err(e) => error(&weak, e),
        }
    });
}

/// Loads one contact into the detail view (and, with `navigate`, opens it).
pub(crate) fn show(
    rt: &tokio::runtime::Handle,
    book: &Arc<SharedBook>,
    weak: &Weak<AppWindow>,
    id: String,
    navigate: bool,
) {
    let Some(b) = book_of(book) else { return };
    let weak = weak.clone();
    rt.spawn_blocking(move || match b.get(&id) {
        Ok((which, contact)) => {
            let selected = item(&contact, which == Book::Work);
            let status = kind(contact.consent.status());
            let purpose = contact
                .consent
                .current()
                .and_then(|e| e.purpose.clone())
                .unwrap_or_default();
            let reach: Vec<String> = contact
                .phones
                .iter()
                .map(|p| p.e164.clone().unwrap_or_else(|| p.raw.clone()))
                .chain(contact.emails.iter().map(|e| e.address.clone()))
                .collect();
            let history: Vec<ConsentLine> = contact
                .consent
                .history()
                .iter()
                .map(|e| ConsentLine {
                    kind: kind(e.status),
                    at: e
                        .at
                        .to_string()
                        .replace('T', " ")
                        .chars()
                        .take(16)
                        .collect::<String>()
                        .into(),
                    purpose: e.purpose.clone().unwrap_or_default().into(),
                    // English for now: the view has no texts for the evidence kinds yet.
                    evidence: e
                        .evidence
                        .as_ref()
                        .map(ToString::to_string)
                        .unwrap_or_default()
                        .into(),
                })
                .collect();
            let matrix_id = contact.matrix_id.clone().unwrap_or_default();
            let _ = weak.upgrade_in_event_loop(move |w| {
                let c = w.global::<Contacts>();
                if c.get_selected().id != selected.id {
                    c.set_exported_file(Default::default());
                }
                c.set_selected_matrix_id(matrix_id.into());
                c.set_selected(selected);
                c.set_selected_status(status);
                c.set_selected_purpose(purpose.into());
                c.set_selected_reach(reach.join("\n").into());
                c.set_selected_history(ModelRc::from(Rc::new(VecModel::from(history))));
                if navigate {
                    w.global::<Session>().set_screen(Screen::ContactDetail);
                }
            });
        }
        Err(e) => error(&weak, e),
    });
}

/// Runs a consent change, then reloads the lists and the detail view.
fn change(
    rt: &tokio::runtime::Handle,
    book: &Arc<SharedBook>,
    weak: &Weak<AppWindow>,
    id: String,
    op: impl FnOnce(&ContactBook, &str) -> kontor_contacts::Result<()> + Send + 'static,
) {
    let Some(b) = book_of(book) else { return };
    let (rt2, book2, weak2) = (rt.clone(), book.clone(), weak.clone());
    rt.spawn_blocking(move || {
        if let Err(e) = op(&b, &id) {
            return error(&weak2, e);
        }
        refresh(&rt2, &book2, &weak2);
        show(&rt2, &book2, &weak2, id, false);
    });
}
