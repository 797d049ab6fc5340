//! What the chat list and the open conversation show, kept in Slint `VecModel`s on the
//! UI thread, and how kontor-core's messages and events change them.
//!
//! Everything here runs on the UI thread and does no I/O: the controller fetches on
//! tokio and hands plain data over. Kept free of the controller so the rules (dedupe of
//! our own echoes, unread counting, newest chat first) have unit tests.

use kontor_core::{Message, MessageBody, SendState};
use slint::{Model, SharedString, VecModel};

use kontor_contacts::ConsentStatus;

use super::format::{Language, local_time_label};
use super::{ChatItem, ConsentBadge, Delivery, FileType, MessageItem, MessageKind, units};
use crate::service::people::{People, Person};

/// Whether a core message gets a bubble, a preview and an unread count: reactions do
/// not (a 👍 belongs to the message it annotates, not to the timeline).
pub fn shown(m: &Message) -> bool {
    !m.body.is_reaction()
}

/// How a core message body is shown: its kind and the text that goes with it.
pub fn body_view(body: &MessageBody) -> (MessageKind, String) {
    match body {
        MessageBody::Text { text, .. } => (MessageKind::Text, text.clone()),
        MessageBody::File { name, .. } => (MessageKind::File, name.clone()),
        MessageBody::Undecryptable => (MessageKind::Undecryptable, String::new()),
        MessageBody::Other { text, .. } => (MessageKind::Text, text.clone()),
        // Never shown (see `shown`); the key alone, should one slip through.
        MessageBody::Reaction { key, .. } => (MessageKind::Text, key.clone()),
    }
}

/// The bubble state for a core send state (a cancelled message leaves the timeline).
pub fn delivery(state: &SendState) -> Delivery {
    match state {
        SendState::Pending | SendState::Cancelled => Delivery::Pending,
        SendState::Sent { .. } => Delivery::Sent,
        SendState::Failed { .. } => Delivery::Failed,
    }
}

/// One bubble for a core message.
pub fn message_item(m: &Message, lang: Language) -> MessageItem {
    let (kind, text) = body_view(&m.body);
    let (size, badge, file_type) = card(&m.body, lang);
    let key = if m.own {
        m.transaction_id.clone().or_else(|| m.event_id.clone())
    } else {
        m.event_id.clone().or_else(|| m.transaction_id.clone())
    };
    MessageItem {
        key: key.unwrap_or_default().into(),
        event_id: m.event_id.clone().unwrap_or_default().into(),
        own: m.own,
        sender: m.sender.clone().into(),
        text: text.into(),
        kind,
        time: local_time_label(m.timestamp_ms, lang).into(),
        delivery: delivery(&m.state),
        size: size.into(),
        badge: badge.into(),
        file_type,
        // Filled by the conversation's quote cards (`quote_cards.rs`), which also see
        // the answers.
        quote: Default::default(),
        // Filled by the consent cards (`consent_cards.rs`), likewise.
        consent: Default::default(),
        // Set by the timeline's edits (`Edits`).
        edited: false,
    }
}

/// Where a message that arrived from the sync goes in the open timeline.
#[derive(Debug, PartialEq, Eq)]
pub enum Placement {
    /// Already shown (same event id): nothing to do.
    Known,
    /// Our own message coming back from the server while a bubble of ours is still
    /// waiting for its delivery report: that report will name the event, so the echo
    /// must not make a second bubble.
    AwaitingReport,
    /// New: append it.
    Append,
}

/// Decides what to do with a message the sync delivered for the open room.
pub fn placement(model: &VecModel<MessageItem>, m: &Message) -> Placement {
    let event_id = m.event_id.as_deref().unwrap_or_default();
    if !event_id.is_empty() && model.iter().any(|i| i.event_id == event_id) {
        return Placement::Known;
    }
    if m.own
        && model
            .iter()
            .any(|i| i.own && i.event_id.is_empty() && i.delivery == Delivery::Pending)
    {
        return Placement::AwaitingReport;
    }
    Placement::Append
}

