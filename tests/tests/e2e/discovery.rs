//! Contact discovery against a real Synapse and a real Sydent: what reaches the identity
//! server, byte for byte, and what comes back into the work book.
//!
//! The recording proxy in front of Sydent sees every request. The expected lookup hashes
//! are computed here with sha2/base64 and Sydent's pepper read from its own database, not
//! with `kontor_contacts::lookup_hash`, so a wrong hash or pepper in the client fails.

use std::collections::BTreeSet;
use std::sync::atomic::AtomicBool;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use kontor_contacts::{
    Book, ContactBook, Discovery, DiscoveryReport, Format, HttpIdentityService, ImportOptions,
    KdfParams, OpenOptions, WorkBook,
};
use kontor_core::Kontor;
use kontor_testkit::{Recorded, Sydent, Synapse, TestUser};
use sha2::{Digest, Sha256};

use crate::common::*;

const BOOK_PASS: &str = "anna's contact book";

/// Ben's number and address as the identity server has them bound.
const BEN_MSISDN: &str = "4915123456781";
const BEN_EMAIL: &str = "ben@tischlerei.example";
/// Carl is a Matrix user too, but in Anna's book he has not consented: a leak of his
/// number or address would be answered with his Matrix id.
const CARL_MSISDN: &str = "436645551234";
const CARL_EMAIL: &str = "carl@privat.example";
/// A consented contact nobody bound (looked up, not found).
const ERIKA_MSISDN: &str = "41791234567";
const ERIKA_EMAIL: &str = "erika@eisen.example";
/// A contact whose consent the file records as withdrawn.
const WILMA_MSISDN: &str = "493012345678";
const WILMA_EMAIL: &str = "wilma@widerruf.example";

/// Anna's export: national and international formats, mixed case, one consent per card.
const VCF: &str = "BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Ben Tischler\r\nTEL;TYPE=CELL:0151 23456781\r\n\
EMAIL:Ben@Tischlerei.example\r\nX-KONTOR-CONSENT:granted\r\n\
X-KONTOR-CONSENT-PURPOSE:Angebote und Termine\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Erika Eisen\r\nTEL:+41 79 123 45 67\r\nEMAIL:erika@eisen.example\r\n\
X-KONTOR-CONSENT:ja\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:3.0\r\nFN:Carl Privatmann\r\nTEL:+43 664 5551234\r\nEMAIL:carl@privat.example\r\n\
NOTE:Schwager\r\nEND:VCARD\r\n\
BEGIN:VCARD\r\nVERSION:4.0\r\nFN:Wilma Widerruf\r\nTEL:030 12345678\r\nEMAIL:wilma@widerruf.example\r\n\
X-KONTOR-CONSENT:widerrufen\r\nEND:VCARD\r\n";

/// The v2 lookup hash, computed independently of kontor-contacts.
fn hash(address: &str, medium: &str, pepper: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(format!("{address} {medium} {pepper}")))
}

/// Every hash under `pepper` that could identify `addresses`, in any medium and with or
/// without a leading `+`.
fn any_hash(addresses: &[&str], pepper: &str) -> Vec<String> {
    let mut out = Vec::new();
    for a in addresses {
        for form in [a.to_string(), format!("+{a}")] {
            for medium in ["msisdn", "email"] {
                out.push(hash(&form, medium, pepper));
            }
        }
    }
    out
}

/// The token from core, handed to contacts field by field: neither crate depends on the
/// other, so there is deliberately no `From` between the two types.
fn identity_token(t: kontor_core::OpenIdToken) -> kontor_contacts::OpenIdToken {
    kontor_contacts::OpenIdToken {
        access_token: t.access_token,
        token_type: t.token_type,
        matrix_server_name: t.matrix_server_name,
        expires_in: t.expires_in,
    }
}

struct World {
    hs: Synapse,
    is: Sydent,
    anna: TestUser,
    ben: TestUser,
    carl: TestUser,
    dirs: tempfile::TempDir,
}

impl World {
    fn start() -> World {
        let hs = Synapse::start().expect("synapse");
        let is = Sydent::start().expect("sydent");
        let anna = hs.register_unique("anna").unwrap();
        let ben = hs.register_unique("ben").unwrap();
        let carl = hs.register_unique("carl").unwrap();
        is.bind_msisdn(BEN_MSISDN, &ben.user_id).unwrap();
        is.bind_email(BEN_EMAIL, &ben.user_id).unwrap();
        is.bind_msisdn(CARL_MSISDN, &carl.user_id).unwrap();
        is.bind_email(CARL_EMAIL, &carl.user_id).unwrap();
        World {
            hs,
            is,
            anna,
            ben,
            carl,
            dirs: tempfile::tempdir().unwrap(),
        }
    }

