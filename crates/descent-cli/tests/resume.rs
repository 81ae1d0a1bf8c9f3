//! Nothing lost, end to end: runs killed (by SIGKILL, or aborted at exact updates) and resumed
//! end with models and traces byte-identical to runs never interrupted, in every regime;
//! Ctrl-C writes a checkpoint; no output is replaced without --force.

mod common;

use common::{descent, fails, json, ok, path, repo};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A regime's training flags (without outputs).
struct Case {
    name: &'static str,
    args: Vec<String>,
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

fn cases(dir: &Path) -> Vec<Case> {
    let svm = path(dir, "stream.svm");
    ok(&[
        "gen",
        "sparse",
        "--rows",
        "2000",
        "--features",
        "300",
        "--nnz",
        "12",
        "--seed",
        "4",
        "--out",
        &svm,
    ]);
    let csv = |name: &str| repo(&format!("data/{name}.csv"));
    vec![
        Case {
            name: "sgd (lazy sparse path), averaged",
            args: strings(&[
                "--data",
                &csv("breast_cancer"),
                "--model",
                "logistic",
                "--standardize",
                "--method",
                "sgd",
                "--epochs",
                "4",
                "--lr",
                "0.05",
                "--l2",
                "0.001",
                "--average",
            ]),
        },
        Case {
            name: "minibatch:8 softmax with momentum",
            args: strings(&[
                "--data",
                &csv("wine"),
                "--model",
                "softmax",
                "--standardize",
                "--method",
                "minibatch:8",
                "--momentum",
                "0.9",
                "--epochs",
                "15",
                "--lr",
                "0.02",
            ]),
        },
        Case {
            name: "full batch least squares",
            args: strings(&[
                "--data",
                &csv("diabetes"),
                "--model",
                "least-squares",
                "--standardize",
                "--method",
                "batch",
                "--epochs",
                "120",
                "--lr",
                "0.1",
            ]),
        },
        Case {
            name: "sgd with replacement, mlp:4",
            args: strings(&[
                "--data",
                &csv("iris"),
                "--model",
                "mlp:4",
                "--standardize",
                "--method",
                "sgd",
                "--sampling",
                "replacement",
                "--epochs",
                "5",
                "--lr",
                "0.05",
            ]),
        },
        Case {
            name: "streamed minibatch:4 through a shuffle buffer",
            args: strings(&[
                "--data",
                &svm,
                "--model",
                "hinge",
                "--stream",
                "--buffer",
                "100",
                "--method",
                "minibatch:4",
                "--epochs",
                "2",
                "--lr",
                "0.1",
                "--l2",
                "0.0001",
            ]),
        },
    ]
}

/// Runs descent in `dir` with `args` (and a failpoint at `abort_at`); `None` if it was
/// killed, else its exit code.
fn run_in(dir: &Path, args: &[String], abort_at: Option<u64>) -> (Option<i32>, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_descent"));
    cmd.current_dir(dir).args(args);
    if let Some(n) = abort_at {
        cmd.env("DESCENT_FAILPOINT_ABORT_AT_UPDATE", n.to_string());
    }
    let out = cmd.output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `train <flags> --trace trace.csv --save model.json` in `dir`, plus `extra`.
fn train_args(case: &Case, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&["train"]);
    args.extend(case.args.iter().cloned());
    args.extend(strings(&[
        "--trace",
        "trace.csv",
        // Every update: rows pile up past the last checkpoint, beyond the write buffer.
        "--trace-every",
        if case.name.contains("stream") {
            "5"
        } else {
            "1"
        },
        "--no-trace-time",
        "--save",
        "model.json",
        "--quiet",
        "--seed",
        "3",
    ]));
    args.extend(strings(extra));
    args
}

/// The names in `dir` that start with a dot: descent's temporary and partial files.
fn hidden_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.'))
        .collect()
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{}: {e}", dir.join(name).display()))
}

/// The uninterrupted run's trace and model, and its number of updates.
fn reference(case: &Case, root: &Path) -> (Vec<u8>, Vec<u8>, u64) {
    let dir = root.join("reference");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir(&dir).unwrap();
    let mut args = train_args(case, &["--json"]);
    args.retain(|a| a != "--quiet");
    let out = Command::new(env!("CARGO_BIN_EXE_descent"))
        .current_dir(&dir)
        .args(&args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        case.name,
        String::from_utf8_lossy(&out.stderr)
    );
    let updates = json(&String::from_utf8_lossy(&out.stdout))["updates"]
        .as_u64()
        .unwrap();
    (read(&dir, "trace.csv"), read(&dir, "model.json"), updates)
}

