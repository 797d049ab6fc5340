//! The open conversation: showing a chat, sending text, the outbox actions (retry,
//! cancel), and new messages and delivery reports as they arrive. Paging is the
//! [`Timeline`]'s, files are `files.rs`'.

use std::{
    collections::HashMap,
    rc::Rc,
    sync::{Arc, Mutex},
};

use kontor_core::{CoreEvent, SendState};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

use super::{
    AppWindow, ChatConsent, Conversation, ErrorKind, Lock, MessageItem, MessageKind, Screen,
    Session,
    context::{self, Ctx, with_messages},
    format::local_time_label,
    models::{self, Placement},
    timeline::Timeline,
    view::View,
};

/// Answers the `Conversation` callbacks (but the file ones).
pub(crate) struct ConversationController {
    ctx: Ctx,
    timeline: Arc<Timeline>,
    /// Delivery reports that arrived before the bubble they belong to existed (the send
    /// queue can report "sent" before `send_text` has returned the transaction id).
    early_states: Mutex<HashMap<String, SendState>>,
}

impl ConversationController {
    /// Installs the message list and wires the `Conversation` global.
    pub(crate) fn wire(
        window: &AppWindow,
        ctx: &Ctx,
        timeline: &Arc<Timeline>,
    ) -> Arc<ConversationController> {
        let me = Arc::new(ConversationController {
            ctx: ctx.clone(),
            timeline: timeline.clone(),
            early_states: Mutex::new(HashMap::new()),
        });
        let conv = window.global::<Conversation>();
        conv.set_messages(ModelRc::from(Rc::new(VecModel::<MessageItem>::default())));
        {
            let me = me.clone();
            conv.on_show(move |room, title| {
                me.show(&room, title);
                me.timeline.load_newest(room.to_string());
            });
        }
        {
            let me = me.clone();
            conv.on_show_at(move |room, title, event| {
                me.show(&room, title);
                me.timeline.load_around(room.to_string(), event.to_string());
            });
        }
        {
            let me = me.clone();
            conv.on_load_newer(move || me.timeline.load_newer());
        }
        {
            let me = me.clone();
            conv.on_send(move |text| me.send_text(text.to_string()));
        }
        {
            let me = me.clone();
            conv.on_retry(move |txn| me.outbox_action(txn.to_string(), true));
        }
        {
            let me = me.clone();
            conv.on_cancel(move |txn| me.outbox_action(txn.to_string(), false));
        }
        {
            let me = me.clone();
            conv.on_load_older(move || me.timeline.load_older());
        }
        {
            let me = me.clone();
            conv.on_back(move || {
                if let Some(w) = me.ctx.weak.upgrade() {
                    w.global::<Conversation>().set_room_id(SharedString::new());
                    w.global::<Conversation>()
                        .set_saved_path(SharedString::new());
                    w.global::<Session>().set_error(ErrorKind::None);
                    w.global::<Session>().set_screen(Screen::Chats);
                }
            });
        }
        me
    }

    /// Shows a chat (the caller loads its messages), marked read in the list.
    fn show(&self, room_id: &str, title: SharedString) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let c = w.global::<Conversation>();
        c.set_room_id(room_id.into());
        c.set_title(title);
        c.set_loading(true);
        let consent = w.global::<ChatConsent>();
        consent.set_asking(false);
        consent.set_peer_asks(false);
        context::show_partner(&w);
        with_messages(&w, |m| m.set_vec(Vec::new()));
        models::mark_read(&context::chat_list(&w), room_id);
        let s = w.global::<Session>();
        s.set_error(ErrorKind::None);
        s.set_screen(Screen::Conversation);
    }

    fn send_text(self: &Arc<Self>, text: String) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let room = w.global::<Conversation>().get_room_id().to_string();
        if room.is_empty() || text.trim().is_empty() {
            return;
        }
        let me = self.clone();
        self.ctx.service.spawn(move |kontor| async move {
            match kontor.send_text(&room, &text).await {
                Ok(txn) => {
                    let lang = me.ctx.language();
                    let me2 = me.clone();
                    me.ctx.on_ui(move |w| {
                        let c = w.global::<Conversation>();
                        if c.get_room_id() != room.as_str() {
                            return;
                        }
                        if me2.timeline.behind() {
                            // Far back after a jump: the newest page (with the outbox)
                            // shows it in its place.
                            return c.invoke_show(c.get_room_id(), c.get_title());
                        }
                        let state = me2
                            .early_states
                            .lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .remove(&txn)
                            .unwrap_or(SendState::Pending);
                        if state == SendState::Cancelled {
                            return;
                        }
                        let now = std::time::SystemTime::now()
                            .duration_since(std::time::UNIX_EPOCH)
                            .map_or(0, |d| d.as_millis() as u64);
                        let event_id = match &state {
                            SendState::Sent { event_id } => event_id.clone(),
                            _ => String::new(),
                        };
                        let item = MessageItem {
                            key: txn.into(),
                            event_id: event_id.into(),
                            own: true,
                            sender: w.global::<Session>().get_user_id(),
                            text: text.into(),
                            kind: MessageKind::Text,
                            time: local_time_label(now, lang).into(),
                            delivery: models::delivery(&state),
                            ..Default::default()
                        };
                        with_messages(&w, |m| m.push(item));
                    });
                }
                Err(e) => me.ctx.fail(e),
            }
        });
    }

    fn outbox_action(&self, txn: String, retry: bool) {
        let ctx = self.ctx.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let result = if retry {
                kontor.retry(&txn).await
            } else {
                kontor.cancel(&txn).await.map(|_| ())
            };
            if let Err(e) = result {
                ctx.fail(e);
            }
        });
    }
}

