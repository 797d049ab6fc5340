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
    path::{Path, PathBuf},
    sync::{Arc, Mutex},
};

use kontor_core::CancellationToken;
use slint::ComponentHandle;

use super::{
    AppWindow, Conversation, ErrorKind,
    context::Ctx,
    file_picker::{self, Mode},
    timeline::Timeline,
};

/// The file actions of the open conversation.
pub(crate) struct Files {
    ctx: Ctx,
    timeline: Arc<Timeline>,
    /// The running upload's cancel handle (at most one at a time; the "Quote" button is
    /// disabled meanwhile): set when it starts, taken when it ends.
    upload: Mutex<Option<CancellationToken>>,
}

/// Answers the file callbacks of the `Conversation` global.
pub(crate) fn wire(window: &AppWindow, ctx: &Ctx, timeline: &Arc<Timeline>) -> Arc<Files> {
    let me = Arc::new(Files {
        ctx: ctx.clone(),
        timeline: timeline.clone(),
        upload: Mutex::new(None),
    });
    let conv = window.global::<Conversation>();
    {
        let me = me.clone();
        conv.on_pick_quote(move || me.pick_quote());
    }
    {
        let me = me.clone();
        conv.on_send_file(move |path| me.send_file(PathBuf::from(path.as_str())));
    }
    {
        let me = me.clone();
        conv.on_cancel_upload(move || {
            if let Some(token) = me.upload().as_ref() {
                token.cancel();
            }
        });
    }
    {
        let me = me.clone();
        conv.on_open_file(move |event_id, name| {
            me.open_file(event_id.to_string(), name.to_string())
        });
    }
    {
        let me = me.clone();
        conv.on_save_file(move |event_id, name| me.save_as(event_id.to_string(), name.to_string()));
    }
    // Decrypted copies opened in an earlier run.
    let cache = open_cache(&ctx.config.data_dir);
    ctx.rt().spawn(async move {
        if let Err(e) = tokio::fs::remove_dir_all(&cache).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot empty the cache of opened files: {e}");
        }
    });
    me
}

impl Files {
    /// "Send quote": the picker, then the upload of the chosen file.
    fn pick_quote(self: &Arc<Self>) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let me = self.clone();
        file_picker::open(&w, Mode::Open { filters: vec![] }, None, move |picked| {
            if let Some(path) = picked {
                me.send_file(path);
            }
        });
    }

    fn upload(&self) -> std::sync::MutexGuard<'_, Option<CancellationToken>> {
        self.upload.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Uploads `path` into the open chat with the progress bar and a cancel handle; a
    /// cancelled upload ends with the notice instead of an error.
    fn send_file(self: &Arc<Self>, path: PathBuf) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let c = w.global::<Conversation>();
        let room = c.get_room_id().to_string();
        if room.is_empty() || !self.ctx.service.signed_in() || self.upload().is_some() {
            return;
        }
        let token = CancellationToken::new();
        *self.upload() = Some(token.clone());
        // However the upload ends (done, failed, or dropped by a sign-out), the next one
        // must be possible: the guard goes with the task and resets what it left behind.
        let end = UploadEnd(self.clone());
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        c.set_upload_cancelled(false);
        c.set_upload_name(name.into());
        c.set_upload_progress(0.0);
        let me = self.clone();
        let started = self.ctx.service.spawn(move |kontor| async move {
            let _end = end;
            let result = kontor
                .send_file_cancellable(&room, &path, None, &token)
                .await;
            let cancelled = matches!(result, Err(kontor_core::Error::Cancelled));
            me.upload().take();
            me.ctx.on_ui(move |w| {
                let c = w.global::<Conversation>();
                c.set_upload_progress(-1.0);
                c.set_upload_cancelled(cancelled);
            });
            match result {
                Ok(_) => me.timeline.load_newest(room),
                Err(kontor_core::Error::Cancelled) => {
                    tracing::info!("upload cancelled by the user")
                }
                Err(e) => me.ctx.fail(e),
            }
        });
        if !started {
            self.upload().take();
        }
    }

    /// "Save as …": the picker in save mode with the sender's file name, then the download
    /// (decrypted, hash-checked by core) to the chosen path. The picker has already asked
    /// before an existing file is replaced.
    fn save_as(&self, event_id: String, name: String) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let ctx = self.ctx.clone();
        let mode = Mode::Save {
            name: safe_name(&name),
        };
        file_picker::open(&w, mode, None, move |picked| {
            let Some(path) = picked else {
                return;
            };
            let ctx2 = ctx.clone();
            ctx.service.spawn(move |kontor| async move {
                match kontor.download(&event_id, &path).await {
                    Ok(_) => {
                        let shown = path.display().to_string();
                        ctx2.on_ui(move |w| {
                            w.global::<Conversation>().set_saved_path(shown.into())
                        });
                    }
                    Err(e) => ctx2.fail(e),
                }
            });
        });
    }

    /// "Open": decrypts the file into the private cache and hands it to the system's opener.
    fn open_file(&self, event_id: String, name: String) {
        let cache = open_cache(&self.ctx.config.data_dir);
        let ctx = self.ctx.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let prepared = {
                let (cache, event_id) = (cache.clone(), event_id.clone());
                tokio::task::spawn_blocking(move || prepare_open_path(&cache, &event_id, &name))
                    .await
                    .unwrap_or_else(|e| Err(std::io::Error::other(e)))
            };
            let path = match prepared {
                Ok(p) => p,
                Err(source) => {
                    return ctx.fail(kontor_core::Error::Io {
                        action: "cannot create",
                        path: cache,
                        source,
                    });
                }
            };
            if let Err(e) = kontor.download(&event_id, &path).await {
                return ctx.fail(e);
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
            let failure = match opened {
                Ok(mut child) => match child.wait().await {
                    Ok(status) if status.success() => None,
                    Ok(status) => Some(status.to_string()),
                    Err(e) => Some(e.to_string()),
                },
                Err(e) => Some(format!("xdg-open: {e}")),
            };
            if let Some(detail) = failure {
                tracing::warn!("the opener failed: {detail}");
                ctx.fail(ErrorKind::CannotOpen);
            }
        });
    }
}

/// Resets the upload state when the upload's task is dropped before it could (a
/// sign-out cancels it): no token left behind, no progress bar.
struct UploadEnd(Arc<Files>);

impl Drop for UploadEnd {
    fn drop(&mut self) {
        if self.0.upload().take().is_some() {
            self.0.ctx.on_ui(|w| {
                let c = w.global::<Conversation>();
                c.set_upload_progress(-1.0);
                c.set_upload_name(Default::default());
            });
        }
    }
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
