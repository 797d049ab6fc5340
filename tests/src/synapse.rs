//! One Synapse per test process: config, start/stop/restart, user registration.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
    time::Duration,
};

use hmac::{Hmac, Mac};
use sha1::Sha1;

use crate::process::{Server, free_port, random, run_dir};
use crate::{Error, Result, ensure_venv};

static RUN: AtomicU32 = AtomicU32::new(0);

/// A registered account on the test homeserver.
#[derive(Debug, Clone)]
pub struct TestUser {
    /// Full Matrix id, e.g. `@alice-x7q2:localhost:40123`.
    pub user_id: String,
    /// The local part used to log in.
    pub localpart: String,
    /// Its password.
    pub password: String,
}

/// A running Synapse on 127.0.0.1, owned by this handle.
///
/// Two listeners: the client API over plain HTTP on [`Synapse::base_url`], and
/// `openid` + `federation` over TLS (self-signed) on the port in the server name,
/// which is where an identity server verifies OpenID tokens and sends `onbind`.
#[derive(Debug)]
pub struct Synapse {
    /// Client-server API base URL, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    /// The server name (`localhost:<port>`): the part after `:` in user ids.
    pub server_name: String,
    dir: PathBuf,
    venv: PathBuf,
    server: Option<Server>,
    shared_secret: String,
    keep: bool,
}

