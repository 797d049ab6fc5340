//! The quote form: opened from a conversation ("Quote") or from a sent quote's card
//! ("Revise"), with live totals in the UI's language, problems named by field, and
//! "Send quote", which numbers, renders and sends through the service.
//!
//! The form's text lives in the `Quotes` global as typed; every change rebuilds a
//! [`DraftInput`] and asks the service's rules ([`DraftInput::parse`]) for the totals, so
//! the form shows exactly what the PDF will say. Problems are shown once the user tried
//! to send, then kept up to date while they fix them.

use std::sync::{Arc, Mutex, MutexGuard};

use kontor_core::CancellationToken;
use kontor_quotes::{BusinessDetails, Customer, Date, FieldError, QuoteNumber};
use slint::{ComponentHandle, Model, ModelRc, SharedString, VecModel};

use super::{
    AppWindow, Conversation, QuoteField, QuoteLine, QuoteProblem, QuoteTotal, Quotes, Screen,
    Session,
    context::{Ctx, empty, list},
    view::View,
};
use crate::service::quotes::draft::{DraftError, DraftInput, DraftItem};

#[derive(Default)]
struct FormState {
    room_id: String,
    customer: Customer,
    details: BusinessDetails,
    number: Option<QuoteNumber>,
    replaces: Option<QuoteNumber>,
    /// The user pressed "Send" once: problems are shown from now on.
    tried: bool,
    /// Bumped on every opening, so a late answer for an earlier form is dropped.
    generation: u64,
    /// Opened from a contact (not from its chat): after sending, its chat is shown.
    from_contact: bool,
}

/// Who the form is for, as the opener knows it.
struct For {
    room_id: String,
    name: String,
    /// The customer's Matrix id when the opener knows it (a contact found on Kontor).
    user_id: Option<String>,
    contact_id: Option<String>,
}

/// Answers the form's callbacks.
pub(crate) struct QuoteFormController {
    ctx: Ctx,
    state: Mutex<FormState>,
}

