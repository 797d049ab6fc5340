//! Command implementations and what they share: where the profile lives and how a
//! saved session is unlocked and restored.

mod account;
mod chat;
mod consent;
mod contacts;
mod link;
mod quote;
mod search;
mod sync;
mod verify;

use std::{
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context, Result};
use kontor::service::{Service, ServiceConfig, kdf};
use kontor_core::{Kontor, Profile};

use crate::{
    cli::{Cli, Command},
    input,
};

/// Settings every command gets.
#[derive(Debug)]
pub struct Ctx {
    /// The data directory (`--data-dir`).
    pub data_dir: PathBuf,
    /// `--json`.
    pub json: bool,
    /// The restored account, kept so [`Ctx::close`] can quiesce it on the way out.
    session: std::sync::Mutex<Option<Arc<Kontor>>>,
}

/// Runs the parsed command line.
pub async fn run(cli: Cli) -> Result<()> {
    let ctx = Ctx {
        data_dir: match cli.data_dir {
            Some(d) => d,
            None => default_data_dir()?,
        },
        json: cli.json,
        session: Default::default(),
    };
    // main.rs opens the UI when no subcommand is given.
    let Some(command) = cli.command else {
        anyhow::bail!("no command given");
    };
    let result = dispatch(&ctx, command).await;
    ctx.close().await;
    result
}

async fn dispatch(ctx: &Ctx, command: Command) -> Result<()> {
    match command {
        Command::Login { homeserver, user } => account::login(ctx, &homeserver, &user).await,
        Command::Logout { force } => account::logout(ctx, force).await,
        Command::Whoami => account::whoami(ctx).await,
        Command::Recovery { action } => account::recovery(ctx, action).await,
        Command::Send { user, text, wait } => chat::send(ctx, &user, &text, wait).await,
        Command::SendFile {
            user,
            path,
            mime,
            wait,
        } => chat::send_file(ctx, &user, &path, mime.as_deref(), wait).await,
        Command::Messages {
            user,
            limit,
            around,
        } => chat::messages(ctx, &user, limit, around.as_deref()).await,
        Command::Download { event_id, out } => chat::download(ctx, &event_id, &out).await,
        Command::Invites { action } => sync::invites(ctx, action).await,
        Command::Outbox { action } => sync::outbox(ctx, action).await,
        Command::Sync { follow, timeout } => sync::sync(ctx, follow, timeout).await,
        Command::Verify { action } => verify::verify(ctx, action).await,
        Command::Contacts { action } => contacts::contacts(ctx, action).await,
        Command::Consent { action } => consent::consent(ctx, action).await,
        Command::Quote { action } => quote::quote(ctx, action).await,
        Command::Search(args) => search::search(ctx, args).await,
        Command::Link { png, svg } => link::link(ctx, png.as_deref(), svg.as_deref()).await,
        // main.rs runs the demo itself: it owns the UI thread, not this runtime.
        #[cfg(feature = "demo")]
        Command::Demo => anyhow::bail!("the demo is started by main"),
    }
}

/// `$XDG_DATA_HOME/kontor`, else `~/.local/share/kontor`.
pub fn default_data_dir() -> Result<PathBuf> {
    if let Some(x) = std::env::var_os("XDG_DATA_HOME").map(PathBuf::from)
        && x.is_absolute()
    {
        return Ok(x.join("kontor"));
    }
    let home = std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .context("cannot find a data directory: set --data-dir, KONTOR_DATA_DIR or HOME")?;
    Ok(PathBuf::from(home).join(".local/share/kontor"))
}

impl Ctx {
    /// The profile directory. A subdirectory, not the data directory itself, because
    /// logout deletes the profile directory wholesale: `--data-dir ~` must not wipe home.
    pub fn profile_dir(&self) -> PathBuf {
        self.data_dir.join("profile")
    }

    /// True when a profile was created here (by an earlier `login`).
    fn has_profile(&self) -> bool {
        self.profile_dir().join("profile.json").exists()
    }

    /// The contact book's directory (its two stores are `work/` and `private/` inside).
    /// Beside the profile, not in it: `logout` deletes the profile, and logging out of
    /// Matrix must not erase the freelancer's customers.
    pub fn contacts_dir(&self) -> PathBuf {
        self.data_dir.join("contacts")
    }

