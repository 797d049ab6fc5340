//! Renders every screen of the app in German and English into PNG files, with the
//! software renderer and no display: `cargo run -p kontor --example screenshots
//! [-- OUT_DIR]` (default `docs/screenshots/`). The screens are filled with sample data
//! directly, so no homeserver is needed; the README shows the results.

use std::{path::PathBuf, rc::Rc};

use i_slint_backend_testing::{TestingBackend, TestingBackendOptions};
use kontor::ui::{
    AppWindow, BusinessLink, ChatConsent, ChatItem, Chats, ConsentBadge, ConsentKind, ConsentLine,
    ContactChat, ContactItem, Contacts, Conversation, Delivery, DeviceItem, EmojiItem, ErrorKind,
    EvidenceKind, FilePicker, FileType, ImportConsent, ImportMerge, ImportPhase, ImportProblem,
    ImportRow, ImportStep, ImportWizard, MessageItem, MessageKind, Notices, PickerEntry,
    PickerMode, Prefs, ProblemKind, QuoteCardData, QuoteLine, QuoteRow, QuoteStatus, QuoteTotal,
    Quotes, RecoveryState, SasState, Screen, Search, SearchHit, Session, SnippetLine, SnippetPart,
    VerifyPrompt,
};
use kontor::ui::{
    HitKind, Language,
    units::{badge, human_size},
};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel};

/// Phone width; tall enough for the longest screen.
const SIZE: (u32, u32) = (360, 740);

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args_os().nth(1).map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"),
        PathBuf::from,
    );
    std::fs::create_dir_all(&out)?;
    slint::platform::set_platform(Box::new(TestingBackend::new(TestingBackendOptions {
        mock_time: true,
        threading: false,
        renderer_name: Some("software".into()),
    })))
    .map_err(|e| format!("platform: {e}"))?;

    let ui = AppWindow::new()?;
    ui.window()
        .set_size(slint::PhysicalSize::new(SIZE.0, SIZE.1));
    ui.show()?;
    for lang in ["en", "de"] {
        slint::select_bundled_translation(lang)?;
        ui.global::<Session>().set_language(lang.into());
        // Sizes are formatted per language, like the controller does.
        fill(&ui);
        for (name, setup) in screens() {
            ui.global::<Session>().set_online(true);
            ui.global::<Notices>().set_visible(false);
            ui.global::<VerifyPrompt>().set_visible(false);
            ui.global::<Prefs>().set_sas_state(SasState::Idle);
            ui.global::<Prefs>().set_recovery_state(RecoveryState::Idle);
            // The settings screen scrolls; its full length is shown in one tall image.
            let height = if name == "settings" { 2050 } else { SIZE.1 };
            ui.window()
                .set_size(slint::PhysicalSize::new(SIZE.0, height));
            ui.global::<FilePicker>().set_visible(false);
            ui.global::<Conversation>().set_upload_progress(-1.0);
            let search = ui.global::<Search>();
            search.set_active(false);
            search.set_in_chat(false);
            search.set_text("".into());
            setup(&ui);
            let path = out.join(format!("{name}-{lang}.png"));
            save(&ui, &path)?;
            // A screen may need more height to show everything (the erase confirmation).
            ui.window()
                .set_size(slint::PhysicalSize::new(SIZE.0, SIZE.1));
            println!("{}", path.display());
        }
    }
    Ok(())
}

type Setup = fn(&AppWindow);

