//! Syncing with the homeserver: simplified sliding sync (MSC4186) where the homeserver has
//! it, classic `/sync` where it does not.
//!
//! Why sliding sync: classic `/sync` answers the first request of a device with every
//! room at once (10 s for 100 chats, measured), and a restart waits for that same big
//! answer before anything is new. Sliding sync asks for a window of the most recent chats
//! first ([`FIRST_WINDOW`]), so a new device shows its first screen after one small answer
//! and grows the window in the background; a restart reads the chat list from the store
//! and only asks for what changed.
//!
//! One connection ([`CONN_ID`]) carries everything: the chat list, and the extensions for
//! to-device messages, end-to-end encryption (one-time key counts, device list changes),
//! account data (`m.direct`), receipts and typing. Its position is kept in the store
//! (`share_pos`), so the next start, the app's or a CLI command's, continues where the
//! last one stopped and the SDK's event handlers see each event once.
//!
//! Which protocol a homeserver speaks is found out by trying: the first sliding-sync
//! request of a session that the homeserver answers with "unrecognised endpoint" switches
//! this session to classic `/sync` (logged once). Asking `/versions` first would cost a
//! round trip on every start and fails offline; the failed request costs the same once.
//!
//! Well-behaved on busy homeservers: the SDK retries one request a few times (honouring
//! `Retry-After` on 429, and 5xx with back-off); when that gives up, the loop here waits a
//! randomised, growing delay ([`retry_delay`]) before the next attempt, never less than
//! the server asked for, so many clients that lost the server at once do not return in
//! lockstep, and a failing server is never hammered in a tight loop.

use std::time::Duration;

use matrix_sdk::{
    SqliteStoreConfig,
    config::SyncSettings,
    ruma::{
        api::error::{ErrorKind, LimitExceededErrorData, RetryAfter},
        events::StateEventType,
    },
    sliding_sync::{
        PollTimeout, SlidingSync, SlidingSyncList, SlidingSyncListLoadingState, SlidingSyncMode,
        Version as SlidingVersion,
    },
};
use std::sync::atomic::Ordering;

use rand::Rng;

use crate::{ConnectionState, CoreEvent, Error, Kontor, Result};

/// The sliding-sync connection's id (also the key its position is stored under).
pub(crate) const CONN_ID: &str = "kontor";
/// The list of chats, ordered by recent activity by the server.
const LIST: &str = "chats";
/// The first window of chats a fresh connection asks for, and how much it grows by:
/// one screen of the chat list.
pub const FIRST_WINDOW: u32 = 20;
/// Events per chat in a sliding-sync answer: enough for the preview and for the new
/// messages of a chat between two answers (what classic `/sync` sent, 10, by default).
const TIMELINE_LIMIT: u32 = 10;
/// How long the server may hold a request open when nothing happens.
const POLL_TIMEOUT: Duration = Duration::from_secs(15);
/// Extra time for the network on top of [`POLL_TIMEOUT`].
const NETWORK_TIMEOUT: Duration = Duration::from_secs(10);
/// How long [`Kontor::sync_once`] waits for the running background sync's next answer.
const ONE_SHOT_WAIT: Duration = Duration::from_secs(2);
/// Round trips [`Kontor::sync_all`] allows to grow the window over every chat (20 per
/// round trip: 4,000 chats).
const MAX_GROW_STEPS: usize = 200;
/// First retry delay after a failed sync; doubles per failure up to [`MAX_BACKOFF`].
pub(crate) const MIN_BACKOFF: Duration = Duration::from_millis(500);
/// Longest delay the loop picks by itself.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// Longest `Retry-After` honoured: a server asking for more is treated as asking for
/// this, so a bogus header cannot silence the client for hours.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Which protocol this session syncs with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SyncMode {
    /// Not known yet: no sync request has been answered in this session.
    Undecided,
    /// Simplified sliding sync (MSC4186).
    Sliding,
    /// Classic `/sync`: the homeserver has no sliding sync.
    Classic,
}

