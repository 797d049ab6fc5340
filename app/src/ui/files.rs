//! Files in a conversation: "send quote" (the file picker, then a cancellable upload
//! with progress), and the attachment cards' "Open" and "Save as …".
//!
//! Like the controller, every callback returns at once: the picker lists folders on its
//! own thread, uploads and downloads run on tokio, and results come back through
//! [`on_ui`]. Nothing here logs a file name: quotes carry customers' names.
//!
//! "Open" decrypts into `<data-dir>/cache/open/<event>/<name>` (folders 0700, the file
//! 0600, like the profile) and hands that path to the desktop's opener (`xdg-open`). The
//! viewer may still read the file after Kontor quits, so the cache is emptied at the next
//! start rather than at exit.

use std::{
    cell::RefCell,
    path::{Path, PathBuf},
    sync::Arc,
};

use kontor_core::{CancellationToken, MessageBody};
use slint::{ComponentHandle, Weak};

use super::{
    AppWindow, Conversation, ErrorKind, FileType,
    controller::{Shared, core_error, load_messages, on_ui, show_error},
    file_picker::{self, Mode},
    format::Language,
    units,
};

thread_local! {
    /// The running upload's cancel handle (at most one at a time; the "Quote" button is
    /// disabled meanwhile). UI thread only: set when it starts, taken when it ends.
    static UPLOAD: RefCell<Option<CancellationToken>> = const { RefCell::new(None) };
}

/// Answers the file callbacks of the `Conversation` global.
pub(crate) fn wire(window: &AppWindow, shared: &Arc<Shared>) {
    let conv = window.global::<Conversation>();
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_pick_quote(move || pick_quote(&sh, &weak));
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_send_file(move |path| send_file(&sh, &weak, PathBuf::from(path.as_str())));
    }
    conv.on_cancel_upload(|| {
        UPLOAD.with(|u| {
            if let Some(token) = u.borrow().as_ref() {
                token.cancel();
            }
        })
    });
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_open_file(move |event_id, name| {
            open_file(&sh, &weak, event_id.to_string(), name.to_string())
        });
    }
    {
        let (sh, weak) = (shared.clone(), window.as_weak());
        conv.on_save_file(move |event_id, name| {
            save_as(&sh, &weak, event_id.to_string(), name.to_string())
        });
    }
    // Decrypted copies opened in an earlier run.
    let cache = open_cache(&shared.config().data_dir);
    shared.runtime().spawn(async move {
        if let Err(e) = tokio::fs::remove_dir_all(&cache).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot empty the cache of opened files: {e}");
        }
    });
}

/// What an attachment card shows besides the name: the size from the event ("" when the
/// sender gave none), the badge on its tile, and the type that colours the tile.
pub fn card(body: &MessageBody, lang: Language) -> (String, String, FileType) {
    match body {
        MessageBody::File {
            name, mime, size, ..
        } => (
            size.map(|s| units::human_size(s, lang)).unwrap_or_default(),
            units::badge(name),
            file_type(name, mime.as_deref()),
        ),
        _ => (String::new(), String::new(), FileType::Other),
    }
}

/// The kind of file, from its MIME type where that says enough, else its extension.
pub fn file_type(name: &str, mime: Option<&str>) -> FileType {
    let mime = mime.unwrap_or_default().to_ascii_lowercase();
    if mime.starts_with("image/") {
        return FileType::Image;
    }
    if mime == "application/pdf" {
        return FileType::Pdf;
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => FileType::Pdf,
        "doc" | "docx" | "odt" | "rtf" | "txt" | "md" => FileType::Document,
        "xls" | "xlsx" | "ods" | "csv" => FileType::Spreadsheet,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "heic" | "svg" => FileType::Image,
        "zip" | "gz" | "tgz" | "7z" | "rar" | "tar" | "xz" => FileType::Archive,
        _ => FileType::Other,
    }
}

