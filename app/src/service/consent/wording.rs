//! What the customer reads and writes: the request, the confirmations, and how an
//! answer from any Matrix client is read.
//!
//! The customer may use Element, not Kontor, so every part is a plain message a person
//! can read and answer anywhere. **Decided**, and said in every request:
//! - **Yes**: a reply to the request, or a message of its own, that starts with "JA" or
//!   "YES" (also "einverstanden", "zustimmen", "agree", "consent"); or a 👍 (✅)
//!   reaction on the request.
//! - **No**: "NEIN" / "NO" the same way, or a 👎 (❌) reaction.
//! - **Withdrawal**, at any time later: a message that says only "STOP" (also
//!   "Widerruf", "widerrufen", "ich widerrufe", "withdraw", "unsubscribe"). Removing
//!   the 👍 again does not withdraw: a removed reaction leaves no message a person can
//!   point to, so the request names STOP as the one way.
//!
//! A message of its own counts only when it is short and nothing but the answer
//! ("Ja", "Ja, gerne!", "NEIN danke"): "Ja, aber erst Dienstag" while a request is open
//! is about something else. A reply to the request may say more after the first word.
//!
//! The request (reviewed against GDPR Art. 7 and § 7 UWG): it names who asks (business
//! name and Matrix account), the purpose in the freelancer's exact words, that consent
//! is voluntary and that saying no changes nothing in the chat (Art. 7(4)), how to
//! answer, and — before the customer consents, as Art. 7(3) sentence 3 demands — that
//! and how they can withdraw at any time with effect for the future. It carries no
//! advertising (it asks for the consent § 7 Abs. 2 Nr. 2 UWG requires; it does not
//! presume it). The first paragraph is the freelancer's editable template; the answer
//! and withdrawal paragraphs are always added by Kontor, so no edit can drop them.

use kontor_quotes::answer::{Answer, from_reaction};

use crate::service::language::Language;

/// The placeholders an editable intro may use.
pub const PLACEHOLDERS: [&str; 3] = ["{name}", "{account}", "{purpose}"];

/// The intro Kontor uses when the freelancer has not written their own.
pub fn default_intro(language: Language) -> &'static str {
    match language {
        Language::German => {
            "{name} ({account}) bittet Sie um Ihre Einwilligung zu folgendem Zweck: „{purpose}“. \
             Dafür speichert {name} Ihren Namen, Ihre Kontaktdaten und Ihre Matrix-Adresse und \
             nutzt sie nur für diesen Zweck."
        }
        Language::English => {
            "{name} ({account}) asks for your consent to the following purpose: \"{purpose}\". \
             For it, {name} keeps your name, your contact details and your Matrix address and \
             uses them for this purpose only."
        }
    }
}

/// The whole request: heading, the intro (the freelancer's template or the default,
/// placeholders filled) and Kontor's fixed paragraphs on answering and withdrawing.
pub fn request_text(
    language: Language,
    intro: Option<&str>,
    name: &str,
    account: &str,
    purpose: &str,
) -> String {
    let intro = intro
        .filter(|t| !t.trim().is_empty())
        .unwrap_or(default_intro(language))
        .replace("{name}", name)
        .replace("{account}", account)
        .replace("{purpose}", purpose);
    match language {
        Language::German => format!(
            "Bitte um Einwilligung\n\n{intro}\n\n\
             Ihre Einwilligung ist freiwillig. Wenn Sie nicht einwilligen, ändert sich an \
             unserem Austausch in diesem Chat nichts.\n\n\
             So antworten Sie: Antworten Sie auf diese Nachricht mit JA, um einzuwilligen, \
             oder mit NEIN, um abzulehnen (oder reagieren Sie mit 👍 bzw. 👎).\n\n\
             Widerruf: Sie können Ihre Einwilligung jederzeit ohne Angabe von Gründen \
             widerrufen, indem Sie in diesem Chat STOP schreiben. Der Widerruf gilt für die \
             Zukunft; die Verarbeitung bis dahin bleibt rechtmäßig."
        ),
        Language::English => format!(
            "Request for consent\n\n{intro}\n\n\
             Your consent is voluntary. If you do not consent, nothing changes in our \
             conversation in this chat.\n\n\
             How to answer: reply to this message with YES to consent, or with NO to \
             decline (or react with 👍 or 👎).\n\n\
             Withdrawal: you can withdraw your consent at any time without giving reasons by \
             writing STOP in this chat. The withdrawal applies from then on; what was done \
             before it stays lawful."
        ),
    }
}

