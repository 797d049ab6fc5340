//! kontor-core: Kontor's Matrix client.
//!
//! It owns the matrix-sdk [`Client`], the encrypted profile on disk, the background sync
//! and the outbox, and exposes async commands plus a stream of [`CoreEvent`]s. It knows
//! nothing of Slint or the CLI: both drive it through [`Kontor`].
//!
//! Rules it enforces for every caller:
//! - rooms it creates are encrypted from their creation event, and it refuses to send
//!   into a room that is not end-to-end encrypted ([`Error::Unencrypted`]);
//! - messages go through matrix-sdk's persistent send queue, so a message written while
//!   the homeserver is down is kept on disk and sent once, in order, when it is back;
//! - nothing it logs contains message bodies, phone numbers or secrets.
#![deny(missing_docs)]

mod business;
mod chat;
mod error;
mod events;
mod files;
mod openid;
mod profile;
mod rooms;
mod security;
mod sync;

use std::{sync::Arc, time::Duration};

use matrix_sdk::{
    Client, Room, SqliteStoreConfig,
    encryption::{BackupDownloadStrategy, EncryptionSettings},
    store::RoomLoadSettings,
};
use tokio::{sync::broadcast, task::JoinHandle};

pub use business::{BUSINESS_TYPE, BusinessEvent};
pub use chat::OutboxEntry;
pub use error::{Error, Result};
pub use events::{ConnectionState, CoreEvent, Direction, Message, MessageBody, SendState};
pub use files::{Downloaded, EXTRA_NAMESPACE, OFFLINE_QUEUE_LIMIT, SentFile};
pub use openid::OpenIdToken;
pub use profile::{KdfParams, Profile};
pub use rooms::{AroundPage, ChatSummary, NewerPage, Page, PageToken};
pub use security::{DeviceInfo, IncomingVerification, SasEmoji, Verification};
pub use sync::{FIRST_WINDOW, SyncMode};
/// Cancels a running [`Kontor::send_file_cancellable`] (re-exported so callers need no
/// tokio-util of their own).
pub use tokio_util::sync::CancellationToken;

use profile::SavedSession;

/// A logged-in Kontor account: the Matrix client plus its profile.
///
/// Cheap to share behind an `Arc`; all methods take `&self`.
pub struct Kontor {
    client: Client,
    profile: Profile,
    homeserver: String,
    events: broadcast::Sender<CoreEvent>,
    sync_task: std::sync::Mutex<Option<JoinHandle<()>>>,
    /// Which protocol this session syncs with (see `sync.rs`).
    sync_mode: std::sync::Mutex<SyncMode>,
    /// The sliding-sync connection, built on first use.
    sliding: tokio::sync::OnceCell<matrix_sdk::sliding_sync::SlidingSync>,
    /// Whether sliding-sync requests may long-poll: only while the background sync runs.
    long_poll: Arc<std::sync::atomic::AtomicBool>,
    /// While set, the sync's messages are history this device has seen (a new
    /// sliding-sync connection repeats each chat's latest events) and are not announced.
    quiet_history: Arc<std::sync::atomic::AtomicBool>,
    /// The message events this process has announced (see `chat::handlers::Announced`).
    announced: Arc<std::sync::Mutex<chat::handlers::Announced>>,
    http: matrix_sdk::reqwest::Client,
    send_lock: tokio::sync::Mutex<()>,
    /// Verification requests seen by the sync (user id, flow id), newest last, so that
    /// [`Kontor::accept_verification`] also finds a request that arrived before it was
    /// called (the broadcast stream only reaches receivers that already listened).
    verification_inbox: Arc<std::sync::Mutex<Vec<(String, String)>>>,
    /// Transaction id → event id of messages this process saw the send queue deliver, so
    /// [`Kontor::wait_sent`] can name the event even when the send finished before it
    /// subscribed and the event is not yet in the room's history.
    sent_ids: Arc<std::sync::Mutex<std::collections::HashMap<String, String>>>,
    /// Counts successful syncs, so [`Kontor::mark_read`] can wait for the one that
    /// brings the server's new unread count.
    synced: tokio::sync::watch::Sender<u64>,
    /// The business room this process created, until the sync brings its room type (by
    /// which it is found otherwise); also serialises creating it.
    business: tokio::sync::Mutex<Option<matrix_sdk::ruma::OwnedRoomId>>,
    /// The chat list as last stored in the profile (see [`Kontor::stored_chats`]), so an
    /// unchanged list is not written again; held across the write, so two writes never
    /// interleave.
    stored_chats: tokio::sync::Mutex<Option<Vec<ChatSummary>>>,
}

impl std::fmt::Debug for Kontor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Kontor")
            .field("user", &self.client.user_id())
            .field("profile", &self.profile)
            .finish_non_exhaustive()
    }
}

/// Connections per SQLite store (see `Kontor::build_client`).
const STORE_CONNECTIONS: usize = 3;

