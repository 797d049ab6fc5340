//! Getting contacts in: a file import split into the two books by consent, with a
//! report that names every line; a malformed file; entering contacts by hand.

use crate::support::{Env, MIXED, PASS, fails, line_of, parse, stderr};

#[test]
fn import_splits_the_books_by_consent_and_reports_every_line() {
    let env = Env::new();
    let r = env.import_mixed();
    assert_eq!(r["file"], "kunden.vcf");
    // Dora is read, then rejected for her consent value.
    assert_eq!(r["read"], 5, "{r}");
    assert_eq!(r["added_work"], 1, "{r}");
    assert_eq!(r["added_private"], 2, "{r}");
    let merged = r["merged"].as_array().unwrap();
    assert_eq!(merged.len(), 1, "{r}");
    assert_eq!(merged[0]["line"], line_of(MIXED, "FN:Anna A.") - 2);
    assert_eq!(merged[0]["into"]["line"], 1);
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{r}");
    assert_eq!(rejected[0]["line"], line_of(MIXED, "FN:Dora") - 2);
    assert!(
        rejected[0]["message"]
            .as_str()
            .unwrap()
            .contains("vielleicht")
    );
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            // At the line of the invalid number, not the card's first.
            .any(|w| w["line"] == line_of(MIXED, "TEL:0815") && w["kind"] == "invalid_phone"),
        "{r}"
    );

    let mut all = env.names(None);
    all.sort();
    assert_eq!(
        all,
        [
            ("Anna Arzt".into(), "work".into()),
            ("Bernd Bauer".into(), "private".into()),
            ("Carla Chef".into(), "private".into()),
        ]
    );
    assert_eq!(
        env.names(Some("work")),
        [("Anna Arzt".into(), "work".into())]
    );
    let private = env.names(Some("private"));
    assert_eq!(private.len(), 2);
    assert!(private.iter().all(|(_, b)| b == "private"));

    // The list entries carry the data and the status.
    let list = env.json(&["contacts", "list", "--book", "work"]);
    let anna = &list[0];
    assert_eq!(anna["status"], "granted");
    assert_eq!(anna["phones"][0]["e164"], "+4915112345678");
    assert_eq!(anna["emails"][0]["address"], "anna@praxis.example");

    // Again, for people: everything merges into what is stored; the summary names lines.
    let f = env.file("kunden.vcf", MIXED);
    let out = env.run(Some(PASS), &["contacts", "import", &f], "");
    assert!(out.status.success(), "{}", stderr(&out));
    let summary = String::from_utf8(out.stdout.clone()).unwrap();
    assert!(
        summary.starts_with("kunden.vcf: 5 records read; imported 0"),
        "{summary}"
    );
    assert!(summary.contains("3 updated"), "{summary}");
    let dora = line_of(MIXED, "FN:Dora") - 2;
    assert!(
        summary.contains(&format!("rejected line {dora}: ")),
        "{summary}"
    );
    assert!(summary.contains("into contact "), "{summary}");
    // No terminal: plain percentage lines on stderr, ending at 100 %.
    assert!(
        stderr(&out).contains("importing kunden.vcf: 100%"),
        "{}",
        stderr(&out)
    );
    assert_eq!(env.names(None).len(), 3, "nothing duplicated");
}

#[test]
fn json_import_prints_no_progress() {
    let env = Env::new();
    let f = env.file("kunden.vcf", MIXED);
    let out = env.run(Some(PASS), &["--json", "contacts", "import", &f], "");
    parse(&out, &["import"]);
    assert_eq!(stderr(&out), "", "no progress with --json");
}

#[test]
fn a_malformed_file_fails_with_its_line_and_keeps_what_is_stored() {
    let env = Env::new();
    env.import_mixed();
    let before = env.json(&["contacts", "list"]);

    // A card without any usable field, after two blank lines: line 3.
    let bad = env.file(
        "kaputt.vcf",
        "\n\nBEGIN:VCARD\nVERSION:3.0\nNOTE:nur eine Notiz\nEND:VCARD\n",
    );
    let out = env.run(Some(PASS), &["contacts", "import", &bad], "");
    let err = fails(&out, 1);
    assert!(err.contains("kaputt.vcf line 3: "), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    // A CSV without a name, phone or e-mail column: its header, line 1.
    let csv = env.file("liste.csv", "Farbe;Größe\nrot;XL\n");
    let err = fails(
        &env.run(Some(PASS), &["--json", "contacts", "import", &csv], ""),
        1,
    );
    assert!(err.contains("liste.csv line 1: header"), "{err}");

    // Not a contact file at all, a missing file, a directory.
    let junk = env.file("notes.txt", "just some words\n");
    let err = fails(&env.run(Some(PASS), &["contacts", "import", &junk], ""), 1);
    assert!(err.contains("notes.txt"), "{err}");
    let missing = env.data().join("fehlt.vcf");
    let err = fails(
        &env.run(None, &["contacts", "import", missing.to_str().unwrap()], ""),
        1,
    );
    assert!(err.contains("fehlt.vcf"), "{err}");

    assert_eq!(
        env.json(&["contacts", "list"]),
        before,
        "stored contacts intact"
    );
}

#[test]
fn add_enters_contacts_by_hand() {
    let env = Env::new();
    let a = env.json(&[
        "contacts",
        "add",
        "--name",
        "Frieda Fischer",
        "--phone",
        "0171 7654321",
        "--phone",
        "+43 664 1234567",
        "--email",
        "frieda@example.org",
        "--org",
        "Fischerei",
        "--note",
        "Kundin seit 2019",
        "--consent",
        "granted",
        "--purpose",
        "Lieferungen",
    ]);
    assert_eq!(a["book"], "work");
    assert_eq!(a["phones"][0]["e164"], "+491717654321");
    assert_eq!(a["phones"][1]["e164"], "+436641234567");
    assert_eq!(a["consent"]["history"][0]["purpose"], "Lieferungen");
    assert_eq!(a["consent"]["history"][0]["source"]["kind"], "manual");

    let out = env.run(
        Some(PASS),
        &["contacts", "add", "--name", "Gerd", "--phone", "12"],
        "",
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("to the private book"));
    // The warning names the position, never the number.
    let err = stderr(&out);
    assert!(
        err.contains("phone number 1 is not a valid number"),
        "{err}"
    );
    assert!(!err.contains("12"), "{err}");

    let out = env.run(
        Some(PASS),
        &["contacts", "add", "--name", "H", "--purpose", "x"],
        "",
    );
    assert!(fails(&out, 2).contains("--consent granted"));
    let out = env.run(Some(PASS), &["contacts", "add", "--email", "x@y.z"], "");
    assert_eq!(out.status.code(), Some(2), "--name is required");
    assert_eq!(env.names(None).len(), 2);
}
