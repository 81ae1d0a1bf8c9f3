//! The `descent` binary end to end: train, save, predict, trace, and errors on bad input.

mod common;

use common::{descent, fails, json, ok, path, repo};

#[test]
fn train_json_reports_losses_counts_and_times() {
    let data = repo("data/breast_cancer.csv");
    let out = ok(&[
        "train",
        "--data",
        &data,
        "--test",
        &data,
        "--model",
        "logistic",
        "--standardize",
        "--method",
        "minibatch:32",
        "--lr",
        "0.1",
        "--l2",
        "0.001",
        "--epochs",
        "3",
        "--json",
    ]);
    let r = json(&out);
    for key in [
        "train_loss",
        "train_accuracy",
        "test_loss",
        "test_accuracy",
        "epochs",
        "updates",
        "sample_gradients",
        "load_seconds",
        "train_seconds",
    ] {
        assert!(r[key].is_number(), "missing {key} in {r}");
    }
    assert_eq!(r["updates"], 3 * 18); // ⌈569/32⌉ = 18 per epoch
    assert_eq!(r["sample_gradients"], 3 * 569);
    assert!(r["train_accuracy"].as_f64().unwrap() > 0.9, "{r}");
    assert_eq!(
        r["train_loss"], r["test_loss"],
        "same file as train and test"
    );
    // Dense batches of 32: the generic update rule, with nothing in the way of a faster one.
    assert_eq!(r["update_rule"], "generic", "{r}");
    assert!(r.get("update_rule_note").is_none(), "{r}");
    // Single samples of a linear model: the O(nnz) rule.
    let sgd = json(&ok(&[
        "train",
        "--data",
        &data,
        "--model",
        "logistic",
        "--standardize",
        "--epochs",
        "1",
        "--json",
    ]));
    assert_eq!(sgd["update_rule"], "lazy-sparse", "{sgd}");
}

#[test]
fn same_seed_gives_byte_identical_models_for_any_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    let data = repo("data/wine.csv");
    let train = |name: &str, seed: &str, threads: &str| {
        let out = path(dir.path(), name);
        ok(&[
            "train",
            "--data",
            &data,
            "--model",
            "softmax",
            "--standardize",
            "--method",
            "minibatch:16",
            "--momentum",
            "0.9",
            "--lr",
            "0.05",
            "--epochs",
            "5",
            "--seed",
            seed,
            "--threads",
            threads,
            "--save",
            &out,
            "--quiet",
        ]);
        std::fs::read(out).unwrap()
    };
    let a = train("a.json", "7", "1");
    let b = train("b.json", "7", "2");
    let c = train("c.json", "8", "2");
    assert_eq!(a, b, "same seed, 1 vs 2 threads");
    assert_ne!(a, c, "another seed should give another model");
    let model = json(std::str::from_utf8(&a).unwrap());
    assert_eq!(model["model"], "softmax");
    assert_eq!(model["weights"].as_array().unwrap().len(), 3);
    assert_eq!(model["intercept"].as_array().unwrap().len(), 3);
    assert_eq!(model["classes"], serde_json::json!([0.0, 1.0, 2.0]));
    assert_eq!(model["training"]["method"], "minibatch:16");
    assert_eq!(model["training"]["seed"], 7);
}

#[test]
fn predict_scores_a_saved_model_as_training_did() {
    let dir = tempfile::tempdir().unwrap();
    let model = path(dir.path(), "m.json");
    let data = repo("data/iris.csv");
    let trained = json(&ok(&[
        "train", "--data", &data, "--test", &data, "--model", "softmax", "--lr", "0.05",
        "--epochs", "20", "--save", &model, "--json",
    ]));
    let scored = json(&ok(&[
        "predict", "--model", &model, "--data", &data, "--json",
    ]));
    assert_eq!(scored["accuracy"], trained["test_accuracy"]);
    assert_eq!(
        scored["loss"], trained["test_loss"],
        "no L2: the same objective"
    );
    assert_eq!(scored["samples"], 150);

    let lines = ok(&["predict", "--model", &model, "--data", &data]);
    let predictions: Vec<&str> = lines.lines().collect();
    assert_eq!(predictions.len(), 150);
    assert!(
        predictions.iter().all(|p| ["0", "1", "2"].contains(p)),
        "{predictions:?}"
    );
    let labels: Vec<String> = std::fs::read_to_string(&data)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap().to_string())
        .collect();
    let hits = predictions
        .iter()
        .zip(&labels)
        .filter(|(p, l)| *p == l)
        .count();
    let accuracy = hits as f64 / 150.0;
    assert!((accuracy - scored["accuracy"].as_f64().unwrap()).abs() < 1e-12);
}

