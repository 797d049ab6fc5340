//! Import rules both faces share: how the user's choices become `ImportOptions`, and how
//! far along an import is. The CLI's progress bar and the wizard's bar agree because they
//! read the same [`percent`].

use kontor_contacts::{ConsentMode, DEFAULT_PURPOSE, ImportOptions, Phase, Progress, Region};

/// The options for one import: the consent rule, the purpose (blank: the default
/// purpose), an evidence note and the region for numbers without a country code.
pub fn options(
    consent: ConsentMode,
    purpose: Option<&str>,
    evidence: Option<String>,
    region: Option<Region>,
) -> ImportOptions {
    let purpose = purpose
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .unwrap_or(DEFAULT_PURPOSE);
    ImportOptions {
        consent,
        purpose: purpose.to_owned(),
        evidence,
        region,
        format: None,
    }
}

/// Overall progress 0..=100: parsing is quick (0–20), preparing (normalising numbers,
/// merging) to 50, writing (sealing, committing) the rest.
pub fn percent(p: Progress) -> u32 {
    let (start, width) = match p.phase {
        Phase::Parsing => (0, 20),
        Phase::Preparing => (20, 30),
        Phase::Writing => (50, 50),
        Phase::Done => return 100,
    };
    let part = if p.total == 0 {
        0
    } else {
        (p.done.min(p.total) as u64 * width / p.total as u64) as u32
    };
    start + part
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(phase: Phase, done: usize, total: usize) -> Progress {
        Progress { phase, done, total }
    }

    #[test]
    fn percentages_rise_across_phases() {
        assert_eq!(percent(p(Phase::Parsing, 0, 10)), 0);
        assert_eq!(percent(p(Phase::Parsing, 5, 10)), 10);
        assert_eq!(percent(p(Phase::Parsing, 10, 10)), 20);
        assert_eq!(percent(p(Phase::Preparing, 5, 10)), 35);
        assert_eq!(percent(p(Phase::Writing, 0, 0)), 50);
        assert_eq!(percent(p(Phase::Writing, 10, 10)), 100);
        assert_eq!(percent(p(Phase::Done, 0, 0)), 100);
    }

    #[test]
    fn a_blank_purpose_is_the_default_one() {
        assert_eq!(
            options(ConsentMode::None, Some("  "), None, None).purpose,
            DEFAULT_PURPOSE
        );
        assert_eq!(
            options(ConsentMode::Granted, Some(" Termine "), None, None).purpose,
            "Termine"
        );
    }
}
