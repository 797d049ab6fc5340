//! Kontor's own file picker (`app/ui/file_picker.slint`): open an existing file (optionally
//! only some extensions) or choose where to save one, with an overwrite question.
//!
//! # Why not the system's dialog
//! The usual crate, `rfd`, shows GTK 3's dialog on Linux (libgtk-3 at build *and* run time)
//! or, with its `xdg-portal` feature, asks `xdg-desktop-portal` over the D-Bus session
//! bus. A freelancer's phone image, a minimal desktop, a CI machine or Xvfb often has
//! neither: the dialog then fails at run time, and no headless test can ever drive it, so
//! "send a quote" and "save as" would be the two untested paths of the app. This picker is
//! plain Slint, works the same at 360 px and on a desktop, speaks the app's language, and
//! the UI tests drive it through accessible labels like every other screen.
//!
//! # Using it from another screen
//! ```text
//! file_picker::open(&window, Mode::Open { filters: vec!["vcf".into(), "csv".into()] },
//!     None, move |picked| if let Some(path) = picked { /* start the import */ });
//! ```
//! [`open`] returns at once; `on_pick` runs later on the UI thread with the chosen path,
//! or `None` when the user cancelled (or another [`open`] replaced this one, or the lock
//! closed it). It must not block: hand disk or network work to tokio like every other
//! callback. It may open the picker again.
//!
//! # Where the state lives
//! The controller, `Picker`, owns the picker's state (UI thread only, so an
//! `Rc<RefCell<…>>`: it holds the caller's `on_pick`, which need not be `Send`) and shares
//! it with nothing but the handlers `wire` installs on the `FilePicker` global; nothing
//! is kept per thread. [`open`] reaches it through that global like any other screen
//! asks a controller: it raises the internal `FilePicker.show` with a `Request`, a Slint
//! model with no rows whose Rust type carries the mode, the start folder and `on_pick`;
//! the handler gets it back with `Model::as_any` (Slint's way to recover a Rust model)
//! and takes them out. (Plain Slint values could carry neither `on_pick` nor a path that
//! is not UTF-8.)
//!
//! # Threading
//! Directory listings and the checks behind "Open" / "Save" (does that path exist? is it a
//! folder?) run on a short-lived thread of their own, so the picker needs no runtime from
//! its caller and the UI thread never touches the disk. The thread puts its `Answer`
//! into the controller's mailbox (an `Arc<Mutex<…>>`, the one part it may touch) and
//! raises the internal `FilePicker.listed` through `upgrade_in_event_loop`; that handler
//! empties the mailbox on the UI thread. An answer that arrives after the user moved on
//! (another folder, picker closed) is recognised by a generation counter and dropped.

use std::{
    any::Any,
    cell::RefCell,
    path::{Path, PathBuf},
    rc::Rc,
    sync::{Arc, Mutex},
};

use slint::{ComponentHandle, Model, ModelRc, ModelTracker, SharedString, VecModel, Weak};

use super::{
    AppWindow, FilePicker, PickerEntry, PickerMode, PickerProblem, Session,
    context::lock,
    format::Language,
    units::{badge, human_size},
};

/// What the picker is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Mode {
    /// Choose an existing file. `filters`: extensions without the dot, compared ignoring
    /// case, of the files listed (folders are always listed); empty lists every file.
    Open {
        /// Extensions shown, e.g. `["vcf", "csv"]`.
        filters: Vec<String>,
    },
    /// Choose where to write a file. `name` is suggested in the name field; a path that
    /// exists is only returned after the user agreed to replace it.
    Save {
        /// The suggested file name (e.g. the name the sender gave the attachment).
        name: String,
    },
}

type OnPick = Box<dyn FnOnce(Option<PathBuf>)>;

/// What [`open`] asks the controller for.
struct Opening {
    mode: Mode,
    /// `None`: where the last picker ended, else the home directory.
    start_dir: Option<PathBuf>,
    on_pick: OnPick,
}

/// An [`Opening`] on its way through `FilePicker.show`: a model with no rows (so it can be
/// the callback's argument); the handler downcasts it and takes the opening out.
struct Request(RefCell<Option<Opening>>);

impl Model for Request {
    type Data = i32;

    fn row_count(&self) -> usize {
        0
    }

    fn row_data(&self, _row: usize) -> Option<i32> {
        None
    }

