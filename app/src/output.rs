//! Printing results: JSON for scripts, short lines for people.
//!
//! JSON is printed compact, one document per line, so the same writer serves single
//! results and event streams (`sync --follow`), and `jq -c`/line readers both work.

use std::io::{IsTerminal, Write};

use anyhow::{Context, Result};
use kontor_core::{Message, MessageBody, SendState};
use serde::Serialize;

/// Prints `value` as one line of JSON on stdout and flushes (scripts may be waiting).
pub fn json<T: Serialize + ?Sized>(value: &T) -> Result<()> {
    let line = serde_json::to_string(value).context("cannot encode JSON")?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|_| out.flush())
        .context("cannot write stdout")
}

/// A delivery state for people.
pub fn state(state: &SendState) -> String {
    match state {
        SendState::Pending => {
            "pending (queued; goes out with the next `kontor sync` or `kontor send`)".into()
        }
        SendState::Sent { event_id } if event_id.is_empty() => "sent".into(),
        SendState::Sent { event_id } => format!("sent {event_id}"),
        SendState::Failed { reason } => format!("failed: {reason}"),
        SendState::Cancelled => "cancelled".into(),
    }
}

/// A message body for people, on one line: newlines in text become " ⏎ " so every
/// message stays one line of output.
pub fn body(body: &MessageBody) -> String {
    match body {
        MessageBody::Text { text, .. } => text.replace('\n', " ⏎ "),
        MessageBody::File {
            name,
            size,
            mime,
            caption,
            ..
        } => {
            let size = size.map(|s| format!(", {s} bytes")).unwrap_or_default();
            let mime = mime
                .as_deref()
                .map(|m| format!(", {m}"))
                .unwrap_or_default();
            let caption = caption
                .as_deref()
                .map(|c| format!(" {}", c.replace('\n', " ⏎ ")))
                .unwrap_or_default();
            format!("[file {name}{mime}{size}]{caption}")
        }
        MessageBody::Reaction { relates_to, key } => format!("[reaction {key} to {relates_to}]"),
        MessageBody::Undecryptable => "[cannot decrypt this message (yet)]".into(),
        MessageBody::Other { msgtype, text } => format!("[{msgtype}] {text}"),
    }
}

/// One history line: time, sender, body, and the event id for `download`.
pub fn message(m: &Message) -> String {
    let mut line = format!(
        "{} {}: {}",
        timestamp(m.timestamp_ms),
        m.sender,
        body(&m.body)
    );
    match (&m.state, &m.event_id) {
        (SendState::Sent { .. }, Some(id)) if matches!(m.body, MessageBody::File { .. }) => {
            line.push_str(&format!("  ({id})"));
        }
        (SendState::Sent { .. }, _) => {}
        (other, _) => line.push_str(&format!("  [{}]", state(other))),
    }
    line
}

/// `YYYY-MM-DD HH:MM` in UTC. Scripts get the raw milliseconds from `--json`; this keeps
/// the binary free of a date crate for one line of output.
pub fn timestamp(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// Shows transfer progress on stderr, only when a person watches it.
pub struct Progress {
    enabled: bool,
    label: String,
    last_pct: Option<u64>,
}

impl Progress {
    /// A progress line for `label` ("uploading report.pdf"); silent unless stderr is a tty.
    pub fn new(label: impl Into<String>) -> Progress {
        Progress {
            enabled: std::io::stderr().is_terminal(),
            label: label.into(),
            last_pct: None,
        }
    }

    /// Redraws the line when the percentage changed.
    pub fn update(&mut self, done: u64, total: u64) {
        if !self.enabled || total == 0 {
            return;
        }
        let pct = done.saturating_mul(100) / total;
        if self.last_pct == Some(pct) {
            return;
        }
        self.last_pct = Some(pct);
        eprint!("\r{}: {pct:3}% ({done}/{total} bytes)", self.label);
    }
}

impl Drop for Progress {
    /// Ends the line so later output starts on a fresh one.
    fn drop(&mut self) {
        if self.enabled && self.last_pct.is_some() {
            eprintln!();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_utc_dates() {
        assert_eq!(timestamp(0), "1970-01-01 00:00");
        assert_eq!(timestamp(951_782_400_000), "2000-02-29 00:00");
        assert_eq!(timestamp(1_700_000_000_000), "2023-11-14 22:13");
    }
}