/// The delay before retrying after a failed sync: a random point in the upper half of
/// `backoff` ("equal jitter"), but at least what the server asked for in `Retry-After`
/// (plus up to a second of jitter), and never more than [`MAX_RETRY_AFTER`].
pub(crate) fn retry_delay(
    backoff: Duration,
    retry_after: Option<Duration>,
    rng: &mut impl Rng,
) -> Duration {
    let half = backoff / 2;
    let own = half + half.mul_f64(rng.gen_range(0.0..=1.0));
    match retry_after {
        Some(server) => {
            let jitter = Duration::from_millis(rng.gen_range(0..=1000));
            (server.min(MAX_RETRY_AFTER) + jitter).max(own)
        }
        None => own,
    }
}

/// The next back-off after a failure: doubled, capped at [`MAX_BACKOFF`].
pub(crate) fn next_backoff(backoff: Duration) -> Duration {
    (backoff * 2).clamp(MIN_BACKOFF, MAX_BACKOFF)
}

/// The `Retry-After` of a rate-limit answer (429 `M_LIMIT_EXCEEDED`), if the error is one.
pub(crate) fn retry_after(e: &matrix_sdk::Error) -> Option<Duration> {
    match e.client_api_error_kind()? {
        ErrorKind::LimitExceeded(LimitExceededErrorData { retry_after, .. }) => {
            Some(match retry_after {
                Some(RetryAfter::Delay(d)) => *d,
                Some(RetryAfter::DateTime(t)) => t
                    .duration_since(std::time::SystemTime::now())
                    .unwrap_or_default(),
                // Rate-limited without saying for how long: the loop's own back-off.
                None => Duration::ZERO,
            })
        }
        _ => None,
    }
}

/// A failed sync request: the error, and how long the server asked us to wait.
pub(crate) struct Failed {
    error: Error,
    retry_after: Option<Duration>,
}

impl Failed {
    fn plain(error: Error) -> Failed {
        Failed {
            error,
            retry_after: None,
        }
    }
}

impl From<matrix_sdk::Error> for Failed {
    fn from(e: matrix_sdk::Error) -> Failed {
        Failed {
            retry_after: retry_after(&e),
            error: Error::from(e),
        }
    }
}

/// True when the homeserver does not know the sliding-sync endpoint.
fn lacks_sliding_sync(e: &matrix_sdk::Error) -> bool {
    matches!(e, matrix_sdk::Error::Http(h) if h.is_endpoint_not_implemented())
}

/// Prepares a store that classic `/sync` used for sliding sync.
///
/// Classic `/sync` keeps its `next_batch` token (`s72594_4483_1934`) in the crypto
/// store, and sliding sync sends that same stored token as the to-device extension's
/// `since`, where Synapse wants a stream number: every request would be refused (400)
/// forever. A token that is not a number is replaced by "0" (to-device messages are
/// deleted on the server only once acknowledged, so none is lost: the server sends again
/// what was not acknowledged). Called before the client opens the store.
///
/// Returns true when it did: such a store has seen its chats, and the first sliding-sync
/// answers (a new connection) repeat each chat's latest events, which must not be
/// announced as new messages again (see [`Kontor::sync_request`]).
pub(crate) async fn prepare_store_for_sliding_sync(config: &SqliteStoreConfig) -> Result<bool> {
    use matrix_sdk_crypto::store::{CryptoStore, types::Changes};
    let store = matrix_sdk_sqlite::SqliteCryptoStore::open_with_config(config)
        .await
        .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))?;
    let token = store
        .next_batch_token()
        .await
        .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))?;
    if let Some(token) = token
        && token.parse::<u64>().is_err()
    {
        tracing::info!("to-device position of classic /sync reset for sliding sync");
        store
            .save_changes(Changes {
                next_batch_token: Some("0".to_owned()),
                ..Default::default()
            })
            .await
            .map_err(|e| Error::Matrix(Box::new(matrix_sdk::Error::UnknownError(Box::new(e)))))?;
        return Ok(true);
    }
    Ok(false)
}

impl Kontor {
    /// The protocol this session syncs with (undecided until the homeserver answered).
    pub fn sync_mode(&self) -> SyncMode {
        *self.sync_mode.lock().expect("sync mode not poisoned")
    }

