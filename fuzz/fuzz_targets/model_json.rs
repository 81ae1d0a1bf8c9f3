//! Fuzz target: `descent::fuzz::model_json` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| descent::fuzz::model_json(data));
