//! Quotes end to end on a real Synapse: the freelancer drives `kontor quote …` like a
//! script; the customer is a plain matrix-sdk client (as Element would be) that reads
//! the `m.file` event's raw JSON and answers with a raw reaction or reply through the
//! SDK's room API, never through Kontor's quote code.

mod chat_support;

use chat_support::{Customer, Device, assert_absent, eventually};
use kontor_testkit::{Synapse, TestUser};
use serde_json::{Value, json};

const DETAILS: &str = r#"
name = "Fliesen Weiß GmbH"
address = "Große Straße 12\n10115 Berlin"
contact = "030 1234567"
tax_id = "12/345/67890"
iban = "DE89 3704 0044 0532 0130 00"
payment_terms = "Zahlbar innerhalb von 14 Tagen."
"#;

const QUOTE_1: &str = r#"
title = "Badsanierung"
[[items]]
description = "Fliesenspiegel Küche, Feinsteinzeug"
quantity = "12,5"
unit = "m²"
unit_price = "89,90"
vat = 19
[[items]]
description = "Anfahrt"
quantity = "1"
unit_price = "45"
vat = 19
"#;

fn status(device: &Device, number: &str) -> (String, Value) {
    let shown = device.json(&["quote", "show", number]);
    (shown["status"].as_str().unwrap().to_owned(), shown)
}

/// Waits until `quote show` says `want`; returns what it shows then.
fn status_becomes(device: &Device, number: &str, want: &str) -> Value {
    eventually(&format!("{number} {want}"), || {
        let (s, shown) = status(device, number);
        (s == want).then_some(shown)
    })
}

