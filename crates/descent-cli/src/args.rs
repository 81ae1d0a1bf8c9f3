//! Raw command-line flags, as clap parses them. Checked in [`crate::config`].

use crate::flag;
use clap::{Args, Parser, Subcommand};
use descent::checkpoint::Every;
use descent::data::{Format, ReadOptions};
use descent::divergence::OnDivergence;
use descent::objective::ModelKind;
use descent::regime::{Regime, Sampling};
use std::path::PathBuf;

/// Train models by full-batch, mini-batch or stochastic gradient descent.
#[derive(Debug, Parser)]
#[command(name = "descent", version, about, propagate_version = true)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Measure this machine: memory bandwidth, then gradient throughput against batch size and
    /// threads on dense and sparse data, as a fraction of the bandwidth.
    Bench(BenchArgs),
    /// Put every claim about full-batch GD and SGD to the test on built-in data: an HTML
    /// report with figures and results.json (a minute or two on 2 cores; --quick is a smoke test).
    Demo(DemoArgs),
    /// Train a model on a data file.
    #[command(allow_negative_numbers = true, args_override_self = true)]
    Train(Box<TrainArgs>),
    /// Predict with a saved model, or score it on labelled data (--json).
    Predict(PredictArgs),
    /// Generate a synthetic data set with a known ground truth.
    Gen(GenArgs),
    /// Describe a data file: size, sparsity, labels, value ranges, load speed.
    Inspect(InspectArgs),
    /// Run several methods on the same data, start and budget (epochs), over seeds: a table,
    /// comparison.json and loss curves against epochs, updates and time.
    #[command(allow_negative_numbers = true)]
    Compare(Box<CompareArgs>),
    /// Loss landscapes of a two-parameter model: training beside population surface, minima,
    /// the paths of several methods, per-sample surfaces, gradient noise, basins.
    #[command(allow_negative_numbers = true)]
    Landscape(LandscapeArgs),
    /// Convert a data file to the binary cache (a folder of NumPy arrays that loads at memory
    /// speed and that `train`, `inspect` and `predict` accept as --data).
    Convert(ConvertArgs),
}

/// Where data comes from.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Data file: CSV with a header, LibSVM/svmlight, NumPy X.npy, or a cache folder.
    #[arg(long, value_name = "PATH")]
    pub data: PathBuf,
    #[command(flatten)]
    pub how: ReadArgs,
}

/// How to read a data file.
#[derive(Debug, Args)]
pub struct ReadArgs {
    /// File format [default: from the path: a `descent convert` folder is a cache, .npy is
    /// NumPy, .csv is CSV, anything else LibSVM].
    #[arg(long, value_name = "FORMAT", value_parser = checked::<Format>)]
    pub format: Option<Format>,
    /// CSV: the name of the target column.
    #[arg(long, value_name = "NAME", default_value = "label")]
    pub label: String,
    /// NumPy: the labels (1-D .npy) that go with the feature matrix X.npy.
    #[arg(long, value_name = "PATH")]
    pub labels: Option<PathBuf>,
}

impl ReadArgs {
    /// The reader settings these flags ask for.
    pub fn read_options(&self, features: Option<usize>, require_label: bool) -> ReadOptions {
        ReadOptions {
            format: self.format,
            label: self.label.clone(),
            require_label,
            features,
            labels: self.labels.clone(),
        }
    }
}

/// The data and model of a training run (`train`, `compare`).
#[derive(Debug, Args)]
pub struct ModelDataArgs {
    #[command(flatten)]
    pub input: DataArgs,
    /// LibSVM: number of features [default: the largest index in the file].
    #[arg(long, value_name = "N", value_parser = flag::count::<usize>)]
    pub features: Option<usize>,
    /// Held-out data, evaluated during and after training (same format as --data).
    #[arg(long, value_name = "PATH")]
    pub test: Option<PathBuf>,
    /// NumPy: the labels of `--test X_test.npy`.
    #[arg(long, value_name = "PATH")]
    pub test_labels: Option<PathBuf>,
    /// Model: least-squares, logistic, hinge, softmax, or mlp:H (one hidden layer of H tanh
    /// units, softmax output).
    #[arg(long, value_name = "MODEL", value_parser = checked::<ModelKind>)]
    pub model: ModelKind,
}

