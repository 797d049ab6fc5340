//! Device verification and the recovery key, against a real Synapse. anna runs the app
//! on one device and kontor-core on a second one. From the settings screen she verifies
//! the second device: the dialog shows the same seven emojis (with names) as the other
//! side, "They match" on both ends completes it, and both devices then count each other
//! as verified. Then she sets up a recovery key and sees it once.

mod ui_support;

use std::time::Duration;

use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Language, Prefs, RecoveryState, SasState, Screen, Session};
use kontor_core::{KdfParams, Kontor, Profile};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};
use ui_support::*;

const FAST: KdfParams = KdfParams {
    m_kib: 64,
    t: 1,
    p: 1,
};

#[test]
fn verify_a_second_device_and_set_up_recovery() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let url = hs.base_url.clone();
    let h = Harness::new();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    // Phone width, and tall enough that the whole settings screen is in view: the
    // element lookup finds only what is not scrolled out of sight.
    app.window
        .window()
        .set_size(slint::LogicalSize::new(360.0, 2000.0));

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, "anna passphrase").await;
        let first_device = wait_for("device id", 10, || {
            app.window.global::<Prefs>().invoke_open();
            let d = app.window.global::<Prefs>().get_device_id();
            (!d.is_empty()).then(|| d.to_string())
        })
        .await;
        assert_eq!(
            app.window.global::<Session>().get_screen(),
            Screen::Settings
        );
        app.window.global::<Prefs>().invoke_back();

        // anna's second device, logged in with kontor-core and syncing.
        let dir2 = tempfile::tempdir().expect("dir");
        let (d, u, user, pw) = (
            dir2.path().join("profile"),
            url.clone(),
            anna.user_id.clone(),
            anna.password.clone(),
        );
        let second = on_tokio(&h.rt, async move {
            let profile = Profile::open_with(&d, "pass 2", FAST).expect("profile");
            let k = Kontor::login(profile, &u, &user, &pw).await.expect("login");
            k.sync_once().await.expect("sync");
            k.start_sync();
            k
        })
        .await;
        let second_id = second.device_id();

        // The settings list the second device, not yet verified.
        press(&app, "Settings").await;
        let p = app.window.global::<Prefs>();
        let verified_before = wait_for("the second device", 60, || {
            let found = p
                .get_devices()
                .iter()
                .find(|d| d.id == second_id.as_str())
                .map(|d| d.verified);
            if found.is_none() && !p.get_devices_loading() {
                p.invoke_refresh_devices();
            }
            found
        })
        .await;
        assert!(!verified_before, "not verified yet");

        // The second device waits for the request and reports its emojis.
        let (tx_emojis, rx_emojis) = tokio::sync::oneshot::channel();
        let (tx_go, rx_go) = tokio::sync::oneshot::channel::<()>();
        let (k2, me) = (second.clone(), anna.user_id.clone());
        let other_side = h.rt.spawn(async move {
            let v = k2
                .accept_verification(Some(&me), Duration::from_secs(90))
                .await
                .expect("accept");
            let emojis = v.emojis(Duration::from_secs(60)).await.expect("emojis");
            let _ = tx_emojis.send(emojis);
            rx_go.await.expect("go");
            v.confirm(Duration::from_secs(60)).await.expect("confirm");
        });

        let verify = wait_for("the verify button", 10, || {
            find(&app, "Verify", AccessibleRole::Button)
                .into_iter()
                .find(|b| b.accessible_description().as_deref() == Some(second_id.as_str()))
        })
        .await;
        verify.invoke_accessible_default_action();
        wait_for("the emojis", 90, || {
            assert_ne!(
                p.get_sas_state(),
                SasState::Failed,
                "{}",
                p.get_sas_detail()
            );
            (p.get_sas_state() == SasState::Compare).then_some(())
        })
        .await;
        let theirs = rx_emojis.await.expect("their emojis");
        let ours = kontor::ui::settings::emojis(&app.window);
        assert_eq!(ours.len(), 7);
        let theirs: Vec<(String, String)> = theirs
            .into_iter()
            .map(|e| (e.symbol, e.description))
            .collect();
        assert_eq!(
            ours, theirs,
            "both sides show the same emojis in the same order"
        );
        for (_, name) in &ours {
            assert!(shows_text(&app, name), "the name {name:?} is shown");
        }

        press(&app, "They match").await;
        let _ = tx_go.send(());
        wait_for("verified", 60, || {
            assert_ne!(
                p.get_sas_state(),
                SasState::Failed,
                "{}",
                p.get_sas_detail()
            );
            (p.get_sas_state() == SasState::Verified).then_some(())
        })
        .await;
        assert!(shows_text(&app, "Verified: this device can be trusted."));
        other_side.await.expect("other side");
        let (k2, me, dev1) = (second.clone(), anna.user_id.clone(), first_device.clone());
        assert!(
            on_tokio(
                &h.rt,
                async move { k2.is_device_verified(&me, &dev1).await }
            )
            .await
            .expect("is verified"),
            "the second device trusts the app's device"
        );
        press(&app, "Close").await;
        wait_for("the device marked verified", 30, || {
            p.get_devices()
                .iter()
                .any(|d| d.id == second_id.as_str() && d.verified)
                .then_some(())
        })
        .await;

        // Recovery: the key is shown once, then gone.
        press(&app, "Set up recovery key").await;
        wait_for("the recovery key", 90, || {
            assert_ne!(
                p.get_recovery_state(),
                RecoveryState::Failed,
                "{}",
                p.get_recovery_detail()
            );
            (p.get_recovery_state() == RecoveryState::Shown).then_some(())
        })
        .await;
        let key = p.get_recovery_key().to_string();
        assert!(
            key.split_whitespace().count() >= 8,
            "a recovery key: {key:?}"
        );
        let field = one(&app, "Recovery key", AccessibleRole::TextInput).await;
        assert_eq!(field.accessible_value().as_deref(), Some(key.as_str()));
        press(&app, "I have saved it").await;
        assert_eq!(p.get_recovery_key(), "");

        on_tokio(&h.rt, async move { second.shutdown().await }).await;
        app.shutdown().await;
    });
    drop(hs);
}
