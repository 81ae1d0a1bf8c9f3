//! Data-parallel training: each process holds a shard of the rows and computes its part of
//! every batch; an engine that adds sums across processes (MPI's allreduce, in
//! `descent-mpi`) turns the parts into the whole batch's gradient.
//!
//! Every process draws the same global sample stream (the same seeded [`Sampler`] over all M
//! rows), so the batches are exactly those of one process training on all the data: a
//! process computes the rows of each global batch that it owns (|B|/p of them on average),
//! and [`Batch::size`] is the global batch's size, by which the loop divides the summed
//! gradient. The iterates therefore equal one process's to rounding (the sums are added in
//! another order). [`ShardEval`] evaluates f(θ) the same way: local sums, added across
//! processes by the engine, divided by M.

use crate::batches::{Batch, Batches, Rng};
use crate::data::Dataset;
use crate::engine::{evaluate_sums, finish_evaluation, Engine, Evaluate, Evaluation};
use crate::objective::Objective;
use crate::regime::{Regime, Sampler, Sampling};
use crate::{Error, Result};

/// Which global rows a process owns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ownership {
    /// Rows i with i mod `ranks` = `rank` (one file read by every process).
    Interleaved {
        /// This process.
        rank: usize,
        /// Processes.
        ranks: usize,
    },
    /// Consecutive blocks: process r owns rows `starts[r]..starts[r + 1]` (a file per
    /// process, concatenated in rank order).
    Blocks {
        /// This process.
        rank: usize,
        /// Where each process's block starts, and M at the end (`ranks + 1` entries).
        starts: Vec<usize>,
    },
}

impl Ownership {
    /// The block layout of shards with `rows[r]` rows each.
    pub fn blocks(rank: usize, rows: &[usize]) -> Self {
        let mut starts = vec![0];
        for &n in rows {
            starts.push(starts.last().copied().unwrap_or(0) + n);
        }
        Ownership::Blocks { rank, starts }
    }

    /// The local index of global row `i`, if this process owns it.
    pub fn local(&self, i: usize) -> Option<usize> {
        match self {
            Ownership::Interleaved { rank, ranks } => (i % ranks == *rank).then(|| i / ranks),
            Ownership::Blocks { rank, starts } => {
                (starts[*rank] <= i && i < starts[rank + 1]).then(|| i - starts[*rank])
            }
        }
    }

    /// This process's rows of `data` (all M rows).
    pub fn take(&self, data: &Dataset) -> Dataset {
        let rows: Vec<usize> = (0..data.len())
            .filter(|&i| self.local(i).is_some())
            .collect();
        data.select(&rows)
    }

    /// Rows this process owns of M.
    pub fn owned(&self, m: usize) -> usize {
        match self {
            Ownership::Interleaved { rank, ranks } => m / ranks + usize::from(m % ranks > *rank),
            Ownership::Blocks { rank, starts } => starts[rank + 1] - starts[*rank],
        }
    }
}

/// This process's part of a global sample stream.
pub struct Shard<'a> {
    data: &'a Dataset,
    samples: usize,
    ownership: Ownership,
    regime: Regime,
    sampler: Sampler,
    next: usize,
    rows: Vec<usize>,
}

impl<'a> Shard<'a> {
    /// The shard `data` (this process's rows, in global order) of `samples` rows in all,
    /// batched for `regime` in the order of `sampling`.
    pub fn new(
        data: &'a Dataset,
        samples: usize,
        ownership: Ownership,
        regime: Regime,
        sampling: Sampling,
    ) -> Result<Self> {
        if ownership.owned(samples) != data.len() {
            return Err(Error::Shape {
                what: "rows of this process's shard".into(),
                expected: ownership.owned(samples).to_string(),
                found: data.len().to_string(),
            });
        }
        Ok(Shard {
            data,
            samples,
            ownership,
            regime,
            sampler: Sampler::new(regime, sampling, samples),
            next: 0,
            rows: Vec::new(),
        })
    }
}

