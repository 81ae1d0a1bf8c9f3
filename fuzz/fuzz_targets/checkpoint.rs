//! Fuzz target: `descent::fuzz::checkpoint` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| descent::fuzz::checkpoint(data));