    fn model_tracker(&self) -> &dyn ModelTracker {
        &()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The picker shown now.
struct Shown {
    mode: Mode,
    /// The directory listed now (absolute).
    dir: PathBuf,
    on_pick: OnPick,
    /// Save mode: the existing file the overwrite question is about.
    pending: Option<PathBuf>,
    lang: Language,
}

/// What the picker remembers between callbacks.
#[derive(Default)]
struct State {
    /// `None` while no picker is shown.
    shown: Option<Shown>,
    /// Where the last picker ended, so the next one starts there.
    last_dir: Option<PathBuf>,
    /// Bumped by every request that makes earlier background answers stale.
    generation: u64,
}

/// What a typed path is, found out off the UI thread.
enum Kind {
    Dir,
    File,
    /// Nothing there; `bool`: its parent folder exists (a new file can go there).
    Missing(bool),
}

/// A background job's answer, waiting in the mailbox for `FilePicker.listed`.
enum Answer {
    /// The entries of `dir` (made canonical where it could be).
    Listing {
        generation: u64,
        dir: PathBuf,
        listed: std::io::Result<Vec<Listed>>,
    },
    /// What the typed `path` turned out to be ("Open" / "Save").
    Checked {
        generation: u64,
        path: PathBuf,
        kind: Kind,
    },
}

/// The picker's controller. Clones share one state; they live in the handlers of the
/// `FilePicker` global, on the UI thread.
#[derive(Clone)]
struct Picker {
    weak: Weak<AppWindow>,
    state: Rc<RefCell<State>>,
    /// Answers of the background threads, read by the `FilePicker.listed` handler.
    mailbox: Arc<Mutex<Vec<Answer>>>,
}

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
}

/// Shows the picker over the current screen. `start_dir`: where it opens; `None` starts
/// where the last picker ended, else in the home directory. See the module docs.
pub fn open(
    window: &AppWindow,
    mode: Mode,
    start_dir: Option<&Path>,
    on_pick: impl FnOnce(Option<PathBuf>) + 'static,
) {
    let g = window.global::<FilePicker>();
    // Another picker still open: its caller hears "cancelled" (before this one is shown,
    // so that caller may open a picker again right away).
    g.invoke_cancel();
    let request = Rc::new(Request(RefCell::new(Some(Opening {
        mode,
        start_dir: start_dir.map(Path::to_owned),
        on_pick: Box::new(on_pick),
    }))));
    g.invoke_show(ModelRc::from(request.clone()));
    // Not taken (no controller wired, or the window is gone): the caller hears
    // "cancelled" rather than nothing.
    let left = request.0.borrow_mut().take();
    if let Some(opening) = left {
        (opening.on_pick)(None);
    }
}

/// True while a picker is shown.
pub fn is_open(window: &AppWindow) -> bool {
    window.global::<FilePicker>().get_visible()
}

/// The picker as a registered view: the lock closes it (its caller hears "cancelled"),
/// since it shows the user's folders.
pub(crate) struct PickerView;

impl super::view::View for PickerView {
    fn name(&self) -> &'static str {
        "file-picker"
    }

    fn clear(&self, w: &AppWindow) {
        // The controller's cancel: closes the picker and tells its caller `None`.
        let g = w.global::<FilePicker>();
        g.invoke_cancel();
        g.set_visible(false);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let g = w.global::<FilePicker>();
        format!(
            "visible={} entries={}",
            g.get_visible(),
            g.get_entries().row_count()
        )
    }
}

