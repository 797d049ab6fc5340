//! verify request / accept: compare seven emojis, confirm or reject.
//!
//! The answer is read from stdin as a line, so a script (or a test) can pipe "y". With
//! `--json` this is a streaming command: one line with the emojis as soon as they are
//! known, then one line with the outcome.

use std::{task::Poll, time::Duration};

use anyhow::Result;
use kontor_core::Verification;
use serde_json::json;

use super::Ctx;
use crate::{
    cli::VerifyAction,
    exit::{Fail, VERIFICATION},
    input, output,
};

/// `kontor verify request USER [--device ID]` / `kontor verify accept [--from USER]`
pub async fn verify(ctx: &Ctx, action: VerifyAction) -> Result<()> {
    // `_kontor` keeps the account and its background sync alive as long as the flow.
    let (_kontor, verification, timeout) = match action {
        VerifyAction::Request {
            user,
            device,
            timeout,
        } => {
            let kontor = ctx.restore(None, true).await?;
            // The other side's answers arrive through sync.
            kontor.start_sync();
            let t = Duration::from_secs(timeout);
            let v = kontor
                .request_verification(&user, device.as_deref(), t)
                .await?;
            (kontor, v, t)
        }
        VerifyAction::Accept { from, timeout } => {
            // No sync before waiting: a request that arrives in it would be gone before
            // kontor-core starts listening. Poll once so it subscribes, then sync.
            let kontor = ctx.restore(None, false).await?;
            let t = Duration::from_secs(timeout);
            let fut = kontor.accept_verification(from.as_deref(), t);
            tokio::pin!(fut);
            let v = match futures_util::poll!(&mut fut) {
                Poll::Ready(r) => r,
                Poll::Pending => {
                    kontor.start_sync();
                    fut.await
                }
            }?;
            (kontor.clone(), v, t)
        }
    };
    compare(ctx, &verification, timeout).await
}

async fn compare(ctx: &Ctx, v: &Verification, timeout: Duration) -> Result<()> {
    let emojis = v.emojis(timeout).await?;
    let (user, device) = (v.other_user(), v.other_device());
    if ctx.json {
        output::json(&json!({
            "event": "emojis", "user_id": user, "device_id": device, "emojis": emojis,
        }))?;
    } else {
        println!("Verifying {user} (device {device}). Compare these emojis:");
        for e in &emojis {
            println!("  {}  {}", e.symbol, e.description);
        }
    }
    eprint!("Do the emojis match? [y/N] ");
    let answer = input::read_line_async().await?;
    if !std::io::IsTerminal::is_terminal(&std::io::stdin()) {
        // A piped answer is not echoed: end the prompt line ourselves.
        eprintln!();
    }
    let yes = answer.is_some_and(|a| matches!(a.trim().to_lowercase().as_str(), "y" | "yes"));
    if !yes {
        v.mismatch().await?;
        return Err(Fail::new(
            VERIFICATION,
            "the emojis do not match: verification cancelled",
        )
        .into());
    }
    v.confirm(timeout).await?;
    if ctx.json {
        output::json(&json!({
            "event": "verified", "user_id": user, "device_id": device,
        }))
    } else {
        println!("verified {user} (device {device})");
        Ok(())
    }
}
