//! Training from a file that does not fit in memory: rows are read line by line, one pass per
//! epoch, through a shuffle buffer of bounded size.
//!
//! - [`scan`] reads the file once to count rows, find the dimension and the labels (for the
//!   label encoding), keeping nothing else.
//! - [`Stream`] is a [`Batches`] source: with `shuffle` it keeps a buffer of N rows and emits
//!   a uniformly chosen one, refilling its slot from the file (TensorFlow's shuffle buffer);
//!   with `cyclic` it emits rows in file order, so a cyclic stream trains exactly as the same
//!   file in memory does. Rows of a batch are ordered by line, as in-memory batches are
//!   ordered by index.
//! - [`StreamFile`] evaluates the full objective with one more pass, summed in the same fixed
//!   blocks as in memory, so the numbers are identical.
//!
//! Memory: the buffer, one batch, and one block of rows for evaluation.

use super::csv::Layout;
use super::libsvm::{parse_line, Sample};
use super::{Dataset, Entry, Features, Format, ReadOptions, Source};
use crate::batches::{Batch, Batches, Rng};
use crate::engine::{block_rows, evaluate_sums, finish_evaluation, Engine, Evaluate, Evaluation};
use crate::labels::LabelEncoding;
use crate::objective::Objective;
use crate::regime::{Regime, Sampling};
use crate::{Error, Result};
use rand::RngExt;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// One row read from the file.
#[derive(Debug, Clone, Default)]
struct Line {
    target: f64,
    line: u64,
    /// Sparse rows: the nonzeros; dense rows: empty.
    entries: Vec<Entry>,
    /// Dense rows: the values; sparse rows: empty.
    values: Vec<f32>,
}

/// Reads rows one at a time.
struct Reader {
    path: PathBuf,
    lines: std::io::BufReader<std::fs::File>,
    line: u64,
    text: Vec<u8>,
    kind: RowKind,
    sample: Sample,
}

enum RowKind {
    LibSvm { features: Option<usize> },
    Csv(Layout),
}

impl Reader {
    fn open(path: &Path, options: &ReadOptions) -> Result<Reader> {
        let format = options.format.unwrap_or_else(|| Format::from_path(path));
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let mut reader = Reader {
            path: path.to_path_buf(),
            lines: std::io::BufReader::with_capacity(1 << 20, file),
            line: 0,
            text: Vec::new(),
            kind: RowKind::LibSvm {
                features: options.features,
            },
            sample: Sample::default(),
        };
        match format {
            Format::LibSvm => {}
            Format::Csv => {
                if !reader.next_line()? {
                    return Err(reader.error(1, "empty file: expected a header row naming the columns".into()));
                }
                let header = std::str::from_utf8(&reader.text)
                    .map_err(|_| reader.error(1, "the header is not valid UTF-8 text".into()))?;
                let names = header.split(',').map(|h| h.trim().to_string()).collect();
                reader.kind = RowKind::Csv(Layout::new(path, names, &options.label, true)?);
            }
            Format::Npy | Format::Cache => {
                return Err(Error::config(
                    "stream",
                    path.display(),
                    "streaming reads LibSVM or CSV text; NumPy arrays and caches load at memory speed without it",
                ))
            }
        }
        Ok(reader)
    }

    fn error(&self, line: u64, reason: String) -> Error {
        Error::Parse {
            path: self.path.clone(),
            line,
            reason,
        }
    }

    /// Reads the next line into `self.text` (without the line break).
    fn next_line(&mut self) -> Result<bool> {
        self.text.clear();
        let n = self
            .lines
            .read_until(b'\n', &mut self.text)
            .map_err(|e| Error::io(&self.path, e))?;
        if n == 0 {
            return Ok(false);
        }
        self.line += 1;
        if self.text.last() == Some(&b'\n') {
            self.text.pop();
        }
        if self.text.last() == Some(&b'\r') {
            self.text.pop();
        }
        Ok(true)
    }

    /// The next row, skipping blank and comment lines.
    fn next_row(&mut self, row: &mut Line) -> Result<bool> {
        while self.next_line()? {
            row.line = self.line;
            row.entries.clear();
            row.values.clear();
            let parsed = match &self.kind {
                RowKind::LibSvm { features } => {
                    match parse_line(&self.text, *features, &mut self.sample) {
                        Ok(true) => {
                            row.target = self.sample.target;
                            row.entries.extend_from_slice(&self.sample.entries);
                            Ok(true)
                        }
                        other => other,
                    }
                }
                RowKind::Csv(layout) => {
                    if self.text.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    if self.text.contains(&b'"') {
                        Err("quoted CSV cells cannot be streamed; convert the file or load it in memory".to_string())
                    } else {
                        let cells = self.text.split(|&b| b == b',').map(|c| c.trim_ascii());
                        layout.row_into(cells, &mut row.values).map(|target| {
                            row.target = target;
                            true
                        })
                    }
                }
            };
            match parsed {
                Ok(true) => return Ok(true),
                Ok(false) => continue,
                Err(reason) => return Err(self.error(self.line, reason)),
            }
        }
        Ok(false)
    }

