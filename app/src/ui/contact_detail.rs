//! One contact: consent and its history, grant and withdraw, and the actions that reach
//! outside the book: export of one person's data (GDPR Art. 15/20) to a file, the
//! consent proof (Art. 7(1)) as PDF and JSON, erasure (Art. 17). Book work runs on blocking threads; errors come back as kinds.
//! The page's chat side (account, chats, consent request) is `contact_chat`'s, which
//! is handed every contact shown here.

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use kontor_contacts::{Address, Book, ConsentStatus, ContactBook, Evidence, ImportEvidence};
use slint::{ComponentHandle, Model, SharedString};

use super::{
    AppWindow, ConsentKind, ConsentLine, ContactItem, Contacts, EvidenceKind, Screen, Session,
    contact_chat,
    contacts::item,
    context::{Ctx, empty, export_dir, list},
    file_picker, models,
    view::View,
};
use crate::service::consent::ConsentChanged;
use crate::service::{
    ServiceError,
    export::{self, ExportFormat},
    proof::{self, ProofFormat},
    quotes::{Quotes, concerns},
};

/// Answers the detail view's callbacks of `Contacts`.
pub(crate) struct ContactDetailController {
    ctx: Ctx,
}

impl ContactDetailController {
    /// Wires open, grant, withdraw, export, the consent proof and erase.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<ContactDetailController> {
        let me = Arc::new(ContactDetailController { ctx: ctx.clone() });
        let c = window.global::<Contacts>();
        c.set_export_path(export_dir(&me.ctx).display().to_string().into());
        {
            let me = me.clone();
            c.on_open(move |id| show(&me.ctx, id.to_string(), true));
        }
        {
            let me = me.clone();
            c.on_reshow(move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let id = w.global::<Contacts>().get_selected().id.to_string();
                if !id.is_empty() {
                    show(&me.ctx, id, false);
                }
            });
        }
        {
            let me = me.clone();
            c.on_grant(move |id, purpose| {
                let purpose = purpose.to_string();
                me.change(id.to_string(), move |b, id| {
                    b.grant(id, &purpose, None).map(|_| ())
                })
            });
        }
        {
            let me = me.clone();
            c.on_withdraw(move |id| {
                me.change(id.to_string(), |b, id| b.withdraw(id, None).map(|_| ()))
            });
        }
        {
            let me = me.clone();
            c.on_export(move |id, format, path| me.export(id.into(), &format, path.trim().into()));
        }
        {
            let me = me.clone();
            c.on_choose_export_path(move || {
                let Some(win) = me.ctx.weak.upgrade() else {
                    return;
                };
                let selected = win.global::<Contacts>().get_selected();
                let name = file_name(&selected.name, &selected.id, "json");
                let weak = me.ctx.weak.clone();
                // The picker starts where the last one ended (no disk access here).
                file_picker::open(
                    &win,
                    file_picker::Mode::Save { name },
                    None,
                    move |picked| {
                        if let (Some(path), Some(w)) = (picked, weak.upgrade()) {
                            w.global::<Contacts>()
                                .set_export_path(path.display().to_string().into());
                        }
                    },
                );
            });
        }
        {
            let me = me.clone();
            c.on_export_proof(move |id, path| me.export_proof(id.into(), path.trim().into()));
        }
        {
            let me = me.clone();
            c.on_erase(move |id| me.erase(id.into()));
        }
        me
    }

    fn change(
        &self,
        id: String,
        op: impl FnOnce(&ContactBook, &str) -> kontor_contacts::Result<()> + Send + 'static,
    ) {
        let b = match self.ctx.service.book() {
            Ok(b) => b,
            Err(e) => return self.ctx.fail(e),
        };
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn_blocking(move || {
            if let Err(e) = op(&b, &id) {
                return ctx.fail(e);
            }
            ctx.on_ui(|w| w.global::<Contacts>().invoke_refresh());
            show(&ctx, id, false);
        });
    }

    fn export(&self, id: String, format: &str, to: PathBuf) {
        let format = match ExportFormat::parse(format) {
            Ok(f) => f,
            Err(e) => return self.ctx.fail(e),
        };
        let b = match self.ctx.service.book() {
            Ok(b) => b,
            Err(e) => return self.ctx.fail(e),
        };
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn_blocking(move || {
            let result = (|| {
                let (_, contact) = b.get(&id)?;
                // Only JSON carries the quotes (the vCard is for address books).
                let quotes = match format {
                    ExportFormat::Json => device_quotes(&ctx)?,
                    ExportFormat::Vcard => None,
                };
                let content = format.render(&b, quotes.as_deref(), &contact.id)?;
                let path = target(&to, &contact.display_name, &contact.id, format.extension());
                export::write(&path, &content)?;
                Ok::<_, crate::service::ServiceError>(path)
            })();
            match result {
                Ok(path) => {
                    let shown = path.display().to_string();
                    ctx.on_ui(move |w| w.global::<Contacts>().set_exported_file(shown.into()));
                }
                Err(e) => ctx.fail(e),
            }
        });
    }

    /// The consent proof as PDF (labels in the UI's language) and JSON, made once so both
    /// files say the same, beside each other in the export folder.
    fn export_proof(&self, id: String, to: PathBuf) {
        let b = match self.ctx.service.book() {
            Ok(b) => b,
            Err(e) => return self.ctx.fail(e),
        };
        let ctx = self.ctx.clone();
        let language = self.ctx.language();
        self.ctx.rt().spawn_blocking(move || {
            let result = (|| {
                let made = b.consent_proof(&id)?;
                let p = &made.person;
                let mut written = Vec::new();
                for format in [ProofFormat::Pdf, ProofFormat::Json] {
                    let bytes = proof::render_proof(&made, format, language)?;
                    let ext = format!("consent-proof.{}", format.name());
                    let path = proof_target(&to, &p.name, &p.contact_id, &ext);
                    proof::write(&path, &bytes)?;
                    written.push(path.display().to_string());
                }
                Ok::<_, ServiceError>(written.join("\n"))
            })();
            match result {
                Ok(shown) => {
                    ctx.on_ui(move |w| w.global::<Contacts>().set_proof_files(shown.into()))
                }
                Err(e) => ctx.fail(e),
            }
        });
    }

    fn erase(&self, id: String) {
        let b = match self.ctx.service.book() {
            Ok(b) => b,
            Err(e) => return self.ctx.fail(e),
        };
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn_blocking(move || {
            let matrix_id = match b.get(&id) {
                Ok((_, c)) => c.matrix_id,
                Err(e) => return ctx.fail(e),
            };
            if let Err(e) = b.erase(&id) {
                return ctx.fail(e);
            }
            // Its quotes stay, as the confirmation said (service::quotes: § 147 AO,
            // § 257 HGB); only their link to the contact goes, here and on the account's
            // other devices. Without an account this device keeps no quotes to unlink.
            let service = ctx.service.clone();
            match ctx
                .rt()
                .block_on(service.unlink_contact_quotes(&id, matrix_id.as_deref()))
            {
                Ok(_) | Err(ServiceError::NotSignedIn) => {}
                Err(e) => ctx.fail(e),
            }
            // The detail view's copy of the contact is a cache too: emptied before the
            // list is shown again.
            ctx.on_ui(|w| {
                forget_selected(&w);
                w.global::<Session>().set_screen(Screen::Contacts);
                w.global::<Contacts>().invoke_refresh();
            });
        });
    }
}

