//! The session service: the one owner of an account, shared by the CLI and the app, and
//! the one place where Kontor's policies live. Nothing in here knows Slint.
//!
//! It owns the Matrix client (through [`Owner`], so sign-out is deterministic), the
//! contact book, the unlocked-but-not-logged-in profile, and the settings; it opens,
//! locks, resumes and signs out. The policies both faces must apply alike are here once:
//! the discovery gate and identity-server precedence ([`discovery`]), import options and
//! progress ([`import`]), private file writes ([`fs`]), key-derivation cost
//! ([`kdf`]), a contact's consent proof as PDF and JSON ([`proof`]), consent asked and
//! answered in the chat ([`consent`]), who a chat partner is in the book ([`people`])
//! and the business link with its QR code ([`link`]).
//! Errors are kinds and data ([`ServiceError`]); words are the faces' job (a document's
//! own labels, like the proof's, are the document's).
//!
//! Why a module tree of the `kontor` crate rather than a crate of its own: it is used by
//! exactly the two faces of this one binary, and as a crate it would only add a manifest
//! and a second copy of the dependency list; it depends on no UI code, which its unit
//! tests (no window) keep true.

pub mod clock;
pub mod consent;
pub mod discovery;
mod error;
pub mod export;
pub mod fs;
pub mod import;
pub mod kdf;
pub mod language;
pub mod link;
mod owner;
pub mod people;
pub mod proof;
pub mod quotes;
pub mod search;
pub mod settings;
#[cfg(test)]
mod testutil;

use std::{
    future::Future,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicBool, Ordering},
    },
};

use kontor_contacts::{ContactBook, DiscoveryReport};
use kontor_core::{CoreEvent, Kontor, Profile};
use tokio::{runtime::Handle, sync::broadcast};
use zeroize::Zeroizing;

pub use error::ServiceError;
pub use owner::Owner;
use settings::{Settings, SettingsError};

/// The result of a service call.
pub type Result<T> = std::result::Result<T, ServiceError>;

/// Where the account lives and how its stores are made.
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// The data directory: `profile/`, `contacts/`, `settings.json`.
    pub data_dir: PathBuf,
    /// Tests only: minimal Argon2id cost for new stores (debug builds only, see [`kdf`]).
    pub insecure_fast_kdf: bool,
}

/// What an unlock found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unlocked {
    /// The account is signed in (restored from the profile).
    SignedIn,
    /// The profile holds no session yet (an earlier onboarding stopped after creating
    /// it): the next [`Service::login`] goes into it.
    NeedsLogin,
}

/// A failed login and where the user goes from there.
#[derive(Debug)]
pub struct LoginFailed {
    /// Why.
    pub error: ServiceError,
    /// A profile unlocked earlier was consumed by the attempt: opening it again needs
    /// the passphrase, so the user goes back to unlocking. `false`: the profile this
    /// attempt created was removed, so a retry may choose another passphrase.
    pub back_to_unlock: bool,
    /// The homeserver was asked (else the profile could not even be opened: the user
    /// stays where the passphrase is typed).
    pub attempted: bool,
}

/// The one owner of an account (see the module docs).
pub struct Service {
    config: ServiceConfig,
    rt: Handle,
    account: Owner<Kontor>,
    profile: Mutex<Option<Profile>>,
    book: Mutex<Option<Arc<ContactBook>>>,
    /// Shared with the saves that run later (they write the newest value).
    settings: Arc<Mutex<Settings>>,
    /// An identity server chosen for this run (the demo's Sydent, a test's): it wins
    /// over the environment and the settings, as the CLI's `--identity-server` does.
    identity_server: Mutex<Option<String>>,
    /// One settings save at a time, each writing the newest settings.
    saving: Arc<tokio::sync::Mutex<()>>,
    /// The device's quotes, opened on first use while signed in; dropped by the lock.
    quotes: Mutex<Option<Arc<quotes::Quotes>>>,
    /// The search index, opened on first use while signed in and unlocked.
    search: Mutex<Option<Arc<search::SearchIndex>>>,
    /// The idle lock is on: the search index stays closed until the passphrase.
    locked: AtomicBool,
    /// A catch-up or backfill of the index runs.
    search_running: AtomicBool,
    /// Live changes wait for a debounced commit.
    search_dirty: AtomicBool,
    /// The connection was lost: the search index catches up when it is back.
    search_offline: AtomicBool,
    /// The index's progress, for whoever shows it.
    search_progress: tokio::sync::watch::Sender<search::SearchStatus>,
}

