//! Fuzz target: see `puente::fuzzing::whmcs_answer`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| puente::fuzzing::whmcs_answer(data));
