//! The contact book's side of consent in the chat: who a chat partner is, the open
//! request, and the customer's answer as a journaled consent event (see
//! [`crate::chat`] for the data and why it lives in the contact's record).

use super::{ContactBook, book_for};
use crate::chat::{ChatAnswer, ChatEvidence, ConsentRequest, REQUEST_INTERVAL_SECS};
use crate::consent::{Consent, ConsentEvent, ConsentSource, ConsentStatus, Evidence};
use crate::error::{Error, Result};
use crate::model::{Book, Contact};
use crate::time::Timestamp;

impl ContactBook {
    /// The contact a Matrix account belongs to: the one whose chat id or discovered
    /// Matrix id it is, in either book (a work-book contact first). Reads every record
    /// (no index by account yet): ~38 ms for 5,000 contacts (`benches/chat.rs`), so
    /// callers run it off the async workers and only for messages that may concern consent.
    pub fn by_matrix_user(&self, user_id: &str) -> Result<Option<(Book, Contact)>> {
        for book in [Book::Work, Book::Private] {
            if let Some(c) = self.list(book)?.into_iter().find(|c| c.is_account(user_id)) {
                return Ok(Some((book, c)));
            }
        }
        Ok(None)
    }

    /// A person who wrote first (through the business link, or any direct chat) becomes
    /// a contact in the private book, without consent and never a discovery candidate;
    /// the source says how they came. Returns the contact they already are, if any.
    pub fn add_from_chat(&self, user_id: &str, name: &str, room_id: &str) -> Result<Contact> {
        let _guard = self.lock();
        if let Some((_, known)) = self.by_matrix_user(user_id)? {
            return Ok(known);
        }
        let now = Timestamp::now();
        let name = name.trim();
        let contact = Contact {
            id: super::new_id(),
            display_name: if name.is_empty() { user_id } else { name }.to_owned(),
            organisation: None,
            title: None,
            addresses: Vec::new(),
            phones: Vec::new(),
            emails: Vec::new(),
            note: None,
            labels: Vec::new(),
            created: now,
            updated: now,
            consent: Consent::with(ConsentEvent {
                status: ConsentStatus::None,
                purpose: None,
                at: now,
                source: ConsentSource::WroteFirst {
                    room_id: room_id.to_owned(),
                },
                evidence: None,
            }),
            matrix_id: None,
            chat_id: Some(user_id.to_owned()),
            consent_request: None,
        };
        self.write_in_place(Book::Private, &contact)?;
        Ok(contact)
    }

    /// Records the Matrix account a contact chats from (the freelancer started a chat
    /// with them, or linked a chat partner to an existing contact).
    pub fn link_chat(&self, id: &str, user_id: &str) -> Result<Contact> {
        let _guard = self.lock();
        let (book, mut contact) = self.get(id)?;
        if contact.chat_id.as_deref() == Some(user_id) {
            return Ok(contact);
        }
        contact.chat_id = Some(user_id.to_owned());
        contact.updated = Timestamp::now();
        self.write_in_place(book, &contact)?;
        Ok(contact)
    }

    /// Whether a consent request may be sent to this contact now: it has an account to
    /// ask, has not consented already, and has no request younger than
    /// [`REQUEST_INTERVAL_SECS`] waiting. Checked before the request is sent.
    pub fn may_request(&self, id: &str, now: Timestamp) -> Result<(Book, Contact)> {
        let (book, contact) = self.get(id)?;
        check_request(&contact, now)?;
        Ok((book, contact))
    }

    /// Keeps the request just sent as the contact's open request.
    pub fn record_request(&self, id: &str, request: ConsentRequest) -> Result<Contact> {
        let _guard = self.lock();
        let (book, mut contact) = self.get(id)?;
        check_request(&contact, request.asked_at)?;
        if contact.chat_id.is_none() {
            contact.chat_id = Some(request.asked_user.clone());
        }
        contact.consent_request = Some(request);
        contact.updated = Timestamp::now();
        self.write_in_place(book, &contact)?;
        Ok(contact)
    }