#[test]
fn runs_aborted_at_exact_updates_and_resumed_are_byte_identical_in_every_regime() {
    let root = tempfile::tempdir().unwrap();
    for case in cases(root.path()) {
        let (trace, model, total) = reference(&case, root.path());
        let every = (total / 10).max(1).to_string();
        // Killed twice (the second time while resumed), then resumed to the end; and killed
        // just before the end.
        for kills in [vec![total / 3 + 1, 2 * total / 3], vec![total - 1]] {
            let dir = root.path().join("killed");
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir(&dir).unwrap();
            let first = train_args(
                &case,
                &["--checkpoint", "run.ckpt", "--checkpoint-every", &every],
            );
            let (code, err) = run_in(&dir, &first, Some(kills[0]));
            assert_eq!(code, None, "{}: killed at {}: {err}", case.name, kills[0]);
            assert!(!dir.join("model.json").exists() && !dir.join("trace.csv").exists());
            let resume = strings(&["train", "--resume", "run.ckpt"]);
            for &kill in &kills[1..] {
                let (code, err) = run_in(&dir, &resume, Some(kill));
                assert_eq!(code, None, "{}: killed again at {kill}: {err}", case.name);
            }
            let (code, err) = run_in(&dir, &resume, None);
            assert_eq!(code, Some(0), "{}: resumed: {err}", case.name);
            let what = format!("{} killed at {kills:?}", case.name);
            assert!(read(&dir, "trace.csv") == trace, "{what}: trace differs");
            assert!(read(&dir, "model.json") == model, "{what}: model differs");
            let leftovers = hidden_files(&dir);
            assert!(leftovers.is_empty(), "{what}: left {leftovers:?}");
        }
    }
}

#[test]
fn runs_killed_by_sigkill_at_random_moments_resume_byte_identical() {
    let root = tempfile::tempdir().unwrap();
    let case = &cases(root.path())[0];
    let (trace, model, _) = reference(case, root.path());
    // A clock-seeded delay: each run of the suite kills at other moments.
    let mut state = Instant::now().elapsed().as_nanos() as u64 ^ 0x9E37_79B9_7F4A_7C15;
    for round in 0..3 {
        let dir = root.path().join(format!("sigkill{round}"));
        std::fs::create_dir(&dir).unwrap();
        // A checkpoint every 3 updates keeps the run busy long enough to be killed mid-way.
        let args = train_args(
            case,
            &["--checkpoint", "run.ckpt", "--checkpoint-every", "3"],
        );
        let mut child = Command::new(env!("CARGO_BIN_EXE_descent"))
            .current_dir(&dir)
            .args(&args)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let started = Instant::now();
        while !dir.join("run.ckpt").exists() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(1));
        }
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        std::thread::sleep(Duration::from_millis(state % 150));
        child.kill().unwrap(); // SIGKILL
        let status = child.wait().unwrap();
        if !status.success() {
            eprintln!("round {round}: killed after {:?}", started.elapsed());
            let (code, err) = run_in(&dir, &strings(&["train", "--resume", "run.ckpt"]), None);
            assert_eq!(code, Some(0), "resumed: {err}");
        }
        assert!(
            read(&dir, "trace.csv") == trace,
            "round {round}: trace differs"
        );
        assert!(
            read(&dir, "model.json") == model,
            "round {round}: model differs"
        );
    }
}

