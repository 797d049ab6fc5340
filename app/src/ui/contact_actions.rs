//! The contact actions that reach outside the book: export of one person's data (GDPR
//! Art. 15/20) to a file, erasure (Art. 17) and contact discovery.
//!
//! Discovery hands the identity server the *work* book only (`ContactBook::work()`,
//! a `&WorkBook` by type, as `kontor contacts discover` does): nothing in this module
//! can pass it a private contact. Everything runs off the UI thread; errors come back as
//! an [`ErrorKind`] with the untranslated detail.

use std::{
    io::Write,
    os::unix::fs::OpenOptionsExt,
    path::{Path, PathBuf},
    rc::Rc,
    sync::Arc,
};

use kontor_contacts::{Discovery, DiscoveryReport, HttpIdentityService, OpenIdToken};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel, Weak};

use super::{
    AppWindow, ConsentLine, ContactItem, Contacts, ErrorKind, Screen, Session, contacts,
    controller::Shared,
};

/// Answers `Contacts.export`, `Contacts.erase` and `Contacts.discover`.
pub(crate) fn wire(window: &AppWindow, shared: &Arc<Shared>) {
    let c = window.global::<Contacts>();
    c.set_identity_server(
        std::env::var("KONTOR_IDENTITY_SERVER")
            .unwrap_or_default()
            .into(),
    );
    c.set_export_path(export_dir(shared).display().to_string().into());
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        c.on_export(move |id, format, path| {
            export(&sh, &weak, id.into(), format.into(), path.trim().into())
        });
    }
    {
        let weak = window.as_weak();
        c.on_choose_export_path(move || {
            let Some(win) = weak.upgrade() else { return };
            let selected = win.global::<Contacts>().get_selected();
            let name = file_name(&selected.name, &selected.id, "json");
            let weak = weak.clone();
            // The picker starts where the last one ended (no disk access here).
            super::file_picker::open(
                &win,
                super::file_picker::Mode::Save { name },
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
        let (sh, weak) = (shared.clone(), window.as_weak());
        c.on_erase(move |id| erase(&sh, &weak, id.into()));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        c.on_discover(move || {
            let Some(w) = weak.upgrade() else { return };
            let url = w
                .global::<Contacts>()
                .get_identity_server()
                .trim()
                .to_owned();
            discover(&sh, &weak, url);
        });
    }
}

/// The suggested export folder: the download folder the app saves files into.
fn export_dir(shared: &Shared) -> PathBuf {
    let config = shared.config();
    config.download_dir.clone().unwrap_or_else(|| {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join("Downloads"))
            .filter(|d| d.is_dir())
            .unwrap_or_else(|| config.data_dir.join("downloads"))
    })
}

fn show_error(weak: &Weak<AppWindow>, kind: ErrorKind, detail: String) {
    let _ = weak.upgrade_in_event_loop(move |w| {
        let s = w.global::<Session>();
        s.set_error(kind);
        s.set_error_detail(detail.into());
    });
}

fn export(shared: &Arc<Shared>, weak: &Weak<AppWindow>, id: String, format: String, to: PathBuf) {
    let Some(b) = contacts::book_of(shared.book()) else {
        return;
    };
    let weak = weak.clone();
    shared.runtime().spawn_blocking(move || {
        let result = (|| {
            let (_, contact) = b.get(&id)?;
            let (content, ext) = match format.as_str() {
                "vcard" => (b.export_vcard(&contact.id)?, "vcf"),
                "json" => (b.export_json(&contact.id)?, "json"),
                other => {
                    return Err(kontor_contacts::Error::InvalidArgument(format!(
                        "unknown export format {other:?} (vcard or json)"
                    )));
                }
            };
            let path = target(&to, &contact.display_name, &contact.id, ext);
            write_private(&path, content.as_bytes()).map_err(|source| {
                kontor_contacts::Error::Io {
                    path: path.clone(),
                    source,
                }
            })?;
            Ok::<_, kontor_contacts::Error>(path)
        })();
        match result {
            Ok(path) => {
                let shown = path.display().to_string();
                let _ = weak.upgrade_in_event_loop(move |w| {
                    w.global::<Contacts>().set_exported_file(shown.into())
                });
            }
            Err(e @ kontor_contacts::Error::Io { .. }) => {
                show_error(&weak, ErrorKind::File, e.to_string())
            }
            Err(e) => show_error(&weak, ErrorKind::Other, e.to_string()),
        }
    });
}

/// Where an export goes: into a folder (existing, or written with a trailing `/`) under
/// a name made from the contact's, never replacing a file there; else the path itself.
fn target(to: &Path, name: &str, id: &str, ext: &str) -> PathBuf {
    let is_dir = to.is_dir() || to.as_os_str().to_string_lossy().ends_with('/');
    if !is_dir {
        return to.to_owned();
    }
    super::models::free_path(to, &file_name(name, id, ext), |p| p.exists())
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

/// Writes personal data: mode 0600 from the first byte, complete or not at all (a
/// temporary file beside it, synced, then renamed over the target).
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir)?;
    let name = path
        .file_name()
        .ok_or_else(|| std::io::Error::other("not a file name"))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        name.to_string_lossy(),
        std::process::id()
    ));
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn erase(shared: &Arc<Shared>, weak: &Weak<AppWindow>, id: String) {
    let Some(b) = contacts::book_of(shared.book()) else {
        return;
    };
    let (rt, book, weak) = (
        shared.runtime().clone(),
        shared.book().clone(),
        weak.clone(),
    );
    shared.runtime().spawn_blocking(move || {
        if let Err(e) = b.erase(&id) {
            return show_error(&weak, ErrorKind::Other, e.to_string());
        }
        // The detail view's copy of the contact is a cache too: emptied before the list
        // is shown again.
        let _ = weak.upgrade_in_event_loop(|w| {
            forget_selected(&w);
            w.global::<Session>().set_screen(Screen::Contacts);
        });
        contacts::refresh(&rt, &book, &weak);
    });
}