    fn dense_dim(&self) -> Option<usize> {
        match &self.kind {
            RowKind::Csv(layout) => Some(layout.features()),
            RowKind::LibSvm { .. } => None,
        }
    }
}

/// What one pass over a file found.
#[derive(Debug, Clone)]
pub struct Scan {
    /// Samples.
    pub rows: usize,
    /// Features: the CSV's feature columns, `--features`, or the largest LibSVM index.
    pub dim: usize,
    /// Stored values.
    pub nonzeros: usize,
    /// Whether rows are dense (CSV).
    pub dense: bool,
    /// CSV feature names.
    pub feature_names: Option<Vec<String>>,
    /// Each distinct label with the line it first appears on (at most 1,001 kept).
    pub labels: Vec<(f64, u64)>,
}

/// Reads the file once, keeping only counts and the distinct labels.
pub fn scan(path: &Path, options: &ReadOptions) -> Result<Scan> {
    let mut reader = Reader::open(path, options)?;
    let mut row = Line::default();
    let (mut rows, mut nonzeros, mut max_index) = (0usize, 0usize, 0usize);
    let mut labels: Vec<(f64, u64)> = Vec::new();
    while reader.next_row(&mut row)? {
        rows += 1;
        nonzeros += row.values.len() + row.entries.len();
        if let Some(last) = row.entries.last() {
            max_index = max_index.max(last.index as usize + 1);
        }
        if labels.len() <= crate::labels::MAX_CLASSES
            && !labels
                .iter()
                .any(|(y, _)| crate::labels::same_label(*y, row.target))
        {
            labels.push((row.target, row.line));
        }
    }
    if rows == 0 {
        return Err(reader.error(
            reader.line.max(1),
            "no samples: the file holds no data rows".into(),
        ));
    }
    let dense = reader.dense_dim();
    let feature_names = match &reader.kind {
        RowKind::Csv(layout) => Some(layout.feature_names()),
        RowKind::LibSvm { .. } => None,
    };
    Ok(Scan {
        rows,
        dim: dense.or(options.features).unwrap_or(max_index),
        nonzeros,
        dense: dense.is_some(),
        feature_names,
        labels,
    })
}

/// Builds a data set from rows (sorted by line), encoded with `encoding`.
fn rows_to_dataset(
    path: &Path,
    rows: &mut [Line],
    dim: usize,
    dense: bool,
    encoding: &LabelEncoding,
) -> Result<Dataset> {
    rows.sort_unstable_by_key(|r| r.line);
    let targets = rows.iter().map(|r| r.target).collect();
    let source = Source {
        path: Some(path.to_path_buf()),
        lines: rows.iter().map(|r| r.line).collect(),
        feature_names: None,
    };
    let features = if dense {
        Features::Dense {
            dim,
            values: rows.iter().flat_map(|r| r.values.iter().copied()).collect(),
        }
    } else {
        let mut indptr = Vec::with_capacity(rows.len() + 1);
        indptr.push(0);
        for r in rows.iter() {
            indptr.push(indptr.last().copied().unwrap_or(0) + r.entries.len());
        }
        Features::Sparse {
            dim,
            indptr,
            entries: rows
                .iter()
                .flat_map(|r| r.entries.iter().copied())
                .collect(),
        }
    };
    let mut data = Dataset::new(features, targets, source)?;
    encoding.encode(&mut data)?;
    Ok(data)
}

/// A file streamed in epochs through a shuffle buffer.
pub struct Stream {
    path: PathBuf,
    options: ReadOptions,
    scan: Scan,
    encoding: LabelEncoding,
    batch_size: usize,
    shuffle: bool,
    capacity: usize,
    reader: Option<Reader>,
    buffer: Vec<Line>,
    emitted: usize,
    batch: Option<Dataset>,
    indices: Vec<usize>,
}

impl Stream {
    /// A stream over `path` (already [`scan`]ned) for `regime` (`sgd` or `minibatch:B`) with
    /// `sampling` (`shuffle` through a buffer of `buffer` rows, or `cyclic`).
    pub fn new(
        path: &Path,
        options: &ReadOptions,
        scan: Scan,
        encoding: LabelEncoding,
        regime: Regime,
        sampling: Sampling,
        buffer: usize,
    ) -> Result<Stream> {
        if regime == Regime::Batch {
            return Err(Error::config(
                "method",
                "batch",
                "`stream` trains with sgd or minibatch:B (a full batch needs every sample at once)",
            ));
        }
        if sampling == Sampling::Replacement {
            return Err(Error::config(
                "sampling",
                "replacement",
                "`stream` reads each row once per epoch: use shuffle or cyclic",
            ));
        }
        if buffer == 0 {
            return Err(Error::config("buffer", 0, "a whole number ≥ 1"));
        }
        let mut options = options.clone();
        options.features = Some(scan.dim);
        Ok(Stream {
            path: path.to_path_buf(),
            batch_size: regime.batch_size(scan.rows).max(1),
            options,
            scan,
            encoding,
            shuffle: sampling == Sampling::Shuffle,
            capacity: buffer,
            reader: None,
            buffer: Vec::new(),
            emitted: 0,
            batch: None,
            indices: Vec::new(),
        })
    }

