//! The regimes are one loop: `minibatch:M` is `batch`, samplers visit what they promise, and
//! the same seed gives the same run.

mod common;

use common::{assert_bits, dense_data};
use descent::objective::ModelKind;
use descent::prelude::*;
use descent::regime::Sampler;
use rand::SeedableRng;

fn run(data: &Dataset, kind: ModelKind, regime: Regime, sampling: Sampling, seed: u64) -> Outcome {
    let classes = if kind == ModelKind::Softmax { 3 } else { 2 };
    let objective = kind.build(data.dim(), classes, true, 0.05);
    Trainer::new(objective.as_ref(), data)
        .regime(regime)
        .sampling(sampling)
        .schedule(Schedule::Constant { eta0: 0.3 })
        .epochs(4)
        .seed(seed)
        .run(&mut [])
        .unwrap()
}

#[test]
fn minibatch_of_all_samples_equals_batch_exactly() {
    let data = dense_data(301, 5, 31, |x| f64::from(x[0] * 3.0 - x[4]));
    for sampling in [Sampling::Shuffle, Sampling::Cyclic] {
        for kind in [ModelKind::LeastSquares, ModelKind::Hinge] {
            let mut data = data.clone();
            if kind == ModelKind::Hinge {
                data.map_targets(|y| Ok(if y > 0.0 { 1.0 } else { -1.0 }))
                    .unwrap();
            }
            let batch = run(&data, kind, Regime::Batch, sampling, 5);
            let mini = run(&data, kind, Regime::MiniBatch(301), sampling, 5);
            let bigger = run(&data, kind, Regime::MiniBatch(10_000), sampling, 6);
            assert_bits(
                &format!("{kind:?} minibatch:M vs batch"),
                &mini.theta,
                &batch.theta,
            );
            assert_bits(
                &format!("{kind:?} minibatch:10000 vs batch"),
                &bigger.theta,
                &batch.theta,
            );
            assert_eq!(batch.updates, 4);
            assert_eq!(batch.sample_gradients, 4 * 301);
        }
    }
}

#[test]
fn same_seed_same_bits_and_another_seed_another_path() {
    let data = dense_data(200, 4, 32, |x| f64::from(x[0] + x[1]));
    for regime in [Regime::Sgd, Regime::MiniBatch(7)] {
        for sampling in [Sampling::Shuffle, Sampling::Replacement] {
            let a = run(&data, ModelKind::LeastSquares, regime, sampling, 1);
            let b = run(&data, ModelKind::LeastSquares, regime, sampling, 1);
            let c = run(&data, ModelKind::LeastSquares, regime, sampling, 2);
            assert_bits(&format!("{regime} {sampling} twice"), &a.theta, &b.theta);
            assert_ne!(
                a.theta, c.theta,
                "{regime} {sampling}: seeds 1 and 2 gave one path"
            );
        }
    }
    // Cyclic order draws nothing: the seed does not matter.
    let a = run(
        &data,
        ModelKind::LeastSquares,
        Regime::Sgd,
        Sampling::Cyclic,
        1,
    );
    let b = run(
        &data,
        ModelKind::LeastSquares,
        Regime::Sgd,
        Sampling::Cyclic,
        2,
    );
    assert_bits("cyclic with two seeds", &a.theta, &b.theta);
}

#[test]
fn regimes_make_the_promised_number_of_updates() {
    let data = dense_data(103, 3, 33, |x| f64::from(x[2]));
    for (regime, per_epoch) in [
        (Regime::Batch, 1),
        (Regime::MiniBatch(10), 11),
        (Regime::MiniBatch(103), 1),
        (Regime::Sgd, 103),
    ] {
        let outcome = run(&data, ModelKind::LeastSquares, regime, Sampling::Shuffle, 3);
        assert_eq!(outcome.updates, 4 * per_epoch, "{regime}");
        assert_eq!(outcome.sample_gradients, 4 * 103, "{regime}");
        assert!((outcome.epochs - 4.0).abs() < 1e-12);
    }
}

#[test]
fn samplers_visit_what_they_promise() {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(4);
    let m = 50;
    let mut cyclic = Sampler::new(Regime::MiniBatch(8), Sampling::Cyclic, m);
    let order: Vec<usize> = cyclic.epoch(&mut rng).flatten().copied().collect();
    assert_eq!(order, (0..m).collect::<Vec<_>>());

    let mut shuffle = Sampler::new(Regime::MiniBatch(8), Sampling::Shuffle, m);
    let first: Vec<Vec<usize>> = shuffle.epoch(&mut rng).map(<[usize]>::to_vec).collect();
    let second: Vec<Vec<usize>> = shuffle.epoch(&mut rng).map(<[usize]>::to_vec).collect();
    for epoch in [&first, &second] {
        assert_eq!(epoch.len(), 7);
        assert!(
            epoch.iter().all(|b| b.windows(2).all(|w| w[0] < w[1])),
            "batches sorted"
        );
        let mut all: Vec<usize> = epoch.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..m).collect::<Vec<_>>(), "a permutation");
    }
    assert_ne!(first, second, "a fresh permutation each epoch");

    let mut replacement = Sampler::new(Regime::Sgd, Sampling::Replacement, m);
    let draws: Vec<usize> = (0..40)
        .flat_map(|_| {
            replacement
                .epoch(&mut rng)
                .flatten()
                .copied()
                .collect::<Vec<_>>()
        })
        .collect();
    assert_eq!(draws.len(), 40 * m);
    let mut counts = vec![0usize; m];
    draws.iter().for_each(|&i| counts[i] += 1);
    assert!(
        counts.iter().all(|&c| c > 0),
        "every sample drawn at some point"
    );
    let repeats = (0..40).any(|e| {
        let mut epoch = draws[e * m..(e + 1) * m].to_vec();
        epoch.sort_unstable();
        epoch.windows(2).any(|w| w[0] == w[1])
    });
    assert!(
        repeats,
        "draws with replacement repeat samples within an epoch"
    );
}

#[test]
fn what_comes_after_a_batch_is_the_rest_of_the_epoch() {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    for regime in [Regime::Sgd, Regime::MiniBatch(4)] {
        let m = 23;
        let mut sampler = Sampler::new(regime, Sampling::Shuffle, m);
        sampler.draw(&mut rng);
        let batches: Vec<Vec<usize>> = (0..)
            .map_while(|k| sampler.batch(k).map(<[usize]>::to_vec))
            .collect();
        for k in 0..batches.len() + 2 {
            let rest: Vec<usize> = batches.iter().skip(k + 1).flatten().copied().collect();
            assert_eq!(sampler.after(k), &rest[..], "{regime} after batch {k}");
        }
    }
    let mut huge = Sampler::new(Regime::Sgd, Sampling::Cyclic, 3);
    huge.draw(&mut rng);
    assert!(huge.after(usize::MAX).is_empty());
}