/// The evidence of a consent entry as data for the view, which words it per kind in
/// the user's language (the library hands over kinds and values, never sentences).
fn evidence_fields(e: Option<&Evidence>) -> ConsentLine {
    let (kind, evidence, file, line) = match e {
        None => (EvidenceKind::None, String::new(), String::new(), 0),
        Some(Evidence::Text(t)) => (EvidenceKind::Text, t.clone(), String::new(), 0),
        Some(Evidence::Import(ImportEvidence::DeclaredForFile { file, purpose })) => (
            EvidenceKind::DeclaredForFile,
            purpose.clone(),
            file.clone(),
            0,
        ),
        Some(Evidence::Import(ImportEvidence::FileValue { file, line, value })) => (
            EvidenceKind::FileValue,
            value.clone(),
            file.clone(),
            i32::try_from(*line).unwrap_or(i32::MAX),
        ),
        Some(Evidence::Chat(chat)) => {
            let a = &chat.answer;
            let from = match &a.sender_device {
                Some(device) => format!("{} ({device})", a.sender),
                None => a.sender.clone(),
            };
            (EvidenceKind::Chat, a.text.clone(), from, 0)
        }
    };
    ConsentLine {
        evidence_kind: kind,
        evidence: evidence.into(),
        evidence_file: file.into(),
        evidence_line: line,
        ..ConsentLine::default()
    }
}

