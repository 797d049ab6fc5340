//! `kontor demo`: the whole product on one machine with one command.
//!
//! Starts a throw-away Synapse and Sydent on loopback through kontor-testkit (installing
//! them into venvs under `target/` on first use), registers the freelancer `anna` and her
//! customer `ben`, binds ben's number at the identity server, logs both in, imports a
//! sample contact file into anna's book (consented and private contacts) and runs
//! discovery on her work book, so ben shows his Matrix id and "start chat" works. A small
//! customer process for ben writes first and answers every message (and acknowledges a
//! received quote), and the app opens logged in as anna. Closing the window stops ben,
//! both servers and deletes the demo data.
//!
//! The harness is a normal dependency of the binary only behind the default `demo`
//! feature: `cargo build --release -p kontor --no-default-features` leaves it out.

use std::{
    path::{Path, PathBuf},
    sync::{Arc, atomic::AtomicBool},
    time::Duration,
};

use kontor_contacts::{
    ConsentMode, ContactBook, Discovery, HttpIdentityService, ImportOptions, OpenIdToken,
};
use kontor_core::{CoreEvent, Kontor, MessageBody, Profile};
use kontor_testkit::{Sydent, Synapse, TestUser};
use slint::ComponentHandle;

use crate::ui::{App, Config, DesktopBus, UiError};

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

/// ben's mobile number: in anna's sample file (consented) and bound to his Matrix id at
/// the demo identity server, so discovery finds him.
const BEN_MSISDN: &str = "4915112345678";

/// anna's address book as her phone exported it: two customers who consented (ben
/// among them, with his bound number), two private contacts without consent.
const SAMPLE_VCF: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ben Hoffmann\r\n\
TEL;TYPE=CELL:+49 151 12345678\r\nEMAIL:ben.hoffmann@example.org\r\nX-KONTOR-CONSENT:ja\r\n\
X-KONTOR-CONSENT-PURPOSE:Terminabsprachen und Angebote per Chat\r\n\
X-KONTOR-CONSENT-EVIDENCE:Demo: Formular in der Praxis unterschrieben\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Schreinerei Lutz\r\nORG:Lutz GmbH\r\nTEL;TYPE=WORK:+49 30 1234567\r\n\
X-KONTOR-CONSENT:ja\r\nX-KONTOR-CONSENT-PURPOSE:Terminabsprachen und Angebote per Chat\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Tante Erika\r\nTEL;TYPE=CELL:+49 171 7654321\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Jonas Schmidt\r\nTEL;TYPE=CELL:+49 160 5550123\r\nEND:VCARD\r\n";

/// The demo's servers, accounts and anna's contact book, without the window: what
/// [`run`] shows, and what a test can check without a display.
pub struct Demo {
    runtime: tokio::runtime::Runtime,
    base: PathBuf,
    anna: Arc<Kontor>,
    ben: Arc<Kontor>,
    ben_user_id: String,
    anna_user_id: String,
    book: Option<ContactBook>,
    identity_server: Option<String>,
    // Dropped last (declaration order): the clients above talk to them.
    sydent: Option<Sydent>,
    synapse: Synapse,
}

/// Runs the demo until the window is closed.
pub fn run() -> Result<(), DemoError> {
    let mut demo = Demo::start()?;
    let result = demo.show();
    demo.stop();
    result
}