/// `descent train`.
#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub setup: ModelDataArgs,
    /// Batch regime: batch (all M samples per update), sgd (one) or minibatch:B.
    #[arg(long, value_name = "METHOD", default_value = "sgd", value_parser = checked::<Regime>)]
    pub method: Regime,
    /// Order of samples: shuffle (new permutation each epoch), cyclic (file order) or
    /// replacement (i.i.d. draws). Ignored by --method batch.
    #[arg(long, value_name = "RULE", default_value = "shuffle", value_parser = checked::<Sampling>)]
    pub sampling: Sampling,
    /// Base learning rate η₀ (ignored by --schedule optimal).
    #[arg(long, value_name = "F", default_value_t = 0.01, value_parser = flag::positive)]
    pub lr: f64,
    /// Rate schedule: constant, inverse-time[:DECAY], invscaling[:POWER], optimal,
    /// step:EPOCHS[:GAMMA].
    #[arg(long, value_name = "SPEC", default_value = "constant")]
    pub schedule: String,
    /// L2 strength λ: adds (λ/2)‖w‖² to the objective (intercepts are not penalized).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = flag::non_negative)]
    pub l2: f64,
    /// Momentum μ in [0, 1), PyTorch's convention (buffer = g on the first step).
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = flag::momentum)]
    pub momentum: f64,
    /// Nesterov momentum (needs --momentum > 0).
    #[arg(long)]
    pub nesterov: bool,
    /// Polyak–Ruppert averaging of the iterates from update START on (default 1: all), as
    /// scikit-learn's `average`.
    #[arg(long, value_name = "START", num_args = 0..=1, default_missing_value = "1", value_parser = flag::whole::<u64>)]
    pub average: Option<u64>,
    /// Epochs: passes over the data (each sample's gradient once per epoch).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = flag::count::<u64>)]
    pub epochs: u64,
    /// Seed of every random choice: same seed, same result, bit for bit.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = flag::whole::<u64>)]
    pub seed: u64,
    /// Threads for batch gradients [default: all cores]; results do not depend on it.
    #[arg(long, value_name = "N", value_parser = flag::threads)]
    pub threads: Option<usize>,
    /// Fit no intercept.
    #[arg(long)]
    pub no_intercept: bool,
    /// Standardize dense features (mean 0, variance 1, fitted on the training data and saved
    /// with the model).
    #[arg(long)]
    pub standardize: bool,
    /// Hogwild: lock-free parallel SGD over --threads threads (linear models, --method sgd).
    /// NOT deterministic: results change from run to run. Faster only where samples rarely
    /// share features; where most rows hold the same frequent features, threads trade their
    /// weights' cache lines and can be slower than serial SGD (measure first).
    #[arg(long)]
    pub hogwild: bool,
    /// Stream the data from disk, one pass per epoch, in bounded memory (sgd and
    /// minibatch:B; LibSVM or CSV).
    #[arg(long)]
    pub stream: bool,
    /// With --stream: rows in the shuffle buffer.
    #[arg(long, value_name = "N", default_value_t = 10_000, value_parser = flag::count::<usize>)]
    pub buffer: usize,
    /// Write the trajectory as CSV.
    #[arg(long, value_name = "PATH")]
    pub trace: Option<PathBuf>,
    /// Trace every N updates [default: ten rows per epoch].
    #[arg(long, value_name = "N", value_parser = flag::count::<u64>)]
    pub trace_every: Option<u64>,
    /// Save the trained model as JSON.
    #[arg(long, value_name = "PATH")]
    pub save: Option<PathBuf>,
    /// Print one JSON object with the results on stdout.
    #[arg(long)]
    pub json: bool,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Write a checkpoint to PATH during training (see --checkpoint-every) and when
    /// interrupted; `descent train --resume PATH` continues the run bit for bit.
    #[arg(long, value_name = "PATH")]
    pub checkpoint: Option<PathBuf>,
    /// How often to checkpoint: every N updates, or a duration such as 30s, 10m, 1h
    /// [default: 10m].
    #[arg(long, value_name = "N|DURATION", value_parser = checked::<Every>)]
    pub checkpoint_every: Option<Every>,
    /// Continue the run saved in this checkpoint, with the flags it was started with (only
    /// --epochs, --lr, --threads, --on-divergence, --checkpoint-every, --quiet, --json and
    /// --force may be given again, to change them).
    #[arg(long, value_name = "PATH")]
    pub resume: Option<PathBuf>,
    /// When the loss becomes NaN/infinite or explodes (10⁸ times the starting loss): stop
    /// with an error, or go back to the last good state and halve the learning rate.
    #[arg(long, value_name = "RULE", default_value = "stop", value_parser = checked::<OnDivergence>)]
    pub on_divergence: OnDivergence,
    /// Where gradients are summed: local (this process: serial, or --threads threads) or
    /// mpi (data-parallel over the processes `mpirun` starts; needs a build with
    /// `--features mpi`). With mpi, --data FILE is read by every process and row i goes to
    /// rank i mod size; --data 'train.{rank}.svm' reads one file per rank.
    #[arg(long, value_name = "ENGINE", default_value = "local", value_parser = ["local", "mpi"])]
    pub engine: String,
    /// With --engine mpi: local SGD, every process training on its own shard and the
    /// processes averaging their models every K updates (another algorithm than
    /// synchronous SGD: K times less communication).
    #[arg(long, value_name = "K", value_parser = flag::count::<u64>)]
    pub average_every: Option<u64>,
    /// Leave the wall-clock `seconds` column out of the trace (equal runs then give
    /// byte-identical traces).
    #[arg(long)]
    pub no_trace_time: bool,
    /// Replace existing outputs (without it, descent refuses to overwrite anything).
    #[arg(long)]
    pub force: bool,
}