/// A postal address as people write it (German order: street, postcode and town),
/// with its type label from the source first.
pub(crate) fn address_block(a: &Address) -> String {
    let town = [a.postal_code.as_str(), a.locality.as_str()]
        .iter()
        .filter(|p| !p.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    [
        a.kind.as_deref().unwrap_or_default(),
        &a.po_box,
        &a.extended,
        &a.street,
        &town,
        &a.region,
        &a.country,
    ]
    .iter()
    .filter(|p| !p.trim().is_empty())
    .copied()
    .collect::<Vec<_>>()
    .join("\n")
}

fn kind(s: ConsentStatus) -> ConsentKind {
    match s {
        ConsentStatus::Granted => ConsentKind::Granted,
        ConsentStatus::None => ConsentKind::None,
        ConsentStatus::Withdrawn => ConsentKind::Withdrawn,
    }
}

/// Shows a contact in the detail view (and goes there with `navigate`).
fn show(ctx: &Ctx, id: String, navigate: bool) {
    let b = match ctx.service.book() {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let ctx = ctx.clone();
    ctx.rt().clone().spawn_blocking(move || match b.get(&id) {
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
                    ..evidence_fields(e.evidence.as_ref())
                })
                .collect();
            // Quotes to either account of theirs count (sent in the chat, or written for
            // the account discovery found).
            let quotes = match device_quotes(&ctx).and_then(|q| match q {
                Some(q) => Ok(q
                    .all()?
                    .iter()
                    .filter(|r| {
                        [contact.matrix_id.as_deref(), contact.chat_id.as_deref()]
                            .into_iter()
                            .any(|account| concerns(r, &contact.id, account))
                    })
                    .count()),
                None => Ok(0),
            }) {
                Ok(n) => i32::try_from(n).unwrap_or(i32::MAX),
                Err(e) => {
                    // The contact still shows; the erase confirmation then names no
                    // number.
                    tracing::warn!("the contact's quotes could not be counted: {e}");
                    0
                }
            };
            let matrix_id = contact.matrix_id.clone().unwrap_or_default();
            let title = contact.title.clone().unwrap_or_default();
            let addresses: Vec<SharedString> = contact
                .addresses
                .iter()
                .map(|a| address_block(a).into())
                .collect();
            ctx.on_ui(move |w| {
                if w.global::<super::Lock>().get_locked() {
                    return; // finished after the lock: shows nothing
                }
                let c = w.global::<Contacts>();
                if c.get_selected().id != selected.id {
                    c.set_exported_file(Default::default());
                    c.set_proof_files(Default::default());
                }
                c.set_selected_matrix_id(matrix_id.into());
                c.set_selected_quotes(quotes);
                c.set_selected(selected);
                c.set_selected_status(status);
                c.set_selected_purpose(purpose.into());
                c.set_selected_reach(reach.join("\n").into());
                c.set_selected_title(title.into());
                c.set_selected_addresses(list(addresses));
                c.set_selected_history(list(history));
                if navigate {
                    w.global::<Session>().set_screen(Screen::ContactDetail);
                }
            });
            // After `selected` is set: the chat side checks it is still this contact.
            contact_chat::show(&ctx, &contact);
        }
        Err(e) => ctx.fail(e),
    });
}

