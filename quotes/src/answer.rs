//! How a customer answers a quote from any Matrix client, and how Kontor reads it.
//!
//! The customer may use Element, not Kontor, so the answer is a standard event a
//! person can send and read anywhere:
//! - a **reaction** on the quote's event: 👍 accepts, 👎 declines (skin tones and the
//!   variation selector are ignored; ✅ and ❌ count too);
//! - or a **reply** to the quote whose first word says it, in German or English:
//!   "annehmen", "angenommen", "ja", "accept", "accepted", "yes" accept;
//!   "ablehnen", "abgelehnt", "nein", "decline", "declined", "no" decline. Case, a
//!   trailing punctuation mark and words after the first one ("Ja, passt so") do not
//!   matter.
//!
//! Anything else is no answer (a question about the quote stays a message). Who may
//! answer (only the other party, not the freelancer's own devices) and what a late or
//! repeated answer means is decided where the events are known, not here.

use serde::{Deserialize, Serialize};

/// A customer's answer to a quote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Answer {
    /// The quote is accepted.
    Accept,
    /// The quote is declined.
    Decline,
}

/// The answer a reaction key means, if any.
pub fn from_reaction(key: &str) -> Option<Answer> {
    // Drop the emoji variation selector and skin-tone modifiers: "👍🏽" is "👍".
    let base: String = key
        .chars()
        .filter(|c| !matches!(*c as u32, 0xFE0F | 0x1F3FB..=0x1F3FF))
        .collect();
    match base.as_str() {
        "👍" | "✅" | "✔" => Some(Answer::Accept),
        "👎" | "❌" | "✖" => Some(Answer::Decline),
        _ => None,
    }
}

/// The answer a reply's text means, if any (see the module docs).
pub fn from_reply(text: &str) -> Option<Answer> {
    // A reply may quote the original ("> <@anna:…> Angebot …") before the answer.
    let answer = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('>'))?;
    let first = answer
        .split(|c: char| c.is_whitespace() || matches!(c, ',' | '.' | '!' | ';' | ':'))
        .find(|w| !w.is_empty())?
        .to_lowercase();
    match first.as_str() {
        "annehmen" | "angenommen" | "ja" | "accept" | "accepted" | "yes" => Some(Answer::Accept),
        "ablehnen" | "abgelehnt" | "nein" | "decline" | "declined" | "no" => Some(Answer::Decline),
        _ => None,
    }
}

/// What Kontor itself sends when the customer presses Accept or Decline: a reply that
/// reads naturally in any client and that [`from_reply`] reads back.
pub fn reply_text(answer: Answer, number: &crate::QuoteNumber, german: bool) -> String {
    match (answer, german) {
        (Answer::Accept, true) => format!("Angenommen: Angebot {number}"),
        (Answer::Decline, true) => format!("Abgelehnt: Angebot {number}"),
        (Answer::Accept, false) => format!("Accepted: quote {number}"),
        (Answer::Decline, false) => format!("Declined: quote {number}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::QuoteNumber;

    #[test]
    fn reactions() {
        assert_eq!(from_reaction("👍"), Some(Answer::Accept));
        assert_eq!(from_reaction("👍🏽"), Some(Answer::Accept), "skin tone");
        assert_eq!(
            from_reaction("✔\u{fe0f}"),
            Some(Answer::Accept),
            "variation selector"
        );
        assert_eq!(from_reaction("👎"), Some(Answer::Decline));
        assert_eq!(from_reaction("❤️"), None);
        assert_eq!(from_reaction("👍👎"), None);
    }

    #[test]
    fn replies_in_german_and_english() {
        for text in [
            "Ja",
            "ja, passt so!",
            "ANNEHMEN",
            "Accept.",
            "yes please",
            "Angenommen",
        ] {
            assert_eq!(from_reply(text), Some(Answer::Accept), "{text}");
        }
        for text in ["Nein danke", "ablehnen", "Declined", "no"] {
            assert_eq!(from_reply(text), Some(Answer::Decline), "{text}");
        }
        for text in [
            "Ist der Preis fest?",
            "Jahresende passt",
            "nope",
            "",
            "> Ja",
        ] {
            assert_eq!(from_reply(text), None, "{text:?}");
        }
        // Element's reply fallback quotes the original first.
        assert_eq!(
            from_reply("> <@anna:praxis.de> Angebot A-2026-0007 über 1.234,56 €\n\nJa, gerne"),
            Some(Answer::Accept)
        );
    }

    #[test]
    fn kontors_own_answer_reads_back() {
        let n = QuoteNumber { year: 2026, seq: 7 };
        for german in [true, false] {
            for a in [Answer::Accept, Answer::Decline] {
                let text = reply_text(a, &n, german);
                assert_eq!(from_reply(&text), Some(a), "{text}");
                assert!(text.contains("A-2026-0007"));
            }
        }
    }
}
