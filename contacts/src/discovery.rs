//! Finding which consented contacts use Matrix, through an identity server
//! (Identity Service API v2).
//!
//! [`Discovery::run`] takes a [`WorkBook`], a type the private book cannot be
//! passed as, so nothing about a contact without consent can reach the
//! network; and a `WorkBook` can be opened alone, so the private book's keys
//! need not even be in memory. Hashing is not anonymity (the pepper is public
//! and phone numbers are few), which is exactly why the split matters.
//!
//! The protocol: `POST /account/register` with an OpenID token → access token;
//! `GET /hash_details` → must offer `sha256` (we never use `none`, which sends
//! plaintext); `POST /lookup` in batches with
//! `base64url_nopad(sha256("<address> <medium> <pepper>"))`.
//! The HTTP side is behind [`IdentityService`] so tests use a fake and an
//! integration test can point [`HttpIdentityService`] at a real Sydent.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::book::WorkBook;
use crate::consent::ConsentStatus;
use crate::error::{Error, Result};

/// The OpenID token a homeserver issues (`/user/{id}/openid/request_token`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenIdToken {
    /// The token itself.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// The homeserver the identity server verifies the token with.
    pub matrix_server_name: String,
    /// Lifetime in seconds.
    pub expires_in: u64,
}

impl fmt::Debug for OpenIdToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenIdToken")
            .field("access_token", &"<redacted>")
            .field("matrix_server_name", &self.matrix_server_name)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// `GET /hash_details` answer.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HashDetails {
    /// Offered algorithms.
    pub algorithms: Vec<String>,
    /// The pepper to hash with.
    pub lookup_pepper: String,
}

/// The three identity-server calls discovery needs.
pub trait IdentityService {
    /// Exchanges an OpenID token for an identity-server access token.
    fn register(&self, token: &OpenIdToken) -> impl Future<Output = Result<String>> + Send;
    /// Hash algorithms and pepper.
    fn hash_details(&self, access_token: &str) -> impl Future<Output = Result<HashDetails>> + Send;
    /// Looks up sha256 hashes; returns hash → Matrix user id for the known ones.
    fn lookup(
        &self,
        access_token: &str,
        pepper: &str,
        hashes: &[String],
    ) -> impl Future<Output = Result<HashMap<String, String>>> + Send;
}

/// The hash the v2 lookup expects: `base64url_nopad(sha256("<address> <medium> <pepper>"))`.
pub fn lookup_hash(address: &str, medium: &str, pepper: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(
        format!("{address} {medium} {pepper}").as_bytes(),
    ))
}

/// [`IdentityService`] over HTTP(S).
#[derive(Debug, Clone)]
pub struct HttpIdentityService {
    client: reqwest::Client,
    base: String,
}

impl HttpIdentityService {
    /// A client for the identity server at `base_url` (e.g. `https://vector.im` or `http://127.0.0.1:8090`).
    pub fn new(base_url: &str) -> Result<Self> {
        let client = reqwest::Client::builder()
            .timeout(std::time::Duration::from_secs(30))
            .build()?;
        Ok(Self::with_client(client, base_url))
    }

    /// With a caller-configured client.
    pub fn with_client(client: reqwest::Client, base_url: &str) -> Self {
        HttpIdentityService {
            client,
            base: base_url.trim_end_matches('/').to_owned(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/_matrix/identity/v2/{path}", self.base)
    }
}

async fn checked(resp: reqwest::Response) -> Result<reqwest::Response> {
    let status = resp.status();
    if status.is_success() {
        return Ok(resp);
    }
    let body = resp.text().await.unwrap_or_default();
    Err(Error::IdentityServer(format!(
        "HTTP {status}: {}",
        body.chars().take(300).collect::<String>()
    )))
}

#[derive(Deserialize)]
struct RegisterAnswer {
    token: String,
}

#[derive(Serialize)]
struct LookupRequest<'a> {
    algorithm: &'static str,
    pepper: &'a str,
    addresses: &'a [String],
}

#[derive(Deserialize)]
struct LookupAnswer {
    #[serde(default)]
    mappings: HashMap<String, String>,
}

impl IdentityService for HttpIdentityService {
    async fn register(&self, token: &OpenIdToken) -> Result<String> {
        let resp = self
            .client
            .post(self.url("account/register"))
            .json(token)
            .send()
            .await?;
        Ok(checked(resp).await?.json::<RegisterAnswer>().await?.token)
    }

    async fn hash_details(&self, access_token: &str) -> Result<HashDetails> {
        let resp = self
            .client
            .get(self.url("hash_details"))
            .bearer_auth(access_token)
            .send()
            .await?;
        Ok(checked(resp).await?.json().await?)
    }

