//! What Synapse and Sydent share: free ports, random names, and a server process that
//! cannot outlive the test process.
//!
//! A server runs under a small bash launcher in its own process group. The launcher
//! polls the test process and kills the server as soon as the test process is gone, so
//! a SIGKILLed or aborted test never leaves a server behind; [`Server::kill`] (called
//! from the owners' `Drop`, also while a test panics) kills the whole group.

use std::{
    fs,
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use rand::{Rng, distributions::Alphanumeric};

use crate::{Error, Result};

/// A port that was free a moment ago on 127.0.0.1.
pub(crate) fn free_port() -> Result<u16> {
    let l = TcpListener::bind("127.0.0.1:0").map_err(|e| Error::Io("bind".into(), e))?;
    Ok(l.local_addr()
        .map_err(|e| Error::Io("bind".into(), e))?
        .port())
}

/// `n` random alphanumeric characters.
pub(crate) fn random(n: usize) -> String {
    rand::thread_rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

/// A server process (Python) under the watchdog launcher, logging to `<dir>/stdout.log`.
#[derive(Debug)]
pub(crate) struct Server {
    child: Child,
}

impl Server {
    /// Runs `python args…` in `dir` with `env`, in a new process group.
    pub(crate) fn spawn(
        python: &Path,
        args: &[&str],
        dir: &Path,
        env: &[(&str, &Path)],
    ) -> Result<Server> {
        let script = format!(
            "\"$0\" \"$@\" & child=$!; \
             while kill -0 {parent} 2>/dev/null && kill -0 $child 2>/dev/null; do sleep 0.5; done; \
             kill $child 2>/dev/null; wait $child",
            parent = std::process::id()
        );
        let log = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("stdout.log"))
            .map_err(|e| Error::Io("stdout.log".into(), e))?;
        let log2 = log
            .try_clone()
            .map_err(|e| Error::Io("stdout.log".into(), e))?;
        let mut cmd = Command::new("bash");
        cmd.arg("-c")
            .arg(script)
            .arg(python)
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2);
        for (k, v) in env {
            cmd.env(k, v);
        }
        #[cfg(unix)]
        {
            use std::os::unix::process::CommandExt;
            cmd.process_group(0);
        }
        let child = cmd.spawn().map_err(|e| Error::Start(e.to_string()))?;
        Ok(Server { child })
    }

    /// Polls `url` until it answers 2xx, the process exits, or `timeout` passes.
    /// `what` and `logs` (files in `dir`) make the error readable.
    pub(crate) fn wait_ready(
        &mut self,
        url: &str,
        timeout: Duration,
        dir: &Path,
        logs: &[&str],
    ) -> Result<()> {
        let deadline = Instant::now() + timeout;
        loop {
            if ureq::get(url)
                .timeout(Duration::from_secs(2))
                .call()
                .is_ok()
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(Error::Start(format!(
                    "exited with {status}; {}",
                    log_tail(dir, logs)
                )));
            }
            if Instant::now() > deadline {
                return Err(Error::Start(format!(
                    "no answer after {timeout:?}; {}",
                    log_tail(dir, logs)
                )));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Sends `signal` (e.g. `STOP`, `CONT`) to the whole process group.
    pub(crate) fn signal(&self, signal: &str) -> Result<()> {
        let pgid = format!("-{}", self.child.id());
        let status = Command::new("kill")
            .args([&format!("-{signal}"), "--", &pgid])
            .status()
            .map_err(|e| Error::Start(format!("kill -{signal}: {e}")))?;
        if status.success() {
            Ok(())
        } else {
            Err(Error::Start(format!("kill -{signal} {pgid}: {status}")))
        }
    }

    /// SIGTERM to the group, up to 10 s grace, then SIGKILL. A stopped (paused) group is
    /// continued first, or it would sit on the SIGTERM until the SIGKILL.
    pub(crate) fn kill(mut self) {
        let pgid = format!("-{}", self.child.id());
        let _ = Command::new("kill").args(["-CONT", "--", &pgid]).status();
        let _ = Command::new("kill").args(["-TERM", "--", &pgid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = Command::new("kill").args(["-KILL", "--", &pgid]).status();
        let _ = self.child.wait();
    }
}

/// The last 30 lines of each of `files` in `dir`, for error messages.
pub(crate) fn log_tail(dir: &Path, files: &[&str]) -> String {
    let mut s = String::new();
    for f in files {
        if let Ok(t) = fs::read_to_string(dir.join(f)) {
            let lines: Vec<&str> = t.lines().collect();
            s.push_str(&format!(
                "--- {f} ---\n{}\n",
                lines[lines.len().saturating_sub(30)..].join("\n")
            ));
        }
    }
    s
}

/// A fresh directory `target/kontor-testkit/<kind>-<pid>-<n>-<random>` for one server run.
pub(crate) fn run_dir(kind: &str, n: u32) -> Result<PathBuf> {
    let dir = crate::target_dir().join("kontor-testkit").join(format!(
        "{kind}-{}-{n}-{}",
        std::process::id(),
        random(4)
    ));
    fs::create_dir_all(&dir).map_err(|e| Error::Io(dir.display().to_string(), e))?;
    Ok(dir)
}
