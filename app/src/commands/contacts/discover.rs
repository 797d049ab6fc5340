//! `kontor contacts discover`: which consented contacts use Matrix.
//!
//! Only the work book is opened (`WorkBook::open`), never `ContactBook`: the private
//! book's secret key is not even derived, so no code path in this process could send a
//! contact without consent to the identity server. The homeserver vouches for us with an
//! OpenID token; the identity server sees sha256 hashes of the work book's numbers and
//! addresses (see kontor-contacts' threat model for what that does and does not hide).

use anyhow::{Context, Result};
use kontor::service::{ServiceError, discovery, settings};
use kontor_contacts::WorkBook;
use serde_json::json;

use super::{Ctx, passphrase, require_book};
use crate::exit::{FAILURE, Fail, USAGE};
use crate::output;

/// The identity server to ask, through the service's gate: the CLI and the app share one
/// data directory, so "discovery off" in the app must also stop a script (it is the
/// user's decision about their customers' data, not a per-program preference). An
/// explicit flag or `KONTOR_IDENTITY_SERVER` wins over the saved server, as in the app.
fn identity_server_for(ctx: &Ctx, given: Option<String>) -> Result<String> {
    let (settings, problem) = settings::load(&ctx.data_dir);
    if let Some(problem) = problem {
        // A damaged file falls back to the defaults (discovery on, no server), as in the app.
        eprintln!("warning: {problem}");
    }
    discovery::gate(given.as_deref(), &settings, |k| std::env::var(k).ok()).map_err(|e| {
        let code = match e {
            ServiceError::DiscoveryOff => FAILURE,
            _ => USAGE,
        };
        Fail::new(code, e.to_string()).into()
    })
}

/// `kontor contacts discover [--identity-server URL]`; `identity_server` is the flag or
/// `KONTOR_IDENTITY_SERVER`.
pub async fn discover(ctx: &Ctx, identity_server: Option<String>) -> Result<()> {
    // Cheap checks first, before any passphrase is asked for.
    let identity_server = &identity_server_for(ctx, identity_server)?;
    if !ctx.has_profile() {
        return Err(kontor_core::Error::NotLoggedIn.into());
    }
    require_book(ctx)?;
    // One passphrase (stdin may carry only one line) unlocks the profile and the book.
    let pass = passphrase()?;
    let profile = ctx.unlock_with(pass.clone()).await?;
    let work = WorkBook::open(&ctx.contacts_dir(), &pass)
        .context("cannot open the work book of the contact book")?;
    drop(pass);
    let kontor = ctx.restore(Some(profile), false).await?;
    let report = discovery::run(&kontor, &work, identity_server)
        .await
        .with_context(|| format!("discovery with {identity_server} failed"))?;
    if ctx.json {
        let mut v = serde_json::to_value(&report).context("cannot encode the report")?;
        v["identity_server"] = json!(identity_server);
        return output::json(&v);
    }
    println!(
        "looked up {} consented contacts ({} hashes in {} requests) at {identity_server}: \
         {} on Matrix, {} changed",
        report.contacts, report.hashes_sent, report.batches, report.found, report.changed
    );
    for c in work.list().context("cannot read the work book")? {
        if let Some(m) = &c.matrix_id {
            println!("  {}  {}  {m}", c.id, c.display_name);
        }
    }
    Ok(())
}
