use std::sync::Mutex;

use super::*;
use crate::model::{Book, NewContact};
use crate::testutil::mem_book;

#[test]
fn hash_matches_spec_vector() {
    // Example from the Identity Service API spec (v2 lookup).
    assert_eq!(
        lookup_hash("alice@example.com", "email", "matrixrocks"),
        "4kenr7N9drpCJ4AfalmlGQVsOn3o2RHjkADUpXJWZUc"
    );
    assert_eq!(
        lookup_hash("4915112345678", "msisdn", "matrixrocks"),
        "5fK07vD43iCP1vKN3WbCXm4nt3LOfaIk-iqKh26fnqo"
    );
}

struct Fake {
    algorithms: Vec<String>,
    known: HashMap<String, String>,
    batches: Mutex<Vec<Vec<String>>>,
}

impl Fake {
    fn new(algorithms: &[&str]) -> Self {
        let mut known = HashMap::new();
        known.insert(
            lookup_hash("4915112345678", "msisdn", "pep"),
            "@anna:example.org".to_owned(),
        );
        known.insert(
            lookup_hash("bob@example.com", "email", "pep"),
            "@bob:example.org".to_owned(),
        );
        Fake {
            algorithms: algorithms.iter().map(|s| s.to_string()).collect(),
            known,
            batches: Mutex::new(Vec::new()),
        }
    }
}

impl IdentityService for &Fake {
    async fn register(&self, token: &OpenIdToken) -> Result<String> {
        assert_eq!(token.matrix_server_name, "localhost:8448");
        Ok("is-token".into())
    }
    async fn hash_details(&self, access_token: &str) -> Result<HashDetails> {
        assert_eq!(access_token, "is-token");
        Ok(HashDetails {
            algorithms: self.algorithms.clone(),
            lookup_pepper: "pep".into(),
        })
    }
    async fn lookup(
        &self,
        _: &str,
        pepper: &str,
        hashes: &[String],
    ) -> Result<HashMap<String, String>> {
        assert_eq!(pepper, "pep");
        self.batches.lock().unwrap().push(hashes.to_vec());
        Ok(hashes
            .iter()
            .filter_map(|h| self.known.get(h).map(|m| (h.clone(), m.clone())))
            .collect())
    }
}

fn token() -> OpenIdToken {
    OpenIdToken {
        access_token: "secret".into(),
        token_type: "Bearer".into(),
        matrix_server_name: "localhost:8448".into(),
        expires_in: 3600,
    }
}

fn contact(name: &str, phone: &str, email: &str) -> NewContact {
    NewContact {
        display_name: name.into(),
        phones: vec![phone.into()]
            .into_iter()
            .filter(|p: &String| !p.is_empty())
            .collect(),
        emails: vec![email.into()]
            .into_iter()
            .filter(|e: &String| !e.is_empty())
            .collect(),
        ..NewContact::default()
    }
}

#[tokio::test]
async fn looks_up_only_the_work_book_in_batches_and_stores_ids() {
    let m = mem_book();
    let anna = m
        .book
        .add(
            contact("Anna", "0151 12345678", ""),
            Some(("Kundenkommunikation", None)),
        )
        .unwrap();
    let bob = m
        .book
        .add(
            contact("Bob", "", "Bob@Example.com"),
            Some(("Kundenkommunikation", None)),
        )
        .unwrap();
    m.book
        .add(
            contact("Carla", "030 12345678", "carla@example.com"),
            Some(("Kundenkommunikation", None)),
        )
        .unwrap();
    let secret = m
        .book
        .add(
            contact("Private Pete", "0171 2345678", "pete@example.com"),
            None,
        )
        .unwrap();
    let fake = Fake::new(&["none", "sha256"]);
    let report = Discovery::new(&fake)
        .batch_size(2)
        .run(m.book.work(), &token())
        .await
        .unwrap();
    assert_eq!(
        report,
        DiscoveryReport {
            contacts: 3,
            hashes_sent: 4,
            batches: 2,
            found: 2,
            changed: 2
        }
    );
    let sent: Vec<String> = fake.batches.lock().unwrap().concat();
    assert_eq!(
        fake.batches
            .lock()
            .unwrap()
            .iter()
            .map(Vec::len)
            .collect::<Vec<_>>(),
        vec![2, 2]
    );
    for p in &secret.phones {
        assert!(!sent.contains(&lookup_hash(
            p.e164.as_deref().unwrap().trim_start_matches('+'),
            "msisdn",
            "pep"
        )));
    }
    assert!(!sent.contains(&lookup_hash("pete@example.com", "email", "pep")));
    assert_eq!(
        m.book.get(&anna.id).unwrap().1.matrix_id.as_deref(),
        Some("@anna:example.org")
    );
    assert_eq!(
        m.book.get(&bob.id).unwrap().1.matrix_id.as_deref(),
        Some("@bob:example.org")
    );
    // Withdrawal drops the discovery result.
    let w = m.book.withdraw(&anna.id, None).unwrap();
    assert_eq!(w.matrix_id, None);
    assert_eq!(m.book.get(&anna.id).unwrap().1.matrix_id, None);
}