/// "Send quote": the picker, then the upload of the chosen file.
fn pick_quote(shared: &Arc<Shared>, weak: &Weak<AppWindow>) {
    let Some(w) = weak.upgrade() else { return };
    let (sh, weak) = (shared.clone(), weak.clone());
    file_picker::open(&w, Mode::Open { filters: vec![] }, None, move |picked| {
        if let Some(path) = picked {
            send_file(&sh, &weak, path);
        }
    });
}

/// Uploads `path` into the open chat with the progress bar and a cancel handle; a
/// cancelled upload ends with the notice instead of an error.
fn send_file(shared: &Arc<Shared>, weak: &Weak<AppWindow>, path: PathBuf) {
    let (Some(kontor), Some(w)) = (shared.kontor(), weak.upgrade()) else {
        return;
    };
    let c = w.global::<Conversation>();
    let room = c.get_room_id().to_string();
    if room.is_empty() || UPLOAD.with(|u| u.borrow().is_some()) {
        return;
    }
    let token = CancellationToken::new();
    UPLOAD.with(|u| *u.borrow_mut() = Some(token.clone()));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    c.set_upload_cancelled(false);
    c.set_upload_name(name.into());
    c.set_upload_progress(0.0);
    let (sh, weak) = (shared.clone(), weak.clone());
    shared.runtime().spawn(async move {
        let result = kontor
            .send_file_cancellable(&room, &path, None, &token)
            .await;
        let cancelled = matches!(result, Err(kontor_core::Error::Cancelled));
        on_ui(&weak, move |w| {
            UPLOAD.with(|u| u.borrow_mut().take());
            let c = w.global::<Conversation>();
            c.set_upload_progress(-1.0);
            c.set_upload_cancelled(cancelled);
        });
        match result {
            Ok(_) => load_messages(&sh, &weak, room),
            Err(kontor_core::Error::Cancelled) => tracing::info!("upload cancelled by the user"),
            Err(e) => {
                let (k, d) = core_error(&e);
                show_error(&weak, k, d);
            }
        }
    });
}

/// "Save as …": the picker in save mode with the sender's file name, then the download
/// (decrypted, hash-checked by core) to the chosen path. The picker has already asked
/// before an existing file is replaced.
fn save_as(shared: &Arc<Shared>, weak: &Weak<AppWindow>, event_id: String, name: String) {
    let Some(w) = weak.upgrade() else { return };
    let (sh, weak) = (shared.clone(), weak.clone());
    let mode = Mode::Save {
        name: safe_name(&name),
    };
    file_picker::open(&w, mode, None, move |picked| {
        let (Some(path), Some(kontor)) = (picked, sh.kontor()) else {
            return;
        };
        sh.runtime().spawn(async move {
            match kontor.download(&event_id, &path).await {
                Ok(_) => {
                    let shown = path.display().to_string();
                    on_ui(&weak, move |w| {
                        w.global::<Conversation>().set_saved_path(shown.into())
                    });
                }
                Err(e) => {
                    let (k, d) = core_error(&e);
                    show_error(&weak, k, d);
                }
            }
        });
    });
}

/// "Open": decrypts the file into the private cache and hands it to the system's opener.
fn open_file(shared: &Arc<Shared>, weak: &Weak<AppWindow>, event_id: String, name: String) {
    let Some(kontor) = shared.kontor() else {
        return;
    };
    let cache = open_cache(&shared.config().data_dir);
    let weak = weak.clone();
    shared.runtime().spawn(async move {
        let prepared = {
            let (cache, event_id) = (cache.clone(), event_id.clone());
            tokio::task::spawn_blocking(move || prepare_open_path(&cache, &event_id, &name))
                .await
                .unwrap_or_else(|e| Err(std::io::Error::other(e)))
        };
        let path = match prepared {
            Ok(p) => p,
            Err(source) => {
                let e = kontor_core::Error::Io {
                    action: "cannot create",
                    path: cache,
                    source,
                };
                let (k, d) = core_error(&e);
                return show_error(&weak, k, d);
            }
        };
        if let Err(e) = kontor.download(&event_id, &path).await {
            let (k, d) = core_error(&e);
            return show_error(&weak, k, d);
        }
        if let Err(e) = set_mode(&path, 0o600) {
            tracing::warn!("cannot restrict an opened file: {e}");
        }
        let opened = tokio::process::Command::new("xdg-open")
            .arg(&path)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn();
        match opened {
            Ok(mut child) => match child.wait().await {
                Ok(status) if status.success() => {}
                Ok(status) => show_error(&weak, ErrorKind::CannotOpen, status.to_string()),
                Err(e) => show_error(&weak, ErrorKind::CannotOpen, e.to_string()),
            },
            Err(e) => show_error(&weak, ErrorKind::CannotOpen, format!("xdg-open: {e}")),
        }
    });
}