#[test]
fn quotes_are_sent_answered_from_any_client_and_tracked() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").unwrap();
    let ben = hs.register_unique("ben").unwrap();
    let laptop = Device::new();
    let phone = Device::new();
    laptop.login(&hs, &anna);
    // The second device exists (and has synced) before the first writes anything.
    phone.login(&hs, &anna);
    phone.json(&["sync"]);
    let customer = Customer::login(&hs, &ben);

    // Without business details no quote is written, and the field is named.
    let q1 = laptop.file("q1.toml", QUOTE_1);
    let refused = laptop.run(&["quote", "new", &q1, "--to", &ben.user_id], None);
    assert!(!refused.status.success());
    let err = String::from_utf8_lossy(&refused.stderr);
    assert!(err.contains("business name is missing"), "{err}");

    let details = laptop.file("details.toml", DETAILS);
    let set = laptop.json(&["quote", "details", "--set", &details]);
    assert_eq!(set["name"], "Fliesen Weiß GmbH");

    // 1: sent, accepted with a plain 👍 reaction.
    let pdf = laptop.dir.path().join("q1.pdf");
    let first = laptop.json(&[
        "quote",
        "new",
        &q1,
        "--to",
        &ben.user_id,
        "--customer",
        "Bäckerei Müller",
        "--send",
        "--pdf",
        pdf.to_str().unwrap(),
    ]);
    assert_eq!(first["status"], "sent", "{first}");
    let n1 = first["number"].as_str().unwrap().to_owned();
    assert!(n1.starts_with("A-") && n1.ends_with("-0001"), "{n1}");
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
    let room = first["sent"]["room_id"].as_str().unwrap().to_owned();

    customer.join(&room);
    let (ev1, content) = customer.quote_event(&room, &n1);
    // What Element shows: a PDF with a caption a person reads.
    assert_eq!(content["msgtype"], "m.file");
    assert_eq!(content["filename"], format!("Angebot-{n1}.pdf"));
    assert_eq!(content["info"]["mimetype"], "application/pdf");
    let caption = content["body"].as_str().unwrap();
    assert!(
        caption.starts_with(&format!("Angebot {n1} über 1.390,81 €")),
        "{caption}"
    );
    assert_eq!(content["eu.kontor.quote"]["totals"]["gross"], 139_081);

    customer.react(&room, &ev1, "👍");
    let accepted = status_becomes(&laptop, &n1, "accepted");
    assert_eq!(accepted["answers"][0]["by"], ben.user_id.as_str());
    assert!(accepted["answers"][0]["at_ms"].as_u64().unwrap() > 0);

    // 2: declined by a reply whose first word says so.
    let q2 = laptop.file("q2.json", &json!({
        "title": "Zusatzarbeiten",
        "items": [{ "description": "Silikonfugen erneuern", "quantity": "8", "unit": "m", "unit_price": "12,50", "vat": 19 }]
    }).to_string());
    let second = laptop.json(&["quote", "new", &q2, "--to", &ben.user_id, "--send"]);
    let n2 = second["number"].as_str().unwrap().to_owned();
    assert!(n2.ends_with("-0002"), "{n2}");
    let (ev2, _) = customer.quote_event(&room, &n2);
    customer.send_raw(
        &room,
        "m.room.message",
        json!({
            "msgtype": "m.text",
            "body": "Nein, das ist mir zu teuer.",
            "m.relates_to": { "m.in_reply_to": { "event_id": ev2 } }
        }),
    );
    status_becomes(&laptop, &n2, "declined");

    // 3: a revision replaces 2; numbering goes on on the other device.
    let third = laptop.json(&[
        "quote",
        "new",
        &q2,
        "--to",
        &ben.user_id,
        "--replaces",
        &n2,
        "--send",
    ]);
    let n3 = third["number"].as_str().unwrap().to_owned();
    assert_eq!(status(&laptop, &n2).0, "replaced");
    let draft = phone.json(&["quote", "new", &q2, "--to", &ben.user_id]);
    let n4 = draft["number"].as_str().unwrap().to_owned();
    assert!(
        n4.ends_with("-0004"),
        "the phone numbers on after {n3}: {n4}"
    );
    assert_eq!(draft["status"], "draft");
    let next = laptop.json(&["quote", "new", &q2, "--to", &ben.user_id]);
    assert!(
        next["number"].as_str().unwrap().ends_with("-0005"),
        "the laptop numbers on after the phone's draft: {next}"
    );
    // The phone sees the laptop's quotes and their answers.
    let on_phone = phone.json(&["quote", "list"]);
    let rows = on_phone["rows"].as_array().unwrap();
    let row = |n: &str| rows.iter().find(|r| r["number"] == n).cloned();
    assert_eq!(row(&n1).unwrap()["status"], "accepted", "{on_phone}");

    // The overview and the tax adviser's CSV.
    let list = laptop.json(&["quote", "list"]);
    assert_eq!(list["accepted_total"], 139_081);
    assert_eq!(list["open_total"], third["totals"]["gross"]);
    let only = laptop.json(&["quote", "list", "--status", "declined"]);
    assert_eq!(
        only["rows"].as_array().unwrap().len(),
        0,
        "2 is replaced now"
    );
    let csv = laptop.dir.path().join("angebote.csv");
    laptop.json(&["quote", "export", csv.to_str().unwrap()]);
    let csv = std::fs::read_to_string(&csv).unwrap();
    assert!(csv.contains(&n1) && csv.contains("Angenommen"), "{csv}");
    assert!(csv.contains("1390,81"), "{csv}");

    // The homeserver stored none of it in plaintext.
    assert_absent(
        hs.dir(),
        &[
            &n1,
            &n2,
            "Fliesenspiegel",
            "Bäckerei",
            "1.390,81",
            "Badsanierung",
            "Fliesen Weiß",
        ],
    );
}

/// A Synapse of its own, the customer ben registered, and the freelancer anna signed in
/// on one device with the business `details` (TOML).
fn freelancer(details: &str) -> (Synapse, TestUser, Device) {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").unwrap();
    let ben = hs.register_unique("ben").unwrap();
    let laptop = Device::new();
    laptop.login(&hs, &anna);
    let details = laptop.file("details.toml", details);
    laptop.json(&["quote", "details", "--set", &details]);
    (hs, ben, laptop)
}

