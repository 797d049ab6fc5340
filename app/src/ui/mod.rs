//! Kontor's Slint UI: the window compiled from `app/ui/*.slint` (see build.rs), its
//! [`controller`] that answers the views' callbacks, and the [`models`] they show.
//!
//! Threading: the Slint event loop owns the calling thread; Matrix and disk work runs
//! on a tokio runtime whose worker threads the caller provides (a [`Handle`]), so the
//! binary and the UI tests build the UI the same way.

mod contact_actions;
mod contacts;
mod controller;
mod desktop;
pub mod file_picker;
pub mod files;
pub mod format;
mod idle;
mod import_wizard;
pub mod models;
pub mod prefs;
pub mod settings;
mod timeline;
pub mod units;
mod verify_prompt;

use std::{path::PathBuf, sync::Arc, time::Duration};

use slint::ComponentHandle;
use tokio::runtime::Handle;

pub use desktop::DesktopBus;
pub use format::Language;

/// The Rust side of the `.slint` files (`AppWindow` and the globals it exports).
#[allow(missing_docs, clippy::all)]
mod generated {
    slint::include_modules!();
}
pub use generated::*;

/// What the UI needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// The data directory (`--data-dir`); the profile lives in its `profile/`, the same
    /// place the CLI uses, so one can log in with either and unlock with the other.
    pub data_dir: PathBuf,
    /// Tests only, honoured in debug builds only: new profiles get a minimal Argon2id
    /// cost. Same rule as the CLI's `KONTOR_INSECURE_FAST_KDF`.
    pub insecure_fast_kdf: bool,
    /// The UI language; `None` follows the system locale.
    pub language: Option<Language>,
    /// Where received files are saved; `None`: `~/Downloads`, else
    /// `<data-dir>/downloads`.
    pub download_dir: Option<PathBuf>,
    /// Where desktop notifications go: the session bus in the app, a private bus in a
    /// test, or nowhere (only the in-app notice).
    pub desktop_bus: DesktopBus,
}

