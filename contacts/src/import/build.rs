//! One record becomes one contact: the consent decision, the phone numbers
//! with their warnings, the name's fallbacks; and how two records of one
//! person are merged. The preview uses the same functions, so it shows what
//! an import does.

use std::sync::atomic::{AtomicBool, Ordering};

use super::pipeline::Issues;
use super::{ConsentMode, ImportOptions};
use crate::consent::{
    Consent, ConsentEvent, ConsentSource, ConsentStatus, Evidence, ImportEvidence,
};
use crate::contact_book::new_id;
use crate::model::{Contact, Email, Phone, Service};
use crate::phone::{self, Region};
use crate::record::{IssueKind, LineIssue, RawRecord, RawValue};
use crate::time::Timestamp;

/// The consent a record gets under `mode`; a rejection for a consent value
/// nobody understands.
pub(crate) fn decide_consent(
    raw: &RawRecord,
    mode: ConsentMode,
) -> std::result::Result<ConsentStatus, LineIssue> {
    match mode {
        ConsentMode::Granted => Ok(ConsentStatus::Granted),
        ConsentMode::None => Ok(ConsentStatus::None),
        ConsentMode::FromFile => match raw.consent.as_deref() {
            None => Ok(ConsentStatus::None),
            Some(v) => ConsentStatus::parse_lenient(v).ok_or_else(|| {
                LineIssue::new(
                    raw.line,
                    IssueKind::UnknownConsent {
                        value: v.to_owned(),
                    },
                )
            }),
        },
    }
}

/// The record's numbers as typed phones, each written number once, with a
/// warning at its line for each that is not valid and each read as a
/// number of `region` because it has no country code.
pub(crate) fn phones(
    raw: Vec<RawValue>,
    e164s: impl IntoIterator<Item = Option<String>>,
    region: Region,
    warnings: &mut Vec<LineIssue>,
) -> Vec<Phone> {
    let mut phones: Vec<Phone> = Vec::with_capacity(raw.len());
    for (number, e164) in raw.into_iter().zip(e164s) {
        if phones.iter().any(|p| p.raw == number.value) {
            continue;
        }
        // The value is copied only for a warning (most numbers have none).
        let issue = match &e164 {
            None => Some(IssueKind::InvalidPhone {
                value: number.value.clone(),
            }),
            Some(_) if !phone::has_country_code(&number.value) => {
                Some(IssueKind::NationalNumberAssumedRegion {
                    value: number.value.clone(),
                    region,
                })
            }
            Some(_) => None,
        };
        if let Some(kind) = issue {
            warnings.push(LineIssue::new(number.line, kind));
        }
        phones.push(Phone {
            service: number
                .kind
                .as_deref()
                .map_or(Service::Voice, Service::from_label),
            raw: number.value,
            e164,
            kind: number.kind,
        });
    }
    phones
}

/// The record's e-mail addresses (the parsers checked them).
pub(crate) fn emails(raw: Vec<RawValue>) -> Vec<Email> {
    raw.into_iter()
        .map(|e| Email {
            address: e.value,
            kind: e.kind,
        })
        .collect()
}

/// Merges an imported record into a stored contact. The file can grant or
/// withdraw consent; a file without consent never downgrades a contact.
pub(super) fn update_existing(mut existing: Contact, new: &Contact, now: Timestamp) -> Contact {
    existing.absorb(new);
    let new_status = new.consent.status();
    if new_status != ConsentStatus::None
        && new_status != existing.consent.status()
        && let Some(ev) = new.consent.current()
    {
        existing.consent.record(ev.clone());
        if new_status != ConsentStatus::Granted {
            existing.matrix_id = None;
        }
    }
    existing.updated = now;
    existing
}

/// Merges a duplicate from the same file: data is united, the stricter consent wins
/// (withdrawn over granted over none), and both consent events are kept.
pub(super) fn merge_into(first: &mut Contact, dup: &Contact, now: Timestamp) {
    first.absorb(dup);
    let rank = |s: ConsentStatus| match s {
        ConsentStatus::None => 0,
        ConsentStatus::Granted => 1,
        ConsentStatus::Withdrawn => 2,
    };
    let dup_wins = rank(dup.consent.status()) > rank(first.consent.status());
    let (mut keep, other) = if dup_wins {
        (dup.consent.clone(), &first.consent)
    } else {
        (first.consent.clone(), &dup.consent)
    };
    keep.merge_history(other);
    first.consent = keep;
    first.updated = now;
}

