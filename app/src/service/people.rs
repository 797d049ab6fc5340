//! Who a chat partner is in the contact book: one map from Matrix account to contact,
//! built from both books in one pass, so the chat list and the open conversation show
//! the book's name and the consent state without reading the book once per chat.
//!
//! The private book's names are shown on this device only; nothing here leaves it.

use std::collections::HashMap;

use kontor_contacts::{Book, ConsentSource, ConsentStatus, Contact};

use super::{Result, Service, ServiceError};

/// A chat partner as the contact book knows them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// The contact's id (for opening it).
    pub contact_id: String,
    /// The name in the book.
    pub name: String,
    /// Consent now.
    pub consent: ConsentStatus,
    /// A consent request waits for the answer.
    pub asked: bool,
    /// The book the contact is in.
    pub book: Book,
    /// They came by writing first (a direct chat from someone unknown, see
    /// [`Service::welcome_inviter`]) and nothing else is known of them yet.
    pub new_customer: bool,
}

/// Matrix user id → the contact it belongs to.
pub type People = HashMap<String, Person>;

/// The map of both books' contacts by every Matrix account they have (the chat account
/// and the discovered one). A work-book contact wins over a private one for the same
/// account, as in `ContactBook::by_matrix_user`.
pub fn people_of(work: Vec<Contact>, private: Vec<Contact>) -> People {
    let mut people = People::new();
    for (book, contacts) in [(Book::Work, work), (Book::Private, private)] {
        for c in contacts {
            let person = Person {
                contact_id: c.id.clone(),
                name: c.display_name.clone(),
                consent: c.consent.status(),
                asked: c.consent_request.is_some(),
                book,
                new_customer: is_new_customer(&c),
            };
            for user in [c.chat_id.as_deref(), c.matrix_id.as_deref()]
                .into_iter()
                .flatten()
            {
                people
                    .entry(user.to_owned())
                    .or_insert_with(|| person.clone());
            }
        }
    }
    people
}

/// Only the chat they started is known of them: no consent decision, no number, no
/// address — the contact `welcome_inviter` made.
fn is_new_customer(c: &Contact) -> bool {
    matches!(
        c.consent.history(),
        [only] if matches!(only.source, ConsentSource::WroteFirst { .. })
            && only.status == ConsentStatus::None
    ) && c.phones.is_empty()
        && c.emails.is_empty()
}

impl Service {
    /// Every chat partner the contact book knows ([`people_of`]), read on a blocking
    /// thread (both books are unsealed record by record).
    pub async fn people(&self) -> Result<People> {
        let book = self.book()?;
        tokio::task::spawn_blocking(move || {
            let work = book.list(Book::Work)?;
            let private = book.list(Book::Private)?;
            Ok(people_of(work, private))
        })
        .await
        .map_err(|_| ServiceError::Crashed)?
        .map_err(ServiceError::Contacts)
    }
}

#[cfg(test)]
mod tests {
    use kontor_contacts::{ConsentRequest, Timestamp};

    use super::*;

    fn contact(id: &str, name: &str, status: ConsentStatus, source: ConsentSource) -> Contact {
        crate::service::testutil::contact(id, name, status, source, Timestamp(1_800_000_000))
    }

    #[test]
    fn both_accounts_of_both_books_and_the_work_book_first() {
        let mut weiss = contact(
            "w1",
            "Frau Weiß",
            ConsentStatus::Granted,
            ConsentSource::Manual,
        );
        weiss.matrix_id = Some("@weiss:hs".into());
        weiss.chat_id = Some("@weiss-phone:hs".into());
        let mut klein = contact(
            "p1",
            "Herr Klein",
            ConsentStatus::None,
            ConsentSource::Manual,
        );
        klein.chat_id = Some("@klein:hs".into());
        klein.consent_request = Some(ConsentRequest {
            room_id: "!dm:hs".into(),
            event_id: "$req".into(),
            text: "…".into(),
            purpose: "Termine".into(),
            language: "de".into(),
            asked_by: "@berger:hs".into(),
            asked_device: None,
            asked_user: "@klein:hs".into(),
            asked_at: Timestamp(1_800_000_000),
        });
        // The same account in the private book as well (an old entry): the work book wins.
        let mut old = contact("p2", "Weiß alt", ConsentStatus::None, ConsentSource::Manual);
        old.chat_id = Some("@weiss:hs".into());
        let mut stranger = contact(
            "p3",
            "fremd",
            ConsentStatus::None,
            ConsentSource::WroteFirst {
                room_id: "!new:hs".into(),
            },
        );
        stranger.chat_id = Some("@fremd:hs".into());

        let people = people_of(vec![weiss], vec![klein, old, stranger]);
        assert_eq!(people.len(), 4);
        let w = &people["@weiss:hs"];
        assert_eq!((w.name.as_str(), w.book), ("Frau Weiß", Book::Work));
        assert_eq!(w.consent, ConsentStatus::Granted);
        assert_eq!(people["@weiss-phone:hs"].contact_id, "w1");
        let k = &people["@klein:hs"];
        assert!(k.asked && !k.new_customer);
        assert_eq!(k.book, Book::Private);
        assert!(people["@fremd:hs"].new_customer);
        assert!(!w.new_customer);
    }
}
