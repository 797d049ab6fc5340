//! `kontor quote …`: business details, write, send, list, show, answer, export.
//!
//! Every command goes through the session service (`kontor::service`), so the CLI
//! numbers, checks, renders, sends and records exactly as the app does. Before reading
//! or changing quotes a command catches up: it merges the business room (what the
//! account's other devices did) and the answers that arrived since the last run.

use std::{path::Path, sync::Arc};

use anyhow::{Context, Result};
use kontor::service::{
    Service,
    quotes::{draft::DraftInput, quote_in},
};
use kontor_core::{CancellationToken, Kontor};
use kontor_quotes::{
    BusinessDetails, Customer, Date, QuoteNumber, QuoteRecord, Status, answer::Answer,
    overview::Filter,
};
use serde_json::json;

use super::Ctx;
use crate::{
    cli::{AnswerArg, Lang, QuoteAction},
    output,
};

/// `kontor quote …`
pub async fn quote(ctx: &Ctx, action: QuoteAction) -> Result<()> {
    let (svc, kontor) = open(ctx).await?;
    match action {
        QuoteAction::Details { set } => details(ctx, &svc, set.as_deref()).await,
        QuoteAction::New {
            file,
            to,
            customer,
            contact,
            replaces,
            pdf,
            send,
            lang,
        } => {
            let input: DraftInput = read_file(&file)?;
            let replaces = replaces.as_deref().map(number).transpose()?;
            let name = customer.or_else(|| to.clone()).unwrap_or_default();
            let customer = Customer {
                name,
                user_id: to.clone(),
                contact_id: contact,
            };
            let written = svc
                .write_quote(&input, customer, replaces, lang.german())
                .await?;
            if let Some(out) = pdf {
                kontor::service::fs::write_private(&out, &written.pdf)
                    .with_context(|| format!("cannot write {}", out.display()))?;
            }
            let record = if send {
                let user = to.context("--send needs --to USER")?;
                let room = kontor.open_dm(&user).await?;
                svc.send_quote(
                    &room,
                    written.record.quote.number,
                    lang.german(),
                    CancellationToken::new(),
                )
                .await?
            } else {
                written.record
            };
            print_record(ctx, &record, lang.german())
        }
        QuoteAction::Send { number: n, lang } => {
            let n = number(&n)?;
            let record = svc.quotes()?.get(&n)?.context("no such quote")?;
            let user = record
                .customer
                .user_id
                .clone()
                .context("the quote has no customer with a Matrix id (write it with --to)")?;
            let room = kontor.open_dm(&user).await?;
            let sent = svc
                .send_quote(&room, n, lang.german(), CancellationToken::new())
                .await?;
            print_record(ctx, &sent, lang.german())
        }
        QuoteAction::List { status, customer } => {
            let status = match status.as_deref() {
                Some(s) => Some(Status::from_name(s).with_context(|| {
                    format!(
                        "unknown status {s:?} (draft, sent, accepted, declined, expired, replaced)"
                    )
                })?),
                None => None,
            };
            let filter = Filter { status, customer };
            let ov = svc.quotes()?.overview(&filter, Date::today())?;
            if ctx.json {
                output::json(&ov)?;
            } else {
                for r in &ov.rows {
                    println!(
                        "{}  {}  {:<9} {:>14}  {}{}",
                        r.number,
                        r.date.format(false),
                        r.status.name(),
                        r.gross.format(false),
                        r.customer.name,
                        if r.late { "  (late answer)" } else { "" }
                    );
                }
                println!(
                    "open: {}  accepted: {}",
                    ov.open_total.format(false),
                    ov.accepted_total.format(false)
                );
            }
            Ok(())
        }
        QuoteAction::Show { number: n, pdf } => {
            let n = number(&n)?;
            let record = svc.quotes()?.get(&n)?.context("no such quote")?;
            if let Some(out) = pdf {
                let details = svc
                    .quotes()?
                    .details()?
                    .unwrap_or_else(BusinessDetails::new);
                let bytes =
                    kontor_quotes::pdf::render(&record.quote, &details, &record.customer, true)?;
                kontor::service::fs::write_private(&out, &bytes)
                    .with_context(|| format!("cannot write {}", out.display()))?;
            }
            print_record(ctx, &record, false)
        }
        QuoteAction::Answer {
            user,
            event_id,
            answer,
            lang,
        } => {
            let room = kontor
                .find_dm(&user)
                .await?
                .with_context(|| format!("no chat with {user}"))?;
            let page = kontor.messages(&room, 200).await?;
            let msg = page
                .iter()
                .find(|m| m.event_id.as_deref() == Some(event_id.as_str()))
                .context("no such event in the chat's recent messages")?;
            let (quote, _) = quote_in(msg).context("that event is not a quote")?;
            let given = match answer {
                AnswerArg::Accept => Answer::Accept,
                AnswerArg::Decline => Answer::Decline,
            };
            let txn = svc
                .answer_quote(&room, &event_id, quote.number, given, lang.german())
                .await?;
            let state = super::chat::deliver_answer(&kontor, &room, &txn).await?;
            if ctx.json {
                output::json(&json!({
                    "number": quote.number.to_string(),
                    "answer": given,
                    "state": state,
                }))?;
            } else {
                println!("answered {}: {given:?}", quote.number);
            }
            Ok(())
        }
        QuoteAction::Export { out, lang } => {
            let csv = svc.quotes()?.csv(Date::today(), lang.german())?;
            kontor::service::fs::write_private(&out, csv.as_bytes())
                .with_context(|| format!("cannot write {}", out.display()))?;
            if ctx.json {
                output::json(&json!({ "path": out }))?;
            }
            Ok(())
        }
    }
}

