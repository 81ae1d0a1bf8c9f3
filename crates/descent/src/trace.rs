//! The trajectory recorder: an [`Observer`] that writes a CSV row every N updates.
//!
//! Columns: `update, epoch, sample_gradients, seconds, lr, batch_loss, train_loss`, then
//! `train_accuracy` for classifiers, `test_loss, test_accuracy` when test data is given, and
//! `theta_0 … theta_{p−1}` when the model has at most [`MAX_TRACED_PARAMETERS`] parameters,
//! and last `update_rule`, the [`RuleKind`](crate::step::RuleKind) that computed the updates
//! (per row: a run resumed from another rule's checkpoint changes it mid-trace).
//! `epoch` is sample gradients / M (fractional mid-epoch), `train_loss` is the full objective
//! f(θ) evaluated at the row's parameters (the average, when averaging is on), `seconds` is
//! training time without evaluation (left out by [`TraceWriter::without_seconds`], so that two
//! equal runs give byte-identical traces). The first row is the starting point (update 0,
//! with empty `lr` and `batch_loss`); the last row is the final update. The file is written
//! under a partial name and renamed into place when training finishes; a checkpoint records
//! how much of it is written, and a resumed run continues it from there.

use crate::engine::{Engine, Evaluate};
use crate::objective::{Objective, Task};
use crate::observe::{Control, Observer, Plan, SavedStates, State};
use crate::output::{Existing, PartialFile};
use crate::{Error, Result};
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The trace's key among the observers' saved states.
const KEY: &str = "trace";

/// Models with at most this many parameters get their parameters traced.
pub const MAX_TRACED_PARAMETERS: usize = 16;

/// What a trace evaluates at each row.
pub struct Evaluator<'a> {
    /// The engine for the full-data sums.
    pub engine: &'a dyn Engine,
    /// The objective being trained.
    pub objective: &'a dyn Objective,
    /// The training data (in memory or streamed).
    pub train: &'a dyn Evaluate,
    /// Held-out data, if any.
    pub test: Option<&'a dyn Evaluate>,
}

/// Writes a trace CSV.
pub struct TraceWriter<'a> {
    eval: Evaluator<'a>,
    every: u64,
    path: PathBuf,
    existing: Existing,
    seconds: bool,
    silent: bool,
    file: Option<PartialFile>,
    last_row: Option<u64>,
}

impl<'a> TraceWriter<'a> {
    /// A trace of every `every`-th update (≥ 1) to `path`, which may exist only with
    /// [`Existing::Replace`] (checked now).
    pub fn new(path: &Path, every: u64, eval: Evaluator<'a>, existing: Existing) -> Result<Self> {
        existing.check(path)?;
        Ok(TraceWriter {
            eval,
            every: every.max(1),
            path: path.to_path_buf(),
            existing,
            seconds: true,
            silent: false,
            file: None,
            last_row: None,
        })
    }

    /// A trace that evaluates every row but writes nothing: the other processes of a
    /// data-parallel run, whose evaluations are collective (process 0 writes the file).
    pub fn silent(every: u64, eval: Evaluator<'a>) -> Self {
        TraceWriter {
            eval,
            every: every.max(1),
            path: PathBuf::new(),
            existing: Existing::Keep,
            seconds: true,
            silent: true,
            file: None,
            last_row: None,
        }
    }

    /// Leaves out the `seconds` column (wall-clock time, the only column that differs
    /// between two equal runs).
    pub fn without_seconds(mut self) -> Self {
        self.seconds = false;
        self
    }

    fn header(&self) -> String {
        let mut cols: Vec<String> = [
            "update",
            "epoch",
            "sample_gradients",
            "lr",
            "batch_loss",
            "train_loss",
        ]
        .map(String::from)
        .to_vec();
        if self.seconds {
            cols.insert(3, "seconds".into());
        }
        let classifier = self.eval.objective.task() != Task::Regression;
        if classifier {
            cols.push("train_accuracy".into());
        }
        if self.eval.test.is_some() {
            cols.push("test_loss".into());
            if classifier {
                cols.push("test_accuracy".into());
            }
        }
        let p = self.eval.objective.dim();
        if p <= MAX_TRACED_PARAMETERS {
            cols.extend((0..p).map(|j| format!("theta_{j}")));
        }
        cols.push("update_rule".into());
        cols.join(",")
    }

