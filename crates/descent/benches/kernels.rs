//! Criterion benchmarks of the kernels behind every update: the dense dot product (alone and
//! with the row's squared norm, as dense SGD steps need) and axpy, four rows' margins with four
//! rows' gradient terms,
//! the sparse row kernels beside plain loops, a full-batch logistic gradient (serial and
//! threaded), O(nnz) SGD steps on sparse rows (with and without momentum), and the logistic loss's exp and log1p.
//! Run with `cargo bench -p descent`; results are summarized in BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use descent::data::synth::{generate, Kind, Spec};
use descent::engine::{batch_sums, Serial, Threads};
use descent::kernels;
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent::prelude::*;
use std::hint::black_box;

fn dense_kernels(c: &mut Criterion) {
    let x: Vec<f32> = (0..256).map(|i| (i % 17) as f32 * 0.1 - 0.8).collect();
    let w: Vec<f64> = (0..256).map(|i| (i % 13) as f64 * 0.01 - 0.06).collect();
    let mut group = c.benchmark_group("dense 256");
    group.throughput(Throughput::Bytes(256 * 4));
    group.bench_function("dot", |b| {
        b.iter(|| kernels::dot(black_box(&x), black_box(&w)))
    });
    group.bench_function("dot and squared norm, one pass", |b| {
        b.iter(|| kernels::dot_and_squared_norm(black_box(&x), black_box(&w)))
    });
    group.bench_function("dot, then squared norm", |b| {
        b.iter(|| {
            (
                kernels::dot(black_box(&x), black_box(&w)),
                kernels::squared_norm(black_box(&x)),
            )
        })
    });
    let mut out = w.clone();
    group.bench_function("axpy", |b| {
        b.iter(|| kernels::axpy(0.5, black_box(&x), &mut out))
    });
    group.finish();

    // Four rows' margins and the previous four rows' terms: the batch gradient's inner step,
    // as two passes and as dot4_add4 (one loop where the processor has AVX-512VL).
    let rows: Vec<Vec<f32>> = (0..8)
        .map(|r| {
            (0..256)
                .map(|i| ((i + 7 * r) % 17) as f32 * 0.1 - 0.8)
                .collect()
        })
        .collect();
    let new: [&[f32]; 4] = std::array::from_fn(|k| &rows[k][..]);
    let old: [&[f32]; 4] = std::array::from_fn(|k| &rows[4 + k][..]);
    let a = [0.25, -0.5, 0.125, 0.75];
    let mut group = c.benchmark_group("dense 256, four rows");
    group.throughput(Throughput::Bytes(4 * 256 * 4));
    group.bench_function("four dots, then axpy4", |b| {
        b.iter(|| {
            kernels::axpy4(a, black_box(old), &mut out);
            new.map(|x| kernels::dot(black_box(x), black_box(&w)))
        })
    });
    group.bench_function("dot4_add4", |b| {
        b.iter(|| {
            kernels::dot4_add4(
                black_box(new),
                &w,
                Some((a, black_box(old))),
                &mut out,
                [&[]; 4],
            )
        })
    });
    group.finish();
}

/// One RCV1-like sparse row (70 nonzeros over 47,152 features): descent's row kernels beside
/// plain loops in the same order (the dot product in four partial sums over groups of four,
/// as descent's portable build computes it; the update one nonzero at a time).
fn sparse_row_kernels(c: &mut Criterion) {
    use descent::data::{Entry, Row};
    let d = 47_152;
    let entries: Vec<Entry> = (0..70u32)
        .map(|k| Entry::new(k * k * 9 + k, (k % 11) as f32 * 0.07 - 0.3))
        .collect();
    let w: Vec<f64> = (0..d).map(|j| (j % 13) as f64 * 0.01 - 0.06).collect();
    let row = Row::Sparse(&entries);
    let mut group = c.benchmark_group("sparse row, 70 nonzeros");
    group.throughput(Throughput::Elements(entries.len() as u64));
    group.bench_function("dot", |b| b.iter(|| black_box(row).dot(black_box(&w))));
    group.bench_function("dot, plain loop", |b| {
        b.iter(|| {
            let chunks = black_box(&entries).chunks_exact(4);
            let term = |e: &Entry| f64::from(e.value) * w[e.index as usize];
            let tail: f64 = chunks.remainder().iter().map(term).sum();
            let mut acc = [0.0f64; 4];
            for c in chunks {
                for k in 0..4 {
                    acc[k] += term(&c[k]);
                }
            }
            (acc[0] + acc[1]) + (acc[2] + acc[3]) + tail
        })
    });
    group.bench_function("dot and squared norm", |b| {
        b.iter(|| black_box(row).dot_and_squared_norm(black_box(&w)))
    });
    group.bench_function("dot and squared norm, plain loop", |b| {
        b.iter(|| {
            let chunks = black_box(&entries).chunks_exact(4);
            let rest = chunks.remainder();
            let dot_tail: f64 = rest
                .iter()
                .map(|e| f64::from(e.value) * w[e.index as usize])
                .sum();
            let sq_tail: f64 = rest.iter().map(|e| f64::from(e.value).powi(2)).sum();
            let (mut dot, mut sq) = ([0.0f64; 4], [0.0f64; 4]);
            for c in chunks {
                for k in 0..4 {
                    let x = f64::from(c[k].value);
                    dot[k] += x * w[c[k].index as usize];
                    sq[k] += x * x;
                }
            }
            (
                (dot[0] + dot[1]) + (dot[2] + dot[3]) + dot_tail,
                (sq[0] + sq[1]) + (sq[2] + sq[3]) + sq_tail,
            )
        })
    });
    let mut out = w.clone();
    group.bench_function("axpy", |b| {
        b.iter(|| black_box(row).axpy(black_box(1e-9), &mut out))
    });
    group.bench_function("axpy, plain loop", |b| {
        b.iter(|| {
            let a = black_box(1e-9);
            for e in black_box(&entries) {
                out[e.index as usize] += a * f64::from(e.value);
            }
        })
    });
    group.finish();
}