/// The late answer: a quote written (`KONTOR_TEST_TODAY`, debug builds) 40 days ago with
/// 30 days' validity is expired; the customer's 👍 today still accepts it, and both the
/// quote and the overview say the answer came late.
#[test]
fn an_answer_after_the_validity_accepts_and_is_marked_late() {
    let (hs, ben, laptop) = freelancer(&format!("{DETAILS}validity_days = 30\n"));
    let customer = Customer::login(&hs, &ben);

    let day = |days_ago: u64| {
        (chrono::Utc::now().date_naive() - chrono::Days::new(days_ago))
            .format("%Y-%m-%d")
            .to_string()
    };
    let q1 = laptop.file("q1.toml", QUOTE_1);
    let sent = laptop.json_env(
        &["quote", "new", &q1, "--to", &ben.user_id, "--send"],
        &[("KONTOR_TEST_TODAY", &day(40))],
    );
    assert_eq!(sent["date"], day(40), "{sent}");
    assert_eq!(sent["valid_until"], day(10));
    let number = sent["number"].as_str().unwrap().to_owned();
    let room = sent["sent"]["room_id"].as_str().unwrap().to_owned();

    // Without an answer, past its validity: expired.
    let row = |list: &Value| {
        list["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["number"] == number.as_str())
            .cloned()
            .unwrap_or_else(|| panic!("{number} not listed: {list}"))
    };
    let listed = laptop.json(&["quote", "list"]);
    assert_eq!(row(&listed)["status"], "expired", "{listed}");
    assert_eq!(row(&listed)["late"], false);

    // The customer accepts anyway, from a plain client.
    customer.join(&room);
    let (event, _) = customer.quote_event(&room, &number);
    customer.react(&room, &event, "👍");
    let shown = status_becomes(&laptop, &number, "accepted");
    assert_eq!(shown["answers"][0]["late"], true, "{shown}");
    assert_eq!(shown["answers"][0]["by"], ben.user_id.as_str());
    let listed = laptop.json(&["quote", "list"]);
    assert_eq!(row(&listed)["status"], "accepted", "{listed}");
    assert_eq!(row(&listed)["late"], true, "{listed}");
    assert_eq!(listed["accepted_total"], 139_081);
    // The tax adviser's CSV: accepted, with the answer's time (today, after the validity).
    let csv = laptop.dir.path().join("angebote.csv");
    laptop.json(&["quote", "export", csv.to_str().unwrap(), "--lang", "en"]);
    let csv = std::fs::read_to_string(&csv).unwrap();
    let line = csv
        .lines()
        .find(|l| l.starts_with(&number))
        .unwrap_or_else(|| panic!("{csv}"));
    assert!(line.contains(&format!(",{},", day(40))), "{line}");
    assert!(
        line.contains(",accepted,") && line.contains(&format!(",{}T", day(0))),
        "{line}"
    );
}

/// GDPR for quotes: a contact's Art. 15 export holds the quotes written for it; erasing
/// the contact (Art. 17) keeps them (§ 147 AO, § 257 HGB) and says so, and they still
/// list, without the link to the erased contact.
#[test]
fn a_contacts_export_holds_its_quotes_and_erasure_keeps_them() {
    let (_hs, ben, laptop) = freelancer(DETAILS);
    let add = |name: &str| {
        let c = laptop.json(&[
            "contacts",
            "add",
            "--name",
            name,
            "--consent",
            "granted",
            "--purpose",
            "Angebote",
        ]);
        c["id"].as_str().unwrap().to_owned()
    };
    let mueller = add("Bäckerei Müller");
    let otto = add("Otto Offline");

    let q1 = laptop.file("q1.toml", QUOTE_1);
    let new = |args: &[&str]| {
        let mut all = vec!["quote", "new", &q1, "--to", &ben.user_id];
        all.extend_from_slice(args);
        laptop.json(&all)["number"].as_str().unwrap().to_owned()
    };
    let for_mueller = new(&["--customer", "Bäckerei Müller", "--contact", &mueller]);
    let for_otto = new(&["--customer", "Otto Offline", "--contact", &otto]);

    // Art. 15: the quote is in Müller's JSON export, Otto's is not; not in the vCard.
    let export = laptop.json(&["contacts", "export", &mueller]);
    let quotes = export["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 1, "{export}");
    assert_eq!(quotes[0]["number"], for_mueller.as_str());
    assert_eq!(quotes[0]["title"], "Badsanierung");
    assert_eq!(quotes[0]["status"], "draft");
    assert_eq!(quotes[0]["totals"]["gross"], 139_081);
    assert_eq!(quotes[0]["items"][1]["description"], "Anfahrt");
    assert_eq!(quotes[0]["customer"]["contact_id"], mueller.as_str());
    assert!(quotes[0]["answers"].as_array().unwrap().is_empty());
    let vcard = laptop.json(&["contacts", "export", &mueller, "--format", "vcard"]);
    assert!(!vcard["content"].as_str().unwrap().contains("Badsanierung"));

    // Art. 17: the contact goes, its quote stays and the output says so.
    let erased = laptop.json(&["contacts", "erase", &mueller, "--yes"]);
    assert_eq!(erased["erased"], true);
    assert_eq!(erased["quotes_kept"], 1, "{erased}");
    let kept = laptop.json(&["quote", "show", &for_mueller]);
    assert_eq!(kept["customer"]["name"], "Bäckerei Müller", "{kept}");
    assert_eq!(
        kept["customer"]["contact_id"],
        Value::Null,
        "the link is gone"
    );
    assert_eq!(kept["totals"]["gross"], 139_081);
    let listed = laptop.json(&["quote", "list"]);
    assert_eq!(listed["rows"].as_array().unwrap().len(), 2, "{listed}");
    let gone = laptop.run(&["contacts", "export", &mueller], None);
    assert!(!gone.status.success(), "the contact is erased");

    // In text mode the sentence says why.
    let out = laptop.run(&["contacts", "erase", &otto, "--yes"], None);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("1 quote(s) for them are kept") && text.contains("§ 147 AO, § 257 HGB"),
        "{text}"
    );
    let otto_quote = laptop.json(&["quote", "show", &for_otto]);
    assert_eq!(otto_quote["customer"]["contact_id"], Value::Null);
}

/// A customer who has Kontor answers with `kontor quote answer`: a reply that reads
/// naturally in any client, which the freelancer's Kontor counts like any other answer.
#[test]
fn a_customer_with_kontor_answers_by_a_reply_anyone_can_read() {
    let (hs, ben, laptop) = freelancer(DETAILS);
    let ben_device = Device::new();
    ben_device.login(&hs, &ben);
    ben_device.json(&["sync"]);
    let q = laptop.file("q.toml", QUOTE_1);
    let sent = laptop.json(&["quote", "new", &q, "--to", &ben.user_id, "--send"]);
    let number = sent["number"].as_str().unwrap().to_owned();
    let room = sent["sent"]["room_id"].as_str().unwrap().to_owned();
    let anna = sent["sent"]["sender"].as_str().unwrap().to_owned();

    eventually("the invite", || {
        let list = ben_device.json(&["invites"]);
        list.as_array()?
            .iter()
            .any(|i| i["room_id"] == room.as_str())
            .then_some(())
    });
    ben_device.json(&["invites", "accept", &room]);
    let event = eventually("the quote in ben's chat", || {
        let msgs = ben_device.json(&["messages", &anna]);
        msgs.as_array()?.iter().find_map(|m| {
            (m["body"]["extra"]["eu.kontor.quote"]["number"] == number.as_str())
                .then(|| m["event_id"].as_str().unwrap().to_owned())
        })
    });
    let answered = ben_device.json(&["quote", "answer", &anna, &event, "decline", "--lang", "de"]);
    assert_eq!(answered["number"], number.as_str());

    let shown = status_becomes(&laptop, &number, "declined");
    assert_eq!(shown["answers"][0]["by"], ben.user_id.as_str());
    // What Element shows the freelancer: a plain reply in words.
    let msgs = laptop.json(&["messages", &ben.user_id]);
    let reply = msgs
        .as_array()
        .unwrap()
        .iter()
        .find_map(|m| m["body"]["text"].as_str().map(str::to_owned))
        .expect("the reply");
    assert_eq!(reply, format!("Abgelehnt: Angebot {number}"));
}
