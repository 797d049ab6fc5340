//! send, send-file, messages, download.

use std::{path::Path, sync::Arc, time::Duration};

use anyhow::{Context, Result, bail};
use kontor_core::{CoreEvent, Direction, Kontor, SendState};
use serde_json::json;

use super::Ctx;
use crate::{
    cli::Wait,
    exit::{FAILURE, Fail},
    input, output,
    output::Progress,
};

/// `kontor send USER TEXT|-`
pub async fn send(ctx: &Ctx, user: &str, text: &str, wait: Wait) -> Result<()> {
    // Order on stdin: passphrase first, then the message.
    let profile = ctx.unlocked().await?;
    let text = if text == "-" {
        input::read_rest()?
    } else {
        text.to_owned()
    };
    if text.trim().is_empty() {
        bail!("the message is empty");
    }
    let kontor = ctx.restore(Some(profile), true).await?;
    let room = kontor
        .open_dm(user)
        .await
        .with_context(|| format!("cannot open the chat with {user}"))?;
    let txn = kontor.send_text(&room, &text).await?;
    let state = kontor
        .wait_sent(&room, &txn, Duration::from_secs(wait.timeout))
        .await?;
    if ctx.json {
        output::json(&json!({ "room_id": room, "transaction_id": txn, "state": state }))?;
    } else {
        println!("{}", output::state(&state));
    }
    failed_is_error(&state, &txn)
}

/// How long a command that answers (a quote, a consent request) waits for its reply to
/// reach the homeserver before it ends: the reply is queued on disk, but a process that
/// ends sooner leaves it for the next run, which may never come from a script.
const ANSWER_WAIT: Duration = Duration::from_secs(30);

/// Waits until the queued answer `txn` is delivered (or [`ANSWER_WAIT`] is over; then it
/// stays queued and goes out with the next command). A refusal is an error.
pub async fn deliver_answer(kontor: &Kontor, room: &str, txn: &str) -> Result<SendState> {
    let state = kontor.wait_sent(room, txn, ANSWER_WAIT).await?;
    failed_is_error(&state, txn)?;
    Ok(state)
}

/// A message the server refused for good stays in the outbox; the result was printed
/// (with its transaction id), and the exit code tells the script to look.
fn failed_is_error(state: &SendState, txn: &str) -> Result<()> {
    match state {
        SendState::Failed { reason } => Err(Fail::new(
            FAILURE,
            format!("the message was not sent: {reason} (kontor outbox retry {txn})"),
        )
        .into()),
        _ => Ok(()),
    }
}

/// `kontor send-file USER PATH [--mime TYPE]`
pub async fn send_file(
    ctx: &Ctx,
    user: &str,
    path: &Path,
    mime: Option<&str>,
    wait: Wait,
) -> Result<()> {
    let meta =
        std::fs::metadata(path).with_context(|| format!("cannot read {}", path.display()))?;
    if !meta.is_file() {
        bail!("{} is not a file", path.display());
    }
    let kontor = ctx.restore(None, true).await?;
    let room = kontor
        .open_dm(user)
        .await
        .with_context(|| format!("cannot open the chat with {user}"))?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let progress = show_progress(&kontor, Direction::Upload, name.clone());
    let sent = kontor.send_file(&room, path, mime).await;
    progress.abort();
    let sent = sent.with_context(|| format!("cannot send {}", path.display()))?;
    let state = kontor
        .wait_sent(
            &room,
            &sent.transaction_id,
            Duration::from_secs(wait.timeout),
        )
        .await?;
    if ctx.json {
        output::json(&json!({
            "room_id": room,
            "transaction_id": sent.transaction_id,
            "size": sent.size,
            "sha256": sent.sha256,
            "state": state,
        }))?;
    } else {
        println!(
            "{name}: {} bytes, sha256 {}; {}",
            sent.size,
            sent.sha256,
            output::state(&state)
        );
    }
    failed_is_error(&state, &sent.transaction_id)
}

/// Draws transfer progress for `id` on stderr until the returned task is aborted (which
/// drops the [`Progress`] and so ends its line).
fn show_progress(
    kontor: &Arc<Kontor>,
    direction: Direction,
    id: String,
) -> tokio::task::JoinHandle<()> {
    let mut rx = kontor.subscribe();
    let label = match direction {
        Direction::Upload => "uploading",
        Direction::Download => "downloading",
    };
    let mut bar = Progress::new(label);
    tokio::spawn(async move {
        loop {
            match rx.recv().await {
                Ok(CoreEvent::Transfer {
                    id: got,
                    direction: d,
                    done,
                    total,
                }) if d == direction && got == id => bar.update(done, total),
                Ok(_) | Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(_) => return,
            }
        }
    })
}

/// `kontor messages USER [--limit N]`
pub async fn messages(ctx: &Ctx, user: &str, limit: u32, around: Option<&str>) -> Result<()> {
    let kontor = ctx.restore(None, true).await?;
    let room = kontor.find_dm(user).await?.ok_or_else(|| {
        Fail::new(
            FAILURE,
            format!("no chat with {user} (send a message or accept their invite first)"),
        )
    })?;
    // Reactions annotate a message and are no line of their own (as in the app).
    let mut msgs = match around {
        None => kontor.messages(&room, limit).await?,
        Some(event) => {
            kontor
                .messages_around(&room, event, (limit / 2).max(1))
                .await?
                .messages
        }
    };
    msgs.retain(|m| !m.body.is_reaction());
    if ctx.json {
        return output::json(&msgs);
    }
    for m in &msgs {
        println!("{}", output::message(m));
    }
    Ok(())
}

/// `kontor download EVENT_ID --out PATH`
pub async fn download(ctx: &Ctx, event_id: &str, out: &Path) -> Result<()> {
    let kontor = ctx.restore(None, true).await?;
    let progress = show_progress(&kontor, Direction::Download, event_id.to_owned());
    let got = kontor.download(event_id, out).await;
    progress.abort();
    let got = got.with_context(|| format!("cannot download {event_id}"))?;
    if ctx.json {
        output::json(&got)
    } else {
        println!(
            "saved {} to {} ({} bytes, sha256 {})",
            got.name,
            got.path.display(),
            got.size,
            got.sha256
        );
        Ok(())
    }
}