    fn row(&mut self, s: &State<'_>) -> Result<()> {
        let e = &self.eval;
        let train = e.train.evaluate(e.engine, e.objective, s.theta)?;
        let mut cells = vec![
            s.update.to_string(),
            number(s.epoch),
            s.sample_gradients.to_string(),
            number(s.lr),
            number(s.batch_loss),
            number(train.loss),
        ];
        if self.seconds {
            cells.insert(3, number(s.seconds));
        }
        if let Some(a) = train.accuracy {
            cells.push(number(a));
        }
        if let Some(test) = e.test {
            let t = test.evaluate(e.engine, e.objective, s.theta)?;
            cells.push(number(t.loss));
            if let Some(a) = t.accuracy {
                cells.push(number(a));
            }
        }
        if s.theta.len() <= MAX_TRACED_PARAMETERS {
            cells.extend(s.theta.iter().map(|&v| number(v)));
        }
        cells.push(s.update_rule.name().into());
        self.write_line(&cells.join(","))?;
        self.last_row = Some(s.update);
        Ok(())
    }

    fn write_line(&mut self, line: &str) -> Result<()> {
        if self.silent {
            return Ok(());
        }
        let path = &self.path;
        let file = self
            .file
            .as_mut()
            .ok_or_else(|| Error::io(path, std::io::Error::other("trace not open")))?;
        writeln!(file.writer()?, "{line}").map_err(|e| Error::io(path, e))
    }
}

/// A number as CSV text: shortest round-trip form, empty for NaN.
fn number(v: f64) -> String {
    if v.is_nan() {
        String::new()
    } else {
        v.to_string()
    }
}

impl Observer for TraceWriter<'_> {
    fn on_start(&mut self, _plan: &Plan, state: &State<'_>) -> Result<()> {
        if !self.silent {
            self.file = Some(PartialFile::create(&self.path, self.existing)?);
        }
        let header = self.header();
        self.write_line(&header)?;
        self.row(state)
    }

    fn interval(&self) -> u64 {
        self.every
    }

    fn on_step(&mut self, state: &State<'_>) -> Result<Control> {
        if state.update.is_multiple_of(self.every) {
            self.row(state)?;
        }
        Ok(Control::Continue)
    }

    fn on_finish(&mut self, state: &State<'_>) -> Result<()> {
        if self.last_row != Some(state.update) {
            self.row(state)?;
        }
        match self.file.take() {
            Some(file) => file.commit(),
            None => Ok(()),
        }
    }

    fn on_resume(&mut self, _plan: &Plan, _state: &State<'_>, saved: &SavedStates) -> Result<()> {
        let (bytes, last_row) = self.saved(saved)?;
        self.file = Some(PartialFile::reopen(&self.path, self.existing, bytes)?);
        self.last_row = last_row;
        Ok(())
    }

    fn save_state(&mut self, durable: bool) -> Result<Option<(String, Value)>> {
        let file = self.file.as_mut();
        let bytes = match file {
            Some(f) => f.sync(durable)?,
            None => 0,
        };
        let state = json!({ "bytes": bytes, "last_row": self.last_row });
        Ok(Some((KEY.into(), state)))
    }

    fn restore_state(&mut self, saved: &SavedStates) -> Result<()> {
        let (bytes, last_row) = self.saved(saved)?;
        if let Some(f) = self.file.as_mut() {
            f.truncate(bytes)?;
        }
        self.last_row = last_row;
        Ok(())
    }
}

impl TraceWriter<'_> {
    /// The trace's length and last row in saved states.
    fn saved(&self, saved: &SavedStates) -> Result<(u64, Option<u64>)> {
        let state = saved.get(KEY);
        let bytes = state.and_then(|s| s.get("bytes")).and_then(Value::as_u64);
        let last_row = state
            .and_then(|s| s.get("last_row"))
            .and_then(Value::as_u64);
        match bytes {
            Some(b) => Ok((b, last_row)),
            None => Err(Error::Format {
                path: self.path.clone(),
                reason: "the checkpoint has no record of this trace: it was made without `trace`, or with another trace file".into(),
            }),
        }
    }
}