/// Why the UI could not run.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    /// No window could be opened (no display, no usable backend).
    #[error("cannot open the window (the commands in `kontor --help` work without one): {0}")]
    Platform(#[from] slint::PlatformError),
    /// The background runtime did not start.
    #[error("cannot start the background runtime: {0}")]
    Runtime(#[from] std::io::Error),
}

/// The window and what drives it.
pub struct App {
    /// The window (tests look elements up in it).
    pub window: AppWindow,
    shared: Arc<controller::Shared>,
}

impl App {
    /// Builds the window and wires it. Needs a Slint platform (the default backend or the
    /// testing one) on this thread.
    fn build(config: Config, runtime: Handle) -> Result<App, slint::PlatformError> {
        let window = AppWindow::new()?;
        let language = config.language.unwrap_or_else(Language::from_environment);
        let shared = controller::Shared::new(runtime, config, language);
        apply_language(&window, language);
        controller::wire(&window, &shared);
        file_picker::wire(&window);
        settings::load(&shared, &window.as_weak(), |_| {});
        Ok(App { window, shared })
    }

    /// Builds the window starting at unlock (a profile exists) or onboarding (none).
    pub fn new(config: Config, runtime: Handle) -> Result<App, slint::PlatformError> {
        let app = App::build(config, runtime)?;
        controller::first_screen(&app.window, &app.shared);
        Ok(app)
    }

    /// Builds the window for an account that is already unlocked and logged in, with its
    /// contact book if one is open (the demo): it opens at the chat list.
    pub fn with_session(
        config: Config,
        runtime: Handle,
        kontor: std::sync::Arc<kontor_core::Kontor>,
        book: Option<kontor_contacts::ContactBook>,
    ) -> Result<App, slint::PlatformError> {
        let app = App::build(config, runtime)?;
        controller::set_book(&app.shared, &app.window.as_weak(), book);
        controller::signed_in(&app.shared, &app.window.as_weak(), kontor);
        Ok(app)
    }

    /// Sets the idle-lock time for this run (tests use a short one); the saved setting
    /// applies again when it is changed or at the next start.
    pub fn set_idle_timeout(&self, timeout: Option<std::time::Duration>) {
        idle::set_timeout(timeout);
    }

    /// The identity server contact discovery should use now: `None` when discovery is
    /// switched off in the settings or no server is known. `KONTOR_IDENTITY_SERVER`
    /// wins over the saved one (see [`prefs::Settings::effective_identity_server`]).
    pub fn discovery_server(&self) -> Option<String> {
        self.shared.prefs.discovery_server()
    }

    /// Locks the window now, as the idle timer does.
    pub fn lock(&self) {
        idle::lock_now(&self.shared, &self.window);
    }

    /// Stops the sync and pauses the outbox. Like the CLI, the client is then left to the
    /// runtime's shutdown rather than dropped: dropping it closes the SQLite stores under
    /// SDK tasks that may still be writing.
    /// Runs on the app's tokio runtime, so it may be awaited from any executor (the UI
    /// tests await it on the Slint event loop).
    pub async fn shutdown(&self) {
        // The contact book closes (sled flushes and unlocks) once no task uses it.
        self.shared
            .book()
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(kontor) = self.shared.take_kontor() {
            let _ = self
                .shared
                .runtime()
                .spawn(async move {
                    kontor.shutdown().await;
                    std::mem::forget(kontor);
                })
                .await;
        }
    }
}

/// Switches the bundled translation and tells the views which language is active.
pub(crate) fn apply_language(window: &AppWindow, language: Language) {
    // "en" is the language of the msgids; it is always available.
    if let Err(e) = slint::select_bundled_translation(language.code()) {
        tracing::warn!("cannot switch the UI language: {e}");
    }
    window
        .global::<Session>()
        .set_language(language.code().into());
}

/// Runs the UI until its window is closed (the binary's `kontor` without a subcommand).
pub fn run(config: Config) -> Result<(), UiError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kontor-worker")
        .enable_all()
        .build()?;
    let app = App::new(config, runtime.handle().clone())?;
    if std::env::var_os("KONTOR_EXIT_AFTER_FIRST_FRAME").is_some() {
        exit_after_first_frame(&app.window);
    }
    let result = app.window.run();
    runtime.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(5), app.shutdown()).await;
    });
    runtime.shutdown_timeout(Duration::from_secs(2));
    result.map_err(Into::into)
}

/// Benchmark hook (BENCHMARKS.md, "App"): with `KONTOR_EXIT_AFTER_FIRST_FRAME` set, the
/// window writes `kontor: first frame` to stderr once its first frame is drawn, then
/// `kontor: first screen` at the first frame that shows a real screen (not the blank
/// `loading` one), and quits; the bench times both lines from outside the process.
///
/// Slint's software renderer has no rendering notifier, so this watches winit's
/// `RedrawRequested` (handled synchronously by Slint's draw) and reports from a closure
/// queued behind it, i.e. after the frame was presented.
fn exit_after_first_frame(window: &AppWindow) {
    use slint::winit_030::{EventResult, WinitWindowAccessor, winit::event::WindowEvent};
    let weak = window.as_weak();
    let mut first = true;
    window.window().on_winit_window_event(move |_, event| {
        if matches!(event, WindowEvent::RedrawRequested) {
            let (weak, was_first) = (weak.clone(), std::mem::take(&mut first));
            let _ = slint::invoke_from_event_loop(move || {
                if was_first {
                    eprintln!("kontor: first frame");
                }
                if let Some(w) = weak.upgrade()
                    && w.global::<Session>().get_screen() != Screen::Loading
                {
                    eprintln!("kontor: first screen");
                    let _ = slint::quit_event_loop();
                }
            });
        }
        EventResult::Propagate
    });
}
