//! The fixed words of the consent proof, in German and English. A document's words,
//! like the quote's labels in kontor-quotes, not the UI's: the CLI renders the same PDF
//! and has no gettext catalogue. What the record holds (purposes, request and answer
//! texts, evidence) is never among them: it is printed as recorded.

use kontor_contacts::{AnswerWay, Book, ConsentStatus};

use crate::service::language::Language;

/// Every fixed text of the proof in one language.
pub(super) struct Words {
    pub(super) german: bool,
    pub(super) title: &'static str,
    pub(super) law: &'static str,
    pub(super) generated: &'static str,
    pub(super) as_recorded: &'static str,
    pub(super) person: &'static str,
    pub(super) name: &'static str,
    pub(super) organisation: &'static str,
    pub(super) contact_id: &'static str,
    pub(super) book: &'static str,
    pub(super) chat_account: &'static str,
    pub(super) found_account: &'static str,
    pub(super) phone: &'static str,
    pub(super) email: &'static str,
    pub(super) created: &'static str,
    pub(super) current: &'static str,
    pub(super) status: &'static str,
    pub(super) purpose: &'static str,
    pub(super) since: &'static str,
    pub(super) nothing_recorded: &'static str,
    pub(super) open_request: &'static str,
    pub(super) entry: &'static str,
    pub(super) of: &'static str,
    pub(super) recorded_at: &'static str,
    pub(super) source: &'static str,
    pub(super) room: &'static str,
    pub(super) evidence: &'static str,
    pub(super) no_evidence: &'static str,
    pub(super) request_event: &'static str,
    pub(super) request_room: &'static str,
    pub(super) asked_by: &'static str,
    pub(super) asked_device: &'static str,
    pub(super) asked_user: &'static str,
    pub(super) asked_at: &'static str,
    pub(super) request_language: &'static str,
    pub(super) request_purpose: &'static str,
    pub(super) request_text: &'static str,
    pub(super) answer_event: &'static str,
    pub(super) answer_way: &'static str,
    pub(super) answer_text: &'static str,
    pub(super) answered_by: &'static str,
    pub(super) answer_device: &'static str,
    pub(super) server_time: &'static str,
    pub(super) local_time: &'static str,
    pub(super) no_request: &'static str,
    pub(super) not_recorded: &'static str,
    pub(super) unencrypted: &'static str,
}

const GERMAN: Words = Words {
    german: true,
    title: "Einwilligungsnachweis",
    law: "Nachweis der Einwilligung nach Art. 7 Abs. 1 DSGVO",
    generated: "Erstellt am",
    as_recorded: "Zwecke, Texte und Antworten stehen hier genau so, wie sie aufgezeichnet \
                  wurden (nicht übersetzt). Alle Zeiten in UTC.",
    person: "Betroffene Person",
    name: "Name",
    organisation: "Organisation",
    contact_id: "Kontakt-ID",
    book: "Adressbuch",
    chat_account: "Matrix-Konto (Chat)",
    found_account: "Matrix-Konto (Kontaktsuche)",
    phone: "Telefon",
    email: "E-Mail",
    created: "Angelegt am",
    current: "Einwilligung jetzt",
    status: "Status",
    purpose: "Zweck",
    since: "Seit",
    nothing_recorded: "nichts aufgezeichnet",
    open_request: "Offene Anfrage (noch nicht beantwortet)",
    entry: "Verlauf – Eintrag",
    of: "von",
    recorded_at: "Aufgezeichnet am",
    source: "Quelle",
    room: "Chat (Raum-ID)",
    evidence: "Nachweis",
    no_evidence: "keiner aufgezeichnet",
    request_event: "Anfrage: Ereignis-ID",
    request_room: "Anfrage: Raum-ID",
    asked_by: "Gefragt von (Konto)",
    asked_device: "Gefragt von (Gerät)",
    asked_user: "Gefragt wurde (Konto)",
    asked_at: "Gefragt am (Serverzeit)",
    request_language: "Sprache der Anfrage",
    request_purpose: "Zweck der Anfrage",
    request_text: "Text der Anfrage (genau)",
    answer_event: "Antwort: Ereignis-ID",
    answer_way: "Antwort: Art",
    answer_text: "Antwort: Text (genau)",
    answered_by: "Geantwortet von (Konto)",
    answer_device: "Geantwortet von (Gerät)",
    server_time: "Antwort: Serverzeit",
    local_time: "Antwort: empfangen (Gerätezeit)",
    no_request: "keine (Widerruf ohne Anfrage)",
    not_recorded: "nicht aufgezeichnet",
    unencrypted: "keines (unverschlüsselte Nachricht)",
};

