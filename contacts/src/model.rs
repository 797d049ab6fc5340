//! The contact record and the two books it can live in.
//!
//! A contact is stored whole, as one sealed JSON record; there are no separate
//! columns that could leak. Phone numbers keep the raw text the user typed or
//! imported next to the E.164 form, because a number we failed to normalise
//! must still be shown and exported exactly as it came.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::consent::Consent;
use crate::time::Timestamp;

/// Which of the two stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Book {
    /// Contacts who consented: may be used for discovery and messaging.
    Work,
    /// Contacts without consent: never leave the device.
    Private,
}

impl Book {
    /// The store's name, also bound into every sealed record.
    pub fn name(self) -> &'static str {
        match self {
            Book::Work => "work",
            Book::Private => "private",
        }
    }
}

impl fmt::Display for Book {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Book {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "work" => Ok(Book::Work),
            "private" => Ok(Book::Private),
            _ => Err(format!("unknown book {s:?} (work or private)")),
        }
    }
}

/// A contact's id: 16 random hex digits; carries no personal data.
pub type ContactId = String;

/// A phone number as given, and its E.164 form if it could be normalised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phone {
    /// Exactly as imported or typed.
    pub raw: String,
    /// `+4915112345678`, or `None` if the number is not valid.
    pub e164: Option<String>,
    /// Type label from the source (`cell`, `work`, `Mobil`…), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Phone {
    /// The key used for duplicate detection and the index: E.164, or the raw digits.
    pub fn dedup_key(&self) -> String {
        match &self.e164 {
            Some(e) => e.clone(),
            None => self
                .raw
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .collect(),
        }
    }
}

/// An e-mail address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Email {
    /// The address as given (trimmed).
    pub address: String,
    /// Type label from the source, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
}

impl Email {
    /// Lower-cased address, for duplicate detection, the index and discovery.
    pub fn normalised(&self) -> String {
        self.address.trim().to_lowercase()
    }
}

/// One contact with its consent record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    /// Stable id.
    pub id: ContactId,
    /// Name shown in lists.
    pub display_name: String,
    /// Company or organisation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    /// Phone numbers.
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// E-mail addresses.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Free-text note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Labels / categories / groups.
    #[serde(default)]
    pub labels: Vec<String>,
    /// When the contact was created here.
    pub created: Timestamp,
    /// Last change.
    pub updated: Timestamp,
    /// Consent: current status and the append-only history.
    pub consent: Consent,
    /// Matrix user id found by discovery (work book only; dropped on withdrawal).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matrix_id: Option<String>,
}

impl Contact {
    /// The keyed-index inputs of this contact: `("tel", e164-or-digits)` and `("email", lowercased)`.
    pub fn index_terms(&self) -> Vec<(&'static str, String)> {
        let mut terms: Vec<(&'static str, String)> = Vec::new();
        for p in &self.phones {
            let k = p.dedup_key();
            if k.chars().any(|c| c.is_ascii_digit())
                && !terms.iter().any(|(t, v)| *t == "tel" && *v == k)
            {
                terms.push(("tel", k));
            }
        }
        for e in &self.emails {
            let k = e.normalised();
            if !k.is_empty() && !terms.iter().any(|(t, v)| *t == "email" && *v == k) {
                terms.push(("email", k));
            }
        }
        terms
    }

    /// Adds phones, emails and labels of `other` that are not there yet; fills empty fields.
    /// Returns whether anything changed.
    pub fn absorb(&mut self, other: &Contact) -> bool {
        let mut changed = false;
        for p in &other.phones {
            if !self.phones.iter().any(|q| q.dedup_key() == p.dedup_key()) {
                self.phones.push(p.clone());
                changed = true;
            }
        }
        for e in &other.emails {
            if !self.emails.iter().any(|f| f.normalised() == e.normalised()) {
                self.emails.push(e.clone());
                changed = true;
            }
        }
        for l in &other.labels {
            if !self.labels.contains(l) {
                self.labels.push(l.clone());
                changed = true;
            }
        }
        for (mine, theirs) in [
            (&mut self.organisation, &other.organisation),
            (&mut self.note, &other.note),
        ] {
            if mine.is_none() && theirs.is_some() {
                mine.clone_from(theirs);
                changed = true;
            }
        }
        changed
    }
}

/// A new contact's fields, for manual entry.
#[derive(Debug, Clone, Default)]
pub struct NewContact {
    /// Name shown in lists.
    pub display_name: String,
    /// Company or organisation.
    pub organisation: Option<String>,
    /// Phone numbers as typed; normalised with the book's default region.
    pub phones: Vec<String>,
    /// E-mail addresses.
    pub emails: Vec<String>,
    /// Free-text note.
    pub note: Option<String>,
    /// Labels.
    pub labels: Vec<String>,
}
