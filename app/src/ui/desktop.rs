//! Desktop notifications: the freedesktop `org.freedesktop.Notifications.Notify` call on
//! the D-Bus session bus, which every Linux desktop's notification server answers.
//!
//! zbus 5 with the `async-io` feature, exactly as Slint's winit backend already compiles
//! it: no second D-Bus stack (notify-rust would bring zbus 6). The calls run on the tokio
//! runtime, never on the UI thread; zbus drives its socket on its own executor thread,
//! so it does not care which runtime awaits it.
//!
//! What the notification says is decided in `notices.rs` (`notice_for` and
//! `desktop_name`); this module only delivers it, and reports
//! failure (no session bus, no notification server, no answer) so the caller can show
//! the in-app notice instead. Errors carry no notification text.
//!
//! Clicking a notification opens its chat, like the in-app notice: each notification
//! carries the specification's `default` action, and the server's `ActionInvoked` signal
//! (listened to on the same connection from its first use) is mapped back to the room
//! through the notification id. The room id never goes over the bus.

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex, OnceLock,
        atomic::{AtomicU32, Ordering},
    },
    time::Duration,
};

use futures_util::StreamExt;

use super::context::lock;
use zbus::zvariant::Value;

/// Which bus desktop notifications go to.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DesktopBus {
    /// The user's session bus (`DBUS_SESSION_BUS_ADDRESS`), as every desktop app uses.
    #[default]
    Session,
    /// The bus at this D-Bus address (a private bus, e.g. in a test).
    Address(String),
    /// None: notices stay in the app window.
    Off,
}

/// Why a desktop notification was not delivered.
#[derive(Debug, thiserror::Error)]
pub(crate) enum NotifyError {
    /// Desktop notifications are switched off for this run.
    #[error("desktop notifications are off")]
    Off,
    /// No bus, no notification server on it, or the server refused.
    #[error("D-Bus: {0}")]
    Bus(String),
    /// The server did not answer in time (a hung server must not hold notices back).
    #[error("the notification server did not answer within {0:?}")]
    Timeout(Duration),
}

impl From<zbus::Error> for NotifyError {
    /// Keeps the kind of error only: a method error's name, not its message, which a
    /// server might build from the arguments (the notification text).
    fn from(e: zbus::Error) -> Self {
        NotifyError::Bus(match e {
            zbus::Error::MethodError(name, _, _) => name.to_string(),
            zbus::Error::FDO(e) => match *e {
                zbus::fdo::Error::ServiceUnknown(_) => "no notification server".into(),
                _ => "the notification server refused".into(),
            },
            other => other.to_string(),
        })
    }
}

/// How long a Notify call may take before the in-app notice is shown instead.
const CALL_TIMEOUT: Duration = Duration::from_secs(3);

#[zbus::proxy(
    interface = "org.freedesktop.Notifications",
    default_service = "org.freedesktop.Notifications",
    default_path = "/org/freedesktop/Notifications",
    gen_blocking = false
)]
trait Notifications {
    /// The call of the Desktop Notifications Specification; returns the notification's id.
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: &str,
        replaces_id: u32,
        app_icon: &str,
        summary: &str,
        body: &str,
        actions: &[&str],
        hints: HashMap<&str, Value<'_>>,
        expire_timeout: i32,
    ) -> zbus::Result<u32>;

    /// The user chose an action of a notification (`default`: clicked its body).
    #[zbus(signal)]
    fn action_invoked(&self, id: u32, action_key: String) -> zbus::Result<()>;
}

/// What a click on a notification does: gets the room id of the chat to open.
type OnOpen = Box<dyn Fn(String) + Send + Sync>;

/// The rooms of recent notifications by id. Bounded: a server that ignores
/// `replaces_id` hands out a new id per message, and old ones are rarely clicked.
const ROOMS_KEPT: usize = 32;