/// Locks a mutex even if a panicking task poisoned it, for the whole crate (service and
/// UI): every holder only swaps or inserts whole values, so what a panic left is
/// consistent, and one panicked task must not take every later lock down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Service {
    /// A service for the account in `config.data_dir`, running its work on `rt`.
    pub fn new(config: ServiceConfig, rt: Handle) -> Arc<Service> {
        Arc::new(Service {
            config,
            rt,
            account: Owner::default(),
            profile: Mutex::new(None),
            book: Mutex::new(None),
            settings: Arc::new(Mutex::new(Settings::default())),
            identity_server: Mutex::new(None),
            saving: Arc::default(),
            quotes: Mutex::default(),
            search: Mutex::default(),
            locked: AtomicBool::new(false),
            search_running: AtomicBool::new(false),
            search_dirty: AtomicBool::new(false),
            search_offline: AtomicBool::new(false),
            search_progress: tokio::sync::watch::Sender::new(Default::default()),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// The profile directory (`<data-dir>/profile`), shared with the CLI.
    pub fn profile_dir(&self) -> PathBuf {
        self.config.data_dir.join("profile")
    }

    /// The runtime the service's work runs on.
    pub fn runtime(&self) -> &Handle {
        &self.rt
    }

    fn fast_kdf(&self) -> bool {
        kdf::fast(self.config.insecure_fast_kdf)
    }

    /// Whether a profile exists (unlock) or not (onboarding). A stat: call off the UI
    /// thread.
    pub async fn profile_exists(&self) -> bool {
        tokio::fs::try_exists(self.profile_dir().join("profile.json"))
            .await
            .unwrap_or(false)
    }

    /// Opens (or creates) the profile; Argon2id runs on a blocking thread.
    pub async fn open_profile(&self, passphrase: Zeroizing<String>) -> Result<Profile> {
        let (dir, fast) = (self.profile_dir(), self.fast_kdf());
        tokio::task::spawn_blocking(move || kdf::open_profile(&dir, &passphrase, fast))
            .await
            .map_err(|_| ServiceError::Crashed)?
            .map_err(ServiceError::Core)
    }

    /// Unlocks the contact book beside the profile (creating it on first use). Chats
    /// work without it, so a failure is logged and `false` returned.
    pub async fn open_book(&self, passphrase: Zeroizing<String>) -> bool {
        let dir = self.config.data_dir.join("contacts");
        let opts = kdf::contacts(self.fast_kdf());
        let book =
            tokio::task::spawn_blocking(move || ContactBook::open_with(&dir, &passphrase, opts))
                .await;
        match book {
            Ok(Ok(b)) => {
                self.set_book(Some(b));
                true
            }
            Ok(Err(e)) => {
                tracing::warn!("contact book unavailable: {e}");
                self.set_book(None);
                false
            }
            Err(_) => {
                self.set_book(None);
                false
            }
        }
    }

    /// Keeps (or, with `None`, drops and so locks) the contact book.
    pub fn set_book(&self, book: Option<ContactBook>) {
        *lock(&self.book) = book.map(Arc::new);
    }

    /// The open contact book, for one operation (do not keep it: the lock drops it).
    pub fn book(&self) -> Result<Arc<ContactBook>> {
        lock(&self.book).clone().ok_or(ServiceError::NoContactBook)
    }

    /// Unlock at start: the profile, the book and, when the profile holds a session,
    /// the account.
    pub async fn unlock(&self, passphrase: Zeroizing<String>) -> Result<Unlocked> {
        let profile = self.open_profile(passphrase.clone()).await?;
        self.open_book(passphrase).await;
        if !profile.has_session() {
            *lock(&self.profile) = Some(profile);
            return Ok(Unlocked::NeedsLogin);
        }
        let kontor = Kontor::restore(profile).await?;
        self.account.install(kontor);
        Ok(Unlocked::SignedIn)
    }

    /// Logs in: into the profile an earlier unlock kept, else into a new one (created
    /// with `passphrase`, and removed again if the login fails).
    pub async fn login(
        &self,
        homeserver: &str,
        user: &str,
        password: Zeroizing<String>,
        passphrase: Zeroizing<String>,
    ) -> std::result::Result<(), LoginFailed> {
        let kept = lock(&self.profile).take();
        let created = kept.is_none();
        let profile = match kept {
            Some(p) => p,
            None => {
                let p = self
                    .open_profile(passphrase.clone())
                    .await
                    .map_err(|error| LoginFailed {
                        error,
                        back_to_unlock: false,
                        attempted: false,
                    })?;
                self.open_book(passphrase).await;
                p
            }
        };
        match Kontor::login(profile, homeserver, user, &password).await {
            Ok(k) => {
                self.account.install(k);
                Ok(())
            }
            Err(e) => {
                if created {
                    remove_dir(&self.profile_dir()).await;
                }
                Err(LoginFailed {
                    error: e.into(),
                    back_to_unlock: !created,
                    attempted: true,
                })
            }
        }
    }

    /// Takes an account that is already signed in (the demo).
    pub fn adopt(&self, kontor: Arc<Kontor>) {
        self.account.install(kontor);
    }

    /// Follows the account's events and starts its sync (subscribed first, so nothing
    /// the sync reports is missed). `None` when not signed in.
    pub fn start(&self) -> Option<broadcast::Receiver<CoreEvent>> {
        self.account.with(|k| {
            let rx = k.subscribe();
            // start_sync spawns onto the current runtime; the caller may be the UI thread.
            let _entered = self.rt.enter();
            k.start_sync();
            rx
        })
    }

    /// Whether an account is signed in.
    pub fn signed_in(&self) -> bool {
        self.account.is_set()
    }

    /// Reads something off the account now (user id, homeserver): `None` when signed out.
    pub fn with_account<R>(&self, f: impl FnOnce(&Kontor) -> R) -> Option<R> {
        self.account.with(|k| f(k))
    }

    /// Runs `f` with the account on the runtime; sign-out cancels it. `false` when not
    /// signed in (nothing runs).
    pub fn spawn<F, Fut>(&self, f: F) -> bool
    where
        F: FnOnce(Arc<Kontor>) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.account.spawn(&self.rt, f)
    }

    /// The idle lock: the contact book's keys are dropped; the account stays signed in
    /// (its sync goes on, so notices still arrive) until [`Service::resume`].
    pub fn lock(&self) {
        self.locked.store(true, Ordering::SeqCst);
        self.set_book(None);
        *lock(&self.quotes) = None;
        // A backfill running now keeps its own handle until its current page is
        // committed, then stops (`still_unlocked`).
        *lock(&self.search) = None;
    }

    /// Ends the idle lock: checks the passphrase against the profile and opens the book
    /// again.
    pub async fn resume(&self, passphrase: Zeroizing<String>) -> Result<()> {
        drop(self.open_profile(passphrase.clone()).await?);
        self.open_book(passphrase).await;
        self.locked.store(false, Ordering::SeqCst);
        Ok(())
    }

    /// Signs out: the book is closed, every task using the account is cancelled and
    /// awaited, the sync ended, the session logged out on the server (forced: a server
    /// that cannot be reached does not keep the data on this device) and the profile
    /// deleted. Returns when all that is done. The settings file stays.
    pub async fn sign_out(&self) -> Result<()> {
        self.set_book(None);
        // The store is sealed with a key from the profile, which goes now: the records
        // stay in the business room (end-to-end encrypted, in the key backup) and come
        // back at the next login.
        *lock(&self.quotes) = None;
        remove_dir(&self.config.data_dir.join("quotes")).await;
        // The index holds what the messages say: it goes with the profile.
        *lock(&self.search) = None;
        remove_dir(&self.search_dir()).await;
        let kontor = self
            .account
            .close()
            .await
            .ok_or(ServiceError::NotSignedIn)?;
        kontor.stop_sync_and_wait().await;
        kontor.logout(true).await.map_err(ServiceError::Core)
    }

    /// Prepares for process exit: the book closes, tasks end, the sync stops and the
    /// outbox pauses. The client is then left to the runtime's shutdown rather than
    /// dropped: dropping it closes the SQLite stores under SDK tasks that may still be
    /// writing.
    pub async fn shutdown(&self) {
        self.set_book(None);
        *lock(&self.quotes) = None;
        *lock(&self.search) = None;
        if let Some(kontor) = self.account.close().await {
            kontor.shutdown().await;
            std::mem::forget(kontor);
        }
    }

    /// The settings now in force.
    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Reads the saved settings (blocking thread). A damaged file gives the defaults and
    /// the reason, which the caller shows; the app never fails to start because of it.
    pub async fn load_settings(&self) -> (Settings, Option<SettingsError>) {
        let dir = self.config.data_dir.clone();
        let (settings, warning) = tokio::task::spawn_blocking(move || settings::load(&dir))
            .await
            .unwrap_or_else(|_| (Settings::default(), None));
        *lock(&self.settings) = settings.clone();
        (settings, warning)
    }

    /// Changes the settings now (callers show the result at once) and returns them with
    /// the saving, to be run off the UI thread.
    pub fn change_settings(
        &self,
        f: impl FnOnce(&mut Settings),
    ) -> (Settings, impl Future<Output = Result<()>> + Send + 'static) {
        let settings = {
            let mut cur = lock(&self.settings);
            f(&mut cur);
            cur.clone()
        };
        // Saves run one at a time and each writes the settings as they are when its turn
        // comes: two quick changes never race for the file, and the last one is kept.
        let dir = self.config.data_dir.clone();
        let saving = self.saving.clone();
        let shared = self.settings.clone();
        let save = async move {
            let _turn = saving.lock().await;
            let copy = lock(&shared).clone();
            tokio::task::spawn_blocking(move || settings::save(&dir, &copy))
                .await
                .map_err(|_| ServiceError::Crashed)?
                .map_err(ServiceError::Settings)
        };
        (settings, save)
    }

    /// Chooses an identity server for this run (`None`: back to the environment and the
    /// settings). It wins over both, like the CLI's `--identity-server`.
    pub fn set_identity_server(&self, server: Option<String>) {
        *lock(&self.identity_server) = server.filter(|s| !s.trim().is_empty());
    }

    /// The identity server discovery would ask, whether or not discovery is on (what the
    /// contacts screen names): this run's choice, the environment, the settings.
    pub fn identity_server(&self) -> Option<String> {
        let chosen = lock(&self.identity_server).clone();
        discovery::precedence(chosen.as_deref(), &self.settings(), |k| {
            std::env::var(k).ok()
        })
    }

    /// The identity server discovery may use now (the gate, [`discovery::gate`]):
    /// `explicit` is a server chosen for this call, else this run's choice counts.
    pub fn discovery_server(&self, explicit: Option<&str>) -> Result<String> {
        let chosen = lock(&self.identity_server).clone();
        discovery::gate(explicit.or(chosen.as_deref()), &self.settings(), |k| {
            std::env::var(k).ok()
        })
    }

    /// Contact discovery of the work book. The gate is checked first: switched off, it
    /// returns [`ServiceError::DiscoveryOff`] and nothing is sent anywhere.
    pub async fn discover(&self, explicit: Option<&str>) -> Result<(String, DiscoveryReport)> {
        let server = self.discovery_server(explicit)?;
        let book = self.book()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let server2 = server.clone();
        let started = self.spawn(move |kontor| async move {
            let token = match discovery::token(&kontor).await {
                Ok(t) => t,
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            };
            // Only the token and the book go to the blocking thread (the lookups write
            // found Matrix ids into the work book: sled, blocking). The account stays in
            // this tracked task, so a sign-out meanwhile is not kept from deleting it.
            drop(kontor);
            let rt = Handle::current();
            let run = tokio::task::spawn_blocking(move || {
                rt.block_on(discovery::lookup(book.work(), &server2, &token))
            });
            let _ = tx.send(run.await.map_err(|_| ServiceError::Crashed).and_then(|r| r));
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        let report = rx.await.map_err(|_| ServiceError::NotSignedIn)??;
        Ok((server, report))
    }
}

async fn remove_dir(dir: &Path) {
    if let Err(e) = tokio::fs::remove_dir_all(dir).await
        && e.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!("cannot remove {}: {e}", dir.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn service(dir: &Path) -> Arc<Service> {
        Service::new(
            ServiceConfig {
                data_dir: dir.to_owned(),
                insecure_fast_kdf: true,
            },
            Handle::current(),
        )
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn discovery_off_refuses_before_touching_book_or_network() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let (_, save) = svc.change_settings(|s| {
            s.discovery = false;
            s.identity_server = Some("http://127.0.0.1:9".into());
        });
        save.await.unwrap();
        assert!(matches!(
            svc.discover(Some("http://127.0.0.1:9")).await,
            Err(ServiceError::DiscoveryOff)
        ));
        // The refusal is the saved setting's, also after a restart.
        let again = service(dir.path());
        again.load_settings().await;
        assert!(matches!(
            again.discovery_server(None),
            Err(ServiceError::DiscoveryOff)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn quick_changes_are_all_saved_and_the_last_one_wins() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let saves: Vec<_> = (1..=6u32)
            .map(|m| svc.change_settings(move |s| s.idle_lock_minutes = m).1)
            .collect();
        for save in saves {
            save.await.expect("every save succeeds");
        }
        let again = service(dir.path());
        assert_eq!(again.load_settings().await.0.idle_lock_minutes, 6);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn this_runs_identity_server_wins_and_the_gate_still_holds() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let (_, save) =
            svc.change_settings(|s| s.identity_server = Some("https://saved.example".into()));
        save.await.unwrap();
        svc.set_identity_server(Some("http://127.0.0.1:9".into()));
        assert_eq!(svc.identity_server().as_deref(), Some("http://127.0.0.1:9"));
        assert_eq!(svc.discovery_server(None).unwrap(), "http://127.0.0.1:9");
        svc.set_identity_server(None);
        assert_eq!(svc.discovery_server(None).unwrap(), "https://saved.example");
        svc.change_settings(|s| s.discovery = false)
            .1
            .await
            .unwrap();
        svc.set_identity_server(Some("http://127.0.0.1:9".into()));
        assert!(matches!(
            svc.discovery_server(None),
            Err(ServiceError::DiscoveryOff)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn discovery_on_needs_an_open_book_and_an_account() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        let (_, save) = svc.change_settings(|s| s.discovery = true);
        save.await.unwrap();
        assert!(matches!(
            svc.discover(Some("http://127.0.0.1:9")).await,
            Err(ServiceError::NoContactBook)
        ));
        assert!(svc.open_book(Zeroizing::new("pass".into())).await);
        assert!(matches!(
            svc.discover(Some("http://127.0.0.1:9")).await,
            Err(ServiceError::NotSignedIn)
        ));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_lock_drops_the_book_and_only_the_passphrase_resumes() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        drop(
            svc.open_profile(Zeroizing::new("pass".into()))
                .await
                .unwrap(),
        );
        assert!(svc.open_book(Zeroizing::new("pass".into())).await);
        svc.lock();
        assert!(matches!(svc.book(), Err(ServiceError::NoContactBook)));
        assert!(matches!(
            svc.resume(Zeroizing::new("wrong".into())).await,
            Err(ServiceError::Core(kontor_core::Error::WrongPassphrase))
        ));
        assert!(svc.book().is_err(), "still locked");
        svc.resume(Zeroizing::new("pass".into())).await.unwrap();
        assert!(svc.book().is_ok());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sign_out_without_an_account_is_refused_and_closes_the_book() {
        let dir = tempfile::tempdir().unwrap();
        let svc = service(dir.path());
        assert!(svc.open_book(Zeroizing::new("pass".into())).await);
        assert!(matches!(
            svc.sign_out().await,
            Err(ServiceError::NotSignedIn)
        ));
        assert!(svc.book().is_err(), "the book is closed");
        assert!(!svc.spawn(|_| async {}), "no account, no task");
    }
}
