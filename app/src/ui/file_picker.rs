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
//! or `None` when the user cancelled (or another [`open`] replaced this one). It must not
//! block: hand disk or network work to tokio like every other callback.
//!
//! # Threading
//! Directory listings and the checks behind "Open" / "Save" (does that path exist? is it a
//! folder?) run on a short-lived thread of their own, so the picker needs no runtime from
//! its caller and the UI thread never touches the disk. Results come back through
//! `upgrade_in_event_loop`; a result that arrives after the user moved on (another folder,
//! picker closed) is recognised by a generation counter and dropped.

use std::{
    cell::{Cell, RefCell},
    path::{Path, PathBuf},
    rc::Rc,
};

use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel, Weak};

use super::{
    AppWindow, FilePicker, PickerEntry, PickerMode, PickerProblem, Session,
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

/// The open picker, on the UI thread.
struct State {
    mode: Mode,
    /// The directory listed now (absolute).
    dir: PathBuf,
    on_pick: Option<OnPick>,
    /// Save mode: the existing file the overwrite question is about.
    pending: Option<PathBuf>,
    lang: Language,
}

thread_local! {
    static STATE: RefCell<Option<State>> = const { RefCell::new(None) };
    /// Where the last picker ended, so the next one starts there.
    static LAST_DIR: RefCell<Option<PathBuf>> = const { RefCell::new(None) };
    /// Bumped by every request that makes earlier background results stale.
    static GENERATION: Cell<u64> = const { Cell::new(0) };
}

fn next_generation() -> u64 {
    GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    })
}

fn current_generation() -> u64 {
    GENERATION.with(Cell::get)
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
    // Another picker still open: its caller hears "cancelled".
    finish(window, None);
    let dir = start_dir
        .map(Path::to_owned)
        .or_else(|| LAST_DIR.with(|d| d.borrow().clone()))
        .or_else(home)
        .unwrap_or_else(|| PathBuf::from("/"));
    let lang = Language::from_code(&window.global::<Session>().get_language());
    let g = window.global::<FilePicker>();
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
    STATE.with(|s| {
        *s.borrow_mut() = Some(State {
            mode,
            dir: dir.clone(),
            on_pick: Some(Box::new(on_pick)),
            pending: None,
            lang,
        })
    });
    list(window, dir);
}

/// True while a picker is shown.
pub fn is_open(window: &AppWindow) -> bool {
    window.global::<FilePicker>().get_visible()
}

/// Closes the picker and tells its caller `result`.
fn finish(window: &AppWindow, result: Option<PathBuf>) {
    next_generation();
    let Some(mut state) = STATE.with(|s| s.borrow_mut().take()) else {
        return;
    };
    LAST_DIR.with(|d| *d.borrow_mut() = Some(state.dir.clone()));
    let g = window.global::<FilePicker>();
    g.set_visible(false);
    g.set_confirm_overwrite(false);
    g.set_loading(false);
    g.set_entries(ModelRc::from(Rc::new(VecModel::<PickerEntry>::default())));
    if let Some(f) = state.on_pick.take() {
        f(result);
    }
}

/// The picker as a registered view: the lock closes it (its caller hears "cancelled"),
/// since it shows the user's folders.
pub(crate) struct PickerView;