impl Kontor {
    /// The client on the profile's stores, and whether the store was prepared for
    /// sliding sync after classic `/sync` (see `sync::prepare_store_for_sliding_sync`).
    async fn build_client(profile: &Profile, homeserver: &str) -> Result<(Client, bool)> {
        crate::profile::create_private_dir(&profile.store_dir())?;
        // The SDK's defaults give each of its four SQLite stores up to 4 connections per
        // core, each with a 2 MB page cache: up to 64 MiB on a 2-core machine once warm,
        // for a client whose reads are a few rows per chat. A small pool with small
        // caches keeps the app within its memory budget (issue 15) and is what the SDK
        // itself calls its low-memory configuration, with one more connection per store
        // so the chat list's concurrent reads (`CHATS_AT_ONCE`) are not serialised.
        let store = SqliteStoreConfig::with_low_memory_config(profile.store_dir())
            .pool_max_size(STORE_CONNECTIONS)
            .key(Some(profile.store_key()));
        let migrated = sync::prepare_store_for_sliding_sync(&store).await?;
        let client = Client::builder()
            .homeserver_url(homeserver)
            .sqlite_store_with_config_and_cache_path(store, None::<&std::path::Path>)
            .with_encryption_settings(EncryptionSettings {
                auto_enable_cross_signing: true,
                auto_enable_backups: true,
                backup_download_strategy: BackupDownloadStrategy::AfterDecryptionFailure,
            })
            .build()
            .await?;
        profile.harden_store_permissions()?;
        // The event cache keeps synced timeline events in the (encrypted) store, which is
        // what `messages` falls back to while the homeserver is unreachable.
        if let Err(e) = client.event_cache().subscribe() {
            tracing::warn!("event cache unavailable: {e}");
        }
        Ok((client, migrated))
    }

    fn assemble(client: Client, profile: Profile, homeserver: String, quiet: bool) -> Arc<Kontor> {
        let (events, _) = broadcast::channel(1024);
        let http = matrix_sdk::reqwest::Client::new();
        let kontor = Arc::new(Kontor {
            client,
            profile,
            homeserver,
            events,
            sync_task: Default::default(),
            sync_mode: std::sync::Mutex::new(SyncMode::Undecided),
            sliding: Default::default(),
            long_poll: Default::default(),
            quiet_history: Arc::new(std::sync::atomic::AtomicBool::new(quiet)),
            announced: Default::default(),
            http,
            send_lock: Default::default(),
            verification_inbox: Default::default(),
            sent_ids: Default::default(),
            synced: tokio::sync::watch::Sender::new(0),
            business: Default::default(),
            stored_chats: Default::default(),
        });
        kontor.install_handlers();
        kontor
    }

    /// Logs in with a password and saves the session (encrypted) in the profile.
    ///
    /// Cross-signing is bootstrapped on first login and room keys are backed up on the
    /// server (encrypted), so another device can later read old history after
    /// [`Kontor::recover`].
    pub async fn login(
        profile: Profile,
        homeserver: &str,
        user: &str,
        password: &str,
    ) -> Result<Arc<Kontor>> {
        if let Some(saved) = profile.load_session()? {
            return Err(Error::AlreadyLoggedIn(
                saved.session.meta.user_id.to_string(),
            ));
        }
        // A store without a session is left over from an interrupted login: the SDK refuses
        // to reuse it for another device, so start clean.
        let store = profile.store_dir();
        if store.exists() {
            std::fs::remove_dir_all(&store).map_err(|e| Error::io("cannot reset", &store, e))?;
        }
        let (client, _) = Self::build_client(&profile, homeserver).await?;
        client
            .matrix_auth()
            .login_username(user, password)
            .initial_device_display_name("Kontor")
            .send()
            .await
            .map_err(Error::from)?;
        let session = client.matrix_auth().session().ok_or(Error::NotLoggedIn)?;
        profile.save_session(&SavedSession {
            homeserver: homeserver.to_owned(),
            session,
        })?;
        let kontor = Self::assemble(client, profile, homeserver.to_owned(), false);
        // One sync uploads our device keys and gets the first window of chats (the rest
        // comes with the background sync); cross-signing is set up by the SDK once the
        // keys are known. Wait for it so the first `verify` works.
        kontor.sync_once().await?;
        kontor
            .client
            .encryption()
            .wait_for_e2ee_initialization_tasks()
            .await;
        Ok(kontor)
    }

    /// Restores the saved session without a password. Works offline: nothing here needs
    /// the homeserver, so queued messages can be written while it is down.
    pub async fn restore(profile: Profile) -> Result<Arc<Kontor>> {
        let saved = profile.load_session()?.ok_or(Error::NotLoggedIn)?;
        let (client, migrated) = Self::build_client(&profile, &saved.homeserver).await?;
        client
            .matrix_auth()
            .restore_session(saved.session, RoomLoadSettings::default())
            .await?;
        let kontor = Self::assemble(client, profile, saved.homeserver, migrated);
        // Messages queued by an earlier run (possibly one that crashed) go out again.
        kontor
            .client
            .send_queue()
            .respawn_tasks_for_rooms_with_unsent_requests()
            .await;
        Ok(kontor)
    }