/// The account, restored, inside a session service; caught up with the other devices
/// and with the answers that arrived while no Kontor ran.
async fn open(ctx: &Ctx) -> Result<(Arc<Service>, Arc<Kontor>)> {
    let kontor = ctx.restore(None, false).await?;
    let svc = ctx.service(kontor.clone());
    let mut events = kontor.subscribe();
    if let Err(e) = kontor.sync_once().await {
        tracing::warn!("sync failed, using the device's quotes: {e}");
    }
    for ev in Ctx::drain(&mut events) {
        svc.observe_quotes(&ev).await;
    }
    if let Err(e) = svc.catch_up_quotes().await {
        tracing::warn!("business room not read: {e}");
    }
    if let Err(e) = svc.catch_up_answers().await {
        tracing::warn!("answers not caught up: {e}");
    }
    Ok((svc, kontor))
}

async fn details(ctx: &Ctx, svc: &Service, set: Option<&Path>) -> Result<()> {
    if let Some(file) = set {
        let details: BusinessDetails = read_file(file)?;
        svc.save_details(details).await?;
    }
    let details = svc.quotes()?.details()?;
    if ctx.json {
        output::json(&details)?;
    } else {
        match details {
            Some(d) => println!(
                "{}\n{}\ntax id: {}\nsmall business (§ 19 UStG): {}\nvalidity: {} days",
                d.name,
                d.address,
                d.tax_id,
                if d.small_business { "yes" } else { "no" },
                d.validity_days
            ),
            None => println!("no business details yet (kontor quote details --set FILE)"),
        }
    }
    Ok(())
}

fn print_record(ctx: &Ctx, record: &QuoteRecord, german: bool) -> Result<()> {
    let status = record.status(Date::today());
    if ctx.json {
        let totals = record.quote.totals();
        return output::json(&json!({
            "number": record.quote.number.to_string(),
            "status": status.name(),
            "customer": record.customer,
            "title": record.quote.title,
            "date": record.quote.date,
            "valid_until": record.quote.valid_until,
            "totals": totals,
            "caption": record.quote.caption(german),
            "sent": record.sent,
            "answers": record.answers,
            "replaces": record.replaces.map(|n| n.to_string()),
            "replaced_by": record.replaced_by.map(|n| n.to_string()),
            "pdf_sha256": record.pdf_sha256,
        }));
    }
    println!("{}  {}", record.quote.number, status.name());
    println!("{}", record.quote.caption(german));
    for a in &record.answers {
        println!(
            "  {:?} by {} at {} ms{}",
            a.answer,
            a.by,
            a.at_ms,
            if a.late { " (late)" } else { "" }
        );
    }
    Ok(())
}

fn number(s: &str) -> Result<QuoteNumber> {
    s.parse()
        .map_err(|_| anyhow::anyhow!("{s:?} is not a quote number (like A-2026-0007)"))
}

/// A JSON or TOML file (by extension; `.toml` is TOML, anything else JSON), with the
/// parser's line and column in the error.
fn read_file<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let toml = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
    if toml {
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
    } else {
        serde_json::from_str(&text).map_err(|e| {
            anyhow::anyhow!(
                "{}: line {}, column {}: {e}",
                path.display(),
                e.line(),
                e.column()
            )
        })
    }
}

impl Lang {
    fn german(self) -> bool {
        matches!(self, Lang::De)
    }
}
