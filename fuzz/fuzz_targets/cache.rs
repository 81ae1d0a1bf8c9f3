//! Fuzz target: `descent::fuzz::cache` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| descent::fuzz::cache(data));
