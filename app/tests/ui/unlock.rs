//! Later starts ask only for the passphrase: a data directory that already holds a
//! logged-in profile (made here by kontor-core, as `kontor login` does) opens at the
//! unlock screen; a wrong passphrase is refused with a message, the right one opens the
//! chats of that account.

use crate::support::*;
use kontor::ui::{ErrorKind, Language, Screen, Session};
use kontor_testkit::Synapse;
use slint::ComponentHandle;

const PASS: &str = "anna passphrase";

pub fn later_starts_ask_only_for_the_passphrase() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let h = Harness::new();
    {
        let (data, url, user, pw) = (
            h.dir.path().to_owned(),
            hs.base_url.clone(),
            anna.localpart.clone(),
            anna.password.clone(),
        );
        h.rt.block_on(async move {
            let k = login_app_profile(&data, &url, &user, &pw, PASS).await;
            k.shutdown().await;
            std::mem::forget(k);
        });
    }
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::German);
    run_story(async move {
        let s = app.window.global::<Session>();
        wait_for("unlock", 10, || {
            (s.get_screen() == Screen::Unlock).then_some(())
        })
        .await;
        assert!(shows_text(&app, "Kontor entsperren"));

        fill(&app, "Passphrase", "falsch").await;
        press(&app, "Entsperren").await;
        wait_for("refusal", 20, || {
            shows_text(&app, "Falsche Passphrase.").then_some(())
        })
        .await;
        assert_eq!(s.get_error(), ErrorKind::WrongPassphrase);
        assert_eq!(s.get_screen(), Screen::Unlock);

        fill(&app, "Passphrase", PASS).await;
        press(&app, "Entsperren").await;
        wait_for("the chat list", 30, || {
            (s.get_screen() == Screen::Chats).then_some(())
        })
        .await;
        assert_eq!(s.get_user_id(), anna.user_id);
        assert_eq!(s.get_error(), ErrorKind::None);
        // The contact book beside the profile opened with the same passphrase.
        assert!(app.window.global::<kontor::ui::Contacts>().get_available());
        app.shutdown().await;
    });
    drop(hs);
}
