//! [`parse_duration`]: Prometheus' duration syntax, as its flags and configuration take
//! it (`model.ParseDuration` in prometheus/common: `1h30m`, `15s`, `500ms`).

use std::fmt;
use std::time::Duration;

/// The units in the order a duration must give them, each with its length in
/// milliseconds (prometheus/common's `model/time.go`: a year is 365 days, a week 7).
const UNITS: [(&str, u64); 7] = [
    ("y", 365 * 24 * 3_600_000),
    ("w", 7 * 24 * 3_600_000),
    ("d", 24 * 3_600_000),
    ("h", 3_600_000),
    ("m", 60_000),
    ("s", 1_000),
    ("ms", 1),
];

/// Why a text is not a Prometheus duration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DurationError(&'static str);

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for DurationError {}

/// Parses a Prometheus duration: numbers each followed by a unit, the units in the
/// order `y w d h m s ms`, each at most once (`1h30m`, `15s`, `1d12h`, `500ms`), or `0`.
///
/// ```
/// use std::time::Duration;
/// use torchlight_example_cli::parse_duration;
///
/// assert_eq!(parse_duration("1h30m"), Ok(Duration::from_secs(5400)));
/// assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
/// assert!(parse_duration("30m1h").is_err());
/// ```
///
/// # Errors
///
/// A [`DurationError`] saying what is wrong: empty, a number without a unit, an
/// unknown unit, units out of order or repeated, too long.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    if text.is_empty() {
        return Err(DurationError("it is empty"));
    }
    let mut rest = text;
    let mut millis: u64 = 0;
    // The index of the next unit allowed: each unit comes after the ones before it.
    let mut next = 0;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(DurationError(
                "a unit must follow a number, such as 15s or 1h30m",
            ));
        }
        let (number, tail) = rest.split_at(digits);
        if tail.starts_with('.') {
            return Err(DurationError(
                "a number must be whole; use a smaller unit, such as 1s500ms",
            ));
        }
        let unit_length = tail.bytes().take_while(u8::is_ascii_alphabetic).count();
        let (unit, tail) = tail.split_at(unit_length);
        if unit.is_empty() {
            return Err(DurationError(
                "a number needs a unit (y, w, d, h, m, s, ms)",
            ));
        }
        let Some(index) = UNITS.iter().position(|(name, _)| *name == unit) else {
            return Err(DurationError(
                "unknown unit; the units are y, w, d, h, m, s, ms",
            ));
        };
        if index < next {
            return Err(DurationError(
                "the units must come once each, largest first (y, w, d, h, m, s, ms)",
            ));
        }
        next = index + 1;
        let value = number
            .parse::<u64>()
            .ok()
            .and_then(|n| n.checked_mul(UNITS[index].1))
            .and_then(|ms| millis.checked_add(ms))
            .ok_or(DurationError("it is too long"))?;
        millis = value;
        rest = tail;
    }
    Ok(Duration::from_millis(millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prometheus_durations_parse() {
        for (text, millis) in [
            ("0", 0),
            ("15s", 15_000),
            ("500ms", 500),
            ("1h30m", 5_400_000),
            ("1d12h", 129_600_000),
            ("2w", 1_209_600_000),
            ("1y", 31_536_000_000),
            ("1m1s1ms", 61_001),
            ("0s", 0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_millis(millis)),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_durations_say_why() {
        for (text, why) in [
            ("", "it is empty"),
            ("15", "a number needs a unit (y, w, d, h, m, s, ms)"),
            ("s", "a unit must follow a number, such as 15s or 1h30m"),
            (
                "1.5s",
                "a number must be whole; use a smaller unit, such as 1s500ms",
            ),
            ("-1s", "a unit must follow a number, such as 15s or 1h30m"),
            ("15sec", "unknown unit; the units are y, w, d, h, m, s, ms"),
            (
                "30m1h",
                "the units must come once each, largest first (y, w, d, h, m, s, ms)",
            ),
            (
                "1s1s",
                "the units must come once each, largest first (y, w, d, h, m, s, ms)",
            ),
            ("99999999999999999999s", "it is too long"),
        ] {
            assert_eq!(parse_duration(text), Err(DurationError(why)), "{text:?}");
        }
    }
}
