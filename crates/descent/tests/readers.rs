//! Readers: good files load exactly; every malformed input is an error naming the file, the
//! line and what was wrong.

use descent::data::{self, Entry, Features, Format, ReadOptions, Row};
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent::Error;
use std::path::PathBuf;

struct Temp {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

fn file(name: &str, content: &[u8]) -> Temp {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, content).unwrap();
    Temp { _dir: dir, path }
}

fn read(name: &str, content: &str) -> descent::Result<descent::data::Dataset> {
    let t = file(name, content.as_bytes());
    data::read(&t.path, &ReadOptions::default())
}

/// Asserts that reading fails with a parse error at `line` whose message holds `needle`.
fn fails_at(name: &str, content: &str, line: u64, needle: &str) {
    let err = read(name, content).expect_err(&format!("{content:?} should not load"));
    let text = err.to_string();
    match &err {
        Error::Parse { path, line: l, .. } => {
            assert!(path.ends_with(name), "error names the file: {text}");
            assert_eq!(*l, line, "line of {content:?}: {text}");
        }
        other => panic!("expected a parse error for {content:?}, got {other:?}"),
    }
    assert!(
        text.contains(needle),
        "{content:?}: '{text}' lacks '{needle}'"
    );
    assert!(text.contains(&format!("{name}:{line}:")), "{text}");
}

#[test]
fn csv_reads_header_label_and_features() {
    let data = read("a.csv", "x1,label,x2\n1.5,1,2\n-3,0, 4e1 \n").unwrap();
    assert_eq!(data.len(), 2);
    assert_eq!(data.dim(), 2);
    assert_eq!(data.targets(), &[1.0, 0.0]);
    let Row::Dense(x) = data.row(1) else {
        panic!("dense expected")
    };
    assert_eq!(x, &[-3.0, 40.0]);
    assert_eq!(
        data.source().feature_names.as_deref(),
        Some(&["x1".to_string(), "x2".to_string()][..])
    );
    assert_eq!(data.line_of(1), 3);
}

#[test]
fn csv_with_another_label_column() {
    let t = file("b.csv", b"y,a\n2,3\n");
    let options = ReadOptions {
        label: "a".into(),
        ..ReadOptions::default()
    };
    let data = data::read(&t.path, &options).unwrap();
    assert_eq!(data.targets(), &[3.0]);
}

#[test]
fn malformed_csv_names_file_line_and_problem() {
    fails_at("e.csv", "", 1, "empty file");
    fails_at("h.csv", "label,x\n", 1, "no data rows");
    fails_at("m.csv", "y,x\n1,2\n", 1, "no label column 'label'");
    fails_at(
        "n.csv",
        "label,x\n1,2\n0,abc\n",
        3,
        "column 'x': 'abc' is not a number",
    );
    fails_at("r.csv", "label,x,z\n1,2,3\n0,1\n", 3, "ragged row: 2 cells");
    fails_at("nan.csv", "label,x\n1,2\n1,NaN\n", 3, "not finite");
    fails_at("inf.csv", "label,x\n1,inf\n", 2, "not finite");
    fails_at("big.csv", "label,x\n1,1e300\n", 2, "range of f32");
    fails_at("lab.csv", "label,x\nyes,2\n", 2, "column 'label'");
    fails_at("empty.csv", "label,x\n1,\n", 2, "empty cell");
}

#[test]
fn libsvm_reads_sparse_rows_comments_and_qid() {
    let text = "# header comment\n1 1:0.5 3:2\n\n-1 qid:4 2:1.5 # trailing\n0\n";
    let data = read("a.svm", text).unwrap();
    assert_eq!(data.len(), 3);
    assert_eq!(data.dim(), 3);
    assert_eq!(data.targets(), &[1.0, -1.0, 0.0]);
    let Features::Sparse {
        indptr, entries, ..
    } = data.features()
    else {
        panic!("sparse expected")
    };
    assert_eq!(indptr, &[0, 2, 3, 3]);
    let expected = [(0, 0.5), (2, 2.0), (1, 1.5)].map(|(j, v)| Entry::new(j, v));
    assert_eq!(entries, &expected);
    assert_eq!(data.line_of(1), 4);
}

#[test]
fn libsvm_dimension_from_features_flag() {
    let t = file("f.svm", b"1 2:1\n");
    let wide = ReadOptions {
        features: Some(10),
        ..ReadOptions::default()
    };
    assert_eq!(data::read(&t.path, &wide).unwrap().dim(), 10);
    let narrow = ReadOptions {
        features: Some(1),
        ..ReadOptions::default()
    };
    let err = data::read(&t.path, &narrow).unwrap_err().to_string();
    assert!(
        err.contains("f.svm:1:") && err.contains("exceeds the number of features (1"),
        "{err}"
    );
}

