//! What the service's unit tests share: contacts built by hand.

use kontor_contacts::{Consent, ConsentEvent, ConsentSource, ConsentStatus, Contact, Timestamp};

/// A contact with nothing but a name and one consent event (`status` from `source` at
/// `at`); tests set the Matrix accounts and the open request they need.
pub(crate) fn contact(
    id: &str,
    name: &str,
    status: ConsentStatus,
    source: ConsentSource,
    at: Timestamp,
) -> Contact {
    Contact {
        id: id.into(),
        display_name: name.into(),
        organisation: None,
        title: None,
        phones: Vec::new(),
        emails: Vec::new(),
        addresses: Vec::new(),
        note: None,
        labels: Vec::new(),
        created: at,
        updated: at,
        consent: Consent::with(ConsentEvent {
            status,
            purpose: None,
            at,
            source,
            evidence: None,
        }),
        matrix_id: None,
        chat_id: None,
        consent_request: None,
    }
}
