//! One Sydent (Matrix identity server) per test process, behind a recording proxy.
//!
//! Sydent verifies a client's OpenID token by calling the token's homeserver over
//! federation HTTPS, so it works with a [`crate::Synapse`] from this harness (whose
//! server name carries the TLS port). Numbers and e-mail addresses are bound through
//! Sydent's internal API, which skips the SMS / e-mail validation a real user would do.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use crate::process::{Server, free_port, run_dir};
use crate::proxy::{Recorded, RecordingProxy};
use crate::{Error, Result, ensure_sydent_venv};

static RUN: AtomicU32 = AtomicU32::new(0);

/// A running Sydent on 127.0.0.1, owned by this handle: the client API (reached through
/// a [`RecordingProxy`]) and the internal API (direct, for test setup).
#[derive(Debug)]
pub struct Sydent {
    dir: PathBuf,
    client_port: u16,
    internal_port: u16,
    server: Option<Server>,
    proxy: RecordingProxy,
    keep: bool,
}

impl Sydent {
    /// Installs (first time only), configures and starts a fresh Sydent.
    pub fn start() -> Result<Sydent> {
        let venv = ensure_sydent_venv()?;
        let dir = run_dir("sydent", RUN.fetch_add(1, Ordering::SeqCst))?;
        let client_port = free_port()?;
        let internal_port = free_port()?;
        write_config(&dir, client_port, internal_port)?;
        let mut server = Server::spawn(
            &venv.join("bin/python"),
            &["-m", "sydent.sydent"],
            &dir,
            &[("SYDENT_CONF", &dir.join("sydent.conf"))],
        )?;
        let direct = format!("http://127.0.0.1:{client_port}");
        if let Err(e) = server.wait_ready(
            &format!("{direct}/_matrix/identity/v2"),
            Duration::from_secs(60),
            &dir,
            &["stdout.log", "sydent.log"],
        ) {
            server.kill();
            eprintln!("kontor-testkit: sydent logs kept in {}", dir.display());
            return Err(e);
        }
        let proxy = match RecordingProxy::start(&direct) {
            Ok(p) => p,
            Err(e) => {
                server.kill();
                return Err(e);
            }
        };
        Ok(Sydent {
            dir,
            client_port,
            internal_port,
            server: Some(server),
            proxy,
            keep: std::env::var_os("KONTOR_KEEP_SYNAPSE").is_some(),
        })
    }

    /// The identity server's base URL for clients: the recording proxy.
    pub fn url(&self) -> String {
        self.proxy.url()
    }

    /// Sydent's client API without the proxy (nothing recorded).
    pub fn direct_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.client_port)
    }

    /// Sydent's internal API (binds without validation; loopback only, no auth).
    pub fn internal_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.internal_port)
    }

    /// Every request that reached the identity server through [`Sydent::url`], in order.
    pub fn recorded(&self) -> Vec<Recorded> {
        self.proxy.recorded()
    }

    /// Forgets the recorded requests (e.g. between two runs in one test).
    pub fn clear_recorded(&self) {
        self.proxy.clear()
    }

    /// The directory with config, database and logs of this run.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Keeps the data directory after drop (for the demo and debugging).
    pub fn keep_data(&mut self) {
        self.keep = true;
    }

    /// Binds a phone number (E.164 digits without `+`) to a Matrix id, without an SMS.
    pub fn bind_msisdn(&self, e164_digits: &str, mxid: &str) -> Result<()> {
        self.bind("msisdn", e164_digits.trim_start_matches('+'), mxid)
    }

    /// Binds an e-mail address to a Matrix id, without a verification mail.
    pub fn bind_email(&self, address: &str, mxid: &str) -> Result<()> {
        self.bind("email", address, mxid)
    }

    fn bind(&self, medium: &str, address: &str, mxid: &str) -> Result<()> {
        let url = format!("{}/_matrix/identity/internal/bind", self.internal_url());
        ureq::post(&url)
            .timeout(Duration::from_secs(30))
            .send_json(serde_json::json!({"medium": medium, "address": address, "mxid": mxid}))
            .map_err(|e| Error::Http(format!("sydent bind ({medium}): {e}")))?;
        Ok(())
    }

    /// The lookup pepper, read from Sydent's own database (not through the API under
    /// test, so a client that used a wrong pepper cannot agree with itself).
    pub fn pepper(&self) -> Result<String> {
        let venv = ensure_sydent_venv()?;
        let out = Command::new(venv.join("bin/python"))
            .arg("-c")
            .arg(
                "import sqlite3,sys; \
                 print(sqlite3.connect(sys.argv[1]).execute(\
                 'SELECT lookup_pepper FROM hashing_metadata').fetchone()[0])",
            )
            .arg(self.dir.join("sydent.db"))
            .output()
            .map_err(|e| Error::Http(format!("reading the pepper: {e}")))?;
        if !out.status.success() {
            return Err(Error::Http(format!(
                "reading the pepper: {}",
                String::from_utf8_lossy(&out.stderr)
            )));
        }
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
    }
}

impl Drop for Sydent {
    fn drop(&mut self) {
        if let Some(server) = self.server.take() {
            server.kill();
        }
        if std::thread::panicking() || self.keep {
            eprintln!(
                "kontor-testkit: sydent data and logs kept in {}",
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

fn write_config(dir: &Path, client_port: u16, internal_port: u16) -> Result<()> {
    let d = dir.display();
    // Sydent appends its generated signing key to this file on first start.
    let conf = format!(
        "[general]
server.name = 127.0.0.1:{client_port}
log.path = {d}/sydent.log
pidfile.path = {d}/sydent.pid
templates.path = {d}/templates
ip.whitelist = 127.0.0.0/8,::1/128
enable_v1_access = false
enable_v1_associations = false

[db]
db.file = {d}/sydent.db

[http]
clientapi.http.bind_address = 127.0.0.1
clientapi.http.port = {client_port}
internalapi.http.bind_address = 127.0.0.1
internalapi.http.port = {internal_port}
replication.https.bind_address = 127.0.0.1
federation.verifycerts = False

[email]

[sms]

[crypto]
"
    );
    fs::write(dir.join("sydent.conf"), conf).map_err(|e| Error::Io("sydent.conf".into(), e))
}
