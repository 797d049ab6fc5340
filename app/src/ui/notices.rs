//! The new-message notice: [`notice_for`] decides whether a message gets one and what it
//! may say; the controller sends it to the desktop (`desktop.rs`, D-Bus) and shows the
//! in-app banner (`Notices`) only when that fails (no session bus, no notification
//! server), so the user is told once, not twice. The desktop one is stricter than the
//! banner: it leaves the app (the desktop draws it, may keep it in a history, show it on
//! the lock screen or mirror it to a phone), so it never names a sender by a Matrix id or
//! anything that looks like a phone number ([`desktop_name`]).

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use kontor_core::{CoreEvent, Message, MessageBody};
use slint::{ComponentHandle, Model, SharedString};

use super::{
    AppWindow, Chats, Conversation, Lock, Notices, Screen, Session,
    context::{self, Ctx},
    desktop::Desktop,
    view::View,
};
use kontor_quotes::answer::Answer;

use crate::service::{
    consent::{Change, ConsentChanged},
    quotes::Answered,
    settings::Settings,
};

/// How long a notice stays up.
const NOTICE_TIME: Duration = Duration::from_secs(8);

/// Who wrote and, only if allowed, what: the data of a new-message notice. The text
/// around it ("New message from …") is translated in `settings.slint`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// The sender's name; empty while the app is locked (nothing is shown then).
    pub sender: String,
    /// The message text or file name; empty unless message content is switched on.
    pub body: String,
    /// The chat, so the notice can open it.
    pub room_id: String,
    /// A title of its own (a quote's answer), already translated; empty: "New message
    /// (from …)".
    pub headline: String,
}

/// The notice for a received message, or `None` when there is to be none: our own
/// message, a reaction (it annotates a message, it is none), notifications off, or the
/// chat already open in front of the user.
///
/// Why the sender's name is shown by default: without it a notice is of little use
/// ("which customer?"), and a name is far less sensitive than what the customer wrote;
/// the content stays out unless the user turns it on. While locked not even the name
/// is given: the lock promises that nothing of the account is shown.
pub fn notice_for(
    msg: &Message,
    sender_name: Option<&str>,
    settings: &Settings,
    open_room: Option<&str>,
    locked: bool,
) -> Option<Notice> {
    if msg.own
        || msg.body.is_reaction()
        // An edit is no new message (the timeline changes the original's bubble).
        || msg.replaces.is_some()
        || !settings.notifications
        || (!locked && open_room == Some(&*msg.room_id))
    {
        return None;
    }
    let sender = if locked {
        String::new()
    } else {
        sender_name
            .filter(|n| !n.is_empty())
            .unwrap_or(&msg.sender)
            .to_owned()
    };
    let body = if settings.notification_content && !locked {
        match &msg.body {
            MessageBody::Text { text, .. } | MessageBody::Other { text, .. } => text.clone(),
            MessageBody::File { name, .. } => name.clone(),
            MessageBody::Undecryptable | MessageBody::Reaction { .. } => String::new(),
        }
    } else {
        String::new()
    };
    Some(Notice {
        sender,
        body,
        room_id: if locked {
            String::new()
        } else {
            msg.room_id.clone()
        },
        headline: String::new(),
    })
}

/// The sender as a desktop notification may name them: the chat's name, but nothing that
/// may be a phone number: no Matrix id (the fallback when a chat has no name; bridged
/// contacts have ids like `@whatsapp_4917…`) and no name with six or more digits (a
/// chat named after the number). Empty: the notification says only "New message".
pub fn desktop_name(sender: &str) -> &str {
    let digits = sender.chars().filter(char::is_ascii_digit).count();
    if sender.starts_with('@') || digits >= 6 {
        ""
    } else {
        sender
    }
}

/// Shows notices for new messages.
pub(crate) struct NoticesController {
    ctx: Ctx,
    desktop: Arc<Desktop>,
    /// Bumped by every notice shown, so the timer of an earlier one does not hide a
    /// newer one.
    shown: AtomicU64,
}