/// Applies a delivery report to the bubble with transaction id `txn`. Returns false when
/// no bubble has that id (the report came before the bubble: the caller keeps it).
pub fn apply_state(model: &VecModel<MessageItem>, txn: &str, state: &SendState) -> bool {
    let Some(row) = model.iter().position(|i| i.own && i.key == txn) else {
        return false;
    };
    if *state == SendState::Cancelled {
        model.remove(row);
        return true;
    }
    let mut item = model.row_data(row).expect("row exists");
    item.delivery = delivery(state);
    if let SendState::Sent { event_id } = state
        && !event_id.is_empty()
    {
        item.event_id = event_id.into();
    }
    model.set_row_data(row, item);
    true
}

/// Puts a chat's newest message into the list: updates the preview and time, counts it
/// as unread unless it is ours or the chat is open, and moves the chat to the top.
/// Returns false when the room is not in the list (the caller reloads the list). A
/// reaction or an edit changes nothing (and needs no reload).
pub fn chat_message(
    model: &VecModel<ChatItem>,
    m: &Message,
    open_room: &str,
    lang: Language,
) -> bool {
    if !shown(m) || m.replaces.is_some() {
        return true;
    }
    let Some(row) = model
        .iter()
        .position(|c| !c.invite && c.room_id == m.room_id)
    else {
        return false;
    };
    let mut chat = model.row_data(row).expect("row exists");
    let (kind, text) = body_view(&m.body);
    chat.last_kind = kind;
    chat.last_message = text.into();
    chat.time = local_time_label(m.timestamp_ms, lang).into();
    if !m.own && m.room_id != open_room {
        chat.unread += 1;
    }
    model.remove(row);
    let top = model.iter().take_while(|c| c.invite).count();
    model.insert(top, chat);
    true
}

/// The badge of a chat partner the contact book knows (none: it does not).
pub fn consent_badge(person: Option<&Person>) -> ConsentBadge {
    match person {
        None => ConsentBadge::None,
        Some(p) if p.consent == ConsentStatus::Granted => ConsentBadge::Granted,
        Some(p) if p.asked => ConsentBadge::Asked,
        Some(_) => ConsentBadge::NotGiven,
    }
}

/// One joined chat of the list, named as the contact book knows its partner (the
/// private book's names too: they stay on this device), else as the homeserver does.
pub fn chat_row(
    r: kontor_core::ChatSummary,
    people: &People,
    open_room: &str,
    lang: Language,
) -> ChatItem {
    let person = r.peer.as_deref().and_then(|p| people.get(p));
    let (kind, text) = r
        .last
        .as_ref()
        .map(|m| body_view(&m.body))
        .unwrap_or((MessageKind::Text, String::new()));
    let name = person.map_or(r.name, |p| p.name.clone());
    ChatItem {
        initial: initial(&name),
        unread: if r.room_id == open_room {
            0
        } else {
            i32::try_from(r.unread).unwrap_or(i32::MAX)
        },
        room_id: r.room_id.into(),
        name: name.into(),
        last_message: text.into(),
        last_kind: kind,
        time: r
            .last
            .map(|m| local_time_label(m.timestamp_ms, lang))
            .unwrap_or_default()
            .into(),
        invite: false,
        peer: r.peer.unwrap_or_default().into(),
        contact_id: person
            .map(|p| p.contact_id.clone())
            .unwrap_or_default()
            .into(),
        consent: consent_badge(person),
        new_customer: false,
    }
}

/// One invitation of the list. With the contact book open (`people`), an inviter who
/// is no contact yet, or one who only wrote first, is a new customer.
pub fn invite_row(room_id: String, inviter: Option<String>, people: Option<&People>) -> ChatItem {
    let person = inviter
        .as_deref()
        .and_then(|i| people.and_then(|p| p.get(i)));
    let new_customer = people.is_some() && person.is_none_or(|p| p.new_customer);
    let name = person
        .map(|p| p.name.clone())
        .or_else(|| inviter.clone())
        .unwrap_or_else(|| room_id.clone());
    ChatItem {
        initial: initial(&name),
        room_id: room_id.into(),
        name: name.into(),
        invite: true,
        peer: inviter.unwrap_or_default().into(),
        contact_id: person
            .map(|p| p.contact_id.clone())
            .unwrap_or_default()
            .into(),
        consent: consent_badge(person),
        new_customer,
        ..Default::default()
    }
}

