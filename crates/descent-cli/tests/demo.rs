//! `descent demo --quick`: the page and results.json agree number for number, every claim has
//! a verdict, and a real browser loads every figure.

mod common;

use common::{json, ok, path};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

fn run_demo(dir: &Path) -> (Value, String) {
    let out = path(dir, "report");
    let printed = ok(&["demo", "--quick", "--quiet", "--out", &out, "--seed", "1"]);
    assert!(printed.contains("claims held"), "{printed}");
    let results = json(&std::fs::read_to_string(dir.join("report/results.json")).unwrap());
    let page = std::fs::read_to_string(dir.join("report/index.html")).unwrap();
    (results, page)
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[test]
fn results_json_matches_the_numbers_on_the_page() {
    let dir = tempfile::tempdir().unwrap();
    let (results, page) = run_demo(dir.path());
    let claims = results["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 8, "the rate section and seven experiments");
    let mut checked = 0;
    for claim in claims {
        let id = claim["id"].as_str().unwrap();
        assert!(
            page.contains(&format!("<section id=\"{id}\">")),
            "section {id} on the page"
        );
        if let Some(verdict) = claim["verdict"].as_str() {
            let tag = match verdict {
                "held" => "held",
                "did not hold" => "did-not-hold",
                "depends" => "depends",
                other => panic!("{id}: verdict '{other}' is none of held, did not hold, depends"),
            };
            let section = &page[page.find(&format!("<section id=\"{id}\">")).unwrap()..];
            let section = &section[..section.find("</section>").unwrap()];
            assert!(
                section.contains(&format!("data-verdict=\"{tag}\"")),
                "{id}: verdict {verdict} on the page"
            );
            assert!(
                section.contains("Rule (fixed in advance)"),
                "{id}: the rule is stated"
            );
        }
        for (key, number) in claim["numbers"].as_object().unwrap() {
            let shown = number["shown"].as_str().unwrap();
            let cell = format!("data-key=\"{}\">{}</td>", escape(key), escape(shown));
            assert!(
                page.contains(&cell),
                "{id}: {key} shown as '{shown}' on the page"
            );
            let leading: String = shown.split(' ').next().unwrap().to_string();
            if let (Ok(parsed), Some(value)) = (leading.parse::<f64>(), number["value"].as_f64()) {
                let tolerance = 0.01 * value.abs().max(1e-9) + 1e-12;
                assert!(
                    (parsed - value).abs() <= tolerance.max(0.5e-3 * value.abs() + 1e-9)
                        || (parsed - value).abs() < 1e-3,
                    "{id}: {key} = {value} shown as {shown}"
                );
            }
            checked += 1;
        }
        for figure in claim["figures"].as_array().unwrap() {
            let svg = figure.as_str().unwrap();
            assert!(
                page.contains(&format!("src=\"{svg}\"")),
                "{id}: {svg} on the page"
            );
            assert!(dir.path().join("report").join(svg).is_file());
            assert!(dir
                .path()
                .join("report")
                .join(svg.replace(".svg", ".png"))
                .is_file());
        }
    }
    assert!(checked > 60, "{checked} numbers checked");
    let judged = claims.iter().filter(|c| c["verdict"].is_string()).count();
    assert_eq!(judged, 7, "every claim has a verdict");
    // Every comparing claim says how many runs stand behind each side and its effect's
    // interval, which contains the estimate.
    for claim in claims.iter().filter(|c| c["effect"].is_object()) {
        let effect = &claim["effect"];
        let (estimate, lo, hi) = (
            effect["estimate"].as_f64().unwrap(),
            effect["ci95"][0].as_f64().unwrap(),
            effect["ci95"][1].as_f64().unwrap(),
        );
        assert!(
            lo <= estimate && estimate <= hi,
            "{}: {effect}",
            claim["id"]
        );
        assert!(!claim["seeds"].as_object().unwrap().is_empty());
    }
    let compared = claims.iter().filter(|c| c["effect"].is_object()).count();
    assert!(compared >= 5, "{compared} claims with an effect");
    let critical = claims
        .iter()
        .find(|c| c["id"] == "critical-batch-size")
        .expect("the critical batch size claim");
    let sizes = critical["data"]["batch_sizes"].as_array().unwrap().len();
    for key in ["updates_to_target", "epochs_to_target", "seconds_to_target"] {
        assert_eq!(
            critical["data"][key].as_array().unwrap().len(),
            sizes,
            "{key}"
        );
    }
    let real = claims.iter().find(|c| c["id"] == "real-data").unwrap();
    assert!(
        real["numbers"]
            .as_object()
            .unwrap()
            .keys()
            .any(|k| k.contains("sharpness")),
        "sharpness numbers"
    );
}

/// The browser to use: $CHROMIUM, or chromium on the PATH.
fn browser() -> Option<String> {
    if let Ok(b) = std::env::var("CHROMIUM") {
        return Some(b);
    }
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .map(String::from)
        .find(|b| {
            Command::new(b)
                .arg("--version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

#[test]
fn the_page_loads_every_figure_in_a_real_browser() {
    let Some(browser) = browser() else {
        assert!(
            std::env::var("DESCENT_SKIP_BROWSER").is_ok(),
            "no Chromium found: install it (apt-get install chromium; .ci/run does) or set DESCENT_SKIP_BROWSER=1"
        );
        eprintln!("skipped: no Chromium and DESCENT_SKIP_BROWSER is set");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (results, _) = run_demo(dir.path());
    let profile = dir.path().join("profile");
    let page = dir.path().join("report/index.html");
    let out = Command::new(&browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--virtual-time-budget=10000",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    let dom = String::from_utf8_lossy(&out.stdout);
    let attribute = |name: &str| -> usize {
        let at = dom
            .find(&format!("{name}=\""))
            .unwrap_or_else(|| panic!("no {name} in the DOM: {}", &dom[..dom.len().min(400)]));
        let rest = &dom[at + name.len() + 2..];
        rest[..rest.find('"').unwrap()].parse().unwrap()
    };
    let figures: usize = results["claims"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["figures"].as_array().unwrap().len())
        .sum();
    assert!(figures >= 10);
    assert_eq!(
        attribute("data-figures-total"),
        figures,
        "every figure is on the page"
    );
    assert_eq!(
        attribute("data-figures-loaded"),
        figures,
        "every figure loaded in the browser"
    );
    assert_eq!(attribute("data-verdicts"), 7, "every claim shows a verdict");
}
