//! The import wizard's Rust side: preview and import of a contact file, off the UI
//! thread.
//!
//! Both steps read the whole file and the import seals and commits a batch (seconds for
//! a large file), so each runs on a blocking tokio thread; progress comes back through
//! `upgrade_in_event_loop`, throttled to whole percents so a 100,000-card file does not
//! flood the event loop. Cancel sets the flag the importer checks between chunks: the
//! import then stops before its one commit, so the books are as they were.
//!
//! Problems reach the view as a [`ProblemKind`] (translated in `import_wizard.slint`)
//! plus the value from the file, never as the library's English sentence.

use std::{
    path::PathBuf,
    rc::Rc,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
};

use kontor_contacts::{
    ConsentMode, ConsentStatus, Format, ImportOptions, ImportPreview, ImportReport, IssueKind,
    LineIssue, MatchedBy, MergeTarget, Phase, Progress, Region, TextEncoding,
};
use slint::{ComponentHandle, ModelRc, SharedString, VecModel, Weak};

use super::file_picker::Mode;
use super::{
    AppWindow, ConsentKind, Contacts, ErrorKind, ImportConsent, ImportMerge, ImportPhase,
    ImportProblem, ImportRow, ImportStep, ImportWizard, ProblemKind, Session, context::Ctx,
    user_facing, view::View,
};
use crate::service::import::{self as rules, percent};

/// Records listed in the preview.
const SAMPLE: usize = 8;
/// Problems listed at most (the counts are complete; a list of thousands helps nobody
/// and a Slint layout of that many rows is slow).
const MAX_PROBLEMS: usize = 200;

/// Answers the wizard's callbacks.
pub(crate) fn wire(window: &AppWindow, ctx: &Ctx) -> Arc<ImportWizardController> {
    let w = window.global::<ImportWizard>();
    // The flag of the import that runs now (a fresh one per import).
    let cancel: Arc<Mutex<Arc<AtomicBool>>> = Arc::default();
    {
        let ctx = ctx.clone();
        w.on_preview(move |path, consent, purpose| {
            let Some(opts) = options(&ctx, consent, &purpose) else {
                return;
            };
            preview(&ctx, path.trim().into(), opts)
        });
    }
    {
        let (ctx, cancel) = (ctx.clone(), cancel.clone());
        w.on_start(move |path, consent, purpose| {
            let Some(opts) = options(&ctx, consent, &purpose) else {
                return;
            };
            let flag = Arc::new(AtomicBool::new(false));
            *cancel.lock().unwrap_or_else(|p| p.into_inner()) = flag.clone();
            start(&ctx, path.trim().into(), opts, flag)
        });
    }
    {
        let weak = window.as_weak();
        w.on_browse(move || {
            let Some(win) = weak.upgrade() else { return };
            let filters = ["vcf", "vcard", "csv"].map(String::from).to_vec();
            let weak = weak.clone();
            super::file_picker::open(&win, Mode::Open { filters }, None, move |picked| {
                if let (Some(path), Some(w)) = (picked, weak.upgrade()) {
                    w.global::<ImportWizard>()
                        .set_path(path.display().to_string().into());
                }
            });
        });
    }
    {
        let cancel = cancel.clone();
        w.on_cancel(move || {
            cancel
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .store(true, Ordering::Relaxed)
        });
    }
    Arc::new(ImportWizardController { cancel })
}

/// The wizard's state: the flag of the import that runs now.
pub(crate) struct ImportWizardController {
    cancel: Arc<Mutex<Arc<AtomicBool>>>,
}

impl View for ImportWizardController {
    fn name(&self) -> &'static str {
        "import-wizard"
    }

    /// The wizard shows names from the file: back to the first step, empty. An import
    /// running is cancelled (nothing is written then).
    fn clear(&self, w: &AppWindow) {
        self.cancel
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .store(true, Ordering::Relaxed);
        let i = w.global::<ImportWizard>();
        i.set_step(ImportStep::Choose);
        i.set_path(SharedString::new());
        i.set_rows(ModelRc::from(Rc::new(VecModel::<ImportRow>::default())));
        i.set_problems(ModelRc::from(Rc::new(VecModel::<ImportProblem>::default())));
        i.set_report_problems(ModelRc::from(Rc::new(VecModel::<ImportProblem>::default())));
    }

    fn snapshot(&self, w: &AppWindow) -> String {
        use slint::Model;
        let i = w.global::<ImportWizard>();
        let rows: Vec<String> = i.get_rows().iter().map(|r| format!("{r:?}")).collect();
        let problems: Vec<String> = i.get_problems().iter().map(|r| format!("{r:?}")).collect();
        let report: Vec<String> = i
            .get_report_problems()
            .iter()
            .map(|r| format!("{r:?}"))
            .collect();
        format!(
            "step={:?} path={} rows={rows:?} problems={problems:?} report={report:?}",
            i.get_step(),
            i.get_path()
        )
    }
}

