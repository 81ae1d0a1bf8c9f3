//! NumPy `.npy` arrays: reading features and labels, writing the binary cache.
//!
//! The format (NumPy's `format.py`): the magic `\x93NUMPY`, a version byte pair, a header
//! length (u16 for version 1, u32 for 2 and 3), then a Python dict literal such as
//! `{'descr': '<f4', 'fortran_order': False, 'shape': (100, 20), }` padded with spaces, then
//! the raw data. Feature matrices may be float32 or float64, C or Fortran order; labels may
//! be any float, integer or bool type. Values are checked: NaN and infinities are errors.

use super::chunks::Mapped;
use super::{Dataset, Features, Source};
use crate::output::{AtomicFile, Existing};
use crate::{Error, Result};
use std::path::Path;

/// Element types descent reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// IEEE floats of 4 or 8 bytes.
    Float(usize),
    /// Signed integers of 1, 2, 4 or 8 bytes.
    Int(usize),
    /// Unsigned integers of 1, 2, 4 or 8 bytes.
    Uint(usize),
    /// NumPy's bool (1 byte).
    Bool,
}

impl Dtype {
    fn size(self) -> usize {
        match self {
            Dtype::Float(n) | Dtype::Int(n) | Dtype::Uint(n) => n,
            Dtype::Bool => 1,
        }
    }
}

/// An array's bytes: mapped from a file, or held in memory.
enum Bytes {
    Mapped(Mapped),
    Owned(Vec<u8>),
}

impl Bytes {
    fn get(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m.bytes(),
            Bytes::Owned(v) => v,
        }
    }
}

/// An array: its header and raw bytes.
pub struct Array {
    bytes: Bytes,
    offset: usize,
    /// Element type.
    pub dtype: Dtype,
    /// Whether the bytes are big-endian.
    pub big_endian: bool,
    /// Column-major storage.
    pub fortran: bool,
    /// The shape.
    pub shape: Vec<usize>,
}

impl Array {
    /// Maps and checks an `.npy` file.
    pub fn open(path: &Path) -> Result<Array> {
        Self::parse(path, Bytes::Mapped(Mapped::open(path)?))
    }

    /// Checks the contents of an `.npy` file read from `path` (for messages).
    pub fn from_bytes(path: &Path, bytes: Vec<u8>) -> Result<Array> {
        Self::parse(path, Bytes::Owned(bytes))
    }

    fn parse(path: &Path, storage: Bytes) -> Result<Array> {
        let bad = |reason: String| Error::Format {
            path: path.to_path_buf(),
            reason,
        };
        let bytes = storage.get();
        if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
            return Err(bad(
                "not a NumPy .npy file (no \\x93NUMPY magic); save arrays with numpy.save".into(),
            ));
        }
        let (len, start): (usize, usize) = match bytes[6] {
            1 => (usize::from(u16::from_le_bytes([bytes[8], bytes[9]])), 10),
            2 | 3 if bytes.len() >= 12 => (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            ),
            v => return Err(bad(format!("unsupported .npy format version {v}"))),
        };
        let header = start
            .checked_add(len)
            .and_then(|end| bytes.get(start..end))
            .ok_or_else(|| bad("truncated header".into()))?;
        let header = std::str::from_utf8(header).map_err(|_| bad("header is not text".into()))?;
        let (dtype, big_endian) = parse_descr(
            dict_value(header, "descr")
                .ok_or_else(|| bad(format!("no 'descr' in header {header}")))?,
        )
        .map_err(&bad)?;
        let fortran = match dict_value(header, "fortran_order") {
            Some("True") => true,
            Some("False") => false,
            _ => return Err(bad(format!("no 'fortran_order' in header {header}"))),
        };
        let shape = parse_shape(
            dict_value(header, "shape")
                .ok_or_else(|| bad(format!("no 'shape' in header {header}")))?,
        )
        .map_err(&bad)?;
        let offset = start + len;
        let count = shape.iter().try_fold(1usize, |a, &n| a.checked_mul(n));
        let needed = count
            .and_then(|c| c.checked_mul(dtype.size()))
            .ok_or_else(|| bad(format!("shape {shape:?} is too large")))?;
        if bytes.len() - offset != needed {
            return Err(bad(format!(
                "holds {} data bytes, but shape {shape:?} of {}-byte elements needs {needed}: the file is truncated or not what its header says",
                bytes.len() - offset,
                dtype.size()
            )));
        }
        Ok(Array {
            bytes: storage,
            offset,
            dtype,
            big_endian,
            fortran,
            shape,
        })
    }

    fn data(&self) -> &[u8] {
        &self.bytes.get()[self.offset..]
    }

    /// Element `k` (in storage order) as f64.
    fn get(&self, k: usize) -> f64 {
        let n = self.dtype.size();
        let raw = &self.data()[k * n..(k + 1) * n];
        let mut b = [0u8; 8];
        b[..n].copy_from_slice(raw);
        if self.big_endian {
            b[..n].reverse();
        }
        match self.dtype {
            Dtype::Float(4) => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            Dtype::Float(_) => f64::from_le_bytes(b),
            Dtype::Bool => f64::from(b[0]),
            Dtype::Uint(_) => u64::from_le_bytes(b) as f64,
            Dtype::Int(n) => {
                let shift = 64 - 8 * n as u32;
                ((i64::from_le_bytes(b) << shift) >> shift) as f64
            }
        }
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        self.shape.iter().product()
    }

    /// Whether the array holds no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The text after `'key':` in a header dict, up to the next top-level comma.
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let at = header.find(&format!("'{key}'"))?;
    let rest = header[at + key.len() + 2..]
        .trim_start()
        .strip_prefix(':')?
        .trim_start();
    let end = if rest.starts_with('(') {
        rest.find(')')? + 1
    } else {
        rest.find([',', '}']).unwrap_or(rest.len())
    };
    Some(rest[..end].trim())
}