#[test]
fn predict_applies_the_saved_scaler_and_reports_regression_metrics() {
    let dir = tempfile::tempdir().unwrap();
    let model = path(dir.path(), "m.json");
    let data = repo("data/diabetes.csv");
    ok(&[
        "train",
        "--data",
        &data,
        "--model",
        "least-squares",
        "--standardize",
        "--method",
        "batch",
        "--lr",
        "0.3",
        "--epochs",
        "2000",
        "--save",
        &model,
        "--quiet",
    ]);
    let scored = json(&ok(&[
        "predict", "--model", &model, "--data", &data, "--json",
    ]));
    let r2 = scored["r2"].as_f64().unwrap();
    // Ordinary least squares on diabetes has R² = 0.518 on the training data.
    assert!(r2 > 0.5 && r2 < 0.52, "R² {r2}");
}

#[test]
fn trace_records_the_trajectory() {
    let dir = tempfile::tempdir().unwrap();
    let trace = path(dir.path(), "t.csv");
    let data = repo("data/iris.csv");
    let r = json(&ok(&[
        "train",
        "--data",
        &data,
        "--test",
        &data,
        "--model",
        "least-squares",
        "--method",
        "minibatch:10",
        "--lr",
        "0.01",
        "--epochs",
        "2",
        "--trace",
        &trace,
        "--trace-every",
        "4",
        "--json",
    ]));
    let text = std::fs::read_to_string(&trace).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let expected = [
        "update",
        "epoch",
        "sample_gradients",
        "seconds",
        "lr",
        "batch_loss",
        "train_loss",
        "test_loss",
        "theta_0",
        "theta_1",
        "theta_2",
        "theta_3",
        "theta_4",
        "update_rule",
    ];
    assert_eq!(header, expected);
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    let updates: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    assert_eq!(updates, ["0", "4", "8", "12", "16", "20", "24", "28", "30"]);
    assert_eq!(rows[0][4], "", "no rate before the first update");
    let rules: Vec<&str> = rows.iter().map(|r| r[r.len() - 1]).collect();
    assert_eq!(
        rules,
        [r["update_rule"].as_str().unwrap(); 9],
        "every row names the rule"
    );
    let last = rows.last().unwrap();
    assert_eq!(last[1], "2");
    assert_eq!(last[2], "300");
    assert_eq!(
        last[6].parse::<f64>().unwrap(),
        r["train_loss"].as_f64().unwrap()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(leftovers.len(), 1, "only the trace, no temporary files");
}

#[test]
fn large_models_trace_losses_without_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let trace = path(dir.path(), "t.csv");
    ok(&[
        "train",
        "--data",
        &repo("data/digits.csv"),
        "--model",
        "softmax",
        "--epochs",
        "1",
        "--lr",
        "0.001",
        "--trace",
        &trace,
        "--quiet",
    ]);
    let text = std::fs::read_to_string(&trace).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.ends_with("train_loss,train_accuracy,update_rule"),
        "{header}"
    );
    // Header, the start, every 179th of 1797 updates (10 rows), and the final update.
    assert_eq!(text.lines().count(), 1 + 1 + 10 + 1);
}

