//! Data-parallel training over MPI, end to end with `mpirun` (built and run only with the `mpi`
//! feature: `cargo test -p descent-cli --features mpi --test mpi`).
//!
//! Full-batch GD and synchronous mini-batch SGD over 1, 2 and 3 processes compute the
//! iterates of one process on all the data, to rounding (relative 1e-9: the processes' sums
//! are added in another order); only rank 0 writes; a rank that cannot read its shard ends
//! every rank with its error, without hanging.
#![cfg(feature = "mpi")]

mod common;

use common::{json, path, repo};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// Runs `mpirun -np N descent ARGS` (as root too, more processes than cores allowed).
fn mpirun(np: usize, dir: &Path, args: &[&str]) -> Output {
    Command::new("mpirun")
        .args(["--oversubscribe", "-np", &np.to_string()])
        .arg(env!("CARGO_BIN_EXE_descent"))
        .args(args)
        .current_dir(dir)
        .env("OMPI_ALLOW_RUN_AS_ROOT", "1")
        .env("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1")
        .output()
        .expect("mpirun runs (Debian: openmpi-bin)")
}

fn weights(model: &Path) -> Vec<f64> {
    let m: Value = serde_json::from_str(&std::fs::read_to_string(model).unwrap()).unwrap();
    let mut all: Vec<f64> = Vec::new();
    let mut collect = |v: &Value| {
        if let Some(a) = v.as_array() {
            for x in a {
                match x.as_f64() {
                    Some(f) => all.push(f),
                    None => all.extend(x.as_array().unwrap().iter().map(|f| f.as_f64().unwrap())),
                }
            }
        } else if let Some(f) = v.as_f64() {
            all.push(f);
        }
    };
    collect(&m["weights"]);
    collect(&m["intercept"]);
    assert!(!all.is_empty(), "no weights in {m}");
    all
}

fn assert_close(what: &str, a: &[f64], b: &[f64]) {
    assert_eq!(a.len(), b.len(), "{what}");
    let scale = b.iter().fold(1e-12f64, |s, x| s.max(x.abs()));
    for (k, (x, y)) in a.iter().zip(b).enumerate() {
        assert!(
            (x - y).abs() <= 1e-9 * scale,
            "{what}: parameter {k}: {x} vs {y} (one process)"
        );
    }
}

/// Trains with `flags` on one process, then on 1, 2 and 3 MPI processes.
fn same_iterates_as_one_process(flags: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let mut args = vec!["train"];
    args.extend_from_slice(flags);
    let one = path(dir.path(), "one.json");
    let mut local = args.clone();
    local.extend(["--save", &one, "--quiet"]);
    common::ok(&local);
    let expected = weights(Path::new(&one));
    for np in 1..=3 {
        let out_name = format!("mpi{np}.json");
        let mut distributed = args.clone();
        distributed.extend(["--engine", "mpi", "--save", &out_name, "--json"]);
        let out = mpirun(np, dir.path(), &distributed);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{np} ranks: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // Only rank 0 prints (one JSON line) and writes.
        assert_eq!(stdout.trim().lines().count(), 1, "{stdout}");
        assert_eq!(json(&stdout)["ranks"], np);
        let got = weights(&dir.path().join(&out_name));
        assert_close(&format!("{flags:?} on {np} ranks"), &got, &expected);
    }
}

#[test]
fn full_batch_gradient_descent_over_mpi_computes_one_process_iterates() {
    same_iterates_as_one_process(&[
        "--data",
        &repo("data/diabetes.csv"),
        "--model",
        "least-squares",
        "--standardize",
        "--method",
        "batch",
        "--lr",
        "0.3",
        "--epochs",
        "80",
    ]);
    same_iterates_as_one_process(&[
        "--data",
        &repo("data/wine.csv"),
        "--model",
        "softmax",
        "--standardize",
        "--method",
        "batch",
        "--lr",
        "0.5",
        "--l2",
        "0.001",
        "--epochs",
        "40",
    ]);
}

#[test]
fn synchronous_minibatch_sgd_over_mpi_draws_one_process_sample_stream() {
    same_iterates_as_one_process(&[
        "--data",
        &repo("data/breast_cancer.csv"),
        "--model",
        "logistic",
        "--standardize",
        "--method",
        "minibatch:12",
        "--momentum",
        "0.5",
        "--lr",
        "0.05",
        "--epochs",
        "3",
        "--seed",
        "7",
    ]);
}

