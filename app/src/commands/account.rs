//! login, logout, whoami, recovery.

use anyhow::{Context, Result, bail};
use kontor_core::Kontor;
use serde_json::json;

use super::Ctx;
use crate::{cli::RecoveryAction, input, output};

/// `kontor login --homeserver URL --user NAME`
pub async fn login(ctx: &Ctx, homeserver: &str, user: &str) -> Result<()> {
    let dir = ctx.profile_dir();
    let existed = ctx.has_profile();
    let passphrase = input::secret(input::PASSPHRASE)?;
    if !existed {
        super::contacts::check_book_passphrase(ctx, &passphrase)?;
    }
    let profile = ctx.unlock_with(passphrase).await?;
    if profile.has_session() {
        bail!("this profile is already logged in; run `kontor logout` first");
    }
    let password = input::secret(input::PASSWORD)?;
    let kontor = match Kontor::login(profile, homeserver, user, &password).await {
        Ok(k) => k,
        Err(e) => {
            // A profile created by this failed attempt would pin a possibly mistyped
            // passphrase; remove it so the next attempt starts fresh.
            if !existed {
                let _ = std::fs::remove_dir_all(&dir);
            }
            return Err(e).context("login failed");
        }
    };
    if ctx.json {
        output::json(&json!({
            "user_id": kontor.user_id(),
            "device_id": kontor.device_id(),
            "homeserver": kontor.homeserver(),
        }))
    } else {
        println!(
            "logged in as {} (device {})",
            kontor.user_id(),
            kontor.device_id()
        );
        Ok(())
    }
}

/// `kontor logout [--force]`
pub async fn logout(ctx: &Ctx, force: bool) -> Result<()> {
    let kontor = ctx.restore(None, true).await?;
    let user = kontor.user_id();
    // Room keys not yet in the server backup would be lost with this device.
    if let Err(e) = kontor.wait_for_backup().await {
        if !force {
            return Err(e).context("cannot finish the key backup (use --force to log out anyway)");
        }
        tracing::warn!("key backup incomplete: {e}");
    }
    // `logout` needs the only reference to the account: drop the context's copy.
    drop(ctx.take_session());
    kontor.logout(force).await.context(if force {
        "logout failed"
    } else {
        "logout failed (use --force to delete the local profile anyway)"
    })?;
    if ctx.json {
        output::json(&json!({ "user_id": user, "logged_out": true }))
    } else {
        println!("logged out {user}; local profile deleted");
        Ok(())
    }
}

/// `kontor whoami`
pub async fn whoami(ctx: &Ctx) -> Result<()> {
    let kontor = ctx.restore(None, true).await?;
    if ctx.json {
        output::json(&json!({
            "user_id": kontor.user_id(),
            "device_id": kontor.device_id(),
            "homeserver": kontor.homeserver(),
        }))
    } else {
        println!(
            "{} (device {}) on {}",
            kontor.user_id(),
            kontor.device_id(),
            kontor.homeserver()
        );
        Ok(())
    }
}

/// `kontor recovery enable|restore`
pub async fn recovery(ctx: &Ctx, action: RecoveryAction) -> Result<()> {
    match action {
        RecoveryAction::Enable => {
            let kontor = ctx.restore(None, true).await?;
            let key = zeroize::Zeroizing::new(kontor.enable_recovery().await?);
            if ctx.json {
                output::json(&json!({ "recovery_key": *key }))
            } else {
                eprintln!("Recovery key (store it somewhere safe; it unlocks your history):");
                println!("{}", *key);
                Ok(())
            }
        }
        RecoveryAction::Restore => {
            // Order on stdin: passphrase first, then the recovery key.
            let profile = ctx.unlocked().await?;
            let key = input::secret(input::RECOVERY_KEY)?;
            let kontor = ctx.restore(Some(profile), true).await?;
            kontor.recover(&key).await?;
            if ctx.json {
                output::json(&json!({ "recovered": true }))
            } else {
                println!("keys restored from the backup");
                Ok(())
            }
        }
    }
}