    fn set_sync_mode(&self, mode: SyncMode) {
        let mut m = self.sync_mode.lock().expect("sync mode not poisoned");
        if *m != mode {
            match mode {
                SyncMode::Classic => tracing::info!(
                    "the homeserver has no simplified sliding sync (MSC4186): using classic /sync"
                ),
                SyncMode::Sliding => tracing::info!("syncing with simplified sliding sync"),
                SyncMode::Undecided => {}
            }
            *m = mode;
        }
    }

    /// The sliding-sync connection, built on first use.
    async fn sliding(&self) -> Result<SlidingSync> {
        self.sliding
            .get_or_try_init(|| async {
                if matches!(self.client.sliding_sync_version(), SlidingVersion::None) {
                    self.client.set_sliding_sync_version(SlidingVersion::Native);
                }
                let long_poll = self.long_poll.clone();
                let list = SlidingSyncList::builder(LIST)
                    .sync_mode(SlidingSyncMode::new_growing(FIRST_WINDOW))
                    // The server may hold a request open only for the background sync and
                    // once the window covers every chat; a one-shot never waits for news.
                    .requires_timeout(move |generator| {
                        if generator.is_fully_loaded() && long_poll.load(Ordering::Relaxed) {
                            PollTimeout::Default
                        } else {
                            PollTimeout::None
                        }
                    })
                    .timeline_limit(TIMELINE_LIMIT)
                    // Every state event, as classic /sync gives: room names, members (a
                    // direct chat's partner), encryption, the business room's type.
                    .required_state(vec![(StateEventType::from("*"), "*".to_owned())]);
                self.client
                    .sliding_sync(CONN_ID)?
                    .add_list(list)
                    .with_all_extensions()
                    .poll_timeout(POLL_TIMEOUT)
                    .network_timeout(NETWORK_TIMEOUT)
                    .share_pos()
                    .build()
                    .await
                    .map_err(Error::from)
            })
            .await
            .cloned()
    }

    /// Whether the sliding-sync window covers every chat the server has.
    async fn window_complete(&self, ss: &SlidingSync) -> bool {
        ss.on_list(LIST, |l| {
            let done = l.state() == SlidingSyncListLoadingState::FullyLoaded;
            async move { done }
        })
        .await
        .unwrap_or(true)
    }

    /// One sync request in the session's mode, deciding the mode on the first answer.
    /// `classic_timeout` is the long-poll time of a classic request. A failure carries
    /// the server's `Retry-After`, if it sent one.
    async fn sync_request(&self, classic_timeout: Duration) -> std::result::Result<(), Failed> {
        if self.sync_mode() != SyncMode::Classic {
            let ss = self.sliding().await.map_err(Failed::plain)?;
            match ss.sync_once().await {
                Ok(_) => {
                    self.set_sync_mode(SyncMode::Sliding);
                    // A new connection on a store that has seen its chats repeats their
                    // latest events, window by window: they stay unannounced until the
                    // window covers every chat.
                    if self.quiet_history.load(Ordering::Relaxed) && self.window_complete(&ss).await
                    {
                        self.quiet_history.store(false, Ordering::Relaxed);
                    }
                    return Ok(());
                }
                Err(e) if lacks_sliding_sync(&e) => {
                    self.quiet_history.store(false, Ordering::Relaxed);
                    self.set_sync_mode(SyncMode::Classic)
                }
                Err(e) => {
                    if e.client_api_error_kind() == Some(&ErrorKind::UnknownPos) {
                        // The server forgot our position (expired). Without a reset every
                        // later request would be refused the same way (the SDK resets it
                        // only in its own sync loop, which Kontor does not use). The next
                        // request starts a new connection, which repeats each chat's
                        // latest events (the handlers announce an event once).
                        tracing::info!("sliding sync position expired; starting over");
                        ss.expire_session().await;
                    }
                    return Err(Failed::from(e));
                }
            }
        }
        let settings = SyncSettings::default().timeout(classic_timeout);
        self.client
            .sync_once(settings)
            .await
            .map_err(Failed::from)?;
        self.set_sync_mode(SyncMode::Classic);
        Ok(())
    }