#[test]
fn libsvm_and_csv_copies_of_the_data_give_the_same_model_to_rounding() {
    let dir = tempfile::tempdir().unwrap();
    let csv = repo("data/breast_cancer.csv");
    let svm = path(dir.path(), "bc.svm");
    let text = std::fs::read_to_string(&csv).unwrap();
    let converted: String = text
        .lines()
        .skip(1)
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let pairs: Vec<String> = cells[1..]
                .iter()
                .enumerate()
                .filter(|(_, v)| v.parse::<f64>().unwrap() != 0.0)
                .map(|(j, v)| format!("{}:{v}", j + 1))
                .collect();
            format!("{} {}\n", cells[0], pairs.join(" "))
        })
        .collect();
    std::fs::write(&svm, converted).unwrap();
    let train = |data: &str, out: &str| {
        let out = path(dir.path(), out);
        ok(&[
            "train",
            "--data",
            data,
            "--model",
            "hinge",
            "--lr",
            "1e-5",
            "--l2",
            "0.01",
            "--epochs",
            "2",
            "--features",
            "30",
            "--save",
            &out,
            "--quiet",
        ]);
        json(&std::fs::read_to_string(out).unwrap())
    };
    let (a, b) = (train(&csv, "a.json"), train(&svm, "b.json"));
    // Dense rows are summed in SIMD lanes, sparse rows in order: equal up to rounding.
    let numbers = |m: &serde_json::Value| -> Vec<f64> {
        let mut v: Vec<f64> = m["weights"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap())
            .collect();
        v.push(m["intercept"].as_f64().unwrap());
        v
    };
    for (x, y) in numbers(&a).iter().zip(numbers(&b)) {
        assert!((x - y).abs() <= 1e-12 * y.abs().max(1e-3), "{x} vs {y}");
    }
}

#[test]
fn bad_input_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = path(dir.path(), "bad.csv");
    std::fs::write(&bad, "label,x\n1,2\n0,oops\n").unwrap();
    let err = fails(&["train", "--data", &bad, "--model", "logistic"]);
    assert!(
        err.contains("bad.csv:3: column 'x': 'oops' is not a number"),
        "{err}"
    );

    let err = fails(&[
        "train",
        "--data",
        &repo("data/iris.csv"),
        "--model",
        "logistic",
    ]);
    assert!(
        err.contains("iris.csv:102: label 2 is a third class"),
        "{err}"
    );

    let err = fails(&[
        "train",
        "--data",
        &repo("data/iris.csv"),
        "--model",
        "softmax",
        "--label",
        "y",
    ]);
    assert!(err.contains("no label column 'y'"), "{err}");

    let err = fails(&[
        "train",
        "--data",
        &repo("data/iris.csv"),
        "--model",
        "softmax",
        "--lr",
        "-1",
    ]);
    assert!(err.contains("--lr") && err.contains("> 0"), "{err}");

    let err = fails(&["train", "--data", &repo("data/iris.csv"), "--model", "svm"]);
    assert!(
        err.contains("least-squares, logistic, hinge, softmax"),
        "{err}"
    );

    let err = fails(&[
        "train",
        "--data",
        &path(dir.path(), "none.csv"),
        "--model",
        "softmax",
    ]);
    assert!(err.contains("none.csv: No such file"), "{err}");

    let test = path(dir.path(), "narrow.csv");
    std::fs::write(&test, "label,a\n1,2\n").unwrap();
    let err = fails(&[
        "train",
        "--data",
        &repo("data/iris.csv"),
        "--test",
        &test,
        "--model",
        "softmax",
    ]);
    assert!(
        err.contains("number of features") && err.contains("expected 4, found 1"),
        "{err}"
    );
}

