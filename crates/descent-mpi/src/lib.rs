//! # descent-mpi
//!
//! Data-parallel training over MPI, on descent's one training loop: an engine whose sums
//! are added across processes with allreduce (`AllReduce`: synchronous full-batch and mini-batch
//! gradient descent, with `descent::shard` giving each process its part of every global
//! batch), and model averaging every K updates (`ModelAverage`, local SGD).
//!
//! Built only with the `mpi` feature (it needs a system MPI: Debian's `libopenmpi-dev
//! openmpi-bin libclang-dev`); without it the crate is empty.
//!
//! Cost model (documented in `docs/DISTRIBUTED.md`): a full-batch step costs M·d/p
//! multiply-adds per process plus an allreduce of d + 1 numbers (2·(d + 1)·(p − 1)/p words
//! per process with a ring algorithm).

#![deny(missing_docs)]

#[cfg(feature = "mpi")]
mod world;

#[cfg(feature = "mpi")]
pub use world::{AllReduce, ModelAverage, Mpi};

#[cfg(not(feature = "mpi"))]
/// Whether this build can train over MPI (the `mpi` feature).
pub const AVAILABLE: bool = false;

#[cfg(feature = "mpi")]
/// Whether this build can train over MPI (the `mpi` feature).
pub const AVAILABLE: bool = true;
