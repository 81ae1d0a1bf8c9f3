//! The parallel readers against the serial ones on random files: any chunking gives the same
//! data set, the CSV fast path equals the `csv` crate path, and no input makes a reader panic.

use descent::data::{csv, libsvm};
use proptest::prelude::*;
use std::path::Path;

/// A random sparse data set rendered as LibSVM text with comments, blank lines and CRLFs.
fn libsvm_text() -> impl Strategy<Value = String> {
    let value = prop_oneof![-1e6f64..1e6, Just(0.0), -1.0f64..1.0];
    let row = (
        -3i32..3,
        prop::collection::btree_map(1u32..60, value, 0..8),
        0u8..6,
    );
    prop::collection::vec(row, 1..40).prop_map(|rows| {
        let mut text = String::new();
        for (label, pairs, decoration) in rows {
            let pairs: Vec<String> = pairs.iter().map(|(i, v)| format!("{i}:{v}")).collect();
            let line = format!("{label} {}", pairs.join(" "));
            match decoration {
                0 => text.push_str(&format!("{line}\r\n")),
                1 => text.push_str(&format!("# comment\n{line} # tail\n")),
                2 => text.push_str(&format!("\n{line}\n")),
                3 => text.push_str(&format!("{label} qid:3 {}\n", pairs.join("\t"))),
                _ => text.push_str(&format!("{line}\n")),
            }
        }
        text
    })
}

/// A random dense data set as CSV text (header names as given).
fn csv_rows() -> impl Strategy<Value = (usize, Vec<Vec<f64>>)> {
    (1usize..6).prop_flat_map(|cols| {
        let row = prop::collection::vec(-1e3f64..1e3, cols + 1);
        (Just(cols), prop::collection::vec(row, 1..40))
    })
}

fn render_csv(cols: usize, rows: &[Vec<f64>], quote_header: bool, blank_every: usize) -> String {
    let names: Vec<String> = std::iter::once("label".to_string())
        .chain((0..cols).map(|j| format!("x{j}")))
        .map(|n| if quote_header { format!("\"{n}\"") } else { n })
        .collect();
    let mut text = names.join(",") + "\n";
    for (i, row) in rows.iter().enumerate() {
        if blank_every > 0 && i % blank_every == 0 {
            text.push('\n');
        }
        let cells: Vec<String> = row.iter().map(|v| format!(" {v}")).collect();
        text.push_str(&cells.join(","));
        text.push('\n');
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn libsvm_chunking_never_changes_the_result(text in libsvm_text(), parts in 2usize..12) {
        let path = Path::new("random.svm");
        let serial = libsvm::parse(path, text.as_bytes(), None, 1);
        let parallel = libsvm::parse(path, text.as_bytes(), None, parts);
        match (serial, parallel) {
            (Ok(a), Ok(b)) => prop_assert_eq!(a, b),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            (a, b) => prop_assert!(false, "serial {:?} vs parallel {:?}", a.is_ok(), b.is_ok()),
        }
    }

    #[test]
    fn csv_chunking_and_the_quoted_path_agree((cols, rows) in csv_rows(), parts in 2usize..12, blank in 0usize..5) {
        let path = Path::new("random.csv");
        let plain = render_csv(cols, &rows, false, blank);
        let quoted = render_csv(cols, &rows, true, blank);
        let serial = csv::parse(path, plain.as_bytes(), "label", true, 1).unwrap();
        let parallel = csv::parse(path, plain.as_bytes(), "label", true, parts).unwrap();
        let via_crate = csv::parse(path, quoted.as_bytes(), "label", true, 1).unwrap();
        prop_assert_eq!(&serial, &parallel);
        prop_assert_eq!(&serial, &via_crate);
        prop_assert_eq!(serial.len(), rows.len());
    }

    #[test]
    fn errors_name_the_same_line_whatever_the_chunking(text in libsvm_text(), bad in 0usize..40, parts in 2usize..12) {
        let mut lines: Vec<&str> = text.lines().collect();
        let at = bad % lines.len();
        lines.insert(at, "1 5:1 2:1");
        let broken = lines.join("\n");
        let path = Path::new("broken.svm");
        let serial = libsvm::parse(path, broken.as_bytes(), None, 1).unwrap_err().to_string();
        let parallel = libsvm::parse(path, broken.as_bytes(), None, parts).unwrap_err().to_string();
        prop_assert_eq!(&serial, &parallel);
        prop_assert!(serial.starts_with(&format!("broken.svm:{}:", at + 1)), "{}", serial);
    }
}

/// How many random inputs each fuzz test feeds a parser; `DESCENT_FUZZ_CASES` raises it.
fn fuzz_cases() -> u32 {
    std::env::var("DESCENT_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000)
}

/// Bytes that look like data files: mostly the characters the formats use.
fn data_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let alphabet = prop_oneof![
        8 => prop::sample::select(b"0123456789:., \n-+e#\"\tqid".to_vec()),
        1 => any::<u8>(),
    ];
    prop::collection::vec(alphabet, 0..400)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases()))]

    #[test]
    fn fuzz_libsvm_parser_never_panics(bytes in data_like_bytes(), parts in 1usize..5) {
        let _ = libsvm::parse(Path::new("fuzz.svm"), &bytes, None, parts);
        let _ = libsvm::parse(Path::new("fuzz.svm"), &bytes, Some(3), parts);
    }

    #[test]
    fn fuzz_csv_parser_never_panics(bytes in data_like_bytes(), parts in 1usize..5) {
        let mut with_header = b"label,a,b\n".to_vec();
        with_header.extend_from_slice(&bytes);
        let _ = csv::parse(Path::new("fuzz.csv"), &with_header, "label", true, parts);
        let _ = csv::parse(Path::new("fuzz.csv"), &bytes, "label", false, parts);
    }
}