/// What the customer is told after their answer or withdrawal was recorded.
pub fn confirmation(language: Language, what: Confirm, purpose: &str, name: &str) -> String {
    match (language, what) {
        (Language::German, Confirm::Granted) => format!(
            "Danke, Ihre Einwilligung zu „{purpose}“ ist erfasst. Sie können sie jederzeit \
             widerrufen, indem Sie hier STOP schreiben."
        ),
        (Language::German, Confirm::Declined) => {
            "Ihre Antwort ist erfasst: keine Einwilligung. An unserem Chat ändert sich nichts."
                .to_owned()
        }
        (Language::German, Confirm::Withdrawn) => format!(
            "Ihr Widerruf ist erfasst. {name} nutzt Ihre Kontaktdaten ab jetzt nicht mehr für \
             „{purpose}“."
        ),
        (Language::English, Confirm::Granted) => format!(
            "Thank you, your consent to \"{purpose}\" is recorded. You can withdraw it at any \
             time by writing STOP here."
        ),
        (Language::English, Confirm::Declined) => {
            "Your answer is recorded: no consent. Nothing changes in our chat.".to_owned()
        }
        (Language::English, Confirm::Withdrawn) => format!(
            "Your withdrawal is recorded. From now on {name} no longer uses your contact details \
             for \"{purpose}\"."
        ),
    }
}

/// Which confirmation to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Confirm {
    /// After "yes".
    Granted,
    /// After "no".
    Declined,
    /// After "STOP".
    Withdrawn,
}

/// What Kontor's own Yes / No buttons send (a reply to the request) — it reads
/// naturally in any client and [`answer_in_reply`] reads it back.
pub fn button_reply(yes: bool, language: Language) -> &'static str {
    match (yes, language) {
        (true, Language::German) => "JA, ich willige ein.",
        (false, Language::German) => "NEIN, ich willige nicht ein.",
        (true, Language::English) => "YES, I consent.",
        (false, Language::English) => "NO, I do not consent.",
    }
}

/// The answer a reaction on the request means.
pub fn answer_in_reaction(key: &str) -> Option<bool> {
    from_reaction(key).map(|a| a == Answer::Accept)
}

/// The answer a reply to the request means: its first word (after any quoted lines).
pub fn answer_in_reply(text: &str) -> Option<bool> {
    first_word(&words(text)?)
}

/// The answer a message of its own means: only a short message that is nothing but the
/// answer (see the module docs).
pub fn answer_in_message(text: &str) -> Option<bool> {
    let words = words(text)?;
    let answer = first_word(&words)?;
    words[1..]
        .iter()
        .all(|w| FILLERS.contains(&w.as_str()))
        .then_some(answer)
}

/// True for a message that withdraws consent: nothing but one of the withdrawal words.
pub fn is_withdrawal(text: &str) -> bool {
    let Some(words) = words(text) else {
        return false;
    };
    let joined = words.join(" ");
    WITHDRAWALS.contains(&joined.as_str())
}

const YES: [&str; 6] = [
    "ja",
    "yes",
    "einverstanden",
    "zustimmen",
    "agree",
    "consent",
];
const NO: [&str; 2] = ["nein", "no"];
const WITHDRAWALS: [&str; 7] = [
    "stop",
    "widerruf",
    "widerrufen",
    "ich widerrufe",
    "withdraw",
    "unsubscribe",
    "abmelden",
];
/// Words a short answer may carry besides the answer itself ("Ja, gerne!", "NEIN
/// danke", "JA, ich willige ein", "yes I consent").
const FILLERS: [&str; 15] = [
    "gerne", "bitte", "danke", "ich", "willige", "ein", "nicht", "please", "thanks", "thank",
    "you", "i", "consent", "do", "not",
];

