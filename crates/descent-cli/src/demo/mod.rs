//! `descent demo`: every claim about full-batch GD and SGD from the design, put to the test on
//! built-in data, written as one HTML page with figures (PNG and SVG) and `results.json`.
//!
//! Each experiment is a file here. It returns a [`Section`] for the page whose numbers are
//! registered in a [`Numbers`] book under stable keys, so the page and `results.json` show the
//! same values (a test checks that), and whose verdict comes from a rule written in the code
//! before the numbers exist.

mod biased;
mod cheap_updates;
mod contrasts;
mod critical_batch;
mod hardware;
mod local_minima;
mod rates;
mod real_data;
mod rule;
mod same_path;
mod stats;

use crate::args::DemoArgs;
use anyhow::{Context as _, Result};
use descent::output::Existing;
use descent_report::html::{Cell, FigureRef, Outcome, Report, Section};
use descent_report::Figure;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::time::Instant;

/// What every experiment gets.
pub struct Context {
    /// The output folder.
    pub out: PathBuf,
    /// Smaller data and budgets (under 30 seconds in all).
    pub quick: bool,
    /// The base seed.
    pub seed: u64,
    /// Threads for batch gradients.
    pub threads: usize,
}

impl Context {
    /// `full` normally, `quick` with `--quick`.
    pub fn size<T>(&self, full: T, quick: T) -> T {
        if self.quick {
            quick
        } else {
            full
        }
    }

    /// Saves a figure as `name.png` and `name.svg` and returns the page's reference to it.
    pub fn figure(&self, figure: &impl Figure, name: &str, caption: &str) -> Result<FigureRef> {
        descent_report::save(figure, &self.out.join(name))?;
        Ok(FigureRef {
            file: format!("{name}.svg"),
            caption: caption.to_string(),
        })
    }
}

/// Numbers shown on the page, kept for `results.json` under `section.key`.
#[derive(Default)]
pub struct Numbers {
    values: Map<String, Value>,
}

impl Numbers {
    /// Records `value` under `key`, shown as `text`, and returns its table cell.
    pub fn cell(&mut self, key: &str, value: f64, text: String) -> Cell {
        self.values.insert(
            key.to_string(),
            json!({ "value": if value.is_finite() { json!(value) } else { Value::Null }, "shown": text }),
        );
        Cell::number(text, key)
    }

    /// [`cell`](Numbers::cell) with `digits` significant digits.
    pub fn sig(&mut self, key: &str, value: f64, digits: usize) -> Cell {
        let text = significant(value, digits);
        self.cell(key, value, text)
    }
}