/// `.npy` files: a valid magic and version, then a random (often nearly valid) header and
/// random data.
fn npy_like_bytes() -> impl Strategy<Value = Vec<u8>> {
    let descr = prop::sample::select(vec![
        "<f4", "<f8", ">f8", "<i8", "|u1", "|b1", "<c8", "x", "",
    ]);
    let order = prop::sample::select(vec!["False", "True", "maybe"]);
    let shape = prop::sample::select(vec![
        "(3, 2)",
        "(6,)",
        "()",
        "(2, 3, 1)",
        "(99999999999, 9)",
        "(a,)",
        "(4, 2",
    ]);
    let version = prop::sample::select(vec![1u8, 2, 3, 9]);
    (
        descr,
        order,
        shape,
        version,
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(|(descr, order, shape, version, data)| {
            let header =
                format!("{{'descr': '{descr}', 'fortran_order': {order}, 'shape': {shape}, }}\n");
            let mut bytes = b"\x93NUMPY".to_vec();
            bytes.push(version);
            bytes.push(0);
            if version == 1 {
                bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
            } else {
                bytes.extend_from_slice(&(header.len() as u32).to_le_bytes());
            }
            bytes.extend_from_slice(header.as_bytes());
            bytes.extend_from_slice(&data);
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases() / 4))]

    #[test]
    fn fuzz_npy_reader_never_panics(x in npy_like_bytes(), y in npy_like_bytes(), cut in 0usize..200) {
        let dir = tempfile::tempdir().unwrap();
        let (xp, yp) = (dir.path().join("x.npy"), dir.path().join("y.npy"));
        std::fs::write(&xp, &x[..x.len().min(cut.max(8))]).unwrap();
        std::fs::write(&yp, &y).unwrap();
        let _ = descent::data::npy::read_pair(&xp, &yp);
        std::fs::write(&xp, &x).unwrap();
        let _ = descent::data::npy::read_pair(&xp, &yp);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases() / 8))]

    #[test]
    fn fuzz_cache_reader_never_panics(
        kind in prop::sample::select(vec!["dense", "sparse", "other"]),
        rows in 0usize..6,
        features in 0usize..6,
        labels in npy_like_bytes(),
        arrays in prop::collection::vec(npy_like_bytes(), 3),
        meta_noise in data_like_bytes(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let meta = format!(
            "{{\"format\": \"descent-cache\", \"version\": 1, \"kind\": \"{kind}\", \"rows\": {rows}, \"features\": {features}, \"nonzeros\": 0, \"source\": \"x\"}}"
        );
        let meta_bytes = if meta_noise.len() % 3 == 0 { meta_noise.clone() } else { meta.into_bytes() };
        std::fs::write(dir.path().join("descent-cache.json"), meta_bytes).unwrap();
        std::fs::write(dir.path().join("labels.npy"), &labels).unwrap();
        for (name, bytes) in ["X.npy", "indptr.npy", "indices.npy"].iter().zip(&arrays) {
            std::fs::write(dir.path().join(name), bytes).unwrap();
        }
        std::fs::write(dir.path().join("data.npy"), &arrays[0]).unwrap();
        let _ = descent::data::cache::read(dir.path());
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(fuzz_cases() / 8))]

    #[test]
    fn fuzz_cache_with_well_formed_arrays_of_wrong_content(
        rows in 0usize..5,
        features in 0usize..5,
        indptr in prop::collection::vec(-2i64..8, 0..7),
        indices in prop::collection::vec(-2i32..8, 0..8),
        values in prop::collection::vec(prop_oneof![Just(f32::NAN), -2.0f32..2.0], 0..8),
        labels in prop::collection::vec(-1.0f64..1.0, 0..6),
    ) {
        use descent::data::npy;
        let dir = tempfile::tempdir().unwrap();
        let p = |n: &str| dir.path().join(n);
        let meta = format!(
            "{{\"format\": \"descent-cache\", \"version\": 1, \"kind\": \"sparse\", \"rows\": {rows}, \"features\": {features}, \"nonzeros\": {}, \"source\": \"x\"}}",
            values.len()
        );
        std::fs::write(p("descent-cache.json"), meta).unwrap();
        let bytes = |v: Vec<u8>| v;
        npy::write(&p("indptr.npy"), "<i8", &[indptr.len()], &bytes(indptr.iter().flat_map(|v| v.to_le_bytes()).collect())).unwrap();
        npy::write(&p("indices.npy"), "<i4", &[indices.len()], &bytes(indices.iter().flat_map(|v| v.to_le_bytes()).collect())).unwrap();
        npy::write(&p("data.npy"), "<f4", &[values.len()], &bytes(values.iter().flat_map(|v| v.to_le_bytes()).collect())).unwrap();
        npy::write(&p("labels.npy"), "<f8", &[labels.len()], &bytes(labels.iter().flat_map(|v| v.to_le_bytes()).collect())).unwrap();
        let _ = descent::data::cache::read(dir.path());
    }
}
