#!/usr/bin/env python3
"""Cost model of synchronous data-parallel gradient descent over p processes.

One step on a batch of B samples (B = M: full batch) costs each process

    compute:    B / p samples, t_row seconds each (t_row = bytes per row / memory bandwidth
                for dense rows; nonzeros per row x seconds per nonzero for sparse rows)
    allreduce:  2 log2(p) alpha + 2 (p - 1)/p (d + 1) 8 bytes / beta
                (Rabenseifner's reduce-scatter + allgather: the bandwidth term of a ring, the
                latency term of recursive halving; d + 1 float64 sums: gradient and loss)

so T(p) = B t_row / p + T_allreduce(p), the speed-up is T(1) / T(p) and the efficiency is
speed-up / p. Synchronous SGD stops scaling (efficiency below 50%) once the per-process
compute drops to the allreduce time: B* = p T_allreduce(p) / t_row.

Usage: benches/mpi_model.py [DENSE_BYTES_PER_S] [SPARSE_NNZ_PER_S]
(defaults: the single-thread rates measured by benches/mpi_scaling.sh on this machine).
"""
import math
import sys

dense_bandwidth = float(sys.argv[1]) if len(sys.argv) > 1 else 9.85e9  # bytes/s per process
sparse_rate = float(sys.argv[2]) if len(sys.argv) > 2 else 0.476e9  # nonzeros/s per process
beta = 10e9 / 8  # 10 Gb/s network, bytes/s
alpha = 50e-6  # seconds per message (TCP over 10 GbE)

datasets = {
    # name: (rows M, features d, seconds per row)
    "RCV1-sized (781,265 x 47,152, 76 nonzeros/row)": (781_265, 47_152, 76 / sparse_rate),
    "epsilon-sized (400,000 x 2,000 dense float32)": (400_000, 2_000, 2_000 * 4 / dense_bandwidth),
}


def allreduce(p, d):
    if p == 1:
        return 0.0
    return 2 * math.log2(p) * alpha + 2 * (p - 1) / p * (d + 1) * 8 / beta


def efficiency(p, rows, d, t_row):
    compute = rows * t_row
    return compute / (p * (compute / p + allreduce(p, d)))


print(f"Assumptions: {dense_bandwidth/1e9:.1f} GB/s dense and {sparse_rate/1e9:.2f} G nonzeros/s sparse per process, "
      f"network {beta*8/1e9:.0f} Gb/s, {alpha*1e6:.0f} us per message.\n")
print("| data | p | full-batch step, 1 process | allreduce | full-batch efficiency | B* (sync SGD < 50%) | efficiency at B = 1,024 |")
print("| --- | --- | --- | --- | --- | --- | --- |")
for name, (m, d, t_row) in datasets.items():
    for p in (8, 64, 512):
        t_ar = allreduce(p, d)
        b_star = p * t_ar / t_row
        print(f"| {name} | {p} | {m*t_row*1e3:.0f} ms | {t_ar*1e3:.2f} ms | "
              f"{efficiency(p, m, d, t_row):.0%} | {b_star:,.0f} | {efficiency(p, 1024, d, t_row):.0%} |")
