//! Parsers of numeric flags: each flag is checked once, by clap, as it is read, and a bad
//! value is refused with the allowed range, e.g.
//! `invalid value 'nan' for '--lr <F>': a finite number > 0`.

/// A number, or a message that says what was expected instead.
fn number(text: &str, allowed: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err(allowed.to_string()),
    }
}

/// A whole number, or the message `allowed`.
fn whole_number(text: &str, allowed: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| allowed.to_string())
}

/// A finite number (any sign).
pub fn finite(text: &str) -> Result<f64, String> {
    number(text, "a finite number")
}

/// A finite number > 0.
pub fn positive(text: &str) -> Result<f64, String> {
    let allowed = "a finite number > 0";
    number(text, allowed).and_then(|v| if v > 0.0 { Ok(v) } else { Err(allowed.into()) })
}

/// A finite number ≥ 0.
pub fn non_negative(text: &str) -> Result<f64, String> {
    let allowed = "a finite number ≥ 0";
    number(text, allowed).and_then(|v| if v >= 0.0 { Ok(v) } else { Err(allowed.into()) })
}

/// A momentum: a number in [0, 1).
pub fn momentum(text: &str) -> Result<f64, String> {
    let allowed = "a number in [0, 1)";
    number(text, allowed).and_then(|v| {
        if (0.0..1.0).contains(&v) {
            Ok(v)
        } else {
            Err(allowed.into())
        }
    })
}

/// A whole number ≥ 0.
pub fn whole<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    let allowed = "a whole number ≥ 0";
    T::try_from(whole_number(text, allowed)?)
        .map_err(|_| format!("{allowed} that fits this machine"))
}

/// A count: a whole number ≥ 1.
pub fn count<T: TryFrom<u64>>(text: &str) -> Result<T, String> {
    let allowed = "a whole number ≥ 1";
    match whole_number(text, allowed)? {
        0 => Err(allowed.into()),
        n => T::try_from(n).map_err(|_| format!("{allowed} that fits this machine")),
    }
}

/// A thread count: 1 to 1024.
pub fn threads(text: &str) -> Result<usize, String> {
    let allowed = "a whole number in 1..=1024";
    match whole_number(text, allowed)? {
        n @ 1..=1024 => Ok(n as usize),
        _ => Err(allowed.into()),
    }
}

/// A grid resolution: 5 to 2001 points per axis.
pub fn grid(text: &str) -> Result<usize, String> {
    let allowed = "a whole number in 5..=2001";
    match whole_number(text, allowed)? {
        n @ 5..=2001 => Ok(n as usize),
        _ => Err(allowed.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_out_of_range_or_not_finite_are_refused_with_the_range() {
        for bad in ["nan", "inf", "-inf", "abc", "", "1e400"] {
            assert_eq!(positive(bad), Err("a finite number > 0".into()), "{bad}");
            assert_eq!(finite(bad), Err("a finite number".into()), "{bad}");
        }
        assert_eq!(positive("0"), Err("a finite number > 0".into()));
        assert_eq!(positive("1e-3"), Ok(1e-3));
        assert_eq!(non_negative("-0.1"), Err("a finite number ≥ 0".into()));
        assert_eq!(non_negative("0"), Ok(0.0));
        assert_eq!(momentum("1"), Err("a number in [0, 1)".into()));
        assert_eq!(momentum("0.9"), Ok(0.9));
        assert_eq!(count::<u64>("0"), Err("a whole number ≥ 1".into()));
        assert_eq!(count::<usize>("-3"), Err("a whole number ≥ 1".into()));
        assert_eq!(count::<usize>("2.5"), Err("a whole number ≥ 1".into()));
        assert_eq!(count::<u64>("7"), Ok(7));
        assert_eq!(whole::<u64>("0"), Ok(0));
        assert_eq!(threads("0"), Err("a whole number in 1..=1024".into()));
        assert_eq!(threads("1025"), Err("a whole number in 1..=1024".into()));
        assert_eq!(grid("4"), Err("a whole number in 5..=2001".into()));
    }
}