    /// The pass over the file this stream makes.
    pub fn file(&self) -> StreamFile {
        StreamFile {
            path: self.path.clone(),
            options: self.options.clone(),
            dense: self.scan.dense,
            dim: self.scan.dim,
            encoding: self.encoding.clone(),
        }
    }

    fn next_line(&mut self, rng: &mut Rng) -> Result<Option<Line>> {
        let reader = self
            .reader
            .as_mut()
            .ok_or_else(|| Error::config("stream", "", "start_epoch first"))?;
        if !self.shuffle {
            let mut row = Line::default();
            return Ok(reader.next_row(&mut row)?.then_some(row));
        }
        while self.buffer.len() < self.capacity {
            let mut row = Line::default();
            if !reader.next_row(&mut row)? {
                break;
            }
            self.buffer.push(row);
        }
        if self.buffer.is_empty() {
            return Ok(None);
        }
        let j = rng.random_range(0..self.buffer.len());
        Ok(Some(self.buffer.swap_remove(j)))
    }
}

impl Batches for Stream {
    fn samples(&self) -> usize {
        self.scan.rows
    }

    fn dim(&self) -> usize {
        self.scan.dim
    }

    fn updates_per_epoch(&self) -> u64 {
        self.scan.rows.div_ceil(self.batch_size) as u64
    }

    fn describe(&self) -> String {
        self.path.display().to_string()
    }

    fn sparse(&self) -> bool {
        !self.scan.dense
    }

    fn start_epoch(&mut self, _rng: &mut Rng) -> Result<()> {
        self.reader = Some(Reader::open(&self.path, &self.options)?);
        self.buffer.clear();
        self.emitted = 0;
        Ok(())
    }

    fn next_batch(&mut self, rng: &mut Rng) -> Result<Option<Batch<'_>>> {
        let mut rows = Vec::with_capacity(self.batch_size);
        while rows.len() < self.batch_size {
            match self.next_line(rng)? {
                Some(row) => rows.push(row),
                None => break,
            }
        }
        self.emitted += rows.len();
        let changed = || Error::Shape {
            what: format!(
                "rows of {} (the file changed during training?)",
                self.path.display()
            ),
            expected: self.scan.rows.to_string(),
            found: format!("{} or more", self.emitted),
        };
        if rows.is_empty() {
            return if self.emitted == self.scan.rows {
                Ok(None)
            } else {
                Err(changed())
            };
        }
        if self.emitted > self.scan.rows {
            return Err(changed());
        }
        let data = rows_to_dataset(
            &self.path,
            &mut rows,
            self.scan.dim,
            self.scan.dense,
            &self.encoding,
        )?;
        self.indices.clear();
        self.indices.extend(0..data.len());
        let data = self.batch.insert(data);
        Ok(Some(Batch::local(data, &self.indices)))
    }
}

/// A file evaluated by streaming it once.
#[derive(Clone)]
pub struct StreamFile {
    path: PathBuf,
    options: ReadOptions,
    dense: bool,
    dim: usize,
    encoding: LabelEncoding,
}

impl Evaluate for StreamFile {
    fn evaluate(
        &self,
        engine: &dyn Engine,
        objective: &dyn Objective,
        theta: &[f64],
    ) -> Result<Evaluation> {
        let mut reader = Reader::open(&self.path, &self.options)?;
        let block = block_rows(2);
        let (mut total, mut rows, mut first) = ([0.0; 2], 0usize, true);
        loop {
            let mut lines = Vec::with_capacity(block.min(1 << 16));
            let mut row = Line::default();
            while lines.len() < block && reader.next_row(&mut row)? {
                lines.push(std::mem::take(&mut row));
            }
            if lines.is_empty() {
                break;
            }
            rows += lines.len();
            let data =
                rows_to_dataset(&self.path, &mut lines, self.dim, self.dense, &self.encoding)?;
            let sums = evaluate_sums(engine, objective, &data, theta);
            // The same merge as the engines: first block copied, later ones added in order.
            if first {
                total = sums;
                first = false;
            } else {
                total[0] += sums[0];
                total[1] += sums[1];
            }
        }
        Ok(finish_evaluation(objective, theta, total, rows))
    }
}
