//! Entry points for the fuzz targets in `contacts/fuzz` (feature `fuzzing`).
//!
//! The parsers are private to the crate; fuzzing them through a whole import
//! would spend most of each run on sealing and the store. These wrappers run
//! one parser on arbitrary bytes and check what must hold for any input, so a
//! violated invariant is a crash the fuzzer reports.

use crate::record::RawRecord;

fn check(records: &[RawRecord], positions: &[usize], input_len: usize) {
    assert!(
        positions.windows(2).all(|w| w[0] <= w[1]),
        "progress went backwards"
    );
    assert!(
        positions.iter().all(|&p| p <= input_len),
        "progress beyond the input"
    );
    assert!(
        records.iter().all(|r| r.line >= 1),
        "line numbers start at 1"
    );
    assert!(
        records.iter().all(|r| !r.is_empty()),
        "empty records are rejected, not emitted"
    );
}

/// Parses `bytes` as vCard, as an import would.
pub fn vcard(bytes: &[u8]) {
    let (mut records, mut positions) = (Vec::new(), Vec::new());
    crate::vcard::parse_with(bytes, &mut |r, pos| {
        records.push(r);
        positions.push(pos);
        true
    });
    check(&records, &positions, bytes.len());
}

/// Parses `bytes` as CSV, as an import would.
pub fn csv(bytes: &[u8]) {
    let (mut records, mut positions) = (Vec::new(), Vec::new());
    crate::csv_file::parse_with(bytes, &mut |r, pos| {
        records.push(r);
        positions.push(pos);
        true
    });
    check(&records, &positions, bytes.len());
}