impl View for ConversationController {
    fn name(&self) -> &'static str {
        "conversation"
    }

    fn clear(&self, w: &AppWindow) {
        self.timeline.reset();
        self.early_states
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
        with_messages(w, |m| m.set_vec(Vec::new()));
        let c = w.global::<Conversation>();
        c.set_room_id(SharedString::new());
        c.set_title(SharedString::new());
        c.set_saved_path(SharedString::new());
        c.set_upload_name(SharedString::new());
        c.set_at_present(true);
        c.set_highlight(SharedString::new());
        c.set_loading_newer(false);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let c = w.global::<Conversation>();
        let rows: Vec<String> = with_messages(w, |m| {
            slint::Model::iter(m)
                .map(|i| format!("{}|{}", i.sender, i.text))
                .collect()
        });
        format!(
            "room={} title={} saved={} upload={} messages={rows:?}",
            c.get_room_id(),
            c.get_title(),
            c.get_saved_path(),
            c.get_upload_name()
        )
    }

    fn event(&self, w: &AppWindow, event: &CoreEvent) {
        let open_room = w.global::<Conversation>().get_room_id();
        match event {
            CoreEvent::MessageReceived(msg) => {
                if w.global::<Lock>().get_locked() || msg.room_id != open_room.as_str() {
                    return;
                }
                if msg.replaces.is_some() {
                    // An edit is no bubble: its original shows the new text.
                    return self.timeline.edit(w, msg);
                }
                if self.timeline.hold_live(msg) {
                    // Far back after a jump: it comes when paging forward reaches it.
                    return;
                }
                // A quote, or an answer to one (a reaction is no bubble but may change a
                // card).
                self.timeline.absorb_cards(w, std::slice::from_ref(msg));
                if !models::shown(msg) {
                    return;
                }
                let append = with_messages(w, |m| {
                    let append = models::placement(m, msg) == Placement::Append;
                    if append {
                        m.push(models::message_item(msg, self.ctx.language()));
                    }
                    append
                });
                if append {
                    self.timeline.apply_cards(w);
                }
                if let (true, false, Some(event)) = (append, msg.own, msg.event_id.clone()) {
                    // The user is looking at it.
                    self.timeline.mark_read(msg.room_id.clone(), event);
                }
            }
            CoreEvent::MessageState {
                room_id,
                transaction_id,
                state,
            } => {
                let applied = *room_id == open_room.as_str()
                    && with_messages(w, |m| models::apply_state(m, transaction_id, state));
                if !applied {
                    self.early_states
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .insert(transaction_id.clone(), state.clone());
                }
            }
            CoreEvent::Redacted { room_id, event_id } if *room_id == open_room.as_str() => {
                with_messages(w, |m| models::remove_event(m, event_id));
            }
            CoreEvent::Transfer {
                direction: kontor_core::Direction::Upload,
                done,
                total,
                ..
            } => {
                let c = w.global::<Conversation>();
                if c.get_upload_progress() >= 0.0 && *total > 0 {
                    c.set_upload_progress((*done as f64 / *total as f64) as f32);
                }
            }
            _ => {}
        }
    }
}
