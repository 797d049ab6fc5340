//! The language switches at run time, without a restart: the onboarding screen shows
//! English, then German after pressing "Deutsch", then English again. No homeserver
//! needed: the first screen of a fresh data directory is onboarding.

use crate::support::*;
use kontor::ui::{Language, Screen, Session};
use slint::ComponentHandle;

pub fn language_switches_at_run_time() {
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    run_story(async move {
        wait_for("onboarding", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Onboarding).then_some(())
        })
        .await;
        assert!(shows_text(&app, "Welcome to Kontor"));
        assert!(!shows_text(&app, "Willkommen bei Kontor"));

        press(&app, "Deutsch").await;
        wait_for("German text", 5, || {
            shows_text(&app, "Willkommen bei Kontor").then_some(())
        })
        .await;
        assert_eq!(app.window.global::<Session>().get_language(), "de");
        // Field labels and buttons follow, and the typed text stays.
        fill(&app, "Benutzername", "anna").await;
        assert!(
            !find(
                &app,
                "Weiter",
                i_slint_backend_testing::AccessibleRole::Button
            )
            .is_empty()
        );

        press(&app, "English").await;
        wait_for("English text", 5, || {
            shows_text(&app, "Welcome to Kontor").then_some(())
        })
        .await;
        let user = one(
            &app,
            "User name",
            i_slint_backend_testing::AccessibleRole::TextInput,
        )
        .await;
        assert_eq!(user.accessible_value().as_deref(), Some("anna"));
    });
}