fn first_word(words: &[String]) -> Option<bool> {
    let first = words.first()?.as_str();
    if YES.contains(&first) {
        Some(true)
    } else if NO.contains(&first) {
        Some(false)
    } else {
        None
    }
}

/// The lower-cased words of the first line that is not a quote ("> …" of a reply
/// fallback), punctuation dropped; `None` when there is none.
fn words(text: &str) -> Option<Vec<String>> {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>'))?;
    let words: Vec<String> = line
        .split(|c: char| c.is_whitespace() || (c.is_ascii_punctuation() && c != '\''))
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    (!words.is_empty()).then_some(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replies_read_the_first_word_in_german_and_english() {
        for text in [
            "JA",
            "ja, gerne",
            "Yes please",
            "Einverstanden.",
            "JA, ich willige ein.",
        ] {
            assert_eq!(answer_in_reply(text), Some(true), "{text}");
        }
        for text in ["NEIN", "nein danke", "No.", "NO, I do not consent."] {
            assert_eq!(answer_in_reply(text), Some(false), "{text}");
        }
        for text in ["Jahresende passt", "Was heißt das?", "", "> JA"] {
            assert_eq!(answer_in_reply(text), None, "{text:?}");
        }
        assert_eq!(
            answer_in_reply("> <@anna:praxis.de> Bitte um Einwilligung\n\nJa, klar"),
            Some(true)
        );
    }

    #[test]
    fn a_message_of_its_own_counts_only_when_it_is_just_the_answer() {
        for text in [
            "JA",
            "Ja!",
            "ja gerne",
            "YES",
            "yes, thank you",
            "Nein danke",
        ] {
            assert!(answer_in_message(text).is_some(), "{text}");
        }
        for text in [
            "Ja, aber erst Dienstag",
            "Ja um 10 Uhr?",
            "no idea",
            "Nochmal",
        ] {
            assert_eq!(answer_in_message(text), None, "{text}");
        }
    }

    #[test]
    fn reactions_and_withdrawals() {
        assert_eq!(answer_in_reaction("👍🏼"), Some(true));
        assert_eq!(answer_in_reaction("👎"), Some(false));
        assert_eq!(answer_in_reaction("❤️"), None);
        for text in ["STOP", "stop.", "Widerruf", "Ich widerrufe!", "UNSUBSCRIBE"] {
            assert!(is_withdrawal(text), "{text}");
        }
        for text in ["Stop, ich meinte Dienstag", "Bitte nicht stoppen", ""] {
            assert!(!is_withdrawal(text), "{text}");
        }
    }

    #[test]
    fn the_request_names_who_what_how_and_the_withdrawal_and_an_edit_cannot_drop_them() {
        for language in [Language::German, Language::English] {
            for intro in [None, Some("Hallo {name}! Zweck: {purpose}.")] {
                let text = request_text(language, intro, "Praxis Berger", "@berger:hs", "Termine");
                assert!(text.contains("Praxis Berger"), "{text}");
                assert!(text.contains("Termine"), "{text}");
                assert!(text.contains("STOP"), "{text}");
                assert!(text.contains("👍"), "{text}");
                let (yes, no) = match language {
                    Language::German => ("JA", "NEIN"),
                    Language::English => ("YES", "NO"),
                };
                assert!(text.contains(yes) && text.contains(no), "{text}");
            }
            // Kontor's own buttons read back as the answer they mean.
            for yes in [true, false] {
                assert_eq!(answer_in_reply(button_reply(yes, language)), Some(yes));
                assert_eq!(answer_in_message(button_reply(yes, language)), Some(yes));
            }
        }
        assert!(request_text(Language::German, None, "A", "@a:hs", "P").contains("@a:hs"));
    }
}