/// `descent gen`.
#[derive(Debug, Args)]
pub struct GenArgs {
    /// What to generate: sparse (RCV1-like), dense-classification, dense-regression, or a
    /// landscape problem's training sample: sine or line (one feature x, target y).
    #[arg(value_name = "KIND")]
    pub kind: String,
    /// Rows.
    #[arg(long, value_name = "N", value_parser = flag::count::<usize>)]
    pub rows: usize,
    /// Features [default: 47152 for sparse (as RCV1), 20 for dense].
    #[arg(long, value_name = "D", value_parser = flag::count::<usize>)]
    pub features: Option<usize>,
    /// Sparse: mean nonzeros per row.
    #[arg(long, value_name = "K", default_value_t = 76, value_parser = flag::count::<usize>)]
    pub nnz: usize,
    /// Label noise: flip probability (sparse, default 0.05) or residual standard deviation
    /// (regression, default 0.5).
    #[arg(long, value_name = "F", value_parser = flag::non_negative)]
    pub noise: Option<f64>,
    /// Seed: the same seed gives the same file.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = flag::whole::<u64>)]
    pub seed: u64,
    /// sine and line: the selection bias of the sample (0: fair).
    #[arg(
        long,
        value_name = "F",
        default_value_t = 0.0,
        allow_hyphen_values = true,
        value_parser = flag::finite
    )]
    pub bias: f64,
    /// Output: `.csv` writes CSV, `.descent` a binary cache folder, anything else LibSVM.
    #[arg(long, value_name = "PATH")]
    pub out: PathBuf,
    /// Output format: csv, libsvm or cache [default: from the extension].
    #[arg(long, value_name = "FORMAT", value_parser = checked::<Format>)]
    pub format: Option<Format>,
    /// Replace existing outputs (without it, descent refuses to overwrite anything).
    #[arg(long)]
    pub force: bool,
}

