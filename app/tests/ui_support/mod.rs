//! Shared by the headless UI tests (`ui_*.rs`): the testing backend with a real event
//! loop, async waiting on the UI thread, and element lookup by accessible label.
//!
//! Slint's testing backend with an event loop can be set up once per process, so each
//! `ui_*.rs` file holds one `#[test]` that drives a whole story: the test body runs as a
//! future on the UI thread (`slint::spawn_local`), so the controller's
//! `upgrade_in_event_loop` calls are processed between its steps, exactly as in the app.
#![allow(dead_code)]

use std::{
    future::Future,
    time::{Duration, Instant},
};

use i_slint_backend_testing::{AccessibleRole, ElementHandle};
use kontor::ui::{App, Config, Language};
use slint::ComponentHandle;

/// A fresh data directory and the tokio runtime the app's controller uses.
pub struct Harness {
    pub dir: tempfile::TempDir,
    pub rt: tokio::runtime::Runtime,
}

impl Harness {
    pub fn new() -> Harness {
        Harness {
            dir: tempfile::tempdir().expect("temp dir"),
            rt: tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime"),
        }
    }

    /// Builds the app in `language`, with cheap key derivation for new profiles.
    pub fn app(&self, language: Language) -> App {
        let app = App::new(
            Config {
                data_dir: self.dir.path().to_owned(),
                insecure_fast_kdf: true,
                language: Some(language),
                download_dir: Some(self.dir.path().join("downloads")),
            },
            self.rt.handle().clone(),
        )
        .expect("app");
        // Phone width: every test runs at the narrowest size Kontor supports.
        app.window
            .window()
            .set_size(slint::LogicalSize::new(360.0, 800.0));
        app.window.show().expect("show");
        app
    }
}

/// Runs `story` on the UI thread's event loop until it finishes; its panics fail the test.
pub fn run_story(story: impl Future<Output = ()> + 'static) {
    slint::spawn_local(async move {
        story.await;
        slint::quit_event_loop().expect("quit");
    })
    .expect("spawn story");
    slint::run_event_loop_until_quit().expect("event loop");
}

/// Sleeps without blocking the UI thread.
pub async fn sleep(d: Duration) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    slint::Timer::single_shot(d, move || {
        let _ = tx.send(());
    });
    let _ = rx.await;
}

/// Polls `probe` every 50 ms until it returns something; panics after `secs`.
pub async fn wait_for<T>(what: &str, secs: u64, mut probe: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(v) = probe() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {secs} s waiting for {what}"
        );
        sleep(Duration::from_millis(50)).await;
    }
}

/// The visible elements with this accessible label and role.
pub fn find(app: &App, label: &str, role: AccessibleRole) -> Vec<ElementHandle> {
    ElementHandle::find_by_accessible_label(&app.window, label)
        .filter(|e| e.accessible_role() == Some(role))
        .collect()
}

/// The one element with this label and role, waiting up to 10 s for it to appear.
pub async fn one(app: &App, label: &str, role: AccessibleRole) -> ElementHandle {
    wait_for(&format!("{role:?} {label:?}"), 10, || {
        find(app, label, role).into_iter().next()
    })
    .await
}

/// Types into the text field labelled `label`.
pub async fn fill(app: &App, label: &str, value: &str) {
    one(app, label, AccessibleRole::TextInput)
        .await
        .set_accessible_value(value);
}

/// Presses the button labelled `label` once it is enabled.
pub async fn press(app: &App, label: &str) {
    let button = wait_for(&format!("enabled button {label:?}"), 10, || {
        find(app, label, AccessibleRole::Button)
            .into_iter()
            .find(|b| b.accessible_enabled() != Some(false))
    })
    .await;
    button.invoke_accessible_default_action();
}

/// True when a text with exactly this content is shown.
pub fn shows_text(app: &App, text: &str) -> bool {
    !find(app, text, AccessibleRole::Text).is_empty()
}

/// Runs `f` on the tokio runtime and waits for it without blocking the UI thread.
pub async fn on_tokio<T: Send + 'static>(
    rt: &tokio::runtime::Runtime,
    f: impl Future<Output = T> + Send + 'static,
) -> T {
    rt.spawn(f).await.expect("tokio task")
}

/// Goes through onboarding (account, then passphrase) and waits for the chat list.
pub async fn onboard(app: &App, homeserver: &str, user: &str, password: &str, passphrase: &str) {
    use kontor::ui::{Screen, Session};
    wait_for("onboarding", 10, || {
        (app.window.global::<Session>().get_screen() == Screen::Onboarding).then_some(())
    })
    .await;
    fill(app, "Homeserver", homeserver).await;
    fill(app, "User name", user).await;
    fill(app, "Password", password).await;
    press(app, "Next").await;
    fill(app, "Passphrase", passphrase).await;
    fill(app, "Repeat passphrase", passphrase).await;
    press(app, "Log in").await;
    wait_for("the chat list", 60, || {
        (app.window.global::<Session>().get_screen() == Screen::Chats).then_some(())
    })
    .await;
}
