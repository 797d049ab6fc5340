//! Consent where the customer is: asked in the chat, answered from any Matrix client,
//! recorded with its evidence, withdrawn with "STOP" — for both faces.
//!
//! The flow (double opt-in):
//! 1. [`Service::request_consent`] sends the request ([`wording::request_text`]) into the
//!    direct chat with the contact as an ordinary encrypted `m.text`, with the request's
//!    data under [`REQUEST_KEY`] in the same event (so the customer's Kontor shows Yes /
//!    No buttons; Element shows the text). The contact book keeps it as the contact's
//!    open request (kontor-contacts `record_request`: one at a time, a new one after an
//!    answer or 30 days).
//! 2. [`Service::observe_consent`] reads every incoming message: a reaction on the
//!    request, a reply to it, or a short message that is only the answer, **from the
//!    account asked and nobody else** ([`decide`]), becomes the answer: "yes" grants
//!    consent and moves the contact to the work book, "no" is recorded; either way the
//!    evidence is the request and the answer (event ids, texts, accounts, devices,
//!    times), written in one journaled step. The customer gets a short confirmation.
//! 3. Later, "STOP" from the contact withdraws: the contact moves back to the private
//!    book (so discovery never looks it up again), recorded the same way, confirmed.
//!
//! A person who starts a direct chat and is no contact yet becomes one in the private
//! book ([`Service::welcome_inviter`], source "wrote first via chat"): never a
//! discovery candidate, until they consent.

pub mod wording;

use std::sync::Arc;
use std::time::Duration;

use kontor_contacts::{
    AnswerWay, Book, ChatAnswer, ConsentRequest, ConsentStatus, Contact, ContactBook,
    DEFAULT_PURPOSE, Evidence, Timestamp,
};
use kontor_core::{CoreEvent, Message, MessageBody, SendState};
use serde::{Deserialize, Serialize};

use super::{Result, Service, ServiceError, language::Language};
use wording::Confirm;

/// The key of a consent request's data in its event's content.
pub const REQUEST_KEY: &str = "eu.kontor.consent_request";

/// How long a request's send may wait for the homeserver: a request must have its
/// event id before it is recorded, or no answer could be tied to it.
const SEND_WAIT: Duration = Duration::from_secs(60);

/// Messages read per chat with an open request when catching up (answers given while
/// no Kontor ran, or a gap in the sync).
const CATCH_UP_SCAN: u32 = 100;

/// How much earlier than the recorded request time a message of its own may be and
/// still count as the answer (the homeserver's clock against this device's).
const CLOCK_SKEW_SECS: i64 = 300;

/// A request's data in its event, for the customer's Kontor (buttons) and any reader.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireRequest {
    /// Format version (1).
    pub version: u32,
    /// The purpose asked for, in the freelancer's words.
    pub purpose: String,
    /// The language of the request (`de`, `en`), which the buttons' answer follows.
    pub language: String,
}

/// The request a message carries, if it is one (the customer's Kontor shows buttons).
pub fn request_in(body: &MessageBody) -> Option<WireRequest> {
    serde_json::from_value(body.extra(REQUEST_KEY)?.clone()).ok()
}

/// A request that went out.
#[derive(Debug, Clone)]
pub struct Requested {
    /// The contact as recorded, with its open request.
    pub contact: Contact,
    /// The request as kept.
    pub request: ConsentRequest,
}

/// What an incoming event means for a contact's consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The answer to the open request.
    Answer {
        /// Yes or no.
        yes: bool,
        /// The answer as evidence.
        answer: ChatAnswer,
    },
    /// "STOP" from a contact who consented.
    Withdraw(ChatAnswer),
}

/// A contact's consent changed in the chat (for the freelancer's notification).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentChanged {
    /// The contact.
    pub contact_id: String,
    /// Their name in the contact book (shown on this device only).
    pub name: String,
    /// What happened.
    pub change: Change,
}

/// What happened to a contact's consent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// They said yes: now in the work book.
    Granted,
    /// They said no: nothing moved.
    Declined,
    /// They withdrew: back in the private book.
    Withdrawn,
}