    /// Reads the passphrase and unlocks (or, for login, creates) the profile.
    pub async fn unlock(&self) -> Result<Profile> {
        let passphrase = input::secret(input::PASSPHRASE)?;
        self.unlock_with(passphrase).await
    }

    /// Unlocks (or creates) the profile with a passphrase already read, for commands
    /// that need it twice (the contact book shares it) but may read stdin only once.
    pub async fn unlock_with(&self, passphrase: zeroize::Zeroizing<String>) -> Result<Profile> {
        open_profile(&self.profile_dir(), passphrase).await
    }

    /// Unlocks the profile and restores the saved session.
    ///
    /// Fails with "not logged in" before asking for anything when there is no profile, so
    /// a command run in a fresh data directory never creates one. With `sync`, one sync
    /// runs first; when the homeserver is down the command goes on with the local state
    /// (so `send` can still queue).
    pub async fn restore(&self, profile: Option<Profile>, sync: bool) -> Result<Arc<Kontor>> {
        let profile = match profile {
            Some(p) => p,
            None => self.unlocked().await?,
        };
        let kontor = Kontor::restore(profile)
            .await
            .context("cannot restore the session")?;
        if sync && let Err(e) = kontor.sync_once().await {
            tracing::warn!("sync failed, using the local state: {e}");
        }
        *self.session.lock().expect("session slot") = Some(kontor.clone());
        Ok(kontor)
    }

    /// The session service over an account restored by [`Ctx::restore`], for commands
    /// that apply the service's rules (quotes, the business link) as the app does.
    pub fn service(&self, kontor: Arc<Kontor>) -> Arc<Service> {
        let svc = Service::new(
            ServiceConfig {
                data_dir: self.data_dir.clone(),
                insecure_fast_kdf: insecure_fast_kdf(),
            },
            tokio::runtime::Handle::current(),
        );
        svc.adopt(kontor);
        svc
    }

    /// Every event the last sync delivered, in order, without waiting: what a one-shot
    /// command hands to the service's `observe_*` before it reads its records. A lag
    /// (more events than the channel holds) skips to the ones still there.
    pub fn drain(
        events: &mut tokio::sync::broadcast::Receiver<kontor_core::CoreEvent>,
    ) -> Vec<kontor_core::CoreEvent> {
        use tokio::sync::broadcast::error::TryRecvError;
        let mut out = Vec::new();
        loop {
            match events.try_recv() {
                Ok(ev) => out.push(ev),
                Err(TryRecvError::Lagged(n)) => tracing::warn!("{n} events were not read"),
                Err(_) => return out,
            }
        }
    }

    /// Hands over the only reference to the account (logout consumes it).
    pub fn take_session(&self) -> Option<Arc<Kontor>> {
        self.session.lock().expect("session slot").take()
    }

    /// Pauses the outbox, then lets the account outlive the runtime.
    ///
    /// `Kontor::shutdown` stops the sync and pauses the send queue so no new request
    /// starts. The client is still not dropped here: dropping it closes its SQLite stores
    /// while SDK background tasks (key backup) may be mid-operation, and the send queue
    /// treats the resulting store errors as unrecoverable. Shutting the runtime down first
    /// cancels those tasks at an await point; committed SQLite transactions are durable
    /// without a clean close, and the process exits right after.
    async fn close(&self) {
        if let Some(kontor) = self.take_session() {
            kontor.shutdown().await;
            std::mem::forget(kontor);
        }
    }

    /// Like [`Ctx::unlock`], but refuses to create a profile (every command but login).
    pub async fn unlocked(&self) -> Result<Profile> {
        if !self.has_profile() {
            return Err(kontor_core::Error::NotLoggedIn.into());
        }
        self.unlock().await
    }
}

/// Argon2id takes a noticeable moment, so it runs off the async threads.
async fn open_profile(dir: &Path, passphrase: zeroize::Zeroizing<String>) -> Result<Profile> {
    let dir = dir.to_owned();
    let fast = insecure_fast_kdf();
    tokio::task::spawn_blocking(move || kdf::open_profile(&dir, &passphrase, fast))
        .await
        .context("profile unlock crashed")?
        .map_err(Into::into)
}

/// `KONTOR_INSECURE_FAST_KDF=1`: **tests only** (debug builds only; see
/// [`kontor::service::kdf`], the one rule for the CLI and the app).
pub fn insecure_fast_kdf() -> bool {
    kdf::fast_from_env()
}