/// Builds the controller and installs the callbacks of the `FilePicker` global (once,
/// when the window is built); the handlers own the controller from then on.
pub(crate) fn wire(window: &AppWindow) {
    let picker = Picker {
        weak: window.as_weak(),
        state: Rc::default(),
        mailbox: Arc::default(),
    };
    let g = window.global::<FilePicker>();
    {
        let p = picker.clone();
        g.on_show(move |request| {
            let Some(w) = p.weak.upgrade() else { return };
            let opening = request
                .as_any()
                .downcast_ref::<Request>()
                .and_then(|r| r.0.borrow_mut().take());
            if let Some(opening) = opening {
                p.show(&w, opening);
            }
        });
    }
    {
        let p = picker.clone();
        g.on_listed(move || {
            if let Some(w) = p.weak.upgrade() {
                p.read_mailbox(&w);
            }
        });
    }
    {
        let p = picker.clone();
        g.on_enter(move |target| {
            if let Some(w) = p.weak.upgrade() {
                let dir = p.resolve(&w, target.as_str());
                p.list(&w, dir);
            }
        });
    }
    {
        let p = picker.clone();
        g.on_up(move || {
            if let Some(w) = p.weak.upgrade() {
                let parent = p
                    .with_shown(|s| s.dir.parent().map(Path::to_owned))
                    .flatten();
                if let Some(parent) = parent {
                    p.list(&w, parent);
                }
            }
        });
    }
    {
        let p = picker.clone();
        g.on_home(move || {
            if let (Some(w), Some(h)) = (p.weak.upgrade(), home()) {
                p.list(&w, h);
            }
        });
    }
    {
        let p = picker.clone();
        g.on_choose(move |name| {
            if let Some(w) = p.weak.upgrade() {
                p.choose(&w, name.as_str());
            }
        });
    }
    {
        let p = picker.clone();
        g.on_accept(move || {
            if let Some(w) = p.weak.upgrade() {
                p.accept(&w);
            }
        });
    }
    {
        let p = picker.clone();
        g.on_overwrite(move |replace| {
            let Some(w) = p.weak.upgrade() else { return };
            w.global::<FilePicker>().set_confirm_overwrite(false);
            let pending = p.with_shown(|s| s.pending.take()).flatten();
            if replace && let Some(path) = pending {
                p.finish(&w, Some(path));
            }
        });
    }
    g.on_cancel(move || {
        if let Some(w) = picker.weak.upgrade() {
            picker.finish(&w, None);
        }
    });
}

impl Picker {
    /// Runs `f` on the picker shown now, if any. `f` must not call back into `self`.
    fn with_shown<T>(&self, f: impl FnOnce(&mut Shown) -> T) -> Option<T> {
        self.state.borrow_mut().shown.as_mut().map(f)
    }

    fn next_generation(&self) -> u64 {
        let mut s = self.state.borrow_mut();
        s.generation += 1;
        s.generation
    }

    fn current_generation(&self) -> u64 {
        self.state.borrow().generation
    }

    /// Shows the picker for `opening` (`FilePicker.show`).
    fn show(&self, w: &AppWindow, opening: Opening) {
        // Another picker still open: its caller hears "cancelled".
        self.finish(w, None);
        let Opening {
            mode,
            start_dir,
            on_pick,
        } = opening;
        let last_dir = self.state.borrow().last_dir.clone();
        let dir = start_dir
            .or(last_dir)
            .or_else(home)
            .unwrap_or_else(|| PathBuf::from("/"));
        let lang = Language::from_code(&w.global::<Session>().get_language());
        let g = w.global::<FilePicker>();
        match &mode {
            Mode::Open { filters } => {
                g.set_mode(PickerMode::Open);
                g.set_file_name(SharedString::new());
                g.set_filter_label(
                    filters
                        .iter()
                        .map(|f| format!(".{}", f.to_lowercase()))
                        .collect::<Vec<_>>()
                        .join(", ")
                        .into(),
                );
            }
            Mode::Save { name } => {
                g.set_mode(PickerMode::Save);
                g.set_file_name(name.into());
                g.set_filter_label(SharedString::new());
            }
        }
        g.set_problem(PickerProblem::None);
        g.set_confirm_overwrite(false);
        g.set_dir(dir.display().to_string().into());
        g.set_entries(ModelRc::from(Rc::new(VecModel::<PickerEntry>::default())));
        g.set_visible(true);
        self.state.borrow_mut().shown = Some(Shown {
            mode,
            dir: dir.clone(),
            on_pick,
            pending: None,
            lang,
        });
        self.list(w, dir);
    }

    /// Closes the picker and tells its caller `result`.
    fn finish(&self, w: &AppWindow, result: Option<PathBuf>) {
        let shown = {
            let mut s = self.state.borrow_mut();
            s.generation += 1;
            let shown = s.shown.take();
            if let Some(shown) = &shown {
                s.last_dir = Some(shown.dir.clone());
            }
            shown
        };
        let Some(shown) = shown else {
            return;
        };
        let g = w.global::<FilePicker>();
        g.set_visible(false);
        g.set_confirm_overwrite(false);
        g.set_loading(false);
        g.set_entries(ModelRc::from(Rc::new(VecModel::<PickerEntry>::default())));
        (shown.on_pick)(result);
    }

    /// A typed name or path: absolute as is, `~/…` under home, else in the current folder.
    fn resolve(&self, w: &AppWindow, text: &str) -> PathBuf {
        let text = text.trim();
        if let Some(rest) = text.strip_prefix("~/")
            && let Some(h) = home()
        {
            return h.join(rest);
        }
        let p = Path::new(text);
        if p.is_absolute() {
            return p.to_owned();
        }
        let dir = self
            .with_shown(|s| s.dir.clone())
            .unwrap_or_else(|| PathBuf::from(w.global::<FilePicker>().get_dir().as_str()));
        dir.join(p)
    }