/// Marks a chat as read in the list.
pub fn mark_read(model: &VecModel<ChatItem>, room_id: &str) {
    if let Some(row) = model.iter().position(|c| c.room_id == room_id) {
        let mut chat = model.row_data(row).expect("row exists");
        if chat.unread != 0 {
            chat.unread = 0;
            model.set_row_data(row, chat);
        }
    }
}

/// Whether a chat matches the search text: its name or last message contains it,
/// ignoring case. Empty text matches everything.
pub fn matches_search(chat: &ChatItem, query: &str) -> bool {
    let q = query.trim().to_lowercase();
    q.is_empty()
        || chat.name.to_lowercase().contains(&q)
        || chat.last_message.to_lowercase().contains(&q)
}

/// Where a received file named `name` goes in `dir`: only the last component of the name
/// (the sender chooses it, so `../../.bashrc` must not escape `dir`), and ` (2)`, ` (3)` …
/// before the extension while `exists` says the place is taken.
pub fn free_path(
    dir: &std::path::Path,
    name: &str,
    exists: impl Fn(&std::path::Path) -> bool,
) -> std::path::PathBuf {
    let base = std::path::Path::new(name)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.') && !n.is_empty())
        .unwrap_or_else(|| "download".into());
    let first = dir.join(&base);
    if !exists(&first) {
        return first;
    }
    let (stem, ext) = match base.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_owned(), format!(".{e}")),
        _ => (base.clone(), String::new()),
    };
    (2..)
        .map(|n| dir.join(format!("{stem} ({n}){ext}")))
        .find(|p| !exists(p))
        .expect("some number is free")
}

/// The avatar letter for a name.
pub fn initial(name: &str) -> SharedString {
    name.trim_start_matches('@')
        .chars()
        .next()
        .map(|c| c.to_uppercase().collect::<String>())
        .unwrap_or_else(|| "?".into())
        .into()
}

/// What an attachment card shows besides the name: the size from the event ("" when the
/// sender gave none), the badge on its tile, and the type that colours the tile.
pub fn card(body: &MessageBody, lang: Language) -> (String, String, FileType) {
    match body {
        MessageBody::File {
            name, mime, size, ..
        } => (
            size.map(|s| units::human_size(s, lang)).unwrap_or_default(),
            units::badge(name),
            file_type(name, mime.as_deref()),
        ),
        _ => (String::new(), String::new(), FileType::Other),
    }
}

/// The kind of file, from its MIME type where that says enough, else its extension.
pub fn file_type(name: &str, mime: Option<&str>) -> FileType {
    let mime = mime.unwrap_or_default().to_ascii_lowercase();
    if mime.starts_with("image/") {
        return FileType::Image;
    }
    if mime == "application/pdf" {
        return FileType::Pdf;
    }
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "pdf" => FileType::Pdf,
        "doc" | "docx" | "odt" | "rtf" | "txt" | "md" => FileType::Document,
        "xls" | "xlsx" | "ods" | "csv" => FileType::Spreadsheet,
        "png" | "jpg" | "jpeg" | "gif" | "webp" | "heic" | "svg" => FileType::Image,
        "zip" | "gz" | "tgz" | "7z" | "rar" | "tar" | "xz" => FileType::Archive,
        _ => FileType::Other,
    }
}

/// Edits (`m.replace`) seen in the open chat: original event id → the newest text (with
/// its time). An edit is no bubble of its own; it changes its original's text, also when
/// the original comes with a page loaded later (paging back meets the edit first).
#[derive(Debug, Default)]
pub struct Edits(std::collections::HashMap<String, (u64, String)>);

impl Edits {
    /// Takes note of the edits among `messages`; the newest edit of a message counts.
    pub fn absorb(&mut self, messages: &[Message]) {
        for m in messages {
            let Some(original) = &m.replaces else {
                continue;
            };
            let (_, text) = body_view(&m.body);
            let entry = self.0.entry(original.clone()).or_insert((0, String::new()));
            if m.timestamp_ms >= entry.0 {
                *entry = (m.timestamp_ms, text);
            }
        }
    }

    /// Forgets every edit (another chat is shown).
    pub fn clear(&mut self) {
        self.0.clear();
    }

    /// The bubbles of a page (oldest first), edits applied and edit events left out.
    pub fn bubbles(&self, messages: &[Message], lang: Language) -> Vec<MessageItem> {
        messages
            .iter()
            .filter(|m| shown(m) && m.replaces.is_none())
            .map(|m| {
                let mut item = message_item(m, lang);
                self.apply_to(&mut item);
                item
            })
            .collect()
    }

