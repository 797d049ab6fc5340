//! Times as the chat list and the bubbles show them, in the UI language's format.
//!
//! Pure functions over chrono types, so the tests pin the time zone and the clock.

use chrono::{DateTime, Datelike, Local, TimeZone};

pub use crate::service::language::Language;

/// A message time relative to `now`: the clock time today, the day this year, else the
/// full date; each as people write it in that language.
pub fn time_label<Tz: TimeZone>(at: &DateTime<Tz>, now: &DateTime<Tz>, lang: Language) -> String
where
    Tz::Offset: std::fmt::Display,
{
    let pattern = if at.date_naive() == now.date_naive() {
        match lang {
            Language::German => "%H:%M",
            Language::English => "%-I:%M %p",
        }
    } else if at.year() == now.year() {
        match lang {
            Language::German => "%-d.%-m.",
            Language::English => "%b %-d",
        }
    } else {
        match lang {
            Language::German => "%-d.%-m.%Y",
            Language::English => "%b %-d, %Y",
        }
    };
    at.format(pattern).to_string()
}

/// [`time_label`] for a Matrix timestamp (ms since the epoch) in the local time zone.
pub fn local_time_label(timestamp_ms: u64, lang: Language) -> String {
    let Some(at) = i64::try_from(timestamp_ms)
        .ok()
        .and_then(|ms| Local.timestamp_millis_opt(ms).single())
    else {
        return String::new();
    };
    time_label(&at, &Local::now(), lang)
}

/// A day (seconds since the epoch) in the local time zone, as people write a date in
/// that language: "3.5.2026", "May 3, 2026".
pub fn date_label(secs: i64, lang: Language) -> String {
    let Some(at) = Local.timestamp_opt(secs, 0).single() else {
        return String::new();
    };
    at.format(match lang {
        Language::German => "%-d.%-m.%Y",
        Language::English => "%b %-d, %Y",
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{FixedOffset, TimeZone};

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<FixedOffset> {
        FixedOffset::east_opt(3600)
            .unwrap()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
    }

    #[test]
    fn today_shows_the_clock_time() {
        let now = at(2025, 5, 3, 18, 0);
        assert_eq!(
            time_label(&at(2025, 5, 3, 14, 5), &now, Language::German),
            "14:05"
        );
        assert_eq!(
            time_label(&at(2025, 5, 3, 14, 5), &now, Language::English),
            "2:05 PM"
        );
    }

    #[test]
    fn earlier_days_show_the_date() {
        let now = at(2025, 5, 3, 18, 0);
        assert_eq!(
            time_label(&at(2025, 3, 9, 8, 0), &now, Language::German),
            "9.3."
        );
        assert_eq!(
            time_label(&at(2025, 3, 9, 8, 0), &now, Language::English),
            "Mar 9"
        );
        assert_eq!(
            time_label(&at(2024, 12, 31, 8, 0), &now, Language::German),
            "31.12.2024"
        );
        assert_eq!(
            time_label(&at(2024, 12, 31, 8, 0), &now, Language::English),
            "Dec 31, 2024"
        );
    }

    #[test]
    fn dates_read_as_written() {
        // Noon UTC: the same day in every time zone the tests run in.
        let noon = 1_777_809_600; // 2026-05-03 12:00 UTC
        assert_eq!(date_label(noon, Language::German), "3.5.2026");
        assert_eq!(date_label(noon, Language::English), "May 3, 2026");
    }

    #[test]
    fn language_codes() {
        assert_eq!(Language::from_code("de_DE.UTF-8"), Language::German);
        assert_eq!(Language::from_code("de"), Language::German);
        assert_eq!(Language::from_code("en_GB.UTF-8"), Language::English);
        assert_eq!(Language::from_code("C"), Language::English);
        assert_eq!(Language::German.code(), "de");
    }
}
