//! A rendered PDF read back the way others read it, with poppler-utils (required:
//! `scripts/setup.sh` installs it; a missing tool fails the test, it does not skip it).

use std::{path::Path, process::Command};

/// Runs a poppler tool on `pdf` (written to a temporary file) and returns its stdout.
pub fn poppler(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quote.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = poppler_on(tool, args, &file);
    String::from_utf8(out).unwrap()
}

pub fn poppler_on(tool: &str, args: &[&str], file: &Path) -> Vec<u8> {
    let mut command = Command::new(tool);
    command.args(args).arg(file);
    if tool == "pdftotext" {
        command.arg("-"); // to stdout (pdftoppm writes there without a file root)
    }
    let out = command.output().unwrap_or_else(|e| {
        panic!("`{tool}` could not be run ({e}): install poppler-utils (scripts/setup.sh)")
    });
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

pub fn text(pdf: &[u8]) -> String {
    poppler("pdftotext", &["-layout", "-enc", "UTF-8"], pdf)
}

/// The text with runs of spaces (table layout) collapsed, for phrases.
pub fn squeezed(pdf: &[u8]) -> String {
    text(pdf).split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn pages(pdf: &[u8]) -> usize {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("quote.pdf");
    std::fs::write(&file, pdf).unwrap();
    let out = Command::new("pdfinfo")
        .arg(&file)
        .output()
        .expect("`pdfinfo` could not be run: install poppler-utils (scripts/setup.sh)");
    let info = String::from_utf8(out.stdout).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no page count in {info}"))
}