#[test]
fn one_file_per_rank_and_only_rank_zero_writes() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(repo("data/diabetes.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    // Two consecutive blocks: the same rows as the whole file, in the same order.
    let half = rows.len() / 2;
    for (rank, part) in [&rows[..half], &rows[half..]].iter().enumerate() {
        let body = part.join("\n");
        std::fs::write(
            dir.path().join(format!("part.{rank}.csv")),
            format!("{header}\n{body}\n"),
        )
        .unwrap();
    }
    let flags = [
        "--model",
        "least-squares",
        "--method",
        "batch",
        "--lr",
        "0.5",
        "--epochs",
        "30",
    ];
    let whole = repo("data/diabetes.csv");
    let mut local = vec!["train", "--data", &whole];
    local.extend(flags);
    let one = path(dir.path(), "one.json");
    local.extend(["--save", &one, "--quiet"]);
    common::ok(&local);
    let mut split = vec!["train", "--data", "part.{rank}.csv", "--engine", "mpi"];
    split.extend(flags);
    split.extend(["--save", "split.json", "--trace", "trace.csv", "--quiet"]);
    let out = mpirun(2, dir.path(), &split);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_close(
        "one file per rank",
        &weights(&dir.path().join("split.json")),
        &weights(Path::new(&one)),
    );
    let trace = std::fs::read_to_string(dir.path().join("trace.csv")).unwrap();
    assert_eq!(
        trace.lines().count(),
        1 + 31,
        "header, start and 30 updates"
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(names.is_empty(), "left behind: {names:?}");
}

#[test]
fn a_rank_with_a_broken_shard_ends_every_rank_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let good = std::fs::read_to_string(repo("data/iris.csv")).unwrap();
    std::fs::write(dir.path().join("s.0.csv"), &good).unwrap();
    let header = good.lines().next().unwrap();
    let broken = format!("{header}\n0,five,1,2,3\n");
    std::fs::write(dir.path().join("s.1.csv"), broken).unwrap();
    std::fs::write(dir.path().join("s.2.csv"), &good).unwrap();
    let started = std::time::Instant::now();
    let out = mpirun(
        3,
        dir.path(),
        &[
            "train",
            "--data",
            "s.{rank}.csv",
            "--model",
            "softmax",
            "--engine",
            "mpi",
            "--epochs",
            "2",
            "--save",
            "m.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(
        stderr.contains("rank 1:") && stderr.contains("s.1.csv:2"),
        "{stderr}"
    );
    // Every rank reports the failure (three copies of the message).
    assert!(stderr.matches("rank 1: ").count() >= 3, "{stderr}");
    assert!(started.elapsed().as_secs() < 60, "no hang");
    assert!(!dir.path().join("m.json").exists());
}

#[test]
fn local_sgd_averages_the_models_every_k_updates() {
    let dir = tempfile::tempdir().unwrap();
    let out = mpirun(
        2,
        dir.path(),
        &[
            "train",
            "--data",
            &repo("data/breast_cancer.csv"),
            "--model",
            "logistic",
            "--standardize",
            "--method",
            "sgd",
            "--lr",
            "0.05",
            "--epochs",
            "5",
            "--engine",
            "mpi",
            "--average-every",
            "20",
            "--json",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r = json(&String::from_utf8_lossy(&out.stdout));
    assert!(r["algorithm"]
        .as_str()
        .unwrap()
        .contains("every 20 updates"));
    assert!(r["train_accuracy"].as_f64().unwrap() > 0.95, "{r}");
    // Each process made 5 passes over its half.
    assert_eq!(r["updates"], 5 * (569 / 2));
}

#[test]
fn an_error_during_training_ends_the_whole_job() {
    // Local SGD at a rate that diverges: a process stops with an error while the others
    // would wait for it in the next averaging; MPI_Abort ends them all.
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = mpirun(
        2,
        dir.path(),
        &[
            "train",
            "--data",
            &repo("data/diabetes.csv"),
            "--model",
            "least-squares",
            "--method",
            "sgd",
            "--lr",
            "50",
            "--epochs",
            "50",
            "--engine",
            "mpi",
            "--average-every",
            "1000",
            "--save",
            "m.json",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("diverged"), "{stderr}");
    assert!(started.elapsed().as_secs() < 60, "no hang");
    assert!(!dir.path().join("m.json").exists());
}
