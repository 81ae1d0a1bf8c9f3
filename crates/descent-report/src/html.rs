//! The HTML report: one page with a section per claim (the claim, the setup, the figures, the
//! measured numbers, the rule and the verdict), figures referenced as files next to it.
//!
//! A small script marks `<body>` with how many figures loaded and how many verdicts the page
//! holds (`data-figures-loaded`, `data-figures-total`, `data-verdicts`), so a headless browser
//! can check the page as a reader would see it.

use serde::Serialize;
use std::fmt::Write as _;

/// What a claim's rule concluded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// The rule's condition for the claim was met.
    Held,
    /// It was not.
    DidNotHold,
    /// The answer changes with a setting; the section's map shows on what.
    Depends,
}

impl Outcome {
    /// `held`, `did not hold` or `depends`, as `results.json` spells it.
    pub fn label(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::DidNotHold => "did not hold",
            Outcome::Depends => "depends",
        }
    }

    /// The page's wording: `Held`, `Did not hold`, `Depends`.
    pub fn title(self) -> &'static str {
        match self {
            Outcome::Held => "Held",
            Outcome::DidNotHold => "Did not hold",
            Outcome::Depends => "Depends",
        }
    }

    /// The page's `data-verdict` tag.
    pub fn tag(self) -> &'static str {
        match self {
            Outcome::Held => "held",
            Outcome::DidNotHold => "did-not-hold",
            Outcome::Depends => "depends",
        }
    }

    /// [`Held`](Outcome::Held) when `held`, else [`DidNotHold`](Outcome::DidNotHold).
    pub fn from_held(held: bool) -> Outcome {
        if held {
            Outcome::Held
        } else {
            Outcome::DidNotHold
        }
    }
}

/// A claim's outcome under its rule.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// What the rule concluded.
    pub outcome: Outcome,
    /// The numbers the rule compared, in words.
    pub detail: String,
}

/// A table cell: its text, and the key of the number it shows (for cross-checks).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cell {
    /// The text shown.
    pub text: String,
    /// The `results.json` key of the number, if it is one.
    pub key: Option<String>,
}

impl Cell {
    /// A text cell.
    pub fn text(text: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            key: None,
        }
    }

    /// A number cell, tied to `key` in `results.json`.
    pub fn number(text: impl Into<String>, key: impl Into<String>) -> Cell {
        Cell {
            text: text.into(),
            key: Some(key.into()),
        }
    }
}

/// A table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Shown above the table.
    pub caption: String,
    /// Column names.
    pub header: Vec<String>,
    /// Rows of cells.
    pub rows: Vec<Vec<Cell>>,
}

/// A figure file next to the page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FigureRef {
    /// File name (SVG).
    pub file: String,
    /// What it shows.
    pub caption: String,
}

/// One claim and its test.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    /// Anchor and `results.json` id.
    pub id: String,
    /// Heading.
    pub title: String,
    /// The claim in one sentence.
    pub claim: String,
    /// Data, model, rates, batch sizes, seeds, budget.
    pub setup: String,
    /// Figures.
    pub figures: Vec<FigureRef>,
    /// Measured numbers.
    pub tables: Vec<Table>,
    /// The rule, stated before the numbers were known.
    pub rule: String,
    /// The outcome (`None` for sections that make no claim).
    pub verdict: Option<Verdict>,
    /// What the literature found, and whether this run agrees (empty: nothing to cite).
    pub literature: String,
}

/// The page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Page title.
    pub title: String,
    /// Opening paragraphs (plain text, one per entry).
    pub intro: Vec<String>,
    /// The sections.
    pub sections: Vec<Section>,
    /// Closing line (settings, version, time).
    pub footer: String,
}

