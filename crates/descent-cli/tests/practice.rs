//! The CLI teaches the demo's practice: rates from the validation rule (`--tune`), one method
//! at several rates, a warning when the loss grew by orders of magnitude, density as a
//! percentage.

mod common;

use common::{descent, json, ok, path, repo};

#[test]
fn a_loss_that_grew_by_orders_of_magnitude_warns() {
    let data = repo("data/breast_cancer.csv");
    let args = |lr: &'static str| {
        vec![
            "train", "--data", &data, "--model", "logistic", "--method", "batch", "--lr", lr,
            "--epochs", "20",
        ]
    };
    let out = descent(&args("100"));
    assert!(out.status.success(), "a warning, not an error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("warning: the training loss grew") && stderr.contains("--lr"),
        "{stderr}"
    );
    let mut with_json = args("100");
    with_json.push("--json");
    let report = json(&ok(&with_json));
    assert!(
        report["warning"].as_str().unwrap().contains("grew"),
        "{report}"
    );
    // A sane rate: no warning.
    let mut sane = args("0.000001");
    sane.push("--json");
    let out = descent(&sane);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    assert!(json(&String::from_utf8_lossy(&out.stdout))["warning"].is_null());
}

#[test]
fn landscape_runs_one_method_at_several_rates() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "land");
    ok(&[
        "landscape",
        "--methods",
        "batch@3,batch@1,sgd",
        "--epochs",
        "3",
        "--grid",
        "21",
        "--out",
        &out,
    ]);
    let report = json(&std::fs::read_to_string(dir.path().join("land/landscape.json")).unwrap());
    let labels: Vec<&str> = report["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["method"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["batch@3", "batch@1", "sgd"]);
}

#[test]
fn compare_tune_takes_rates_from_the_rule_and_keeps_given_ones() {
    let dir = tempfile::tempdir().unwrap();
    let out = path(dir.path(), "cmp");
    let data = repo("data/breast_cancer.csv");
    let report = json(&ok(&[
        "compare",
        "--data",
        &data,
        "--model",
        "logistic",
        "--standardize",
        "--methods",
        "batch,sgd,minibatch:32@0.123",
        "--tune",
        "--epochs",
        "5",
        "--seeds",
        "1",
        "--out",
        &out,
        "--json",
    ]));
    assert!(report["rate_rule"].as_str().unwrap().contains("validation"));
    let rates: Vec<f64> = report["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["lr"].as_f64().unwrap())
        .collect();
    // The rule's rates are half-decades 10^(k/2) rounded to 1 or 3 (the grid, widened by its
    // own ratio); the √b rule would give batch 0.01·√569 ≈ 0.239, not on that grid.
    let on_grid = |r: f64| {
        let mantissa = r / 10f64.powf(r.log10().floor());
        (mantissa - 1.0).abs() < 1e-9 || (mantissa - 3.0).abs() < 1e-9
    };
    assert!(on_grid(rates[0]) && on_grid(rates[1]), "{rates:?}");
    assert!((rates[2] - 0.123).abs() < 1e-15, "a given rate is kept");
}

#[test]
fn inspect_prints_density_as_a_percentage() {
    let printed = ok(&["inspect", "--data", &repo("data/breast_cancer.csv")]);
    assert!(printed.contains("density 100%"), "{printed}");
}