/// The user's choices as import options, with the region the preview shows (blank: the
/// book's default). `None` after telling the user, when the region is no country code.
fn options(ctx: &Ctx, consent: ImportConsent, purpose: &str) -> Option<ImportOptions> {
    let consent = match consent {
        ImportConsent::FromFile => ConsentMode::FromFile,
        ImportConsent::Granted => ConsentMode::Granted,
        ImportConsent::None => ConsentMode::None,
    };
    let typed = ctx
        .weak
        .upgrade()
        .map(|w| {
            w.global::<ImportWizard>()
                .get_region()
                .trim()
                .to_uppercase()
        })
        .unwrap_or_default();
    let region = if typed.is_empty() {
        None
    } else {
        match typed.parse::<Region>() {
            Ok(r) => Some(r),
            Err(_) => {
                ctx.fail(ErrorKind::InvalidInput);
                return None;
            }
        }
    };
    Some(rules::options(consent, Some(purpose), None, region))
}

fn fail(weak: &Weak<AppWindow>, e: kontor_contacts::Error, step: ImportStep) {
    let kind = user_facing::report(&e.into());
    let _ = weak.upgrade_in_event_loop(move |w| {
        let s = w.global::<Session>();
        s.set_error(kind);
        let iw = w.global::<ImportWizard>();
        iw.set_busy(false);
        iw.set_step(step);
    });
}