/// The device's quotes, for a person's export, erasure and count: `None` while no
/// account is signed in (the store's key comes from the profile, so there are none to
/// read). Opens the store on first use: call off the UI thread.
fn device_quotes(ctx: &Ctx) -> Result<Option<Arc<Quotes>>, ServiceError> {
    match ctx.service.quotes() {
        Ok(q) => Ok(Some(q)),
        Err(ServiceError::NotSignedIn) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Where an export goes: into a folder (existing, or written with a trailing `/`) under
/// a name made from the contact's, never replacing a file there; else the path itself.
fn target(to: &Path, name: &str, id: &str, ext: &str) -> PathBuf {
    let is_dir = to.is_dir() || to.as_os_str().to_string_lossy().ends_with('/');
    if !is_dir {
        return to.to_owned();
    }
    models::free_path(to, &file_name(name, id, ext), |p| p.exists())
}

/// Where a proof goes: into the export folder, or the folder of the export file (whose
/// export it must not replace), under a name made from the contact's, never replacing
/// a file there.
fn proof_target(to: &Path, name: &str, id: &str, ext: &str) -> PathBuf {
    let is_dir = to.is_dir() || to.as_os_str().to_string_lossy().ends_with('/');
    let dir = if is_dir {
        to
    } else {
        (to.parent())
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
    };
    target(&dir.join(""), name, id, ext)
}

/// An export's file name from the contact's name (letters and digits kept) and id.
fn file_name(name: &str, id: &str, ext: &str) -> String {
    let stem: String = name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let short: String = id.chars().take(8).collect();
    format!(
        "{}-{short}.{ext}",
        if stem.is_empty() { "contact" } else { &stem }
    )
}

/// Clears every property that held the selected contact.
fn forget_selected(w: &AppWindow) {
    let c = w.global::<Contacts>();
    c.set_selected(ContactItem::default());
    c.set_selected_purpose(SharedString::new());
    c.set_selected_reach(SharedString::new());
    c.set_selected_title(SharedString::new());
    c.set_selected_addresses(empty::<SharedString>());
    c.set_selected_matrix_id(SharedString::new());
    c.set_selected_quotes(0);
    c.set_selected_history(empty::<ConsentLine>());
    c.set_exported_file(SharedString::new());
    c.set_proof_files(SharedString::new());
}

impl View for ContactDetailController {
    fn name(&self) -> &'static str {
        "contact-detail"
    }

    /// The contact shown answered in the chat: its status, book and history change.
    fn consent_changed(&self, w: &AppWindow, changed: &ConsentChanged) {
        if w.global::<Contacts>().get_selected().id == changed.contact_id.as_str() {
            show(&self.ctx, changed.contact_id.clone(), false);
        }
    }

    fn clear(&self, w: &AppWindow) {
        forget_selected(w);
        // A chosen export path may name the contact: back to the default folder.
        w.global::<Contacts>()
            .set_export_path(export_dir(&self.ctx).display().to_string().into());
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let c = w.global::<Contacts>();
        let s = c.get_selected();
        let history: Vec<String> = c
            .get_selected_history()
            .iter()
            .map(|l| format!("{}|{}|{}", l.at, l.purpose, l.evidence))
            .collect();
        format!(
            "selected={}|{}|{} purpose={} reach={} title={} addresses={} matrix={} quotes={} history={history:?} exported={} proof={}",
            s.id,
            s.name,
            s.detail,
            c.get_selected_purpose(),
            c.get_selected_reach(),
            c.get_selected_title(),
            c.get_selected_addresses().row_count(),
            c.get_selected_matrix_id(),
            c.get_selected_quotes(),
            c.get_exported_file(),
            c.get_proof_files()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_read_as_written_and_evidence_is_data() {
        let a = Address {
            kind: Some("work".into()),
            street: "Hauptstraße 5".into(),
            postal_code: "10115".into(),
            locality: "Berlin".into(),
            country: "Deutschland".into(),
            ..Address::default()
        };
        assert_eq!(
            address_block(&a),
            "work\nHauptstraße 5\n10115 Berlin\nDeutschland"
        );
        let e = Evidence::Import(ImportEvidence::FileValue {
            file: "kunden.vcf".into(),
            line: 17,
            value: "ja".into(),
        });
        let line = evidence_fields(Some(&e));
        assert_eq!(line.evidence_kind, EvidenceKind::FileValue);
        assert_eq!(
            (
                line.evidence_file.as_str(),
                line.evidence_line,
                line.evidence.as_str()
            ),
            ("kunden.vcf", 17, "ja")
        );
        assert_eq!(evidence_fields(None).evidence_kind, EvidenceKind::None);
    }

    #[test]
    fn exports_are_private_and_never_replace_a_file_in_a_folder() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = target(dir.path(), "Jürgen Müller / GmbH", "abcdef123456", "json");
        assert_eq!(first, dir.path().join("Jürgen-Müller-GmbH-abcdef12.json"));
        crate::service::fs::write_private(&first, b"{}").unwrap();
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = target(dir.path(), "Jürgen Müller / GmbH", "abcdef123456", "json");
        assert_ne!(second, first);
        let file = dir.path().join("chosen.json");
        assert_eq!(target(&file, "x", "y", "json"), file);
        // A proof never replaces the export file chosen: it goes beside it.
        assert_eq!(
            proof_target(&file, "Jürgen Müller", "abcdef123456", "consent-proof.pdf"),
            dir.path().join("Jürgen-Müller-abcdef12.consent-proof.pdf")
        );
        assert_eq!(
            proof_target(
                dir.path(),
                "Jürgen Müller",
                "abcdef123456",
                "consent-proof.pdf"
            ),
            dir.path().join("Jürgen-Müller-abcdef12.consent-proof.pdf")
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