#[tokio::test]
async fn refuses_without_sha256() {
    let m = mem_book();
    m.book
        .add(contact("Anna", "0151 12345678", ""), Some(("x", None)))
        .unwrap();
    let fake = Fake::new(&["none"]);
    let err = Discovery::new(&fake)
        .run(m.book.work(), &token())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::IdentityServer(_)), "{err}");
    assert!(fake.batches.lock().unwrap().is_empty());
}

#[test]
fn token_debug_redacts() {
    assert!(!format!("{:?}", token()).contains("secret"));
}

/// An identity server whose answers a test changes between runs, and which can run a
/// hook while a lookup is "in flight".
struct Scripted<'a> {
    known: Mutex<HashMap<String, String>>,
    during_lookup: Mutex<Option<Box<dyn FnOnce() + Send + 'a>>>,
}

impl IdentityService for &Scripted<'_> {
    async fn register(&self, _: &OpenIdToken) -> Result<String> {
        Ok("is-token".into())
    }
    async fn hash_details(&self, _: &str) -> Result<HashDetails> {
        Ok(HashDetails {
            algorithms: vec!["sha256".into()],
            lookup_pepper: "pep".into(),
        })
    }
    async fn lookup(&self, _: &str, _: &str, hashes: &[String]) -> Result<HashMap<String, String>> {
        if let Some(hook) = self.during_lookup.lock().unwrap().take() {
            hook();
        }
        let known = self.known.lock().unwrap();
        Ok(hashes
            .iter()
            .filter_map(|h| known.get(h).map(|m| (h.clone(), m.clone())))
            .collect())
    }
}

#[tokio::test]
async fn an_unbound_address_loses_its_id_and_an_unchanged_run_writes_nothing() {
    let m = mem_book();
    let anna = m
        .book
        .add(contact("Anna", "0151 12345678", ""), Some(("x", None)))
        .unwrap();
    let fake = Scripted {
        known: Mutex::new(Fake::new(&[]).known),
        during_lookup: Mutex::new(None),
    };
    let d = Discovery::new(&fake);
    assert_eq!(d.run(m.book.work(), &token()).await.unwrap().changed, 1);
    let again = d.run(m.book.work(), &token()).await.unwrap();
    assert_eq!((again.found, again.changed), (1, 0));
    // The number is unbound on the server: the stored id goes.
    fake.known.lock().unwrap().clear();
    let gone = d.run(m.book.work(), &token()).await.unwrap();
    assert_eq!((gone.found, gone.changed), (0, 1));
    assert_eq!(m.book.get(&anna.id).unwrap().1.matrix_id, None);
}

#[tokio::test]
async fn a_withdrawal_during_the_lookup_is_not_overwritten() {
    let m = mem_book();
    let anna = m
        .book
        .add(contact("Anna", "0151 12345678", ""), Some(("x", None)))
        .unwrap();
    let (book, id) = (&m.book, anna.id.clone());
    let fake = Scripted {
        known: Mutex::new(Fake::new(&[]).known),
        during_lookup: Mutex::new(Some(Box::new(move || {
            book.withdraw(&id, None).unwrap();
        }))),
    };
    let report = Discovery::new(&fake)
        .run(m.book.work(), &token())
        .await
        .unwrap();
    assert_eq!((report.found, report.changed), (0, 0));
    let (where_, anna) = m.book.get(&anna.id).unwrap();
    assert_eq!(where_, Book::Private);
    assert_eq!(anna.matrix_id, None);
    assert!(m.book.work().get(&anna.id).unwrap().is_none());
}
