//! Refusals that change nothing: a wrong passphrase (exit 3), and commands run before
//! any contact book exists.

use crate::support::{Env, MIXED, PASS, fails, parse};

#[test]
fn wrong_passphrase_exits_3_and_changes_nothing() {
    let env = Env::new();
    env.import_mixed();
    let before = env.json(&["contacts", "report", "--format", "json"]);
    let anna = env.id("Anna Arzt");
    let f = env.file("kunden.vcf", MIXED);

    for args in [
        &["contacts", "list"][..],
        &["contacts", "show", &anna],
        &["contacts", "import", &f],
        &["contacts", "add", "--name", "Eva"],
        &["contacts", "withdraw", &anna],
        &["contacts", "erase", &anna, "--yes"],
        &["contacts", "report"],
    ] {
        let out = env.run(Some("wrong horse"), args, "");
        assert!(fails(&out, 3).contains("passphrase"), "{args:?}");
    }
    // The same with the passphrase as a stdin line.
    let out = env.run(
        None,
        &["--json", "contacts", "grant", &anna, "--purpose", "x"],
        "nope\n",
    );
    fails(&out, 3);
    // The right one through stdin works.
    let out = env.run(None, &["--json", "contacts", "list"], &format!("{PASS}\n"));
    assert_eq!(parse(&out, &["list"]).as_array().unwrap().len(), 3);

    assert_eq!(
        env.json(&["contacts", "report", "--format", "json"]),
        before
    );
}

#[test]
fn without_a_book_commands_fail_and_create_nothing() {
    let env = Env::new();
    for args in [
        &["contacts", "list"][..],
        &["--json", "contacts", "report"],
        &["contacts", "show", "abcd"],
        &["contacts", "erase", "abcd", "--yes"],
    ] {
        let out = env.run(Some(PASS), args, "");
        assert!(fails(&out, 1).contains("no contact book"), "{args:?}");
    }
    // Without a login, discovery is exit 4 before anything else.
    let out = env.run(
        Some(PASS),
        &[
            "contacts",
            "discover",
            "--identity-server",
            "http://127.0.0.1:9",
        ],
        "",
    );
    assert!(fails(&out, 4).contains("not logged in"));
    let out = env.run(
        Some(PASS),
        &["contacts", "discover", "--identity-server", "vector.im"],
        "",
    );
    fails(&out, 2);
    assert_eq!(
        std::fs::read_dir(env.data()).unwrap().count(),
        0,
        "nothing written"
    );
}