    /// The customer answered the open request: "yes" grants consent for the request's
    /// purpose and moves the contact to the work book, "no" is recorded and nothing
    /// moves. The evidence is the request and the answer; the request is cleared in the
    /// same journaled write. Only the account asked can answer.
    pub fn answer_request(&self, id: &str, yes: bool, answer: ChatAnswer) -> Result<Contact> {
        let (_, contact) = self.get(id)?;
        let request = contact.consent_request.clone().ok_or_else(|| {
            Error::InvalidState(format!("contact {} has no open request", contact.id))
        })?;
        if answer.sender != request.asked_user {
            return Err(Error::InvalidState(
                "only the person asked can answer a consent request".into(),
            ));
        }
        let status = if yes {
            ConsentStatus::Granted
        } else if contact.consent.status() != ConsentStatus::None {
            // "No" from someone who had consented (by hand, after the request was
            // sent) ends that consent; from someone who withdrew, it stays withdrawn.
            ConsentStatus::Withdrawn
        } else {
            ConsentStatus::None
        };
        let event = ConsentEvent {
            status,
            purpose: Some(request.purpose.clone()),
            at: Timestamp::now(),
            source: ConsentSource::Chat {
                room_id: request.room_id.clone(),
            },
            evidence: Some(Evidence::Chat(Box::new(ChatEvidence {
                request: Some(request.clone()),
                answer,
            }))),
        };
        let expected = request.event_id;
        self.change_consent(&contact.id, event, move |c| {
            // Re-read under the lock: the same answer delivered twice records once.
            match &c.consent_request {
                Some(open) if open.event_id == expected => {
                    c.consent_request = None;
                    Ok(())
                }
                _ => Err(Error::InvalidState(format!(
                    "contact {} has no open request",
                    c.id
                ))),
            }
        })
    }

    /// The customer withdrew in the chat ("STOP"): the contact moves to the private
    /// book and its discovered Matrix id is dropped, as with every withdrawal; the chat
    /// id stays (the chat goes on). Only the contact's own account can withdraw.
    pub fn withdraw_in_chat(&self, id: &str, room_id: &str, answer: ChatAnswer) -> Result<Contact> {
        let (_, contact) = self.get(id)?;
        if contact.consent.status() != ConsentStatus::Granted {
            return Err(Error::InvalidState(format!(
                "contact {} has no consent to withdraw",
                contact.id
            )));
        }
        if !contact.is_account(&answer.sender) {
            return Err(Error::InvalidState(
                "only the contact can withdraw their consent".into(),
            ));
        }
        let event = ConsentEvent {
            status: ConsentStatus::Withdrawn,
            purpose: contact.consent.current().and_then(|e| e.purpose.clone()),
            at: Timestamp::now(),
            source: ConsentSource::Chat {
                room_id: room_id.to_owned(),
            },
            evidence: Some(Evidence::Chat(Box::new(ChatEvidence {
                request: None,
                answer,
            }))),
        };
        let sender = contact.chat_id.clone().or(contact.matrix_id.clone());
        self.change_consent(&contact.id, event, move |c| {
            if c.consent.status() != ConsentStatus::Granted {
                return Err(Error::InvalidState(format!(
                    "contact {} has no consent to withdraw",
                    c.id
                )));
            }
            // The chat goes on after the withdrawal: keep the account it comes from.
            c.chat_id = c.chat_id.take().or(sender);
            c.consent_request = None;
            Ok(())
        })
    }

    /// Writes a changed contact back into the book it is in (no move, no journal: one
    /// store, one atomic batch).
    fn write_in_place(&self, book: Book, contact: &Contact) -> Result<()> {
        debug_assert_eq!(book, book_for(contact.consent.status()));
        let store = self.store(book);
        let mut w = store.writer();
        w.put(contact)?;
        store.db.apply(w.finish())
    }
}

fn check_request(contact: &Contact, now: Timestamp) -> Result<()> {
    if contact.chat_id.is_none() && contact.matrix_id.is_none() {
        return Err(Error::InvalidState(format!(
            "contact {} has no Matrix account to ask",
            contact.id
        )));
    }
    if contact.consent.status() == ConsentStatus::Granted {
        return Err(Error::InvalidState(format!(
            "contact {} has already consented",
            contact.id
        )));
    }
    if let Some(open) = &contact.consent_request
        && now.0 - open.asked_at.0 < REQUEST_INTERVAL_SECS
    {
        return Err(Error::RequestOpen {
            id: contact.id.clone(),
            since: open.asked_at,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
