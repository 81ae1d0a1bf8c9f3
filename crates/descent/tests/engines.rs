//! The determinism contract: threaded sums equal serial sums bit for bit, for every thread
//! count, and so does a whole training run.

mod common;

use common::{assert_bits, dense_data, random_theta, sparse_data};
use descent::engine::{batch_sums, block_rows, evaluate, Engine, Serial, Threads};
use descent::objective::{ModelKind, Objective};
use descent::prelude::*;

const THREADS: [usize; 4] = [1, 2, 3, 7];

/// The gradient and loss sums of `batch` by `engine`, into a buffer first filled with `fill`
/// (nonzero: the engine must clear it).
fn sums(
    engine: &dyn Engine,
    objective: &dyn Objective,
    data: &Dataset,
    theta: &[f64],
    batch: &[usize],
    fill: f64,
) -> Vec<f64> {
    let mut out = vec![fill; objective.dim() + 1];
    batch_sums(engine, objective, data, theta, batch, &mut out);
    out
}

#[test]
fn threaded_batch_gradients_equal_serial_bit_for_bit() {
    let m = 9 * block_rows(11) + 123; // ten blocks, the last one partial
                                      // Least squares on 10 features (the dot product's tail only) and logistic regression on 37
                                      // (two blocks of the 16 SIMD lanes, a tail, and losses four rows at a time).
    for (model, d) in [(ModelKind::LeastSquares, 10), (ModelKind::Logistic, 37)] {
        let data = dense_data(m, d, 21, |x| {
            let s = f64::from(x[0] - 2.0 * x[3]) + 0.5;
            match model {
                ModelKind::Logistic if s > 0.0 => 1.0,
                ModelKind::Logistic => -1.0,
                _ => s,
            }
        });
        let objective = model.build(d, 2, true, 0.1);
        let theta = random_theta(d + 1, 1.0, 3);
        let batch: Vec<usize> = (0..m).collect();
        let serial = sums(&Serial, objective.as_ref(), &data, &theta, &batch, 0.0);
        for threads in THREADS {
            let engine = Threads::new(threads).unwrap();
            let parallel = sums(&engine, objective.as_ref(), &data, &theta, &batch, 1.0);
            assert_bits(&format!("{model:?}, {threads} threads"), &parallel, &serial);
        }
    }
}

#[test]
fn threaded_sparse_softmax_gradients_and_evaluation_equal_serial() {
    let d = 30;
    let m = 5 * block_rows(4 * d + 4 + 1) + 7;
    let data = sparse_data(m, d, 0.2, 22, |idx, _| (idx.len() % 4) as f64);
    let objective = ModelKind::Softmax.build(d, 4, true, 0.01);
    let theta = random_theta(objective.dim(), 0.5, 4);
    let batch: Vec<usize> = (0..m).rev().step_by(2).collect();
    let serial = sums(&Serial, objective.as_ref(), &data, &theta, &batch, 0.0);
    let reference = evaluate(&Serial, objective.as_ref(), &data, &theta);
    for threads in THREADS {
        let engine = Threads::new(threads).unwrap();
        let parallel = sums(&engine, objective.as_ref(), &data, &theta, &batch, 0.0);
        assert_bits(&format!("{threads} threads"), &parallel, &serial);
        let e = evaluate(&engine, objective.as_ref(), &data, &theta);
        assert_eq!(
            e.loss.to_bits(),
            reference.loss.to_bits(),
            "{threads} threads"
        );
        assert_eq!(e.accuracy, reference.accuracy);
    }
}

#[test]
fn threaded_training_runs_equal_serial_bit_for_bit() {
    let m = 3 * block_rows(9) + 11;
    let data = dense_data(m, 8, 23, |x| if x[1] + x[2] > 0.1 { 1.0 } else { -1.0 });
    let objective = ModelKind::Logistic.build(8, 2, true, 0.01);
    let run = |engine: &dyn Engine, regime: Regime| {
        Trainer::new(objective.as_ref(), &data)
            .engine(engine)
            .regime(regime)
            .schedule(Schedule::Constant { eta0: 0.5 })
            .optimizer(Chain::new().then(Momentum::new(0.5, true)))
            .epochs(3)
            .seed(9)
            .run(&mut [])
            .unwrap()
            .theta
    };
    for regime in [Regime::Batch, Regime::MiniBatch(5000)] {
        let serial = run(&Serial, regime);
        for threads in THREADS {
            let parallel = run(&Threads::new(threads).unwrap(), regime);
            assert_bits(
                &format!("{regime} on {threads} threads"),
                &parallel,
                &serial,
            );
        }
    }
}

#[test]
fn one_threads_engine_sums_blocks_of_changing_widths_as_serial_does() {
    // The engine keeps its blocks' buffers between calls: a wide sum after a narrow one (and
    // fewer blocks after more) must start from clean partial sums every time.
    let term = |i: usize, j: usize| ((i * 31 + j * 7) % 13) as f64 * 0.1 + 1e-3 * i as f64;
    let f = |rows: std::ops::Range<usize>, out: &mut [f64]| {
        for i in rows {
            for (j, o) in out.iter_mut().enumerate() {
                *o += term(i, j);
            }
        }
    };
    let engine = Threads::new(2).unwrap();
    for (n, width) in [
        (5 * block_rows(10) + 7, 10),
        (3 * block_rows(40_000) - 1, 40_000),
        (2 * block_rows(10) + 1, 10),
        (4 * block_rows(20_000), 20_000),
        (block_rows(10) + 1, 10),
    ] {
        let mut serial = vec![0.0; width];
        Serial.block_sum(n, width, &f, &mut serial);
        let mut threaded = vec![f64::NAN; width];
        engine.block_sum(n, width, &f, &mut threaded);
        assert_bits(&format!("{n} rows, width {width}"), &threaded, &serial);
    }
}