    /// A row was chosen: folders open, files are picked (open) or named (save).
    fn choose(&self, w: &AppWindow, name: &str) {
        let g = w.global::<FilePicker>();
        let entries = g.get_entries();
        let Some(entry) = entries.iter().find(|e| e.name == name) else {
            return;
        };
        let Some((dir, save)) =
            self.with_shown(|s| (s.dir.clone(), matches!(s.mode, Mode::Save { .. })))
        else {
            return;
        };
        let path = dir.join(name);
        if entry.dir {
            self.list(w, path);
        } else if save {
            g.set_file_name(name.into());
            g.set_problem(PickerProblem::None);
            g.set_confirm_overwrite(false);
        } else {
            self.finish(w, Some(path));
        }
    }

    /// "Open" / "Save" (or Enter): checks the typed name off the UI thread, then picks it,
    /// opens the folder it names, asks before replacing, or says what is wrong.
    fn accept(&self, w: &AppWindow) {
        let g = w.global::<FilePicker>();
        let text = g.get_file_name();
        if text.trim().is_empty() {
            g.set_problem(PickerProblem::EmptyName);
            return;
        }
        let path = self.resolve(w, &text);
        let generation = self.current_generation();
        let (weak, mailbox) = (self.weak.clone(), self.mailbox.clone());
        self.background(move || {
            let kind = match std::fs::metadata(&path) {
                Ok(m) if m.is_dir() => Kind::Dir,
                Ok(_) => Kind::File,
                Err(_) => Kind::Missing(path.parent().is_some_and(Path::is_dir)),
            };
            deliver(
                &weak,
                &mailbox,
                Answer::Checked {
                    generation,
                    path,
                    kind,
                },
            );
        });
    }

    /// Lists `dir` off the UI thread and shows it.
    fn list(&self, w: &AppWindow, dir: PathBuf) {
        let generation = self.next_generation();
        let Some(filters) = self.with_shown(|s| match &s.mode {
            Mode::Open { filters } => filters.iter().map(|f| f.to_lowercase()).collect(),
            Mode::Save { .. } => Vec::new(),
        }) else {
            return;
        };
        let g = w.global::<FilePicker>();
        g.set_loading(true);
        g.set_problem(PickerProblem::None);
        g.set_confirm_overwrite(false);
        let (weak, mailbox) = (self.weak.clone(), self.mailbox.clone());
        self.background(move || {
            let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
            let listed = read_listing(&dir, &filters);
            deliver(
                &weak,
                &mailbox,
                Answer::Listing {
                    generation,
                    dir,
                    listed,
                },
            );
        });
    }

    /// `FilePicker.listed`: takes every answer waiting in the mailbox, in order.
    fn read_mailbox(&self, w: &AppWindow) {
        let answers = std::mem::take(&mut *lock(&self.mailbox));
        for answer in answers {
            match answer {
                Answer::Listing {
                    generation,
                    dir,
                    listed,
                } => self.show_listing(w, generation, dir, listed),
                Answer::Checked {
                    generation,
                    path,
                    kind,
                } => self.checked(w, generation, path, kind),
            }
        }
    }

    /// A listing came back: shows it, unless the user moved on.
    fn show_listing(
        &self,
        w: &AppWindow,
        generation: u64,
        dir: PathBuf,
        listed: std::io::Result<Vec<Listed>>,
    ) {
        if generation != self.current_generation() {
            return;
        }
        let Some(lang) = self.with_shown(|s| {
            s.dir = dir.clone();
            s.lang
        }) else {
            return;
        };
        let g = w.global::<FilePicker>();
        g.set_loading(false);
        g.set_dir(dir.display().to_string().into());
        let rows: Vec<PickerEntry> = match listed {
            Ok(entries) => entries
                .into_iter()
                .map(|e| PickerEntry {
                    badge: if e.dir {
                        "".into()
                    } else {
                        badge(&e.name).into()
                    },
                    size: if e.dir {
                        SharedString::new()
                    } else {
                        human_size(e.size, lang).into()
                    },
                    name: e.name.into(),
                    dir: e.dir,
                })
                .collect(),
            Err(_) => {
                g.set_problem(PickerProblem::Unreadable);
                Vec::new()
            }
        };
        g.set_entries(ModelRc::from(Rc::new(VecModel::from(rows))));
    }

