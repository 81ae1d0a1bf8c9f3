//! NumPy input, the binary cache, generators, writers and summaries: each format reads what
//! it should, refuses what it must with a clear error, and writes nothing half-done.

mod common;

use descent::data::summary::Summary;
use descent::data::synth::{generate, Kind, Spec};
use descent::data::{self, cache, libsvm, write, Dataset, Features, ReadOptions, Row};
use descent::output::Existing;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/npy")
        .join(name)
}

fn repo(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn iris() -> Dataset {
    data::read(&repo("data/iris.csv"), &ReadOptions::default()).unwrap()
}

fn npy(x: &str, y: &str) -> descent::Result<Dataset> {
    let options = ReadOptions {
        labels: Some(fixture(y)),
        ..ReadOptions::default()
    };
    data::read(&fixture(x), &options)
}

fn same_samples(a: &Dataset, b: &Dataset) {
    assert_eq!((a.len(), a.dim()), (b.len(), b.dim()));
    assert_eq!(a.targets(), b.targets());
    for i in 0..a.len() {
        let (Row::Dense(x), Row::Dense(y)) = (a.row(i), b.row(i)) else {
            panic!("dense rows expected")
        };
        assert_eq!(x, y, "row {i}");
    }
}

#[test]
fn numpy_pairs_in_every_supported_layout_read_as_the_csv() {
    let reference = iris();
    for (x, y) in [
        ("x_f64_c.npy", "y_i64.npy"),
        ("x_f32_fortran.npy", "y_f32_column.npy"),
        ("x_f64_bigendian.npy", "y_u8.npy"),
    ] {
        let data = npy(x, y).unwrap_or_else(|e| panic!("{x} + {y}: {e}"));
        same_samples(&data, &reference);
    }
}

#[test]
fn numpy_inputs_that_cannot_be_used_are_refused_clearly() {
    let cases = [
        (
            "x_complex.npy",
            "y_i64.npy",
            "dtype '<c8' is not supported: use float32 or float64",
        ),
        ("x_int.npy", "y_i64.npy", "use float32 or float64"),
        ("x_3d.npy", "y_i64.npy", "2-D array"),
        ("x_nan.npy", "y_i64.npy", "row 7, column 2"),
        ("x_truncated.npy", "y_i64.npy", "truncated"),
        ("x_f64_c.npy", "y_short.npy", "expected 150, found 100"),
        ("x_f64_c.npy", "x_f64_c.npy", "labels must be a 1-D array"),
    ];
    for (x, y, needle) in cases {
        let err = npy(x, y)
            .err()
            .unwrap_or_else(|| panic!("{x} + {y} should fail"))
            .to_string();
        assert!(err.contains(needle), "{x} + {y}: '{err}' lacks '{needle}'");
    }
    let err = data::read(&fixture("x_f64_c.npy"), &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("`labels` y.npy"), "{err}");
    let not_npy = data::read(
        &repo("data/iris.csv"),
        &ReadOptions {
            format: Some(data::Format::Npy),
            labels: Some(fixture("y_i64.npy")),
            ..ReadOptions::default()
        },
    );
    assert!(not_npy
        .unwrap_err()
        .to_string()
        .contains("not a NumPy .npy file"));
}

#[test]
fn cache_round_trips_dense_and_sparse_data() {
    let dir = tempfile::tempdir().unwrap();
    let dense = iris();
    let out = dir.path().join("iris.descent");
    cache::write(&dense, &out, Existing::Keep).unwrap();
    assert_eq!(data::Format::from_path(&out), data::Format::Cache);
    let back = data::read(&out, &ReadOptions::default()).unwrap();
    same_samples(&back, &dense);
    assert_eq!(back.source().feature_names, dense.source().feature_names);

    let spec = Spec {
        kind: Kind::Sparse,
        rows: 3000,
        features: 500,
        nnz: 20,
        noise: 0.05,
        seed: 4,
    };
    let sparse = generate(&spec).unwrap();
    let out = dir.path().join("sparse.descent");
    cache::write(&sparse, &out, Existing::Keep).unwrap();
    let back = data::read(&out, &ReadOptions::default()).unwrap();
    assert_eq!(back.features(), sparse.features());
    assert_eq!(back.targets(), sparse.targets());
}

#[test]
fn cache_never_overwrites_and_leaves_nothing_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("x.descent");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("keep.txt"), "mine").unwrap();
    let err = cache::write(&iris(), &out, Existing::Keep)
        .unwrap_err()
        .to_string();
    assert!(err.contains("already exists"), "{err}");
    assert_eq!(
        std::fs::read_to_string(out.join("keep.txt")).unwrap(),
        "mine"
    );
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary folder left behind");

    let missing_parent = dir.path().join("no/such/dir/x.descent");
    assert!(cache::write(&iris(), &missing_parent, Existing::Keep).is_err());
}

