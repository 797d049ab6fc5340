//! The contact page's chat side (`ContactChat` in `contact_chat.slint`): the Matrix
//! account a contact chats from, asking them for consent in that chat, linking an
//! account the freelancer types, and the contact's direct chats.
//!
//! The account is the contact's chat id (linked, or the one that wrote first) and else
//! the Matrix id discovery found: chats, quotes and consent requests all go there. The
//! request itself is the service's ([`Service::request_consent`]: one open request per
//! contact, the freelancer's confirmation for every private contact); this controller
//! only passes the confirmed click on and shows what came back. The contact detail
//! hands each contact it shows to [`show`].
//!
//! [`Service::request_consent`]: crate::service::Service::request_consent

use std::sync::Arc;

use kontor_contacts::{Contact, DEFAULT_PURPOSE, REQUEST_INTERVAL_SECS, Timestamp};
use slint::{ComponentHandle, Model};

use super::{
    AppWindow, ChatItem, Chats, ContactChat, Contacts, ErrorKind, Lock, MessageKind, Session,
    context::{Ctx, empty, list},
    format::{Language, date_label, local_time_label},
    models,
    view::View,
};

/// Answers `ContactChat.ask` and `ContactChat.link`.
pub(crate) struct ContactChatController {
    ctx: Ctx,
}

impl ContactChatController {
    /// Wires the callbacks and sets the default purpose a request asks for.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<ContactChatController> {
        let me = Arc::new(ContactChatController { ctx: ctx.clone() });
        let g = window.global::<ContactChat>();
        g.set_default_purpose(DEFAULT_PURPOSE.into());
        g.set_chats(empty::<ChatItem>());
        {
            let me = me.clone();
            g.on_ask(move |id, purpose, language| {
                me.ask(
                    id.to_string(),
                    purpose.trim().to_owned(),
                    Language::from_code(&language),
                )
            });
        }
        {
            let me = me.clone();
            g.on_link(move |id, user| me.link(id.to_string(), user.trim().to_owned()));
        }
        me
    }

    /// Sends the request the freelancer has just confirmed (so `confirmed`: the view
    /// asks before every single one), then shows the contact again with it open.
    fn ask(&self, id: String, purpose: String, language: Language) {
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<ContactChat>().set_asking(true);
            w.global::<Session>().set_error(ErrorKind::None);
        }
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            let result = ctx
                .service
                .request_consent(&id, Some(&purpose), language, true)
                .await;
            ctx.on_ui(|w| w.global::<ContactChat>().set_asking(false));
            match result {
                Ok(_) => ctx.on_ui(|w| {
                    w.global::<Contacts>().invoke_reshow();
                    // The request may have opened the direct chat.
                    w.global::<Chats>().invoke_reload();
                }),
                Err(e) => ctx.fail(e),
            }
        });
    }

    /// Records the account the contact chats from (a Matrix id, checked by the service).
    fn link(&self, id: String, user: String) {
        if let Some(w) = self.ctx.weak.upgrade() {
            w.global::<Session>().set_error(ErrorKind::None);
        }
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            match ctx.service.link_chat(&id, &user).await {
                Ok(_) => ctx.on_ui(|w| w.global::<Contacts>().invoke_reshow()),
                Err(e) => ctx.fail(e),
            }
        });
    }
}

/// The account a contact chats from: linked or seen in a chat, else found by discovery.
pub(crate) fn account(contact: &Contact) -> Option<&str> {
    contact.chat_id.as_deref().or(contact.matrix_id.as_deref())
}

/// When the contact's request was sent, while it still blocks a new one (an answer
/// clears it; after [`REQUEST_INTERVAL_SECS`] a new one may go out).
fn open_since(contact: &Contact, now: Timestamp) -> Option<Timestamp> {
    contact
        .consent_request
        .as_ref()
        .map(|r| r.asked_at)
        .filter(|at| now.0 - at.0 < REQUEST_INTERVAL_SECS)
}