/// Clears every property that held the selected contact.
fn forget_selected(w: &AppWindow) {
    let c = w.global::<Contacts>();
    c.set_selected(ContactItem::default());
    c.set_selected_purpose(SharedString::new());
    c.set_selected_reach(SharedString::new());
    c.set_selected_matrix_id(SharedString::new());
    c.set_selected_history(ModelRc::from(Rc::new(VecModel::<ConsentLine>::default())));
    c.set_exported_file(SharedString::new());
}

fn discover(shared: &Arc<Shared>, weak: &Weak<AppWindow>, url: String) {
    let (Some(b), Some(kontor)) = (contacts::book_of(shared.book()), shared.kontor()) else {
        return;
    };
    if let Some(w) = weak.upgrade() {
        w.global::<Contacts>().set_discovering(true);
    }
    let (rt, book, weak) = (
        shared.runtime().clone(),
        shared.book().clone(),
        weak.clone(),
    );
    shared.runtime().spawn(async move {
        let result: Result<DiscoveryReport, (ErrorKind, String)> = async {
            let service =
                HttpIdentityService::new(&url).map_err(|e| (ErrorKind::Other, e.to_string()))?;
            let token = kontor.openid_token().await.map_err(|e| {
                let kind = match e {
                    kontor_core::Error::Unreachable(_) => ErrorKind::Unreachable,
                    _ => ErrorKind::Other,
                };
                (kind, e.to_string())
            })?;
            // Field by field: the two crates do not depend on each other.
            let token = OpenIdToken {
                access_token: token.access_token,
                token_type: token.token_type,
                matrix_server_name: token.matrix_server_name,
                expires_in: token.expires_in,
            };
            // The work book only; the lookups write found Matrix ids into it (sled).
            let run = tokio::task::spawn_blocking({
                let b = b.clone();
                let h = tokio::runtime::Handle::current();
                move || h.block_on(Discovery::new(service).run(b.work(), &token))
            });
            match run.await {
                Ok(r) => r.map_err(|e| (ErrorKind::Other, format!("{url}: {e}"))),
                Err(e) => Err((ErrorKind::Other, e.to_string())),
            }
        }
        .await;
        match result {
            Ok(report) => {
                let (looked_up, found) = (report.contacts, report.found);
                let (rt2, book2, weak2) = (rt.clone(), book.clone(), weak.clone());
                let _ = weak.upgrade_in_event_loop(move |w| {
                    let c = w.global::<Contacts>();
                    c.set_discovering(false);
                    c.set_discovery_looked_up(i32::try_from(looked_up).unwrap_or(i32::MAX));
                    c.set_discovery_found(i32::try_from(found).unwrap_or(i32::MAX));
                    // A detail view open meanwhile shows the Matrix id just found.
                    let id = c.get_selected().id.to_string();
                    if !id.is_empty() {
                        contacts::show(&rt2, &book2, &weak2, id, false);
                    }
                });
                contacts::refresh(&rt, &book, &weak);
            }
            Err((kind, detail)) => {
                let _ =
                    weak.upgrade_in_event_loop(|w| w.global::<Contacts>().set_discovering(false));
                show_error(&weak, kind, detail);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_are_private_and_never_replace_a_file_in_a_folder() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let first = target(dir.path(), "Jürgen Müller / GmbH", "abcdef123456", "json");
        assert_eq!(first, dir.path().join("Jürgen-Müller-GmbH-abcdef12.json"));
        write_private(&first, b"{}").unwrap();
        let mode = std::fs::metadata(&first).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let second = target(dir.path(), "Jürgen Müller / GmbH", "abcdef123456", "json");
        assert_ne!(second, first);
        let file = dir.path().join("chosen.json");
        assert_eq!(target(&file, "x", "y", "json"), file);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
    }
}