fn screens() -> Vec<(&'static str, Setup)> {
    vec![
        ("onboarding", |ui| {
            let s = ui.global::<Session>();
            s.set_error(ErrorKind::None);
            s.set_onboarding_step(0);
            s.set_screen(Screen::Onboarding);
        }),
        ("passphrase", |ui| {
            let s = ui.global::<Session>();
            s.set_onboarding_step(1);
            s.set_error(ErrorKind::PassphraseMismatch);
            s.set_screen(Screen::Onboarding);
        }),
        ("unlock", |ui| {
            let s = ui.global::<Session>();
            s.set_error(ErrorKind::None);
            s.set_screen(Screen::Unlock);
        }),
        ("chats", |ui| {
            ui.global::<Session>().set_screen(Screen::Chats);
        }),
        ("conversation", |ui| {
            ui.global::<Session>().set_screen(Screen::Conversation);
        }),
        ("contacts", |ui| {
            ui.global::<Session>().set_screen(Screen::Contacts);
        }),
        ("contact", |ui| {
            ui.global::<Session>().set_screen(Screen::ContactDetail);
        }),
        ("settings", |ui| {
            ui.global::<Prefs>()
                .set_recovery_state(RecoveryState::Shown);
            let s = ui.global::<Search>();
            s.set_status_known(true);
            s.set_status_indexed(1234);
            s.set_status_chats(5);
            s.set_status_complete(3);
            s.set_status_running(true);
            ui.global::<Session>().set_screen(Screen::Settings);
        }),
        ("verify", |ui| {
            ui.global::<Prefs>().set_sas_state(SasState::Compare);
            ui.global::<Session>().set_screen(Screen::Settings);
        }),
        ("verify-prompt", |ui| {
            let p = ui.global::<VerifyPrompt>();
            p.set_device_name("Kontor".into());
            p.set_device_id("PLMOKNIJBU".into());
            p.set_visible(true);
            ui.global::<Session>().set_screen(Screen::Chats);
        }),
        ("notice", |ui| {
            ui.global::<Notices>().set_visible(true);
            ui.global::<Session>().set_screen(Screen::Chats);
        }),
        ("picker", |ui| {
            ui.global::<Session>().set_screen(Screen::Conversation);
            let p = ui.global::<FilePicker>();
            p.set_mode(PickerMode::Open);
            p.set_file_name("".into());
            p.set_confirm_overwrite(false);
            p.set_filter_label("".into());
            p.set_visible(true);
        }),
        ("save-as", |ui| {
            ui.global::<Session>().set_screen(Screen::Conversation);
            let p = ui.global::<FilePicker>();
            p.set_mode(PickerMode::Save);
            p.set_file_name("angebot-10er-karte-unterschrieben.pdf".into());
            p.set_confirm_overwrite(true);
            p.set_visible(true);
        }),
        ("upload", |ui| {
            ui.global::<Session>().set_screen(Screen::Conversation);
            let c = ui.global::<Conversation>();
            c.set_upload_name("kostenvoranschlag-praxisumbau-2025.pdf".into());
            c.set_upload_progress(0.42);
        }),
        ("import-file", |ui| {
            let w = ui.global::<ImportWizard>();
            w.set_step(ImportStep::Choose);
            w.set_consent(ImportConsent::Granted);
            w.set_purpose("Terminabsprachen per Chat".into());
            ui.global::<Session>().set_screen(Screen::ImportWizard);
        }),
        ("import-preview", |ui| {
            let w = ui.global::<ImportWizard>();
            w.set_consent(ImportConsent::FromFile);
            w.set_step(ImportStep::Preview);
            ui.global::<Session>().set_screen(Screen::ImportWizard);
        }),
        ("import-running", |ui| {
            let w = ui.global::<ImportWizard>();
            w.set_phase(ImportPhase::Writing);
            w.set_progress(0.64);
            w.set_step(ImportStep::Running);
            ui.global::<Session>().set_screen(Screen::ImportWizard);
        }),
        ("import-report", |ui| {
            let w = ui.global::<ImportWizard>();
            w.set_cancelled(false);
            w.set_step(ImportStep::Report);
            ui.global::<Session>().set_screen(Screen::ImportWizard);
        }),
        ("contact-erase", |ui| {
            ui.window().set_size(slint::PhysicalSize::new(SIZE.0, 1200));
            ui.global::<Session>().set_screen(Screen::ContactDetail);
            for label in ["Erase contact", "Kontakt löschen"] {
                for e in i_slint_backend_testing::ElementHandle::find_by_accessible_label(ui, label)
                {
                    e.invoke_accessible_default_action();
                }
            }
        }),
        ("offline", |ui| {
            ui.global::<Session>().set_online(false);
            ui.global::<Session>().set_screen(Screen::Conversation);
        }),
        ("quote-form", |ui| {
            fill_quotes(ui);
            ui.global::<Session>().set_screen(Screen::QuoteForm);
        }),
        ("quote-card", |ui| {
            fill_quotes(ui);
            ui.global::<Session>().set_screen(Screen::Conversation);
        }),
        ("quotes", |ui| {
            fill_quotes(ui);
            ui.global::<Session>().set_screen(Screen::Quotes);
        }),
        ("business", |ui| {
            fill_quotes(ui);
            ui.global::<Session>().set_screen(Screen::Business);
        }),
        ("business-link", |ui| {
            let link = kontor::service::link::business_link("@fliesen-weiss:matrix.example.org");
            let modules = kontor::service::link::Modules::of(&link).expect("a QR code");
            let (side, grey) = modules.pixels(kontor::service::link::MODULE_PX);
            let rgb: Vec<u8> = grey.iter().flat_map(|g| [*g; 3]).collect();
            let g = ui.global::<BusinessLink>();
            g.set_qr(slint::Image::from_rgb8(
                slint::SharedPixelBuffer::clone_from_slice(&rgb, side, side),
            ));
            g.set_link(link.into());
            g.set_exported_file("/home/anna/Downloads/kontor-link.png".into());
            ui.global::<Session>().set_screen(Screen::BusinessLink);
        }),
        ("search", |ui| {
            fill_search(ui);
            let s = ui.global::<Search>();
            s.set_text("zirbel".into());
            s.set_active(true);
            s.set_indexing(true);
            ui.global::<Session>().set_screen(Screen::Chats);
        }),
        ("chat-search", |ui| {
            fill_search(ui);
            let s = ui.global::<Search>();
            s.set_in_chat(true);
            s.set_chat_current(0);
            let c = ui.global::<Conversation>();
            c.set_at_present(false);
            c.set_highlight("$hit".into());
            ui.global::<Session>().set_screen(Screen::Conversation);
        }),
        // Last: it makes the selected contact a private one (the next language fills
        // the sample data again).
        ("contact-ask", |ui| {
            let k = ui.global::<Contacts>();
            k.set_selected(ContactItem {
                id: "c7".into(),
                name: "Carla Weiß".into(),
                detail: "Praxis Weiß".into(),
                work: false,
            });
            k.set_selected_status(ConsentKind::None);
            k.set_selected_purpose("".into());
            k.set_selected_matrix_id("".into());
            k.set_selected_title("".into());
            k.set_selected_addresses(ModelRc::from(Rc::new(VecModel::<SharedString>::default())));
            k.set_selected_reach("+491601234567".into());
            k.set_selected_history(ModelRc::from(Rc::new(VecModel::from(vec![ConsentLine {
                kind: ConsentKind::None,
                at: "2026-04-28 10:02".into(),
                ..ConsentLine::default()
            }]))));
            let cc = ui.global::<ContactChat>();
            cc.set_account("@carla.weiss:matrix.example.org".into());
            cc.set_chats(ModelRc::from(Rc::new(VecModel::from(vec![ChatItem {
                room_id: "!c:example.org".into(),
                name: "Carla Weiß".into(),
                initial: "C".into(),
                last_message: "Hallo, ich hätte gern einen Termin.".into(),
                time: "28.4.".into(),
                ..ChatItem::default()
            }]))));
            ui.global::<Session>().set_screen(Screen::ContactDetail);
        }),
    ]
}

