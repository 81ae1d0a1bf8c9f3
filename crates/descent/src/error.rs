//! The library's one error type.
//!
//! Every variant carries the data a user needs to fix the problem (which file, which line,
//! which value) and, where there is one, what to do. The library never panics on user input;
//! the `descent` binary prints the chain of these errors and exits non-zero.
//!
//! The library speaks of its own settings, not of any front end's spelling of them: a setting
//! is named as the field that holds it (`lr`, `l2`, `method`, `checkpoint_every`), and in free
//! text it is written between backticks (`` `lr` ``). A front end maps those names to its own
//! (the `descent` binary to `--lr`, a Python binding to its keyword arguments).

use std::path::PathBuf;

/// Everything that can go wrong in `descent`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A data file could not be opened, read or written.
    #[error("{path}: {error}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's error (part of the message, so not repeated as a cause).
        error: std::io::Error,
    },

    /// A data file is malformed at a known place.
    #[error("{path}:{line}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: u64,
        /// What was wrong, naming the column or token.
        reason: String,
    },

    /// A binary file (NumPy array, cache) is malformed.
    #[error("{path}: {reason}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What was wrong and what to do.
        reason: String,
    },

    /// Something has the wrong size (dimension mismatch, empty input, ...).
    #[error("{what}: expected {expected}, found {found}")]
    Shape {
        /// What was measured.
        what: String,
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
    },

    /// The labels of a data set do not fit the chosen model.
    #[error("{path}:{line}: {reason}")]
    Labels {
        /// The file.
        path: PathBuf,
        /// 1-based line of the first offending label.
        line: u64,
        /// What is wrong and what to do.
        reason: String,
    },

    /// A setting is out of its allowed range.
    #[error("invalid `{name}` = {value}: {allowed}")]
    Config {
        /// The setting, by its field name (e.g. `lr`).
        name: String,
        /// The value given.
        value: String,
        /// The allowed range or values.
        allowed: String,
    },

    /// Training produced a non-finite loss or gradient.
    #[error("training diverged at update {step} (epoch {epoch}): loss = {loss}; {hint}")]
    Diverged {
        /// The update at which the loss stopped being finite (0-based).
        step: u64,
        /// The epoch of that update (0-based).
        epoch: u64,
        /// The offending loss value.
        loss: f64,
        /// What to try instead.
        hint: String,
        /// A checkpoint holding the last good state, to continue from at a smaller rate.
        last_good: Option<PathBuf>,
        /// The rate to try (a tenth of the one that diverged; NaN when unknown).
        smaller_lr: f64,
    },

    /// An output exists and may not be replaced.
    #[error("{path} already exists (nothing was written): allow replacing it (`force`), or choose another name")]
    Exists {
        /// The output.
        path: PathBuf,
    },

    /// Training was interrupted (Ctrl-C, SIGTERM).
    #[error("interrupted after update {update}; {saved}")]
    Interrupted {
        /// Updates done.
        update: u64,
        /// Where the state was saved, or why nothing was saved.
        saved: String,
        /// The checkpoint written, to continue from.
        checkpoint: Option<PathBuf>,
    },

    /// A data-parallel job could not start: some processes could not load their shards.
    #[error("the job could not start:\n{failures}")]
    JobStart {
        /// The failures, a `rank r: message` line each.
        failures: String,
    },

    /// One of a run's inputs could not be loaded.
    #[error("cannot load {role} {}", path.display())]
    Input {
        /// What the input is for (`training data`, `test data`).
        role: &'static str,
        /// The file.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },

    /// Training on a file failed.
    #[error("training on {} failed", path.display())]
    Training {
        /// The training data.
        path: PathBuf,
        /// What went wrong.
        #[source]
        source: Box<Error>,
    },

    /// A saved model could not be understood.
    #[error("{path}: not a descent model: {reason}")]
    Model {
        /// The file.
        path: PathBuf,
        /// What was wrong.
        reason: String,
    },
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An [`Error::Io`] for `path`.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            error,
        }
    }

    /// `error` as this library's error, when it is one: itself, or the boxed cause inside
    /// [`Error::Input`] or [`Error::Training`] (which a chain of sources shows as a `Box`).
    pub fn of<'e>(error: &'e (dyn std::error::Error + 'static)) -> Option<&'e Error> {
        error
            .downcast_ref::<Error>()
            .or_else(|| error.downcast_ref::<Box<Error>>().map(|b| &**b))
    }

    /// An [`Error::Config`] for the setting `name`.
    pub fn config(name: &str, value: impl ToString, allowed: impl Into<String>) -> Self {
        Error::Config {
            name: name.to_string(),
            value: value.to_string(),
            allowed: allowed.into(),
        }
    }
}
