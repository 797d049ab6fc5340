//! Discovery switched off is a rule of the service, not a hidden button: with the
//! setting off, the contacts view's discover callback raised directly (as a stale
//! screen or a script could) sends not one request to the identity server (the
//! harness's recording proxy counts them), and the user is told discovery is off.

use crate::support::*;
use kontor::ui::{Contacts, ErrorKind, Language, Prefs, Session};
use kontor_contacts::NewContact;
use kontor_testkit::{Sydent, Synapse};
use slint::ComponentHandle;

const PASS: &str = "anna passphrase";

pub fn discovery_off_sends_nothing_and_says_so() {
    let hs = Synapse::start().expect("synapse");
    let is = Sydent::start().expect("sydent");
    let anna = hs.register_unique("anna").expect("anna");
    let h = Harness::new();
    {
        let book = contact_book(&h, PASS);
        book.add(
            NewContact {
                display_name: "Ben Kunde".into(),
                phones: vec!["0151 23456781".into()],
                ..Default::default()
            },
            Some(("Angebote per Chat", None)),
        )
        .expect("ben");
    }
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let url = hs.base_url.clone();
    let server = is.url();
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        let c = app.window.global::<Contacts>();
        wait_for("the contact book", 10, || c.get_available().then_some(())).await;
        // Off in the settings; a server is still chosen for this run.
        app.window.global::<Prefs>().invoke_set_discovery(false);
        app.set_identity_server(Some(server));
        assert_eq!(app.discovery_server(), None);
        is.clear_recorded();

        c.invoke_discover();
        let s = app.window.global::<Session>();
        wait_for("the refusal", 20, || {
            (s.get_error() == ErrorKind::DiscoveryOff && !c.get_discovering()).then_some(())
        })
        .await;
        assert!(shows_text(
            &app,
            "Contact discovery is switched off in the settings. Nothing was sent."
        ));
        // Give a request that should not exist time to arrive, then count.
        sleep(std::time::Duration::from_millis(500)).await;
        assert_eq!(
            is.recorded().len(),
            0,
            "no request reached the identity server"
        );
        assert_eq!(c.get_discovery_found(), -1, "no discovery ran");

        // On again: the same callback does reach the identity server.
        app.window.global::<Prefs>().invoke_set_discovery(true);
        s.set_error(ErrorKind::None);
        c.invoke_discover();
        wait_for("a discovery run", 30, || {
            (!c.get_discovering() && c.get_discovery_found() >= 0).then_some(())
        })
        .await;
        assert!(!is.recorded().is_empty(), "discovery on does ask");
        app.shutdown().await;
    });
    drop(hs);
}