/// Shows the chat side of `contact`, which the detail view is showing (any thread):
/// its account and open request at once, then its direct chats, read from the account.
pub(crate) fn show(ctx: &Ctx, contact: &Contact) {
    let id = contact.id.clone();
    let account = account(contact).unwrap_or_default().to_owned();
    // Both accounts: a chat from before a link (or before discovery) is theirs too.
    let accounts: Vec<String> = [contact.chat_id.clone(), contact.matrix_id.clone()]
        .into_iter()
        .flatten()
        .collect();
    let asked_on = open_since(contact, Timestamp::now())
        .map(|at| date_label(at.0, ctx.language()))
        .unwrap_or_default();
    {
        let id = id.clone();
        ctx.on_ui(move |w| {
            if !still_shown(&w, &id) {
                return;
            }
            let g = w.global::<ContactChat>();
            if g.get_account() != account.as_str() {
                g.set_chats(empty::<ChatItem>());
            }
            g.set_account(account.into());
            g.set_asked_on(asked_on.into());
        });
    }
    if accounts.is_empty() {
        return;
    }
    let lang = ctx.language();
    let ctx2 = ctx.clone();
    // Not signed in (a book without an account): no chats to list.
    ctx.service.spawn(move |kontor| async move {
        let chats = match kontor.chats().await {
            Ok(c) => c,
            Err(e) => return tracing::debug!("the contact's chats were not read: {e}"),
        };
        let rows: Vec<ChatItem> = chats
            .into_iter()
            .filter(|c| c.peer.as_ref().is_some_and(|p| accounts.contains(p)))
            .map(|c| {
                let (kind, text) = c
                    .last
                    .as_ref()
                    .map(|m| models::body_view(&m.body))
                    .unwrap_or((MessageKind::Text, String::new()));
                ChatItem {
                    initial: models::initial(&c.name),
                    time: c
                        .last
                        .as_ref()
                        .map(|m| local_time_label(m.timestamp_ms, lang))
                        .unwrap_or_default()
                        .into(),
                    room_id: c.room_id.into(),
                    name: c.name.into(),
                    last_message: text.into(),
                    last_kind: kind,
                    unread: i32::try_from(c.unread).unwrap_or(i32::MAX),
                    invite: false,
                    // The contact's own page: no badge or peer of its own here.
                    ..ChatItem::default()
                }
            })
            .collect();
        ctx2.on_ui(move |w| {
            if still_shown(&w, &id) {
                w.global::<ContactChat>().set_chats(list(rows));
            }
        });
    });
}

/// The detail view still shows contact `id` and the window is not locked.
fn still_shown(w: &AppWindow, id: &str) -> bool {
    !w.global::<Lock>().get_locked() && w.global::<Contacts>().get_selected().id == id
}

impl View for ContactChatController {
    fn name(&self) -> &'static str {
        "contact-chat"
    }

    fn clear(&self, w: &AppWindow) {
        let g = w.global::<ContactChat>();
        g.set_account(Default::default());
        g.set_asked_on(Default::default());
        g.set_asking(false);
        g.set_chats(empty::<ChatItem>());
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let g = w.global::<ContactChat>();
        let chats: Vec<String> = g
            .get_chats()
            .iter()
            .map(|c| format!("{}|{}|{}", c.room_id, c.name, c.last_message))
            .collect();
        format!(
            "account={} asked-on={} asking={} chats={chats:?}",
            g.get_account(),
            g.get_asked_on(),
            g.get_asking()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_contacts::ConsentRequest;

    fn contact(chat_id: Option<&str>, matrix_id: Option<&str>) -> Contact {
        let mut c: Contact = serde_json::from_value(serde_json::json!({
            "id": "c1",
            "display_name": "Frau Weiß",
            "created": "2026-05-03T12:00:00Z",
            "updated": "2026-05-03T12:00:00Z",
            "consent": { "history": [] },
        }))
        .expect("a minimal contact");
        c.chat_id = chat_id.map(Into::into);
        c.matrix_id = matrix_id.map(Into::into);
        c
    }

    #[test]
    fn the_account_is_the_chat_one_before_the_discovered_one() {
        assert_eq!(account(&contact(None, None)), None);
        assert_eq!(account(&contact(None, Some("@d:x"))), Some("@d:x"));
        assert_eq!(account(&contact(Some("@c:x"), Some("@d:x"))), Some("@c:x"));
    }

    #[test]
    fn a_request_blocks_a_new_one_for_thirty_days() {
        let mut c = contact(Some("@c:x"), None);
        assert_eq!(open_since(&c, Timestamp(1_000)), None);
        c.consent_request = Some(ConsentRequest {
            room_id: "!r:x".into(),
            event_id: "$e".into(),
            text: "…".into(),
            purpose: DEFAULT_PURPOSE.into(),
            language: "de".into(),
            asked_by: "@f:x".into(),
            asked_device: None,
            asked_user: "@c:x".into(),
            asked_at: Timestamp(1_000),
        });
        assert_eq!(open_since(&c, Timestamp(2_000)), Some(Timestamp(1_000)));
        assert_eq!(
            open_since(&c, Timestamp(1_000 + REQUEST_INTERVAL_SECS)),
            None
        );
    }
}