    /// One sync: the most recent chats (the first window of [`FIRST_WINDOW`] on a fresh
    /// connection, growing by that much per call), every to-device message and key
    /// change, without waiting for news. Re-enables the outbox after a successful sync,
    /// which is how queued messages start moving again once the homeserver is back. What
    /// a one-shot command does before it acts: it does not wait for every chat
    /// ([`Kontor::sync_all`] does).
    ///
    /// With sliding sync this is two short round trips. The SDK sends the key queries an
    /// answer asks for (device lists that changed) only alongside the *next* request, and
    /// a user left flagged makes every later send wait 5 s for a query nobody sends
    /// (measured: 5.1 s per message). The background sync's next request does that; a
    /// one-shot needs the second round trip.
    ///
    /// While the background sync runs on sliding sync, this sends nothing: that sync holds
    /// the connection and long-polls, so it is as current as the server can make it, and a
    /// request of our own would queue behind its long poll (15 s, twice). It waits briefly
    /// ([`ONE_SHOT_WAIT`]) for the background sync's next answer instead.
    pub async fn sync_once(&self) -> Result<()> {
        if self.sync_running() && self.sync_mode() == SyncMode::Sliding {
            let mut synced = self.synced.subscribe();
            let _ = tokio::time::timeout(ONE_SHOT_WAIT, synced.changed()).await;
            return Ok(());
        }
        self.sync_step().await?;
        if self.sync_mode() == SyncMode::Sliding {
            self.sync_step().await?;
        }
        Ok(())
    }

    /// One round trip of [`Kontor::sync_once`], with its connection events.
    async fn sync_step(&self) -> Result<()> {
        let before = self.chat_count();
        match self.sync_request(Duration::ZERO).await {
            Ok(()) => {
                self.on_online().await;
                self.notice_chats(before);
                Ok(())
            }
            Err(Failed { error: err, .. }) => {
                self.emit(CoreEvent::Connection(ConnectionState::Offline {
                    reason: err.to_string(),
                }));
                Err(err)
            }
        }
    }

    /// Syncs until this device knows every chat: round trips that grow the sliding-sync
    /// window until it covers the whole list (classic `/sync`: one round trip, which
    /// brings every chat anyway).
    pub async fn sync_all(&self) -> Result<()> {
        self.sync_step().await?;
        if self.sync_mode() != SyncMode::Sliding {
            return Ok(());
        }
        let ss = self.sliding().await?;
        for _ in 0..MAX_GROW_STEPS {
            if self.window_complete(&ss).await {
                break;
            }
            self.sync_step().await?;
        }
        // The key queries the last answer asked for (see `sync_once`).
        self.sync_step().await
    }

    /// Whether this device knows every chat the server has: on sliding sync, whether the
    /// window covers the whole list; on classic `/sync`, whether one answer came (it
    /// brings every chat). False before the first answer of this session.
    async fn knows_every_chat(&self) -> bool {
        match self.sync_mode() {
            SyncMode::Undecided => false,
            SyncMode::Classic => true,
            SyncMode::Sliding => match self.sliding().await {
                Ok(ss) => self.window_complete(&ss).await,
                Err(_) => false,
            },
        }
    }

