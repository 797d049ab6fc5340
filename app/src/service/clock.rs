//! The day a quote is written on, with a test hook.
//!
//! `KONTOR_TEST_TODAY=YYYY-MM-DD`: **tests only.** A quote written while it is set is
//! dated that day (its number's year, its validity counted from it), so an end-to-end
//! test can send a quote whose validity is already over and see the customer's answer
//! arrive late, without waiting a month. Only the writing uses it: statuses, the
//! overview and answers still go by the real clock, which is what makes the quote late.
//! Like `KONTOR_INSECURE_FAST_KDF` ([`super::kdf`]) only debug builds honour it: in a
//! release binary a quote's date, a fact of a business letter, never comes from the
//! environment. A value that is not a date is ignored.

use kontor_quotes::Date;

use super::quotes::draft::parse_date;

/// The environment variable.
pub const TEST_TODAY_ENV: &str = "KONTOR_TEST_TODAY";

/// The day a quote written now is dated: today by the system clock (UTC), or in a
/// debug build the day `KONTOR_TEST_TODAY` names.
pub fn writing_day() -> Date {
    let set = std::env::var(TEST_TODAY_ENV).ok();
    test_day(set.as_deref(), cfg!(debug_assertions)).unwrap_or_else(Date::today)
}

/// The day the hook asks for, if it applies: set to a real date, in a debug build.
fn test_day(value: Option<&str>, debug_build: bool) -> Option<Date> {
    if !debug_build {
        return None;
    }
    parse_date(value?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_day_only_in_debug_builds_and_only_a_real_date() {
        let oct_27 = Date {
            year: 2026,
            month: 10,
            day: 27,
        };
        assert_eq!(test_day(Some("2026-10-27"), true), Some(oct_27));
        assert_eq!(
            test_day(Some("2026-10-27"), false),
            None,
            "release ignores it"
        );
        assert_eq!(test_day(Some("yesterday"), true), None);
        assert_eq!(test_day(Some("2026-02-30"), true), None);
        assert_eq!(test_day(None, true), None);
    }
}
