//! One Synapse per test process: config, start/stop/restart, user registration.

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

use hmac::{Hmac, Mac};
use rand::{Rng, distributions::Alphanumeric};
use sha1::Sha1;

use crate::{Error, Result, ensure_venv, target_dir};

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
#[derive(Debug)]
pub struct Synapse {
    /// Client-server API base URL, e.g. `http://127.0.0.1:40123`.
    pub base_url: String,
    /// The server name (`localhost:<port>`): the part after `:` in user ids.
    pub server_name: String,
    dir: PathBuf,
    venv: PathBuf,
    child: Option<Child>,
    shared_secret: String,
    keep: bool,
}

fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Io("bind".into(), e))?;
    Ok(l.local_addr()
        .map_err(|e| Error::Io("bind".into(), e))?
        .port())
}

fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

impl Synapse {
    /// Installs (first time only), configures and starts a fresh Synapse.
    pub fn start() -> Result<Synapse> {
        let venv = ensure_venv()?;
        let run = RUN.fetch_add(1, Ordering::SeqCst);
        let dir = target_dir().join("kontor-testkit").join(format!(
            "synapse-{}-{run}-{}",
            std::process::id(),
            random(4)
        ));
        fs::create_dir_all(&dir).map_err(|e| Error::Io(dir.display().to_string(), e))?;
        let client_port = free_port()?;
        let fed_port = free_port()?;
        let server_name = format!("localhost:{fed_port}");
        let shared_secret = random(32);
        write_config(&dir, client_port, &server_name, &shared_secret)?;
        let out = Command::new(venv.join("bin/python"))
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
            child: None,
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
        // The launcher runs Synapse in the background and kills it as soon as the test
        // process is gone, so a SIGKILLed test never leaves a server behind.
        let script = format!(
            "\"$0\" -m synapse.app.homeserver -c \"$1\" & child=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; \
             kill $child 2>/dev/null; wait $child",
            parent = std::process::id()
        );
        let log = fs::File::create(self.dir.join("stdout.log"))
            .map_err(|e| Error::Io("stdout.log".into(), e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| Error::Io("stdout.log".into(), e))?;
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .arg(self.venv.join("bin/python"))
            .arg(self.dir.join("homeserver.yaml"))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd.spawn().map_err(|e| Error::Start(e.to_string()))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(90);
        let url = format!("{}/_matrix/client/versions", self.base_url);
        loop {
            if ureq::get(&url)
                .timeout(Duration::from_secs(2))
                .call()
                .is_ok()
            {
                return Ok(());
            }
            if let Some(c) = self.child.as_mut()
                && let Ok(Some(status)) = c.try_wait()
            {
                return Err(Error::Start(format!(
                    "exited with {status}; {}",
                    self.log_tail()
                )));
            }
            if Instant::now() > deadline {
                self.kill();
                return Err(Error::Start(format!(
                    "no answer after 90 s; {}",
                    self.log_tail()
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn log_tail(&self) -> String {
        let mut s = String::new();
        for f in ["stdout.log", "homeserver.log"] {
            if let Ok(t) = fs::read_to_string(self.dir.join(f)) {
                let lines: Vec<&str> = t.lines().collect();
                s.push_str(&format!(
                    "--- {f} ---\n{}\n",
                    lines[lines.len().saturating_sub(30)..].join("\n")
                ));
            }
        }
        s
    }

    fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let pgid = format!("-{}", child.id());
            let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
            let _ = child.wait();
        }
    }

    /// Stops the server (the data stays), e.g. to test what clients do while it is down.
    pub fn stop(&mut self) {
        self.kill();
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

fn write_config(dir: &Path, client_port: u16, server_name: &str, secret: &str) -> Result<()> {
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