fn parse_descr(descr: &str) -> std::result::Result<(Dtype, bool), String> {
    let d = descr.trim_matches(['\'', '"']);
    // The byte order is the first character (of any width: the header is arbitrary text).
    let (order, kind) = d.split_at(d.chars().next().map_or(0, char::len_utf8));
    let big_endian = order == ">";
    let size: usize = kind.get(1..).and_then(|n| n.parse().ok()).unwrap_or(0);
    let dtype = match (kind.chars().next(), size) {
        (Some('f'), 4 | 8) => Dtype::Float(size),
        (Some('i'), 1 | 2 | 4 | 8) => Dtype::Int(size),
        (Some('u'), 1 | 2 | 4 | 8) => Dtype::Uint(size),
        (Some('b'), 1) => Dtype::Bool,
        _ => return Err(format!("dtype {descr} is not supported: use float32 or float64 (labels may also be integers or bool)")),
    };
    if !matches!(order, "<" | ">" | "|" | "=") {
        return Err(format!("dtype {descr} is not supported"));
    }
    Ok((dtype, big_endian))
}

fn parse_shape(text: &str) -> std::result::Result<Vec<usize>, String> {
    let inner = text
        .strip_prefix('(')
        .and_then(|t| t.strip_suffix(')'))
        .ok_or_else(|| format!("shape {text} is not a tuple"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<usize>()
                .map_err(|_| format!("shape {text} is not a tuple of sizes"))
        })
        .collect()
}

/// Reads features from `x` (2-D, float32 or float64) and labels from `y` (1-D, or 2-D with one
/// column) into a dense data set.
pub fn read_pair(x: &Path, y: &Path) -> Result<Dataset> {
    pair((x, &Array::open(x)?), (y, &Array::open(y)?))
}

