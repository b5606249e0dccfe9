//! Fuzz target: see `puente::fuzzing::signature`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| puente::fuzzing::signature(data));
