//! Fuzz target: `descent::fuzz::libsvm` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| descent::fuzz::libsvm(data));