/// `descent bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Dense rows (features: --dense-features).
    #[arg(long, value_name = "N", default_value_t = 200_000, value_parser = flag::count::<usize>)]
    pub dense_rows: usize,
    /// Dense features.
    #[arg(long, value_name = "D", default_value_t = 256, value_parser = flag::count::<usize>)]
    pub dense_features: usize,
    /// Sparse (RCV1-like) rows; 0 skips the sparse measurements.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = flag::whole::<usize>)]
    pub sparse_rows: usize,
    /// Seconds spent on each measurement.
    #[arg(long, value_name = "S", default_value_t = 0.5, value_parser = flag::positive)]
    pub budget: f64,
    /// Print one JSON object instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// `descent demo`.
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Output folder for index.html, the figures and results.json.
    #[arg(long, value_name = "DIR", default_value = "descent-report")]
    pub out: PathBuf,
    /// Smaller data, budgets and seed counts (about 5 seconds on 2 cores instead of about 70;
    /// its verdicts are a smoke test, not evidence).
    #[arg(long)]
    pub quick: bool,
    /// The base seed of every experiment.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = flag::whole::<u64>)]
    pub seed: u64,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Replace existing outputs (without it, descent refuses to overwrite anything).
    #[arg(long)]
    pub force: bool,
}

/// `descent compare`.
#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub setup: ModelDataArgs,
    /// Methods, each optionally with its rate (METHOD@LR).
    #[arg(long, value_name = "LIST", default_value = "batch,sgd,minibatch:32")]
    pub methods: String,
    /// The rate η₁ for single-sample steps; methods without @LR use η₁·√(batch size).
    #[arg(long, value_name = "F", default_value_t = 0.01, value_parser = flag::positive)]
    pub lr: f64,
    /// Methods without @LR get their rate from the rule the demo uses: the lowest median
    /// validation loss on a held-out fifth of the training data, after the run's own budget
    /// (instead of η₁·√(batch size)).
    #[arg(long)]
    pub tune: bool,
    /// Epochs for every method (the same number of sample gradients).
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = flag::count::<u64>)]
    pub epochs: u64,
    /// Seeds per method (the stochastic methods' samplers).
    #[arg(long, value_name = "K", default_value_t = 3, value_parser = flag::count::<u64>)]
    pub seeds: u64,
    /// L2 strength λ.
    #[arg(long, value_name = "F", default_value_t = 0.0, value_parser = flag::non_negative)]
    pub l2: f64,
    /// Standardize dense features.
    #[arg(long)]
    pub standardize: bool,
    /// Threads for batch gradients [default: all cores].
    #[arg(long, value_name = "N", value_parser = flag::threads)]
    pub threads: Option<usize>,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "comparison")]
    pub out: PathBuf,
    /// Print comparison.json on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Replace existing outputs (without it, descent refuses to overwrite anything).
    #[arg(long)]
    pub force: bool,
}

