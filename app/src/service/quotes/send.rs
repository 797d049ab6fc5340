//! The account's side of quotes: opening the device's store, writing, sending and
//! answering through the Matrix client, and following what arrives.

use std::{sync::Arc, time::Duration};

use kontor_core::{CancellationToken, CoreEvent, Kontor, SendState};
use kontor_quotes::{
    BusinessDetails, Customer, QUOTE_KEY, QuoteNumber, QuoteRecord, Sent, WireQuote,
    answer::{self, Answer},
};
use sha2::{Digest, Sha256};

use super::{Answered, KIND_DETAILS, KIND_QUOTE, Quotes, answer_in, draft::DraftInput};
use crate::service::{Result, Service, ServiceError, lock};

/// How long a quote's send may wait for the homeserver before the caller hears
/// "pending" (the event then still goes out from the outbox; its record is completed
/// when the echo arrives).
const SEND_WAIT: Duration = Duration::from_secs(60);

/// Messages read per chat when catching up with answers (the newest ones: an answer
/// comes after its quote).
const ANSWER_SCAN: u32 = 100;

/// A new quote: its record (not sent yet) and the PDF as rendered for it.
pub struct Written {
    /// The record, kept on this device and posted to the business room.
    pub record: QuoteRecord,
    /// The PDF, for a preview or a file.
    pub pdf: Vec<u8>,
}

impl Service {
    /// The device's quotes, opened on first use while signed in (the key comes from the
    /// profile, so without an account there are none).
    pub fn quotes(&self) -> Result<Arc<Quotes>> {
        if let Some(q) = lock(&self.quotes).clone() {
            return Ok(q);
        }
        let key = self
            .with_account(|k| k.profile().business_key())
            .ok_or(ServiceError::NotSignedIn)?;
        let quotes = Arc::new(Quotes::open(&self.data_dir().join("quotes"), key)?);
        *lock(&self.quotes) = Some(quotes.clone());
        Ok(quotes)
    }

    /// Checks and keeps the business details, and sends them to the account's other
    /// devices through the business room (when that fails, e.g. offline, they are kept
    /// here and the error says so).
    pub async fn save_details(&self, details: BusinessDetails) -> Result<()> {
        let quotes = self.quotes()?;
        quotes.save_details(&details)?;
        let value = serde_json::to_value(&details).map_err(|_| ServiceError::Crashed)?;
        self.post_business(KIND_DETAILS, value).await
    }

    /// Writes a quote for `customer` from `input`: numbered after every number this
    /// account used, checked (every problem named by its field), rendered, and kept as a
    /// draft (posted to the business room, so no other device takes its number).
    pub async fn write_quote(
        &self,
        input: &DraftInput,
        customer: Customer,
        replaces: Option<QuoteNumber>,
        german: bool,
    ) -> Result<Written> {
        let quotes = self.quotes()?;
        let details = quotes.details()?.unwrap_or_else(BusinessDetails::new);
        // The real day, or in a debug build the test's (service::clock).
        let today = crate::service::clock::writing_day();
        let number = quotes.next_number(today)?;
        let quote = input
            .to_quote(number, today, &details)
            .map_err(ServiceError::Draft)?;
        if let Some(old) = replaces
            && quotes.get(&old)?.is_none()
        {
            return Err(ServiceError::QuoteNotFound(old.to_string()));
        }
        let pdf = render(&quote, &details, &customer, german).await?;
        let mut record = QuoteRecord::new(quote, customer, hex(&pdf));
        record.replaces = replaces;
        quotes.put(&record)?;
        self.post_record(&record).await;
        Ok(Written { record, pdf })
    }

