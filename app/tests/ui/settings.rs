//! The settings screen keeps its choices across restarts: language (including "System",
//! which follows LANG), contact discovery, identity server, notification content and the
//! idle time are saved in `<data-dir>/settings.json` (0600) and come back in a new
//! window; a damaged file gives the defaults and a visible warning. No homeserver
//! needed: the settings are the user's, not the account's.

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{App, Config, Prefs, Screen, Session};
use slint::ComponentHandle;

/// The app as the binary builds it: no language given, so the saved choice decides.
fn start(h: &Harness) -> App {
    let app = App::new(
        Config {
            data_dir: h.dir.path().to_owned(),
            insecure_fast_kdf: true,
            language: None,
            download_dir: None,
            desktop_bus: kontor::ui::DesktopBus::Off,
        },
        h.rt.handle().clone(),
    )
    .expect("app");
    // Phone width; taller than a phone, because the helpers find only what is inside the
    // window and the settings page is longer than 800 px (the idle-lock choices sit
    // below the business section). Scrolling is not what this story is about.
    app.window
        .window()
        .set_size(slint::LogicalSize::new(360.0, 1000.0));
    app.window.show().expect("show");
    app
}

/// Ticks the check box labelled `label` (its default action toggles it).
async fn toggle(app: &App, label: &str) {
    one(app, label, AccessibleRole::Checkbox)
        .await
        .invoke_accessible_default_action();
}

#[allow(unsafe_code)]
pub fn settings_persist_across_restarts() {
    // The "system" language is German here. Set before anything else runs: this story
    // runs alone in its process (see main.rs), so no other thread reads the environment.
    unsafe {
        std::env::remove_var("LC_ALL");
        std::env::remove_var("LC_MESSAGES");
        std::env::set_var("LANG", "de_DE.UTF-8");
    }
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    run_story(async move {
        let file = h.dir.path().join("settings.json");
        let app = start(&h);
        let s = app.window.global::<Session>();
        let p = app.window.global::<Prefs>();
        // No file: the defaults, "System" → German from LANG.
        wait_for("German from LANG", 10, || {
            (s.get_language() == "de").then_some(())
        })
        .await;
        assert_eq!(p.get_language_choice(), "system");
        assert!(p.get_discovery_enabled());
        assert!(!p.get_notification_content(), "content is off by default");
        assert_eq!(p.get_idle_minutes(), 5);
        assert!(
            !file.exists(),
            "nothing written before the user changes something"
        );

        // Change everything on the screen itself.
        s.set_screen(Screen::Settings);
        press(&app, "English").await;
        wait_for("English", 5, || shows_text(&app, "Settings").then_some(())).await;
        assert_eq!(s.get_language(), "en");
        toggle(&app, "Find contacts on Matrix").await;
        toggle(&app, "Show message content").await;
        press(&app, "15 min").await;
        fill(&app, "Identity server", "vector.im").await;
        press(&app, "Save").await;
        wait_for("refusal", 5, || {
            shows_text(
                &app,
                "Enter an address that starts with https:// or http://.",
            )
            .then_some(())
        })
        .await;
        fill(&app, "Identity server", "https://id.example.org/").await;
        press(&app, "Save").await;
        wait_for("saved", 5, || shows_text(&app, "Saved.").then_some(())).await;
        assert!(!p.get_discovery_enabled());
        assert!(p.get_notification_content());
        assert_eq!(p.get_idle_minutes(), 15);
        wait_for("the file", 10, || {
            let text = std::fs::read_to_string(&file).ok()?;
            text.contains("\"idle_lock_minutes\": 15").then_some(())
        })
        .await;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "settings readable only by the user");
        }
        assert_eq!(
            app.discovery_server(),
            None,
            "discovery off: no server for it"
        );
        drop(app);

        // Restart: everything is back.
        let app = start(&h);
        let s = app.window.global::<Session>();
        let p = app.window.global::<Prefs>();
        wait_for("saved settings", 10, || {
            (p.get_language_choice() == "en").then_some(())
        })
        .await;
        assert_eq!(s.get_language(), "en", "saved English wins over LANG");
        assert!(!p.get_discovery_enabled());
        assert!(p.get_notification_content());
        assert_eq!(p.get_idle_minutes(), 15);
        assert_eq!(p.get_identity_server(), "https://id.example.org");
        assert!(!p.get_damaged());

        // "System" follows LANG again, now and after the next restart.
        s.set_screen(Screen::Settings);
        press(&app, "System").await;
        wait_for("German", 5, || {
            shows_text(&app, "Einstellungen").then_some(())
        })
        .await;
        toggle(&app, "Kontakte auf Matrix finden").await;
        wait_for("the file", 10, || {
            let text = std::fs::read_to_string(&file).ok()?;
            (text.contains("\"system\"") && text.contains("\"discovery\": true")).then_some(())
        })
        .await;
        drop(app);
        let app = start(&h);
        let s = app.window.global::<Session>();
        let p = app.window.global::<Prefs>();
        // The saved settings load off the UI thread: wait for them, not for defaults.
        wait_for("German from LANG and the saved settings", 10, || {
            (s.get_language() == "de"
                && p.get_discovery_enabled()
                && app.discovery_server().is_some())
            .then_some(())
        })
        .await;
        assert_eq!(p.get_language_choice(), "system");
        assert_eq!(
            app.discovery_server().as_deref(),
            Some("https://id.example.org")
        );
        drop(app);

        // A damaged file: defaults and a warning, no crash.
        std::fs::write(&file, b"{\"language\": \"de\", \"discovery\": ").unwrap();
        let app = start(&h);
        let s = app.window.global::<Session>();
        let p = app.window.global::<Prefs>();
        wait_for("the warning", 10, || p.get_damaged().then_some(())).await;
        assert_eq!(p.get_idle_minutes(), 5);
        assert!(!p.get_notification_content());
        s.set_screen(Screen::Settings);
        wait_for("the warning text", 5, || {
            shows_text(
                &app,
                "Die gespeicherten Einstellungen waren nicht lesbar; es gelten die Voreinstellungen, bis Sie etwas ändern.",
            )
            .then_some(())
        })
        .await;
    });
}