impl Demo {
    /// Starts Synapse and Sydent, registers and logs in anna and ben, binds ben's number,
    /// imports anna's sample contact file and runs discovery on her work book. Without
    /// Sydent (it failed to install or start) the demo goes on without discovery.
    pub fn start() -> Result<Demo, DemoError> {
        eprintln!(
            "kontor demo: starting a local Synapse and Sydent (the first run installs them) …"
        );
        let synapse = Synapse::start()?;
        let anna = synapse.register("anna", "anna-pass")?;
        let ben = synapse.register("ben", "ben-pass")?;
        eprintln!(
            "kontor demo: homeserver {} — anna / anna-pass, ben / ben-pass",
            synapse.base_url
        );
        let sydent = match Sydent::start() {
            Ok(is) => match is.bind_msisdn(BEN_MSISDN, &ben.user_id) {
                Ok(()) => Some(is),
                Err(e) => {
                    eprintln!("kontor demo: no contact discovery (binding failed: {e})");
                    None
                }
            },
            Err(e) => {
                eprintln!("kontor demo: no contact discovery (identity server: {e})");
                None
            }
        };
        let identity_server = sydent.as_ref().map(Sydent::direct_url);
        if let Some(url) = &identity_server {
            eprintln!("kontor demo: identity server {url}");
        }
        let base = std::env::temp_dir().join(format!("kontor-demo-{}", std::process::id()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("kontor-worker")
            .enable_all()
            .build()?;
        let logged_in = runtime.block_on(async {
            let a = login(&base.join("anna/profile"), &synapse.base_url, &anna).await?;
            let b = login(&base.join("ben/profile"), &synapse.base_url, &ben).await?;
            Ok::<_, DemoError>((a, b))
        });
        let (anna_k, ben_k) = match logged_in {
            Ok(k) => k,
            Err(e) => {
                runtime.shutdown_timeout(Duration::from_secs(2));
                let _ = std::fs::remove_dir_all(&base);
                return Err(e);
            }
        };
        let book = sample_book(&base);
        if let (Some(book), Some(url)) = (&book, &identity_server) {
            runtime.block_on(discover(&anna_k, book, url));
        }
        Ok(Demo {
            runtime,
            base,
            anna: anna_k,
            ben: ben_k,
            ben_user_id: ben.user_id,
            anna_user_id: anna.user_id,
            book,
            identity_server,
            sydent,
            synapse,
        })
    }

    /// anna's contact book (until the window takes it).
    pub fn book(&self) -> Option<&ContactBook> {
        self.book.as_ref()
    }

    /// The identity server's URL, when Sydent runs.
    pub fn identity_server(&self) -> Option<&str> {
        self.identity_server.as_deref()
    }

    /// anna, logged in.
    pub fn anna(&self) -> &Arc<Kontor> {
        &self.anna
    }

    /// ben's Matrix id.
    pub fn ben_user_id(&self) -> &str {
        &self.ben_user_id
    }

    /// The runtime the demo's clients run on.
    pub fn runtime(&self) -> &tokio::runtime::Runtime {
        &self.runtime
    }

    /// Opens the window as anna, with ben answering, until it is closed.
    fn show(&mut self) -> Result<(), DemoError> {
        let customer = self
            .runtime
            .spawn(customer(self.ben.clone(), self.anna_user_id.clone()));
        let config = Config {
            data_dir: self.base.join("anna"),
            insecure_fast_kdf: false,
            language: None,
            download_dir: None,
            desktop_bus: DesktopBus::Session,
        };
        let app = App::with_session(
            config,
            self.runtime.handle().clone(),
            self.anna.clone(),
            self.book.take(),
        )?;
        // The demo's Sydent, for this run (the saved settings stay as they are).
        app.set_identity_server(self.identity_server.clone());
        // Ctrl-C in the terminal closes the window the normal way, so the cleanup in
        // `stop` (customer, clients, servers, demo data) runs as when the window is closed.
        self.runtime.spawn(async {
            if tokio::signal::ctrl_c().await.is_ok() {
                let _ = slint::quit_event_loop();
            }
        });
        let shown = app.window.run();
        customer.abort();
        self.runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), app.shutdown()).await;
        });
        shown.map_err(DemoError::from)
    }

    /// Stops the clients, then Sydent and Synapse, and deletes the demo data.
    pub fn stop(self) {
        let Demo {
            runtime,
            base,
            anna,
            ben,
            book,
            sydent,
            synapse,
            ..
        } = self;
        drop(book);
        runtime.block_on(async {
            let _ = tokio::time::timeout(Duration::from_secs(5), async {
                anna.shutdown().await;
                ben.shutdown().await;
            })
            .await;
        });
        // As in the CLI: the clients are not dropped under running SDK tasks.
        std::mem::forget(anna);
        std::mem::forget(ben);
        runtime.shutdown_timeout(Duration::from_secs(2));
        drop(sydent);
        drop(synapse);
        let _ = std::fs::remove_dir_all(&base);
    }
}

/// anna's contact book, filled by importing [`SAMPLE_VCF`] with consent as the file
/// states it: the same path as the app's import wizard. `None` (and a warning) if it
/// cannot be made: chats still work.
fn sample_book(base: &Path) -> Option<ContactBook> {
    let made = (|| {
        let book = ContactBook::open(&base.join("anna/contacts"), DEMO_PASSPHRASE)?;
        let file = base.join("kontakte-anna.vcf");
        std::fs::write(&file, SAMPLE_VCF).map_err(|e| kontor_contacts::Error::Io {
            path: file.clone(),
            source: e,
        })?;
        let opts = ImportOptions {
            consent: ConsentMode::FromFile,
            ..ImportOptions::default()
        };
        book.import_file(&file, &opts, &mut |_| {}, &AtomicBool::new(false))?;
        Ok::<_, kontor_contacts::Error>(book)
    })();
    made.map_err(|e| tracing::warn!("demo contact book: {e}"))
        .ok()
}

/// Discovery on anna's work book, as "Find on Kontor" does it; a failure only warns.
async fn discover(anna: &Kontor, book: &ContactBook, url: &str) {
    let result = async {
        let token = anna.openid_token().await.map_err(|e| e.to_string())?;
        let token = OpenIdToken {
            access_token: token.access_token,
            token_type: token.token_type,
            matrix_server_name: token.matrix_server_name,
            expires_in: token.expires_in,
        };
        let service = HttpIdentityService::new(url).map_err(|e| e.to_string())?;
        Discovery::new(service)
            .run(book.work(), &token)
            .await
            .map_err(|e| e.to_string())
    }
    .await;
    match result {
        Ok(r) => eprintln!(
            "kontor demo: discovery found {} of {} consented contacts",
            r.found, r.contacts
        ),
        Err(e) => eprintln!("kontor demo: discovery failed: {e}"),
    }
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