    /// Waits until this device knows every chat (`knows_every_chat`) while the
    /// background sync grows the window, at most `limit`; returns whether it does. Why:
    /// on a new device sliding sync brings the list a window at a time, and work that
    /// goes over every chat (the search index's run) would otherwise see only the first
    /// window. Sends nothing itself: without the background sync it only waits.
    pub async fn wait_for_every_chat(&self, limit: Duration) -> bool {
        let mut synced = self.synced.subscribe();
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            if self.knows_every_chat().await {
                return true;
            }
            // Each answer of the sync may complete the window; the timeout covers the
            // last check after the deadline.
            match tokio::time::timeout_at(deadline, synced.changed()).await {
                Ok(Ok(())) => {}
                Ok(Err(_)) | Err(_) => return self.knows_every_chat().await,
            }
        }
    }

    /// Joined chats and invitations this device knows (what a change of makes the chat
    /// list reload).
    fn chat_count(&self) -> (usize, usize) {
        (
            self.client.joined_rooms().len(),
            self.client.invited_rooms().len(),
        )
    }

    fn notice_chats(&self, before: (usize, usize)) {
        if self.chat_count() != before {
            self.emit(CoreEvent::ChatsChanged);
        }
    }

    /// Starts syncing in the background until [`Kontor::stop_sync`] or drop: sliding
    /// sync (the window grows over every chat, then long-polls), else classic `/sync`.
    /// Connection changes are published as [`CoreEvent::Connection`], new or removed
    /// chats as [`CoreEvent::ChatsChanged`]. After a failure it waits [`retry_delay`]
    /// (randomised, 0.5 s doubling to 10 s, at least the server's `Retry-After`).
    pub fn start_sync(self: &std::sync::Arc<Self>) {
        let mut slot = self.sync_task.lock().expect("sync slot not poisoned");
        if slot.as_ref().is_some_and(|h| !h.is_finished()) {
            return;
        }
        self.long_poll.store(true, Ordering::Relaxed);
        let weak = std::sync::Arc::downgrade(self);
        *slot = Some(tokio::spawn(async move {
            let mut online: Option<bool> = None;
            let mut backoff = MIN_BACKOFF;
            loop {
                let Some(me) = weak.upgrade() else { return };
                let before = me.chat_count();
                match me.sync_request(POLL_TIMEOUT).await {
                    Ok(()) => {
                        backoff = MIN_BACKOFF;
                        me.on_online().await;
                        if online != Some(true) {
                            online = Some(true);
                            me.emit(CoreEvent::Connection(ConnectionState::Online));
                        }
                        me.notice_chats(before);
                    }
                    Err(Failed {
                        error: err,
                        retry_after: server_wait,
                    }) => {
                        if online != Some(false) {
                            online = Some(false);
                            me.emit(CoreEvent::Connection(ConnectionState::Offline {
                                reason: err.to_string(),
                            }));
                        }
                        drop(me);
                        let delay = retry_delay(backoff, server_wait, &mut rand::thread_rng());
                        tracing::debug!(?delay, "sync failed; retrying");
                        tokio::time::sleep(delay).await;
                        backoff = next_backoff(backoff);
                    }
                }
            }
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{SeedableRng, rngs::StdRng};

    #[test]
    fn delays_are_randomised_within_the_upper_half_of_the_backoff() {
        let mut rng = StdRng::seed_from_u64(7);
        let delays: Vec<Duration> = (0..200)
            .map(|_| retry_delay(Duration::from_secs(4), None, &mut rng))
            .collect();
        assert!(delays.iter().all(|d| *d >= Duration::from_secs(2)));
        assert!(delays.iter().all(|d| *d <= Duration::from_secs(4)));
        let distinct: std::collections::HashSet<_> = delays.iter().collect();
        assert!(distinct.len() > 150, "jitter: {} distinct", distinct.len());
    }

    #[test]
    fn the_servers_retry_after_is_a_floor_and_is_capped() {
        let mut rng = StdRng::seed_from_u64(1);
        for _ in 0..100 {
            let d = retry_delay(MIN_BACKOFF, Some(Duration::from_secs(7)), &mut rng);
            assert!(
                d >= Duration::from_secs(7) && d <= Duration::from_secs(8),
                "{d:?}"
            );
            let d = retry_delay(MIN_BACKOFF, Some(Duration::from_secs(86_400)), &mut rng);
            assert!(d <= MAX_RETRY_AFTER + Duration::from_secs(1), "{d:?}");
            // A short Retry-After does not shorten the loop's own back-off.
            let d = retry_delay(MAX_BACKOFF, Some(Duration::ZERO), &mut rng);
            assert!(d >= MAX_BACKOFF / 2, "{d:?}");
        }
    }

    #[test]
    fn backoff_doubles_to_its_cap_and_never_spins() {
        let mut b = MIN_BACKOFF;
        let mut seen = vec![b];
        for _ in 0..10 {
            b = next_backoff(b);
            seen.push(b);
        }
        assert_eq!(seen[1], Duration::from_secs(1));
        assert_eq!(*seen.last().unwrap(), MAX_BACKOFF);
        assert!(seen.iter().all(|d| *d >= MIN_BACKOFF));
        assert_eq!(next_backoff(Duration::ZERO), MIN_BACKOFF);
    }
}
