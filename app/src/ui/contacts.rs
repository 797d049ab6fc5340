//! The contact book's list: both books apart (work = consented, private = the rest), and
//! contact discovery ("find on Kontor"). Every book operation (sealed records, sled)
//! runs on a blocking tokio thread; the UI thread only installs the results.
//!
//! Discovery goes through the service, which checks the settings' gate first: switched
//! off, nothing reaches the identity server and the user is told (hiding the button is
//! not the rule). The identity server hands the work book only (a `&WorkBook` by type).

use std::sync::Arc;

use kontor_contacts::{Book, Contact};
use slint::{ComponentHandle, Model};

use super::{
    AppWindow, ContactItem, Contacts, Lock,
    context::{Ctx, empty, list},
    view::View,
};
use crate::service::consent::ConsentChanged;

/// Answers `Contacts.refresh` and `Contacts.discover`.
pub(crate) struct ContactsController {
    ctx: Ctx,
}

impl ContactsController {
    /// Wires the list's callbacks.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<ContactsController> {
        let me = Arc::new(ContactsController { ctx: ctx.clone() });
        let c = window.global::<Contacts>();
        c.set_work(empty::<ContactItem>());
        c.set_private(empty::<ContactItem>());
        c.set_identity_server(ctx.service.identity_server().unwrap_or_default().into());
        {
            let me = me.clone();
            c.on_refresh(move || me.refresh());
        }
        {
            let me = me.clone();
            c.on_discover(move || me.discover());
        }
        me
    }

    fn refresh(&self) {
        let b = match self.ctx.service.book() {
            Ok(b) => b,
            Err(e) => return tracing::debug!("no list: {e}"),
        };
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn_blocking(move || {
            let lists = b
                .list(Book::Work)
                .and_then(|w| Ok((w, b.list(Book::Private)?)));
            match lists {
                Ok((work, private)) => {
                    let work: Vec<_> = work.iter().map(|c| item(c, true)).collect();
                    let private: Vec<_> = private.iter().map(|c| item(c, false)).collect();
                    ctx.on_ui(move |w| {
                        if w.global::<Lock>().get_locked() {
                            return; // finished after the lock: shows nothing
                        }
                        let c = w.global::<Contacts>();
                        c.set_work(list(work));
                        c.set_private(list(private));
                    });
                }
                Err(e) => ctx.fail(e),
            }
        });
    }

    /// Discovery of the work book at the server the service's precedence names (the
    /// screen only shows it); refused by the service when switched off.
    fn discover(&self) {
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<Contacts>().set_discovering(true);
        }
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            match ctx.service.discover(None).await {
                Ok((_, report)) => {
                    let (looked_up, found) = (report.contacts, report.found);
                    ctx.on_ui(move |w| {
                        let c = w.global::<Contacts>();
                        c.set_discovering(false);
                        c.set_discovery_looked_up(i32::try_from(looked_up).unwrap_or(i32::MAX));
                        c.set_discovery_found(i32::try_from(found).unwrap_or(i32::MAX));
                        // A detail view open meanwhile shows the Matrix id just found.
                        c.invoke_reshow();
                        c.invoke_refresh();
                    });
                }
                Err(e) => {
                    ctx.on_ui(|w| w.global::<Contacts>().set_discovering(false));
                    ctx.fail(e);
                }
            }
        });
    }
}

/// A row of the list.
pub(crate) fn item(c: &Contact, work: bool) -> ContactItem {
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

impl View for ContactsController {
    fn name(&self) -> &'static str {
        "contacts"
    }

    /// A consent given or withdrawn in the chat moved the contact between the books.
    fn consent_changed(&self, _w: &AppWindow, _changed: &ConsentChanged) {
        self.refresh();
    }

    fn clear(&self, w: &AppWindow) {
        let c = w.global::<Contacts>();
        c.set_work(empty::<ContactItem>());
        c.set_private(empty::<ContactItem>());
        c.set_discovery_found(-1);
        c.set_discovery_looked_up(0);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let c = w.global::<Contacts>();
        let names = |m: slint::ModelRc<ContactItem>| -> Vec<String> {
            m.iter()
                .map(|i| format!("{}|{}", i.name, i.detail))
                .collect()
        };
        format!(
            "work={:?} private={:?} found={}",
            names(c.get_work()),
            names(c.get_private()),
            c.get_discovery_found()
        )
    }
}
