//! Fuzz target: see `puente::fuzzing::config`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| puente::fuzzing::config(data));
