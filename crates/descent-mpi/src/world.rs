//! The MPI world: initialization, collectives on numbers and messages, the allreduce engine
//! and model averaging.

use descent::engine::{BlockFn, Engine};
use descent::train::Consensus;
use mpi::collective::SystemOperation;
use mpi::environment::Universe;
use mpi::topology::SimpleCommunicator;
use mpi::traits::*;

/// Bytes of a rank's error message exchanged when a rank fails to start (longer messages
/// are cut).
const MESSAGE_BYTES: usize = 1024;

/// The communicator, callable from the training loop's thread only.
struct World(SimpleCommunicator);

// SAFETY: MPI is initialized with `Threading::Funneled` and every MPI call descent makes
// comes from the thread that runs the training loop (the thread that initialized MPI): the
// engine's worker threads compute local blocks and never touch the communicator. The marker
// traits are needed because `Engine` is `Send + Sync` for its thread-parallel
// implementations.
unsafe impl Send for World {}
// SAFETY: as above.
unsafe impl Sync for World {}

/// An initialized MPI environment (finalized when dropped).
pub struct Mpi {
    world: World,
    _universe: Universe,
}

impl Mpi {
    /// Initializes MPI (also outside `mpirun`: then one process of rank 0).
    pub fn init() -> Result<Mpi, String> {
        let (universe, _threading) = mpi::initialize_with_threading(mpi::Threading::Funneled)
            .ok_or_else(|| "MPI is already initialized or could not be started".to_string())?;
        Ok(Mpi {
            world: World(universe.world()),
            _universe: universe,
        })
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.world.0.rank() as usize
    }

    /// Number of processes.
    pub fn size(&self) -> usize {
        self.world.0.size() as usize
    }

    /// Every process's `value`, in rank order.
    pub fn all_gather(&self, value: u64) -> Vec<u64> {
        let mut all = vec![0u64; self.size()];
        self.world.0.all_gather_into(&value, &mut all[..]);
        all
    }

    /// `values` summed over all processes, in place.
    pub fn sum(&self, values: &mut [f64]) {
        let local = values.to_vec();
        self.world
            .0
            .all_reduce_into(&local[..], values, SystemOperation::sum());
    }

    /// Each process's outcome of a step every process takes (such as loading its shard):
    /// `Ok` on every process if all succeeded, else, on every process, the failures as
    /// `rank r: message` lines. Collective: every process must call it.
    pub fn agree<T>(&self, outcome: Result<T, String>) -> Result<T, String> {
        let mut mine = [0u8; MESSAGE_BYTES];
        if let Err(message) = &outcome {
            let text = if message.is_empty() {
                "failed"
            } else {
                message
            };
            let mut cut = text.len().min(MESSAGE_BYTES);
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            mine[..cut].copy_from_slice(&text.as_bytes()[..cut]);
        }
        let mut all = vec![0u8; MESSAGE_BYTES * self.size()];
        self.world.0.all_gather_into(&mine[..], &mut all[..]);
        let failures: Vec<String> = all
            .chunks(MESSAGE_BYTES)
            .enumerate()
            .filter(|(_, m)| m[0] != 0)
            .map(|(rank, m)| {
                let end = m.iter().position(|&b| b == 0).unwrap_or(m.len());
                format!("rank {rank}: {}", String::from_utf8_lossy(&m[..end]))
            })
            .collect();
        match (outcome, failures.is_empty()) {
            (Ok(value), true) => Ok(value),
            _ => Err(failures.join("\n")),
        }
    }

    /// Waits until every process has come here.
    pub fn barrier(&self) {
        self.world.0.barrier();
    }

    /// Ends every process of the job with `code` (after an error on one of them, so that
    /// none waits forever in a collective).
    pub fn abort(&self, code: i32) -> ! {
        self.world.0.abort(code)
    }

    /// The engine that computes local sums with `inner` and adds them across processes.
    pub fn engine(&self, inner: Box<dyn Engine>) -> AllReduce<'_> {
        AllReduce { mpi: self, inner }
    }
}

/// An engine over MPI: each process sums its own rows with a local engine (serial or
/// threads, in fixed blocks), then allreduce adds the processes' sums. Collective: every
/// process calls it at the same points of the run (they do: the loop is the same on all).
pub struct AllReduce<'a> {
    mpi: &'a Mpi,
    inner: Box<dyn Engine>,
}

impl Engine for AllReduce<'_> {
    fn name(&self) -> String {
        format!("mpi({} ranks × {})", self.mpi.size(), self.inner.name())
    }

    fn block_sum(&self, n: usize, width: usize, f: &BlockFn<'_>, out: &mut [f64]) {
        if n == 0 {
            out[..width].iter_mut().for_each(|v| *v = 0.0);
        } else {
            self.inner.block_sum(n, width, f, out);
        }
        self.mpi.sum(&mut out[..width]);
    }
}

/// Local SGD: each process trains on its own shard; every K updates the parameters are
/// replaced by their mean over the processes (one allreduce of the parameters).
pub struct ModelAverage<'a> {
    mpi: &'a Mpi,
    every: u64,
}

impl<'a> ModelAverage<'a> {
    /// Averaging every `every` updates.
    pub fn new(mpi: &'a Mpi, every: u64) -> Self {
        ModelAverage { mpi, every }
    }
}

impl Consensus for ModelAverage<'_> {
    fn every(&self) -> u64 {
        self.every
    }

    fn average(&self, theta: &mut [f64]) -> descent::Result<()> {
        self.mpi.sum(theta);
        let p = self.mpi.size() as f64;
        theta.iter_mut().for_each(|t| *t /= p);
        Ok(())
    }
}

/// The MPI job as `descent::fit` sees it.
impl descent::fit::Cluster for Mpi {
    fn rank(&self) -> usize {
        Mpi::rank(self)
    }

    fn size(&self) -> usize {
        Mpi::size(self)
    }

    fn all_gather(&self, value: u64) -> Vec<u64> {
        Mpi::all_gather(self, value)
    }

    fn agree(&self, outcome: Result<(), String>) -> Result<(), String> {
        Mpi::agree(self, outcome)
    }

    fn engine<'c>(&'c self, local: Box<dyn Engine>) -> Box<dyn Engine + 'c> {
        Box::new(Mpi::engine(self, local))
    }

    fn consensus<'c>(&'c self, every: u64) -> Box<dyn Consensus + 'c> {
        Box::new(ModelAverage::new(self, every))
    }
}
