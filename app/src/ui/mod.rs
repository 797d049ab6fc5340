//! Kontor's Slint UI: the window compiled from `app/ui/*.slint` (see build.rs), its
//! controllers (one per view, registered in [`view::Views`]) over the session service
//! ([`crate::service`]), and the [`models`] they show.
//!
//! Threading: the Slint event loop owns the calling thread; Matrix and disk work runs
//! on a tokio runtime whose worker threads the caller provides (a [`Handle`]), so the
//! binary and the UI tests build the UI the same way.

mod bench_drive;
mod chat_consent;
mod chats;
mod consent_cards;
mod contact_chat;
mod contact_detail;
mod contacts;
mod context;
mod conversation;
mod desktop;
mod devices;
pub mod file_picker;
pub mod files;
pub mod format;
mod import_wizard;
mod link;
mod lock;
pub mod models;
mod notices;
mod quote_cards;
mod quote_form;
mod quotes;
mod search;
mod session;
pub mod settings;
mod timeline;
pub mod units;
pub mod user_facing;
mod verify_prompt;
pub mod view;

use std::{path::PathBuf, sync::Arc, time::Duration};

use slint::ComponentHandle;
use tokio::runtime::Handle;

use crate::service::{Service, ServiceConfig};

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
    ctx: context::Ctx,
    views: view::Views,
    session: Arc<session::SessionController>,
    lock: Arc<lock::LockController>,
    /// The idle lock's check (stops when dropped).
    _idle_timer: slint::Timer,
}

impl App {
    /// Builds the window, the service and one controller per view, and registers the
    /// views. Needs a Slint platform (the default backend or the testing one) on this
    /// thread.
    fn build(config: Config, runtime: Handle) -> Result<App, slint::PlatformError> {
        let window = AppWindow::new()?;
        let language = config.language.unwrap_or_else(Language::from_environment);
        let service = Service::new(
            ServiceConfig {
                data_dir: config.data_dir.clone(),
                insecure_fast_kdf: config.insecure_fast_kdf,
            },
            runtime,
        );
        let desktop = Arc::new(desktop::Desktop::new(config.desktop_bus.clone()));
        let ctx = context::Ctx::new(service, window.as_weak(), config, language);
        apply_language(&window, language);
        let w = &window;
        let timeline = timeline::Timeline::new(&ctx);
        let chats = chats::ChatsController::wire(w, &ctx);
        let conversation = conversation::ConversationController::wire(w, &ctx, &timeline);
        files::wire(w, &ctx, &timeline);
        let chat_consent = chat_consent::ChatConsentController::wire(w, &ctx, &timeline);
        let notices = notices::NoticesController::wire(w, &ctx, desktop);
        let contacts = contacts::ContactsController::wire(w, &ctx);
        let detail = contact_detail::ContactDetailController::wire(w, &ctx);
        let contact_chat = contact_chat::ContactChatController::wire(w, &ctx);
        let import = import_wizard::wire(w, &ctx);
        let devices = devices::DevicesController::wire(w, &ctx);
        let verify = verify_prompt::VerifyPromptController::wire(w, &ctx);
        file_picker::wire(w);
        let (lock, idle_timer) = lock::LockController::wire(w, &ctx);
        let settings = settings::SettingsController::wire(w, &ctx, &lock);
        let quote_form = quote_form::QuoteFormController::wire(w, &ctx);
        let quotes = quotes::QuotesController::wire(w, &ctx);
        let link = link::LinkController::wire(w, &ctx);
        let search = search::SearchController::wire(w, &ctx);
        let views = view::Views::new(vec![
            chats,
            conversation,
            chat_consent,
            Arc::new(notices),
            contacts,
            detail,
            contact_chat,
            import,
            settings.clone(),
            devices,
            Arc::new(verify),
            Arc::new(file_picker::PickerView),
            quote_form,
            Arc::new(quotes),
            link,
            search,
        ]);
        lock.set_views(views.clone());
        let session = session::SessionController::wire(w, &ctx, &views);
        settings.load(|_| {});
        Ok(App {
            window,
            ctx,
            views,
            session,
            lock,
            _idle_timer: idle_timer,
        })
    }

    /// Builds the window starting at unlock (a profile exists) or onboarding (none).
    pub fn new(config: Config, runtime: Handle) -> Result<App, slint::PlatformError> {
        let app = App::build(config, runtime)?;
        app.session.first_screen();
        Ok(app)
    }

    /// Builds the window for an account that is already unlocked and logged in, with its
    /// contact book if one is open (the demo): it opens at the chat list.
    pub fn with_session(
        config: Config,
        runtime: Handle,
        kontor: Arc<kontor_core::Kontor>,
        book: Option<kontor_contacts::ContactBook>,
    ) -> Result<App, slint::PlatformError> {
        let app = App::build(config, runtime)?;
        app.ctx.service.set_book(book);
        app.ctx.service.adopt(kontor);
        app.session.signed_in();
        Ok(app)
    }

    /// Sets the idle-lock time for this run (tests use a short one); the saved setting
    /// applies again when it is changed or at the next start.
    pub fn set_idle_timeout(&self, timeout: Option<Duration>) {
        self.lock.set_timeout(timeout);
    }

    /// The identity server contact discovery would use now: `None` when discovery is
    /// switched off in the settings or no server is known (the service's gate and
    /// precedence, [`crate::service::discovery`]).
    pub fn discovery_server(&self) -> Option<String> {
        self.ctx.service.discovery_server(None).ok()
    }

    /// Chooses the identity server for this run (the demo's Sydent, a test's): it wins
    /// over `KONTOR_IDENTITY_SERVER` and the settings; discovery stays off if switched off.
    pub fn set_identity_server(&self, server: Option<String>) {
        self.ctx.service.set_identity_server(server);
        let shown = self.ctx.service.identity_server().unwrap_or_default();
        self.window
            .global::<Contacts>()
            .set_identity_server(shown.into());
    }

    /// The session service behind the window: tests put data in place through it (a
    /// quote kept on this device) as the account's other devices would.
    pub fn service(&self) -> &Arc<crate::service::Service> {
        &self.ctx.service
    }

    /// The registered views (the lock story checks every one of them).
    pub fn views(&self) -> &view::Views {
        &self.views
    }

    /// Locks the window now, as the idle timer does.
    pub fn lock(&self) {
        self.lock.lock_now(&self.window);
    }

    /// Stops the sync and pauses the outbox (the service's shutdown). Runs on the app's
    /// tokio runtime, so it may be awaited from any executor (the UI tests await it on
    /// the Slint event loop).
    pub async fn shutdown(&self) {
        let service = self.ctx.service.clone();
        let _ = self
            .ctx
            .rt()
            .spawn(async move { service.shutdown().await })
            .await;
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
    let _drive = bench_drive::start(&app);
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