impl QuoteFormController {
    /// Wires the form.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<QuoteFormController> {
        let me = Arc::new(QuoteFormController {
            ctx: ctx.clone(),
            state: Mutex::default(),
        });
        let q = window.global::<Quotes>();
        q.set_items(empty::<QuoteLine>());
        q.set_per_rate(empty::<QuoteTotal>());
        q.set_problems(empty::<QuoteProblem>());
        {
            let me = me.clone();
            q.on_new_quote(move || me.open_new());
        }
        {
            let me = me.clone();
            q.on_revise(move |number| me.open_revision(number.to_string()));
        }
        {
            let me = me.clone();
            q.on_new_quote_for(move |user, name, contact| {
                me.open_for_contact(user.to_string(), name.to_string(), contact.to_string())
            });
        }
        {
            let me = me.clone();
            q.on_add_item(move || {
                me.with_window(|w| {
                    with_lines(&w, |l| l.push(empty_line()));
                    me.recompute(&w);
                })
            });
        }
        {
            let me = me.clone();
            q.on_remove_item(move |i| {
                me.with_window(|w| {
                    with_lines(&w, |l| {
                        if let Ok(i) = usize::try_from(i)
                            && i < l.row_count()
                        {
                            l.remove(i);
                        }
                    });
                    me.recompute(&w);
                })
            });
        }
        {
            let me = me.clone();
            q.on_set_item(move |i, field, value| {
                me.with_window(|w| {
                    let Ok(i) = usize::try_from(i) else { return };
                    let changed = with_lines(&w, |l| {
                        let Some(mut line) = l.row_data(i) else {
                            return false;
                        };
                        match field.as_str() {
                            "description" => line.description = value,
                            "quantity" => line.quantity = value,
                            "unit" => line.unit = value,
                            "price" => line.price = value,
                            "vat" => line.vat = value.parse().unwrap_or(19),
                            _ => return false,
                        }
                        l.set_row_data(i, line);
                        true
                    });
                    if changed {
                        me.recompute(&w);
                    }
                })
            });
        }
        {
            let me = me.clone();
            q.on_changed(move || me.with_window(|w| me.recompute(&w)));
        }
        {
            let me = me.clone();
            q.on_cancel(move || {
                me.with_window(|w| {
                    let back = if me.state().from_contact {
                        Screen::ContactDetail
                    } else {
                        Screen::Conversation
                    };
                    me.clear(&w);
                    w.global::<Session>().set_screen(back);
                })
            });
        }
        {
            let me = me.clone();
            q.on_send(move || me.send());
        }
        me
    }

    fn with_window(&self, f: impl FnOnce(AppWindow)) {
        if let Some(w) = self.ctx.weak.upgrade() {
            f(w);
        }
    }

    fn state(&self) -> MutexGuard<'_, FormState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// "Quote" in a conversation: the form for its customer, with one empty line.
    fn open_new(self: &Arc<Self>) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let c = w.global::<Conversation>();
        let (room_id, name) = (c.get_room_id().to_string(), c.get_title().to_string());
        self.open(
            For {
                room_id,
                name,
                user_id: None,
                contact_id: None,
            },
            None,
            first_line(),
        );
    }

    /// "Write quote" on a contact found on Kontor: the form for them, in the direct chat
    /// with them (opened, or created encrypted, first).
    fn open_for_contact(self: &Arc<Self>, user_id: String, name: String, contact_id: String) {
        let me = self.clone();
        self.ctx.service.spawn(move |kontor| async move {
            match kontor.open_dm(&user_id).await {
                Ok(room_id) => {
                    let who = For {
                        room_id,
                        name,
                        user_id: Some(user_id),
                        contact_id: Some(contact_id),
                    };
                    me.open(who, None, first_line());
                }
                Err(e) => me.ctx.fail(e),
            }
        });
    }

    /// "Revise" on a sent quote: its lines in a new form that replaces it.
    fn open_revision(self: &Arc<Self>, number: String) {
        let Ok(number) = number.parse::<QuoteNumber>() else {
            return;
        };
        let (me, ctx) = (self.clone(), self.ctx.clone());
        self.ctx.rt().spawn_blocking(move || {
            let record = ctx.service.quotes().and_then(|q| {
                q.get(&number)?
                    .ok_or(crate::service::ServiceError::QuoteNotFound(
                        number.to_string(),
                    ))
            });
            match record {
                Ok(r) => {
                    let german = ctx.language().code() == "de";
                    let input = DraftInput {
                        title: r.quote.title.clone(),
                        items: r
                            .quote
                            .items
                            .iter()
                            .map(|i| DraftItem {
                                description: i.description.clone(),
                                quantity: i.quantity.format(german),
                                unit: i.unit.clone(),
                                unit_price: plain_amount(i.unit_price.0, german),
                                vat: i.vat_percent,
                            })
                            .collect(),
                        notes: r.quote.notes.clone(),
                        ..DraftInput::default()
                    };
                    let room = r.sent.map(|s| s.room_id).unwrap_or_default();
                    let who = For {
                        room_id: room,
                        name: r.customer.name,
                        user_id: r.customer.user_id,
                        contact_id: r.customer.contact_id,
                    };
                    me.open(who, Some(number), input);
                }
                Err(e) => ctx.fail(e),
            }
        });
    }

    /// Loads what the form needs (the chat's customer, the business details, the next
    /// number) off the UI thread, then shows it.
    fn open(self: &Arc<Self>, who: For, replaces: Option<QuoteNumber>, input: DraftInput) {
        let generation = {
            let mut s = self.state();
            s.generation += 1;
            s.generation
        };
        let me = self.clone();
        let For {
            room_id,
            name,
            user_id,
            contact_id,
        } = who;
        let from_contact = contact_id.is_some();
        let room = room_id.clone();
        self.ctx.service.spawn(move |kontor| async move {
            let peer = match kontor.chats().await {
                Ok(chats) => chats
                    .into_iter()
                    .find(|c| c.room_id == room)
                    .and_then(|c| c.peer),
                Err(_) => None,
            }
            .or(user_id);
            let service = me.ctx.service.clone();
            let loaded = tokio::task::spawn_blocking(move || {
                let quotes = service.quotes()?;
                let details = quotes.details()?.unwrap_or_else(BusinessDetails::new);
                let number = quotes.next_number(Date::today())?;
                Ok::<_, crate::service::ServiceError>((details, number))
            })
            .await;
            let (details, number) = match loaded {
                Ok(Ok(v)) => v,
                Ok(Err(e)) => return me.ctx.fail(e),
                Err(_) => return me.ctx.fail(crate::service::ServiceError::Crashed),
            };
            let me2 = me.clone();
            me.ctx.on_ui(move |w| {
                {
                    let mut s = me2.state();
                    if s.generation != generation {
                        return;
                    }
                    s.room_id = room_id;
                    s.customer = Customer {
                        name: name.clone(),
                        user_id: peer,
                        contact_id,
                    };
                    s.from_contact = from_contact;
                    w.global::<Quotes>()
                        .set_small_business(details.small_business);
                    s.details = details;
                    s.number = Some(number);
                    s.replaces = replaces;
                    s.tried = false;
                }
                let q = w.global::<Quotes>();
                q.set_customer(name.into());
                q.set_number(number.to_string().into());
                q.set_replaces(replaces.map(|n| n.to_string()).unwrap_or_default().into());
                q.set_title(input.title.into());
                q.set_discount(SharedString::new());
                q.set_notes(input.notes.into());
                q.set_valid_until(SharedString::new());
                q.set_sending(false);
                let items: Vec<QuoteLine> = input
                    .items
                    .into_iter()
                    .map(|i| QuoteLine {
                        description: i.description.into(),
                        quantity: i.quantity.into(),
                        unit: i.unit.into(),
                        price: i.unit_price.into(),
                        vat: i.vat as i32,
                        net: SharedString::new(),
                    })
                    .collect();
                q.set_items(ModelRc::from(std::rc::Rc::new(VecModel::from(items))));
                me2.recompute(&w);
                w.global::<Session>().set_screen(Screen::QuoteForm);
            });
        });
    }

    /// The form as a draft (what the service checks and sends).
    fn draft(w: &AppWindow) -> DraftInput {
        let q = w.global::<Quotes>();
        DraftInput {
            title: q.get_title().to_string(),
            items: with_lines(w, |lines| {
                lines
                    .iter()
                    .map(|l| DraftItem {
                        description: l.description.to_string(),
                        quantity: l.quantity.to_string(),
                        unit: l.unit.to_string(),
                        unit_price: l.price.to_string(),
                        vat: i64::from(l.vat),
                    })
                    .collect()
            }),
            discount: q.get_discount().to_string(),
            notes: q.get_notes().to_string(),
            valid_until: q.get_valid_until().to_string(),
        }
    }

    /// Totals (and, once the user tried to send, problems) for the form as typed.
    fn recompute(&self, w: &AppWindow) {
        let german = self.ctx.language().code() == "de";
        let draft = Self::draft(w);
        let s = self.state();
        let number = s.number.unwrap_or(QuoteNumber { year: 2000, seq: 1 });
        let (quote, _) = draft.parse(number, Date::today(), &s.details);
        let totals = quote.totals();
        let q = w.global::<Quotes>();
        with_lines(w, |model| {
            for (i, item) in quote.items.iter().enumerate() {
                if let Some(mut line) = model.row_data(i) {
                    let net: SharedString = item.net().format(german).into();
                    if line.net != net {
                        line.net = net;
                        model.set_row_data(i, line);
                    }
                }
            }
        });
        q.set_per_rate(list(
            totals
                .per_rate
                .iter()
                .map(|r| QuoteTotal {
                    rate: r.rate.percent() as i32,
                    net: r.net.format(german).into(),
                    vat: r.vat.format(german).into(),
                })
                .collect(),
        ));
        q.set_discount_amount(if totals.discount.0 == 0 {
            SharedString::new()
        } else {
            format!("−{}", totals.discount.format(german)).into()
        });
        q.set_net(totals.net.format(german).into());
        q.set_vat(totals.vat.format(german).into());
        q.set_gross(totals.gross.format(german).into());
        let problems = if s.tried {
            match draft.to_quote(number, Date::today(), &s.details) {
                Ok(_) => Vec::new(),
                Err(p) => problems(&p),
            }
        } else {
            Vec::new()
        };
        q.set_problems(list(problems));
    }

    /// "Send quote": checked here first (instantly, with every problem shown), then
    /// written, rendered and sent by the service.
    fn send(self: &Arc<Self>) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let draft = Self::draft(&w);
        let (room, customer, replaces, ok, from_contact) = {
            let mut s = self.state();
            s.tried = true;
            let number = s.number.unwrap_or(QuoteNumber { year: 2000, seq: 1 });
            let ok = draft.to_quote(number, Date::today(), &s.details).is_ok();
            (
                s.room_id.clone(),
                s.customer.clone(),
                s.replaces,
                ok,
                s.from_contact,
            )
        };
        let title = customer.name.clone();
        self.recompute(&w);
        if !ok {
            w.global::<Session>()
                .set_error(super::ErrorKind::QuoteInvalid);
            return;
        }
        w.global::<Quotes>().set_sending(true);
        let german = self.ctx.language().code() == "de";
        let me = self.clone();
        self.ctx.rt().spawn(async move {
            let svc = me.ctx.service.clone();
            let sent = async {
                let written = svc.write_quote(&draft, customer, replaces, german).await?;
                svc.send_quote(
                    &room,
                    written.record.quote.number,
                    german,
                    CancellationToken::new(),
                )
                .await
            }
            .await;
            let me2 = me.clone();
            match sent {
                Ok(record) => me.ctx.on_ui(move |w| {
                    me2.clear(&w);
                    if from_contact {
                        // The chat with the card, where the answer will come.
                        let room = record.sent.map(|s| s.room_id).unwrap_or_default();
                        w.global::<Conversation>()
                            .invoke_show(room.into(), title.into());
                    } else {
                        w.global::<Session>().set_screen(Screen::Conversation);
                    }
                }),
                Err(e) => {
                    me.ctx.on_ui(|w| w.global::<Quotes>().set_sending(false));
                    me.ctx.fail(e);
                }
            }
        });
    }
}

