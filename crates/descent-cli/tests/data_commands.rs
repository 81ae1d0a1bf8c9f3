//! `descent gen`, `inspect`, `convert` and the data flags of `train` end to end.

mod common;

use common::{fails, json, ok, path as p};
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../descent/tests/fixtures/npy")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

#[test]
fn gen_is_deterministic_and_inspect_describes_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, c) = (
        p(dir.path(), "a.svm"),
        p(dir.path(), "b.svm"),
        p(dir.path(), "c.svm"),
    );
    for (out, seed) in [(&a, "5"), (&b, "5"), (&c, "6")] {
        ok(&[
            "gen",
            "sparse",
            "--rows",
            "3000",
            "--features",
            "1000",
            "--seed",
            seed,
            "--out",
            out,
        ]);
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_ne!(std::fs::read(&a).unwrap(), std::fs::read(&c).unwrap());
    let r = json(&ok(&["inspect", "--data", &a, "--json"]));
    assert_eq!(r["rows"], 3000);
    assert_eq!(r["sparse"], true);
    assert!(r["features"].as_u64().unwrap() <= 1000);
    let per_row = r["nonzeros_per_row"][1].as_f64().unwrap();
    assert!(
        (per_row - 76.0).abs() < 8.0,
        "mean nonzeros per row {per_row}"
    );
    assert_eq!(r["labels"]["distinct"], 2);
    assert!(r["mb_per_second"].as_f64().unwrap() > 0.0);
    let text = ok(&["inspect", "--data", &a]);
    assert!(
        text.contains("rows         3000") && text.contains("2 classes"),
        "{text}"
    );

    let csv = p(dir.path(), "d.csv");
    ok(&[
        "gen",
        "dense-regression",
        "--rows",
        "500",
        "--features",
        "7",
        "--out",
        &csv,
    ]);
    let r = json(&ok(&["inspect", "--data", &csv, "--json"]));
    assert_eq!(
        (r["rows"].as_u64(), r["features"].as_u64()),
        (Some(500), Some(7))
    );
    assert!(
        r["labels"]["counts"].is_null(),
        "real-valued labels are not listed"
    );
}

#[test]
fn convert_makes_a_cache_that_trains_exactly_like_its_source() {
    let dir = tempfile::tempdir().unwrap();
    let svm = p(dir.path(), "s.svm");
    let cache = p(dir.path(), "s.descent");
    ok(&[
        "gen",
        "sparse",
        "--rows",
        "2000",
        "--features",
        "300",
        "--nnz",
        "20",
        "--out",
        &svm,
    ]);
    ok(&["convert", &svm, &cache]);
    let train = |data: &str, out: &str| {
        let model = p(dir.path(), out);
        ok(&[
            "train",
            "--data",
            data,
            "--model",
            "logistic",
            "--epochs",
            "2",
            "--lr",
            "0.5",
            "--features",
            "300",
            "--save",
            &model,
            "--quiet",
        ]);
        std::fs::read(model).unwrap()
    };
    let from_text = train(&svm, "a.json");
    let from_cache = train(&cache, "b.json");
    let text = |b: &[u8]| {
        String::from_utf8(b.to_vec())
            .unwrap()
            .replace("s.descent", "s.svm")
    };
    assert_eq!(
        text(&from_text),
        text(&from_cache),
        "same model from the text and its cache"
    );

    let err = fails(&["convert", &svm, &cache]);
    assert!(err.contains("already exists"), "{err}");
    let bad = p(dir.path(), "bad.svm");
    std::fs::write(&bad, "1 1:1\n1 3:1 2:1\n").unwrap();
    let out = p(dir.path(), "bad.descent");
    let err = fails(&["convert", &bad, &out]);
    assert!(err.contains("bad.svm:2:"), "{err}");
    assert!(!Path::new(&out).exists(), "nothing written for bad input");
}

#[test]
fn numpy_pairs_train_and_mismatches_are_refused() {
    let r = json(&ok(&[
        "train",
        "--data",
        &fixture("x_f32_fortran.npy"),
        "--labels",
        &fixture("y_i64.npy"),
        "--model",
        "softmax",
        "--standardize",
        "--lr",
        "0.1",
        "--epochs",
        "20",
        "--json",
    ]));
    assert_eq!(r["samples"], 150);
    assert!(r["train_accuracy"].as_f64().unwrap() > 0.9, "{r}");
    let err = fails(&[
        "train",
        "--data",
        &fixture("x_f64_c.npy"),
        "--labels",
        &fixture("y_short.npy"),
        "--model",
        "softmax",
    ]);
    assert!(err.contains("expected 150, found 100"), "{err}");
    let err = fails(&[
        "train",
        "--data",
        &fixture("x_f64_c.npy"),
        "--model",
        "softmax",
    ]);
    assert!(err.contains("--labels"), "{err}");
}