    /// Sends the quote `number` (written before) to its customer in `room_id`: the PDF,
    /// freshly rendered, as a standard encrypted `m.file` with a caption a person reads in
    /// any client, and the structured quote in the same event. A quote it replaces is
    /// marked replaced. Returns the record as sent.
    pub async fn send_quote(
        &self,
        room_id: &str,
        number: QuoteNumber,
        german: bool,
        cancel: CancellationToken,
    ) -> Result<QuoteRecord> {
        let quotes = self.quotes()?;
        let mut record = quotes
            .get(&number)?
            .ok_or_else(|| ServiceError::QuoteNotFound(number.to_string()))?;
        if record.sent.is_some() {
            return Err(ServiceError::QuoteAlreadySent(number.to_string()));
        }
        let counterparty = record
            .customer
            .user_id
            .clone()
            .ok_or(ServiceError::NoCustomerAccount)?;
        let details = quotes.details()?.unwrap_or_else(BusinessDetails::new);
        let problems = details.check();
        if !problems.is_empty() {
            return Err(ServiceError::Details(problems));
        }
        let pdf = render(&record.quote, &details, &record.customer, german).await?;
        record.pdf_sha256 = hex(&pdf);
        let caption = record.quote.caption(german);
        let wire = WireQuote::new(&record.quote, &record.pdf_sha256, record.replaces);
        let extra = serde_json::to_value(&wire).map_err(|_| ServiceError::Crashed)?;
        let name = format!(
            "{}-{}.pdf",
            if german { "Angebot" } else { "Quote" },
            record.quote.number
        );
        let room = room_id.to_owned();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let _ = tx.send(send_pdf(&kontor, &room, &name, pdf, &caption, extra, cancel).await);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        let (event_id, sender) = rx.await.map_err(|_| ServiceError::NotSignedIn)??;
        record.sent = Some(Sent {
            room_id: room_id.to_owned(),
            event_id,
            sender,
            counterparty,
            at_ms: now_ms(),
        });
        quotes.put(&record)?;
        self.post_record(&record).await;
        if let Some(old) = record.replaces
            && let Some(mut previous) = quotes.get(&old)?
        {
            previous.replaced_by = Some(record.quote.number);
            quotes.put(&previous)?;
            self.post_record(&previous).await;
        }
        Ok(record)
    }

    /// The customer's Accept / Decline on a quote card: a reply to the quote's event that
    /// reads naturally in any client ("Angenommen: Angebot A-2026-0007") and that the
    /// freelancer's Kontor reads as the answer.
    /// Returns the reply's outbox transaction id once it is queued (on disk): the UI
    /// shows its delivery like any message's; a one-shot command waits for it.
    pub async fn answer_quote(
        &self,
        room_id: &str,
        quote_event: &str,
        number: QuoteNumber,
        given: Answer,
        german: bool,
    ) -> Result<String> {
        let text = answer::reply_text(given, &number, german);
        let (room, event) = (room_id.to_owned(), quote_event.to_owned());
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let _ = tx.send(kontor.send_reply(&room, &event, &text).await);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        Ok(rx.await.map_err(|_| ServiceError::NotSignedIn)??)
    }

    /// Follows one event of the account: an answer to one of this account's quotes is
    /// recorded (and posted to the business room) and returned for a notification; an
    /// event of the business room is merged. Errors are logged, not returned: the event
    /// stream goes on.
    pub async fn observe_quotes(&self, event: &CoreEvent) -> Option<Answered> {
        let quotes = match self.quotes() {
            Ok(q) => q,
            Err(_) => return None,
        };
        match event {
            CoreEvent::MessageReceived(msg) => match quotes.on_message(msg) {
                Ok(Some((answered, record))) => {
                    self.post_record(&record).await;
                    Some(answered)
                }
                Ok(None) => None,
                Err(e) => {
                    tracing::warn!("a quote's answer could not be recorded: {e}");
                    None
                }
            },
            CoreEvent::Business(ev) => {
                if let Err(e) = quotes.merge_synced(ev) {
                    tracing::warn!("business data could not be merged: {e}");
                }
                None
            }
            _ => None,
        }
    }

    /// Reads the whole business room once (at start, and before numbering on a device
    /// that was offline) and merges it. Returns how many events were read.
    pub async fn catch_up_quotes(&self) -> Result<usize> {
        let quotes = self.quotes()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let _ = tx.send(kontor.business_events(None).await);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        let events = rx.await.map_err(|_| ServiceError::NotSignedIn)??;
        for ev in &events {
            quotes.merge_synced(ev)?;
        }
        Ok(events.len())
    }

