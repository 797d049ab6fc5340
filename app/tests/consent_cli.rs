//! Consent in the chat end to end on a real Synapse and Sydent: the freelancer drives
//! `kontor consent …` like a script; the customer is a plain matrix-sdk client (as
//! Element would be) that reads the request's raw event and answers with a plain reply,
//! a message and a reaction through the SDK's raw room API — never through Kontor's
//! consent code. Every `kontor` run is a process of its own, so each step is also a
//! restart between the request and the answer.

mod chat_support;

use chat_support::{Customer, Device, assert_absent, eventually};
use kontor_testkit::{Sydent, Synapse};
use matrix_sdk::ruma::{RoomId, UserId};
use serde_json::Value;

/// Ben's number as Sydent has it bound (E.164 digits) and as the freelancer typed it.
const BEN_MSISDN: &str = "4915112345678";
const BEN_PHONE: &str = "0151 12345678";
const PURPOSE: &str = "Terminerinnerungen und Angebote per Chat";

/// `consent status` until `check` accepts it.
fn status_until(device: &Device, id: &str, what: &str, check: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || {
        let s = device.json(&["consent", "status", id]);
        check(&s).then_some(s)
    })
}

/// The content and id of the newest event from `sender` whose content satisfies `f`.
fn find_event(customer: &Customer, room: &str, what: &str, f: impl Fn(&Value) -> bool) -> Value {
    eventually(what, || {
        customer
            .events(room)
            .into_iter()
            .find(|ev| f(&ev["content"]))
    })
}

