//! The quotes overview (filter by status and customer, totals of open and accepted, the
//! CSV for the tax adviser), the business details, the customer's Accept / Decline on a
//! card, and the notice when a customer answered. The overview reads the device's
//! sealed store only, so it works offline and opens at once (BENCHMARKS.md).

use std::sync::{Arc, Mutex, MutexGuard};

use kontor_quotes::{
    BusinessDetails, Date, DetailsError, QuoteNumber, Status,
    answer::Answer,
    overview::{Filter, Overview},
};
use slint::{ComponentHandle, Model, SharedString};

use super::{
    AppWindow, DetailsField, QuoteRow, QuoteStatus, Quotes, Screen, Session,
    context::{Ctx, empty, export_dir, list},
    file_picker::{self, Mode},
    format::{Language, local_time_label},
    view::View,
};
use crate::service::{ServiceError, quotes::Answered};

#[derive(Default)]
struct State {
    /// Where "back" goes (the overview is opened from the chats and the settings).
    back_to: Option<Screen>,
    /// The logo chosen in the details form (bytes), until saved.
    logo: Option<Vec<u8>>,
}

/// Answers the overview's, the details' and the cards' callbacks.
pub(crate) struct QuotesController {
    ctx: Ctx,
    state: Mutex<State>,
}

impl QuotesController {
    /// Wires the overview, the details and the card's answer.
    pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<QuotesController> {
        let me = Arc::new(QuotesController {
            ctx: ctx.clone(),
            state: Mutex::default(),
        });
        let q = window.global::<Quotes>();
        q.set_rows(empty::<QuoteRow>());
        q.set_d_problems(empty::<DetailsField>());
        {
            let me = me.clone();
            q.on_open_overview(move |customer| {
                me.with_window(|w| {
                    me.remember_back(&w);
                    let q = w.global::<Quotes>();
                    q.set_filter_customer(customer);
                    q.set_filter_status(QuoteStatus::None);
                    q.set_exported_file(SharedString::new());
                    w.global::<Session>().set_screen(Screen::Quotes);
                });
                me.reload();
            });
        }
        {
            let me = me.clone();
            q.on_filter(move || me.reload());
        }
        {
            let me = me.clone();
            q.on_back(move || {
                me.with_window(|w| {
                    let to = me.state().back_to.take().unwrap_or(Screen::Chats);
                    w.global::<Session>().set_screen(to);
                })
            });
        }
        {
            let me = me.clone();
            q.on_export_csv(move || me.export_csv());
        }
        {
            let me = me.clone();
            q.on_answer(move |event_id, number, accept| {
                me.answer(event_id.to_string(), number.to_string(), accept)
            });
        }
        {
            let me = me.clone();
            q.on_open_details(move || me.open_details());
        }
        {
            let me = me.clone();
            q.on_save_details(move || me.save_details());
        }
        {
            let me = me.clone();
            q.on_choose_logo(move || me.choose_logo());
        }
        {
            let me = me.clone();
            q.on_remove_logo(move || {
                me.state().logo = None;
                me.with_window(|w| w.global::<Quotes>().set_d_logo(SharedString::new()));
            });
        }
        me
    }