fn batch_gradient(c: &mut Criterion) {
    let spec = Spec {
        kind: Kind::DenseClassification,
        rows: 20_000,
        features: 256,
        nnz: 0,
        noise: 0.0,
        seed: 1,
    };
    let mut data = generate(&spec).unwrap();
    LabelEncoding::fit(ModelKind::Logistic, &data)
        .unwrap()
        .encode(&mut data)
        .unwrap();
    let objective = ModelKind::Logistic.build(256, 2, true, 0.0);
    let theta = vec![0.01; 257];
    let batch: Vec<usize> = (0..data.len()).collect();
    let mut sums = vec![0.0; 258];
    let threads = Threads::new(2).unwrap();
    let mut group = c.benchmark_group("full-batch logistic gradient 20000x256");
    group.throughput(Throughput::Bytes((data.len() * 256 * 4) as u64));
    group.bench_function("serial", |b| {
        b.iter(|| {
            batch_sums(
                &Serial,
                objective.as_ref(),
                &data,
                &theta,
                &batch,
                &mut sums,
            )
        })
    });
    group.bench_function("2 threads", |b| {
        b.iter(|| {
            batch_sums(
                &threads,
                objective.as_ref(),
                &data,
                &theta,
                &batch,
                &mut sums,
            )
        })
    });
    group.finish();
}

fn sparse_sgd(c: &mut Criterion) {
    let spec = Spec {
        kind: Kind::Sparse,
        rows: 20_000,
        features: 47_152,
        nnz: 76,
        noise: 0.05,
        seed: 1,
    };
    let data = generate(&spec).unwrap();
    let objective = ModelKind::Logistic.build(data.dim(), 2, true, 1e-6);
    let mut group = c.benchmark_group("SGD epoch, 20000 RCV1-like rows");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.sample_size(10);
    // With momentum 0.9 at a tenth of the rate: the same effective step.
    for (name, fast, momentum, eta0) in [
        ("O(nnz) lazy scaling", true, 0.0, 0.1),
        ("generic O(d)", false, 0.0, 0.1),
        ("momentum 0.9, O(nnz) shared 2x2 matrix", true, 0.9, 0.01),
        ("momentum 0.9, generic O(d)", false, 0.9, 0.01),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let chain = if momentum > 0.0 {
                    Chain::new().then(Momentum::new(momentum, false))
                } else {
                    Chain::new()
                };
                Trainer::new(objective.as_ref(), &data)
                    .schedule(Schedule::Constant { eta0 })
                    .optimizer(chain)
                    .epochs(1)
                    .fast_paths(fast)
                    .run(&mut [])
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// The logistic loss and derivative of 4,096 margins: the standard library's exp and log1p
/// beside descent's own, one at a time and four at a time.
fn logistic_loss(c: &mut Criterion) {
    use descent::objective::softplus;
    let z: Vec<f64> = (0..4096).map(|i| (i as f64 - 2048.0) / 256.0).collect();
    let mut group = c.benchmark_group("logistic loss and derivative, 4096 margins");
    group.throughput(Throughput::Elements(z.len() as u64));
    group.bench_function("std exp and ln_1p", |b| {
        b.iter(|| {
            black_box(&z).iter().fold(0.0, |acc, &z| {
                let e = (-z.abs()).exp();
                let sigma = if z >= 0.0 { 1.0 } else { e } / (1.0 + e);
                acc + z.max(0.0) + e.ln_1p() + sigma
            })
        })
    });
    group.bench_function("softplus, one at a time", |b| {
        b.iter(|| {
            black_box(&z).iter().fold(0.0, |acc, &z| {
                let (loss, sigma) = softplus::logistic(z);
                acc + loss + sigma
            })
        })
    });
    group.bench_function("softplus, four at a time", |b| {
        b.iter(|| {
            black_box(&z).chunks_exact(4).fold(0.0, |acc, q| {
                let (loss, sigma) = softplus::logistic4([q[0], q[1], q[2], q[3]]);
                acc + loss.iter().sum::<f64>() + sigma.iter().sum::<f64>()
            })
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    dense_kernels,
    sparse_row_kernels,
    batch_gradient,
    sparse_sgd,
    logistic_loss
);
criterion_main!(benches);
