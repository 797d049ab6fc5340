//! The contact record and the two books it can live in.
//!
//! A contact is stored whole, as one sealed JSON record; there are no separate
//! columns that could leak. Phone numbers keep the raw text the user typed or
//! imported next to the E.164 form, because a number we failed to normalise
//! must still be shown and exported exactly as it came.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::chat::ConsentRequest;
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
    /// Voice, fax or pager (records stored before this field are voice; see
    /// [`Phone::service`]).
    #[serde(default, skip_serializing_if = "Service::is_voice")]
    pub service: Service,
}

/// What a phone number reaches. Fax and pager numbers are kept and exported,
/// but never used to merge contacts (an office fax is shared by many people)
/// and never sent to discovery (nobody chats on a fax).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Service {
    /// A phone (mobile, landline, unknown).
    #[default]
    Voice,
    /// A fax machine.
    Fax,
    /// A pager.
    Pager,
}

impl Service {
    /// From a type label as vCard (`TYPE=fax`, `work,fax`) or a CSV header
    /// (`Business Fax`, `Fax geschäftlich`, `Télécopie (bureau)`, `Pager`,
    /// `Radiomessagerie`, `Localizador`) writes it.
    pub fn from_label(label: &str) -> Service {
        // Parsers hand over lower-cased labels: no copy for those.
        let l: std::borrow::Cow<'_, str> = if label.chars().any(char::is_uppercase) {
            label.to_lowercase().into()
        } else {
            label.into()
        };
        if ["fax", "télécopie", "telecopie"]
            .iter()
            .any(|w| l.contains(w))
        {
            Service::Fax
        } else if [
            "pager",
            "beeper",
            "radiomessagerie",
            "localizador",
            "buscapersonas",
        ]
        .iter()
        .any(|w| l.contains(w))
        {
            Service::Pager
        } else {
            Service::Voice
        }
    }

    fn is_voice(&self) -> bool {
        *self == Service::Voice
    }
}

impl Phone {
    /// Voice, fax or pager: the stored field, or for records stored before
    /// it existed, what the type label says.
    pub fn service(&self) -> Service {
        match (self.service, &self.kind) {
            (Service::Voice, Some(k)) => Service::from_label(k),
            (s, _) => s,
        }
    }

    /// Whether the number may identify the person: valid (E.164) and a phone,
    /// not a fax or pager. Only these are used to merge and for discovery.
    pub fn identifies(&self) -> bool {
        self.e164.is_some() && self.service() == Service::Voice
    }

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

/// A postal address (vCard `ADR`, or the address columns of a CSV export).
/// Every part is kept as written; empty parts are empty strings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// Type label from the source (`work`, `home`, `Geschäftlich`…), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Post office box.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub po_box: String,
    /// Extended address (apartment, suite, c/o).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub extended: String,
    /// Street and number (several lines joined with a line break).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub street: String,
    /// City.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub locality: String,
    /// State or province.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub region: String,
    /// Postal code.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub postal_code: String,
    /// Country.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub country: String,
}

impl Address {
    /// Whether every part is empty (the type alone is no address).
    pub fn is_empty(&self) -> bool {
        self.parts().iter().all(|p| p.trim().is_empty())
    }

    /// The seven parts in vCard `ADR` order: PO box, extended, street,
    /// locality, region, postal code, country.
    pub fn parts(&self) -> [&str; 7] {
        [
            &self.po_box,
            &self.extended,
            &self.street,
            &self.locality,
            &self.region,
            &self.postal_code,
            &self.country,
        ]
    }
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
    /// Job title or role (vCard `TITLE`, Outlook "Job Title" / "Position").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    /// Phone numbers (fax and pager included, see [`Phone::service`]).
    #[serde(default)]
    pub phones: Vec<Phone>,
    /// E-mail addresses.
    #[serde(default)]
    pub emails: Vec<Email>,
    /// Postal addresses.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<Address>,
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
    /// The Matrix account this person chats from, known from the chat itself (they
    /// wrote first, or the freelancer started the chat with them). Unlike
    /// [`Contact::matrix_id`] it is no discovery result, so it stays in either book and
    /// on withdrawal: the chat goes on, only the consent ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub chat_id: Option<String>,
    /// The consent request sent in the chat and not answered yet (at most one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent_request: Option<ConsentRequest>,
}

impl Contact {
    /// The Matrix account this person is reached at: the one discovery found, else the
    /// one they chat from. What a quote's customer or a chat is matched against.
    pub fn matrix_account(&self) -> Option<&str> {
        self.matrix_id.as_deref().or(self.chat_id.as_deref())
    }

    /// Whether `user` is one of this person's Matrix accounts (the one they chat from or
    /// the one discovery found): who may answer for them, and how a chat finds them.
    pub fn is_account(&self, user: &str) -> bool {
        self.chat_id.as_deref() == Some(user) || self.matrix_id.as_deref() == Some(user)
    }

    /// The keyed-index inputs of this contact, which decide merges: `("tel",
    /// e164)` of each number that [identifies](Phone::identifies) the person and
    /// `("email", lowercased)` of each valid address. Invalid numbers ("123456"
    /// is shared by many), fax and pager numbers and junk e-mails are not terms.
    pub fn index_terms(&self) -> Vec<(&'static str, String)> {
        index_terms(&self.phones, &self.emails)
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
        for a in &other.addresses {
            if !self.addresses.contains(a) {
                self.addresses.push(a.clone());
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
            (&mut self.title, &other.title),
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

/// [`Contact::index_terms`] of these phones and e-mails.
pub(crate) fn index_terms(phones: &[Phone], emails: &[Email]) -> Vec<(&'static str, String)> {
    let mut terms: Vec<(&'static str, String)> = Vec::new();
    for p in phones.iter().filter(|p| p.identifies()) {
        let k = p.dedup_key();
        if !terms.iter().any(|(t, v)| *t == "tel" && *v == k) {
            terms.push(("tel", k));
        }
    }
    for e in emails {
        let k = e.normalised();
        if crate::record::is_email(&k) && !terms.iter().any(|(t, v)| *t == "email" && *v == k) {
            terms.push(("email", k));
        }
    }
    terms
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