/// The identity server's lookups since it was last cleared: the hashes asked for.
fn looked_up(is: &Sydent) -> Vec<String> {
    is.recorded()
        .into_iter()
        .filter(|r| r.path.ends_with("/lookup"))
        .flat_map(|r| {
            let body: Value = serde_json::from_slice(&r.body).unwrap();
            body["addresses"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn consent_asked_in_the_chat_is_answered_from_any_client_and_withdrawn_by_stop() {
    let hs = Synapse::start().expect("synapse");
    let is = Sydent::start().expect("sydent");
    let anna = hs.register_unique("anna").unwrap();
    let ben = hs.register_unique("ben").unwrap();
    let carla = hs.register_unique("carla").unwrap();
    is.bind_msisdn(BEN_MSISDN, &ben.user_id).expect("bind ben");
    let laptop = Device::new();
    let phone = Device::new();
    laptop.login(&hs, &anna);
    phone.login(&hs, &anna);
    let customer = Customer::login(&hs, &ben);
    let third = Customer::login(&hs, &carla);

    // Ben is in the private book (no consent); the freelancer knows his Matrix account.
    let added = laptop.json(&[
        "contacts",
        "add",
        "--name",
        "Ben Weiß",
        "--phone",
        BEN_PHONE,
    ]);
    let id = added["id"].as_str().unwrap().to_owned();
    laptop.json(&["contacts", "link", &id, &ben.user_id]);

    // The freelancer's own first paragraph; how to answer and withdraw is always added.
    let intro = laptop.file(
        "intro.txt",
        "Guten Tag! {name} möchte Sie zu „{purpose}“ anschreiben dürfen.",
    );
    let t = laptop.json(&["consent", "template", "--set", &intro]);
    assert_eq!(t["custom"], true, "{t}");

    // A private-book contact is asked only with an explicit confirmation, each time.
    let out = laptop.run(&["consent", "request", &id, "--purpose", PURPOSE], None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("confirmation"));
    let asked = laptop.json(&[
        "consent",
        "request",
        &id,
        "--purpose",
        PURPOSE,
        "--language",
        "de",
        "--confirm",
    ]);
    let room = asked["room_id"].as_str().unwrap().to_owned();
    let request = asked["event_id"].as_str().unwrap().to_owned();
    // One open request per contact.
    let again = laptop.run(&["consent", "request", &id, "--confirm"], None);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("not answered yet"));

    // The customer's client shows an ordinary text that says who asks, for what, how to
    // answer and how to withdraw; Kontor's data rides in the same encrypted event.
    customer.join(&room);
    let ev = find_event(&customer, &room, "the request", |c| {
        c.get("eu.kontor.consent_request").is_some()
    });
    assert_eq!(ev["event_id"], request.as_str());
    let body = ev["content"]["body"].as_str().unwrap();
    assert_eq!(ev["content"]["msgtype"], "m.text");
    for needle in [
        PURPOSE,
        "JA",
        "NEIN",
        "STOP",
        "👍",
        anna.user_id.as_str(),
        "freiwillig",
    ] {
        assert!(body.contains(needle), "{needle:?} missing in {body}");
    }
    assert!(body.contains("Guten Tag! "), "the own intro: {body}");
    assert_eq!(
        ev["content"]["eu.kontor.consent_request"]["purpose"],
        PURPOSE
    );

    // A third member of the chat and the freelancer's own second device say "JA": it
    // does not count.
    let room_id = RoomId::parse(&room).unwrap();
    let carla_id = UserId::parse(&carla.user_id).unwrap();
    let sdk_room = customer.kontor.sdk_client().get_room(&room_id).unwrap();
    customer
        .rt
        .block_on(sdk_room.invite_user_by_id(&carla_id))
        .expect("invite carla");
    third.join(&room);
    third.reply(&room, &request, "JA");
    phone.json(&["send", &ben.user_id, "JA"]);
    let own = find_event(&customer, &room, "the phone's JA", |c| c["body"] == "JA");
    assert_eq!(own["sender"], anna.user_id.as_str());
    let s = laptop.json(&["consent", "status", &id]);
    assert_eq!(s["status"], "none", "{s}");
    assert_eq!(s["book"], "private", "{s}");
    assert_eq!(s["open_request"]["event_id"], request.as_str(), "{s}");

    // Ben answers with a plain reply: granted, in the work book, with the evidence.
    customer.reply(&room, &request, "Ja, gerne");
    let answer = find_event(&customer, &room, "Ben's reply", |c| {
        c["body"] == "Ja, gerne"
    });
    let s = status_until(&laptop, &id, "the consent", |s| s["status"] == "granted");
    assert_eq!(s["book"], "work", "{s}");
    assert_eq!(s["purpose"], PURPOSE);
    assert!(s["open_request"].is_null(), "{s}");
    let evidence = &s["evidence"];
    assert_eq!(evidence["kind"], "chat");
    assert_eq!(evidence["request"]["event_id"], request.as_str());
    assert_eq!(evidence["request"]["text"], body);
    assert_eq!(evidence["request"]["asked_by"], anna.user_id.as_str());
    assert_eq!(evidence["answer"]["event_id"], answer["event_id"]);
    assert_eq!(evidence["answer"]["text"], "Ja, gerne");
    assert_eq!(evidence["answer"]["way"], "reply");
    assert_eq!(evidence["answer"]["sender"], ben.user_id.as_str());
    assert_eq!(
        evidence["answer"]["sender_device"],
        customer.kontor.device_id().as_str(),
        "the device that encrypted the answer"
    );
    assert!(evidence["answer"]["server_at"].is_string());
    assert!(evidence["answer"]["received_at"].is_string());
    // The customer is told, in words.
    find_event(&customer, &room, "the confirmation", |c| {
        c["body"]
            .as_str()
            .is_some_and(|b| b.contains("Einwilligung") && b.contains("STOP"))
    });

    // In the work book, discovery may look Ben's number up now.
    is.clear_recorded();
    let found = laptop.json(&["contacts", "discover", "--identity-server", &is.url()]);
    assert_eq!(found["found"], 1, "{found}");
    let ben_hashes = looked_up(&is);
    assert_eq!(ben_hashes.len(), 1, "one hash: Ben's number");

    // "STOP" withdraws: back in the private book, recorded, confirmed, and the identity
    // server never hears of Ben's number again.
    customer.say(&room, "STOP");
    let s = status_until(&laptop, &id, "the withdrawal", |s| {
        s["status"] == "withdrawn"
    });
    assert_eq!(s["book"], "private", "{s}");
    assert_eq!(s["chat_id"], ben.user_id.as_str(), "the chat goes on");
    assert!(s["matrix_id"].is_null(), "{s}");
    assert_eq!(s["evidence"]["answer"]["text"], "STOP");
    assert!(s["evidence"]["request"].is_null());
    find_event(&customer, &room, "the withdrawal's confirmation", |c| {
        c["body"]
            .as_str()
            .is_some_and(|b| b.contains("Widerruf ist erfasst"))
    });
    is.clear_recorded();
    laptop.run(
        &["contacts", "discover", "--identity-server", &is.url()],
        None,
    );
    let later = looked_up(&is);
    assert!(
        later.iter().all(|h| !ben_hashes.contains(h)),
        "Ben's number was looked up after the withdrawal: {later:?}"
    );

    // Asked again (in English), Ben answers with a 👍 reaction: granted again.
    let asked = laptop.json(&[
        "consent",
        "request",
        &ben.user_id,
        "--language",
        "en",
        "--confirm",
    ]);
    let second = asked["event_id"].as_str().unwrap().to_owned();
    let ev = find_event(&customer, &room, "the English request", |c| {
        c["eu.kontor.consent_request"]["language"] == "en"
    });
    assert!(ev["content"]["body"].as_str().unwrap().contains("YES"));
    customer.react(&room, &second, "👍");
    let s = status_until(&laptop, &id, "the reaction's consent", |s| {
        s["status"] == "granted"
    });
    assert_eq!(s["evidence"]["answer"]["way"], "reaction");
    assert_eq!(s["evidence"]["answer"]["text"], "👍");
    assert_eq!(s["evidence"]["request"]["event_id"], second.as_str());
    let history = laptop.json(&["contacts", "show", &id]);
    let statuses: Vec<&str> = history["consent"]["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        statuses,
        ["none", "granted", "withdrawn", "granted"],
        "{history}"
    );

    // The proof holds both sides of the exchange.
    let proof = laptop.dir.path().join("proof.json");
    laptop.json(&["contacts", "proof", &id, "--out", proof.to_str().unwrap()]);
    let proof = std::fs::read_to_string(&proof).unwrap();
    for needle in [
        request.as_str(),
        second.as_str(),
        "Ja, gerne",
        "STOP",
        PURPOSE,
    ] {
        assert!(proof.contains(needle), "{needle:?} not in the proof");
    }

    // The homeserver stored neither the request nor the answers in plaintext.
    assert_absent(hs.dir(), &[PURPOSE, "Ja, gerne", "Einwilligung"]);
}

/// Someone who writes first becomes a private contact ("wrote first via chat"), never a
/// discovery candidate; asked in that chat, they answer with Kontor's buttons' reply
/// (here the CLI's), which reads naturally in any client; "no" is recorded and nothing
/// moves, "yes" after a new request grants.
#[test]
fn someone_who_writes_first_is_a_private_contact_and_answers_with_kontor() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").unwrap();
    let ben = hs.register_unique("ben").unwrap();
    let freelancer = Device::new();
    let customer = Device::new();
    freelancer.login(&hs, &anna);
    customer.login(&hs, &ben);
    // The book exists (with someone else) before Ben writes.
    freelancer.json(&["contacts", "add", "--name", "Otto Offline"]);
    customer.json(&["send", &anna.user_id, "Guten Tag, ich brauche ein Angebot."]);
    let s = eventually("Ben as a contact", || {
        let all = freelancer.json(&["consent", "status"]);
        all.as_array()?
            .iter()
            .find(|c| c["chat_id"] == ben.user_id.as_str())
            .cloned()
    });
    assert_eq!(s["book"], "private", "{s}");
    assert_eq!(s["status"], "none");
    assert_eq!(s["source"]["kind"], "wrote_first", "{s}");
    let id = s["id"].as_str().unwrap().to_owned();
    let invites = freelancer.json(&["invites"]);
    let room = invites[0]["room_id"].as_str().unwrap().to_owned();
    freelancer.json(&["invites", "accept", &room]);
    let asked = freelancer.json(&["consent", "request", &ben.user_id, "--confirm"]);
    assert_eq!(
        asked["room_id"],
        room.as_str(),
        "asked in the chat Ben opened"
    );
    assert_eq!(asked["contact"], id.as_str());

    // Nobody has asked the freelancer anything: the customer's side says so.
    let out = freelancer.run(&["consent", "answer", &ben.user_id, "yes"], None);
    assert!(!out.status.success());

    let answered = eventually("the request at the customer", || {
        let out = customer.run(&["--json", "consent", "answer", &anna.user_id, "no"], None);
        out.status
            .success()
            .then(|| serde_json::from_slice::<Value>(&out.stdout).unwrap())
    });
    assert_eq!(answered["text"], "NEIN, ich willige nicht ein.");
    assert_eq!(answered["request"], asked["event_id"]);
    let s = status_until(&freelancer, &id, "the decline", |s| {
        s["open_request"].is_null()
    });
    assert_eq!(s["status"], "none", "{s}");
    assert_eq!(s["book"], "private");
    assert_eq!(s["evidence"]["answer"]["way"], "reply");
    assert_eq!(
        s["evidence"]["answer"]["text"],
        "NEIN, ich willige nicht ein."
    );

    // Answered: a new request may go out at once; this time in English, and yes.
    let again = freelancer.json(&["consent", "request", &id, "--confirm", "--language", "en"]);
    let answered = eventually("the second request at the customer", || {
        let out = customer.run(&["--json", "consent", "answer", &anna.user_id, "yes"], None);
        let v: Value = serde_json::from_slice(&out.stdout).ok()?;
        (v["request"] == again["event_id"]).then_some(v)
    });
    assert_eq!(answered["text"], "YES, I consent.");
    let s = status_until(&freelancer, &id, "the consent", |s| {
        s["status"] == "granted"
    });
    assert_eq!(s["book"], "work");
    assert_eq!(s["evidence"]["request"]["language"], "en");

    // Erasing Ben does not remove the chat silently: it is kept, and said so.
    let erased = freelancer.json(&["contacts", "erase", &id, "--yes"]);
    assert_eq!(erased["chat_kept"], ben.user_id.as_str(), "{erased}");
    let chats = freelancer.json(&["messages", &ben.user_id]);
    assert!(
        !chats.as_array().unwrap().is_empty(),
        "the chat is still there"
    );
}