#[test]
fn ctrl_c_writes_a_checkpoint_that_resumes_exactly() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("interrupted");
    std::fs::create_dir(&dir).unwrap();
    let data = repo("data/breast_cancer.csv");
    let args = |epochs: &str| {
        strings(&[
            "train",
            "--data",
            &data,
            "--model",
            "logistic",
            "--standardize",
            "--method",
            "batch",
            "--lr",
            "0.5",
            "--epochs",
            epochs,
            "--trace",
            "trace.csv",
            "--trace-every",
            "50",
            "--no-trace-time",
            "--save",
            "model.json",
            "--quiet",
        ])
    };
    // Far more epochs than it will run before the interrupt.
    let child = Command::new(env!("CARGO_BIN_EXE_descent"))
        .current_dir(&dir)
        .args(args("10000000"))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let partial = dir.join(".trace.csv.descent-partial");
    let started = Instant::now();
    while !partial.exists() && started.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(2));
    }
    std::thread::sleep(Duration::from_millis(100));
    let sent = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(sent.success());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(
        stderr.contains("--resume") && stderr.contains("descent-interrupted.ckpt"),
        "{stderr}"
    );
    assert!(!dir.join("model.json").exists());
    let checkpoint = json(&String::from_utf8_lossy(&read(
        &dir,
        "descent-interrupted.ckpt",
    )));
    let epochs = (checkpoint["state"]["epoch"].as_u64().unwrap() + 3).to_string();

    // Resumed (with fewer epochs than first asked) = a run of that many epochs.
    let (code, err) = run_in(
        &dir,
        &strings(&[
            "train",
            "--resume",
            "descent-interrupted.ckpt",
            "--epochs",
            &epochs,
        ]),
        None,
    );
    assert_eq!(code, Some(0), "{err}");
    let reference = root.path().join("reference");
    std::fs::create_dir(&reference).unwrap();
    let (code, err) = run_in(&reference, &args(&epochs), None);
    assert_eq!(code, Some(0), "{err}");
    assert!(read(&dir, "trace.csv") == read(&reference, "trace.csv"));
    assert!(read(&dir, "model.json") == read(&reference, "model.json"));
}

#[test]
fn resume_refuses_changed_flags_and_changed_data() {
    let dir = tempfile::tempdir().unwrap();
    let data = path(dir.path(), "d.csv");
    std::fs::copy(repo("data/iris.csv"), &data).unwrap();
    let ckpt = path(dir.path(), "run.ckpt");
    let mut args = strings(&[
        "train",
        "--data",
        &data,
        "--model",
        "softmax",
        "--epochs",
        "3",
        "--checkpoint",
        &ckpt,
        "--checkpoint-every",
        "10",
        "--quiet",
    ]);
    let (code, err) = run_in(dir.path(), &args, Some(50));
    assert_eq!(code, None, "{err}");
    let err = fails(&["train", "--resume", &ckpt, "--model", "logistic"]);
    assert!(
        err.contains("--model cannot be given with --resume") && err.contains("--epochs"),
        "{err}"
    );
    // The same flags again start a new run: refused while the checkpoint exists.
    args.retain(|a| a != "--quiet");
    let refs: Vec<&str> = args[..].iter().map(String::as_str).collect();
    let err = fails(&refs);
    assert!(err.contains("--resume") && err.contains("--force"), "{err}");
    // Changed data.
    let mut text = std::fs::read_to_string(&data).unwrap();
    let row = text.lines().nth(1).unwrap().to_owned();
    text.push_str(&row);
    text.push('\n');
    std::fs::write(&data, text).unwrap();
    let err = fails(&["train", "--resume", &ckpt]);
    assert!(err.contains("other data"), "{err}");
    let err = fails(&["train", "--resume", &path(dir.path(), "missing.ckpt")]);
    assert!(err.contains("missing.ckpt"), "{err}");
    std::fs::write(
        dir.path().join("bad.ckpt"),
        "{\"format\": \"descent-checkpoint\"",
    )
    .unwrap();
    let err = fails(&["train", "--resume", &path(dir.path(), "bad.ckpt")]);
    assert!(err.contains("not JSON"), "{err}");
}

#[test]
fn outputs_are_never_replaced_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let keep = |name: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, "mine").unwrap();
        p
    };
    let unchanged = |p: &PathBuf| assert_eq!(std::fs::read_to_string(p).unwrap(), "mine");
    let data = repo("data/iris.csv");
    let model = keep("model.json");
    let model_arg = model.to_string_lossy().into_owned();
    let train = [
        "train", "--data", &data, "--model", "softmax", "--epochs", "1", "--quiet", "--save",
        &model_arg,
    ];
    let err = fails(&train);
    assert!(
        err.contains("already exists") && err.contains("--force"),
        "{err}"
    );
    unchanged(&model);
    let trace = keep("trace.csv");
    let trace_arg = trace.to_string_lossy().into_owned();
    let err = fails(&[
        "train", "--data", &data, "--model", "softmax", "--epochs", "1", "--trace", &trace_arg,
    ]);
    assert!(err.contains("already exists"), "{err}");
    unchanged(&trace);
    let mut forced = train.to_vec();
    forced.push("--force");
    ok(&forced);
    assert!(std::fs::read_to_string(&model)
        .unwrap()
        .contains("\"weights\""));

    let generated = keep("gen.svm");
    let err = fails(&[
        "gen",
        "sparse",
        "--rows",
        "10",
        "--out",
        &generated.to_string_lossy(),
    ]);
    assert!(err.contains("already exists"), "{err}");
    unchanged(&generated);

    let cache = dir.path().join("cache");
    std::fs::create_dir(&cache).unwrap();
    let mine = cache.join("mine.txt");
    std::fs::write(&mine, "mine").unwrap();
    let err = fails(&["convert", &data, &cache.to_string_lossy()]);
    assert!(err.contains("already exists"), "{err}");
    unchanged(&mine);

    let report = dir.path().join("report");
    std::fs::create_dir(&report).unwrap();
    let mine = report.join("mine.txt");
    std::fs::write(&mine, "mine").unwrap();
    let report_arg = report.to_string_lossy().into_owned();
    let compare = [
        "compare",
        "--data",
        &data,
        "--model",
        "softmax",
        "--methods",
        "sgd",
        "--epochs",
        "1",
        "--out",
        &report_arg,
    ];
    let out = descent(&compare);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already exists"));
    unchanged(&mine);
    ok(&[&compare[..], &["--force"]].concat());
    assert!(report.join("comparison.json").exists() && !mine.exists());
    let names = hidden_files(dir.path());
    assert!(names.is_empty(), "temporary files left: {names:?}");
}