/// Runs `f` on the form's lines (a `VecModel` installed by `wire` and `open`, edited in
/// place so the view keeps its focus and scroll position).
fn with_lines<R>(w: &AppWindow, f: impl FnOnce(&VecModel<QuoteLine>) -> R) -> R {
    let model = w.global::<Quotes>().get_items();
    if let Some(lines) = model.as_any().downcast_ref::<VecModel<QuoteLine>>() {
        return f(lines);
    }
    let fresh = std::rc::Rc::new(VecModel::from(model.iter().collect::<Vec<_>>()));
    w.global::<Quotes>().set_items(ModelRc::from(fresh.clone()));
    f(&fresh)
}

/// A new form: one empty line at 19 %.
fn first_line() -> DraftInput {
    DraftInput {
        items: vec![DraftItem {
            vat: 19,
            ..DraftItem::default()
        }],
        ..DraftInput::default()
    }
}

fn empty_line() -> QuoteLine {
    QuoteLine {
        vat: 19,
        ..QuoteLine::default()
    }
}

/// A price as the form shows it for editing: "1234,56" (no grouping, so it parses back
/// unambiguously).
fn plain_amount(cents: i64, german: bool) -> String {
    let sep = if german { ',' } else { '.' };
    format!("{}{sep}{:02}", cents / 100, (cents % 100).abs())
}

