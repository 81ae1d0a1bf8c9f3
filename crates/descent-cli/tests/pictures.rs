//! `descent landscape` and `descent compare` end to end: the files they promise, the numbers
//! in their JSON, and clean errors.

mod common;

use common::{fails, json, ok, path, repo};
use std::path::Path;

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_pictures(dir: &Path, base: &str) {
    let png = std::fs::read(dir.join(format!("{base}.png"))).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "{base}.png is a PNG");
    assert!(png.len() > 10_000, "{base}.png has content");
    let svg = std::fs::read_to_string(dir.join(format!("{base}.svg"))).unwrap();
    assert!(
        svg.contains("<svg") && svg.contains("<text"),
        "{base}.svg has text"
    );
}

#[test]
fn landscape_writes_figures_and_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "ls");
    ok(&[
        "landscape",
        "--problem",
        "line",
        "--grid",
        "41",
        "--rows",
        "100",
        "--epochs",
        "5",
        "--bias",
        "3",
        "--out",
        &out,
        "--starts",
        "4",
        "--seeds",
        "2",
    ]);
    let out = dir.path().join("ls");
    assert_eq!(
        files_in(&out),
        [
            "basins.png",
            "basins.svg",
            "gradient_noise.png",
            "gradient_noise.svg",
            "landscape.json",
            "landscape.png",
            "landscape.svg",
            "per_sample.png",
            "per_sample.svg",
        ],
        "exactly the promised files, no temporary ones"
    );
    for base in ["landscape", "per_sample", "gradient_noise", "basins"] {
        assert_pictures(&out, base);
    }
    let svg = std::fs::read_to_string(out.join("landscape.svg")).unwrap();
    assert!(
        svg.contains("population minimum") && svg.contains("minibatch:8"),
        "legend in the SVG"
    );
    let r = json(&std::fs::read_to_string(out.join("landscape.json")).unwrap());
    let population = r["population_minima"].as_array().unwrap();
    assert_eq!(population.len(), 1);
    let theta: Vec<f64> = population[0]["theta"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        (theta[0] - 1.0).abs() < 1e-6 && (theta[1] - 0.8).abs() < 1e-6,
        "{theta:?}"
    );
    let training = r["training_minima"][0]["theta"][0].as_f64().unwrap();
    assert!(
        training > 1.2,
        "the biased training minimum moved: slope {training}"
    );
    let paths = r["paths"].as_array().unwrap();
    let methods: Vec<&str> = paths
        .iter()
        .map(|p| p["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["batch", "sgd", "minibatch:8"]);
    assert_eq!(paths[1]["sample_gradients"], 500, "5 epochs of 100 samples");
    for p in paths {
        assert!(
            p["population_loss"].as_f64().unwrap()
                >= population[0]["population_loss"].as_f64().unwrap()
        );
    }
    let noise = &r["gradient_noise"][0];
    assert!(noise["trace_covariance"].as_f64().unwrap() > 0.0);
    for m in r["basins"]["methods"].as_array().unwrap() {
        let total: f64 = m["shares"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .sum();
        assert!((total - 1.0).abs() < 1e-9, "shares sum to one: {m}");
    }
}

#[test]
fn compare_runs_methods_on_equal_budgets() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "cmp");
    let data = repo("data/iris.csv");
    let text = ok(&[
        "compare",
        "--data",
        &data,
        "--test",
        &data,
        "--model",
        "softmax",
        "--standardize",
        "--methods",
        "batch,minibatch:150,sgd@0.05,minibatch:10",
        "--lr",
        "0.1",
        "--epochs",
        "4",
        "--seeds",
        "2",
        "--out",
        &out,
        "--json",
    ]);
    let r = json(&text);
    let rows = r["methods"].as_array().unwrap();
    assert_eq!(rows.len(), 4);
    let updates: Vec<u64> = rows
        .iter()
        .map(|m| m["updates"].as_u64().unwrap())
        .collect();
    assert_eq!(updates, [4, 4, 600, 60]);
    for m in rows {
        assert_eq!(m["sample_gradients"], 600, "equal budgets");
        assert_eq!(
            m["train_loss"]["values"].as_array().unwrap().len(),
            2,
            "two seeds"
        );
        assert!(m["test_accuracy"]["median"].as_f64().unwrap() > 0.6);
    }
    assert!(
        (rows[0]["lr"].as_f64().unwrap() - 0.1 * 150f64.sqrt()).abs() < 1e-12,
        "√b rule"
    );
    assert_eq!(rows[2]["lr"], 0.05);
    let distance = &r["final_distance"]["matrix"];
    assert_eq!(distance[0][1], 0.0, "minibatch:M is exactly batch");
    assert!(distance[0][2].as_f64().unwrap() > 0.0);
    let out = dir.path().join("cmp");
    assert_eq!(
        files_in(&out),
        [
            "comparison.json",
            "distance.png",
            "distance.svg",
            "loss_vs_epochs.png",
            "loss_vs_epochs.svg",
            "loss_vs_time.png",
            "loss_vs_time.svg",
            "loss_vs_updates.png",
            "loss_vs_updates.svg",
        ]
    );
    assert_pictures(&out, "loss_vs_epochs");
    let table = ok(&[
        "compare",
        "--data",
        &data,
        "--model",
        "softmax",
        "--standardize",
        "--epochs",
        "2",
        "--seeds",
        "1",
        "--out",
        &path(dir.path(), "t"),
    ]);
    assert!(
        table.contains("minibatch:32") && table.contains("samples/s"),
        "{table}"
    );
}

