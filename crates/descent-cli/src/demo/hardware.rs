//! Experiment 3: hardware efficiency. Batch gradients split over threads; SGD cannot.

use super::{significant, Context, Finding, Numbers};
use anyhow::Result;
use descent::bench::{gradient_throughput, read_bandwidths};
use descent::data::synth::{generate, Kind, Spec};
use descent::engine::{Engine, Serial, Threads};
use descent::labels::LabelEncoding;
use descent::objective::ModelKind;
use descent_report::html::{Cell, Section, Table, Verdict};
use descent_report::{Curve, CurveFigure, PALETTE};
use serde_json::json;

/// Runs the experiment.
pub fn run(ctx: &Context, numbers: &mut Numbers) -> Result<Finding> {
    let array_bytes = ctx.size(256usize << 20, 32 << 20);
    let [bw1, bwn] = read_bandwidths(array_bytes, ctx.threads, 3)?;
    let rows = ctx.size(200_000, 30_000);
    let d = 64;
    let mut data = generate(&Spec {
        kind: Kind::DenseClassification,
        rows,
        features: d,
        nnz: 0,
        noise: 0.0,
        seed: ctx.seed,
    })?;
    LabelEncoding::fit(ModelKind::Logistic, &data)?.encode(&mut data)?;
    let objective = ModelKind::Logistic.build(d, 2, true, 0.0);
    let many = Threads::new(ctx.threads)?;
    let engines: [(&str, &dyn Engine, f64); 2] =
        [("1 thread", &Serial, bw1), ("all threads", &many, bwn)];
    let sizes = [1usize, 8, 64, 512, 4096, rows];
    let mut table_rows = Vec::new();
    let mut curves = Vec::new();
    let mut measured = Vec::new();
    for (k, (name, engine, bw)) in engines.iter().enumerate() {
        let mut points = Vec::new();
        for &b in &sizes {
            let sps =
                gradient_throughput(*engine, objective.as_ref(), &data, b, ctx.size(0.4, 0.05));
            let gbs = sps * (d * 4) as f64 / 1e9;
            let label = if b == rows {
                "M".to_string()
            } else {
                b.to_string()
            };
            table_rows.push(vec![
                Cell::text(*name),
                Cell::text(label.clone()),
                numbers.sig(&format!("{k}.{label}.samples_per_second"), sps, 3),
                numbers.sig(&format!("{k}.{label}.gb_per_second"), gbs, 3),
                numbers.cell(
                    &format!("{k}.{label}.bandwidth_fraction"),
                    gbs / bw,
                    format!("{:.0}%", 100.0 * gbs / bw),
                ),
            ]);
            points.push((b as f64, sps));
            measured.push(json!({ "engine": name, "batch": b, "samples_per_second": sps, "gb_per_second": gbs }));
        }
        curves.push(Curve {
            name: if k == 0 {
                "1 thread".to_string()
            } else {
                format!("{} threads", ctx.threads)
            },
            points,
            colour: PALETTE[k + 4],
        });
    }
    let full = |k: usize| curves[k].points.last().map_or(f64::NAN, |p| p.1);
    let single = |k: usize| curves[k].points.first().map_or(f64::NAN, |p| p.1);
    let speedup_full = full(1) / full(0);
    let speedup_sgd = single(1) / single(0);
    let figure = CurveFigure {
        title: format!("Gradient throughput against batch size ({rows} × {d} dense, logistic)"),
        x_label: "batch size (log scale)".into(),
        y_label: "sample gradients per second (log scale)".into(),
        curves,
        log_x: true,
        log_y: true,
    };
    let fig = ctx.figure(&figure, "e3_throughput", "Sample gradients per second for batches of 1 to M samples, on one thread and on all threads.")?;
    // Sparse SGD: the serial O(nnz) path beside Hogwild on all threads (a different,
    // non-deterministic algorithm; reported, not judged).
    let sparse_rows = ctx.size(100_000, 20_000);
    let mut sparse = generate(&Spec {
        kind: Kind::Sparse,
        rows: sparse_rows,
        features: 47_152,
        nnz: 76,
        noise: 0.05,
        seed: ctx.seed,
    })?;
    LabelEncoding::fit(ModelKind::Logistic, &sparse)?.encode(&mut sparse)?;
    let linear = ModelKind::Logistic.build(sparse.dim(), 2, true, 1e-6);
    let schedule = descent::schedule::Schedule::Constant { eta0: 0.5 };
    let serial_run = descent::train::Trainer::new(linear.as_ref(), &sparse)
        .schedule(schedule.clone())
        .epochs(1)
        .seed(ctx.seed)
        .run(&mut [])?;
    let serial_sps = serial_run.sample_gradients as f64 / serial_run.seconds.max(1e-12);
    let model = linear
        .margin_model()
        .ok_or_else(|| anyhow::anyhow!("logistic is a margin model"))?;
    let hog = descent::hogwild::train(model, &sparse, &schedule, 1, ctx.seed, ctx.threads)?;
    let hog_sps = hog.updates as f64 / hog.seconds.max(1e-12);
    let parallel = ctx.threads >= 2 && speedup_full >= 1.3;
    let serial = speedup_sgd <= 1.1;
    let section = Section {
        id: "hardware-efficiency".into(),
        title: "3. Hardware efficiency: batch gradients are parallel, SGD is serial".into(),
        claim: "A full-batch gradient splits across threads and runs near memory bandwidth; an SGD step (batch of one) gains nothing from more threads.".into(),
        setup: format!(
            "Generated dense classification, M = {rows}, d = {d} (f32 features, {:.0} MB); the batch gradient of logistic regression summed by descent's engines (fixed blocks, bit-identical for every thread count) over the data in batches of 1, 8, 64, 512, 4,096 and M; best pass after a warm-up, at least 3 passes. Sparse SGD: one epoch of L2 logistic regression on generated RCV1-like rows, descent's serial O(nnz) path beside Hogwild (lock-free, on all threads; not deterministic), reported without a rule. Memory read bandwidth measured by summing a {:.0} MB array in huge pages (the best of summing one place and four places at a time per thread, plainly and asking for memory 4 KiB ahead): {} GB/s on 1 thread, {} GB/s on {} threads.",
            (rows * d * 4) as f64 / 1e6,
            ctx.size(256.0, 32.0),
            significant(bw1, 3),
            significant(bwn, 3),
            ctx.threads
        ),
        figures: vec![fig],
        tables: vec![
            Table {
                caption: "Throughput".into(),
                header: ["engine", "batch", "samples/s", "GB/s", "of bandwidth"].map(String::from).to_vec(),
                rows: table_rows,
            },
            Table {
                caption: format!("SGD on {sparse_rows} RCV1-like sparse rows (47,152 features, one epoch)"),
                header: vec!["method".into(), "samples/s".into()],
                rows: vec![
                    vec![Cell::text("sgd, O(nnz) lazy scaling, 1 thread (deterministic)"), numbers.sig("sparse_sgd_serial", serial_sps, 3)],
                    vec![Cell::text(format!("Hogwild, {} threads (not deterministic)", ctx.threads)), numbers.sig("sparse_sgd_hogwild", hog_sps, 3)],
                ],
            },
            Table {
                caption: "Speed-ups from 1 thread to all".into(),
                header: vec!["batch".into(), "speed-up".into()],
                rows: vec![
                    vec![Cell::text("M (full batch)"), numbers.sig("speedup_full", speedup_full, 3)],
                    vec![Cell::text("1 (SGD)"), numbers.sig("speedup_sgd", speedup_sgd, 3)],
                ],
            },
        ],
        rule: "Held if the machine has at least 2 threads, the full-batch gradient runs at least 1.3× faster on all threads than on one, and batches of one sample run at most 1.1× faster.".into(),
        verdict: Some(Verdict {
            held: parallel && serial,
            detail: format!(
                "{} threads; full-batch speed-up {}; single-sample speed-up {}.",
                ctx.threads,
                significant(speedup_full, 3),
                significant(speedup_sgd, 3)
            ),
        }),
    };
    Ok(Finding {
        section,
        data: json!({
            "bandwidth_gb_per_second": { "one": bw1, "all": bwn },
            "measurements": measured,
            "sparse_sgd_samples_per_second": { "serial": serial_sps, "hogwild": hog_sps },
        }),
    })
}