#[test]
fn corrupt_caches_are_reported_with_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        kind: Kind::Sparse,
        rows: 50,
        features: 30,
        nnz: 5,
        noise: 0.0,
        seed: 1,
    };
    let out = dir.path().join("c.descent");
    cache::write(&generate(&spec).unwrap(), &out, Existing::Keep).unwrap();
    let data_file = out.join("data.npy");
    let bytes = std::fs::read(&data_file).unwrap();
    std::fs::write(&data_file, &bytes[..bytes.len() - 8]).unwrap();
    let err = data::read(&out, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("data.npy") && err.contains("truncated"),
        "{err}"
    );

    std::fs::write(&data_file, &bytes).unwrap();
    // Indices that are negative, or fewer than the values.
    let indices_file = out.join("indices.npy");
    let indices = std::fs::read(&indices_file).unwrap();
    let entries = data::npy::Array::open(&data_file).unwrap().shape[0];
    let mut negative: Vec<i32> = vec![1; entries];
    negative[entries / 2] = -3;
    let le = |v: &[i32]| v.iter().flat_map(|j| j.to_le_bytes()).collect::<Vec<u8>>();
    std::fs::remove_file(&indices_file).unwrap();
    data::npy::write(&indices_file, "<i4", &[entries], &le(&negative)).unwrap();
    let err = data::read(&out, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("negative indices in indices.npy"), "{err}");
    let short = vec![1; entries - 1];
    std::fs::remove_file(&indices_file).unwrap();
    data::npy::write(&indices_file, "<i4", &[entries - 1], &le(&short)).unwrap();
    let err = data::read(&out, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!(
            "indices.npy holds {} entries, data.npy {entries}",
            entries - 1
        )),
        "{err}"
    );
    std::fs::write(&indices_file, &indices).unwrap();
    assert!(data::read(&out, &ReadOptions::default()).is_ok());

    let meta = out.join(cache::META);
    let text = std::fs::read_to_string(&meta)
        .unwrap()
        .replace("\"rows\": 50", "\"rows\": 51");
    std::fs::write(&meta, text).unwrap();
    let err = data::read(&out, &ReadOptions::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("descent-cache.json"), "{err}");

    std::fs::write(&meta, "{not json").unwrap();
    assert!(data::read(&out, &ReadOptions::default()).is_err());
}

#[test]
fn generators_are_deterministic_and_shaped_as_documented() {
    let spec = Spec {
        kind: Kind::Sparse,
        rows: 9000,
        features: 2000,
        nnz: 40,
        noise: 0.05,
        seed: 7,
    };
    let a = generate(&spec).unwrap();
    assert_eq!(a, generate(&spec).unwrap(), "same seed, same data");
    assert_ne!(a, generate(&Spec { seed: 8, ..spec }).unwrap());
    let mean_nnz = a.stored() as f64 / a.len() as f64;
    assert!(
        (mean_nnz - 40.0).abs() < 4.0,
        "mean nonzeros per row {mean_nnz}"
    );
    for i in 0..a.len() {
        let Row::Sparse(entries) = a.row(i) else {
            panic!("sparse expected")
        };
        let norm: f64 = entries
            .iter()
            .map(|e| f64::from(e.value).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "row {i} has norm {norm}");
    }
    let positive = a.targets().iter().filter(|&&y| y > 0.0).count() as f64 / a.len() as f64;
    assert!(
        (0.4..0.6).contains(&positive),
        "share of positive labels {positive}"
    );

    let dense = Spec {
        kind: Kind::DenseClassification,
        rows: 5000,
        features: 8,
        nnz: 0,
        noise: 0.0,
        seed: 3,
    };
    let d = generate(&dense).unwrap();
    assert!(!d.is_sparse() && d.dim() == 8);
    assert!(d.targets().iter().all(|&y| y == 0.0 || y == 1.0));
    let regression = Spec {
        kind: Kind::DenseRegression,
        noise: 0.0,
        ..dense
    };
    let r = generate(&regression).unwrap();
    let mean = r.targets().iter().sum::<f64>() / r.len() as f64;
    assert!(
        (mean - 0.5).abs() < 0.05,
        "intercept 0.5 shows in the mean target: {mean}"
    );
    assert!(generate(&Spec { rows: 0, ..dense }).is_err());
    assert!(generate(&Spec { nnz: 0, ..spec }).is_err());
}