/// Whether `msg` answers `contact`'s open request or withdraws their consent. Only the
/// account asked (for an answer) or the contact's own account (for a withdrawal) counts;
/// never our own devices, never a third member. `received` is this device's time.
pub fn decide(contact: &Contact, msg: &Message, received: Timestamp) -> Option<Decision> {
    if msg.own {
        return None;
    }
    let event_id = msg.event_id.clone()?;
    let server_at = Timestamp((msg.timestamp_ms / 1000) as i64);
    let evidence = |text: &str, way| ChatAnswer {
        event_id: event_id.clone(),
        text: text.to_owned(),
        way,
        sender: msg.sender.clone(),
        sender_device: msg.sender_device.clone(),
        server_at,
        received_at: received,
    };
    if let Some(req) = &contact.consent_request
        && req.room_id == msg.room_id
        && req.asked_user == msg.sender
    {
        let answered = match &msg.body {
            MessageBody::Reaction { relates_to, key } if *relates_to == req.event_id => {
                wording::answer_in_reaction(key).map(|yes| (yes, key.as_str(), AnswerWay::Reaction))
            }
            MessageBody::Text { text, .. } if msg.reply_to.as_deref() == Some(&req.event_id) => {
                wording::answer_in_reply(text)
                    .or_else(|| wording::is_withdrawal(text).then_some(false))
                    .map(|yes| (yes, text.as_str(), AnswerWay::Reply))
            }
            MessageBody::Text { text, .. }
                if msg.reply_to.is_none() && server_at.0 >= req.asked_at.0 - CLOCK_SKEW_SECS =>
            {
                // "STOP" while asked is a no as well.
                wording::answer_in_message(text)
                    .or_else(|| wording::is_withdrawal(text).then_some(false))
                    .map(|yes| (yes, text.as_str(), AnswerWay::Message))
            }
            _ => None,
        };
        if let Some((yes, text, way)) = answered {
            return Some(Decision::Answer {
                yes,
                answer: evidence(text, way),
            });
        }
    }
    if contact.is_account(&msg.sender)
        && contact.consent.status() == ConsentStatus::Granted
        && server_at >= granted_since(contact)
        && let MessageBody::Text { text, .. } = &msg.body
        && wording::is_withdrawal(text)
    {
        let way = if msg.reply_to.is_some() {
            AnswerWay::Reply
        } else {
            AnswerWay::Message
        };
        return Some(Decision::Withdraw(evidence(text, way)));
    }
    None
}

/// From when a "STOP" can withdraw the current consent: after the answer that gave it
/// (the homeserver's time, so a STOP from before a renewed consent, read again in a
/// catch-up, does not end it), else after it was recorded here (less the clock skew).
fn granted_since(contact: &Contact) -> Timestamp {
    match contact.consent.current() {
        Some(event) => match &event.evidence {
            Some(Evidence::Chat(chat)) => chat.answer.server_at,
            _ => Timestamp(event.at.0 - CLOCK_SKEW_SECS),
        },
        None => Timestamp(0),
    }
}

/// Where in which chat an answer of `contact` may be waiting: after its open request,
/// else after the chat answer that gave its consent (a later "STOP").
fn anchor(contact: &Contact) -> Option<(String, String)> {
    if let Some(r) = &contact.consent_request {
        return Some((r.room_id.clone(), r.event_id.clone()));
    }
    let event = contact.consent.current()?;
    match (&event.source, &event.evidence) {
        (kontor_contacts::ConsentSource::Chat { room_id }, Some(Evidence::Chat(chat)))
            if event.status == ConsentStatus::Granted =>
        {
            Some((room_id.clone(), chat.answer.event_id.clone()))
        }
        _ => None,
    }
}

/// A cheap first look: could this message be an answer or a withdrawal at all? Most
/// messages are not, and they never cost a read of the contact book.
fn may_concern_consent(msg: &Message) -> bool {
    if msg.own {
        return false;
    }
    match &msg.body {
        MessageBody::Reaction { key, .. } => wording::answer_in_reaction(key).is_some(),
        MessageBody::Text { text, .. } => {
            wording::answer_in_reply(text).is_some() || wording::is_withdrawal(text)
        }
        _ => false,
    }
}

