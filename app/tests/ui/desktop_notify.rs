//! Desktop notifications, against a real Synapse and a private D-Bus session bus.
//!
//! The test starts its own `dbus-daemon`, registers a small stand-in for the desktop's
//! notification server (`org.freedesktop.Notifications`, recording each `Notify` call)
//! and points the app at that bus through `DBUS_SESSION_BUS_ADDRESS`, the way a desktop
//! session does. The story runs alone in its process (see main.rs), so the variable
//! reaches no other test. The customer ben (a kontor-core client) writes to anna:
//! - by default one Notify call per message, with no message text and no Matrix id;
//! - with message content switched on, the text is in the body;
//! - clicking a notification (the server's `ActionInvoked` for its `default` action)
//!   opens its chat;
//! - once the notification server is gone, the in-app notice shows instead.

use std::{
    collections::HashMap,
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    sync::{Arc, Mutex},
    time::Duration,
};

use crate::support::*;
use kontor::ui::{DesktopBus, Language, Notices, Prefs, Screen, Session};
use kontor_testkit::Synapse;
use slint::ComponentHandle;

/// A private session bus: `dbus-daemon` on a socket in a temp dir, killed on drop.
struct Bus {
    child: Child,
    address: String,
    _dir: tempfile::TempDir,
}

impl Bus {
    fn start() -> Bus {
        let dir = tempfile::tempdir().expect("bus dir");
        let mut child = Command::new("/usr/bin/dbus-daemon")
            .arg("--session")
            .arg("--nofork")
            .arg("--print-address")
            .arg(format!(
                "--address=unix:path={}",
                dir.path().join("bus").display()
            ))
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("dbus-daemon");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("bus address");
        let address = line.trim().to_owned();
        assert!(address.starts_with("unix:"), "bus address: {address:?}");
        Bus {
            child,
            address,
            _dir: dir,
        }
    }
}

impl Drop for Bus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What the stand-in server was asked to show.
#[derive(Debug, Clone)]
struct Shown {
    id: u32,
    app_name: String,
    summary: String,
    body: String,
    actions: Vec<String>,
}

/// The desktop's notification server, as far as the app talks to it.
#[derive(Clone, Default)]
struct FakeServer {
    calls: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl FakeServer {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        actions: Vec<String>,
        _hints: HashMap<String, zbus::zvariant::OwnedValue>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut calls = self.calls.lock().unwrap();
        // A new id per notification, as servers that ignore `replaces_id` hand out.
        let id = calls.len() as u32 + 1;
        calls.push(Shown {
            id,
            app_name,
            summary,
            body,
            actions,
        });
        id
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into(), "actions".into()]
    }
}

#[allow(unsafe_code)]
pub fn desktop_notifications_hide_content_by_default() {
    let bus = Bus::start();
    // Before any other thread runs: the story runs alone in its process (see main.rs).
    unsafe { std::env::set_var("DBUS_SESSION_BUS_ADDRESS", &bus.address) };
    let hs = Synapse::start().expect("synapse");
    let anna = hs.register_unique("anna").expect("anna");
    let ben = hs.register_unique("ben").expect("ben");
    let url = hs.base_url.clone();
    let h = Harness::new();

    let server = FakeServer::default();
    let calls = server.calls.clone();
    let address = bus.address.clone();
    let server_conn = h.rt.block_on(async move {
        zbus::connection::Builder::address(address.as_str())
            .expect("address")
            .name("org.freedesktop.Notifications")
            .expect("name")
            .serve_at("/org/freedesktop/Notifications", server)
            .expect("serve")
            .build()
            .await
            .expect("notification server")
    });

    i_slint_backend_testing::init_integration_test_with_system_time();
    // As the binary builds it: the session bus from the environment.
    let app = h.app_on(Language::English, DesktopBus::Session);
    let ben_client = h.spawn_login(&url, &ben.user_id, &ben.password);

    run_story(async move {
        onboard(&app, &url, &anna.user_id, &anna.password, "anna passphrase").await;
        let ben_k = ben_client.await.expect("ben task");
        let (room, chat_name) = chat_from(&h, &app, &ben_k, &anna.user_id).await;
        let send = |text: &'static str| {
            let (k, room) = (ben_k.clone(), room.clone());
            on_tokio(&h.rt, async move {
                k.sync_once().await.expect("ben sync");
                k.send_text(&room, text).await.expect("ben sends");
            })
        };
        let count = || calls.lock().unwrap().len();
        let notices = app.window.global::<Notices>();
        let summary = app
            .window
            .global::<Notices>()
            .invoke_title(kontor::ui::settings::desktop_name(&chat_name).into())
            .to_string();

        // Default: who (by the chat's name at most), never what.
        send("Angebot über 1200 €").await;
        wait_for("the desktop notification", 30, || {
            (count() == 1).then_some(())
        })
        .await;
        sleep(Duration::from_secs(1)).await;
        let first = calls.lock().unwrap().clone();
        assert_eq!(first.len(), 1, "one notification per message: {first:?}");
        let n = &first[0];
        assert_eq!(n.app_name, "Kontor");
        assert_eq!(n.summary, summary);
        assert_eq!(n.body, "", "no content by default");
        assert!(!n.summary.contains("1200"), "{n:?}");
        assert!(
            !n.summary.contains('@') && !n.summary.contains(ben.user_id.as_str()),
            "no Matrix id: {n:?}"
        );
        assert!(!notices.get_visible(), "told once: on the desktop");

        // Content switched on: the text is in the body.
        app.window
            .global::<Prefs>()
            .invoke_set_notification_content(true);
        send("Termin Donnerstag 9:30").await;
        wait_for("the second notification", 30, || {
            (count() == 2).then_some(())
        })
        .await;
        let n = calls.lock().unwrap()[1].clone();
        assert_eq!(n.body, "Termin Donnerstag 9:30");
        assert_eq!(n.summary, summary);
        assert_eq!(n.actions, ["default", "Open chat"]);

        // A click on the first notification opens the chat (the user is on the list).
        let s = app.window.global::<Session>();
        assert_eq!(s.get_screen(), Screen::Chats);
        let (conn, id) = (server_conn.clone(), first[0].id);
        on_tokio(&h.rt, async move {
            conn.emit_signal(
                Option::<zbus::names::BusName<'_>>::None,
                "/org/freedesktop/Notifications",
                "org.freedesktop.Notifications",
                "ActionInvoked",
                &(id, "default"),
            )
            .await
            .expect("click");
        })
        .await;
        wait_for("the chat, opened by the click", 10, || {
            (s.get_screen() == Screen::Conversation).then_some(())
        })
        .await;
        back_from_chat(&app, &room).await;

        // No notification server any more: the in-app notice instead.
        on_tokio(
            &h.rt,
            async move { server_conn.close().await.expect("close") },
        )
        .await;
        send("Noch eine Frage").await;
        wait_for("the in-app notice", 30, || {
            (notices.get_visible() && notices.get_body() == "Noch eine Frage").then_some(())
        })
        .await;
        assert_eq!(count(), 2, "nothing reached the desktop");

        app.shutdown().await;
        on_tokio(&h.rt, async move { ben_k.shutdown().await }).await;
    });
    drop(hs);
    drop(bus);
}
