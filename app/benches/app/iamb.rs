//! The peer (step 4): iamb, installed on first use, driven through a pty as a new device
//! of anna's; its RSS after the first sync and its background loads.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use kontor_testkit::Synapse;

use crate::{
    ANNA, ANNA_PW, Env, IAMB_VERSION,
    measure::{rss_breakdown, vm_mib},
};

/// iamb in `target/iamb/bin`, installed with `cargo install` when missing. Default
/// features need dbus (desktop notifications); `bundled` builds SQLite in.
pub(crate) fn ensure_iamb() -> Option<PathBuf> {
    let root = kontor_testkit::target_dir().join("iamb");
    let bin = root.join("bin/iamb");
    if bin.exists() {
        return Some(bin);
    }
    println!(
        "peer     installing iamb {IAMB_VERSION} into {} (takes minutes)",
        root.display()
    );
    let log = std::fs::File::create(kontor_testkit::target_dir().join("iamb-install.log")).ok()?;
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["install", "iamb", "--version", IAMB_VERSION, "--locked"])
        .args(["--no-default-features", "--features", "bundled", "--root"])
        .arg(&root)
        .stdout(Stdio::null())
        .stderr(log)
        .status()
        .ok()?;
    (status.success() && bin.exists()).then_some(bin)
}

/// Python's `pty` gives iamb the terminal it needs (with a size), and drains its screen
/// output; iamb is killed when the driver's stdin closes.
const PTY_DRIVER: &str = r#"
import os, pty, select, signal, struct, sys, fcntl, termios
pid, fd = pty.fork()
if pid == 0:
    fcntl.ioctl(0, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    os.execv(sys.argv[1], sys.argv[1:])
print(pid, flush=True)
log = open(os.environ["KB_PTY_LOG"], "wb")
while True:
    r, _, _ = select.select([fd, 0], [], [], 1.0)
    if 0 in r and not os.read(0, 1024):
        break
    if fd in r:
        try:
            data = os.read(fd, 65536)
        except OSError:
            break
        if not data:
            break
        log.write(data[-4096:])
        # Answer the terminal queries a real terminal would (crossterm waits for them and
        # iamb gives up with "cursor position could not be read" otherwise).
        replies = {b"\x1b[6n": b"\x1b[1;1R", b"\x1b[5n": b"\x1b[0n",
                   b"\x1b[16t": b"\x1b[6;16;8t", b"\x1b[c": b"\x1b[?62;22c"}
        for query, reply in replies.items():
            for _ in range(data.count(query)):
                os.write(fd, reply)
os.kill(pid, signal.SIGKILL)
os.waitpid(pid, 0)
"#;

/// The last `max` bytes of a file as text, terminal escapes removed (iamb's screen log
/// is full of them).
fn tail_text(path: &Path, max: usize) -> String {
    let bytes = std::fs::read(path).unwrap_or_default();
    let text = String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(max)..]).into_owned();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' {
            // CSI: ESC [ params final-byte; other escapes: ESC + one char.
            if chars.next_if_eq(&'[').is_some() {
                while chars.next().is_some_and(|c| !('@'..='~').contains(&c)) {}
            } else {
                chars.next();
            }
        } else if c == '\n' || !c.is_control() {
            out.push(c);
        }
    }
    out
}

/// Runs iamb as anna (a new device) until its first sync and background loads are done;
/// (RSS MiB, peak MiB, seconds to the first sync).
pub(crate) fn run_iamb(bin: &Path, hs: &Synapse, env: &Env) -> Option<(f64, f64, f64)> {
    let dir = env.dir.join("iamb");
    let cfg = dir.join("config/iamb");
    std::fs::create_dir_all(&cfg).ok()?;
    std::fs::write(dir.join("password"), ANNA_PW).ok()?;
    let d = dir.display();
    std::fs::write(
        cfg.join("config.toml"),
        format!(
            r#"default_profile = "anna"

[profiles.anna]
user_id = "@{ANNA}:{server}"
url = "{url}"
password_file = "{d}/password"

[dirs]
cache = "{d}/cache"
data = "{d}/data"
logs = "{d}/logs"
downloads = "{d}/downloads"
"#,
            server = env.server_name,
            url = env.hs,
        ),
    )
    .ok()?;
    std::fs::write(dir.join("driver.py"), PTY_DRIVER).ok()?;
    let log = hs.dir().join("homeserver.log");
    let start_at = std::fs::metadata(&log).map_or(0, |m| m.len());
    let t = Instant::now();
    let mut driver = Command::new("python3")
        .arg(dir.join("driver.py"))
        .arg(bin)
        .arg("-C")
        .arg(dir.join("config"))
        .env("KB_PTY_LOG", dir.join("pty.log"))
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .ok()?;
    let mut pid_line = String::new();
    BufReader::new(driver.stdout.take()?)
        .read_line(&mut pid_line)
        .ok()?;
    let pid = pid_line.trim().to_owned();
    let me = format!("{{@{ANNA}:{}}}", env.server_name);
    let requests = |what: &[&str]| -> usize {
        let text = std::fs::read(&log).unwrap_or_default();
        let text =
            String::from_utf8_lossy(&text[(start_at as usize).min(text.len())..]).into_owned();
        text.lines()
            .filter(|l| l.contains(&me) && what.iter().all(|w| l.contains(w)))
            .count()
    };
    let mut synced = None;
    let (mut last, mut stable_since) = (0, Instant::now());
    let outcome = loop {
        std::thread::sleep(Duration::from_millis(250));
        if !Path::new(&format!("/proc/{pid}")).exists() {
            // The temporary directory goes with the bench, so say why here.
            eprintln!("peer: iamb exited; the end of its screen and of its logs:");
            eprintln!("{}", tail_text(&dir.join("pty.log"), 1500));
            for entry in std::fs::read_dir(dir.join("logs")).into_iter().flatten() {
                let path = entry.map(|e| e.path()).unwrap_or_default();
                eprintln!("--- {}\n{}", path.display(), tail_text(&path, 1500));
            }
            break None;
        }
        // The initial sync has no `since`; Synapse logs a request when it is answered.
        if synced.is_none() && requests(&["/sync?"]) > requests(&["/sync?", "since="]) {
            synced = Some(t.elapsed().as_secs_f64());
            stable_since = Instant::now();
        }
        if let Some(s) = synced {
            let n = requests(&["/messages"]);
            if n != last {
                (last, stable_since) = (n, Instant::now());
            } else if stable_since.elapsed() > Duration::from_secs(3) {
                println!("peer: {n} /messages requests after its first sync");
                println!("peer: RSS {}", rss_breakdown(&pid));
                break Some((vm_mib(&pid, "VmRSS:"), vm_mib(&pid, "VmHWM:"), s));
            }
        }
        if t.elapsed() > Duration::from_secs(300) {
            eprintln!(
                "peer: no sync within 300 s; screen log in {}",
                dir.join("pty.log").display()
            );
            break None;
        }
    };
    drop(driver.stdin.take());
    let _ = driver.wait();
    outcome
}