    fn contacts_dir(&self) -> std::path::PathBuf {
        self.dirs.path().join("contacts")
    }

    fn open_book(&self) -> ContactBook {
        ContactBook::open_with(
            &self.contacts_dir(),
            BOOK_PASS,
            OpenOptions {
                kdf: KdfParams::insecure_fast(),
                ..OpenOptions::default()
            },
        )
        .expect("contact book")
    }

    fn import(&self) {
        let book = self.open_book();
        let report = book
            .import_bytes(
                "anna-export.vcf",
                VCF.as_bytes(),
                Format::VCard,
                &ImportOptions::default(),
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .expect("import");
        assert_eq!(
            (report.added_work, report.added_private),
            (2, 2),
            "{report:?}"
        );
        assert!(report.rejected.is_empty(), "{report:?}");
    }

    /// One discovery run over the work book alone (the private book stays closed).
    async fn discover(&self, anna: &Kontor, batch: usize) -> DiscoveryReport {
        let token = identity_token(anna.openid_token().await.expect("openid token"));
        let work = WorkBook::open(&self.contacts_dir(), BOOK_PASS).expect("work book");
        let service = HttpIdentityService::new(&self.is.url()).expect("client");
        Discovery::new(service)
            .batch_size(batch)
            .run(&work, &token)
            .await
            .expect("discovery")
    }
}

fn matrix_id_of(book: &ContactBook, which: Book, name: &str) -> Option<String> {
    book.list(which)
        .unwrap()
        .into_iter()
        .find(|c| c.display_name == name)
        .unwrap_or_else(|| panic!("{name} not in the {which} book"))
        .matrix_id
}

/// The bodies of the lookup requests, checked for shape: v2 path, sha256, Sydent's pepper.
fn lookups(recorded: &[Recorded], pepper: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for r in recorded {
        assert!(
            r.path.starts_with("/_matrix/identity/v2/"),
            "only v2 calls expected: {} {}",
            r.method,
            r.path
        );
        assert_eq!(r.status, 200, "{} {} failed", r.method, r.path);
        if r.path != "/_matrix/identity/v2/lookup" {
            continue;
        }
        let body = r.json().expect("lookup body is JSON");
        assert_eq!(body["algorithm"], "sha256", "{body}");
        assert_eq!(body["pepper"], pepper, "{body}");
        let addresses = body["addresses"]
            .as_array()
            .expect("addresses")
            .iter()
            .map(|a| a.as_str().expect("string").to_owned())
            .collect();
        out.push(addresses);
    }
    out
}

/// No request to the identity server may carry anything about these contacts: none of
/// their hashes (any medium, any form) and none of their plain text.
fn assert_not_sent(recorded: &[Recorded], pepper: &str, addresses: &[&str], plain: &[&str]) {
    let forbidden = any_hash(addresses, pepper);
    for r in recorded {
        let body = String::from_utf8_lossy(&r.body);
        assert!(
            !body.contains("\"none\""),
            "plaintext algorithm used: {body}"
        );
        for h in &forbidden {
            assert!(
                !body.contains(h.as_str()),
                "hash of a contact without consent sent to {}",
                r.path
            );
        }
        for p in addresses.iter().chain(plain) {
            assert!(
                !body.to_lowercase().contains(&p.to_lowercase()),
                "plain text {p:?} sent to {}",
                r.path
            );
        }
    }
}

#[test]
fn discovery_sends_only_consented_hashes_and_stores_the_matrix_id() {
    let w = World::start();
    w.import();
    run(async {
        let anna = login(&w.hs, &w.anna, &w.dirs.path().join("anna")).await;
        let report = w.discover(&anna, 3).await;
        let pepper = w.is.pepper().expect("pepper");
        let recorded = w.is.recorded();

        // What the identity server received: exactly the consented contacts' hashes.
        let batches = lookups(&recorded, &pepper);
        let sent: Vec<String> = batches.iter().flatten().cloned().collect();
        let sent_set: BTreeSet<String> = sent.iter().cloned().collect();
        let expected: BTreeSet<String> = [
            hash(BEN_MSISDN, "msisdn", &pepper),
            hash(BEN_EMAIL, "email", &pepper),
            hash(ERIKA_MSISDN, "msisdn", &pepper),
            hash(ERIKA_EMAIL, "email", &pepper),
        ]
        .into();
        assert_eq!(sent_set, expected, "lookup hashes");
        assert_eq!(sent.len(), expected.len(), "a hash was sent twice");
        assert_eq!(batches.len(), 2, "4 hashes in batches of 3");
        assert!(batches.iter().all(|b| b.len() <= 3));
        assert_not_sent(
            &recorded,
            &pepper,
            &[CARL_MSISDN, CARL_EMAIL, WILMA_MSISDN, WILMA_EMAIL],
            &[
                "Carl Privatmann",
                "6645551234",
                "Schwager",
                "Wilma",
                "3012345678",
            ],
        );
        // Even the consented contacts travel only as hashes.
        assert_not_sent(
            &recorded,
            &pepper,
            &[],
            &[BEN_MSISDN, BEN_EMAIL, ERIKA_MSISDN, ERIKA_EMAIL, "Tischler"],
        );

        assert_eq!(
            report,
            DiscoveryReport {
                contacts: 2,
                hashes_sent: 4,
                batches: 2,
                found: 1,
                changed: 1,
            }
        );
        let book = w.open_book();
        assert_eq!(
            matrix_id_of(&book, Book::Work, "Ben Tischler").as_deref(),
            Some(w.ben.user_id.as_str())
        );
        assert_eq!(matrix_id_of(&book, Book::Work, "Erika Eisen"), None);
        assert_eq!(matrix_id_of(&book, Book::Private, "Carl Privatmann"), None);
        assert_eq!(matrix_id_of(&book, Book::Private, "Wilma Widerruf"), None);
        let all = format!("{:?}", book.list(Book::Private).unwrap());
        assert!(
            !all.contains(&w.carl.user_id),
            "carl's id leaked back: {all}"
        );
    });
}

#[test]
fn withdrawn_contact_loses_its_matrix_id_and_is_not_looked_up_again() {
    let w = World::start();
    w.import();
    run(async {
        let anna = login(&w.hs, &w.anna, &w.dirs.path().join("anna")).await;
        let first = w.discover(&anna, 500).await;
        assert_eq!(first.found, 1, "{first:?}");
        let pepper = w.is.pepper().expect("pepper");
        let sent: Vec<String> = lookups(&w.is.recorded(), &pepper).concat();
        assert!(sent.contains(&hash(BEN_MSISDN, "msisdn", &pepper)));

        // Ben withdraws: he moves to the private book and his Matrix id goes with the consent.
        let ben_id = {
            let book = w.open_book();
            let ben = book
                .list(Book::Work)
                .unwrap()
                .into_iter()
                .find(|c| c.display_name == "Ben Tischler")
                .expect("ben in the work book");
            assert_eq!(ben.matrix_id.as_deref(), Some(w.ben.user_id.as_str()));
            let ben = book
                .withdraw(&ben.id, Some("Anruf am Montag"))
                .expect("withdraw");
            assert_eq!(ben.matrix_id, None);
            assert_eq!(matrix_id_of(&book, Book::Private, "Ben Tischler"), None);
            ben.id
        };

        w.is.clear_recorded();
        let second = w.discover(&anna, 500).await;
        let recorded = w.is.recorded();
        let sent: BTreeSet<String> = lookups(&recorded, &pepper).concat().into_iter().collect();
        assert_eq!(
            sent,
            [
                hash(ERIKA_MSISDN, "msisdn", &pepper),
                hash(ERIKA_EMAIL, "email", &pepper),
            ]
            .into(),
            "only Erika is left to look up"
        );
        assert_not_sent(
            &recorded,
            &pepper,
            &[BEN_MSISDN, BEN_EMAIL, CARL_MSISDN, CARL_EMAIL],
            &["Tischler", "Carl Privatmann"],
        );
        assert_eq!(
            second,
            DiscoveryReport {
                contacts: 1,
                hashes_sent: 2,
                batches: 1,
                found: 0,
                changed: 0,
            }
        );
        let book = w.open_book();
        let (where_, ben) = book.get(&ben_id).unwrap();
        assert_eq!(where_, Book::Private);
        assert_eq!(ben.matrix_id, None, "the withdrawn contact got its id back");
    });
}