#[test]
fn landscape_and_compare_refuse_bad_settings() {
    let dir = tempfile::tempdir().unwrap();
    let err = fails(&[
        "landscape",
        "--problem",
        "spiral",
        "--out",
        &path(dir.path(), "a"),
    ]);
    assert!(err.contains("sine, line"), "{err}");
    let err = fails(&[
        "landscape",
        "--methods",
        "sgd@-1",
        "--out",
        &path(dir.path(), "b"),
    ]);
    assert!(err.contains("must be a finite number > 0"), "{err}");
    let err = fails(&["landscape", "--start", "1", "--out", &path(dir.path(), "c")]);
    assert!(err.contains("two finite numbers"), "{err}");
    for (flag, value, allowed) in [
        ("--lr", "0", "> 0"),
        ("--grid", "2", "5..=2001"),
        ("--bias", "NaN", "finite"),
    ] {
        let err = fails(&["landscape", flag, value, "--out", &path(dir.path(), "d")]);
        assert!(err.contains(flag) && err.contains(allowed), "{err}");
    }
    let err = fails(&[
        "compare",
        "--data",
        &repo("data/iris.csv"),
        "--model",
        "softmax",
        "--l2",
        "-1",
    ]);
    assert!(err.contains("--l2") && err.contains("≥ 0"), "{err}");
    let err = fails(&[
        "compare",
        "--data",
        &repo("data/iris.csv"),
        "--model",
        "softmax",
        "--methods",
        "adam",
    ]);
    assert!(err.contains("--method"), "{err}");
}

#[test]
fn landscape_of_your_own_data_uses_held_out_data_as_the_population() {
    let dir = tempfile::tempdir().unwrap();
    let all = path(dir.path(), "all.csv");
    ok(&[
        "gen",
        "dense-regression",
        "--rows",
        "300",
        "--features",
        "1",
        "--seed",
        "2",
        "--out",
        &all,
    ]);
    let text = std::fs::read_to_string(&all).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let (train, test) = (path(dir.path(), "train.csv"), path(dir.path(), "test.csv"));
    std::fs::write(&train, lines[..201].join("\n")).unwrap();
    std::fs::write(&test, [&lines[..1], &lines[201..]].concat().join("\n")).unwrap();
    let out = path(dir.path(), "ls");
    ok(&[
        "landscape",
        "--data",
        &train,
        "--test",
        &test,
        "--grid",
        "31",
        "--epochs",
        "3",
        "--out",
        &out,
    ]);
    let r = json(&std::fs::read_to_string(dir.path().join("ls/landscape.json")).unwrap());
    assert_eq!(r["reference"], "held-out");
    assert_eq!(r["population_minima"].as_array().unwrap().len(), 1);
    let svg = std::fs::read_to_string(dir.path().join("ls/landscape.svg")).unwrap();
    assert!(
        svg.contains("held-out minimum"),
        "legend names the reference"
    );

    let err = fails(&[
        "landscape",
        "--data",
        &repo("data/iris.csv"),
        "--test",
        &repo("data/iris.csv"),
        "--out",
        &out,
    ]);
    assert!(
        err.contains("exactly 2 parameters") && err.contains("has 5"),
        "{err}"
    );
}