#[test]
fn malformed_libsvm_names_file_line_and_token() {
    fails_at("e.svm", "", 1, "no samples");
    fails_at("c.svm", "# only\n# comments\n", 2, "no samples");
    fails_at("z.svm", "1 1:1\n1 0:2\n", 2, "index 0 is not ≥ 1");
    fails_at("neg.svm", "1 -3:2\n", 1, "index -3 is not ≥ 1");
    fails_at("dup.svm", "1 2:1 2:3\n", 1, "strictly increasing");
    fails_at(
        "uns.svm",
        "1 1:1\n1 5:1 3:2\n",
        2,
        "index 3 follows index 5",
    );
    fails_at("tok.svm", "1 4\n", 1, "token '4': expected index:value");
    fails_at("idx.svm", "1 a:1\n", 1, "'a' is not an integer index");
    fails_at("val.svm", "1 1:x\n", 1, "token '1:x'");
    fails_at("nan.svm", "1 1:nan\n", 1, "not finite");
    fails_at("lab.svm", "one 1:1\n", 1, "label: 'one' is not a number");
    fails_at("inf.svm", "inf 1:1\n", 1, "not finite");
}

#[test]
fn binary_garbage_is_an_error_not_a_panic() {
    let garbage: Vec<u8> = (0..=255u8).cycle().take(4096).collect();
    for name in ["g.svm", "g.csv"] {
        let t = file(name, &garbage);
        let err = data::read(&t.path, &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains(name), "{err}");
    }
}

#[test]
fn missing_files_name_the_path() {
    let err = data::read(
        std::path::Path::new("/no/such/file.csv"),
        &ReadOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(err.contains("/no/such/file.csv"), "{err}");
}

#[test]
fn formats_are_guessed_from_the_extension() {
    assert_eq!(Format::from_path("a/b.CSV".as_ref()), Format::Csv);
    assert_eq!(Format::from_path("a/b.svm".as_ref()), Format::LibSvm);
    assert_eq!(Format::from_path("a/b".as_ref()), Format::LibSvm);
    assert!("parquet".parse::<Format>().is_err());
}

#[test]
fn labels_that_do_not_fit_the_model_name_their_line() {
    let data = read("three.csv", "label,x\n0,1\n1,2\n\n2,3\n").unwrap();
    let err = LabelEncoding::fit(ModelKind::Logistic, &data)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with(&format!("{}:5:", data.display_path().display())),
        "{err}"
    );
    assert!(
        err.contains("third class") && err.contains("softmax"),
        "{err}"
    );

    let one = read("one.csv", "label,x\n1,1\n1,2\n").unwrap();
    let err = LabelEncoding::fit(ModelKind::Hinge, &one)
        .unwrap_err()
        .to_string();
    assert!(err.contains("at least two classes"), "{err}");

    let many: String = (0..1500).map(|i| format!("{i}.5,1\n")).collect();
    let real = read("real.csv", &format!("label,x\n{many}")).unwrap();
    let err = LabelEncoding::fit(ModelKind::Softmax, &real)
        .unwrap_err()
        .to_string();
    assert!(err.contains("least-squares"), "{err}");
}

#[test]
fn label_encodings_map_and_decode() {
    let mut data = read("s.csv", "label,x\n-1,0\n1,0\n-1,0\n").unwrap();
    let binary = LabelEncoding::fit(ModelKind::Logistic, &data).unwrap();
    binary.encode(&mut data).unwrap();
    assert_eq!(data.targets(), &[-1.0, 1.0, -1.0]);
    assert_eq!(binary.decode(1.0), 1.0);

    let mut data = read("k.csv", "label,x\n7,0\n3,0\n5,0\n3,0\n").unwrap();
    let classes = LabelEncoding::fit(ModelKind::Softmax, &data).unwrap();
    assert_eq!(classes.classes(), Some(vec![3.0, 5.0, 7.0]));
    classes.encode(&mut data).unwrap();
    assert_eq!(data.targets(), &[2.0, 0.0, 1.0, 0.0]);
    assert_eq!(classes.decode(2.0), 7.0);

    let mut unseen = read("u.csv", "label,x\n3,0\n9,0\n").unwrap();
    let err = classes.encode(&mut unseen).unwrap_err().to_string();
    assert!(err.contains("u.csv:3:") && err.contains("label 9"), "{err}");
}