/// The form's problems, by field.
fn problems(p: &[DraftError]) -> Vec<QuoteProblem> {
    let item = |n: usize| i32::try_from(n).unwrap_or(0);
    p.iter()
        .map(|e| {
            let (field, n) = match e {
                DraftError::QuantityFormat { item: n } => (QuoteField::QuantityFormat, *n),
                DraftError::PriceFormat { item: n } => (QuoteField::PriceFormat, *n),
                DraftError::DiscountFormat => (QuoteField::DiscountFormat, 0),
                DraftError::DateFormat => (QuoteField::ValidUntil, 0),
                DraftError::ValidityInPast => (QuoteField::ValidityPast, 0),
                DraftError::Details(_) => (QuoteField::Details, 0),
                DraftError::Field(f) => match f {
                    FieldError::NoItems => (QuoteField::NoItems, 0),
                    FieldError::NoDescription { item: n } => (QuoteField::Description, *n),
                    FieldError::Quantity { item: n } => (QuoteField::Quantity, *n),
                    FieldError::Price { item: n } => (QuoteField::Price, *n),
                    FieldError::VatRate { item: n, .. } => (QuoteField::Vat, *n),
                    FieldError::Discount => (QuoteField::Discount, 0),
                    FieldError::ValidityInPast => (QuoteField::ValidityPast, 0),
                    FieldError::NoTitle => (QuoteField::Title, 0),
                },
            };
            QuoteProblem {
                field,
                item: item(n),
            }
        })
        // The business details are one problem, however many fields are missing.
        .fold(Vec::new(), |mut acc: Vec<QuoteProblem>, p| {
            if !acc.contains(&p) {
                acc.push(p);
            }
            acc
        })
}

impl View for QuoteFormController {
    fn name(&self) -> &'static str {
        "quote-form"
    }

    fn clear(&self, w: &AppWindow) {
        {
            let mut s = self.state();
            let generation = s.generation + 1;
            *s = FormState {
                generation,
                ..FormState::default()
            };
        }
        let q = w.global::<Quotes>();
        q.set_customer(SharedString::new());
        q.set_number(SharedString::new());
        q.set_replaces(SharedString::new());
        q.set_title(SharedString::new());
        q.set_items(list(Vec::<QuoteLine>::new()));
        q.set_discount(SharedString::new());
        q.set_notes(SharedString::new());
        q.set_valid_until(SharedString::new());
        q.set_per_rate(empty::<QuoteTotal>());
        q.set_discount_amount(SharedString::new());
        q.set_net(SharedString::new());
        q.set_vat(SharedString::new());
        q.set_gross(SharedString::new());
        q.set_problems(empty::<QuoteProblem>());
        q.set_sending(false);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let q = w.global::<Quotes>();
        let items: Vec<String> = q
            .get_items()
            .iter()
            .map(|l| format!("{}|{}|{}|{}", l.description, l.quantity, l.price, l.net))
            .collect();
        format!(
            "customer={} number={} title={} items={items:?} notes={} gross={}",
            q.get_customer(),
            q.get_number(),
            q.get_title(),
            q.get_notes(),
            q.get_gross()
        )
    }
}