    /// Logs out on the server and deletes the local profile.
    ///
    /// With `force`, a homeserver that cannot be reached does not stop the local wipe (the
    /// device then stays listed on the server until removed from another client).
    pub async fn logout(self: Arc<Self>, force: bool) -> Result<()> {
        self.stop_sync();
        match self.client.matrix_auth().logout().await {
            Ok(_) => {}
            Err(e) => {
                let err = Error::from(e);
                if !force {
                    return Err(err);
                }
                tracing::warn!("server logout failed, wiping locally anyway: {err}");
            }
        }
        let kontor = Arc::try_unwrap(self).map_err(|_| {
            Error::io(
                "cannot wipe",
                "profile",
                std::io::Error::other("profile still in use"),
            )
        })?;
        let dir = kontor.profile.dir().to_owned();
        drop(kontor);
        match std::fs::remove_dir_all(&dir) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::io("cannot delete", dir, e)),
        }
    }

    /// Our Matrix user id.
    pub fn user_id(&self) -> String {
        self.client
            .user_id()
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// Our device id.
    pub fn device_id(&self) -> String {
        self.client
            .device_id()
            .map(|d| d.to_string())
            .unwrap_or_default()
    }

    /// The homeserver URL this profile talks to.
    pub fn homeserver(&self) -> &str {
        &self.homeserver
    }

    /// The profile this account lives in.
    pub fn profile(&self) -> &Profile {
        &self.profile
    }

    /// Escape hatch for tests and benchmarks that need the raw SDK client.
    #[doc(hidden)]
    pub fn sdk_client(&self) -> &Client {
        &self.client
    }

    /// Subscribes to domain events. Each subscriber gets every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<CoreEvent> {
        self.events.subscribe()
    }

    pub(crate) fn emit(&self, event: CoreEvent) {
        // No subscribers is fine: the CLI often has none.
        let _ = self.events.send(event);
    }

    async fn on_online(&self) {
        // The send queue pauses a room after a network error and waits to be told the
        // server is back; a successful sync is that signal.
        let paused = !self.client.send_queue().is_enabled()
            || self
                .client
                .joined_rooms()
                .iter()
                .any(|r| !r.send_queue().is_enabled());
        if paused {
            self.client.send_queue().set_enabled(true).await;
        }
        self.synced.send_modify(|n| *n = n.wrapping_add(1));
        let _ = self.profile.harden_store_permissions();
    }

    /// Prepares for process exit: stops the sync and pauses the outbox so no request is
    /// cut off half-way (a queued message stays queued and goes out on the next start).
    pub async fn shutdown(&self) {
        self.stop_sync();
        self.client.send_queue().set_enabled(false).await;
        // Let a request already on the wire settle before the runtime goes away.
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    /// True while the background sync of [`Kontor::start_sync`] runs.
    pub(crate) fn sync_running(&self) -> bool {
        self.sync_task
            .lock()
            .expect("sync slot not poisoned")
            .as_ref()
            .is_some_and(|h| !h.is_finished())
    }

    /// Stops the background sync and returns once its task has ended, so it no longer
    /// holds the account (sign-out needs the last reference to delete the stores).
    pub async fn stop_sync_and_wait(&self) {
        self.long_poll
            .store(false, std::sync::atomic::Ordering::Relaxed);
        let task = self
            .sync_task
            .lock()
            .expect("sync slot not poisoned")
            .take();
        if let Some(h) = task {
            h.abort();
            // Cancelled (or already finished): either way the task is gone.
            let _ = h.await;
        }
    }

    /// Stops the background sync.
    pub fn stop_sync(&self) {
        self.long_poll
            .store(false, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self
            .sync_task
            .lock()
            .expect("sync slot not poisoned")
            .take()
        {
            h.abort();
        }
    }

    fn joined_room(&self, room_id: &str) -> Result<Room> {
        let id =
            matrix_sdk::ruma::RoomId::parse(room_id).map_err(|_| Error::NoRoom(room_id.into()))?;
        self.client
            .get_room(&id)
            .filter(|r| r.state() == matrix_sdk::RoomState::Joined)
            .ok_or_else(|| Error::NoRoom(room_id.into()))
    }
}

impl Drop for Kontor {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.sync_task.lock()
            && let Some(h) = slot.take()
        {
            h.abort();
        }
    }
}

/// Parses a Matrix user id, with a typed error.
pub fn parse_user_id(s: &str) -> Result<matrix_sdk::ruma::OwnedUserId> {
    matrix_sdk::ruma::UserId::parse(s).map_err(|_| Error::InvalidUserId(s.to_owned()))
}