impl Batches for Shard<'_> {
    fn samples(&self) -> usize {
        self.samples
    }

    fn dim(&self) -> usize {
        self.data.dim()
    }

    fn updates_per_epoch(&self) -> u64 {
        self.regime.updates_per_epoch(self.samples)
    }

    fn describe(&self) -> String {
        format!("a shard of {}", self.data.display_path().display())
    }

    fn sparse(&self) -> bool {
        self.data.is_sparse()
    }

    fn start_epoch(&mut self, rng: &mut Rng) -> Result<()> {
        self.sampler.draw(rng);
        self.next = 0;
        Ok(())
    }

    fn next_batch(&mut self, _rng: &mut Rng) -> Result<Option<Batch<'_>>> {
        let Some(global) = self.sampler.batch(self.next) else {
            return Ok(None);
        };
        self.next += 1;
        self.rows.clear();
        self.rows
            .extend(global.iter().filter_map(|&i| self.ownership.local(i)));
        Ok(Some(Batch {
            data: self.data,
            rows: &self.rows,
            size: global.len(),
            ahead: &[],
        }))
    }

    fn skip(&mut self, batches: u64, _rng: &mut Rng) -> Result<()> {
        self.next = self.next.saturating_add(batches as usize);
        Ok(())
    }
}

/// A shard evaluated as part of all M rows: its sums, added across processes by the engine,
/// over M.
pub struct ShardEval<'a> {
    /// This process's rows.
    pub data: &'a Dataset,
    /// Rows over every process (M).
    pub samples: usize,
}

impl Evaluate for ShardEval<'_> {
    fn evaluate(
        &self,
        engine: &dyn Engine,
        objective: &dyn Objective,
        theta: &[f64],
    ) -> Result<Evaluation> {
        let sums = evaluate_sums(engine, objective, self.data, theta);
        Ok(finish_evaluation(objective, theta, sums, self.samples))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    fn data(m: usize) -> Dataset {
        let values: Vec<f32> = (0..m).map(|i| i as f32).collect();
        Dataset::dense(1, values, (0..m).map(|i| i as f64).collect()).unwrap()
    }

    /// The global rows of each process's batches, merged, are one process's batches.
    #[test]
    fn the_shards_of_every_batch_make_up_the_global_batch() {
        let m = 103;
        let all = data(m);
        for ranks in 1..=4 {
            for regime in [Regime::Batch, Regime::MiniBatch(12), Regime::Sgd] {
                let layouts: Vec<Vec<Ownership>> = vec![
                    (0..ranks)
                        .map(|rank| Ownership::Interleaved { rank, ranks })
                        .collect(),
                    {
                        let sizes: Vec<usize> = (0..ranks)
                            .map(|r| m / ranks + usize::from(r < m % ranks))
                            .collect();
                        (0..ranks).map(|r| Ownership::blocks(r, &sizes)).collect()
                    },
                ];
                for owners in layouts {
                    let shards: Vec<Dataset> = owners.iter().map(|o| o.take(&all)).collect();
                    let mut one = Shard::new(
                        &all,
                        m,
                        Ownership::Interleaved { rank: 0, ranks: 1 },
                        regime,
                        Sampling::Shuffle,
                    )
                    .unwrap();
                    let mut parts: Vec<Shard<'_>> = owners
                        .iter()
                        .zip(&shards)
                        .map(|(o, d)| {
                            Shard::new(d, m, o.clone(), regime, Sampling::Shuffle).unwrap()
                        })
                        .collect();
                    let mut rngs: Vec<Rng> = (0..=ranks).map(|_| Rng::seed_from_u64(5)).collect();
                    for _epoch in 0..2 {
                        one.start_epoch(&mut rngs[ranks]).unwrap();
                        for (p, r) in parts.iter_mut().zip(rngs.iter_mut()) {
                            p.start_epoch(r).unwrap();
                        }
                        while let Some(b) = one.next_batch(&mut rngs[ranks]).unwrap() {
                            let want: Vec<f64> = b.rows.iter().map(|&i| b.data.target(i)).collect();
                            let mut got = Vec::new();
                            for (p, r) in parts.iter_mut().zip(rngs.iter_mut()) {
                                let part = p.next_batch(r).unwrap().unwrap();
                                assert_eq!(part.size, b.rows.len());
                                got.extend(part.rows.iter().map(|&i| part.data.target(i)));
                            }
                            got.sort_by(f64::total_cmp);
                            assert_eq!(got, want, "{ranks} ranks, {regime}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn a_shard_of_the_wrong_size_is_refused() {
        let d = data(10);
        let err = Shard::new(
            &d,
            25,
            Ownership::Interleaved { rank: 0, ranks: 2 },
            Regime::Batch,
            Sampling::Cyclic,
        );
        assert!(err.is_err());
    }
}