    fn with_window(&self, f: impl FnOnce(AppWindow)) {
        if let Some(w) = self.ctx.weak.upgrade() {
            f(w);
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn remember_back(&self, w: &AppWindow) {
        let now = w.global::<Session>().get_screen();
        if !matches!(now, Screen::Quotes | Screen::Business) {
            self.state().back_to = Some(now);
        }
    }

    /// Reads the overview for the filter shown, off the UI thread.
    pub(crate) fn reload(self: &Arc<Self>) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let q = w.global::<Quotes>();
        let customer = q.get_filter_customer().trim().to_owned();
        let filter = Filter {
            status: status_of(q.get_filter_status()),
            customer: (!customer.is_empty()).then_some(customer),
        };
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn_blocking(move || {
            let overview = ctx
                .service
                .quotes()
                .and_then(|q| q.overview(&filter, Date::today()));
            match overview {
                Ok(o) => {
                    let lang = ctx.language();
                    ctx.on_ui(move |w| show_overview(&w, &o, lang));
                }
                Err(e) => ctx.fail(e),
            }
        });
    }

    /// Writes the CSV into the download folder (0600) and says where.
    fn export_csv(&self) {
        let ctx = self.ctx.clone();
        let dir = export_dir(&ctx);
        let german = ctx.language() == Language::German;
        self.ctx.rt().spawn_blocking(move || {
            let today = Date::today();
            let name = format!(
                "{}-{}.csv",
                if german { "Angebote" } else { "Quotes" },
                today.format(false)
            );
            let path = dir.join(name);
            let written = ctx
                .service
                .quotes()
                .and_then(|q| q.csv(today, german))
                .and_then(|csv| {
                    std::fs::create_dir_all(&dir).map_err(|source| ServiceError::Write {
                        path: dir.clone(),
                        source,
                    })?;
                    crate::service::export::write(&path, &csv)
                });
            match written {
                Ok(()) => {
                    let shown = path.display().to_string();
                    ctx.on_ui(move |w| w.global::<Quotes>().set_exported_file(shown.into()));
                }
                Err(e) => ctx.fail(e),
            }
        });
    }

    /// The customer's Accept / Decline: a reply in the chat that reads naturally in any
    /// client; the card follows when it comes back from the server.
    fn answer(&self, event_id: String, number: String, accept: bool) {
        let Ok(number) = number.parse::<QuoteNumber>() else {
            return;
        };
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let room = w.global::<super::Conversation>().get_room_id().to_string();
        let given = if accept {
            Answer::Accept
        } else {
            Answer::Decline
        };
        let german = self.ctx.language() == Language::German;
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            if let Err(e) = ctx
                .service
                .answer_quote(&room, &event_id, number, given, german)
                .await
            {
                ctx.fail(e);
            }
        });
    }

    fn open_details(self: &Arc<Self>) {
        let me = self.clone();
        self.ctx.rt().spawn_blocking(move || {
            let details = me.ctx.service.quotes().and_then(|q| q.details());
            match details {
                Ok(d) => {
                    let d = d.unwrap_or_else(BusinessDetails::new);
                    me.state().logo = d.logo.clone();
                    let me2 = me.clone();
                    me.ctx.on_ui(move |w| {
                        me2.remember_back(&w);
                        show_details(&w, &d);
                        w.global::<Session>().set_screen(Screen::Business);
                    });
                }
                Err(e) => me.ctx.fail(e),
            }
        });
    }

    fn save_details(&self) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let q = w.global::<Quotes>();
        q.set_d_saved(false);
        let details = BusinessDetails {
            name: q.get_d_name().trim().to_owned(),
            address: q.get_d_address().trim().to_owned(),
            contact: q.get_d_contact().trim().to_owned(),
            tax_id: q.get_d_tax_id().trim().to_owned(),
            iban: q.get_d_iban().trim().to_owned(),
            bic: q.get_d_bic().trim().to_owned(),
            small_business: q.get_d_small_business(),
            // Not a number: 0, which the check names.
            validity_days: q.get_d_validity().trim().parse().unwrap_or(0),
            payment_terms: q.get_d_payment_terms().trim().to_owned(),
            logo: self.state().logo.clone(),
        };
        let problems = details.check();
        q.set_d_problems(list(problems.iter().map(|p| field(*p)).collect()));
        if !problems.is_empty() {
            return;
        }
        let ctx = self.ctx.clone();
        self.ctx.rt().spawn(async move {
            match ctx.service.save_details(details).await {
                Ok(()) => ctx.on_ui(|w| w.global::<Quotes>().set_d_saved(true)),
                // Kept on this device; only the sync to the other devices failed.
                Err(ServiceError::NotSignedIn) => ctx.fail(ServiceError::NotSignedIn),
                Err(e) => ctx.fail(e),
            }
        });
    }

    fn choose_logo(self: &Arc<Self>) {
        let Some(w) = self.ctx.weak.upgrade() else {
            return;
        };
        let filters = ["png", "jpg", "jpeg"].map(String::from).to_vec();
        let me = self.clone();
        file_picker::open(&w, Mode::Open { filters }, None, move |picked| {
            let Some(path) = picked else { return };
            let me2 = me.clone();
            me.ctx.rt().spawn_blocking(move || {
                let bytes = match std::fs::read(&path) {
                    Ok(b) => b,
                    Err(e) => {
                        tracing::warn!("logo not read: {}", e.kind());
                        return me2.ctx.fail(super::ErrorKind::File);
                    }
                };
                let ok = bytes.len() <= kontor_quotes::LOGO_LIMIT
                    && kontor_quotes::logo_kind(&bytes).is_some();
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                if ok {
                    me2.state().logo = Some(bytes);
                }
                me2.ctx.on_ui(move |w| {
                    let q = w.global::<Quotes>();
                    if ok {
                        q.set_d_logo(name.into());
                    } else {
                        q.set_d_problems(list(vec![DetailsField::Logo]));
                    }
                });
            });
        });
    }

    /// A customer answered one of the freelancer's quotes: the overview (if shown)
    /// follows at once.
    pub(crate) fn answered(self: &Arc<Self>, w: &AppWindow) {
        if w.global::<Session>().get_screen() == Screen::Quotes {
            self.reload();
        }
    }
}

