//! Reading secrets and text without ever taking them from arguments.
//!
//! Arguments show up in `ps` and shell history, so secrets come from an environment
//! variable, else from stdin when it is not a terminal (one secret per line, in the order
//! the command needs them), else from a prompt on the terminal without echo. All stdin
//! reads go through std's single, shared buffered `Stdin`, so a passphrase line followed
//! by a message body (or a verification answer) is split correctly.

use std::io::{BufRead, IsTerminal, Read};

use anyhow::{Context, Result, bail};
use zeroize::Zeroizing;

/// One secret the CLI may need, and where it comes from.
#[derive(Debug, Clone, Copy)]
pub struct Secret {
    /// Environment variable that holds it.
    pub env: &'static str,
    /// Prompt on the terminal.
    pub prompt: &'static str,
    /// Name in error messages.
    pub what: &'static str,
}

/// The profile passphrase.
pub const PASSPHRASE: Secret = Secret {
    env: "KONTOR_PASSPHRASE",
    prompt: "Profile passphrase: ",
    what: "passphrase",
};

/// The account password (login only).
pub const PASSWORD: Secret = Secret {
    env: "KONTOR_PASSWORD",
    prompt: "Password: ",
    what: "password",
};

/// The recovery key (`recovery restore`).
pub const RECOVERY_KEY: Secret = Secret {
    env: "KONTOR_RECOVERY_KEY",
    prompt: "Recovery key: ",
    what: "recovery key",
};

/// Reads `secret` from its environment variable, stdin or a no-echo prompt.
pub fn secret(secret: Secret) -> Result<Zeroizing<String>> {
    if let Some(v) = std::env::var_os(secret.env) {
        let v = v
            .into_string()
            .map_err(|_| anyhow::anyhow!("{} is not valid UTF-8", secret.env))?;
        return Ok(Zeroizing::new(v));
    }
    if !std::io::stdin().is_terminal() {
        return match read_line()? {
            Some(line) => Ok(line),
            None => bail!(
                "no {} given: set {} or write it as a line on stdin",
                secret.what,
                secret.env
            ),
        };
    }
    let v = rpassword::prompt_password(secret.prompt)
        .with_context(|| format!("cannot read the {} from the terminal", secret.what))?;
    Ok(Zeroizing::new(v))
}

/// Reads one line from stdin without its line ending; `None` at end of input.
pub fn read_line() -> Result<Option<Zeroizing<String>>> {
    let mut line = Zeroizing::new(String::new());
    let n = std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read stdin")?;
    if n == 0 {
        return Ok(None);
    }
    let trimmed = line.trim_end_matches(['\n', '\r']).len();
    line.truncate(trimmed);
    Ok(Some(line))
}

/// Reads one line on a plain thread, so the async side keeps syncing meanwhile (a
/// blocking-pool task would hold up runtime shutdown while stdin stays open).
pub async fn read_line_async() -> Result<Option<Zeroizing<String>>> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let _ = tx.send(read_line());
    });
    rx.await.context("stdin reader vanished")?
}

/// Reads the rest of stdin (a message body for `send USER -`), dropping one final line
/// ending so `echo text | kontor send USER -` sends "text".
pub fn read_rest() -> Result<String> {
    let mut text = String::new();
    std::io::stdin()
        .lock()
        .read_to_string(&mut text)
        .context("cannot read the message from stdin")?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Ok(text)
}

/// Resolves when stdin reaches end of input (or fails), for `sync --follow`.
pub async fn closed() {
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let mut sink = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        let _ = tx.send(());
    });
    let _ = rx.await;
}
