//! Consent in the open conversation: the header opens the chat partner's contact, "Ask
//! for consent" sends a request through the service (purpose, the customer's language,
//! the freelancer's explicit confirmation each time), and the person asked answers a
//! request's card with Consent / Decline, which the service sends as a reply in the
//! request's language. The cards themselves are the timeline's (`consent_cards.rs`).

use std::sync::Arc;

use kontor_contacts::DEFAULT_PURPOSE;
use slint::{ComponentHandle, SharedString};

use super::{
    AppWindow, ChatConsent, Chats, ConsentBadge, Contacts, Conversation, context::Ctx,
    timeline::Timeline, view::View,
};
use crate::service::language::Language;

/// Answers the `ChatConsent` callbacks.
pub(crate) struct ChatConsentController {
    ctx: Ctx,
    timeline: Arc<Timeline>,
}

impl ChatConsentController {
    /// Wires the header, the request form and the cards' buttons.
    pub(crate) fn wire(
        window: &AppWindow,
        ctx: &Ctx,
        timeline: &Arc<Timeline>,
    ) -> Arc<ChatConsentController> {
        let me = Arc::new(ChatConsentController {
            ctx: ctx.clone(),
            timeline: timeline.clone(),
        });
        let c = window.global::<ChatConsent>();
        {
            let me = me.clone();
            c.on_open_contact(move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let id = w.global::<ChatConsent>().get_contact_id();
                if !id.is_empty() {
                    w.global::<Contacts>().invoke_open(id);
                }
            });
        }
        {
            let me = me.clone();
            c.on_start(move || {
                let Some(w) = me.ctx.weak.upgrade() else {
                    return;
                };
                let c = w.global::<ChatConsent>();
                c.set_purpose(DEFAULT_PURPOSE.into());
                c.set_language(me.ctx.language().code().into());
                // Asked for each request anew: never carried over.
                c.set_confirmed(false);
                c.set_asking(true);
            });
        }
        {
            let me = me.clone();
            c.on_ask(move |purpose, language, confirmed| {
                me.ask(purpose.to_string(), &language, confirmed)
            });
        }
        {
            let me = me.clone();
            c.on_answer(move |event, yes| me.answer(event.to_string(), yes));
        }
        me
    }

    /// Sends the request to the open chat's partner: their contact, else their account
    /// (the service makes them a private contact first).
    fn ask(&self, purpose: String, language: &str, confirmed: bool) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let c = w.global::<ChatConsent>();
        let who = if c.get_contact_id().is_empty() {
            c.get_peer().to_string()
        } else {
            c.get_contact_id().to_string()
        };
        if who.is_empty() {
            return;
        }
        c.set_sending(true);
        let language = Language::from_code(language);
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            let result = ctx
                .service
                .request_consent(&who, Some(&purpose), language, confirmed)
                .await;
            let ok = result.is_ok();
            if let Err(e) = result {
                ctx.fail(e);
            }
            ctx.on_ui(move |w| {
                let c = w.global::<ChatConsent>();
                c.set_sending(false);
                if ok {
                    c.set_asking(false);
                    c.set_badge(ConsentBadge::Asked);
                    // The contact may be new, and the list shows the badge too.
                    w.global::<Chats>().invoke_reload();
                }
            });
        });
    }

    /// The viewer's answer to a request in the open chat, as a reply in its language.
    fn answer(&self, event_id: String, yes: bool) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let room = w.global::<Conversation>().get_room_id().to_string();
        let Some(language) = self.timeline.request_language(&event_id) else {
            return;
        };
        self.timeline.answer_sending(&w, &event_id, true);
        let (ctx, timeline) = (self.ctx.clone(), self.timeline.clone());
        self.ctx.rt().spawn(async move {
            let result = ctx
                .service
                .answer_consent(&room, &event_id, yes, language)
                .await;
            // Sent: the card shows the answer when the reply comes back from the sync.
            if let Err(e) = result {
                ctx.fail(e);
                ctx.on_ui(move |w| timeline.answer_sending(&w, &event_id, false));
            }
        });
    }
}

impl View for ChatConsentController {
    fn name(&self) -> &'static str {
        "chat consent"
    }

    fn clear(&self, w: &AppWindow) {
        let c = w.global::<ChatConsent>();
        c.set_contact_id(SharedString::new());
        c.set_peer(SharedString::new());
        c.set_badge(ConsentBadge::None);
        c.set_peer_asks(false);
        c.set_asking(false);
        c.set_sending(false);
        c.set_purpose(SharedString::new());
        c.set_confirmed(false);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let c = w.global::<ChatConsent>();
        format!(
            "contact={} peer={} badge={:?} peer_asks={} asking={} purpose={}",
            c.get_contact_id(),
            c.get_peer(),
            c.get_badge(),
            c.get_peer_asks(),
            c.get_asking(),
            c.get_purpose()
        )
    }
}
