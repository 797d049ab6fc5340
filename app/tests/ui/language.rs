//! The language switches at run time, without a restart: the onboarding screen shows
//! English, then German after pressing "Deutsch", then English again. No homeserver
//! needed: the first screen of a fresh data directory is onboarding.

use crate::support::*;
use kontor::ui::{ErrorKind, Language, Screen, Session};
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

/// Every error kind the views can be handed reads German in the German UI: its text
/// comes from the catalogue (it differs from the English msgid), the banner shows that
/// one line and nothing else (no English detail under it), and the list of kinds the
/// app knows matches the enum in `globals.slint`.
pub fn every_error_kind_reads_german() {
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::German);
    let kinds = kontor::ui::user_facing::all_kinds();
    let globals =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/globals.slint")).unwrap();
    let declared = globals
        .lines()
        .find(|l| l.starts_with("export enum ErrorKind"))
        .map(|l| l.matches(',').count() + 1)
        .expect("ErrorKind in globals.slint");
    assert_eq!(
        kinds.len(),
        declared,
        "user_facing::all_kinds lists every kind"
    );
    run_story(async move {
        wait_for("onboarding", 10, || {
            (app.window.global::<Session>().get_screen() == Screen::Onboarding).then_some(())
        })
        .await;
        let describe = |k| {
            app.window
                .global::<kontor::ui::ErrorText>()
                .invoke_describe(k)
                .to_string()
        };
        let mut german = Vec::new();
        for &k in &kinds {
            if k == ErrorKind::None {
                continue;
            }
            german.push((k, describe(k)));
        }
        app.window
            .global::<Session>()
            .invoke_set_language("en".into());
        let mut problems = Vec::new();
        for (k, de) in &german {
            let en = describe(*k);
            if de.is_empty() {
                problems.push(format!("{k:?}: no text"));
            } else if de == &en {
                problems.push(format!("{k:?}: {de:?} is the English msgid"));
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
        // Shown in the banner: the German line and nothing English under it.
        app.window
            .global::<Session>()
            .invoke_set_language("de".into());
        for (k, de) in &german {
            app.window.global::<Session>().set_error(*k);
            wait_for("the banner", 5, || shows_text(&app, de).then_some(())).await;
            let en = {
                app.window
                    .global::<Session>()
                    .invoke_set_language("en".into());
                let t = describe(*k);
                app.window
                    .global::<Session>()
                    .invoke_set_language("de".into());
                t
            };
            assert!(
                !shows_text(&app, &en),
                "{k:?}: English shown in the German UI"
            );
        }
        app.shutdown().await;
    });
}
