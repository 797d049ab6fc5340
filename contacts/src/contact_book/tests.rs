use super::*;
use crate::testutil::{PASS, mem_book, reopen};

fn anna() -> NewContact {
    NewContact {
        display_name: "Anna Schmidt".into(),
        phones: vec!["0151 12345678".into()],
        emails: vec!["anna@example.de".into()],
        ..NewContact::default()
    }
}

#[test]
fn grant_and_withdraw_move_between_books_with_history() {
    let m = mem_book();
    let c = m.book.add(anna(), None).unwrap();
    assert_eq!(m.book.list(Book::Private).unwrap().len(), 1);
    assert!(m.book.list(Book::Work).unwrap().is_empty());
    let g = m
        .book
        .grant(
            &c.id,
            "Kundenkommunikation über Kontor",
            Some("mündlich am Telefon"),
        )
        .unwrap();
    assert_eq!(g.consent.status(), ConsentStatus::Granted);
    assert_eq!(m.book.get(&c.id).unwrap().0, Book::Work);
    assert!(m.book.list(Book::Private).unwrap().is_empty());
    let w = m.book.withdraw(&c.id, Some("E-Mail vom 3.4.")).unwrap();
    assert_eq!(w.consent.status(), ConsentStatus::Withdrawn);
    let (book, stored) = m.book.get(&c.id).unwrap();
    assert_eq!(book, Book::Private);
    let statuses: Vec<_> = stored.consent.history().iter().map(|e| e.status).collect();
    assert_eq!(
        statuses,
        vec![
            ConsentStatus::None,
            ConsentStatus::Granted,
            ConsentStatus::Withdrawn
        ]
    );
    assert_eq!(
        stored.consent.history()[1].evidence,
        Some("mündlich am Telefon".into())
    );
    assert!(matches!(
        m.book.withdraw(&c.id, None),
        Err(Error::InvalidState(_))
    ));
    assert!(matches!(
        m.book.grant(&c.id, "  ", None),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn index_follows_the_contact() {
    let m = mem_book();
    let c = m.book.add(anna(), None).unwrap();
    assert_eq!(
        m.book
            .private
            .store
            .lookup("tel", "+4915112345678")
            .unwrap(),
        vec![c.id.clone()]
    );
    m.book.grant(&c.id, "p", None).unwrap();
    assert!(
        m.book
            .private
            .store
            .lookup("tel", "+4915112345678")
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        m.book
            .work
            .store
            .lookup("email", "anna@example.de")
            .unwrap(),
        vec![c.id.clone()]
    );
}

#[test]
fn wrong_passphrase_is_typed_and_changes_nothing() {
    let m = mem_book();
    m.book.add(anna(), None).unwrap();
    let before = (m.work.snapshot(), m.private.snapshot());
    let err = reopen(&m.work, &m.private, "wrong").err().unwrap();
    assert!(
        matches!(err, Error::WrongPassphrase { book: Book::Work }),
        "{err}"
    );
    assert_eq!((m.work.snapshot(), m.private.snapshot()), before);
    assert!(reopen(&m.work, &m.private, PASS).is_ok());
}

#[test]
fn resolve_by_prefix_and_erase() {
    let m = mem_book();
    let a = m.book.add(anna(), None).unwrap();
    let b = m
        .book
        .add(
            NewContact {
                display_name: "Bernd".into(),
                ..NewContact::default()
            },
            Some(("p", None)),
        )
        .unwrap();
    assert_eq!(m.book.get(&a.id[..8]).unwrap().1.id, a.id);
    assert!(matches!(m.book.get("zz"), Err(Error::NotFound(_))));
    assert_eq!(m.book.erase(&b.id).unwrap(), Book::Work);
    assert!(matches!(m.book.get(&b.id), Err(Error::NotFound(_))));
    m.book.erase(&a.id).unwrap();
    // Nothing left: no records, no index entries, no refs.
    let leftover = |s: &crate::store::MemoryStore| {
        s.snapshot()
            .keys()
            .filter(|k| !k.starts_with(b"m/"))
            .count()
    };
    assert_eq!(leftover(&m.work), 0);
    assert_eq!(leftover(&m.private), 0);
}

/// A grant interrupted after every possible number of writes: after reopening,
/// the contact is in exactly one book, with a consistent history.
#[test]
fn interrupted_grant_leaves_contact_in_exactly_one_book() {
    for crash_w in 0..6 {
        for crash_p in 0..5 {
            let m = mem_book();
            let c = m.book.add(anna(), None).unwrap();
            m.work.crash_after(crash_w);
            m.private.crash_after(crash_p);
            let result = m.book.grant(&c.id, "p", None);
            drop(m.book);
            m.work.restart();
            m.private.restart();
            let book = reopen(&m.work, &m.private, PASS).unwrap();
            let in_work = book.work().get(&c.id).unwrap();
            let in_private = book.private().get(&c.id).unwrap();
            match (in_work, in_private) {
                (Some(w), None) => assert_eq!(w.consent.history().len(), 2),
                (None, Some(p)) => {
                    assert!(
                        result.is_err(),
                        "grant reported success but was rolled back"
                    );
                    assert_eq!(p.consent.history().len(), 1);
                }
                other => panic!("crash w{crash_w}/p{crash_p}: {other:?}"),
            }
            assert!(book.work.store.db.scan_prefix(b"t/").unwrap().is_empty());
            assert!(book.private.store.db.scan_prefix(b"t/").unwrap().is_empty());
        }
    }
}
