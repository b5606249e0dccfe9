//! Fuzz target: see `puente::fuzzing::meta_webhook`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| puente::fuzzing::meta_webhook(data));