/// The connection to the notification server, made on first use and kept.
pub(crate) struct Desktop {
    bus: DesktopBus,
    /// `None` until the first notification, and again after a failure, so a bus or
    /// server that appears later is found.
    conn: tokio::sync::Mutex<Option<zbus::Connection>>,
    /// The id of Kontor's last notification: a new one replaces it, so a busy chat
    /// leaves one entry in the desktop's list rather than a stack.
    last_id: AtomicU32,
    /// Notification id → the room its click opens (no entry: nothing to open, e.g. a
    /// notice made while locked).
    rooms: Arc<Mutex<HashMap<u32, String>>>,
    /// Set once by the UI: opens a chat from a click.
    on_open: Arc<OnceLock<OnOpen>>,
    /// The task that listens for clicks on the current connection.
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Desktop {
    pub(crate) fn new(bus: DesktopBus) -> Desktop {
        Desktop {
            bus,
            conn: tokio::sync::Mutex::new(None),
            last_id: AtomicU32::new(0),
            rooms: Arc::default(),
            on_open: Arc::default(),
            listener: Mutex::new(None),
        }
    }

    /// What a click on a notification does (the UI opens the chat); set once.
    pub(crate) fn on_open(&self, f: impl Fn(String) + Send + Sync + 'static) {
        let _ = self.on_open.set(Box::new(f));
    }

    /// Whether notifications are to be tried at all.
    pub(crate) fn enabled(&self) -> bool {
        self.bus != DesktopBus::Off
    }

    /// Shows a notification; a click on it opens `room` (if not empty) through
    /// [`Desktop::on_open`], labelled `open_label` where the server shows action labels.
    /// `body` is plain text; it is escaped here, since servers may read it as markup.
    pub(crate) async fn notify(
        &self,
        summary: &str,
        body: &str,
        room: &str,
        open_label: &str,
    ) -> Result<(), NotifyError> {
        let body = escape(body);
        let sent = self.send(summary, &body, room, open_label);
        let result = tokio::time::timeout(CALL_TIMEOUT, sent).await;
        let result = result.unwrap_or(Err(NotifyError::Timeout(CALL_TIMEOUT)));
        if result.is_err() {
            *self.conn.lock().await = None;
            if let Some(listener) = lock(&self.listener).take() {
                listener.abort();
            }
        }
        result
    }

    async fn send(
        &self,
        summary: &str,
        body: &str,
        room: &str,
        open_label: &str,
    ) -> Result<(), NotifyError> {
        let conn = self.connection().await?;
        let proxy = NotificationsProxy::builder(&conn)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        let hints = HashMap::from([
            ("category", Value::from("im.received")),
            // 1 = normal: a message is not an emergency.
            ("urgency", Value::U8(1)),
        ]);
        let actions: &[&str] = if room.is_empty() {
            &[]
        } else {
            &["default", open_label]
        };
        let id = proxy
            .notify(
                "Kontor",
                self.last_id.load(Ordering::Relaxed),
                "mail-message-new",
                summary,
                body,
                actions,
                hints,
                -1,
            )
            .await?;
        self.last_id.store(id, Ordering::Relaxed);
        let mut rooms = lock(&self.rooms);
        if rooms.len() >= ROOMS_KEPT {
            rooms.clear();
        }
        if room.is_empty() {
            rooms.remove(&id);
        } else {
            rooms.insert(id, room.to_owned());
        }
        Ok(())
    }

    /// Starts listening for clicks on a new connection, before its first notification.
    async fn listen(&self, conn: &zbus::Connection) -> Result<(), NotifyError> {
        let proxy = NotificationsProxy::builder(conn)
            .cache_properties(zbus::proxy::CacheProperties::No)
            .build()
            .await?;
        let mut clicks = proxy.receive_action_invoked().await?;
        let (rooms, on_open) = (self.rooms.clone(), self.on_open.clone());
        let task = tokio::spawn(async move {
            while let Some(signal) = clicks.next().await {
                let Ok(args) = signal.args() else { continue };
                if args.action_key != "default" {
                    continue;
                }
                let room = lock(&rooms).get(&args.id).cloned();
                if let (Some(room), Some(open)) = (room, on_open.get()) {
                    open(room);
                }
            }
        });
        if let Some(old) = lock(&self.listener).replace(task) {
            old.abort();
        }
        Ok(())
    }

    async fn connection(&self) -> Result<zbus::Connection, NotifyError> {
        let mut slot = self.conn.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let conn = match &self.bus {
            DesktopBus::Off => return Err(NotifyError::Off),
            DesktopBus::Session => zbus::Connection::session().await?,
            DesktopBus::Address(a) => {
                zbus::connection::Builder::address(a.as_str())?
                    .build()
                    .await?
            }
        };
        self.listen(&conn).await?;
        *slot = Some(conn.clone());
        Ok(conn)
    }
}

/// The body as the specification's markup subset reads it: `&`, `<` and `>` escaped, so
/// a message like "<b>" shows as written.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_markup_is_escaped() {
        assert_eq!(escape("a < b & c > d"), "a &lt; b &amp; c &gt; d");
        assert_eq!(escape("Angebot 1200 €"), "Angebot 1200 €");
    }

    #[test]
    fn off_sends_nothing() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let d = Desktop::new(DesktopBus::Off);
        assert!(!d.enabled());
        assert!(matches!(
            rt.block_on(d.notify("x", "", "", "Open")),
            Err(NotifyError::Off)
        ));
    }

    #[test]
    fn a_missing_bus_is_an_error_not_a_hang() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let addr = format!("unix:path={}", dir.path().join("no-bus").display());
        let d = Desktop::new(DesktopBus::Address(addr));
        assert!(matches!(
            rt.block_on(d.notify("x", "", "", "Open")),
            Err(NotifyError::Bus(_))
        ));
    }
}