#[test]
fn divergence_stops_with_a_hint_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let model = path(dir.path(), "m.json");
    let trace = path(dir.path(), "t.csv");
    let err = fails(&[
        "train",
        "--data",
        &repo("data/diabetes.csv"),
        "--model",
        "least-squares",
        "--method",
        "batch",
        "--lr",
        "10",
        "--epochs",
        "1000",
        "--save",
        &model,
        "--trace",
        &trace,
    ]);
    assert!(
        err.contains("diverged") && err.contains("try --lr 1"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no partial files"
    );
    assert!(err.contains("update") && err.contains("loss = "), "{err}");
    // halve-lr: back to the last good state at half the rate, until the run goes through.
    let out = descent(&[
        "train",
        "--data",
        &repo("data/diabetes.csv"),
        "--model",
        "least-squares",
        "--standardize",
        "--method",
        "batch",
        "--lr",
        "10",
        "--epochs",
        "300",
        "--on-divergence",
        "halve-lr",
        "--save",
        &model,
        "--json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("warning: the loss diverged") && stderr.contains("learning rate × 0.5"),
        "{stderr}"
    );
    let r = json(&String::from_utf8_lossy(&out.stdout));
    assert!(r["train_loss"].as_f64().unwrap() < 2000.0, "{r}");
    assert_eq!(r["updates"], 300);
}

#[test]
fn networks_train_save_and_predict() {
    let dir = tempfile::tempdir().unwrap();
    let model = path(dir.path(), "mlp.json");
    let data = repo("data/iris.csv");
    let trained = json(&ok(&[
        "train",
        "--data",
        &data,
        "--test",
        &data,
        "--model",
        "mlp:8",
        "--standardize",
        "--method",
        "minibatch:10",
        "--lr",
        "0.2",
        "--epochs",
        "60",
        "--seed",
        "3",
        "--save",
        &model,
        "--json",
    ]));
    assert_eq!(trained["model"], "mlp:8");
    assert_eq!(trained["parameters"], 8 * 4 + 8 + 3 * 8 + 3);
    assert!(
        trained["train_accuracy"].as_f64().unwrap() > 0.9,
        "{trained}"
    );
    let saved = json(&std::fs::read_to_string(&model).unwrap());
    assert_eq!(
        saved["hidden_layer"]["weights"].as_array().unwrap().len(),
        8
    );
    assert_eq!(saved["weights"].as_array().unwrap().len(), 3);
    let scored = json(&ok(&[
        "predict", "--model", &model, "--data", &data, "--json",
    ]));
    assert_eq!(scored["accuracy"], trained["test_accuracy"]);
    assert_eq!(scored["loss"], trained["test_loss"]);
    let err = fails(&["train", "--data", &data, "--model", "mlp:0"]);
    assert!(err.contains("mlp:H"), "{err}");
}

#[test]
fn bench_measures_bandwidth_and_throughput() {
    let r = json(&ok(&[
        "bench",
        "--dense-rows",
        "3000",
        "--dense-features",
        "16",
        "--sparse-rows",
        "500",
        "--budget",
        "0.01",
        "--json",
    ]));
    assert!(
        r["read_bandwidth_gb_per_second"]["one_thread"]
            .as_f64()
            .unwrap()
            > 0.1
    );
    assert!(!r["processor"].as_str().unwrap().is_empty(), "{r}");
    let rows = r["measurements"].as_array().unwrap();
    assert_eq!(
        rows.len(),
        2 * 2 * 6,
        "dense and sparse × 2 thread counts × 6 batch sizes"
    );
    // Fractions are of the higher of the bandwidths measured before and after the passes.
    let bw = &r["read_bandwidth_gb_per_second"];
    let of = |when: &str, which: &str| bw[when][which].as_f64().unwrap();
    for which in ["one_thread", "all_threads"] {
        let higher = of("before", which).max(of("after", which));
        assert_eq!(
            bw[which].as_f64().unwrap().to_bits(),
            higher.to_bits(),
            "{bw}"
        );
    }
    for row in rows {
        assert!(row["samples_per_second"].as_f64().unwrap() > 0.0, "{row}");
        let which = if row["threads"].as_u64() == Some(1) {
            "one_thread"
        } else {
            "all_threads"
        };
        let fraction = row["gb_per_second"].as_f64().unwrap() / bw[which].as_f64().unwrap();
        let reported = row["bandwidth_fraction"].as_f64().unwrap();
        assert!(
            reported > 0.0 && (reported - fraction).abs() <= 1e-12 * fraction,
            "{row}"
        );
        // The engine's block for 16 (dense) or 47,152 (sparse) features, an intercept and
        // the loss: 4,096 rows at least, a quarter of the width when that is more.
        let width = row["features"].as_u64().unwrap() + 2;
        assert_eq!(
            row["block_rows"].as_u64().unwrap(),
            (width / 4).max(4096),
            "{row}"
        );
    }
    let cached = &r["dense_in_cache"];
    // 1 MiB of rows of 16 floats.
    assert_eq!(cached["rows"], 16_384, "{cached}");
    assert!(cached["gb_per_second"].as_f64().unwrap() > 0.0, "{cached}");
    let training = r["training"].as_array().unwrap();
    let runs: Vec<String> = training
        .iter()
        .map(|u| {
            format!(
                "{} {}",
                u["data"].as_str().unwrap(),
                u["method"].as_str().unwrap()
            )
        })
        .collect();
    let methods = ["sgd", "minibatch:8", "minibatch:64", "minibatch:512"];
    let expected: Vec<String> = ["dense", "sparse"]
        .iter()
        .flat_map(|d| methods.map(|m| format!("{d} {m}")))
        .collect();
    assert_eq!(runs, expected);
    for u in training {
        assert!(u["samples_per_second"].as_f64().unwrap() > 0.0, "{u}");
        assert_eq!(u["threads"], 1);
    }
}

#[test]
fn hogwild_trains_linear_models_and_refuses_the_rest() {
    // The help says it is not deterministic and when it does not pay.
    let help = ok(&["train", "--help"]);
    assert!(help.contains("NOT deterministic"), "{help}");
    assert!(help.contains("slower than serial SGD"), "{help}");
    let data = repo("data/breast_cancer.csv");
    let r = json(&ok(&[
        "train",
        "--data",
        &data,
        "--model",
        "logistic",
        "--standardize",
        "--hogwild",
        "--threads",
        "2",
        "--lr",
        "0.05",
        "--epochs",
        "5",
        "--json",
    ]));
    assert!(r["train_accuracy"].as_f64().unwrap() > 0.95, "{r}");
    assert_eq!(r["sample_gradients"], 5 * 569);
    for extra in [
        ["--model", "logistic", "--momentum", "0.9"],
        ["--model", "logistic", "--method", "batch"],
        ["--model", "softmax", "--epochs", "1"],
    ] {
        let mut args = vec!["train", "--data", &data, "--hogwild"];
        args.extend(extra);
        let err = fails(&args);
        assert!(err.contains("--hogwild"), "{err}");
    }
}

#[test]
fn every_numeric_flag_is_checked_with_its_allowed_range() {
    let data = repo("data/iris.csv");
    let train = |flag: &str, value: &str| {
        fails(&[
            "train", "--data", &data, "--model", "softmax", "--quiet", flag, value,
        ])
    };
    let cases = [
        ("--lr", "nan", "a finite number > 0"),
        ("--lr", "0", "a finite number > 0"),
        ("--lr", "inf", "a finite number > 0"),
        ("--l2", "-1", "a finite number ≥ 0"),
        ("--momentum", "1", "a number in [0, 1)"),
        ("--epochs", "0", "a whole number ≥ 1"),
        ("--epochs", "2.5", "a whole number ≥ 1"),
        ("--seed", "-1", "a whole number ≥ 0"),
        ("--threads", "0", "a whole number in 1..=1024"),
        ("--trace-every", "0", "a whole number ≥ 1"),
        ("--buffer", "0", "a whole number ≥ 1"),
        ("--features", "0", "a whole number ≥ 1"),
        ("--average", "x", "a whole number ≥ 0"),
        ("--checkpoint-every", "0m", "a duration such as 30s"),
        ("--schedule", "step:0", "step:EPOCHS needs a whole number"),
        ("--schedule", "invscaling:nan", "finite POWER"),
    ];
    for (flag, value, allowed) in cases {
        let err = train(flag, value);
        assert!(
            err.contains(flag) && err.contains(allowed),
            "{flag} {value}: {err}"
        );
    }
    // Unknown names list the valid ones.
    for (flag, value, listed) in [
        (
            "--model",
            "svm",
            "least-squares, logistic, hinge, softmax, mlp:H",
        ),
        ("--method", "online", "batch, sgd, minibatch:B"),
        ("--sampling", "random", "shuffle, cyclic, replacement"),
        ("--on-divergence", "retry", "stop, halve-lr"),
        ("--format", "xml", "csv, libsvm, npy, cache"),
    ] {
        let err = train(flag, value);
        assert!(err.contains(listed), "{flag} {value}: {err}");
    }
    let gen = |flag: &str, value: &str| {
        fails(&[
            "gen",
            "sparse",
            "--rows",
            "10",
            "--out",
            "unused.svm",
            flag,
            value,
        ])
    };
    assert!(
        fails(&["gen", "sparse", "--rows", "0", "--out", "unused.svm"])
            .contains("a whole number ≥ 1")
    );
    assert!(gen("--noise", "nan").contains("a finite number ≥ 0"));
    assert!(gen("--bias", "inf").contains("a finite number"));
    assert!(fails(&["gen", "noise", "--rows", "1", "--out", "x"])
        .contains("sparse, dense-classification"));
    assert!(fails(&["bench", "--budget", "0"]).contains("a finite number > 0"));
    assert!(fails(&["landscape", "--grid", "3"]).contains("5..=2001"));
    assert!(fails(&["landscape", "--problem", "cubic"]).contains("sine, line"));
}
