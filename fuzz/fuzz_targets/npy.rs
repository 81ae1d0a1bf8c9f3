//! Fuzz target: `descent::fuzz::npy` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| descent::fuzz::npy(data));
