//! The data subject's rights: export (JSON and vCard, with the consent history) and
//! erasure from either book.

use serde_json::Value;

use crate::support::{Env, PASS, fails};

#[test]
fn export_contains_the_data_and_erase_removes_it_from_both_books() {
    let env = Env::new();
    env.import_mixed();
    let anna = env.id("Anna Arzt");

    let e = env.json(&["contacts", "export", &anna]);
    assert_eq!(e["format"], "kontor-contact/1");
    assert_eq!(e["book"], "work");
    assert_eq!(e["contact"]["phones"][0]["e164"], "+4915112345678");
    assert_eq!(e["contact"]["emails"][0]["address"], "anna@praxis.example");
    assert_eq!(e["contact"]["organisation"], "Praxis Arzt");
    // No account on this device, so no quotes: said as an empty list, not left out.
    assert_eq!(e["quotes"], Value::Array(Vec::new()), "{e}");
    let history = e["contact"]["consent"]["history"].as_array().unwrap();
    assert!(
        history
            .iter()
            .any(|h| h["status"] == "granted" && h["purpose"] == "Terminabsprachen"),
        "{e}"
    );
    // The plain export (no --json) is the same document, pretty-printed.
    let plain: Value = serde_json::from_str(&env.text(&["contacts", "export", &anna])).unwrap();
    assert_eq!(plain, e);

    let vcf = env.data().join("anna.vcf");
    let w = env.json(&[
        "contacts",
        "export",
        &anna,
        "--format",
        "vcard",
        "--out",
        vcf.to_str().unwrap(),
    ]);
    assert_eq!(w["format"], "vcard");
    assert_eq!(w["id"], anna.as_str());
    let card = std::fs::read_to_string(&vcf).unwrap();
    assert_eq!(w["bytes"], card.len());
    for want in [
        "BEGIN:VCARD",
        "FN:Anna Arzt",
        "tel:+4915112345678",
        "EMAIL:anna@praxis.example",
        "X-KONTOR-CONSENT:granted",
    ] {
        assert!(card.contains(want), "{want} missing: {card}");
    }
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&vcf).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "exports hold personal data");
    let v = env.json(&["contacts", "export", &anna, "--format", "vcard"]);
    assert_eq!(v["content"].as_str(), Some(card.as_str()));

    // No terminal and no --yes: refused (usage), before anything is unlocked.
    let out = env.run(None, &["contacts", "erase", &anna], "");
    assert!(fails(&out, 2).contains("--yes"));
    assert_eq!(env.names(None).len(), 3);

    let gone = env.json(&["contacts", "erase", &anna, "--yes"]);
    assert_eq!(gone["erased"], true);
    assert_eq!(gone["book"], "work");
    assert_eq!(gone["quotes_kept"], 0);
    assert!(env.names(None).iter().all(|(n, _)| n != "Anna Arzt"));
    let out = env.run(Some(PASS), &["contacts", "show", &anna], "");
    assert!(fails(&out, 1).contains("no contact"));
    let out = env.run(Some(PASS), &["contacts", "export", &anna], "");
    fails(&out, 1);
    let report = env.text(&["contacts", "report"]);
    assert!(
        !report.contains("Anna"),
        "erased from the report too: {report}"
    );

    // A private contact is erased just the same.
    let carla = env.id("Carla Chef");
    let gone = env.json(&["contacts", "erase", &carla, "--yes"]);
    assert_eq!(gone["book"], "private");
    assert_eq!(env.names(None), [("Bernd Bauer".into(), "private".into())]);
}
