//! `kontor search`: the encrypted local search over every chat, file and quote.
//!
//! The command first brings the index up to date (one sync, the newest messages of
//! every chat, then the history back as far as the server has it: resumable, so only
//! the first run on a device reads it all), then asks it. `--no-update` searches only
//! what this device has indexed (offline, instantly).

use anyhow::{Result, bail};
use kontor::service::search::{DocKind, Hit, SearchQuery};
use serde_json::json;

use super::Ctx;
use crate::{
    cli::SearchArgs,
    exit::{FAILURE, Fail},
    output,
};

/// `kontor search QUERY [--chat USER] [--sender USER] [--from DATE] [--to DATE] [--files]`
pub async fn search(ctx: &Ctx, args: SearchArgs) -> Result<()> {
    let from_ms = args.from.as_deref().map(day_start).transpose()?;
    // `--to` names a whole day: everything before the next midnight.
    let to_ms = args
        .to
        .as_deref()
        .map(|d| day_start(d).map(|ms| ms + 86_400_000))
        .transpose()?;
    let kontor = ctx.restore(None, false).await?;
    let svc = ctx.service(kontor.clone());
    let chat = match args.chat.as_deref() {
        None => None,
        Some(room) if room.starts_with('!') => Some(room.to_owned()),
        Some(user) => Some(
            kontor
                .find_dm(user)
                .await?
                .ok_or_else(|| Fail::new(FAILURE, format!("no chat with {user}")))?,
        ),
    };
    if !args.no_update {
        let mut events = kontor.subscribe();
        // Every chat: the index follows all of them, not the most recent window.
        if let Err(e) = kontor.sync_all().await {
            tracing::warn!("sync failed, searching what this device has indexed: {e}");
        }
        for ev in Ctx::drain(&mut events) {
            svc.observe_search(&ev).await;
        }
        let json = ctx.json;
        let updated = svc
            .update_search(true, move |s| {
                if !json && s.running {
                    eprint!(
                        "\rindexing: {} messages, {}/{} chats complete",
                        s.indexed, s.chats_complete, s.chats
                    );
                }
            })
            .await;
        if !ctx.json {
            eprintln!();
        }
        if let Err(e) = updated {
            tracing::warn!("index not brought up to date: {e}");
        }
    }
    let hits = svc
        .search(SearchQuery {
            text: args.query.join(" "),
            chat,
            sender: args.sender,
            from_ms,
            to_ms,
            has_file: args.files,
            prefix_last: false,
            limit: args.limit,
        })
        .await?;
    let status = svc.search_status().await?;
    if ctx.json {
        return output::json(&json!({ "hits": hits, "index": status }));
    }
    for hit in &hits {
        println!("{}", line(hit));
    }
    if hits.is_empty() {
        eprintln!("no messages found");
    }
    Ok(())
}

/// One hit as a line: time, chat, sender, kind, the snippet with the matches in
/// [brackets], and the event id (for `kontor download`).
fn line(hit: &Hit) -> String {
    let kind = match hit.kind {
        DocKind::Message => "",
        DocKind::File => "[file] ",
        DocKind::Quote => "[quote] ",
    };
    format!(
        "{} {} {}: {kind}{} ({})",
        output::timestamp(u64::try_from(hit.timestamp_ms).unwrap_or(0)),
        hit.room_id,
        hit.sender,
        marked(&hit.snippet, &hit.highlights).replace('\n', " / "),
        hit.event_id
    )
}

/// The snippet with every highlighted range in brackets.
fn marked(snippet: &str, ranges: &[std::ops::Range<usize>]) -> String {
    let mut out = String::with_capacity(snippet.len() + 2 * ranges.len());
    let mut at = 0;
    for r in ranges {
        if r.start < at || r.end > snippet.len() || !snippet.is_char_boundary(r.start) {
            continue;
        }
        out.push_str(&snippet[at..r.start]);
        out.push('[');
        out.push_str(&snippet[r.clone()]);
        out.push(']');
        at = r.end;
    }
    out.push_str(&snippet[at..]);
    out
}

/// Midnight UTC of a `YYYY-MM-DD` day, in milliseconds since the epoch.
fn day_start(day: &str) -> Result<i64> {
    let Ok(date) = chrono::NaiveDate::parse_from_str(day, "%Y-%m-%d") else {
        bail!("{day:?} is no date; write it as YYYY-MM-DD");
    };
    Ok(date
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc()
        .timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_midnights() {
        assert_eq!(day_start("1970-01-02").unwrap(), 86_400_000);
        assert_eq!(day_start("2023-11-14").unwrap(), 1_699_920_000_000);
        assert!(day_start("14.11.2023").is_err());
        assert!(day_start("2023-02-30").is_err());
    }

    #[test]
    fn matches_are_bracketed() {
        assert_eq!(
            marked("Angebot für Müller", &[0..7, 13..20]),
            "[Angebot] für [Müller]"
        );
        // A range off a character boundary or out of order is left unmarked.
        let inside_u = std::ops::Range { start: 2, end: 3 };
        assert_eq!(marked("Müller", &[inside_u]), "Müller");
        assert_eq!(marked("ab", &[1..2, 0..1]), "a[b]");
    }
}
