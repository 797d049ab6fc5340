//! `kontor contacts import FILE`: progress on stderr, Ctrl-C to cancel, a summary.
//!
//! The import itself is one call, all or nothing: parsing and merging happen in memory
//! and one journalled commit writes the batch, so cancelling (or a crash) before the
//! commit leaves the books exactly as they were.

use std::{
    io::IsTerminal,
    path::Path,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use anyhow::{Context, Result};
use kontor_contacts::{ConsentMode, ImportReport, MergeTarget, Phase, Progress, Region};

use super::{Ctx, open_book, passphrase};
use crate::{
    cli::ImportConsent,
    exit::{FAILURE, Fail},
    output,
};
use kontor::service::import as import_rules;

/// `kontor contacts import FILE [--consent …] [--purpose …] [--evidence …] [--region CC]`
pub async fn import(
    ctx: &Ctx,
    file: &Path,
    consent: ImportConsent,
    purpose: Option<String>,
    evidence: Option<String>,
    region: Option<Region>,
) -> Result<()> {
    // A missing file is reported before the passphrase is asked for or a book created.
    let meta =
        std::fs::metadata(file).with_context(|| format!("cannot read {}", file.display()))?;
    if !meta.is_file() {
        return Err(Fail::new(FAILURE, format!("{} is not a file", file.display())).into());
    }
    let consent = match consent {
        ImportConsent::Granted => ConsentMode::Granted,
        ImportConsent::None => ConsentMode::None,
        ImportConsent::FromFile => ConsentMode::FromFile,
    };
    let opts = import_rules::options(consent, purpose.as_deref(), evidence, region);
    let book = open_book(ctx, &passphrase()?)?;

    let cancel = Arc::new(AtomicBool::new(false));
    let listener = tokio::spawn(cancel_on_ctrl_c(cancel.clone(), !ctx.json));
    let name = file.file_name().map_or_else(
        || file.display().to_string(),
        |n| n.to_string_lossy().into(),
    );
    let mut bar = Bar::new(&name, ctx.json);
    let result = book.import_file(file, &opts, &mut |p| bar.update(p), &cancel);
    drop(bar);
    listener.abort();
    let report = result.context("import failed")?;

    if let Some(err) = nothing_imported(&report) {
        return Err(err.into());
    }
    if ctx.json {
        return output::json(&report);
    }
    print_summary(&report);
    Ok(())
}

/// Sets `cancel` on Ctrl-C. The importer checks it between steps and stops before its
/// commit; once the commit runs it finishes (it is short and atomic anyway).
async fn cancel_on_ctrl_c(cancel: Arc<AtomicBool>, say: bool) {
    while tokio::signal::ctrl_c().await.is_ok() {
        if !cancel.swap(true, Ordering::Relaxed) && say {
            eprintln!("\ncancelling the import (nothing is written)…");
        }
    }
}

/// An import that took nothing from the file is an error, not a summary of zeros: the
/// file is malformed (first rejected line in the message) or holds no contacts at all.
fn nothing_imported(r: &ImportReport) -> Option<Fail> {
    let used = r.added_work + r.added_private + r.updated + r.merged.len();
    if used > 0 {
        return None;
    }
    let message = match r.rejected.first() {
        Some(first) => {
            let more = match r.rejected.len() - 1 {
                0 => String::new(),
                n => format!(" (and {n} more rejected)"),
            };
            format!(
                "{} line {}: {}{more}; nothing was imported",
                r.file, first.line, first.kind
            )
        }
        None => format!(
            "{}: no contacts found (expected vCard or CSV with names, numbers or e-mail addresses)",
            r.file
        ),
    };
    Some(Fail::new(FAILURE, message))
}

/// The summary on stdout: counts, then one line per merge, warning and rejection.
fn print_summary(r: &ImportReport) {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    println!(
        "{}: {} read; imported {} ({} work, {} private), {} updated, {} merged, {}, {}",
        r.file,
        plural(r.read, "record", "records"),
        r.added_work + r.added_private,
        r.added_work,
        r.added_private,
        r.updated,
        r.merged.len(),
        plural(r.warnings.len(), "warning", "warnings"),
        plural(r.rejected.len(), "rejected", "rejected"),
    );
    for m in &r.merged {
        let into = match &m.into {
            MergeTarget::Line(l) => format!("line {l}"),
            MergeTarget::Existing(id) => format!("contact {id}"),
        };
        println!(
            "  merged   line {} into {into} (same {})",
            m.line, m.matched
        );
    }
    for w in &r.warnings {
        println!("  warning  line {}: {}", w.line, w.kind);
    }
    for x in &r.rejected {
        println!("  rejected line {}: {}", x.line, x.kind);
    }
}

/// Import progress on stderr: a redrawn bar for a person at a terminal, a line per 10 %
/// for logs, nothing with `--json` (a script reads the report instead).
struct Bar {
    mode: Mode,
    label: String,
    last: Option<u64>,
}

#[derive(PartialEq, Eq)]
enum Mode {
    Off,
    Lines,
    Terminal,
}

impl Bar {
    fn new(file: &str, json: bool) -> Bar {
        let mode = if json {
            Mode::Off
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Lines
        };
        Bar {
            mode,
            label: format!("importing {file}"),
            last: None,
        }
    }

    fn update(&mut self, p: Progress) {
        let pct = percent(p);
        match self.mode {
            Mode::Off => {}
            // Done redraws even at an unchanged 100 %, so the bar ends saying "done".
            Mode::Terminal if self.last != Some(pct) || p.phase == Phase::Done => {
                let filled = (pct / 5) as usize;
                eprint!(
                    "\r{}: [{}{}] {pct:3}% {:<9}",
                    self.label,
                    "#".repeat(filled),
                    "-".repeat(20 - filled),
                    phase(p.phase)
                );
            }
            Mode::Lines if self.last.is_none_or(|l| l / 10 != pct / 10) => {
                eprintln!("{}: {pct}%", self.label);
            }
            _ => return,
        }
        self.last = Some(pct);
    }
}

impl Drop for Bar {
    /// Ends the redrawn line, so the summary (or an error) starts on a fresh one.
    fn drop(&mut self) {
        if self.mode == Mode::Terminal && self.last.is_some() {
            eprintln!();
        }
    }
}

/// Overall percentage, as the app's bar shows it ([`import_rules::percent`]).
fn percent(p: Progress) -> u64 {
    u64::from(import_rules::percent(p))
}

fn phase(p: Phase) -> &'static str {
    match p {
        Phase::Parsing => "reading",
        Phase::Preparing => "merging",
        Phase::Writing => "writing",
        Phase::Done => "done",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_contacts::{IssueKind, LineIssue};

    // The percentages are the service's (`kontor::service::import::percent`); its
    // tests hold what this module's test checked before.

    #[test]
    fn an_import_of_nothing_is_an_error_with_the_line() {
        let mut r = ImportReport {
            file: "x.vcf".into(),
            ..Default::default()
        };
        assert!(
            nothing_imported(&r)
                .unwrap()
                .message
                .contains("no contacts found")
        );
        r.rejected.push(LineIssue::new(3, IssueKind::EmptyRecord));
        let e = nothing_imported(&r).unwrap();
        assert!(
            e.message.starts_with("x.vcf line 3: record has no name"),
            "{e}"
        );
        r.added_private = 1;
        assert!(nothing_imported(&r).is_none());
    }
}
