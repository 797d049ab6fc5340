//! What of a message goes into the search index, and under which key.
//!
//! Pure functions over kontor-core's [`Message`], unit-tested without an index: the
//! indexer, the backfill and the send queue's own messages all map a message through
//! [`doc_of`], so a message found live and the same message found in the history are
//! the same document.

use kontor_core::{Message, MessageBody};
use kontor_search::{Doc, DocKind};

/// The index key of a message still in the outbox: it has no event id yet. Replaced
/// by the event id once the server echoes it.
pub fn outbox_key(transaction_id: &str) -> String {
    format!("txn:{transaction_id}")
}

/// The document for a message, or `None` when it has nothing to find (a reaction, an
/// event we cannot decrypt, an empty text).
///
/// An edit becomes the document **of the message it replaces** (its key is the
/// original's event id), so the old wording is no longer found and a hit opens the
/// original in the chat. Files are found by name and caption; a quote (a file with
/// `eu.kontor.quote`) also by its number, title, items and total, written both as a
/// German and an English reader types an amount.
pub fn doc_of(msg: &Message) -> Option<Doc> {
    let key = match (&msg.replaces, &msg.event_id, &msg.transaction_id) {
        (Some(original), _, _) => original.clone(),
        (None, Some(id), _) => id.clone(),
        (None, None, Some(txn)) => outbox_key(txn),
        (None, None, None) => return None,
    };
    let (kind, text) = match &msg.body {
        MessageBody::Text { text, .. } => (DocKind::Message, text.clone()),
        MessageBody::File { name, caption, .. } => match super::super::quotes::quote_in(msg) {
            Some((quote, _)) => (DocKind::Quote, quote_text(&quote, name, caption.as_deref())),
            None => (
                DocKind::File,
                match caption {
                    Some(c) => format!("{name}\n{c}"),
                    None => name.clone(),
                },
            ),
        },
        MessageBody::Other { msgtype, text } => {
            let kind = if matches!(msgtype.as_str(), "m.image" | "m.video" | "m.audio") {
                DocKind::File
            } else {
                DocKind::Message
            };
            (kind, text.clone())
        }
        MessageBody::Reaction { .. } | MessageBody::Undecryptable => return None,
    };
    if text.trim().is_empty() {
        return None;
    }
    Some(Doc {
        event_id: key,
        room_id: msg.room_id.clone(),
        sender: msg.sender.clone(),
        timestamp_ms: i64::try_from(msg.timestamp_ms).unwrap_or(i64::MAX),
        kind,
        text,
    })
}

/// What a quote is found by: number, title, every item, the notes, and the gross total
/// as German and English readers write it, with and without thousands separators
/// ("1.234,56", "1,234.56", "1234,56", "1234.56"), then the file's own name and caption.
fn quote_text(quote: &kontor_quotes::Quote, name: &str, caption: Option<&str>) -> String {
    let gross = quote.totals().gross;
    let (euros, cents) = (gross.0 / 100, (gross.0 % 100).abs());
    let mut out = vec![
        quote.number.to_string(),
        quote.title.clone(),
        gross.format(true),
        gross.format(false),
        // As typed without thousands separators: "53550,00" / "53550.00".
        format!("{euros},{cents:02} {euros}.{cents:02}"),
    ];
    out.extend(quote.items.iter().map(|i| i.description.clone()));
    if !quote.notes.trim().is_empty() {
        out.push(quote.notes.clone());
    }
    out.push(name.to_owned());
    out.extend(caption.map(str::to_owned));
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use kontor_core::SendState;

    use super::*;

    fn msg(body: MessageBody) -> Message {
        Message {
            room_id: "!r:x".into(),
            event_id: Some("$e".into()),
            transaction_id: None,
            sender: "@a:x".into(),
            sender_device: None,
            own: false,
            timestamp_ms: 1_700_000_000_000,
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
    fn a_text_is_a_message_under_its_event_id() {
        let d = doc_of(&msg(text("Termin am Dienstag"))).expect("doc");
        assert_eq!(d.event_id, "$e");
        assert_eq!(d.kind, DocKind::Message);
        assert_eq!(d.text, "Termin am Dienstag");
        assert_eq!(d.timestamp_ms, 1_700_000_000_000);
    }

    #[test]
    fn an_edit_replaces_the_original_document() {
        let mut m = msg(text("Termin am Mittwoch"));
        m.event_id = Some("$edit".into());
        m.replaces = Some("$orig".into());
        let d = doc_of(&m).expect("doc");
        assert_eq!(d.event_id, "$orig");
        assert_eq!(d.text, "Termin am Mittwoch");
    }

    #[test]
    fn a_queued_message_is_keyed_by_its_transaction() {
        let mut m = msg(text("offline geschrieben"));
        m.event_id = None;
        m.transaction_id = Some("t1".into());
        assert_eq!(doc_of(&m).expect("doc").event_id, "txn:t1");
    }

    #[test]
    fn files_are_found_by_name_and_caption() {
        let d = doc_of(&msg(MessageBody::File {
            name: "Grundriss.pdf".into(),
            mime: None,
            size: None,
            encrypted: true,
            caption: Some("der neue Plan".into()),
            extra: None,
        }))
        .expect("doc");
        assert_eq!(d.kind, DocKind::File);
        assert!(d.text.contains("Grundriss.pdf") && d.text.contains("der neue Plan"));
        let img = doc_of(&msg(MessageBody::Other {
            msgtype: "m.image".into(),
            text: "foto.jpg".into(),
        }))
        .expect("doc");
        assert_eq!(img.kind, DocKind::File);
    }

    #[test]
    fn a_quote_is_found_by_number_title_items_and_total() {
        let date = |day| kontor_quotes::Date {
            year: 2026,
            month: 12,
            day,
        };
        let quote = kontor_quotes::Quote {
            number: kontor_quotes::QuoteNumber { year: 2026, seq: 7 },
            title: "Praxisumbau".into(),
            items: vec![kontor_quotes::LineItem {
                description: "Fliesen verlegen".into(),
                quantity: kontor_quotes::Quantity(100_000),
                unit: "m²".into(),
                unit_price: kontor_quotes::Money(4_500),
                vat_percent: 19,
            }],
            discount: None,
            notes: String::new(),
            date: date(1),
            valid_until: date(31),
            small_business: false,
        };
        let wire = kontor_quotes::WireQuote::new(&quote, "ab", None);
        let d = doc_of(&msg(MessageBody::File {
            name: "Angebot-A-2026-0007.pdf".into(),
            mime: None,
            size: None,
            encrypted: true,
            caption: None,
            extra: Some(serde_json::json!({
                (kontor_quotes::QUOTE_KEY): serde_json::to_value(&wire).unwrap()
            })),
        }))
        .expect("doc");
        assert_eq!(d.kind, DocKind::Quote);
        // 1,000 m² at 45.00 € + 19 % = 53,550.00 €.
        for part in [
            "A-2026-0007",
            "Praxisumbau",
            "Fliesen verlegen",
            "53.550,00",
            "53550.00",
        ] {
            assert!(d.text.contains(part), "{part} in {}", d.text);
        }
    }

    #[test]
    fn reactions_undecryptable_and_empty_texts_are_not_indexed() {
        assert!(
            doc_of(&msg(MessageBody::Reaction {
                relates_to: "$x".into(),
                key: "👍".into()
            }))
            .is_none()
        );
        assert!(doc_of(&msg(MessageBody::Undecryptable)).is_none());
        assert!(doc_of(&msg(text("   "))).is_none());
    }
}
