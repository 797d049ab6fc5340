//! `kontor consent …`: ask for consent in the chat, follow the answers, answer as a
//! customer, and the request's editable intro.
//!
//! Every command goes through the session service (`kontor::service::consent`), so the
//! CLI asks, reads answers and records evidence exactly as the app does. Commands that
//! read consent first catch up: one sync (answers that arrived since the last run) and
//! the chats with open requests.

use std::sync::Arc;

use anyhow::{Context, Result};
use kontor::service::{
    Service, ServiceConfig,
    consent::{request_in, wording},
    language::Language,
};
use kontor_contacts::{Book, Contact, Evidence};
use kontor_core::Kontor;
use serde_json::json;

use super::{Ctx, contacts, insecure_fast_kdf};
use crate::{
    cli::{ConsentAction, Lang, YesNo},
    output,
};

/// `kontor consent …`
pub async fn consent(ctx: &Ctx, action: ConsentAction) -> Result<()> {
    match action {
        ConsentAction::Request {
            who,
            purpose,
            language,
            confirm,
        } => {
            let (svc, _) = open(ctx, true).await?;
            let sent = svc
                .request_consent(&who, purpose.as_deref(), language.into(), confirm)
                .await?;
            let r = &sent.request;
            if ctx.json {
                output::json(&json!({
                    "contact": sent.contact.id,
                    "user": r.asked_user,
                    "room_id": r.room_id,
                    "event_id": r.event_id,
                    "purpose": r.purpose,
                    "language": r.language,
                    "text": r.text,
                }))
            } else {
                println!(
                    "asked {} ({}) for consent: {}",
                    sent.contact.display_name, r.asked_user, r.event_id
                );
                Ok(())
            }
        }
        ConsentAction::Status { who } => {
            let (svc, _) = open(ctx, true).await?;
            status(ctx, &svc, who.as_deref())
        }
        ConsentAction::Answer {
            user,
            answer,
            language,
        } => {
            let (svc, kontor) = open(ctx, false).await?;
            answer_request(ctx, &svc, &kontor, &user, answer, language).await
        }
        ConsentAction::Template {
            language,
            set,
            reset,
        } => template(ctx, language, set.as_deref(), reset).await,
    }
}

/// Unlocks the profile and the contact book with one passphrase, restores the account
/// and, with `follow`, catches up with answers (a homeserver that is down leaves the
/// device's own records, with a warning).
async fn open(ctx: &Ctx, follow: bool) -> Result<(Arc<Service>, Arc<Kontor>)> {
    let pass = contacts::passphrase()?;
    let profile = ctx.unlock_with(pass.clone()).await?;
    let kontor = ctx.restore(Some(profile), false).await?;
    let svc = ctx.service(kontor.clone());
    svc.load_settings().await;
    svc.set_book(Some(contacts::open_book(ctx, &pass)?));
    let mut events = kontor.subscribe();
    if let Err(e) = kontor.sync_once().await {
        tracing::warn!("sync failed, using the device's records: {e}");
    }
    if follow {
        for ev in Ctx::drain(&mut events) {
            svc.observe_consent(&ev).await;
        }
        if let Err(e) = svc.catch_up_consent().await {
            tracing::warn!("open requests not caught up: {e}");
        }
    }
    Ok((svc, kontor))
}

/// `kontor consent status [WHO]`
fn status(ctx: &Ctx, svc: &Service, who: Option<&str>) -> Result<()> {
    let book = svc.book()?;
    let mut rows: Vec<(Book, Contact)> = Vec::new();
    for b in [Book::Work, Book::Private] {
        rows.extend(book.list(b)?.into_iter().map(|c| (b, c)));
    }
    let rows: Vec<(Book, Contact)> = match who {
        Some(w) if w.starts_with('@') => {
            rows.into_iter().filter(|(_, c)| c.is_account(w)).collect()
        }
        Some(id) => vec![book.get(id)?],
        None => rows
            .into_iter()
            .filter(|(_, c)| c.chat_id.is_some() || c.matrix_id.is_some())
            .collect(),
    };
    if who.is_some() && rows.is_empty() {
        anyhow::bail!("no contact with this Matrix account");
    }
    let out: Vec<serde_json::Value> = rows.iter().map(|(b, c)| status_json(*b, c)).collect();
    if ctx.json {
        return output::json(&if who.is_some() && out.len() == 1 {
            out[0].clone()
        } else {
            serde_json::Value::Array(out)
        });
    }
    for (b, c) in &rows {
        let open = match &c.consent_request {
            Some(r) => format!(", asked {}", r.asked_at),
            None => String::new(),
        };
        println!(
            "{}  {}  {}  {} ({}){open}",
            c.id,
            c.consent.status(),
            b,
            c.display_name,
            c.chat_id
                .as_deref()
                .or(c.matrix_id.as_deref())
                .unwrap_or("-"),
        );
    }
    Ok(())
}