    fn apply_to(&self, item: &mut MessageItem) -> bool {
        match self.0.get(item.event_id.as_str()) {
            Some((_, text)) if !item.edited || item.text != text.as_str() => {
                item.text = text.into();
                item.edited = true;
                true
            }
            _ => false,
        }
    }

    /// Puts the edits on the shown bubbles they belong to.
    pub fn apply(&self, model: &VecModel<MessageItem>) {
        for row in 0..model.row_count() {
            let mut item = model.row_data(row).expect("row exists");
            if !item.event_id.is_empty() && self.apply_to(&mut item) {
                model.set_row_data(row, item);
            }
        }
    }
}

/// Takes a redacted message off the timeline. Returns whether it was shown.
pub fn remove_event(model: &VecModel<MessageItem>, event_id: &str) -> bool {
    match model.iter().position(|i| i.event_id == event_id) {
        Some(row) => {
            model.remove(row);
            true
        }
        None => false,
    }
}

/// A search hit's snippet cut into lines of at most `width` characters (word-wrapped; a
/// longer word is split), each line a run of parts, `true` for the matched words
/// (`highlights`: byte ranges in `snippet`). At most `max_lines` lines; a cut ends with
/// "…". Slint 1.18 has no rich text: the view draws each part as a text of its own.
pub fn snippet_lines(
    snippet: &str,
    highlights: &[std::ops::Range<usize>],
    width: usize,
    max_lines: usize,
) -> Vec<Vec<(String, bool)>> {
    let hit_at = |byte: usize| highlights.iter().any(|r| r.contains(&byte));
    // Words with the whitespace after them, char by char with their highlight.
    let mut words: Vec<Vec<(char, bool)>> = Vec::new();
    let mut current: Vec<(char, bool)> = Vec::new();
    let mut after_space = false;
    for (at, ch) in snippet.char_indices() {
        let ch = if ch.is_whitespace() { ' ' } else { ch };
        if ch != ' ' && after_space {
            words.push(std::mem::take(&mut current));
        }
        after_space = ch == ' ';
        current.push((ch, ch != ' ' && hit_at(at)));
    }
    if !current.is_empty() {
        words.push(current);
    }
    let width = width.max(1);
    let mut lines: Vec<Vec<(char, bool)>> = vec![Vec::new()];
    for word in words {
        let visible = word.iter().filter(|(c, _)| *c != ' ').count();
        let line = lines.last_mut().expect("one line");
        if !line.is_empty() && line.len() + visible > width {
            lines.push(Vec::new());
        }
        for ch in word {
            let line = lines.last_mut().expect("one line");
            if line.len() >= width && ch.0 != ' ' {
                lines.push(Vec::new());
            }
            let line = lines.last_mut().expect("one line");
            if !(line.is_empty() && ch.0 == ' ') {
                line.push(ch);
            }
        }
    }
    let cut = lines.len() > max_lines;
    lines.truncate(max_lines.max(1));
    if cut && let Some(last) = lines.last_mut() {
        while last.last().is_some_and(|c| c.0 == ' ') {
            last.pop();
        }
        last.push(('…', false));
    }
    lines
        .into_iter()
        .map(|line| {
            let mut parts: Vec<(String, bool)> = Vec::new();
            let len = line.len();
            for (i, (c, hit)) in line.into_iter().enumerate() {
                // Trailing blanks carry no meaning at the end of a line.
                if c == ' ' && i + 1 == len {
                    continue;
                }
                match parts.last_mut() {
                    Some((text, h)) if *h == hit => text.push(c),
                    _ => parts.push((c.to_string(), hit)),
                }
            }
            parts
        })
        .filter(|p| !p.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_show_size_badge_and_type_per_language() {
        let body = MessageBody::File {
            name: "angebot-2025.pdf".into(),
            mime: Some("application/pdf".into()),
            size: Some(1_234_567),
            encrypted: true,
            caption: None,
            extra: None,
        };
        assert_eq!(
            card(&body, Language::German),
            ("1,2 MB".into(), "PDF".into(), FileType::Pdf)
        );
        assert_eq!(card(&body, Language::English).0, "1.2 MB");
        let unknown = MessageBody::File {
            name: "notiz".into(),
            mime: None,
            size: None,
            encrypted: true,
            caption: None,
            extra: None,
        };
        assert_eq!(
            card(&unknown, Language::English),
            (String::new(), String::new(), FileType::Other)
        );
    }

    #[test]
    fn file_types() {
        assert_eq!(file_type("x.bin", Some("image/png")), FileType::Image);
        assert_eq!(file_type("Kalkulation.XLSX", None), FileType::Spreadsheet);
        assert_eq!(file_type("brief.odt", None), FileType::Document);
        assert_eq!(file_type("fotos.zip", None), FileType::Archive);
        assert_eq!(file_type("README", None), FileType::Other);
    }

    fn msg(room: &str, event: Option<&str>, own: bool, text: &str) -> Message {
        Message {
            room_id: room.into(),
            event_id: event.map(Into::into),
            transaction_id: None,
            sender: if own { "@anna:x" } else { "@ben:x" }.into(),
            sender_device: None,
            own,
            timestamp_ms: 1_700_000_000_000,
            body: MessageBody::Text {
                text: text.into(),
                extra: None,
            },
            reply_to: None,
            replaces: None,
            state: SendState::Sent {
                event_id: event.unwrap_or_default().into(),
            },
        }
    }

    fn pending(txn: &str) -> MessageItem {
        MessageItem {
            key: txn.into(),
            own: true,
            text: "hi".into(),
            delivery: Delivery::Pending,
            ..Default::default()
        }
    }

    fn chat(room: &str, invite: bool) -> ChatItem {
        ChatItem {
            room_id: room.into(),
            name: room.into(),
            invite,
            ..Default::default()
        }
    }

    fn person(name: &str, consent: ConsentStatus, asked: bool, new_customer: bool) -> Person {
        Person {
            contact_id: format!("id-{name}"),
            name: name.into(),
            consent,
            asked,
            book: kontor_contacts::book_for(consent),
            new_customer,
        }
    }

    #[test]
    fn chats_and_invites_carry_the_book_name_and_the_consent_badge() {
        let mut people = People::new();
        people.insert(
            "@weiss:hs".into(),
            person("Frau Weiß", ConsentStatus::Granted, false, false),
        );
        people.insert(
            "@klein:hs".into(),
            person("Herr Klein", ConsentStatus::None, true, false),
        );
        people.insert(
            "@neu:hs".into(),
            person("neu", ConsentStatus::None, false, true),
        );
        let summary = |peer: Option<&str>| kontor_core::ChatSummary {
            room_id: "!r".into(),
            name: "weiss".into(),
            peer: peer.map(str::to_owned),
            last: None,
            unread: 2,
            peer_read_up_to: None,
        };
        let row = chat_row(summary(Some("@weiss:hs")), &people, "", Language::English);
        assert_eq!(row.name, "Frau Weiß");
        assert_eq!(row.initial, "F");
        assert_eq!(row.contact_id, "id-Frau Weiß");
        assert_eq!(row.consent, ConsentBadge::Granted);
        assert_eq!(row.unread, 2);
        let row = chat_row(summary(Some("@klein:hs")), &people, "!r", Language::English);
        assert_eq!((row.consent, row.unread), (ConsentBadge::Asked, 0));
        // Unknown to the book: the homeserver's name, no badge.
        let row = chat_row(summary(Some("@x:hs")), &people, "", Language::English);
        assert_eq!(
            (row.name.as_str(), row.consent),
            ("weiss", ConsentBadge::None)
        );

        let invite = invite_row("!i".into(), Some("@neu:hs".into()), Some(&people));
        assert!(invite.invite && invite.new_customer);
        assert_eq!(invite.consent, ConsentBadge::NotGiven);
        let invite = invite_row("!i".into(), Some("@unbekannt:hs".into()), Some(&people));
        assert!(invite.new_customer, "not even a contact yet");
        assert_eq!(invite.name, "@unbekannt:hs");
        let invite = invite_row("!i".into(), Some("@weiss:hs".into()), Some(&people));
        assert!(!invite.new_customer);
        // The book is locked: nothing is known, nobody is called new.
        assert!(!invite_row("!i".into(), Some("@neu:hs".into()), None).new_customer);
    }

    #[test]
    fn own_echo_waits_for_the_delivery_report() {
        let model = VecModel::from(vec![pending("t1")]);
        let echo = msg("!r", Some("$e1"), true, "hi");
        assert_eq!(placement(&model, &echo), Placement::AwaitingReport);
        assert!(apply_state(
            &model,
            "t1",
            &SendState::Sent {
                event_id: "$e1".into()
            }
        ));
        assert_eq!(model.row_data(0).unwrap().delivery, Delivery::Sent);
        assert_eq!(placement(&model, &echo), Placement::Known);
        assert_eq!(
            placement(&model, &msg("!r", Some("$e2"), false, "yo")),
            Placement::Append
        );
    }

    #[test]
    fn reports_for_unknown_bubbles_are_not_applied() {
        let model = VecModel::from(vec![pending("t1")]);
        assert!(!apply_state(&model, "t9", &SendState::Pending));
        assert!(apply_state(&model, "t1", &SendState::Cancelled));
        assert_eq!(model.row_count(), 0);
    }

    #[test]
    fn failed_then_retried() {
        let model = VecModel::from(vec![pending("t1")]);
        apply_state(&model, "t1", &SendState::Failed { reason: "x".into() });
        assert_eq!(model.row_data(0).unwrap().delivery, Delivery::Failed);
        apply_state(&model, "t1", &SendState::Pending);
        assert_eq!(model.row_data(0).unwrap().delivery, Delivery::Pending);
    }

    #[test]
    fn new_message_moves_chat_below_invites_and_counts_unread() {
        let model = VecModel::from(vec![
            chat("!inv", true),
            chat("!a", false),
            chat("!b", false),
        ]);
        assert!(chat_message(
            &model,
            &msg("!b", Some("$1"), false, "hello"),
            "",
            Language::English
        ));
        let rows: Vec<_> = model.iter().map(|c| c.room_id.to_string()).collect();
        assert_eq!(rows, ["!inv", "!b", "!a"]);
        let b = model.row_data(1).unwrap();
        assert_eq!(b.unread, 1);
        assert_eq!(b.last_message, "hello");
        // Open chat and own messages are not unread.
        chat_message(
            &model,
            &msg("!b", Some("$2"), false, "x"),
            "!b",
            Language::English,
        );
        chat_message(
            &model,
            &msg("!b", Some("$3"), true, "y"),
            "",
            Language::English,
        );
        assert_eq!(model.row_data(1).unwrap().unread, 1);
        mark_read(&model, "!b");
        assert_eq!(model.row_data(1).unwrap().unread, 0);
        assert!(!chat_message(
            &model,
            &msg("!zz", None, false, "?"),
            "",
            Language::English
        ));
    }

    #[test]
    fn a_reaction_is_no_preview_and_not_unread() {
        let model = VecModel::from(vec![chat("!a", false), chat("!b", false)]);
        let mut reaction = msg("!b", Some("$r"), false, "");
        reaction.body = MessageBody::Reaction {
            relates_to: "$quote".into(),
            key: "👍".into(),
        };
        assert!(!shown(&reaction));
        assert!(chat_message(&model, &reaction, "", Language::English));
        let rows: Vec<_> = model.iter().map(|c| c.room_id.to_string()).collect();
        assert_eq!(rows, ["!a", "!b"], "the chat does not move up");
        let b = model.row_data(1).unwrap();
        assert_eq!((b.unread, b.last_message.as_str()), (0, ""));
        // Nor does an edit.
        let mut edit = msg("!b", Some("$e"), false, "neu");
        edit.replaces = Some("$1".into());
        assert!(chat_message(&model, &edit, "", Language::English));
        let b = model.row_data(1).unwrap();
        assert_eq!((b.unread, b.last_message.as_str()), (0, ""));
    }

    #[test]
    fn search_matches_name_or_last_message() {
        let mut c = chat("!a", false);
        c.name = "Schreinerei Lutz".into();
        c.last_message = "Angebot anbei".into();
        assert!(matches_search(&c, ""));
        assert!(matches_search(&c, "  lutz "));
        assert!(matches_search(&c, "ANGEBOT"));
        assert!(!matches_search(&c, "müller"));
    }

    #[test]
    fn received_file_names_stay_in_the_folder_and_never_replace() {
        let dir = std::path::Path::new("/dl");
        let none = |_: &std::path::Path| false;
        assert_eq!(free_path(dir, "angebot.pdf", none), dir.join("angebot.pdf"));
        assert_eq!(free_path(dir, "../../etc/passwd", none), dir.join("passwd"));
        assert_eq!(free_path(dir, ".bashrc", none), dir.join("download"));
        assert_eq!(free_path(dir, "", none), dir.join("download"));
        let taken =
            |p: &std::path::Path| p == dir.join("angebot.pdf") || p == dir.join("angebot (2).pdf");
        assert_eq!(
            free_path(dir, "angebot.pdf", taken),
            dir.join("angebot (3).pdf")
        );
    }

    #[test]
    #[allow(clippy::single_range_in_vec_init)] // one highlight, as a slice of ranges
    fn snippets_wrap_by_words_and_keep_the_highlights() {
        let text = "Bitte die Zirbelkiefer Platten bis Freitag liefern";
        let start = text.find("Zirbelkiefer").unwrap();
        let lines = snippet_lines(text, &[start..start + "Zirbelkiefer".len()], 20, 3);
        let plain: Vec<String> = lines
            .iter()
            .map(|l| l.iter().map(|(t, _)| t.as_str()).collect())
            .collect();
        assert_eq!(
            plain,
            ["Bitte die", "Zirbelkiefer Platten", "bis Freitag liefern"]
        );
        assert_eq!(
            lines[1],
            [
                ("Zirbelkiefer".to_string(), true),
                (" Platten".to_string(), false)
            ]
        );
        // Cut after two lines, a word longer than a line split.
        let lines = snippet_lines(text, &[], 20, 2);
        assert_eq!(lines[1].last().unwrap().0, "Zirbelkiefer Platten…");
        let long = snippet_lines("abcdefghij", &[2..4], 4, 5);
        assert_eq!(
            long,
            [
                vec![("ab".to_string(), false), ("cd".to_string(), true)],
                vec![("efgh".to_string(), false)],
                vec![("ij".to_string(), false)],
            ]
        );
        // Umlauts: byte ranges on char boundaries.
        let t = "Grüße aus Köln";
        let k = t.find("Köln").unwrap();
        let lines = snippet_lines(t, &[k..k + "Köln".len()], 40, 2);
        assert_eq!(
            lines,
            [vec![
                ("Grüße aus ".to_string(), false),
                ("Köln".to_string(), true)
            ]]
        );
    }

    #[test]
    fn edits_change_their_original_and_redactions_remove_it() {
        let original = msg("!a", Some("$1"), false, "Treffen um 10");
        let mut edit = msg("!a", Some("$2"), false, "Treffen um 11");
        edit.replaces = Some("$1".into());
        edit.timestamp_ms += 1000;
        let other = msg("!a", Some("$3"), false, "ok");
        let mut edits = Edits::default();
        // Original and edit on one page: one bubble with the new text.
        edits.absorb(&[original.clone(), edit.clone(), other.clone()]);
        let items = edits.bubbles(&[original.clone(), edit.clone(), other], Language::English);
        let texts: Vec<_> = items
            .iter()
            .map(|i| (i.text.to_string(), i.edited))
            .collect();
        assert_eq!(
            texts,
            [("Treffen um 11".into(), true), ("ok".to_string(), false)]
        );
        // The edit live, the original shown already.
        let mut fresh = Edits::default();
        let model = VecModel::from(fresh.bubbles(&[original], Language::English));
        fresh.absorb(&[edit.clone()]);
        fresh.apply(&model);
        assert_eq!(model.row_data(0).unwrap().text, "Treffen um 11");
        // An older edit met later does not win.
        let mut older = edit;
        older.body = MessageBody::Text {
            text: "Treffen um 9".into(),
            extra: None,
        };
        older.timestamp_ms -= 500;
        fresh.absorb(&[older]);
        fresh.apply(&model);
        assert_eq!(model.row_data(0).unwrap().text, "Treffen um 11");
        assert!(remove_event(&model, "$1"));
        assert!(!remove_event(&model, "$1"));
        assert_eq!(model.row_count(), 0);
    }

    #[test]
    fn initials() {
        assert_eq!(initial("ben"), "B");
        assert_eq!(initial("@ölbaum:x"), "Ö");
        assert_eq!(initial(""), "?");
    }
}
