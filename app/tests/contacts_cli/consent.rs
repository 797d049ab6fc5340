//! Consent: granting moves a contact to the work book, withdrawing moves it back, and
//! the history of both is kept and reported (CSV and JSON).

use crate::support::{Env, PASS, fails};

#[test]
fn grant_moves_to_work_and_withdraw_moves_back_with_history() {
    let env = Env::new();
    env.import_mixed();
    let bernd = env.id("Bernd Bauer");

    // By unique prefix, human and JSON.
    let shown = env.text(&["contacts", "show", &bernd[..6]]);
    assert!(
        shown.contains("book:      private (consent none)"),
        "{shown}"
    );
    assert!(shown.contains("phone:     +493012345678"), "{shown}");
    let s = env.json(&["contacts", "show", &bernd]);
    assert_eq!(
        (s["book"].as_str(), s["status"].as_str()),
        (Some("private"), Some("none"))
    );

    let g = env.json(&[
        "contacts",
        "grant",
        &bernd,
        "--purpose",
        "Angebote",
        "--evidence",
        "Anruf 3.2.",
    ]);
    assert_eq!(g["book"], "work");
    assert!(
        env.names(Some("work"))
            .contains(&("Bernd Bauer".into(), "work".into()))
    );
    assert!(
        !env.names(Some("private"))
            .iter()
            .any(|(n, _)| n == "Bernd Bauer")
    );
    let s = env.json(&["contacts", "show", &bernd]);
    let history = s["consent"]["history"].as_array().unwrap();
    assert_eq!(history.len(), 2);
    assert_eq!(history[1]["status"], "granted");
    assert_eq!(history[1]["purpose"], "Angebote");
    assert_eq!(history[1]["evidence"], "Anruf 3.2.");

    let out = env.text(&["contacts", "withdraw", &bernd, "--evidence", "E-Mail 4.2."]);
    assert!(out.contains("now in the private book"), "{out}");
    let s = env.json(&["contacts", "show", &bernd]);
    assert_eq!(
        (s["book"].as_str(), s["status"].as_str()),
        (Some("private"), Some("withdrawn"))
    );
    assert_eq!(s["consent"]["history"].as_array().unwrap().len(), 3);
    assert!(
        env.names(Some("work"))
            .iter()
            .all(|(n, _)| n != "Bernd Bauer")
    );

    // Nothing left to withdraw; an unknown id; an empty purpose (usage).
    let out = env.run(Some(PASS), &["contacts", "withdraw", &bernd], "");
    assert!(fails(&out, 1).contains("no consent to withdraw"));
    let out = env.run(Some(PASS), &["contacts", "show", "ffffffffffffffff"], "");
    assert!(fails(&out, 1).contains("no contact"));
    let out = env.run(
        Some(PASS),
        &["contacts", "grant", &bernd, "--purpose", " "],
        "",
    );
    assert!(fails(&out, 2).contains("purpose"));
}

#[test]
fn consent_report_holds_the_history() {
    let env = Env::new();
    env.import_mixed();
    let bernd = env.id("Bernd Bauer");
    env.json(&["contacts", "grant", &bernd, "--purpose", "Angebote"]);
    env.json(&["contacts", "withdraw", &bernd]);

    let csv = env.text(&["contacts", "report"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("id,name,book,status,purpose,since,source,evidence,history")
    );
    let row = csv.lines().find(|l| l.contains("Bernd Bauer")).unwrap();
    assert!(row.contains(",private,withdrawn,"), "{row}");
    assert!(row.contains("granted Angebote (manual entry)"), "{row}");
    assert!(row.contains("kunden.vcf line"), "{row}");
    assert_eq!(csv.lines().count(), 4, "header and three contacts: {csv}");

    let rows = env.json(&["contacts", "report", "--format", "json"]);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let b = rows.iter().find(|r| r["id"] == bernd.as_str()).unwrap();
    let statuses: Vec<&str> = b["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, ["none", "granted", "withdrawn"]);

    let out = env.data().join("report.csv");
    let w = env.json(&["contacts", "report", "--out", out.to_str().unwrap()]);
    assert_eq!(w["format"], "csv");
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);
    let wrapped = env.json(&["contacts", "report"]);
    assert_eq!(wrapped["content"].as_str(), Some(csv.as_str()));
}
