//! Library errors in the binary's words: the library names a setting by its field (`lr`,
//! `checkpoint_every`, written between backticks in free text); here each becomes its flag
//! (`--lr`, `--checkpoint-every`), and the hints that need a command get one.

use std::path::Path;

/// The library's setting names that are flags of the binary (the flag is the name with `-`
/// for `_`).
const SETTINGS: &[&str] = &[
    "average",
    "bias",
    "buffer",
    "checkpoint",
    "checkpoint_every",
    "data",
    "epochs",
    "features",
    "force",
    "format",
    "l2",
    "label",
    "labels",
    "lr",
    "method",
    "model",
    "momentum",
    "nnz",
    "noise",
    "on_divergence",
    "problem",
    "rows",
    "resume",
    "sampling",
    "save",
    "schedule",
    "seed",
    "standardize",
    "stream",
    "test",
    "threads",
    "trace",
];

/// The flag of the library setting `name` (unchanged if it is not one).
fn flag(name: &str) -> String {
    if SETTINGS.contains(&name) {
        format!("--{}", name.replace('_', "-"))
    } else {
        name.to_string()
    }
}

/// `text` with each `` `setting` `` written as its flag.
pub fn flags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('`') {
        let Some(len) = rest[open + 1..].find('`') else {
            break;
        };
        let name = &rest[open + 1..open + 1 + len];
        out.push_str(&rest[..open]);
        if SETTINGS.contains(&name) {
            out.push_str(&flag(name));
        } else {
            out.push_str(&rest[open..open + len + 2]);
        }
        rest = &rest[open + len + 2..];
    }
    out.push_str(rest);
    out
}

/// One error of a chain, as the binary says it.
pub fn describe(error: &(dyn std::error::Error + 'static)) -> String {
    use descent::Error;
    let resume = |path: &Path| format!("descent train --resume {}", path.display());
    match Error::of(error) {
        Some(Error::Config {
            name,
            value,
            allowed,
        }) => format!("invalid {} = {value}: {}", flag(name), flags(allowed)),
        Some(
            e @ Error::Diverged {
                last_good: Some(path),
                smaller_lr,
                ..
            },
        ) => format!(
            "{}: `{} --lr {smaller_lr}` continues from it",
            flags(&e.to_string()),
            resume(path)
        ),
        Some(
            e @ Error::Interrupted {
                checkpoint: Some(path),
                ..
            },
        ) => format!(
            "{}: continue with `{}`",
            flags(&e.to_string()),
            resume(path)
        ),
        _ => flags(&error.to_string()),
    }
}

/// An error and its causes on one line (`a: b: c`), for the processes of an MPI job.
#[cfg(feature = "mpi")]
pub fn chain(error: &anyhow::Error) -> String {
    error.chain().map(describe).collect::<Vec<_>>().join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_become_flags_and_other_quotes_stay() {
        assert_eq!(
            flags("try `lr` 0.1 with the `optimal` schedule or `on_divergence` halve-lr"),
            "try --lr 0.1 with the `optimal` schedule or --on-divergence halve-lr"
        );
        assert_eq!(flags("an `unclosed quote"), "an `unclosed quote");
        let e = descent::Error::config("checkpoint_every", "x", "a number of `lr`");
        assert_eq!(
            describe(&e),
            "invalid --checkpoint-every = x: a number of --lr"
        );
    }
}