fn show_overview(w: &AppWindow, o: &Overview, lang: Language) {
    let german = lang == Language::German;
    let q = w.global::<Quotes>();
    q.set_rows(list(
        o.rows
            .iter()
            .map(|r| QuoteRow {
                number: r.number.to_string().into(),
                customer: r.customer.name.clone().into(),
                title: r.title.clone().into(),
                gross: r.gross.format(german).into(),
                status: status_view(r.status),
                date: r.date.format(german).into(),
                answered_at: r
                    .answered_at_ms
                    .map(|ms| local_time_label(ms, lang))
                    .unwrap_or_default()
                    .into(),
                late: r.late,
            })
            .collect(),
    ));
    q.set_open_total(o.open_total.format(german).into());
    q.set_accepted_total(o.accepted_total.format(german).into());
}

fn show_details(w: &AppWindow, d: &BusinessDetails) {
    let q = w.global::<Quotes>();
    q.set_d_name(d.name.clone().into());
    q.set_d_address(d.address.clone().into());
    q.set_d_contact(d.contact.clone().into());
    q.set_d_tax_id(d.tax_id.clone().into());
    q.set_d_iban(d.iban.clone().into());
    q.set_d_bic(d.bic.clone().into());
    q.set_d_small_business(d.small_business);
    q.set_d_validity(d.validity_days.to_string().into());
    q.set_d_payment_terms(d.payment_terms.clone().into());
    q.set_d_logo(if d.logo.is_some() { "logo" } else { "" }.into());
    q.set_d_problems(empty::<DetailsField>());
    q.set_d_saved(false);
}

/// The view's status for the library's.
pub(crate) fn status_view(s: Status) -> QuoteStatus {
    match s {
        Status::Draft => QuoteStatus::Draft,
        Status::Sent => QuoteStatus::Sent,
        Status::Accepted => QuoteStatus::Accepted,
        Status::Declined => QuoteStatus::Declined,
        Status::Expired => QuoteStatus::Expired,
        Status::Replaced => QuoteStatus::Replaced,
    }
}

fn status_of(s: QuoteStatus) -> Option<Status> {
    match s {
        QuoteStatus::None => None,
        QuoteStatus::Draft => Some(Status::Draft),
        QuoteStatus::Sent => Some(Status::Sent),
        QuoteStatus::Accepted => Some(Status::Accepted),
        QuoteStatus::Declined => Some(Status::Declined),
        QuoteStatus::Expired => Some(Status::Expired),
        QuoteStatus::Replaced => Some(Status::Replaced),
    }
}

fn field(e: DetailsError) -> DetailsField {
    match e {
        DetailsError::Name => DetailsField::Name,
        DetailsError::Address => DetailsField::Address,
        DetailsError::TaxId => DetailsField::TaxId,
        DetailsError::Iban => DetailsField::Iban,
        DetailsError::Bic => DetailsField::Bic,
        DetailsError::Validity => DetailsField::Validity,
        DetailsError::Logo => DetailsField::Logo,
    }
}

impl View for Arc<QuotesController> {
    fn name(&self) -> &'static str {
        "quotes"
    }

    fn clear(&self, w: &AppWindow) {
        *self.state() = State::default();
        let q = w.global::<Quotes>();
        q.set_rows(empty::<QuoteRow>());
        q.set_open_total(SharedString::new());
        q.set_accepted_total(SharedString::new());
        q.set_filter_customer(SharedString::new());
        q.set_filter_status(QuoteStatus::None);
        q.set_exported_file(SharedString::new());
        show_details(w, &BusinessDetails::default());
        q.set_d_validity("30".into());
        q.set_d_logo(SharedString::new());
    }

    fn quote_answered(&self, w: &AppWindow, _answered: &Answered) {
        self.answered(w);
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        let q = w.global::<Quotes>();
        let rows: Vec<String> = q
            .get_rows()
            .iter()
            .map(|r| format!("{}|{}|{}", r.number, r.customer, r.gross))
            .collect();
        format!(
            "rows={rows:?} open={} accepted={} filter={} exported={} details={}|{}|{}|{}|{}|{}|{} logo={}",
            q.get_open_total(),
            q.get_accepted_total(),
            q.get_filter_customer(),
            q.get_exported_file(),
            q.get_d_name(),
            q.get_d_address(),
            q.get_d_contact(),
            q.get_d_tax_id(),
            q.get_d_iban(),
            q.get_d_bic(),
            q.get_d_payment_terms(),
            q.get_d_logo(),
        )
    }
}