/// E.164 forms of every record's numbers, on the calling thread (an import
/// runs one per worker, each on its own chunk).
///
/// Parsing numbers is the costliest part of an import. The phone library keeps
/// some compiled patterns in a small shared LRU cache behind one lock; numbers
/// of one country in a row keep that cache warm, so numbers are normalised in
/// order of their leading digits.
pub(super) fn normalise_all(
    records: &[RawRecord],
    region: Region,
    cancel: &AtomicBool,
) -> Vec<Vec<Option<String>>> {
    let mut out: Vec<Vec<Option<String>>> =
        records.iter().map(|r| vec![None; r.phones.len()]).collect();
    let mut order: Vec<(String, usize, usize)> = Vec::new();
    for (i, r) in records.iter().enumerate() {
        for (j, number) in r.phones.iter().enumerate() {
            let digits: String = number
                .value
                .chars()
                .filter(|c| c.is_ascii_digit() || *c == '+')
                .take(5)
                .collect();
            let key = match digits.strip_prefix("00") {
                Some(rest) => format!("+{rest}"),
                None => digits,
            };
            order.push((key, i, j));
        }
    }
    order.sort_unstable();
    for (n, (_, i, j)) in order.iter().enumerate() {
        if n % 1024 == 0 && cancel.load(Ordering::Relaxed) {
            break;
        }
        out[*i][*j] = phone::normalise(&records[*i].phones[*j].value, region);
    }
    out
}

/// The contact a record becomes; `None` (with a rejection in `issues`) for a
/// consent value nobody understands or a record without any name.
pub(super) fn build(
    raw: RawRecord,
    e164s: Vec<Option<String>>,
    file: &str,
    opts: &ImportOptions,
    region: Region,
    now: Timestamp,
    issues: &mut Issues,
) -> Option<Contact> {
    let line = raw.line;
    let status = match decide_consent(&raw, opts.consent) {
        Ok(s) => s,
        Err(rejected) => {
            issues.rejected.push(rejected);
            return None;
        }
    };
    let purpose = raw.purpose.clone().unwrap_or_else(|| opts.purpose.clone());
    let evidence = match (opts.consent, status) {
        (_, ConsentStatus::None) => None,
        (ConsentMode::Granted, _) => Some(match &opts.evidence {
            Some(text) => Evidence::Text(text.clone()),
            None => Evidence::Import(ImportEvidence::DeclaredForFile {
                file: file.to_owned(),
                purpose: purpose.clone(),
            }),
        }),
        _ => Some(match &raw.evidence {
            Some(text) => Evidence::Text(text.clone()),
            None => Evidence::Import(ImportEvidence::FileValue {
                file: file.to_owned(),
                line,
                value: raw.consent.clone().unwrap_or_default(),
            }),
        }),
    };
    let phones = phones(raw.phones, e164s, region, &mut issues.warnings);
    let emails = emails(raw.emails);
    let name = [Some(raw.name.trim().to_owned()), raw.organisation.clone()]
        .into_iter()
        .flatten()
        .chain(emails.first().map(|e| e.address.clone()))
        .chain(phones.first().map(|p| p.raw.clone()))
        .find(|s| !s.trim().is_empty())?;
    let event = ConsentEvent {
        status,
        purpose: (status != ConsentStatus::None).then_some(purpose),
        at: now,
        source: ConsentSource::Import {
            file: file.to_owned(),
            line,
        },
        evidence,
    };
    Some(Contact {
        id: new_id(),
        display_name: name,
        organisation: raw.organisation,
        title: raw.title,
        phones,
        emails,
        addresses: raw.addresses,
        note: raw.note,
        labels: raw.labels,
        created: now,
        updated: now,
        consent: Consent::with(event),
        matrix_id: None,
        chat_id: None,
        consent_request: None,
    })
}