    async fn lookup(
        &self,
        access_token: &str,
        pepper: &str,
        hashes: &[String],
    ) -> Result<HashMap<String, String>> {
        let req = LookupRequest {
            algorithm: "sha256",
            pepper,
            addresses: hashes,
        };
        let resp = self
            .client
            .post(self.url("lookup"))
            .bearer_auth(access_token)
            .json(&req)
            .send()
            .await?;
        Ok(checked(resp).await?.json::<LookupAnswer>().await?.mappings)
    }
}

/// What a discovery run did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DiscoveryReport {
    /// Consented contacts considered.
    pub contacts: usize,
    /// Hashes sent.
    pub hashes_sent: usize,
    /// Lookup requests made.
    pub batches: usize,
    /// Contacts with a Matrix id after the run.
    pub found: usize,
    /// Contacts whose stored Matrix id changed.
    pub changed: usize,
}

/// One consented contact as listed before the lookups.
struct Wanted {
    id: String,
    /// Its Matrix id when listed.
    listed: Option<String>,
    /// Its lookup hashes.
    hashes: Vec<String>,
}

/// Runs discovery for the work book.
pub struct Discovery<S> {
    service: S,
    batch_size: usize,
}

impl<S: IdentityService> Discovery<S> {
    /// Discovery over `service`, 500 hashes per lookup.
    pub fn new(service: S) -> Self {
        Discovery {
            service,
            batch_size: 500,
        }
    }

    /// Sets how many hashes go into one lookup request (at least 1).
    pub fn batch_size(mut self, n: usize) -> Self {
        self.batch_size = n.max(1);
        self
    }

    /// Looks up every consented contact and stores the Matrix ids found.
    pub async fn run(&self, book: &WorkBook, token: &OpenIdToken) -> Result<DiscoveryReport> {
        let access = self.service.register(token).await?;
        let details = self.service.hash_details(&access).await?;
        if !details.algorithms.iter().any(|a| a == "sha256") {
            return Err(Error::IdentityServer(format!(
                "server offers {:?} but not sha256; refusing to send addresses",
                details.algorithms
            )));
        }
        let pepper = details.lookup_pepper;
        let contacts = book.list()?;
        // hash per (contact, address), in the contact's order: phones first, then e-mails.
        let mut wanted: Vec<Wanted> = Vec::new();
        let mut all: Vec<String> = Vec::new();
        for c in contacts
            .iter()
            .filter(|c| c.consent.status() == ConsentStatus::Granted)
        {
            let mut hashes = Vec::new();
            // The contact's index terms: valid phone numbers (no fax, no
            // pager) and valid e-mail addresses, nothing else.
            for (kind, term) in c.index_terms() {
                let (address, medium) = match kind {
                    "tel" => (term.trim_start_matches('+'), "msisdn"),
                    _ => (term.as_str(), "email"),
                };
                hashes.push(lookup_hash(address, medium, &pepper));
            }
            all.extend(hashes.iter().cloned());
            wanted.push(Wanted {
                id: c.id.clone(),
                listed: c.matrix_id.clone(),
                hashes,
            });
        }
        all.sort();
        all.dedup();
        let mut report = DiscoveryReport {
            contacts: wanted.len(),
            hashes_sent: all.len(),
            ..Default::default()
        };
        let mut mappings = HashMap::new();
        for chunk in all.chunks(self.batch_size) {
            mappings.extend(self.service.lookup(&access, &pepper, chunk).await?);
            report.batches += 1;
        }
        // Write back under the book's lock, re-reading each record so nothing that
        // changed meanwhile (a withdrawal) is overwritten. Only contacts whose id
        // differs from what was listed are re-read: reading one record decodes its
        // whole bucket, and re-reading all of them took most of a 10,000-contact run.
        let store = &book.store;
        let _guard = store.write.lock().unwrap_or_else(|p| p.into_inner());
        let mut writer = store.writer();
        for Wanted { id, listed, hashes } in wanted {
            let found = hashes.iter().find_map(|h| mappings.get(h)).cloned();
            if listed == found {
                report.found += usize::from(found.is_some());
                continue;
            }
            let Some(mut c) = store.get(&id)? else {
                continue;
            };
            if c.consent.status() != ConsentStatus::Granted {
                continue;
            }
            report.found += usize::from(found.is_some());
            if c.matrix_id != found {
                c.matrix_id = found;
                report.changed += 1;
                writer.put(&c)?;
            }
        }
        let ops = writer.finish();
        if !ops.is_empty() {
            store.db.apply(ops)?;
        }
        Ok(report)
    }
}

#[cfg(test)]
mod tests;
