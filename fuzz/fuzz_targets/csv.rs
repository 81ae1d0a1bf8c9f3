//! Fuzz target: `descent::fuzz::csv` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| descent::fuzz::csv(data));