fn preview(ctx: &Ctx, path: PathBuf, opts: ImportOptions) {
    let b = match ctx.service.book() {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    if let Some(w) = ctx.weak.upgrade() {
        w.global::<ImportWizard>().set_busy(true);
    }
    let weak = ctx.weak.clone();
    ctx.rt()
        .spawn_blocking(move || match b.preview_file(&path, &opts, SAMPLE) {
            Ok(p) => {
                let view = PreviewView::from(&p);
                let _ = weak.upgrade_in_event_loop(move |w| {
                    // Finished after the lock: the names from the file are not shown.
                    if !w.global::<super::Lock>().get_locked() {
                        view.install(&w);
                    }
                });
            }
            Err(e) => fail(&weak, e, ImportStep::Choose),
        });
}

/// A preview as plain data, built off the UI thread.
struct PreviewView {
    format: &'static str,
    encoding: &'static str,
    records: i32,
    consent_fields: String,
    to_work: i32,
    to_private: i32,
    rows: Vec<ImportRow>,
    problems: Vec<ImportProblem>,
    region: String,
    national_numbers: i32,
    merges: Vec<ImportMerge>,
}

impl From<&ImportPreview> for PreviewView {
    fn from(p: &ImportPreview) -> Self {
        PreviewView {
            format: match p.format {
                Format::VCard => "vCard",
                Format::Csv => "CSV",
            },
            encoding: match p.encoding {
                TextEncoding::Utf8 => "UTF-8",
                TextEncoding::Utf8Bom => "UTF-8 BOM",
                TextEncoding::Utf16 => "UTF-16",
                TextEncoding::Windows1252 => "Windows-1252",
            },
            records: count(p.records),
            consent_fields: p.consent_fields.join(", "),
            to_work: count(p.to_work),
            to_private: count(p.to_private),
            rows: p
                .sample
                .iter()
                .map(|r| ImportRow {
                    line: line(r.line),
                    name: r.name.as_str().into(),
                    consent: r.consent.map_or(ConsentKind::None, consent_kind),
                    rejected: r.consent.is_none(),
                })
                .collect(),
            problems: problems(&p.rejected, &p.warnings),
            region: p.region.code().to_owned(),
            national_numbers: count(p.national_numbers),
            merges: p
                .merges
                .iter()
                .map(|m| ImportMerge {
                    line: line(m.line),
                    into_line: match m.into {
                        MergeTarget::Line(l) => line(l),
                        MergeTarget::Existing(_) => 0,
                    },
                    by_email: m.matched == MatchedBy::Email,
                })
                .collect(),
        }
    }
}

impl PreviewView {
    fn install(self, w: &AppWindow) {
        let iw = w.global::<ImportWizard>();
        iw.set_format(self.format.into());
        iw.set_encoding(self.encoding.into());
        iw.set_records(self.records);
        iw.set_consent_fields(self.consent_fields.into());
        iw.set_to_work(self.to_work);
        iw.set_to_private(self.to_private);
        iw.set_rows(ModelRc::from(Rc::new(VecModel::from(self.rows))));
        iw.set_problems(ModelRc::from(Rc::new(VecModel::from(self.problems))));
        iw.set_region(self.region.into());
        iw.set_national_numbers(self.national_numbers);
        iw.set_merges(ModelRc::from(Rc::new(VecModel::from(self.merges))));
        iw.set_busy(false);
        iw.set_step(ImportStep::Preview);
    }
}

fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn line(n: u64) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

fn consent_kind(s: ConsentStatus) -> ConsentKind {
    match s {
        ConsentStatus::Granted => ConsentKind::Granted,
        ConsentStatus::None => ConsentKind::None,
        ConsentStatus::Withdrawn => ConsentKind::Withdrawn,
    }
}

/// Rejections and warnings in line order (rejections first on the same line), capped.
fn problems(rejected: &[LineIssue], warnings: &[LineIssue]) -> Vec<ImportProblem> {
    let mut all: Vec<ImportProblem> = rejected
        .iter()
        .map(|i| problem(i, true))
        .chain(warnings.iter().map(|i| problem(i, false)))
        .collect();
    all.sort_by_key(|p| (p.line, !p.rejected));
    all.truncate(MAX_PROBLEMS);
    all
}

fn problem(issue: &LineIssue, rejected: bool) -> ImportProblem {
    let (kind, detail, extra) = classify(&issue.kind);
    ImportProblem {
        line: line(issue.line),
        kind,
        detail: detail.into(),
        extra: extra.into(),
        rejected,
    }
}

/// The view's kind of a parser or importer issue and the values it names, so the view
/// can say it in the user's language (the library hands over kinds and data).
pub(crate) fn classify(kind: &IssueKind) -> (ProblemKind, String, String) {
    let none = String::new;
    match kind {
        IssueKind::EmptyRecord => (ProblemKind::EmptyRecord, none(), none()),
        IssueKind::UnknownConsent { value } => (ProblemKind::UnknownConsent, value.clone(), none()),
        IssueKind::InvalidPhone { value } => (ProblemKind::InvalidPhone, value.clone(), none()),
        IssueKind::MissingEnd => (ProblemKind::MissingEnd, none(), none()),
        IssueKind::StrayEnd => (ProblemKind::StrayEnd, none(), none()),
        IssueKind::EmptyPhone => (ProblemKind::EmptyPhone, none(), none()),
        IssueKind::InvalidEmail { value } => (ProblemKind::BadEmail, value.clone(), none()),
        IssueKind::BadHeader => (ProblemKind::BadHeader, none(), none()),
        // The CSV reader's own words are English and technical: logged, not shown.
        IssueKind::UnreadableHeader { detail } | IssueKind::UnreadableRow { detail } => {
            tracing::debug!("unreadable CSV line: {detail}");
            (ProblemKind::Unreadable, none(), none())
        }
        IssueKind::NoCards { encoding } => (ProblemKind::NoCards, encoding.to_string(), none()),
        IssueKind::NationalNumberAssumedRegion { value, region } => (
            ProblemKind::NationalNumber,
            value.clone(),
            region.code().to_owned(),
        ),
        IssueKind::NestedCard { outer_line } => {
            (ProblemKind::NestedCard, outer_line.to_string(), none())
        }
    }
}

fn start(ctx: &Ctx, path: PathBuf, opts: ImportOptions, cancel: Arc<AtomicBool>) {
    let b = match ctx.service.book() {
        Ok(b) => b,
        Err(e) => return ctx.fail(e),
    };
    let weak = ctx.weak.clone();
    ctx.rt().spawn_blocking(move || {
        let mut last = None;
        let mut progress = |p: Progress| {
            let pct = percent(p);
            if last == Some((pct, p.phase)) {
                return;
            }
            last = Some((pct, p.phase));
            let phase = match p.phase {
                Phase::Parsing => ImportPhase::Reading,
                Phase::Preparing => ImportPhase::Merging,
                Phase::Writing => ImportPhase::Writing,
                Phase::Done => ImportPhase::Done,
            };
            let _ = weak.upgrade_in_event_loop(move |w| {
                let iw = w.global::<ImportWizard>();
                iw.set_phase(phase);
                iw.set_progress(pct as f32 / 100.0);
            });
        };
        match b.import_file(&path, &opts, &mut progress, &cancel) {
            Ok(report) => {
                let view = ReportView::from(&report);
                let _ = weak.upgrade_in_event_loop(move |w| {
                    view.install(&w, false);
                    w.global::<Contacts>().invoke_refresh();
                });
            }
            Err(kontor_contacts::Error::Cancelled) => {
                let _ = weak.upgrade_in_event_loop(|w| {
                    ReportView::default().install(&w, true);
                });
            }
            Err(e) => fail(&weak, e, ImportStep::Preview),
        }
    });
}

/// An import report as plain data, built off the UI thread.
#[derive(Default)]
struct ReportView {
    added_work: i32,
    added_private: i32,
    updated: i32,
    merged: i32,
    warnings: i32,
    rejected: i32,
    problems: Vec<ImportProblem>,
}

impl From<&ImportReport> for ReportView {
    fn from(r: &ImportReport) -> Self {
        ReportView {
            added_work: count(r.added_work),
            added_private: count(r.added_private),
            updated: count(r.updated),
            merged: count(r.merged.len()),
            warnings: count(r.warnings.len()),
            rejected: count(r.rejected.len()),
            problems: problems(&r.rejected, &r.warnings),
        }
    }
}

impl ReportView {
    fn install(self, w: &AppWindow, cancelled: bool) {
        let iw = w.global::<ImportWizard>();
        iw.set_cancelled(cancelled);
        iw.set_added_work(self.added_work);
        iw.set_added_private(self.added_private);
        iw.set_updated(self.updated);
        iw.set_merged(self.merged);
        iw.set_warnings(self.warnings);
        iw.set_rejected(self.rejected);
        iw.set_report_problems(ModelRc::from(Rc::new(VecModel::from(self.problems))));
        iw.set_progress(1.0);
        iw.set_step(ImportStep::Report);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kontor_contacts::{ContactBook, KdfParams, OpenOptions};

    #[test]
    fn every_message_of_the_parsers_has_a_kind() {
        let dir = tempfile::tempdir().unwrap();
        let book = ContactBook::open_with(
            &dir.path().join("book"),
            "p",
            OpenOptions {
                kdf: KdfParams::insecure_fast(),
                ..OpenOptions::default()
            },
        )
        .unwrap();
        let vcf = dir.path().join("k.vcf");
        std::fs::write(
            &vcf,
            "END:VCARD\nBEGIN:VCARD\nFN:A\nTEL:\nEMAIL:nope\nTEL:12\nX-KONTOR-CONSENT:vielleicht\nEND:VCARD\n\
             BEGIN:VCARD\nNOTE:x\nEND:VCARD\nBEGIN:VCARD\nFN:B\nTEL:99\n",
        )
        .unwrap();
        let csv = dir.path().join("k.csv");
        std::fs::write(&csv, "Foo,Bar\n1,2\n").unwrap();
        let mut kinds = Vec::new();
        for (path, mode) in [
            (&vcf, ConsentMode::FromFile),
            (&vcf, ConsentMode::None),
            (&csv, ConsentMode::None),
        ] {
            let opts = ImportOptions {
                consent: mode,
                ..ImportOptions::default()
            };
            let p = book.preview_file(path, &opts, 1).unwrap();
            kinds.extend(p.rejected.iter().chain(&p.warnings).map(|i| i.kind.clone()));
        }
        assert!(kinds.len() >= 8, "{kinds:?}");
        for k in &kinds {
            assert_ne!(classify(k).0, ProblemKind::Other, "{k:?}");
        }
        assert_eq!(
            classify(&IssueKind::InvalidPhone { value: "12".into() }),
            (ProblemKind::InvalidPhone, "12".to_owned(), String::new())
        );
        assert_eq!(
            classify(&IssueKind::UnknownConsent {
                value: "vielleicht".into()
            }),
            (
                ProblemKind::UnknownConsent,
                "vielleicht".to_owned(),
                String::new()
            )
        );
        // Every kind the library knows has a text of its own in the view.
        let region: Region = "AT".parse().unwrap();
        let national = IssueKind::NationalNumberAssumedRegion {
            value: "0664 1234567".into(),
            region,
        };
        assert_eq!(
            classify(&national),
            (
                ProblemKind::NationalNumber,
                "0664 1234567".to_owned(),
                "AT".to_owned()
            )
        );
        assert_eq!(
            classify(&IssueKind::NestedCard { outer_line: 3 }).0,
            ProblemKind::NestedCard
        );
    }

    #[test]
    fn progress_rises_and_problems_are_in_line_order() {
        let p = |phase, done, total| Progress { phase, done, total };
        assert_eq!(percent(p(Phase::Parsing, 5, 10)), 10);
        assert_eq!(percent(p(Phase::Preparing, 10, 10)), 50);
        assert_eq!(percent(p(Phase::Writing, 0, 0)), 50);
        assert_eq!(percent(p(Phase::Done, 0, 0)), 100);
        let list = problems(
            &[LineIssue::new(9, IssueKind::MissingEnd)],
            &[
                LineIssue::new(12, IssueKind::EmptyPhone),
                LineIssue::new(3, IssueKind::EmptyPhone),
            ],
        );
        let lines: Vec<_> = list.iter().map(|p| (p.line, p.rejected)).collect();
        assert_eq!(lines, [(3, false), (9, true), (12, false)]);
    }
}
