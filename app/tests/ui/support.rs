//! Shared by the headless UI stories (`ui/*.rs`): the testing backend with a real event
//! loop, async waiting on the UI thread, and element lookup by accessible label.
//!
//! Slint's testing backend with an event loop can be set up once per process, so each
//! story runs in a process of its own (see `main.rs`) and drives a whole scenario: the
//! story's body runs as a future on the UI thread (`slint::spawn_local`), so the
//! controller's `upgrade_in_event_loop` calls are processed between its steps, exactly as
//! in the app.

use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use i_slint_backend_testing::{AccessibleRole, ElementHandle, ElementQuery};
use kontor::ui::{App, Config, DesktopBus, Language};
use kontor_core::{KdfParams, Kontor, Profile};
use slint::{ComponentHandle, Model};

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

    /// Builds the app in `language`, with cheap key derivation for new profiles. Notices
    /// stay in the window, whatever desktop runs the tests.
    pub fn app(&self, language: Language) -> App {
        self.app_on(language, DesktopBus::Off)
    }

    /// [`Harness::app`] with desktop notifications going to `bus`.
    pub fn app_on(&self, language: Language, bus: DesktopBus) -> App {
        let app = App::new(
            Config {
                data_dir: self.dir.path().to_owned(),
                insecure_fast_kdf: true,
                language: Some(language),
                download_dir: Some(self.dir.path().join("downloads")),
                desktop_bus: bus,
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

impl Harness {
    /// Logs in another kontor-core client (a customer, or another device of the same
    /// account) on the runtime, with a profile in its own directory under the harness's.
    pub fn spawn_login(
        &self,
        homeserver: &str,
        user: &str,
        password: &str,
    ) -> tokio::task::JoinHandle<Arc<Kontor>> {
        static N: AtomicU64 = AtomicU64::new(0);
        let dir = self
            .dir
            .path()
            .join(format!("client-{}", N.fetch_add(1, Ordering::Relaxed)))
            .join("profile");
        let (hs, user, pw) = (homeserver.to_owned(), user.to_owned(), password.to_owned());
        self.rt.spawn(async move {
            let profile = Profile::open_with(&dir, "client pass", FAST_KDF).expect("profile");
            Kontor::login(profile, &hs, &user, &pw)
                .await
                .expect("login")
        })
    }
}

/// Logs in the app's own profile (`profile/` in the data directory `data`) with
/// kontor-core, as `kontor login` does, so the app starts at the unlock screen of a
/// signed-in account. The passphrase opens it with the cheap [`FAST_KDF`].
pub async fn login_app_profile(
    data: &std::path::Path,
    homeserver: &str,
    user: &str,
    password: &str,
    passphrase: &str,
) -> Arc<Kontor> {
    let profile = Profile::open_with(data.join("profile"), passphrase, FAST_KDF).expect("profile");
    Kontor::login(profile, homeserver, user, password)
        .await
        .expect("login")
}

/// Cheap key derivation for the profiles of test clients.
pub const FAST_KDF: KdfParams = KdfParams {
    m_kib: 64,
    t: 1,
    p: 1,
};

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

/// `client` opens a direct chat with `user`, the app's account, and the app accepts the
/// invitation. Returns the room id and the chat's name in the list.
pub async fn chat_from(
    h: &Harness,
    app: &App,
    client: &Arc<Kontor>,
    user: &str,
) -> (String, String) {
    use kontor::ui::Chats;
    use slint::Model;
    let (k, user) = (client.clone(), user.to_owned());
    let room = on_tokio(&h.rt, async move {
        k.sync_once().await.expect("client sync");
        k.open_dm(&user).await.expect("dm")
    })
    .await;
    press(app, "Accept").await;
    let chats = app.window.global::<Chats>();
    let name = wait_for("the joined chat", 30, || {
        chats
            .get_chats()
            .iter()
            .find(|c| c.room_id == room.as_str() && !c.invite)
            .map(|c| c.name.to_string())
    })
    .await;
    (room, name)
}

/// The open conversation is `room` (checked), then "Back" returns to the chat list.
pub async fn back_from_chat(app: &App, room: &str) {
    use kontor::ui::{Conversation, Screen, Session};
    let s = app.window.global::<Session>();
    assert_eq!(s.get_screen(), Screen::Conversation);
    assert_eq!(app.window.global::<Conversation>().get_room_id(), room);
    press(app, "Back").await;
    wait_for("the chat list", 5, || {
        (s.get_screen() == Screen::Chats).then_some(())
    })
    .await;
}

/// On tokio: syncs `client` until `user` has joined `room` (so the user's device gets
/// the room key of what the client sends next), for at most `tries` × 200 ms.
pub async fn until_joined(client: &Kontor, room: &str, user: &str, tries: u32) {
    use matrix_sdk::ruma::events::room::member::MembershipState;
    let user = kontor_core::parse_user_id(user).unwrap();
    let room_id = matrix_sdk::ruma::RoomId::parse(room).unwrap();
    for _ in 0..tries {
        client.sync_once().await.expect("client sync");
        let joined = match client.sdk_client().get_room(&room_id) {
            Some(r) => matches!(
                r.get_member_no_sync(&user).await,
                Ok(Some(m)) if *m.membership() == MembershipState::Join
            ),
            None => false,
        };
        if joined {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// On tokio: `client` (a customer's plain client) accepts the invitation to `room` as
/// soon as its sync has it, then syncs once more.
pub async fn accept_when_invited(h: &Harness, client: &Arc<Kontor>, room: &str) {
    let (k, r) = (client.clone(), room.to_owned());
    on_tokio(&h.rt, async move { join_when_invited(&k, &r).await }).await;
}

/// Scrolls the screen's page (wheel events over the middle of the 360 × 800 window), down
/// for `dy` < 0 and up for `dy` > 0, until `visible`: what is outside the window is not
/// found otherwise.
pub async fn scroll_page_until(app: &App, what: &str, dy: f32, mut visible: impl FnMut() -> bool) {
    use slint::platform::WindowEvent;
    wait_for(what, 10, || {
        if visible() {
            return Some(());
        }
        app.window
            .window()
            .dispatch_event(WindowEvent::PointerScrolled {
                position: slint::LogicalPosition::new(180.0, 500.0),
                delta_x: 0.0,
                delta_y: dy,
            });
        None
    })
    .await;
}

/// `client` reacts with `key` on `event_id` through the raw SDK room API, as any Matrix
/// client would (not through Kontor's own answer code). Call on tokio.
pub async fn react_raw(client: &Kontor, room: &str, event_id: &str, key: &str) {
    use std::future::IntoFuture;
    let room_id = matrix_sdk::ruma::RoomId::parse(room).unwrap();
    let room = client.sdk_client().get_room(&room_id).unwrap();
    let reaction = serde_json::json!({
        "m.relates_to": { "rel_type": "m.annotation", "event_id": event_id, "key": key }
    });
    room.send_raw("m.reaction", reaction)
        .into_future()
        .await
        .expect("reaction");
}

/// The contact book the app will open in `h`'s data directory (`<data-dir>/contacts`,
/// the profile passphrase), with cheap key derivation: a story puts contacts in place
/// before the app starts.
pub fn contact_book(h: &Harness, passphrase: &str) -> kontor_contacts::ContactBook {
    kontor_contacts::ContactBook::open_with(
        &h.dir.path().join("contacts"),
        passphrase,
        book_options(),
    )
    .expect("book")
}

/// Cheap key derivation for a contact book a story puts in place before the app opens it.
pub fn book_options() -> kontor_contacts::OpenOptions {
    kontor_contacts::OpenOptions {
        kdf: kontor_contacts::KdfParams::insecure_fast(),
        ..kontor_contacts::OpenOptions::default()
    }
}

/// Opens the contact called `name` from the contact list and waits for its page.
pub async fn open_contact(app: &App, name: &str) {
    use kontor::ui::{Contacts, Screen, Session};
    one(app, name, AccessibleRole::Button)
        .await
        .invoke_accessible_default_action();
    let c = app.window.global::<Contacts>();
    wait_for(&format!("{name}'s detail"), 10, || {
        (app.window.global::<Session>().get_screen() == Screen::ContactDetail
            && c.get_selected().name == name)
            .then_some(())
    })
    .await;
}

/// On tokio: `client` (a customer) syncs until it can join `room`, then syncs once more.
pub async fn join_when_invited(client: &Kontor, room: &str) {
    loop {
        client.sync_once().await.expect("client sync");
        if client.accept_invite(room).await.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client.sync_once().await.expect("client sync");
}

/// The open conversation's bubbles' texts, oldest first.
pub fn texts(app: &App) -> Vec<String> {
    app.window
        .global::<kontor::ui::Conversation>()
        .get_messages()
        .iter()
        .map(|m| m.text.to_string())
        .collect()
}

/// The message list (the ListView labelled "Messages").
pub fn list(app: &App) -> ElementHandle {
    find(app, "Messages", AccessibleRole::List)
        .into_iter()
        .next()
        .expect("the message list")
}

/// The messages whose text is wholly inside the list's rectangle, top to bottom, with the
/// text's distance from the list's top edge. Asking for geometry also lays the list out
/// (headless, nothing draws it), so a caller that waits for a position polls this.
pub fn on_screen(app: &App) -> Vec<(String, f32)> {
    let list = list(app);
    let (top, height) = (list.absolute_position().y, list.size().height);
    let texts = texts(app);
    let mut shown: Vec<(String, f32)> = ElementQuery::from_root(&app.window)
        .match_accessible_role(AccessibleRole::Text)
        .find_all()
        .into_iter()
        .filter_map(|e| {
            let label = e.accessible_label()?.to_string();
            let y = e.absolute_position().y - top;
            (texts.contains(&label) && y >= 0.0 && y + e.size().height <= height)
                .then_some((label, y))
        })
        .collect();
    shown.sort_by(|a, b| a.1.total_cmp(&b.1));
    shown
}

/// Where `text` is on screen (see [`on_screen`]), if it is.
pub fn position(app: &App, text: &str) -> Option<f32> {
    on_screen(app)
        .into_iter()
        .find_map(|(t, y)| (t == text).then_some(y))
}

/// Wheel events on the list until `done`; `dy` > 0 scrolls towards older messages.
pub async fn scroll_until(app: &App, what: &str, dy: f32, mut done: impl FnMut() -> bool) {
    wait_for(what, 60, || {
        if done() {
            return Some(());
        }
        list(app).scroll(0.0, dy);
        None
    })
    .await;
}
