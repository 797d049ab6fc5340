//! The CSV parser on arbitrary bytes: no panic, invariants of `fuzzing::csv`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kontor_contacts::fuzzing::csv(data));
