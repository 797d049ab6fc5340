//! `kontor demo`: the whole product on one machine with one command.
//!
//! Starts a throw-away Synapse on loopback through kontor-testkit (installing it into a
//! venv under `target/` on first use), registers the freelancer `anna` and her customer
//! `ben`, logs both in, gives anna a contact book with consented and private contacts,
//! runs a small customer process for ben that writes first and
//! answers every message (and acknowledges a received quote), and opens the app logged
//! in as anna. Closing the window stops ben, the homeserver and deletes the demo data.
//!
//! The harness is a normal dependency of the binary only behind the default `demo`
//! feature: `cargo build --release -p kontor --no-default-features` leaves it out.

use std::{path::Path, sync::Arc, time::Duration};

use kontor_contacts::{ContactBook, NewContact};
use kontor_core::{CoreEvent, Kontor, MessageBody, Profile};
use kontor_testkit::{Synapse, TestUser};
use slint::ComponentHandle;

use crate::ui::{App, Config, UiError};

/// Why the demo stopped.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The homeserver could not be installed, started or given its users.
    #[error("demo homeserver: {0}")]
    Server(#[from] kontor_testkit::Error),
    /// Logging a demo user in failed.
    #[error("demo login: {0}")]
    Login(#[from] kontor_core::Error),
    /// The window could not open.
    #[error(transparent)]
    Ui(#[from] UiError),
}

impl From<slint::PlatformError> for DemoError {
    fn from(e: slint::PlatformError) -> Self {
        DemoError::Ui(e.into())
    }
}

impl From<std::io::Error> for DemoError {
    fn from(e: std::io::Error) -> Self {
        DemoError::Ui(e.into())
    }
}

/// Passphrase of the demo profiles (they are deleted when the demo ends).
const DEMO_PASSPHRASE: &str = "kontor-demo";

/// Runs the demo until the window is closed.
pub fn run() -> Result<(), DemoError> {
    eprintln!("kontor demo: starting a local Synapse (the first run installs it) …");
    let hs = Synapse::start()?;
    let anna = hs.register("anna", "anna-pass")?;
    let ben = hs.register("ben", "ben-pass")?;
    eprintln!(
        "kontor demo: homeserver {} — anna / anna-pass, ben / ben-pass",
        hs.base_url
    );
    let base = std::env::temp_dir().join(format!("kontor-demo-{}", std::process::id()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("kontor-worker")
        .enable_all()
        .build()?;
    let result = (|| {
        let (anna_k, ben_k) = runtime.block_on(async {
            let a = login(&base.join("anna/profile"), &hs.base_url, &anna).await?;
            let b = login(&base.join("ben/profile"), &hs.base_url, &ben).await?;
            Ok::<_, DemoError>((a, b))
        })?;
        let customer = runtime.spawn(customer(ben_k.clone(), anna.user_id.clone()));
        let book = sample_book(&base.join("anna/contacts"));
        let config = Config {
            data_dir: base.join("anna"),
            insecure_fast_kdf: false,
            language: None,
            download_dir: None,
        };
        let app = App::with_session(config, runtime.handle().clone(), anna_k, book)?;
        // Ctrl-C in the terminal closes the window the normal way, so the cleanup below
        // (customer, clients, homeserver, demo data) runs as when the window is closed.
        runtime.spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = slint::quit_event_loop();
            }
        });
        let shown = app.window.run();
        customer.abort();
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                app.shutdown().await;
                ben_k.shutdown().await;
            })
            .await;
        });
        // As in the CLI: the clients are not dropped under running SDK tasks.
        std::mem::forget(ben_k);
        shown.map_err(DemoError::from)
    })();
    runtime.shutdown_timeout(Duration::from_secs(2));
    drop(hs);
    let _ = std::fs::remove_dir_all(&base);
    result
}

/// anna's contact book with a few customers: consented ones in the work book, the rest
/// in the private book. `None` (and a warning) if it cannot be made: chats still work.
fn sample_book(dir: &Path) -> Option<ContactBook> {
    let made = (|| {
        let book = ContactBook::open(dir, DEMO_PASSPHRASE)?;
        let purpose = "Terminabsprachen und Angebote per Chat";
        let entries: [(&str, &str, Option<&str>, bool); 4] = [
            ("Ben Hoffmann", "+49 151 12345678", None, true),
            (
                "Schreinerei Lutz",
                "+49 30 1234567",
                Some("Lutz GmbH"),
                true,
            ),
            ("Tante Erika", "+49 171 7654321", None, false),
            ("Jonas Schmidt", "+49 160 5550123", None, false),
        ];
        for (name, phone, org, consent) in entries {
            let new = NewContact {
                display_name: name.into(),
                phones: vec![phone.into()],
                organisation: org.map(Into::into),
                ..Default::default()
            };
            let consent = consent.then_some((purpose, Some("Demo: mündlich in der Praxis")));
            book.add(new, consent)?;
        }
        Ok::<_, kontor_contacts::Error>(book)
    })();
    made.map_err(|e| tracing::warn!("demo contact book: {e}"))
        .ok()
}

async fn login(dir: &Path, url: &str, user: &TestUser) -> Result<Arc<Kontor>, DemoError> {
    let profile = {
        let dir = dir.to_owned();
        tokio::task::spawn_blocking(move || Profile::open(&dir, DEMO_PASSPHRASE))
            .await
            .map_err(|e| std::io::Error::other(e.to_string()))??
    };
    Ok(Kontor::login(profile, url, &user.localpart, &user.password).await?)
}

/// ben, the customer: writes first, accepts anna's invitations, answers every message
/// and confirms a received quote by its file name.
async fn customer(ben: Arc<Kontor>, anna: String) {
    let mut events = ben.subscribe();
    ben.start_sync();
    match ben.open_dm(&anna).await {
        Ok(room) => {
            let hello = "Hallo Anna, haben Sie nächste Woche einen Termin frei? / \
                         Hi Anna, do you have an appointment next week?";
            if let Err(e) = ben.send_text(&room, hello).await {
                tracing::warn!("demo customer cannot write: {e}");
            }
        }
        Err(e) => tracing::warn!("demo customer cannot open the chat: {e}"),
    }
    loop {
        let event = match events.recv().await {
            Ok(e) => e,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
            Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
        };
        match event {
            CoreEvent::Invite { room_id, .. } => {
                let _ = ben.accept_invite(&room_id).await;
            }
            CoreEvent::MessageReceived(m) if !m.own => {
                let reply = match &m.body {
                    MessageBody::File { name, .. } => format!(
                        "Danke, das Angebot „{name}“ ist angekommen. / Thanks, I got the quote."
                    ),
                    MessageBody::Text { .. } => {
                        "Danke für Ihre Nachricht! / Thanks for your message!".to_owned()
                    }
                    _ => continue,
                };
                tokio::time::sleep(Duration::from_millis(800)).await;
                if let Err(e) = ben.send_text(&m.room_id, &reply).await {
                    tracing::warn!("demo customer cannot answer: {e}");
                }
            }
            _ => {}
        }
    }
}
