//! Device verification and the recovery key, against a real Synapse. anna runs the app
//! on one device and kontor-core on a second one. From the settings screen she verifies
//! the second device: the dialog shows the same seven emojis (with names) as the other
//! side, "They match" on both ends completes it, and both devices then count each other
//! as verified. Then she sets up a recovery key and sees it once.
//!
//! Then a third device of hers asks to verify the app's device while she is on the chat
//! list: a prompt names that device. She declines, and the third device sees the
//! cancellation. It asks again and the app locks: the prompt is gone (also after
//! unlocking) and the request declined. It asks once more, she accepts from the prompt,
//! both sides show the same seven emojis and the verification completes.

use std::{sync::Arc, time::Duration};

use crate::support::*;
use i_slint_backend_testing::AccessibleRole;
use kontor::ui::{Language, Prefs, RecoveryState, SasState, Screen, Session, VerifyPrompt};
use kontor_core::Kontor;
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

pub fn verify_a_second_device_and_set_up_recovery() {
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
        let second = login_device(&h, &url, &anna.user_id, &anna.password).await;
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
        wait_sas(&p, SasState::Compare, "the emojis", 90).await;
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
        wait_sas(&p, SasState::Verified, "verified", 60).await;
        assert!(shows_text(&app, "Verified: this device can be trusted."));
        other_side.await.expect("other side");
        assert!(
            trusts(&h, &second, &anna.user_id, &first_device).await,
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
                "{:?}",
                p.get_recovery_error()
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

        // A third device asks; the prompt shows on the chat list.
        p.invoke_back();
        let s = app.window.global::<Session>();
        assert_eq!(s.get_screen(), Screen::Chats);
        let third = login_device(&h, &url, &anna.user_id, &anna.password).await;
        let third_id = third.device_id();
        let prompt = app.window.global::<VerifyPrompt>();
        let ask = |k: std::sync::Arc<Kontor>| {
            let (me, dev) = (anna.user_id.clone(), first_device.clone());
            h.rt.spawn(async move {
                k.request_verification(&me, Some(&dev), Duration::from_secs(90))
                    .await
            })
        };

        // Declined: the third device is told, the prompt goes.
        let asking = ask(third.clone());
        wait_for("the prompt", 60, || {
            (prompt.get_visible() && prompt.get_device_id() == third_id.as_str()).then_some(())
        })
        .await;
        assert!(
            shows_text(
                &app,
                &format!("Your device “Kontor” ({third_id}) asks to verify this device.")
            ),
            "the prompt names the device"
        );
        assert_eq!(s.get_screen(), Screen::Chats, "shown over the chat list");
        prompt_button(&app, "Decline", &third_id).await;
        assert!(!prompt.get_visible());
        let refused = asking
            .await
            .expect("request task")
            .expect_err("the request was declined");
        assert!(
            refused.to_string().contains("cancelled"),
            "the other side sees a cancellation, not a timeout: {refused}"
        );
        assert_eq!(p.get_sas_state(), SasState::Idle, "no comparison started");

        // Locking removes the prompt and declines the request; unlocking does not bring
        // it back.
        let pending = ask(third.clone());
        wait_for("the prompt again", 60, || {
            (prompt.get_visible() && prompt.get_device_id() == third_id.as_str()).then_some(())
        })
        .await;
        app.lock();
        assert!(!prompt.get_visible(), "the lock removes the prompt");
        assert_eq!(prompt.get_device_id(), "");
        assert!(find(&app, "Verification request", AccessibleRole::Text).is_empty());
        fill(&app, "Passphrase", "anna passphrase").await;
        press(&app, "Unlock").await;
        wait_for("unlocked", 30, || {
            (s.get_screen() == Screen::Chats).then_some(())
        })
        .await;
        assert!(!prompt.get_visible(), "unlocking does not bring it back");
        let refused = pending
            .await
            .expect("request task")
            .expect_err("the lock declined the request");
        assert!(refused.to_string().contains("cancelled"), "{refused}");

        // Accepted from the prompt: the emojis match and the device is verified.
        let (tx_emojis, rx_emojis) = tokio::sync::oneshot::channel();
        let (tx_go, rx_go) = tokio::sync::oneshot::channel::<()>();
        let asking = ask(third.clone());
        let other_side = h.rt.spawn(async move {
            let v = asking.await.expect("task").expect("request accepted");
            let emojis = v.emojis(Duration::from_secs(60)).await.expect("emojis");
            let _ = tx_emojis.send(emojis);
            rx_go.await.expect("go");
            v.confirm(Duration::from_secs(60)).await.expect("confirm");
        });
        wait_for("the second prompt", 60, || {
            (prompt.get_visible() && prompt.get_device_id() == third_id.as_str()).then_some(())
        })
        .await;
        prompt_button(&app, "Accept", &third_id).await;
        wait_sas(&p, SasState::Compare, "the emojis of the third device", 90).await;
        assert_eq!(p.get_sas_device(), third_id.as_str());
        let theirs: Vec<(String, String)> = rx_emojis
            .await
            .expect("their emojis")
            .into_iter()
            .map(|e| (e.symbol, e.description))
            .collect();
        let ours = kontor::ui::settings::emojis(&app.window);
        assert_eq!(ours.len(), 7);
        assert_eq!(ours, theirs, "the same emojis in the same order");
        press(&app, "They match").await;
        let _ = tx_go.send(());
        wait_sas(&p, SasState::Verified, "verified", 60).await;
        other_side.await.expect("other side");
        assert!(
            trusts(&h, &third, &anna.user_id, &first_device).await,
            "the third device trusts the app's device"
        );
        press(&app, "Close").await;
        assert_eq!(s.get_screen(), Screen::Chats);

        on_tokio(&h.rt, async move { third.shutdown().await }).await;
        on_tokio(&h.rt, async move { second.shutdown().await }).await;
        app.shutdown().await;
    });
    drop(hs);
}