/// Escapes text for HTML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const STYLE: &str = "body{font-family:'DejaVu Sans',Helvetica,Arial,sans-serif;max-width:1180px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{font-size:1.7em}h2{margin-top:2.2em;border-bottom:1px solid #ccc;padding-bottom:.2em}
.claim{font-size:1.1em;font-style:italic}.setup{color:#444}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}figcaption{color:#555;font-size:.92em}
table{border-collapse:collapse;margin:.6em 0 1.2em}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:right}th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}
.rule{color:#333}.verdict{padding:.6em 1em;border-radius:4px;font-weight:bold}
.verdict[data-verdict=held]{background:#e3f2e6;border:1px solid #2e7d32}
.verdict[data-verdict=did-not-hold]{background:#fbe9e7;border:1px solid #c62828}
.verdict[data-verdict=depends]{background:#fff6e0;border:1px solid #b26a00}.literature{color:#333;font-size:.95em}
nav li{margin:.15em 0}footer{margin-top:3em;color:#777;font-size:.9em}";

const SCRIPT: &str = "window.addEventListener('load',function(){var imgs=document.querySelectorAll('img');var ok=0;imgs.forEach(function(i){if(i.complete&&i.naturalWidth>0)ok++;});document.body.setAttribute('data-figures-loaded',ok);document.body.setAttribute('data-figures-total',imgs.length);document.body.setAttribute('data-verdicts',document.querySelectorAll('.verdict[data-verdict]').length);});";

impl Report {
    /// The page as HTML.
    pub fn html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style><script>{SCRIPT}</script></head><body>\n<h1>{}</h1>\n",
            escape(&self.title),
            escape(&self.title)
        );
        for p in &self.intro {
            let _ = writeln!(h, "<p>{}</p>", escape(p));
        }
        h.push_str("<nav><ol>\n");
        for s in &self.sections {
            let mark = s
                .verdict
                .as_ref()
                .map_or(String::new(), |v| format!(" — {}", v.outcome.label()));
            let _ = writeln!(
                h,
                "<li><a href=\"#{}\">{}</a>{mark}</li>",
                escape(&s.id),
                escape(&s.title)
            );
        }
        h.push_str("</ol></nav>\n");
        for s in &self.sections {
            let _ = writeln!(
                h,
                "<section id=\"{}\">\n<h2>{}</h2>",
                escape(&s.id),
                escape(&s.title)
            );
            if !s.claim.is_empty() {
                let _ = writeln!(h, "<p class=\"claim\">Claim: {}</p>", escape(&s.claim));
            }
            let _ = writeln!(
                h,
                "<p class=\"setup\"><b>Setup.</b> {}</p>",
                escape(&s.setup)
            );
            for f in &s.figures {
                let _ = writeln!(
                    h,
                    "<figure><img src=\"{}\" alt=\"{}\"><figcaption>{}</figcaption></figure>",
                    escape(&f.file),
                    escape(&f.caption),
                    escape(&f.caption)
                );
            }
            for t in &s.tables {
                let _ = writeln!(h, "<table><caption>{}</caption><tr>", escape(&t.caption));
                for c in &t.header {
                    let _ = write!(h, "<th>{}</th>", escape(c));
                }
                h.push_str("</tr>\n");
                for row in &t.rows {
                    h.push_str("<tr>");
                    for c in row {
                        match &c.key {
                            Some(k) => {
                                let _ = write!(
                                    h,
                                    "<td data-key=\"{}\">{}</td>",
                                    escape(k),
                                    escape(&c.text)
                                );
                            }
                            None => {
                                let _ = write!(h, "<td>{}</td>", escape(&c.text));
                            }
                        }
                    }
                    h.push_str("</tr>\n");
                }
                h.push_str("</table>\n");
            }
            if !s.rule.is_empty() {
                let _ = writeln!(
                    h,
                    "<p class=\"rule\"><b>Rule (fixed in advance).</b> {}</p>",
                    escape(&s.rule)
                );
            }
            if let Some(v) = &s.verdict {
                let _ = writeln!(
                    h,
                    "<p class=\"verdict\" data-verdict=\"{}\">Verdict: {}. {}</p>",
                    v.outcome.tag(),
                    v.outcome.title(),
                    escape(&v.detail)
                );
            }
            if !s.literature.is_empty() {
                let _ = writeln!(
                    h,
                    "<p class=\"literature\"><b>The literature.</b> {}</p>",
                    escape(&s.literature)
                );
            }
            h.push_str("</section>\n");
        }
        let _ = writeln!(
            h,
            "<footer>{}</footer>\n</body></html>",
            escape(&self.footer)
        );
        h
    }
}
