//! A whole import of arbitrary bytes (both formats) into in-memory books:
//! no panic, no error, and the books hold exactly the contacts the report
//! says were added.
#![no_main]

use std::path::Path;
use std::sync::atomic::AtomicBool;

use kontor_contacts::{ContactBook, Format, ImportOptions, KdfParams, MemoryStore, OpenOptions};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for format in [Format::VCard, Format::Csv] {
        let book = ContactBook::from_stores(
            Box::new(MemoryStore::new()),
            Path::new("<work>"),
            Box::new(MemoryStore::new()),
            Path::new("<private>"),
            "fuzz",
            // Fresh books per input; the test cost keeps Argon2id out of the way.
            OpenOptions {
                kdf: KdfParams::insecure_fast(),
                ..OpenOptions::default()
            },
        )
        .expect("open in-memory books");
        let report = book
            .import_bytes(
                "fuzz",
                data,
                format,
                &ImportOptions::default(),
                &mut |_| {},
                &AtomicBool::new(false),
            )
            .expect("an import of any bytes succeeds");
        let stored = book.work().len().expect("work") + book.private().len().expect("private");
        assert_eq!(stored, report.added_work + report.added_private);
        assert_eq!(report.new_ids.len(), stored);
    }
});