#[test]
fn written_text_reads_back_exactly() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        kind: Kind::Sparse,
        rows: 700,
        features: 300,
        nnz: 12,
        noise: 0.1,
        seed: 2,
    };
    let sparse = generate(&spec).unwrap();
    let mut text = String::new();
    write::libsvm(&sparse, &mut text);
    let path = dir.path().join("s.svm");
    std::fs::write(&path, &text).unwrap();
    let back = libsvm::read(&path, Some(300)).unwrap();
    assert_eq!(back.features(), sparse.features());
    assert_eq!(back.targets(), sparse.targets());

    let dense = generate(&Spec {
        kind: Kind::DenseRegression,
        features: 4,
        ..spec
    })
    .unwrap();
    let mut text = write::csv_header(4);
    write::csv(&dense, &mut text);
    let path = dir.path().join("d.csv");
    std::fs::write(&path, &text).unwrap();
    same_samples(&data::read(&path, &ReadOptions::default()).unwrap(), &dense);
}

#[test]
fn a_line_over_one_megabyte_parses() {
    let pairs: Vec<String> = (1..=100_000).map(|j| format!("{j}:{}.25", j % 7)).collect();
    let line = format!("1 {}\n-1 3:2\n", pairs.join(" "));
    assert!(line.len() > 1 << 20);
    for parts in [1, 3] {
        let data = libsvm::parse(Path::new("long.svm"), line.as_bytes(), None, parts).unwrap();
        assert_eq!(data.len(), 2);
        assert_eq!(data.dim(), 100_000);
        let Row::Sparse(entries) = data.row(0) else {
            panic!()
        };
        let expected = (1..=100_000).filter(|j| j % 7 != 7).count();
        assert_eq!(entries.len(), expected);
        assert_eq!(entries[5].value, 6.25);
    }
}

#[test]
fn unreadable_paths_are_errors_naming_the_path() {
    let dir = tempfile::tempdir().unwrap();
    for format in [data::Format::LibSvm, data::Format::Csv] {
        let options = ReadOptions {
            format: Some(format),
            ..ReadOptions::default()
        };
        let err = data::read(dir.path(), &options).unwrap_err().to_string();
        assert!(err.contains(&dir.path().display().to_string()), "{err}");
    }
}

#[test]
fn summaries_count_what_is_there() {
    let data = Dataset::new(
        Features::from_csr(5, vec![0, 2, 2, 3], &[0, 3, 3], &[1.0, -2.0, 4.0]).unwrap(),
        vec![1.0, 0.0, 1.0],
        Default::default(),
    )
    .unwrap();
    let s = Summary::of(&data);
    assert_eq!(
        (s.rows, s.features, s.nonzeros, s.features_used),
        (3, 5, 3, 2)
    );
    assert_eq!(s.nonzeros_per_row, [0.0, 1.0, 2.0]);
    assert_eq!(s.value_range, [-2.0, 4.0]);
    assert!((s.density - 0.2).abs() < 1e-12);
    let counts = s.labels.counts.unwrap();
    assert_eq!(
        (
            counts[0].label,
            counts[0].count,
            counts[1].label,
            counts[1].count
        ),
        (0.0, 1, 1.0, 2)
    );
}

#[test]
fn malformed_csr_parts_are_refused_not_a_panic() {
    let bad = [
        (vec![0, 2, 1], vec![0u32, 1], vec![1.0f32, 2.0]),
        (vec![0, 2, 1], vec![0], vec![1.0]),
        (vec![1, 2], vec![0], vec![1.0]),
        (vec![0, 2], vec![1, 0], vec![1.0, 2.0]),
        (vec![0, 1], vec![7], vec![1.0]),
        (vec![0, 1], vec![0], vec![f32::NAN]),
    ];
    for (indptr, indices, values) in bad {
        let rows = indptr.len() - 1;
        let features = Features::from_csr(3, indptr.clone(), &indices, &values).unwrap();
        let result = Dataset::new(features, vec![0.0; rows], Default::default());
        assert!(result.is_err(), "{indptr:?} should be refused");
    }
    assert!(Features::from_csr(3, vec![0, 2], &[0, 1], &[1.0]).is_err());
}