    /// Reads the newest messages of every chat with a quote of this account and records
    /// the answers the sync did not deliver as events (a gap after a long time offline,
    /// or answers given while no Kontor ran). Returns how many answers were new.
    pub async fn catch_up_answers(&self) -> Result<usize> {
        let quotes = self.quotes()?;
        let mut rooms: Vec<String> = quotes
            .all()?
            .into_iter()
            .filter_map(|r| r.sent.map(|s| s.room_id))
            .collect();
        rooms.sort();
        rooms.dedup();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let mut found = Vec::new();
            for room in rooms {
                match kontor.messages(&room, ANSWER_SCAN).await {
                    Ok(page) => found.extend(page.into_iter().filter(|m| answer_in(m).is_some())),
                    Err(e) => tracing::debug!("answers not read from one chat: {e}"),
                }
            }
            let _ = tx.send(found);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        let mut new = 0;
        for m in rx.await.map_err(|_| ServiceError::NotSignedIn)? {
            if self
                .observe_quotes(&CoreEvent::MessageReceived(m))
                .await
                .is_some()
            {
                new += 1;
            }
        }
        Ok(new)
    }

    /// A contact was erased (GDPR Art. 17): its quotes are kept and only their link to
    /// the contact goes ([`Quotes::unlink_contact`], where the reasons are); the changed
    /// records go to the account's other devices, so their catch-up does not link them
    /// again. Returns how many quotes are kept.
    pub async fn unlink_contact_quotes(
        &self,
        contact_id: &str,
        matrix_id: Option<&str>,
    ) -> Result<usize> {
        let quotes = self.quotes()?;
        let (kept, changed) = quotes.unlink_contact(contact_id, matrix_id)?;
        for record in &changed {
            self.post_record(record).await;
        }
        Ok(kept)
    }

    /// Posts a record to the business room; a failure (offline) is logged: the record is
    /// kept here and goes out with the next change.
    async fn post_record(&self, record: &QuoteRecord) {
        let Ok(value) = serde_json::to_value(record) else {
            return;
        };
        if let Err(e) = self.post_business(KIND_QUOTE, value).await {
            tracing::warn!("quote record not synced to the other devices yet: {e}");
        }
    }

    async fn post_business(&self, kind: &'static str, value: serde_json::Value) -> Result<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let started = self.spawn(move |kontor| async move {
            let _ = tx.send(kontor.post_business(kind, value).await);
        });
        if !started {
            return Err(ServiceError::NotSignedIn);
        }
        rx.await.map_err(|_| ServiceError::NotSignedIn)??;
        Ok(())
    }
}

/// Renders on a blocking thread (fonts are subset, images decoded: milliseconds, but
/// not on the UI thread's runtime workers).
async fn render(
    quote: &kontor_quotes::Quote,
    details: &BusinessDetails,
    customer: &Customer,
    german: bool,
) -> Result<Vec<u8>> {
    let (q, d, c) = (quote.clone(), details.clone(), customer.clone());
    tokio::task::spawn_blocking(move || kontor_quotes::pdf::render(&q, &d, &c, german))
        .await
        .map_err(|_| ServiceError::Crashed)?
        .map_err(ServiceError::Pdf)
}

/// Writes the PDF into the profile's private temp dir (the upload streams from a file),
/// sends it with the caption and the structured quote, and waits for the event id.
async fn send_pdf(
    kontor: &Kontor,
    room_id: &str,
    name: &str,
    pdf: Vec<u8>,
    caption: &str,
    extra: serde_json::Value,
    cancel: CancellationToken,
) -> Result<(String, String)> {
    let dir = kontor.profile().tmp_dir()?;
    let tmp = tempfile::Builder::new()
        .prefix("quote-")
        .tempdir_in(&dir)
        .map_err(|source| ServiceError::Write {
            path: dir.clone(),
            source,
        })?;
    let path = tmp.path().join(name);
    crate::service::fs::write_private(&path, &pdf).map_err(|source| ServiceError::Write {
        path: path.clone(),
        source,
    })?;
    let sent = kontor
        .send_file_with(
            room_id,
            &path,
            Some("application/pdf"),
            Some(caption),
            Some((QUOTE_KEY, extra)),
            &cancel,
        )
        .await?;
    match kontor
        .wait_sent(room_id, &sent.transaction_id, SEND_WAIT)
        .await?
    {
        SendState::Sent { event_id } => Ok((event_id, kontor.user_id())),
        SendState::Failed { .. } | SendState::Pending => Err(ServiceError::Core(
            kontor_core::Error::Unreachable("the quote did not reach the homeserver".into()),
        )),
        SendState::Cancelled => Err(ServiceError::Core(kontor_core::Error::Cancelled)),
    }
}

fn hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}