/// A run that finished (its trace renamed into place) and is then resumed from its last
/// checkpoint with more epochs continues the finished trace: the result is the trace and model
/// of one longer run, and the finished trace stays until the new one is complete.
#[test]
fn a_finished_run_resumed_for_more_epochs_continues_its_trace() {
    let root = tempfile::tempdir().unwrap();
    let data = root.path().join("d.svm");
    let gen = Command::new(env!("CARGO_BIN_EXE_descent"))
        .args([
            "gen",
            "sparse",
            "--rows",
            "300",
            "--features",
            "40",
            "--nnz",
            "5",
        ])
        .args(["--seed", "2", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(gen.status.success());
    let data = data.display().to_string();
    let args = |epochs: &str| {
        strings(&[
            "train",
            "--data",
            &data,
            "--model",
            "logistic",
            "--lr",
            "0.1",
            "--epochs",
            epochs,
            "--trace",
            "trace.csv",
            "--trace-every",
            "7",
            "--no-trace-time",
            "--save",
            "model.json",
            "--quiet",
            "--seed",
            "5",
        ])
    };
    let (whole, resumed) = (root.path().join("whole"), root.path().join("resumed"));
    for dir in [&whole, &resumed] {
        std::fs::create_dir(dir).unwrap();
    }
    assert_eq!(run_in(&whole, &args("4"), None).0, Some(0));
    let mut short = args("2");
    short.extend(strings(&[
        "--checkpoint",
        "run.ckpt",
        "--checkpoint-every",
        "50",
    ]));
    assert_eq!(run_in(&resumed, &short, None).0, Some(0));
    assert!(resumed.join("trace.csv").exists());
    let more = strings(&["train", "--resume", "run.ckpt", "--epochs", "4"]);
    let (code, stderr) = run_in(&resumed, &more, None);
    assert_eq!(code, Some(0), "{stderr}");
    assert!(
        read(&resumed, "trace.csv") == read(&whole, "trace.csv"),
        "trace differs"
    );
    assert!(
        read(&resumed, "model.json") == read(&whole, "model.json"),
        "model differs"
    );
    let leftovers = hidden_files(&resumed);
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// No output is written over an input, `--force` or not, however the path reaches it (`./`,
/// a hard link): the error names both, and the data stays as it was.
#[test]
fn an_output_over_an_input_is_refused_even_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("d.csv");
    let original = "label,a,b\n0,1,2\n1,3,1\n0,2,2\n1,4,0\n";
    std::fs::write(&data, original).unwrap();
    std::fs::hard_link(&data, dir.path().join("link.csv")).unwrap();
    for (flag, target) in [
        ("--save", "./d.csv"),
        ("--trace", "d.csv"),
        ("--save", "link.csv"),
        ("--checkpoint", "sub/../d.csv"),
    ] {
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        let args = strings(&[
            "train", "--data", "d.csv", "--model", "logistic", "--epochs", "1", flag, target,
            "--force", "--quiet",
        ]);
        let (code, stderr) = run_in(dir.path(), &args, None);
        assert_eq!(code, Some(2), "{flag} {target}: {stderr}");
        assert!(
            stderr.contains(flag) && stderr.contains("training data") && stderr.contains("d.csv"),
            "{flag} {target}: {stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&data).unwrap(),
            original,
            "{flag} {target}"
        );
    }
}