/// Sample hits for "zirbel": the chat list shows no chat by that name, the messages
/// found, and the conversation at the first hit (the next screen fills the list again).
fn fill_search(ui: &AppWindow) {
    let hit = |chat: &str, sender: &str, time: &str, kind: HitKind, snippet: &str| {
        let start = snippet.to_lowercase().find("zirbel").unwrap_or(0);
        let end = snippet[start..]
            .find([' ', ','])
            .map_or(snippet.len(), |e| start + e);
        let lines =
            kontor::ui::models::snippet_lines(snippet, std::slice::from_ref(&(start..end)), 36, 3)
                .into_iter()
                .map(|parts| SnippetLine {
                    parts: ModelRc::new(VecModel::from(
                        parts
                            .into_iter()
                            .map(|(text, hit)| SnippetPart {
                                text: text.into(),
                                hit,
                            })
                            .collect::<Vec<_>>(),
                    )),
                })
                .collect::<Vec<_>>();
        SearchHit {
            room_id: format!("!{chat}").into(),
            event_id: "$hit".into(),
            chat: chat.into(),
            sender: sender.into(),
            own: sender.is_empty(),
            time: time.into(),
            kind,
            snippet: snippet.into(),
            lines: ModelRc::new(VecModel::from(lines)),
        }
    };
    let hits = vec![
        hit(
            "Schreinerei Lutz",
            "Schreinerei Lutz",
            "12.3.",
            HitKind::Message,
            "Für die Regale nehmen wir Zirbelkiefer, die Platten sind schon bestellt.",
        ),
        hit(
            "Schreinerei Lutz",
            "",
            "2.3.",
            HitKind::File,
            "zirbelkiefer-muster.pdf",
        ),
        hit(
            "Ben Hoffmann",
            "Ben Hoffmann",
            "14.1.",
            HitKind::Message,
            "Riecht die Zirbel wirklich so stark?",
        ),
    ];
    let s = ui.global::<Search>();
    s.set_hits(ModelRc::new(VecModel::from(hits.clone())));
    s.set_answered(true);
    s.set_chat_hits(ModelRc::new(VecModel::from(hits[..2].to_vec())));
    s.set_chat_answered(true);
    ui.global::<Chats>()
        .set_chats(ModelRc::new(VecModel::<ChatItem>::default()));
    let c = ui.global::<Conversation>();
    c.set_title("Schreinerei Lutz".into());
    let mut found = bubble(
        false,
        "Für die Regale nehmen wir Zirbelkiefer, die Platten sind schon bestellt.",
        MessageKind::Text,
        "12.3.",
        Delivery::Sent,
    );
    found.event_id = "$hit".into();
    c.set_messages(ModelRc::new(VecModel::from(vec![
        bubble(
            true,
            "Welches Holz nehmen Sie für die Regale?",
            MessageKind::Text,
            "12.3.",
            Delivery::Sent,
        ),
        found,
    ])));
}

