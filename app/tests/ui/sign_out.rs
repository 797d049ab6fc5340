//! Signing out while a quote uploads: the sign-out waits for nothing (the service
//! cancels the upload, which holds the account), the profile is gone, and after logging
//! in again the next quote can be sent — the cancelled upload left no state behind (no
//! progress bar, no "one upload at a time" lock).

use crate::support::*;
use kontor::ui::{Conversation, Language, MessageKind, Prefs, Screen, Session};
use kontor_testkit::Synapse;
use slint::{ComponentHandle, Model};

const PASS: &str = "anna passphrase";

async fn open_chat(app: &kontor::ui::App, user: &str) {
    fill(app, "Matrix ID", user).await;
    press(app, "Start chat").await;
    wait_for("the conversation", 30, || {
        (app.window.global::<Session>().get_screen() == Screen::Conversation).then_some(())
    })
    .await;
}

pub fn sign_out_during_an_upload_leaves_nothing_behind() {
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();
    let big = h.dir.path().join("gross.pdf");
    std::fs::write(&big, vec![7u8; 60 * 1024 * 1024]).unwrap();
    let small = h.dir.path().join("klein.pdf");
    std::fs::write(&small, vec![1u8; 20_000]).unwrap();
    i_slint_backend_testing::init_integration_test_with_system_time();
    let app = h.app(Language::English);
    let profile = h.dir.path().join("profile");
    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        open_chat(&app, &ben.user_id).await;
        let conv = app.window.global::<Conversation>();
        conv.invoke_send_file(big.display().to_string().into());
        wait_for("upload progress", 30, || {
            (conv.get_upload_progress() > 0.0).then_some(())
        })
        .await;

        app.window.global::<Prefs>().invoke_sign_out();
        let s = app.window.global::<Session>();
        wait_for("onboarding after the sign-out", 30, || {
            (s.get_screen() == Screen::Onboarding && !s.get_busy()).then_some(())
        })
        .await;
        assert_eq!(
            s.get_error(),
            kontor::ui::ErrorKind::None,
            "signed out cleanly"
        );
        assert!(!profile.exists(), "the profile is deleted");
        wait_for("the upload's state reset", 10, || {
            (conv.get_upload_progress() < 0.0).then_some(())
        })
        .await;

        // Again: the next quote goes out.
        onboard(&app, &url, &anna.user_id, &anna.password, PASS).await;
        open_chat(&app, &ben.user_id).await;
        conv.invoke_send_file(small.display().to_string().into());
        wait_for("the sent quote in the conversation", 60, || {
            conv.get_messages()
                .iter()
                .any(|m| m.kind == MessageKind::File && m.text == "klein.pdf")
                .then_some(())
        })
        .await;
        app.shutdown().await;
    });
    drop(hs);
}
