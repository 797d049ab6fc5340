//! The vCard parser on arbitrary bytes: no panic, invariants of `fuzzing::vcard`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| kontor_contacts::fuzzing::vcard(data));