const ENGLISH: Words = Words {
    german: false,
    title: "Proof of consent",
    law: "Demonstration of consent under GDPR Art. 7(1)",
    generated: "Generated on",
    as_recorded: "Purposes, texts and answers appear exactly as recorded (not translated). \
                  All times in UTC.",
    person: "Data subject",
    name: "Name",
    organisation: "Organisation",
    contact_id: "Contact ID",
    book: "Contact book",
    chat_account: "Matrix account (chat)",
    found_account: "Matrix account (discovery)",
    phone: "Phone",
    email: "E-mail",
    created: "Created on",
    current: "Consent now",
    status: "Status",
    purpose: "Purpose",
    since: "Since",
    nothing_recorded: "nothing recorded",
    open_request: "Open request (not answered yet)",
    entry: "History – entry",
    of: "of",
    recorded_at: "Recorded on",
    source: "Source",
    room: "Chat (room ID)",
    evidence: "Evidence",
    no_evidence: "none recorded",
    request_event: "Request: event ID",
    request_room: "Request: room ID",
    asked_by: "Asked by (account)",
    asked_device: "Asked by (device)",
    asked_user: "Asked (account)",
    asked_at: "Asked on (server time)",
    request_language: "Language of the request",
    request_purpose: "Purpose asked for",
    request_text: "Request text (exact)",
    answer_event: "Answer: event ID",
    answer_way: "Answer: how",
    answer_text: "Answer: text (exact)",
    answered_by: "Answered by (account)",
    answer_device: "Answered by (device)",
    server_time: "Answer: server time",
    local_time: "Answer: received (device time)",
    no_request: "none (withdrawal without a request)",
    not_recorded: "not recorded",
    unencrypted: "none (unencrypted event)",
};

impl Words {
    /// The words of one language.
    pub(super) fn get(language: Language) -> &'static Words {
        match language {
            Language::German => &GERMAN,
            Language::English => &ENGLISH,
        }
    }

    pub(super) fn status(&self, s: ConsentStatus) -> &'static str {
        match (s, self.german) {
            (ConsentStatus::Granted, true) => "erteilt",
            (ConsentStatus::None, true) => "keine Einwilligung",
            (ConsentStatus::Withdrawn, true) => "widerrufen",
            (ConsentStatus::Granted, false) => "granted",
            (ConsentStatus::None, false) => "no consent",
            (ConsentStatus::Withdrawn, false) => "withdrawn",
        }
    }

    pub(super) fn book_name(&self, b: Book) -> &'static str {
        match (b, self.german) {
            (Book::Work, true) => "Arbeitsbuch (mit Einwilligung)",
            (Book::Private, true) => "privates Buch (ohne Einwilligung)",
            (Book::Work, false) => "work book (consented)",
            (Book::Private, false) => "private book (no consent)",
        }
    }

    pub(super) fn way(&self, w: AnswerWay) -> &'static str {
        match (w, self.german) {
            (AnswerWay::Reply, true) => "Antwort auf die Anfrage",
            (AnswerWay::Message, true) => "eigene Nachricht im Chat",
            (AnswerWay::Reaction, true) => "Reaktion auf die Anfrage",
            (AnswerWay::Reply, false) => "reply to the request",
            (AnswerWay::Message, false) => "a message of its own in the chat",
            (AnswerWay::Reaction, false) => "reaction to the request",
        }
    }

    /// `15.01.2027, 08:00:00 UTC` / `2027-01-15 08:00:00 UTC`.
    pub(super) fn time(&self, t: kontor_contacts::Timestamp) -> String {
        let Some(at) = chrono::DateTime::from_timestamp(t.0, 0) else {
            return t.to_string();
        };
        let pattern = if self.german {
            "%d.%m.%Y, %H:%M:%S UTC"
        } else {
            "%Y-%m-%d %H:%M:%S UTC"
        };
        at.format(pattern).to_string()
    }
}