impl Service {
    /// Asks a contact for consent in the chat: `who` is a contact id (or unique prefix)
    /// or a Matrix id. Contacts in the private book need `confirmed` (the freelancer's
    /// explicit click, each time: requests never go out in bulk). The purpose defaults to
    /// [`DEFAULT_PURPOSE`]; the text is in `language` (the customer's, chosen by the
    /// freelancer), with the freelancer's intro from the settings.
    pub async fn request_consent(
        &self,
        who: &str,
        purpose: Option<&str>,
        language: Language,
        confirmed: bool,
    ) -> Result<Requested> {
        let book = self.book()?;
        let contact = self.consent_contact(&book, who).await?;
        let now = Timestamp::now();
        let (in_book, contact) = blocking(&book, move |b| b.may_request(&contact.id, now)).await?;
        if in_book == Book::Private && !confirmed {
            return Err(ServiceError::ConsentNeedsConfirmation(contact.id));
        }
        let user = contact
            .chat_id
            .clone()
            .or_else(|| contact.matrix_id.clone())
            .ok_or_else(|| ServiceError::NotAContact(contact.id.clone()))?;
        let purpose = purpose
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .unwrap_or(DEFAULT_PURPOSE)
            .to_owned();
        let settings = self.settings();
        let intro = match language {
            Language::German => settings.consent_intro_de.clone(),
            Language::English => settings.consent_intro_en.clone(),
        };
        let name = self.business_name();
        let wire = WireRequest {
            version: 1,
            purpose: purpose.clone(),
            language: language.code().to_owned(),
        };
        let payload = serde_json::to_value(&wire).map_err(|_| ServiceError::Crashed)?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let target = user.clone();
        let started = self.spawn(move |kontor| async move {
            let result = async {
                let account = kontor.user_id();
                let text = wording::request_text(
                    language,
                    intro.as_deref(),
                    name.as_deref().unwrap_or(&account),
                    &account,
                    &wire.purpose,
                );
                let room = kontor.open_dm(&target).await?;
                let txn = kontor
                    .send_text_with(&room, &text, REQUEST_KEY, payload)
                    .await?;
                match kontor.wait_sent(&room, &txn, SEND_WAIT).await? {
                    SendState::Sent { event_id } => {
                        Ok((room, event_id, text, account, kontor.device_id()))
                    }
                    SendState::Cancelled => Err(kontor_core::Error::Cancelled),
                    SendState::Failed { .. } | SendState::Pending => {
                        // Not recorded, so it must not go out later either.
                        let _ = kontor.cancel(&txn).await;
                        Err(kontor_core::Error::Unreachable(
                            "the consent request did not reach the homeserver".into(),
                        ))
                    }
                }
            }
            .await;
            let _ = tx.send(result);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        let (room_id, event_id, text, account, device) =
            rx.await.map_err(|_| ServiceError::NotSignedIn)??;
        let request = ConsentRequest {
            room_id,
            event_id,
            text,
            purpose,
            language: language.code().to_owned(),
            asked_by: account,
            asked_device: Some(device),
            asked_user: user,
            asked_at: now,
        };
        let id = contact.id.clone();
        let kept = request.clone();
        let contact = blocking(&book, move |b| b.record_request(&id, kept)).await?;
        Ok(Requested { contact, request })
    }

    /// Follows one event of the account: an answer or a withdrawal is recorded, the
    /// customer gets a confirmation, and the change is returned for a notification; a
    /// direct-chat invite from someone unknown makes them a private contact. Errors are
    /// logged (without names or texts), not returned: the event stream goes on.
    pub async fn observe_consent(&self, event: &CoreEvent) -> Option<ConsentChanged> {
        match event {
            CoreEvent::MessageReceived(msg) if may_concern_consent(msg) => {
                match self.apply_consent(msg).await {
                    Ok(changed) => changed,
                    Err(e) => {
                        tracing::warn!("a consent answer could not be recorded: {e}");
                        None
                    }
                }
            }
            CoreEvent::Invite {
                room_id,
                inviter: Some(inviter),
                direct: true,
            } => {
                if let Err(e) = self.welcome_inviter(room_id, inviter).await {
                    tracing::warn!("a new chat partner was not added as a contact: {e}");
                }
                None
            }
            _ => None,
        }
    }

    /// Reads the newest messages of the chats where an answer may be waiting and records
    /// what the sync did not deliver (given while no Kontor ran, or after a gap): every
    /// chat with an open request (read after the request), and the chat of every
    /// consent given there (read after the answer that gave it, for a "STOP"). Returns
    /// how many changed.
    pub async fn catch_up_consent(&self) -> Result<usize> {
        let book = self.book()?;
        // (room, the event after which an answer or a STOP may come)
        let anchors: Vec<(String, String)> = blocking(&book, |b| {
            let mut all = b.list(Book::Private)?;
            all.extend(b.list(Book::Work)?);
            Ok(all.iter().filter_map(anchor).collect())
        })
        .await?;
        let mut changed = 0;
        for (room_id, after_event) in anchors {
            let (tx, rx) = tokio::sync::oneshot::channel();
            let room = room_id.clone();
            if !self.spawn(move |kontor| async move {
                let _ = tx.send(kontor.messages(&room, CATCH_UP_SCAN).await);
            }) {
                return Err(ServiceError::NotSignedIn);
            }
            let page = match rx.await.map_err(|_| ServiceError::NotSignedIn)? {
                Ok(page) => page,
                Err(e) => {
                    tracing::debug!("a chat with consent to follow was not read: {e}");
                    continue;
                }
            };
            let after = page
                .iter()
                .position(|m| m.event_id.as_deref() == Some(&after_event))
                .map_or(0, |i| i + 1);
            for msg in &page[after..] {
                if may_concern_consent(msg) && self.apply_consent(msg).await?.is_some() {
                    changed += 1;
                }
            }
        }
        Ok(changed)
    }

    /// The customer's Yes / No on a request in Kontor: a reply to the request that reads
    /// naturally in any client ("JA, ich willige ein.") and that the freelancer's Kontor
    /// reads as the answer.
    /// Returns the reply's outbox transaction id once it is queued (on disk): the UI
    /// shows its delivery like any message's; a one-shot command waits for it.
    pub async fn answer_consent(
        &self,
        room_id: &str,
        request_event: &str,
        yes: bool,
        language: Language,
    ) -> Result<String> {
        let text = wording::button_reply(yes, language);
        let (room, event) = (room_id.to_owned(), request_event.to_owned());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let _ = tx.send(kontor.send_reply(&room, &event, text).await);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        Ok(rx.await.map_err(|_| ServiceError::NotSignedIn)??)
    }

    /// Records the Matrix account a contact chats from (typed by the freelancer, or the
    /// chat they started from the contact), so it can be asked and shown by name.
    pub async fn link_chat(&self, contact_id: &str, user_id: &str) -> Result<Contact> {
        kontor_core::parse_user_id(user_id)?;
        let book = self.book()?;
        let (id, user) = (contact_id.to_owned(), user_id.to_owned());
        blocking(&book, move |b| b.link_chat(&id, &user)).await
    }

    /// Someone invited us to a direct chat: if they are no contact yet, they become one
    /// in the private book (no consent, never a discovery candidate).
    pub async fn welcome_inviter(&self, room_id: &str, inviter: &str) -> Result<Option<Contact>> {
        let book = self.book()?;
        let (room, user) = (room_id.to_owned(), inviter.to_owned());
        let name = user
            .trim_start_matches('@')
            .split(':')
            .next()
            .unwrap_or_default()
            .to_owned();
        let known = {
            let user = user.clone();
            blocking(&book, move |b| b.by_matrix_user(&user)).await?
        };
        if known.is_some() {
            return Ok(None);
        }
        blocking(&book, move |b| b.add_from_chat(&user, &name, &room))
            .await
            .map(Some)
    }

    /// Records what `msg` decides for its sender's contact and confirms it to them.
    async fn apply_consent(&self, msg: &Message) -> Result<Option<ConsentChanged>> {
        let book = self.book()?;
        let sender = msg.sender.clone();
        let Some((_, contact)) = blocking(&book, move |b| b.by_matrix_user(&sender)).await? else {
            return Ok(None);
        };
        let Some(decision) = decide(&contact, msg, Timestamp::now()) else {
            return Ok(None);
        };
        let id = contact.id.clone();
        let room = msg.room_id.clone();
        let (change, recorded) = match decision {
            Decision::Answer { yes, answer } => {
                let change = if yes {
                    Change::Granted
                } else {
                    Change::Declined
                };
                let recorded = blocking(&book, move |b| b.answer_request(&id, yes, answer)).await;
                (change, recorded)
            }
            Decision::Withdraw(answer) => {
                let recorded =
                    blocking(&book, move |b| b.withdraw_in_chat(&id, &room, answer)).await;
                (Change::Withdrawn, recorded)
            }
        };
        let contact = match recorded {
            Ok(c) => c,
            // Recorded before (the same event from the sync and a catch-up).
            Err(ServiceError::Contacts(kontor_contacts::Error::InvalidState(_))) => {
                return Ok(None);
            }
            Err(e) => return Err(e),
        };
        self.confirm(&msg.room_id, &contact, change).await;
        Ok(Some(ConsentChanged {
            contact_id: contact.id.clone(),
            name: contact.display_name.clone(),
            change,
        }))
    }

    /// Tells the customer their answer or withdrawal was recorded, in the request's
    /// language. A failure is logged: the record stands either way.
    async fn confirm(&self, room_id: &str, contact: &Contact, change: Change) {
        let event = contact.consent.current();
        let (purpose, language) = match event.and_then(|e| e.evidence.as_ref()) {
            Some(Evidence::Chat(chat)) => match &chat.request {
                Some(r) => (r.purpose.clone(), Language::from_code(&r.language)),
                None => (
                    event.and_then(|e| e.purpose.clone()).unwrap_or_default(),
                    self.request_language(contact),
                ),
            },
            _ => (String::new(), Language::German),
        };
        let what = match change {
            Change::Granted => Confirm::Granted,
            Change::Declined => Confirm::Declined,
            Change::Withdrawn => Confirm::Withdrawn,
        };
        let name = self.business_name();
        let room = room_id.to_owned();
        // Waits until the confirmation is in the outbox (on disk), so a command that
        // ends right after still sends it with the next run; not until it is delivered.
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.spawn(move |kontor| async move {
            let account = kontor.user_id();
            let text = wording::confirmation(
                language,
                what,
                &purpose,
                name.as_deref().unwrap_or(&account),
            );
            let _ = tx.send(kontor.send_text(&room, &text).await);
        });
        match rx.await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => tracing::warn!("the consent confirmation was not queued: {e}"),
            Err(_) => tracing::warn!("the consent confirmation was not queued: signed out"),
        }
    }

    /// The language the contact was last asked in (a withdrawal is confirmed in it).
    fn request_language(&self, contact: &Contact) -> Language {
        contact
            .consent
            .history()
            .iter()
            .rev()
            .find_map(|e| match &e.evidence {
                Some(Evidence::Chat(chat)) => chat.request.as_ref().map(|r| r.language.clone()),
                _ => None,
            })
            .map_or(Language::German, |code| Language::from_code(&code))
    }

    /// The name a request is signed with: the business details' name when set.
    fn business_name(&self) -> Option<String> {
        let quotes = self.quotes().ok()?;
        quotes
            .details()
            .ok()
            .flatten()
            .map(|d| d.name)
            .filter(|n| !n.trim().is_empty())
    }

    /// The contact `who` names: an id (or prefix), or a Matrix account — a contact's, or
    /// a chat partner's who becomes a private contact now.
    async fn consent_contact(&self, book: &Arc<ContactBook>, who: &str) -> Result<Contact> {
        if !who.starts_with('@') {
            let id = who.to_owned();
            return blocking(book, move |b| b.get(&id)).await.map(|(_, c)| c);
        }
        kontor_core::parse_user_id(who)?;
        let user = who.to_owned();
        if let Some((_, c)) = blocking(book, move |b| b.by_matrix_user(&user)).await? {
            return Ok(c);
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let user = who.to_owned();
        if !self.spawn(move |kontor| async move {
            let _ = tx.send(kontor.find_dm(&user).await);
        }) {
            return Err(ServiceError::NotSignedIn);
        }
        let room = rx
            .await
            .map_err(|_| ServiceError::NotSignedIn)??
            .ok_or_else(|| ServiceError::NotAContact(who.to_owned()))?;
        let (user, name) = (who.to_owned(), who.to_owned());
        blocking(book, move |b| b.add_from_chat(&user, &name, &room)).await
    }
}

/// Runs a contact-book operation off the async workers (sled reads and the journaled
/// writes block; a book of thousands unseals in milliseconds, not microseconds).
async fn blocking<T: Send + 'static>(
    book: &Arc<ContactBook>,
    f: impl FnOnce(&ContactBook) -> kontor_contacts::Result<T> + Send + 'static,
) -> Result<T> {
    let book = book.clone();
    tokio::task::spawn_blocking(move || f(&book))
        .await
        .map_err(|_| ServiceError::Crashed)?
        .map_err(ServiceError::Contacts)
}

#[cfg(test)]
mod tests;