#[test]
fn streaming_trains_in_bounded_memory_and_matches_memory_when_cyclic() {
    let dir = tempfile::tempdir().unwrap();
    let svm = p(dir.path(), "s.svm");
    ok(&[
        "gen",
        "sparse",
        "--rows",
        "4000",
        "--features",
        "500",
        "--nnz",
        "25",
        "--out",
        &svm,
    ]);
    let run = |extra: &[&str], model: &str| {
        let model = p(dir.path(), model);
        let mut args = vec![
            "train",
            "--data",
            &svm,
            "--model",
            "hinge",
            "--method",
            "minibatch:16",
            "--lr",
            "0.1",
            "--l2",
            "1e-4",
            "--epochs",
            "2",
            "--json",
            "--save",
            &model,
        ];
        args.extend_from_slice(extra);
        let r = json(&ok(&args));
        (r, std::fs::read(model).unwrap())
    };
    let (memory, a) = run(&["--sampling", "cyclic"], "m.json");
    let (streamed, b) = run(&["--sampling", "cyclic", "--stream"], "s.json");
    assert_eq!(a, b, "cyclic stream and memory give the same model");
    assert_eq!(memory["train_loss"], streamed["train_loss"]);
    assert_eq!(streamed["streamed"], true);
    let (shuffled, _) = run(&["--stream", "--buffer", "100", "--seed", "3"], "t.json");
    assert_eq!(shuffled["updates"], 2 * 250);
    assert!(shuffled["peak_memory_bytes"].as_u64().unwrap() > 0);

    let err = fails(&[
        "train", "--data", &svm, "--model", "hinge", "--stream", "--method", "batch",
    ]);
    assert!(err.contains("sgd or minibatch"), "{err}");
    let err = fails(&[
        "train",
        "--data",
        &svm,
        "--model",
        "hinge",
        "--stream",
        "--standardize",
    ]);
    assert!(err.contains("--standardize"), "{err}");
}

#[test]
fn truncated_and_wrong_inputs_are_clear_errors() {
    let dir = tempfile::tempdir().unwrap();
    let cut = p(dir.path(), "cut.svm");
    std::fs::write(&cut, "1 1:0.5 2:1\n-1 1:2 4:").unwrap();
    let err = fails(&["inspect", "--data", &cut]);
    assert!(err.contains("cut.svm:2:") && err.contains("'4:'"), "{err}");
    let cut_csv = p(dir.path(), "cut.csv");
    std::fs::write(&cut_csv, "label,a,b\n1,2,3\n0,4").unwrap();
    let err = fails(&["inspect", "--data", &cut_csv]);
    assert!(err.contains("cut.csv:3: ragged row"), "{err}");
    let narrow = p(dir.path(), "n.svm");
    std::fs::write(&narrow, "1 1:1 9:2\n").unwrap();
    let err = fails(&[
        "train",
        "--data",
        &narrow,
        "--model",
        "logistic",
        "--features",
        "5",
    ]);
    assert!(err.contains("exceeds the number of features (5"), "{err}");
    let err = fails(&["inspect", "--data", &p(dir.path(), "missing.svm")]);
    assert!(err.contains("missing.svm: No such file"), "{err}");
    let err = fails(&[
        "gen",
        "sparse",
        "--rows",
        "0",
        "--out",
        &p(dir.path(), "z.svm"),
    ]);
    assert!(err.contains("--rows"), "{err}");
    assert!(!dir.path().join("z.svm").exists());
}

#[test]
fn gen_writes_landscape_samples_whose_bias_shows_in_the_fit() {
    let dir = tempfile::tempdir().unwrap();
    let slope = |bias: &str| {
        let file = p(dir.path(), &format!("line{bias}.csv"));
        ok(&[
            "gen", "line", "--rows", "4000", "--bias", bias, "--seed", "2", "--out", &file,
        ]);
        let model = p(dir.path(), &format!("m{bias}.json"));
        ok(&[
            "train",
            "--data",
            &file,
            "--model",
            "least-squares",
            "--method",
            "batch",
            "--lr",
            "0.5",
            "--epochs",
            "300",
            "--save",
            &model,
            "--quiet",
        ]);
        json(&std::fs::read_to_string(model).unwrap())["weights"][0]
            .as_f64()
            .unwrap()
    };
    let (fair, biased) = (slope("0"), slope("3"));
    assert!(
        (fair - 1.0).abs() < 0.06,
        "a fair sample fits the population's slope 1: {fair}"
    );
    assert!(
        biased > fair + 0.25,
        "bias moves the slope: {fair} → {biased}"
    );
}
