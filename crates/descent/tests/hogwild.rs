//! Hogwild is not deterministic, so it is checked by what it reaches: about the loss of serial
//! SGD on the same data, with several threads.

mod common;

use common::sparse_data;
use descent::engine::{evaluate, Serial};
use descent::objective::ModelKind;
use descent::prelude::*;

#[test]
fn hogwild_reaches_the_loss_of_serial_sgd() {
    let data = sparse_data(4000, 500, 0.02, 71, |idx, vals| {
        let s: f64 = idx
            .iter()
            .zip(vals)
            .map(|(&j, &v)| if j < 250 { f64::from(v) } else { -f64::from(v) })
            .sum();
        if s > 0.0 {
            1.0
        } else {
            -1.0
        }
    });
    let objective = ModelKind::Logistic.build(500, 2, true, 1e-4);
    let schedule = Schedule::InvScaling {
        eta0: 1.0,
        power: 0.5,
    };
    let serial = Trainer::new(objective.as_ref(), &data)
        .schedule(schedule.clone())
        .epochs(10)
        .run(&mut [])
        .unwrap();
    let serial_loss = evaluate(&Serial, objective.as_ref(), &data, &serial.theta).loss;
    let start_loss = evaluate(&Serial, objective.as_ref(), &data, &vec![0.0; 501]).loss;
    for threads in [1, 2, 4] {
        let model = objective.margin_model().unwrap();
        let run = descent::hogwild::train(model, &data, &schedule, 10, 3, threads).unwrap();
        assert_eq!(run.updates, 10 * 4000);
        let loss = evaluate(&Serial, objective.as_ref(), &data, &run.theta).loss;
        assert!(
            loss < 0.75 * start_loss,
            "{threads} threads: {loss} from {start_loss}"
        );
        assert!(
            (loss - serial_loss).abs() < 0.05 * serial_loss,
            "{threads} threads: {loss} vs serial {serial_loss}"
        );
    }
}
