//! The fuzz targets' kept inputs, replayed: every seed, every corpus entry the fuzzer found
//! interesting and every input that once crashed a reader (`fuzz/regressions`) must be read
//! or refused with an error, never panic. This runs the same harnesses as `cargo fuzz`
//! (`descent::fuzz`), without a nightly compiler.

use std::path::PathBuf;

fn inputs(target: &str) -> Vec<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz");
    let mut files = Vec::new();
    for kind in ["seeds", "corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(root.join(kind).join(target)) {
            files.extend(entries.map(|e| e.unwrap().path()).filter(|p| p.is_file()));
        }
    }
    files.sort();
    files
}

#[test]
fn every_kept_fuzz_input_is_read_or_refused_without_a_panic() {
    for target in descent::fuzz::TARGETS {
        let files = inputs(target);
        assert!(!files.is_empty(), "no kept inputs for {target}");
        for file in files {
            let bytes = std::fs::read(&file).unwrap();
            let outcome = std::panic::catch_unwind(|| descent::fuzz::run(target, &bytes));
            assert!(outcome.is_ok(), "{target}: {} panicked", file.display());
        }
    }
}

#[test]
fn the_crashers_found_by_fuzzing_are_kept() {
    // Each was a panic before its fix; see docs/RELIABILITY.md.
    for target in ["npy", "cache", "checkpoint"] {
        let kept = inputs(target)
            .iter()
            .any(|p| p.to_string_lossy().contains("regressions"));
        assert!(kept, "no crasher kept for {target} in fuzz/regressions");
    }
}