/// The data set of features `x` and labels `y` (each with the path it came from).
pub fn pair((x, features): (&Path, &Array), (y, labels): (&Path, &Array)) -> Result<Dataset> {
    let bad = |path: &Path, reason: String| Error::Format {
        path: path.to_path_buf(),
        reason,
    };
    if !matches!(features.dtype, Dtype::Float(_)) {
        return Err(bad(
            x,
            format!(
                "features have dtype {:?}: use float32 or float64 (X.astype(numpy.float32))",
                features.dtype
            ),
        ));
    }
    let (rows, dim) = match features.shape[..] {
        [rows, dim] => (rows, dim),
        [rows] => (rows, 1),
        _ => {
            return Err(bad(
                x,
                format!(
                    "features must be a 2-D array (rows, features), found shape {:?}",
                    features.shape
                ),
            ))
        }
    };
    let n_labels = match labels.shape[..] {
        [n] | [n, 1] => n,
        _ => {
            return Err(bad(
                y,
                format!("labels must be a 1-D array, found shape {:?}", labels.shape),
            ))
        }
    };
    if n_labels != rows {
        return Err(Error::Shape {
            what: format!("labels in {} for the rows of {}", y.display(), x.display()),
            expected: rows.to_string(),
            found: n_labels.to_string(),
        });
    }
    if rows == 0 {
        return Err(bad(x, "no rows: the array is empty".into()));
    }
    let mut values = vec![0.0f32; rows * dim];
    for (k, v) in values.iter_mut().enumerate() {
        let (i, j) = (k / dim, k % dim);
        let stored = if features.fortran { j * rows + i } else { k };
        let value = features.get(stored);
        let single = value as f32;
        if !single.is_finite() {
            return Err(bad(x, format!("row {i}, column {j}: value {value} is not a finite f32: remove or impute NaN/Inf values")));
        }
        *v = single;
    }
    let mut targets = Vec::with_capacity(rows);
    for i in 0..rows {
        let t = labels.get(i);
        if !t.is_finite() {
            return Err(bad(y, format!("label {i} is {t}: labels must be finite")));
        }
        targets.push(t);
    }
    let source = Source {
        path: Some(x.to_path_buf()),
        lines: (1..=rows as u64).collect(),
        feature_names: None,
    };
    Dataset::new(Features::Dense { dim, values }, targets, source)
}

/// Writes a little-endian, C-order array of `descr` (`'<f4'`, `'<f8'`, `'<i4'`, `'<i8'`) with
/// `shape` and raw element `bytes`, atomically.
pub fn write(path: &Path, descr: &str, shape: &[usize], bytes: &[u8]) -> Result<()> {
    let dims: Vec<String> = shape.iter().map(usize::to_string).collect();
    let shape_text = if dims.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header =
        format!("{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape_text}, }}");
    // Pad so that the data starts on a multiple of 64 bytes, ending the header with '\n'.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat((64 - unpadded % 64) % 64));
    header.push('\n');
    let mut file = AtomicFile::create(path, Existing::Keep)?;
    file.write_all(b"\x93NUMPY\x01\x00")?;
    file.write_all(&(header.len() as u16).to_le_bytes())?;
    file.write_all(header.as_bytes())?;
    file.write_all(bytes)?;
    file.commit()
}

/// Reads a 1-D little-endian array of `descr` into a vector via `decode` (used by the cache,
/// whose arrays descent itself wrote).
pub(crate) fn read_vector<T>(
    array: (&Path, &Array),
    descr: &str,
    decode: impl Fn(&[u8]) -> T,
) -> Result<Vec<T>> {
    Ok(elements(array, descr, decode)?.collect())
}

/// The elements of a 1-D little-endian array of `descr`, decoded by `decode` as they are
/// read from the file's bytes (no copy of the array is made).
pub(crate) fn elements<'a, T>(
    (path, array): (&Path, &'a Array),
    descr: &str,
    decode: impl Fn(&[u8]) -> T + 'a,
) -> Result<impl ExactSizeIterator<Item = T> + 'a> {
    let expected = parse_descr(descr).map_err(|reason| Error::Format {
        path: path.to_path_buf(),
        reason,
    })?;
    if (array.dtype, array.big_endian) != expected || array.shape.len() != 1 {
        return Err(Error::Format {
            path: path.to_path_buf(),
            reason: format!(
                "expected a 1-D {descr} array, found {:?} of shape {:?}",
                array.dtype, array.shape
            ),
        });
    }
    Ok(array.data().chunks_exact(array.dtype.size()).map(decode))
}

/// Reads a 2-D little-endian float32 C-order matrix (the cache's `X.npy`) as row-major values.
pub(crate) fn read_matrix_f32((path, array): (&Path, &Array)) -> Result<Vec<f32>> {
    if array.dtype != Dtype::Float(4) || array.big_endian || array.fortran {
        return Err(Error::Format {
            path: path.to_path_buf(),
            reason: "expected a little-endian float32 C-order matrix".into(),
        });
    }
    Ok(super::pages::collect_huge(
        array
            .data()
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
    ))
}