impl NoticesController {
    /// Wires `Notices` and the desktop notifications' click action.
    pub(crate) fn wire(
        window: &AppWindow,
        ctx: &Ctx,
        desktop: Arc<Desktop>,
    ) -> Arc<NoticesController> {
        let me = Arc::new(NoticesController {
            ctx: ctx.clone(),
            desktop,
            shown: AtomicU64::new(0),
        });
        {
            // A click on a desktop notification opens its chat, as the in-app notice
            // does; while locked there is nothing to open (the notice carried no room).
            let me2 = me.clone();
            me.desktop.on_open(move |room| {
                let me3 = me2.clone();
                me2.ctx.on_ui(move |w| {
                    if w.global::<Lock>().get_locked() {
                        return;
                    }
                    me3.hide(&w);
                    w.global::<Chats>().invoke_open(room.into());
                });
            });
        }
        {
            let me = me.clone();
            window.global::<Notices>().on_dismiss(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    me.hide(&w);
                }
            });
        }
        me
    }

    /// A received message, on the UI thread: shows its notice if one is due, on the
    /// desktop when it can, else in the window.
    fn notify(self: &Arc<Self>, w: &AppWindow, msg: &Message) {
        let sender_name = context::chat_list(w)
            .iter()
            .find(|c| !c.invite && c.room_id == msg.room_id.as_str())
            .map(|c| c.name.to_string());
        let locked = w.global::<Lock>().get_locked();
        let screen = w.global::<Session>().get_screen();
        let open = w.global::<Conversation>().get_room_id();
        let open = (screen == Screen::Conversation).then_some(open.as_str());
        let settings = self.ctx.service.settings();
        let Some(n) = notice_for(msg, sender_name.as_deref(), &settings, open, locked) else {
            return;
        };
        // Translated by the view, in the language the window shows.
        let summary = w
            .global::<Notices>()
            .invoke_title(desktop_name(&n.sender).into())
            .to_string();
        self.deliver(w, n, summary);
    }

    /// A customer answered a quote: "Quote A-2026-0007 accepted", under the same rules
    /// as a message's notice (notifications off: none; locked: no number, no chat).
    fn notify_answer(self: &Arc<Self>, w: &AppWindow, answered: &Answered) {
        if !self.ctx.service.settings().notifications {
            return;
        }
        let locked = w.global::<Lock>().get_locked();
        let notices = w.global::<Notices>();
        let headline = if locked {
            notices.invoke_quote_answered(SharedString::new(), false, false)
        } else {
            notices.invoke_quote_answered(
                answered.number.to_string().into(),
                answered.answer.answer == Answer::Accept,
                answered.answer.late,
            )
        }
        .to_string();
        let n = Notice {
            sender: String::new(),
            body: String::new(),
            room_id: if locked {
                String::new()
            } else {
                answered.room_id.clone()
            },
            headline: headline.clone(),
        };
        self.deliver(w, n, headline);
    }

    /// A contact consented, declined or withdrew in the chat: "Frau Weiß consented",
    /// under the same rules as a message's notice (notifications off: none; locked: no
    /// name, no chat).
    fn notify_consent(self: &Arc<Self>, w: &AppWindow, changed: &ConsentChanged) {
        if !self.ctx.service.settings().notifications {
            return;
        }
        let locked = w.global::<Lock>().get_locked();
        let change = match changed.change {
            Change::Granted => 0,
            Change::Declined => 1,
            Change::Withdrawn => 2,
        };
        let name = if locked {
            SharedString::new()
        } else {
            changed.name.clone().into()
        };
        let headline = w
            .global::<Notices>()
            .invoke_consent_changed(name, change)
            .to_string();
        let n = Notice {
            sender: String::new(),
            body: String::new(),
            room_id: String::new(),
            headline: headline.clone(),
        };
        self.deliver(w, n, headline);
    }

    /// On the desktop when it can, else in the window.
    fn deliver(self: &Arc<Self>, w: &AppWindow, n: Notice, summary: String) {
        if !self.desktop.enabled() {
            return self.show(w, n);
        }
        let open_label = w.global::<Notices>().invoke_open_label().to_string();
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            if let Err(e) = me
                .desktop
                .notify(&summary, &n.body, &n.room_id, &open_label)
                .await
            {
                tracing::debug!("no desktop notification, showing it in the window: {e}");
                let me2 = me.clone();
                me.ctx.on_ui(move |w| {
                    // Locked meanwhile: a notice made before the lock must not show its name.
                    if w.global::<Lock>().get_locked()
                        && (!n.sender.is_empty() || !n.room_id.is_empty())
                    {
                        return;
                    }
                    me2.show(&w, n);
                });
            }
        });
    }

    /// Shows the in-app notice for a while.
    fn show(self: &Arc<Self>, w: &AppWindow, n: Notice) {
        let notices = w.global::<Notices>();
        notices.set_sender(n.sender.into());
        notices.set_body(n.body.into());
        notices.set_room_id(n.room_id.into());
        notices.set_headline(n.headline.into());
        notices.set_visible(true);
        let this = self.shown.fetch_add(1, Ordering::Relaxed) + 1;
        let me = self.clone();
        slint::Timer::single_shot(NOTICE_TIME, move || {
            if me.shown.load(Ordering::Relaxed) == this
                && let Some(w) = me.ctx.weak.upgrade()
            {
                me.hide(&w);
            }
        });
    }

    /// Hides the notice and forgets what it said.
    fn hide(&self, w: &AppWindow) {
        self.shown.fetch_add(1, Ordering::Relaxed);
        let n = w.global::<Notices>();
        n.set_visible(false);
        n.set_sender(SharedString::new());
        n.set_body(SharedString::new());
        n.set_room_id(SharedString::new());
        n.set_headline(SharedString::new());
    }
}