/// One contact's consent for scripts: the state, the open request and the last
/// decision with its evidence as recorded.
fn status_json(book: Book, c: &Contact) -> serde_json::Value {
    let current = c.consent.current();
    let chat = current.and_then(|e| match &e.evidence {
        Some(Evidence::Chat(chat)) => Some(chat),
        _ => None,
    });
    json!({
        "id": c.id,
        "name": c.display_name,
        "book": book,
        "status": c.consent.status(),
        "purpose": current.and_then(|e| e.purpose.clone()),
        "since": current.map(|e| e.at),
        "source": current.map(|e| &e.source),
        "chat_id": c.chat_id,
        "matrix_id": c.matrix_id,
        "open_request": c.consent_request,
        "evidence": chat,
    })
}

/// `kontor consent answer USER yes|no`: the customer's side. Finds the newest request
/// in the direct chat with `user` and replies to it.
async fn answer_request(
    ctx: &Ctx,
    svc: &Service,
    kontor: &Kontor,
    user: &str,
    answer: YesNo,
    language: Option<Lang>,
) -> Result<()> {
    let room = kontor
        .find_dm(user)
        .await?
        .with_context(|| format!("no direct chat with {user}"))?;
    let page = kontor.messages(&room, 100).await?;
    let (event_id, wire) = page
        .iter()
        .rev()
        .filter(|m| !m.own && m.sender == user)
        .find_map(|m| Some((m.event_id.clone()?, request_in(&m.body)?)))
        .with_context(|| format!("{user} has sent you no consent request"))?;
    let language = language.map_or(Language::from_code(&wire.language), Into::into);
    let yes = answer == YesNo::Yes;
    let txn = svc.answer_consent(&room, &event_id, yes, language).await?;
    let state = super::chat::deliver_answer(kontor, &room, &txn).await?;
    if ctx.json {
        output::json(&json!({
            "room_id": room,
            "request": event_id,
            "answer": if yes { "yes" } else { "no" },
            "text": wording::button_reply(yes, language),
            "state": state,
        }))
    } else {
        println!(
            "answered {event_id}: {}",
            wording::button_reply(yes, language)
        );
        Ok(())
    }
}

/// `kontor consent template [--language L] [--set FILE | --reset]`
async fn template(
    ctx: &Ctx,
    language: Lang,
    set: Option<&std::path::Path>,
    reset: bool,
) -> Result<()> {
    let svc = Service::new(
        ServiceConfig {
            data_dir: ctx.data_dir.clone(),
            insecure_fast_kdf: insecure_fast_kdf(),
        },
        tokio::runtime::Handle::current(),
    );
    let (_, warning) = svc.load_settings().await;
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    let language: Language = language.into();
    let new = match set {
        Some(path) => Some(Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?
                .trim()
                .to_owned(),
        )),
        None if reset => Some(None),
        None => None,
    };
    if let Some(intro) = new {
        let (_, save) = svc.change_settings(|s| match language {
            Language::German => s.consent_intro_de = intro,
            Language::English => s.consent_intro_en = intro,
        });
        save.await?;
    }
    let settings = svc.settings();
    let own = match language {
        Language::German => settings.consent_intro_de,
        Language::English => settings.consent_intro_en,
    };
    let intro = own
        .clone()
        .unwrap_or_else(|| wording::default_intro(language).to_owned());
    if ctx.json {
        output::json(&json!({
            "language": language.code(),
            "intro": intro,
            "custom": own.is_some(),
            "placeholders": wording::PLACEHOLDERS,
        }))
    } else {
        println!("{intro}");
        Ok(())
    }
}

impl From<Lang> for Language {
    fn from(l: Lang) -> Language {
        match l {
            Lang::De => Language::German,
            Lang::En => Language::English,
        }
    }
}