    /// The typed `path` was checked: picks it, opens the folder, asks before replacing, or
    /// says it is not there; unless the user moved on.
    fn checked(&self, w: &AppWindow, generation: u64, path: PathBuf, kind: Kind) {
        if generation != self.current_generation() {
            return;
        }
        let Some((save, suggested)) = self.with_shown(|s| match &s.mode {
            Mode::Save { name } => (true, name.clone()),
            Mode::Open { .. } => (false, String::new()),
        }) else {
            return;
        };
        let g = w.global::<FilePicker>();
        match kind {
            Kind::Dir => {
                // A folder typed into the name field opens it; in save mode the suggested
                // name comes back.
                g.set_file_name(suggested.into());
                self.list(w, path);
            }
            Kind::File if save => {
                self.with_shown(|s| s.pending = Some(path));
                g.set_confirm_overwrite(true);
            }
            Kind::File => self.finish(w, Some(path)),
            Kind::Missing(true) if save => self.finish(w, Some(path)),
            Kind::Missing(_) => g.set_problem(PickerProblem::NotFound),
        }
    }

    /// Runs `job` on a thread of its own; if no thread can be started, the picker shows the
    /// folder as unreadable rather than blocking the UI thread.
    fn background(&self, job: impl FnOnce() + Send + 'static) {
        if std::thread::Builder::new()
            .name("kontor-picker".into())
            .spawn(job)
            .is_err()
            && let Some(w) = self.weak.upgrade()
        {
            let g = w.global::<FilePicker>();
            g.set_loading(false);
            g.set_problem(PickerProblem::Unreadable);
        }
    }
}

/// From a background thread: puts `answer` into the mailbox and has the UI thread read it
/// (`FilePicker.listed`). When the event loop has quit, nobody reads it; it goes with the
/// controller.
fn deliver(weak: &Weak<AppWindow>, mailbox: &Mutex<Vec<Answer>>, answer: Answer) {
    lock(mailbox).push(answer);
    let _ = weak.upgrade_in_event_loop(|w| w.global::<FilePicker>().invoke_listed());
}

/// One entry of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listed {
    pub name: String,
    pub dir: bool,
    pub size: u64,
}

/// The visible entries of `dir`: folders first, then files, each by name ignoring case;
/// hidden entries (leading dot) left out; files only with one of `filters`' extensions
/// (lower case, no dot) unless `filters` is empty. Symlinks count as what they point to.
pub(crate) fn read_listing(dir: &Path, filters: &[String]) -> std::io::Result<Vec<Listed>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let Ok(entry) = entry else { continue };
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let Ok(meta) = std::fs::metadata(entry.path()) else {
            continue; // a dangling link
        };
        let is_dir = meta.is_dir();
        if !is_dir && !filters.is_empty() {
            let ext = name
                .rsplit_once('.')
                .map(|(_, e)| e.to_lowercase())
                .unwrap_or_default();
            if !filters.contains(&ext) {
                continue;
            }
        }
        out.push(Listed {
            name,
            dir: is_dir,
            size: if is_dir { 0 } else { meta.len() },
        });
    }
    out.sort_by(|a, b| {
        b.dir
            .cmp(&a.dir)
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.name.cmp(&b.name))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listing_sorts_folders_first_hides_dotfiles_and_filters() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::create_dir(d.join("zeta")).unwrap();
        std::fs::create_dir(d.join("Angebote")).unwrap();
        std::fs::create_dir(d.join(".cache")).unwrap();
        std::fs::write(d.join("b.PDF"), b"12345").unwrap();
        std::fs::write(d.join("a.txt"), b"1").unwrap();
        std::fs::write(d.join("kunden.vcf"), b"BEGIN").unwrap();
        std::fs::write(d.join(".hidden.pdf"), b"").unwrap();

        let all = read_listing(d, &[]).unwrap();
        let names: Vec<_> = all.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Angebote", "zeta", "a.txt", "b.PDF", "kunden.vcf"]);
        assert!(all[0].dir && !all[3].dir);
        assert_eq!(all[3].size, 5);

        let pdf = read_listing(d, &["pdf".into(), "vcf".into()]).unwrap();
        let names: Vec<_> = pdf.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(names, ["Angebote", "zeta", "b.PDF", "kunden.vcf"]);

        assert!(read_listing(&d.join("missing"), &[]).is_err());
    }
}
