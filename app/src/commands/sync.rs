//! sync (once or following), invites, outbox.

use std::time::Duration;

use anyhow::{Context, Result};
use kontor_core::{OutboxEntry, SendState};
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use super::Ctx;
use crate::{
    cli::{InviteAction, OutboxAction},
    exit::{FAILURE, Fail},
    input, output,
};

/// `kontor sync [--follow] [--timeout SECS]`
pub async fn sync(ctx: &Ctx, follow: bool, timeout: u64) -> Result<()> {
    if follow {
        return follow_events(ctx).await;
    }
    // Unlike other commands, an unreachable server is this command's failure.
    let kontor = ctx.restore(None, false).await?;
    // Every chat, not only the most recent window: a script runs this to be up to date.
    kontor.sync_all().await?;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(timeout);
    // The send queue works in the background; poll the outbox until only failed
    // messages (which wait for `outbox retry`) are left, or time is up.
    let left = loop {
        let left = kontor.outbox().await?;
        let pending = left.iter().any(|e| e.state == SendState::Pending);
        if !pending || tokio::time::Instant::now() >= deadline {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    if ctx.json {
        return output::json(&json!({
            "user_id": kontor.user_id(),
            "sync": kontor.sync_mode(),
            "outbox": left,
        }));
    }
    if left.is_empty() {
        println!("synced; outbox empty");
    } else {
        println!(
            "synced; {} message(s) still in the outbox (see `kontor outbox`)",
            left.len()
        );
    }
    Ok(())
}

/// `kontor sync --follow`: every event as a JSON line until stdin closes or a signal.
async fn follow_events(ctx: &Ctx) -> Result<()> {
    let kontor = ctx.restore(None, false).await?;
    // Subscribe before the first sync so nothing it brings is missed.
    let mut events = kontor.subscribe();
    kontor.start_sync();
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot watch SIGTERM")?;
    let stop = async {
        tokio::select! {
            _ = input::closed() => {}
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    };
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => break,
            ev = events.recv() => match ev {
                Ok(ev) => output::json(&ev)?,
                Err(RecvError::Lagged(n)) => tracing::warn!("skipped {n} events (output too slow)"),
                Err(RecvError::Closed) => break,
            },
        }
    }
    kontor.stop_sync();
    Ok(())
}

/// `kontor invites [list|accept ROOM_ID|decline ROOM_ID]`
pub async fn invites(ctx: &Ctx, action: Option<InviteAction>) -> Result<()> {
    let kontor = ctx.restore(None, true).await?;
    match action.unwrap_or(InviteAction::List) {
        InviteAction::List => {
            let list = kontor.invites().await?;
            if ctx.json {
                let list: Vec<_> = list
                    .iter()
                    .map(|(room, inviter)| json!({ "room_id": room, "inviter": inviter }))
                    .collect();
                return output::json(&list);
            }
            if list.is_empty() {
                println!("no pending invites");
            }
            for (room, inviter) in &list {
                println!("{room} from {}", inviter.as_deref().unwrap_or("(unknown)"));
            }
            Ok(())
        }
        InviteAction::Accept { room_id } => {
            kontor.accept_invite(&room_id).await?;
            report(ctx, &room_id, "joined")
        }
        InviteAction::Decline { room_id } => {
            kontor.decline_invite(&room_id).await?;
            report(ctx, &room_id, "declined")
        }
    }
}

fn report(ctx: &Ctx, room_id: &str, status: &str) -> Result<()> {
    if ctx.json {
        output::json(&json!({ "room_id": room_id, "status": status }))
    } else {
        println!("{status} {room_id}");
        Ok(())
    }
}

/// `kontor outbox [list|retry TXN|cancel TXN]`
pub async fn outbox(ctx: &Ctx, action: Option<OutboxAction>) -> Result<()> {
    let kontor = ctx.restore(None, true).await?;
    match action.unwrap_or(OutboxAction::List) {
        OutboxAction::List => {
            let list = kontor.outbox().await?;
            if ctx.json {
                return output::json(&list);
            }
            if list.is_empty() {
                println!("outbox empty");
            }
            for OutboxEntry {
                room_id,
                transaction_id,
                state,
                body,
                ..
            } in &list
            {
                println!(
                    "{transaction_id} {room_id} {}: {}",
                    output::state(state),
                    output::body(body)
                );
            }
            Ok(())
        }
        OutboxAction::Retry {
            transaction_id,
            wait,
        } => {
            let room = kontor
                .outbox()
                .await?
                .into_iter()
                .find(|e| e.transaction_id == transaction_id)
                .map(|e| e.room_id)
                .ok_or_else(|| kontor_core::Error::NotQueued(transaction_id.clone()))?;
            kontor.retry(&transaction_id).await?;
            // The send queue works in this process: wait, or the retry dies with it.
            let state = kontor
                .wait_sent(&room, &transaction_id, Duration::from_secs(wait.timeout))
                .await?;
            if ctx.json {
                output::json(&json!({
                    "room_id": room, "transaction_id": transaction_id, "state": state,
                }))?;
            } else {
                println!("{}", output::state(&state));
            }
            if let SendState::Failed { reason } = state {
                return Err(
                    Fail::new(FAILURE, format!("the message was not sent: {reason}")).into(),
                );
            }
            Ok(())
        }
        OutboxAction::Cancel { transaction_id } => {
            let cancelled = kontor.cancel(&transaction_id).await?;
            if ctx.json {
                output::json(&json!({ "transaction_id": transaction_id, "cancelled": cancelled }))
            } else if cancelled {
                println!("cancelled {transaction_id}");
                Ok(())
            } else {
                println!("{transaction_id} was already being sent; it will arrive");
                Ok(())
            }
        }
    }
}
