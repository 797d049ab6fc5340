//! `kontor demo` without its window: Synapse and Sydent start, anna's sample contact file
//! fills both books, discovery finds ben (whose number is bound) in the work book only,
//! and a chat with him can be opened — what the app then shows. Stopping removes the
//! demo data.

use kontor_contacts::Book;

#[test]
fn demo_fills_both_books_and_discovers_ben() {
    let demo = kontor::demo::Demo::start().expect("demo");
    assert!(demo.identity_server().is_some(), "Sydent runs");
    let book = demo.book().expect("anna's contact book");
    let names = |b| -> Vec<(String, Option<String>)> {
        book.list(b)
            .unwrap()
            .into_iter()
            .map(|c| (c.display_name, c.matrix_id))
            .collect()
    };
    let ben = demo.ben_user_id().to_owned();
    assert_eq!(
        names(Book::Work),
        [
            ("Ben Hoffmann".to_owned(), Some(ben.clone())),
            ("Schreinerei Lutz".to_owned(), None),
        ]
    );
    assert_eq!(
        names(Book::Private),
        [
            ("Jonas Schmidt".to_owned(), None),
            ("Tante Erika".to_owned(), None),
        ]
    );
    let anna = demo.anna().clone();
    let room = demo
        .runtime()
        .block_on(async move { anna.open_dm(&ben).await })
        .expect("a chat with ben");
    assert!(!room.is_empty());
    let data = std::env::temp_dir().join(format!("kontor-demo-{}", std::process::id()));
    assert!(data.exists());
    demo.stop();
    assert!(!data.exists(), "demo data deleted");
}