/// Sample quotes, formatted in the window's language as the controllers do.
fn fill_quotes(ui: &AppWindow) {
    use kontor_quotes::Money;
    let german = lang(ui) == Language::German;
    let eur = |cents: i64| SharedString::from(Money(cents).format(german));
    let q = ui.global::<Quotes>();
    q.set_customer("Ben Hoffmann".into());
    q.set_number("A-2026-0008".into());
    q.set_title(
        if german {
            "Badsanierung"
        } else {
            "Bathroom renovation"
        }
        .into(),
    );
    let line = |d: &str, qty: &str, unit: &str, price: &str, vat: i32, net: i64| QuoteLine {
        description: d.into(),
        quantity: qty.into(),
        unit: unit.into(),
        price: price.into(),
        vat,
        net: eur(net),
    };
    let (qty, price) = if german {
        ("12,5", "89,90")
    } else {
        ("12.5", "89.90")
    };
    q.set_items(ModelRc::new(VecModel::from(vec![
        line(
            if german {
                "Fliesen verlegen"
            } else {
                "Laying tiles"
            },
            qty,
            "m²",
            price,
            19,
            112_375,
        ),
        line(
            if german {
                "Fachbuch Fliesen"
            } else {
                "Tiling handbook"
            },
            "1",
            "",
            if german { "29,90" } else { "29.90" },
            7,
            2_990,
        ),
    ])));
    q.set_per_rate(ModelRc::new(VecModel::from(vec![
        QuoteTotal {
            rate: 19,
            net: eur(112_375),
            vat: eur(21_351),
        },
        QuoteTotal {
            rate: 7,
            net: eur(2_990),
            vat: eur(209),
        },
    ])));
    q.set_net(eur(115_365));
    q.set_vat(eur(21_560));
    q.set_gross(eur(136_925));
    q.set_valid_until(SharedString::new());
    let row = |n: &str, c: &str, t: &str, g: i64, status: QuoteStatus, answered: &str| QuoteRow {
        number: n.into(),
        customer: c.into(),
        title: t.into(),
        gross: eur(g),
        status,
        date: if german { "06.12.2026" } else { "2026-12-06" }.into(),
        answered_at: answered.into(),
        late: false,
    };
    q.set_rows(ModelRc::new(VecModel::from(vec![
        row(
            "A-2026-0008",
            "Ben Hoffmann",
            "Badsanierung",
            136_925,
            QuoteStatus::Accepted,
            "14:05",
        ),
        row(
            "A-2026-0007",
            "Schreinerei Lutz",
            "Küchenfront",
            48_790,
            QuoteStatus::Sent,
            "",
        ),
        row(
            "A-2026-0006",
            "Praxis Berger",
            "Wartezimmer",
            91_000,
            QuoteStatus::Declined,
            "09:12",
        ),
        row(
            "A-2026-0005",
            "Ben Hoffmann",
            "Fliesenspiegel",
            23_800,
            QuoteStatus::Replaced,
            "",
        ),
    ])));
    q.set_open_total(eur(48_790));
    q.set_accepted_total(eur(136_925));
    q.set_d_name("Fliesen Weiß".into());
    q.set_d_address("Große Straße 12\n10115 Berlin".into());
    q.set_d_contact("030 1234567".into());
    q.set_d_tax_id("12/345/67890".into());
    q.set_d_iban("DE89 3704 0044 0532 0130 00".into());
    q.set_d_payment_terms(
        if german {
            "Zahlbar innerhalb von 14 Tagen."
        } else {
            "Payable within 14 days."
        }
        .into(),
    );
    q.set_d_logo("logo.png".into());
    // The conversation with a sent quote and the customer's acceptance.
    let card = QuoteCardData {
        status: QuoteStatus::Accepted,
        number: "A-2026-0008".into(),
        title: q.get_title(),
        gross: eur(136_925),
        valid_until: if german { "05.01.2027" } else { "2027-01-05" }.into(),
        answered_at: "14:05".into(),
        late: false,
        answerable: false,
        replaces: "A-2026-0005".into(),
    };
    let mut quote = file(
        ui,
        true,
        if german {
            "Angebot-A-2026-0008.pdf"
        } else {
            "Quote-A-2026-0008.pdf"
        },
        "13:58",
        38_700,
        FileType::Pdf,
    );
    quote.quote = card;
    let reply = bubble(
        false,
        if german {
            "Angenommen: Angebot A-2026-0008"
        } else {
            "Accepted: quote A-2026-0008"
        },
        MessageKind::Text,
        "14:05",
        Delivery::Sent,
    );
    ui.global::<Conversation>()
        .set_messages(ModelRc::new(VecModel::from(vec![quote, reply])));
}