/// The cache of decrypted files handed to the opener.
pub(crate) fn open_cache(data_dir: &Path) -> PathBuf {
    data_dir.join("cache").join("open")
}

/// Creates `<cache>/<event>/` (0700, also every folder it creates on the way) and
/// returns the path for the file there, under the sender's name reduced to a plain
/// file name (no folders, no `..`).
pub(crate) fn prepare_open_path(
    cache: &Path,
    event_id: &str,
    name: &str,
) -> std::io::Result<PathBuf> {
    let event: String = event_id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect();
    let dir = cache.join(if event.is_empty() { "file" } else { &event });
    private_dir(&dir)?;
    // The parents existed or were just made 0700 by `private_dir`; the cache root too.
    set_mode(cache, 0o700)?;
    if let Some(parent) = cache.parent() {
        set_mode(parent, 0o700)?;
    }
    Ok(dir.join(safe_name(name)))
}

/// The sender's name as a plain file name: its last component, never empty or `..`.
pub(crate) fn safe_name(name: &str) -> String {
    let last = name
        .rsplit(['/', '\\'])
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    if last.is_empty() || last == "." || last == ".." {
        "file".into()
    } else {
        last
    }
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    set_mode(dir, 0o700)
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_mode(_path: &Path, _mode: u32) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_show_size_badge_and_type_per_language() {
        let body = MessageBody::File {
            name: "angebot-2025.pdf".into(),
            mime: Some("application/pdf".into()),
            size: Some(1_234_567),
            encrypted: true,
        };
        assert_eq!(
            card(&body, Language::German),
            ("1,2 MB".into(), "PDF".into(), FileType::Pdf)
        );
        assert_eq!(card(&body, Language::English).0, "1.2 MB");
        let unknown = MessageBody::File {
            name: "notiz".into(),
            mime: None,
            size: None,
            encrypted: true,
        };
        assert_eq!(
            card(&unknown, Language::English),
            (String::new(), String::new(), FileType::Other)
        );
    }

    #[test]
    fn file_types() {
        assert_eq!(file_type("x.bin", Some("image/png")), FileType::Image);
        assert_eq!(file_type("Kalkulation.XLSX", None), FileType::Spreadsheet);
        assert_eq!(file_type("brief.odt", None), FileType::Document);
        assert_eq!(file_type("fotos.zip", None), FileType::Archive);
        assert_eq!(file_type("README", None), FileType::Other);
    }

    #[test]
    fn names_from_senders_stay_inside_the_cache() {
        assert_eq!(safe_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_name("C:\\temp\\angebot.pdf"), "angebot.pdf");
        assert_eq!(safe_name(".."), "file");
        assert_eq!(safe_name(""), "file");
    }

    #[cfg(unix)]
    #[test]
    fn the_open_cache_is_private() {
        use std::os::unix::fs::PermissionsExt;
        let data = tempfile::tempdir().unwrap();
        let cache = open_cache(data.path());
        let path = prepare_open_path(&cache, "$abc/../def:x", "../angebot.pdf").unwrap();
        assert_eq!(path, cache.join("abcdefx").join("angebot.pdf"));
        for dir in [
            data.path().join("cache"),
            cache.clone(),
            cache.join("abcdefx"),
        ] {
            let mode = std::fs::metadata(&dir).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", dir.display());
        }
    }
}