/// `v` with `digits` significant digits (∞ and – for non-finite values).
pub fn significant(v: f64, digits: usize) -> String {
    if v.is_nan() {
        return "–".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "∞".into()
        } else {
            "−∞".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let magnitude = v.abs().log10().floor() as i32;
    if !(-4..6).contains(&magnitude) {
        return format!("{:.*e}", digits.saturating_sub(1), v);
    }
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    format!("{v:.decimals$}")
}

/// A comparing claim's effect: what was estimated, and its 95% interval.
pub struct Effect {
    /// What the estimate is (e.g. "population loss, batch − sgd (paired by sample)").
    pub name: String,
    /// The estimate.
    pub estimate: f64,
    /// Its percentile-bootstrap 95% interval.
    pub ci95: [f64; 2],
}

impl Effect {
    /// The effect named `name` of a [`stats::Difference`].
    pub fn of(name: impl Into<String>, d: &stats::Difference) -> Effect {
        Effect {
            name: name.into(),
            estimate: d.estimate,
            ci95: d.ci95,
        }
    }
}

/// One experiment's contribution: a page section and its raw numbers for `results.json`.
pub struct Finding {
    /// The page section.
    pub section: Section,
    /// Extra raw data for `results.json` (curves, grids).
    pub data: Value,
    /// Independent runs (units) behind each compared method.
    pub seeds: Vec<(String, usize)>,
    /// The compared effect, for comparing claims.
    pub effect: Option<Effect>,
    /// Whether the verdict rests on timings (which vary with the machine's load).
    pub timing: bool,
}

impl Finding {
    /// A finding with no comparison attached.
    pub fn new(section: Section, data: Value) -> Finding {
        Finding {
            section,
            data,
            seeds: Vec::new(),
            effect: None,
            timing: false,
        }
    }
}

type Experiment = (&'static str, fn(&Context, &mut Numbers) -> Result<Finding>);

/// Runs `descent demo`.
pub fn run(args: DemoArgs) -> Result<()> {
    let started = Instant::now();
    let folder = crate::cmd::report_folder(&args.out, args.force)?;
    let ctx = Context {
        out: folder.dir().to_path_buf(),
        quick: args.quick,
        seed: args.seed,
        threads: crate::config::threads(None),
    };
    let experiments: [Experiment; 8] = [
        ("rates: the automatic rule", rates::run),
        ("1 same data, different path", same_path::run),
        ("2 SGD is cheaper per update", cheap_updates::run),
        ("3 hardware efficiency", hardware::run),
        ("4 local minima", local_minima::run),
        ("5 biased training set", biased::run),
        ("6 generalization", real_data::run),
        ("7 critical batch size", critical_batch::run),
    ];
    let bar =
        ProgressBar::with_draw_target(Some(experiments.len() as u64), ProgressDrawTarget::stderr());
    if args.quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{spinner} [{bar:20}] {pos}/{len} {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let mut sections = Vec::new();
    let mut claims = Vec::new();
    let mut timing_claims = 0;
    for (name, experiment) in experiments {
        bar.set_message(name);
        let mut numbers = Numbers::default();
        let began = Instant::now();
        let finding =
            experiment(&ctx, &mut numbers).with_context(|| format!("experiment '{name}'"))?;
        let mut claim = json!({
            "id": finding.section.id,
            "title": finding.section.title,
            "claim": finding.section.claim,
            "rule": finding.section.rule,
            "verdict": finding.section.verdict.as_ref().map(|v| v.outcome.label()),
            "verdict_detail": finding.section.verdict.as_ref().map(|v| v.detail.clone()),
            "timing": finding.timing,
            "literature": finding.section.literature,
            "numbers": numbers.values,
            "figures": finding.section.figures.iter().map(|f| f.file.clone()).collect::<Vec<_>>(),
            "seconds": began.elapsed().as_secs_f64(),
            "data": finding.data,
        });
        if !finding.seeds.is_empty() {
            claim["seeds"] = finding
                .seeds
                .iter()
                .map(|(k, n)| (k.clone(), json!(n)))
                .collect::<Map<String, Value>>()
                .into();
        }
        if let Some(e) = &finding.effect {
            claim["effect"] = json!({ "name": e.name, "estimate": e.estimate, "ci95": e.ci95 });
        }
        if finding.section.verdict.is_some() {
            timing_claims += usize::from(finding.timing);
        }
        claims.push(claim);
        sections.push(finding.section);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let count = |o: Outcome| {
        sections
            .iter()
            .filter(|s| s.verdict.as_ref().is_some_and(|v| v.outcome == o))
            .count()
    };
    let (held, depends) = (count(Outcome::Held), count(Outcome::Depends));
    let judged = sections.iter().filter(|s| s.verdict.is_some()).count();
    let headline = format!(
        "{held} of {judged} claims held, {depends} depend on the setting (the map shows on what); {timing_claims} of the {judged} verdicts rest on timings, the others on deterministic computations (the same seed gives the same verdict)."
    );
    let report = Report {
        title: "Are full-batch gradient descent and SGD the same? Measured.".into(),
        intro: vec![
            "Full-batch gradient descent averages the gradients of all M training samples and then takes one step; stochastic gradient descent (SGD) steps after every single sample; mini-batch sits in between. Each section below states a claim about how they differ, the experiment that tests it, the figures, the measured numbers and a verdict computed by a rule written into the program before the run. Claims that did not hold are reported as such.".into(),
            format!("{headline} Seeds and settings are in each setup; the same command with the same seed reproduces every number except timings. Rates come from one rule, stated in the first section, applied to validation data."),
        ],
        sections,
        footer: format!(
            "descent {} · demo{} · seed {} · {} threads · {:.1} s",
            env!("CARGO_PKG_VERSION"),
            if ctx.quick { " --quick" } else { "" },
            ctx.seed,
            ctx.threads,
            started.elapsed().as_secs_f64()
        ),
    };
    descent::output::write(
        &ctx.out.join("index.html"),
        report.html().as_bytes(),
        Existing::Keep,
    )?;
    let results = json!({
        "format": "descent-demo-results",
        "version": 2,
        "quick": ctx.quick,
        "seed": ctx.seed,
        "threads": ctx.threads,
        "seconds": started.elapsed().as_secs_f64(),
        "processor": descent::bench::processor(),
        "claims": claims,
    });
    descent::output::write(
        &ctx.out.join("results.json"),
        format!("{}\n", serde_json::to_string_pretty(&results)?).as_bytes(),
        Existing::Keep,
    )?;
    folder.commit()?;
    println!(
        "{held} of {judged} claims held, {depends} depend on the setting; report: {} ({:.1} s)",
        args.out.join("index.html").display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