fn chat(name: &str, last: &str, kind: MessageKind, time: &str, unread: i32) -> ChatItem {
    ChatItem {
        room_id: format!("!{name}").into(),
        name: name.into(),
        initial: kontor::ui::models::initial(name),
        last_message: last.into(),
        last_kind: kind,
        time: time.into(),
        unread,
        ..Default::default()
    }
}

fn bubble(own: bool, text: &str, kind: MessageKind, time: &str, delivery: Delivery) -> MessageItem {
    MessageItem {
        key: text.into(),
        own,
        text: text.into(),
        kind,
        time: time.into(),
        delivery,
        ..Default::default()
    }
}

/// The language the window shows now.
fn lang(ui: &AppWindow) -> Language {
    Language::from_code(&ui.global::<Session>().get_language())
}

/// A file bubble as the controller fills it.
fn file(
    ui: &AppWindow,
    own: bool,
    name: &str,
    time: &str,
    size: u64,
    file_type: FileType,
) -> MessageItem {
    MessageItem {
        event_id: format!("$event-{name}").into(),
        size: human_size(size, lang(ui)).into(),
        badge: badge(name).into(),
        file_type,
        ..bubble(own, name, MessageKind::File, time, Delivery::Sent)
    }
}

/// Sample data: what a physiotherapist's phone might show.
fn fill(ui: &AppWindow) {
    let s = ui.global::<Session>();
    s.set_user_id("@anna:praxis-berger.de".into());
    let mut invite = chat("mueller", "", MessageKind::Text, "", 0);
    invite.invite = true;
    invite.new_customer = true;
    let badged = |mut c: ChatItem, consent: ConsentBadge| {
        c.consent = consent;
        c
    };
    let chats = vec![
        invite,
        badged(
            chat(
                "Ben Hoffmann",
                "Passt, bis Donnerstag!",
                MessageKind::Text,
                "14:05",
                2,
            ),
            ConsentBadge::Granted,
        ),
        badged(
            chat(
                "Schreinerei Lutz",
                "angebot-2025-031.pdf",
                MessageKind::File,
                "12:40",
                0,
            ),
            ConsentBadge::NotGiven,
        ),
        badged(
            chat(
                "Dr. Carla Weiß",
                "Vielen Dank für die schnelle Antwort",
                MessageKind::Text,
                "Mo",
                0,
            ),
            ConsentBadge::Asked,
        ),
        chat(
            "Jonas Schmidt-Übelhör",
            "",
            MessageKind::Undecryptable,
            "3.5.",
            1,
        ),
    ];
    ui.global::<Chats>()
        .set_chats(ModelRc::from(Rc::new(VecModel::from(chats))));
    let c = ui.global::<Conversation>();
    c.set_title("Ben Hoffmann".into());
    c.set_room_id("!ben".into());
    let consent = ui.global::<ChatConsent>();
    consent.set_contact_id("ben".into());
    consent.set_badge(ConsentBadge::Granted);
    let msgs = vec![
        bubble(
            false,
            "Hallo Anna, haben Sie nächste Woche einen Termin frei?",
            MessageKind::Text,
            "13:52",
            Delivery::Sent,
        ),
        bubble(
            true,
            "Donnerstag um 9:30 ginge. Das Angebot für die 10er-Karte schicke ich Ihnen gleich.",
            MessageKind::Text,
            "13:58",
            Delivery::Sent,
        ),
        file(
            ui,
            true,
            "angebot-10er-karte.pdf",
            "13:59",
            1_234_567,
            FileType::Pdf,
        ),
        file(
            ui,
            false,
            "Ueberweisung_Dr_Weiss_2025-03.jpg",
            "14:04",
            734_003,
            FileType::Image,
        ),
        bubble(
            false,
            "Passt, bis Donnerstag!",
            MessageKind::Text,
            "14:05",
            Delivery::Sent,
        ),
        bubble(
            true,
            "Bitte bringen Sie die Überweisung mit.",
            MessageKind::Text,
            "14:06",
            Delivery::Failed,
        ),
        bubble(
            true,
            "Danke!",
            MessageKind::Text,
            "14:07",
            Delivery::Pending,
        ),
    ];
    c.set_messages(ModelRc::from(Rc::new(VecModel::from(msgs))));

    let entry = |name: &str, dir: bool, size: u64| PickerEntry {
        name: name.into(),
        dir,
        size: if dir {
            "".into()
        } else {
            human_size(size, lang(ui)).into()
        },
        badge: if dir { "".into() } else { badge(name).into() },
    };
    let p = ui.global::<FilePicker>();
    p.set_dir("/home/anna/Dokumente/Angebote".into());
    p.set_entries(ModelRc::from(Rc::new(VecModel::from(vec![
        entry("2024", true, 0),
        entry("Vorlagen", true, 0),
        entry("angebot-10er-karte.pdf", false, 1_234_567),
        entry("angebot-hausbesuche-schmidt-uebelhoer.odt", false, 48_312),
        entry("kalkulation-2025.xlsx", false, 212_040),
    ]))));

    let contact = |name: &str, detail: &str, work: bool| ContactItem {
        id: name.into(),
        name: name.into(),
        detail: detail.into(),
        work,
    };
    let k = ui.global::<Contacts>();
    k.set_available(true);
    let work = vec![
        contact("Ben Hoffmann", "+4915112345678", true),
        contact("Dr. Carla Weiß", "Praxis Weiß", true),
        contact("Schreinerei Lutz", "Lutz GmbH", true),
    ];
    let private = vec![
        contact("Jonas Schmidt-Übelhör", "+491717654321", false),
        contact("Tante Erika", "erika@example.org", false),
    ];
    k.set_work(ModelRc::from(Rc::new(VecModel::from(work))));
    k.set_private(ModelRc::from(Rc::new(VecModel::from(private))));
    k.set_selected(contact("Ben Hoffmann", "+4915112345678", true));
    k.set_selected_status(ConsentKind::Granted);
    k.set_selected_purpose("Terminabsprachen und Angebote per Chat".into());
    k.set_selected_reach("+4915112345678\nben.hoffmann@example.org".into());
    let history = vec![
        ConsentLine {
            kind: ConsentKind::None,
            at: "2025-02-10 09:12".into(),
            evidence_kind: EvidenceKind::FileValue,
            evidence: "nein".into(),
            evidence_file: "kunden.vcf".into(),
            evidence_line: 4,
            ..ConsentLine::default()
        },
        ConsentLine {
            kind: ConsentKind::Granted,
            at: "2025-03-01 16:40".into(),
            purpose: "Terminabsprachen und Angebote per Chat".into(),
            evidence_kind: EvidenceKind::Text,
            evidence: "Unterschriebenes Formular, Ordner 2025".into(),
            ..ConsentLine::default()
        },
    ];
    k.set_selected_history(ModelRc::from(Rc::new(VecModel::from(history))));
    k.set_selected_matrix_id("@ben:praxis-berger.de".into());
    let cc = ui.global::<ContactChat>();
    cc.set_account("@ben:praxis-berger.de".into());
    cc.set_default_purpose(kontor_contacts::DEFAULT_PURPOSE.into());
    cc.set_chats(ModelRc::from(Rc::new(VecModel::from(vec![ChatItem {
        room_id: "!b:example.org".into(),
        name: "Ben Hoffmann".into(),
        initial: "B".into(),
        last_message: "Danke, bis Donnerstag!".into(),
        time: "9:41".into(),
        ..ChatItem::default()
    }]))));
    k.set_selected_title("Physiotherapeut".into());
    k.set_selected_addresses(ModelRc::from(Rc::new(VecModel::from(vec![
        slint::SharedString::from("work\nLindenstraße 12\n04109 Leipzig"),
    ]))));
    k.set_export_path("/home/anna/Downloads".into());
    k.set_discovery_looked_up(3);
    k.set_discovery_found(1);
    k.set_identity_server("https://vector.im".into());

    let w = ui.global::<ImportWizard>();
    w.set_path("/home/anna/Downloads/kontakte-2025.vcf".into());
    w.set_format("vCard".into());
    w.set_encoding("UTF-8".into());
    w.set_records(214);
    w.set_consent_fields("X-KONTOR-CONSENT, X-KONTOR-CONSENT-PURPOSE".into());
    w.set_to_work(37);
    w.set_to_private(175);
    let row = |line, name: &str, consent, rejected| ImportRow {
        line,
        name: name.into(),
        consent,
        rejected,
    };
    w.set_rows(ModelRc::from(Rc::new(VecModel::from(vec![
        row(1, "Ben Hoffmann", ConsentKind::Granted, false),
        row(9, "Dr. Carla Weiß", ConsentKind::Granted, false),
        row(18, "Jonas Schmidt-Übelhör", ConsentKind::None, false),
        row(26, "Schreinerei Lutz", ConsentKind::Withdrawn, false),
        row(35, "Vera Vielleicht", ConsentKind::None, true),
    ]))));
    let problem = |line, kind, detail: &str, rejected| ImportProblem {
        line,
        kind,
        detail: detail.into(),
        extra: if kind == ProblemKind::NationalNumber {
            "DE".into()
        } else {
            Default::default()
        },
        rejected,
    };
    let problems = vec![
        problem(35, ProblemKind::UnknownConsent, "vielleicht", true),
        problem(112, ProblemKind::InvalidPhone, "0171 12", false),
        problem(118, ProblemKind::NationalNumber, "0341 2345678", false),
        problem(1290, ProblemKind::EmptyRecord, "", true),
    ];
    w.set_region("DE".into());
    w.set_national_numbers(41);
    w.set_merges(ModelRc::from(Rc::new(VecModel::from(vec![ImportMerge {
        line: 140,
        into_line: 9,
        by_email: true,
    }]))));
    w.set_problems(ModelRc::from(Rc::new(VecModel::from(problems.clone()))));
    w.set_added_work(36);
    w.set_added_private(171);
    w.set_updated(2);
    w.set_merged(3);
    w.set_warnings(1);
    w.set_rejected(2);
    w.set_report_problems(ModelRc::from(Rc::new(VecModel::from(problems))));

    let p = ui.global::<Prefs>();
    p.set_language_choice("system".into());
    p.set_homeserver("https://matrix.praxis-berger.de".into());
    p.set_device_id("KQWERTZUIO".into());
    p.set_identity_server("https://vector.im".into());
    let device = |id: &str, name: &str, verified, current| DeviceItem {
        id: id.into(),
        name: name.into(),
        verified,
        current,
    };
    let devices = vec![
        device("KQWERTZUIO", "Kontor (Telefon)", true, true),
        device("PLMOKNIJBU", "Kontor (Laptop)", false, false),
        device("ZTGBHNUJMK", "Element Web", true, false),
    ];
    p.set_devices(ModelRc::from(Rc::new(VecModel::from(devices))));
    p.set_recovery_key("EsTc 1a2B 3c4D 5e6F 7g8H 9i0J kLmN oPqR sTuV wXyZ aBcD eFgH".into());
    p.set_sas_device("PLMOKNIJBU".into());
    let emojis = [
        ("🐶", "Dog"),
        ("🔑", "Key"),
        ("☂️", "Umbrella"),
        ("🎧", "Headphones"),
        ("👍", "Thumbs Up"),
        ("🚀", "Rocket"),
        ("🏁", "Flag"),
    ]
    .iter()
    .map(|(s, n)| EmojiItem {
        symbol: (*s).into(),
        name: (*n).into(),
    })
    .collect::<Vec<_>>();
    p.set_sas_emojis(ModelRc::from(Rc::new(VecModel::from(emojis))));
    let n = ui.global::<Notices>();
    n.set_sender("Ben Hoffmann".into());
    n.set_body(Default::default());
}

fn save(ui: &AppWindow, path: &std::path::Path) -> Result<(), Box<dyn std::error::Error>> {
    let shot = ui.window().take_snapshot()?;
    let file = std::fs::File::create(path)?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), shot.width(), shot.height());
    enc.set_color(png::ColorType::Rgba);
    enc.set_depth(png::BitDepth::Eight);
    enc.write_header()?.write_image_data(shot.as_bytes())?;
    Ok(())
}