impl Synapse {
    /// Installs (first time only), configures and starts a fresh Synapse.
    ///
    /// The ports are picked free, but between picking and Synapse's bind another process
    /// (a parallel test's client connection, which gets an ephemeral port from the same
    /// range) can take one; then it starts over with new ports and a new directory, up to
    /// three times.
    pub fn start() -> Result<Synapse> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match Self::start_once() {
                Err(Error::Start(msg)) if attempt < 3 && msg.contains("Address already in use") => {
                    eprintln!("kontor-testkit: a port was taken before Synapse bound it; retrying");
                }
                other => return other,
            }
        }
    }

    fn start_once() -> Result<Synapse> {
        let venv = ensure_venv()?;
        let dir = run_dir("synapse", RUN.fetch_add(1, Ordering::SeqCst))?;
        let client_port = free_port()?;
        let fed_port = free_port()?;
        let server_name = format!("localhost:{fed_port}");
        let shared_secret = random(32);
        write_tls_cert(&dir)?;
        write_config(&dir, client_port, fed_port, &server_name, &shared_secret)?;
        let out = std::process::Command::new(venv.join("bin/python"))
            .args(["-m", "synapse.app.homeserver", "-c"])
            .arg(dir.join("homeserver.yaml"))
            .arg("--generate-keys")
            .output()
            .map_err(|e| Error::Start(e.to_string()))?;
        if !out.status.success() {
            return Err(Error::Start(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        let mut s = Synapse {
            base_url: format!("http://127.0.0.1:{client_port}"),
            server_name,
            dir,
            venv,
            server: None,
            shared_secret,
            keep: std::env::var_os("KONTOR_KEEP_SYNAPSE").is_some(),
        };
        s.launch()?;
        Ok(s)
    }

    /// The directory with config, database, media and logs of this run.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Synapse's SQLite database (to check what the server stored).
    pub fn database(&self) -> PathBuf {
        self.dir.join("homeserver.db")
    }

    /// The media store (to check that no plaintext reached the server).
    pub fn media_store(&self) -> PathBuf {
        self.dir.join("media_store")
    }

    /// Keeps the data directory after drop (for the demo and debugging).
    pub fn keep_data(&mut self) {
        self.keep = true;
    }

    fn launch(&mut self) -> Result<()> {
        let conf = self.dir.join("homeserver.yaml");
        let conf = conf
            .to_str()
            .ok_or_else(|| Error::Start("non-UTF-8 path".into()))?;
        let mut server = Server::spawn(
            &self.venv.join("bin/python"),
            &["-m", "synapse.app.homeserver", "-c", conf],
            &self.dir,
            &[],
        )?;
        let url = format!("{}/_matrix/client/versions", self.base_url);
        let ready = server.wait_ready(
            &url,
            Duration::from_secs(90),
            &self.dir,
            &["stdout.log", "homeserver.log"],
        );
        self.server = Some(server);
        if ready.is_err() {
            self.kill();
        }
        ready
    }

    fn kill(&mut self) {
        if let Some(server) = self.server.take() {
            server.kill();
        }
    }

    /// Stops the server (the data stays), e.g. to test what clients do while it is down.
    pub fn stop(&mut self) {
        self.kill();
    }

    /// Freezes the server (SIGSTOP): connections are accepted by the kernel but never
    /// answered, the way a homeserver behind a dead mobile link looks to a client. Used to
    /// show that something works without waiting for the network.
    pub fn pause(&self) -> Result<()> {
        match &self.server {
            Some(server) => server.signal("STOP"),
            None => Err(Error::Start("the server is not running".into())),
        }
    }

    /// Lets a [`pause`](Self::pause)d server run on.
    pub fn resume(&self) -> Result<()> {
        match &self.server {
            Some(server) => server.signal("CONT"),
            None => Err(Error::Start("the server is not running".into())),
        }
    }

    /// Starts the stopped server again on the same ports with the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.kill();
        self.launch()
    }

    /// Registers a user through the shared-secret admin API.
    pub fn register(&self, localpart: &str, password: &str) -> Result<TestUser> {
        let url = format!("{}/_synapse/admin/v1/register", self.base_url);
        let nonce: serde_json::Value = ureq::get(&url)
            .call()
            .map_err(|e| Error::Http(e.to_string()))?
            .into_json()
            .map_err(|e| Error::Http(e.to_string()))?;
        let nonce = nonce["nonce"]
            .as_str()
            .ok_or_else(|| Error::Http("no nonce".into()))?;
        let mut mac = <Hmac<Sha1> as Mac>::new_from_slice(self.shared_secret.as_bytes())
            .expect("HMAC takes any key length");
        mac.update(nonce.as_bytes());
        mac.update(b"\0");
        mac.update(localpart.as_bytes());
        mac.update(b"\0");
        mac.update(password.as_bytes());
        mac.update(b"\0notadmin");
        let mac = hex::encode(mac.finalize().into_bytes());
        ureq::post(&url)
            .send_json(serde_json::json!({
                "nonce": nonce, "username": localpart, "password": password,
                "admin": false, "mac": mac,
            }))
            .map_err(|e| Error::Http(format!("register {localpart}: {e}")))?;
        Ok(TestUser {
            user_id: format!("@{localpart}:{}", self.server_name),
            localpart: localpart.into(),
            password: password.into(),
        })
    }

    /// Registers `<prefix>-<random>` with a random password, so tests never collide.
    pub fn register_unique(&self, prefix: &str) -> Result<TestUser> {
        let local = format!("{prefix}-{}", random(6).to_lowercase());
        self.register(&local, &random(16))
    }
}

impl Drop for Synapse {
    fn drop(&mut self) {
        self.kill();
        if std::thread::panicking() || self.keep {
            eprintln!(
                "kontor-testkit: synapse data and logs kept in {}",
                self.dir.display()
            );
        } else {
            let _ = fs::remove_dir_all(&self.dir);
        }
    }
}

/// A self-signed certificate for `localhost` / `127.0.0.1`, made fresh for every run.
///
/// The identity server reaches Synapse's federation API over HTTPS only; it is told not
/// to verify certificates (`federation.verifycerts=False`), so no CA is involved.
fn write_tls_cert(dir: &Path) -> Result<()> {
    let key = rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
        .map_err(|e| Error::Start(format!("generating the TLS certificate: {e}")))?;
    fs::write(dir.join("tls.crt"), key.cert.pem()).map_err(|e| Error::Io("tls.crt".into(), e))?;
    fs::write(dir.join("tls.key"), key.signing_key.serialize_pem())
        .map_err(|e| Error::Io("tls.key".into(), e))
}

fn write_config(
    dir: &Path,
    client_port: u16,
    fed_port: u16,
    server_name: &str,
    secret: &str,
) -> Result<()> {
    let d = dir.display();
    let rl = "{per_second: 1000, burst_count: 1000}";
    let yaml = format!(
        r#"server_name: "{server_name}"
pid_file: "{d}/homeserver.pid"
listeners:
  - port: {client_port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: false
    x_forwarded: false
    resources:
      - names: [client]
        compress: false
  - port: {fed_port}
    bind_addresses: ['127.0.0.1']
    type: http
    tls: true
    x_forwarded: false
    resources:
      - names: [openid, federation]
        compress: false
tls_certificate_path: "{d}/tls.crt"
tls_private_key_path: "{d}/tls.key"
database:
  name: sqlite3
  args:
    database: "{d}/homeserver.db"
log_config: "{d}/log.yaml"
media_store_path: "{d}/media_store"
signing_key_path: "{d}/signing.key"
registration_shared_secret: "{secret}"
macaroon_secret_key: "{mac}"
form_secret: "{form}"
report_stats: false
enable_registration: false
trusted_key_servers: []
suppress_key_server_warning: true
presence:
  enabled: false
bcrypt_rounds: 4
max_upload_size: 300M
url_preview_enabled: false
rc_message: {rl}
rc_registration: {rl}
rc_login:
  address: {rl}
  account: {rl}
  failed_attempts: {rl}
rc_joins:
  local: {rl}
  remote: {rl}
rc_joins_per_room: {rl}
rc_invites:
  per_room: {rl}
  per_user: {rl}
  per_issuer: {rl}
rc_room_creation: {rl}
rc_key_requests: {rl}
rc_media_create: {rl}
rc_admin_redaction: {rl}
rc_3pid_validation: {rl}
"#,
        mac = random(32),
        form = random(32),
    );
    fs::write(dir.join("homeserver.yaml"), yaml)
        .map_err(|e| Error::Io("homeserver.yaml".into(), e))?;
    let log = format!(
        r#"version: 1
formatters:
  precise:
    format: '%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(message)s'
handlers:
  file:
    class: logging.FileHandler
    formatter: precise
    filename: "{d}/homeserver.log"
root:
  level: INFO
  handlers: [file]
disable_existing_loggers: false
"#
    );
    fs::write(dir.join("log.yaml"), log).map_err(|e| Error::Io("log.yaml".into(), e))
}