/// Another device of the account, logged in with kontor-core and syncing.
async fn login_device(h: &Harness, url: &str, user: &str, password: &str) -> Arc<Kontor> {
    let k = h
        .spawn_login(url, user, password)
        .await
        .expect("login task");
    on_tokio(&h.rt, async move {
        k.sync_once().await.expect("sync");
        k.start_sync();
        k
    })
    .await
}

/// Presses the prompt's button `label` for the device `device` (the chat list may show
/// an invitation's buttons with the same text).
async fn prompt_button(app: &kontor::ui::App, label: &str, device: &str) {
    let button = wait_for(&format!("prompt button {label:?}"), 10, || {
        find(app, label, AccessibleRole::Button)
            .into_iter()
            .find(|b| {
                b.accessible_description().as_deref() == Some(device)
                    && b.accessible_enabled() != Some(false)
            })
    })
    .await;
    button.invoke_accessible_default_action();
}

/// Waits until the comparison dialog reaches `state`; a failed verification ends the
/// test with its reason.
async fn wait_sas(p: &Prefs<'_>, state: SasState, what: &str, secs: u64) {
    wait_for(what, secs, || {
        assert_ne!(
            p.get_sas_state(),
            SasState::Failed,
            "{:?}",
            p.get_sas_error()
        );
        (p.get_sas_state() == state).then_some(())
    })
    .await;
}

/// Whether the device `k` counts `user`'s device `device` as verified within 10 s. The
/// SAS flow reports "done" before the crypto store has saved the new trust (seen once in
/// a full run: false right after `confirm` returned), so this asks again for a while.
async fn trusts(h: &Harness, k: &Arc<Kontor>, user: &str, device: &str) -> bool {
    let (k, user, device) = (k.clone(), user.to_owned(), device.to_owned());
    on_tokio(&h.rt, async move {
        for _ in 0..50 {
            if k.is_device_verified(&user, &device)
                .await
                .expect("is verified")
            {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        false
    })
    .await
}