impl super::view::View for PickerView {
    fn name(&self) -> &'static str {
        "file-picker"
    }

    fn clear(&self, w: &AppWindow) {
        finish(w, None);
        w.global::<FilePicker>().set_visible(false);
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

/// Installs the callbacks of the `FilePicker` global (once, when the window is built).
pub(crate) fn wire(window: &AppWindow) {
    let g = window.global::<FilePicker>();
    let weak = window.as_weak();
    {
        let weak = weak.clone();
        g.on_enter(move |target| {
            if let Some(w) = weak.upgrade() {
                let dir = resolve(&w, target.as_str());
                list(&w, dir);
            }
        });
    }
    {
        let weak = weak.clone();
        g.on_up(move || {
            if let Some(w) = weak.upgrade() {
                let parent = with_state(|s| s.dir.parent().map(Path::to_owned)).flatten();
                if let Some(p) = parent {
                    list(&w, p);
                }
            }
        });
    }
    {
        let weak = weak.clone();
        g.on_home(move || {
            if let (Some(w), Some(h)) = (weak.upgrade(), home()) {
                list(&w, h);
            }
        });
    }
    {
        let weak = weak.clone();
        g.on_choose(move |name| {
            if let Some(w) = weak.upgrade() {
                choose(&w, name.as_str());
            }
        });
    }
    {
        let weak = weak.clone();
        g.on_accept(move || {
            if let Some(w) = weak.upgrade() {
                accept(&w);
            }
        });
    }
    {
        let weak = weak.clone();
        g.on_overwrite(move |replace| {
            let Some(w) = weak.upgrade() else { return };
            w.global::<FilePicker>().set_confirm_overwrite(false);
            let pending = with_state(|s| s.pending.take()).flatten();
            if replace && let Some(path) = pending {
                finish(&w, Some(path));
            }
        });
    }
    g.on_cancel(move || {
        if let Some(w) = weak.upgrade() {
            finish(&w, None);
        }
    });
}

fn with_state<T>(f: impl FnOnce(&mut State) -> T) -> Option<T> {
    STATE.with(|s| s.borrow_mut().as_mut().map(f))
}

/// A typed name or path: absolute as is, `~/…` under home, else in the current folder.
fn resolve(w: &AppWindow, text: &str) -> PathBuf {
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
    let dir = with_state(|s| s.dir.clone())
        .unwrap_or_else(|| PathBuf::from(w.global::<FilePicker>().get_dir().as_str()));
    dir.join(p)
}

/// A row was chosen: folders open, files are picked (open) or named (save).
fn choose(w: &AppWindow, name: &str) {
    let g = w.global::<FilePicker>();
    let entries = g.get_entries();
    let Some(entry) = entries.iter().find(|e| e.name == name) else {
        return;
    };
    let Some((dir, save)) = with_state(|s| (s.dir.clone(), matches!(s.mode, Mode::Save { .. })))
    else {
        return;
    };
    let path = dir.join(name);
    if entry.dir {
        list(w, path);
    } else if save {
        g.set_file_name(name.into());
        g.set_problem(PickerProblem::None);
        g.set_confirm_overwrite(false);
    } else {
        finish(w, Some(path));
    }
}

/// What a typed path is, found out off the UI thread.
enum Kind {
    Dir,
    File,
    /// Nothing there; `bool`: its parent folder exists (a new file can go there).
    Missing(bool),
}

/// "Open" / "Save" (or Enter): checks the typed name off the UI thread, then picks it,
/// opens the folder it names, asks before replacing, or says what is wrong.
fn accept(w: &AppWindow) {
    let g = w.global::<FilePicker>();
    let text = g.get_file_name();
    if text.trim().is_empty() {
        g.set_problem(PickerProblem::EmptyName);
        return;
    }
    let path = resolve(w, &text);
    let generation = current_generation();
    let weak = w.as_weak();
    background(&weak.clone(), move || {
        let kind = match std::fs::metadata(&path) {
            Ok(m) if m.is_dir() => Kind::Dir,
            Ok(_) => Kind::File,
            Err(_) => Kind::Missing(path.parent().is_some_and(Path::is_dir)),
        };
        let _ = weak.upgrade_in_event_loop(move |w| {
            if generation != current_generation() {
                return;
            }
            let Some(save) = with_state(|s| matches!(s.mode, Mode::Save { .. })) else {
                return;
            };
            let g = w.global::<FilePicker>();
            match kind {
                Kind::Dir => {
                    // A folder typed into the name field opens it; in save mode the
                    // suggested name comes back.
                    let name = with_state(|s| match &s.mode {
                        Mode::Save { name } => name.clone(),
                        Mode::Open { .. } => String::new(),
                    })
                    .unwrap_or_default();
                    g.set_file_name(name.into());
                    list(&w, path);
                }
                Kind::File if save => {
                    with_state(|s| s.pending = Some(path));
                    g.set_confirm_overwrite(true);
                }
                Kind::File => finish(&w, Some(path)),
                Kind::Missing(true) if save => finish(&w, Some(path)),
                Kind::Missing(_) => g.set_problem(PickerProblem::NotFound),
            }
        });
    });
}

/// Lists `dir` off the UI thread and shows it.
fn list(w: &AppWindow, dir: PathBuf) {
    let generation = next_generation();
    let Some((filters, lang)) = with_state(|s| {
        let filters = match &s.mode {
            Mode::Open { filters } => filters.iter().map(|f| f.to_lowercase()).collect(),
            Mode::Save { .. } => Vec::new(),
        };
        (filters, s.lang)
    }) else {
        return;
    };
    let g = w.global::<FilePicker>();
    g.set_loading(true);
    g.set_problem(PickerProblem::None);
    g.set_confirm_overwrite(false);
    let weak = w.as_weak();
    background(&weak.clone(), move || {
        let dir = std::fs::canonicalize(&dir).unwrap_or(dir);
        let listed = read_listing(&dir, &filters);
        let _ = weak.upgrade_in_event_loop(move |w| {
            if generation != current_generation() {
                return;
            }
            with_state(|s| s.dir = dir.clone());
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
        });
    });
}

/// Runs `job` on a thread of its own; if no thread can be started, the picker shows the
/// folder as unreadable rather than blocking the UI thread.
fn background(weak: &Weak<AppWindow>, job: impl FnOnce() + Send + 'static) {
    if std::thread::Builder::new()
        .name("kontor-picker".into())
        .spawn(job)
        .is_err()
        && let Some(w) = weak.upgrade()
    {
        let g = w.global::<FilePicker>();
        g.set_loading(false);
        g.set_problem(PickerProblem::Unreadable);
    }
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
