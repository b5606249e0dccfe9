//! Fuzz target: see `puente::fuzzing::envelope`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| puente::fuzzing::envelope(data));