impl View for Arc<NoticesController> {
    fn name(&self) -> &'static str {
        "notices"
    }

    fn clear(&self, w: &AppWindow) {
        self.hide(w);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let n = w.global::<Notices>();
        format!(
            "visible={} sender={} body={} room={} headline={}",
            n.get_visible(),
            n.get_sender(),
            n.get_body(),
            n.get_room_id(),
            n.get_headline()
        )
    }

    fn event(&self, w: &AppWindow, event: &CoreEvent) {
        if let CoreEvent::MessageReceived(msg) = event {
            self.notify(w, msg);
        }
    }

    fn quote_answered(&self, w: &AppWindow, answered: &Answered) {
        self.notify_answer(w, answered);
    }

    fn consent_changed(&self, w: &AppWindow, changed: &ConsentChanged) {
        self.notify_consent(w, changed);
    }
}

#[cfg(test)]
mod tests {
    use kontor_core::SendState;

    use super::*;

    fn msg(own: bool, body: MessageBody) -> Message {
        Message {
            room_id: "!r:hs".into(),
            event_id: Some("$e".into()),
            transaction_id: None,
            sender: "@ben:hs".into(),
            sender_device: None,
            own,
            timestamp_ms: 0,
            body,
            reply_to: None,
            replaces: None,
            state: SendState::Sent {
                event_id: "$e".into(),
            },
        }
    }

    fn text(t: &str) -> MessageBody {
        MessageBody::Text {
            text: t.into(),
            extra: None,
        }
    }

    #[test]
    fn notice_has_no_content_by_default() {
        let s = Settings::default();
        let n = notice_for(
            &msg(false, text("Angebot 1200 €")),
            Some("Ben"),
            &s,
            None,
            false,
        )
        .unwrap();
        assert_eq!(n.sender, "Ben");
        assert_eq!(n.body, "");
    }

    #[test]
    fn notice_has_content_when_allowed() {
        let s = Settings {
            notification_content: true,
            ..Settings::default()
        };
        let n = notice_for(&msg(false, text("Angebot 1200 €")), None, &s, None, false).unwrap();
        assert_eq!(n.sender, "@ben:hs");
        assert_eq!(n.body, "Angebot 1200 €");
    }

    #[test]
    fn no_notice_for_own_open_or_switched_off() {
        let s = Settings::default();
        assert!(notice_for(&msg(true, text("x")), None, &s, None, false).is_none());
        assert!(notice_for(&msg(false, text("x")), None, &s, Some("!r:hs"), false).is_none());
        let off = Settings {
            notifications: false,
            ..Settings::default()
        };
        assert!(notice_for(&msg(false, text("x")), None, &off, None, false).is_none());
    }

    #[test]
    fn no_notice_for_a_reaction() {
        let reaction = MessageBody::Reaction {
            relates_to: "$quote".into(),
            key: "👍".into(),
        };
        let s = Settings::default();
        assert!(notice_for(&msg(false, reaction.clone()), None, &s, None, false).is_none());
        assert!(notice_for(&msg(false, reaction), None, &s, None, true).is_none());
    }

    #[test]
    fn no_notice_for_an_edit() {
        let mut edit = msg(
            false,
            MessageBody::Text {
                text: "Treffen um 11".into(),
                extra: None,
            },
        );
        edit.replaces = Some("$1".into());
        assert!(notice_for(&edit, None, &Settings::default(), None, false).is_none());
    }

    #[test]
    fn desktop_names_no_number() {
        assert_eq!(desktop_name("Ben Bauer"), "Ben Bauer");
        assert_eq!(desktop_name("Praxis Raum 12"), "Praxis Raum 12");
        assert_eq!(desktop_name("@ben:hs"), "", "a Matrix id");
        assert_eq!(desktop_name("@whatsapp_4917012345678:hs"), "");
        assert_eq!(desktop_name("+49 170 1234567"), "", "a phone number");
        assert_eq!(desktop_name("0170/123456"), "");
        assert_eq!(desktop_name(""), "");
    }

    #[test]
    fn locked_notice_names_nobody_and_shows_nothing() {
        let s = Settings {
            notification_content: true,
            ..Settings::default()
        };
        let n = notice_for(&msg(false, text("secret")), Some("Ben"), &s, None, true).unwrap();
        assert_eq!(n.sender, "");
        assert_eq!(n.body, "");
        assert_eq!(n.room_id, "");
    }
}