/// `descent landscape`.
#[derive(Debug, Args)]
pub struct LandscapeArgs {
    /// The built-in problem: sine (non-convex, two valleys) or line (convex).
    #[arg(long, default_value = "sine")]
    pub problem: String,
    /// Your own training data instead of a built-in problem (with --test and --model; the
    /// model must have exactly two parameters).
    #[arg(long, value_name = "PATH", requires = "test")]
    pub data: Option<PathBuf>,
    /// With --data: held-out data, whose loss stands in for the population loss.
    #[arg(long, value_name = "PATH")]
    pub test: Option<PathBuf>,
    /// With --data: the model.
    #[arg(long, value_name = "MODEL", value_parser = checked::<ModelKind>, default_value = "least-squares")]
    pub model: ModelKind,
    /// With --data: fit no intercept (two features, two weights).
    #[arg(long)]
    pub no_intercept: bool,
    /// With --data: standardize the features.
    #[arg(long)]
    pub standardize: bool,
    #[command(flatten)]
    pub how: ReadArgs,
    /// Selection bias of the training sample (0: a fair sample of the population; larger
    /// values over-sample large x).
    #[arg(long, value_name = "F", default_value_t = 3.0, value_parser = flag::finite)]
    pub bias: f64,
    /// Training samples M.
    #[arg(long, value_name = "M", default_value_t = 200, value_parser = flag::count::<usize>)]
    pub rows: usize,
    /// Methods to run from the same start, each optionally with its rate (METHOD@LR).
    #[arg(long, value_name = "LIST", default_value = "batch,sgd,minibatch:8")]
    pub methods: String,
    /// The rate η₁ for single-sample steps; methods without @LR use η₁·√(batch size).
    #[arg(long, value_name = "F", default_value_t = 0.02, value_parser = flag::positive)]
    pub lr: f64,
    /// Methods without @LR get their rate from the rule the demo uses: the lowest median
    /// validation loss on a held-out fifth of the training data, after the run's own budget
    /// (instead of η₁·√(batch size)).
    #[arg(long)]
    pub tune: bool,
    /// Epochs for every method (equal budgets of sample gradients).
    #[arg(long, value_name = "N", default_value_t = 30, value_parser = flag::count::<u64>)]
    pub epochs: u64,
    /// Starting point "a,b" [default: the problem's].
    #[arg(long, value_name = "A,B", allow_hyphen_values = true)]
    pub start: Option<String>,
    /// Seed of the training sample and of the stochastic methods.
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = flag::whole::<u64>)]
    pub seed: u64,
    /// Grid points per side.
    #[arg(long, value_name = "N", default_value_t = 121, value_parser = flag::grid)]
    pub grid: usize,
    /// Basins study: run every method from N starts (a lattice over the window)...
    #[arg(long, value_name = "N", value_parser = flag::count::<usize>)]
    pub starts: Option<usize>,
    /// ...with K seeds each.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = flag::count::<u64>)]
    pub seeds: u64,
    /// Output folder.
    #[arg(long, value_name = "DIR", default_value = "landscape")]
    pub out: PathBuf,
    /// Replace existing outputs (without it, descent refuses to overwrite anything).
    #[arg(long)]
    pub force: bool,
}

/// `descent convert`.
#[derive(Debug, Args)]
pub struct ConvertArgs {
    /// The input file (CSV, LibSVM or NumPy with --labels).
    #[arg(value_name = "IN")]
    pub input: PathBuf,
    /// The cache folder to create.
    #[arg(value_name = "OUT")]
    pub output: PathBuf,
    #[command(flatten)]
    pub how: ReadArgs,
    /// LibSVM: number of features [default: the largest index in the file].
    #[arg(long, value_name = "N", value_parser = flag::count::<usize>)]
    pub features: Option<usize>,
    /// Replace existing outputs (without it, descent refuses to overwrite anything).
    #[arg(long)]
    pub force: bool,
}

/// `descent inspect`.
#[derive(Debug, Args)]
pub struct InspectArgs {
    #[command(flatten)]
    pub input: DataArgs,
    /// LibSVM: number of features [default: the largest index in the file].
    #[arg(long, value_name = "N", value_parser = flag::count::<usize>)]
    pub features: Option<usize>,
    /// Print one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// `descent predict`.
#[derive(Debug, Args)]
pub struct PredictArgs {
    /// A model saved by `descent train --save`.
    #[arg(long, value_name = "PATH")]
    pub model: PathBuf,
    #[command(flatten)]
    pub input: DataArgs,
    /// Print metrics (loss, accuracy or MSE and R²) as JSON instead of predictions.
    #[arg(long)]
    pub json: bool,
}

/// Parses a flag with the library's `FromStr`, keeping only the allowed values as clap's
/// message (clap already names the flag and the value).
fn checked<T: std::str::FromStr<Err = descent::Error>>(text: &str) -> Result<T, String> {
    text.parse().map_err(|e| match e {
        descent::Error::Config { allowed, .. } => crate::explain::flags(&allowed),
        other => crate::explain::describe(&other),
    })
}
