//! Number formatting, byte for byte as Go's `expfmt` writes it.
//!
//! Go formats sample values with `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest
//! digits that round-trip, in exponent form when the decimal exponent is `< -4` or
//! `>= 6` (the `eprec = 6` rule for shortest formatting in Go's `strconv/ftoa.go`), with
//! an exponent that always has a sign and at least two digits (`1e+06`, `1.5e-07`).
//! OpenMetrics additionally needs a `.` or an `e` in every float, so it appends `.0` to
//! integral values (`1.0`, `100000.0`), as `expfmt/openmetrics_create.go`'s
//! `writeOpenMetricsFloat` does; `core/tests/api/exposition.rs` holds the golden table.
//!
//! Rust's `{:e}` already yields the shortest round-trip digits, so this module only
//! re-lays them out; no allocation, a 32-byte stack buffer.

use core::fmt::{self, Write};

use super::append;

/// Writes `value` as Go's `'g'`/shortest formatting does; with `open_metrics`, integral
/// values get a `.0`. `-0.0` is written as zero, as `expfmt` does.
pub(crate) fn write_f64<W: Write + ?Sized>(
    w: &mut W,
    value: f64,
    open_metrics: bool,
) -> fmt::Result {
    if value.is_nan() {
        return w.write_str("NaN");
    }
    if value.is_infinite() {
        return w.write_str(if value > 0.0 { "+Inf" } else { "-Inf" });
    }
    if value == 0.0 {
        return w.write_str(if open_metrics { "0.0" } else { "0" });
    }
    // Whole numbers (every integer counter and gauge) skip the shortest-digits search.
    // (`fract` needs `std`; below 2^53 the cast round trip is exact and is `core`.)
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    if value.abs() < EXACT_INTEGERS && (value as i64) as f64 == value {
        return write_integral(w, value, open_metrics);
    }
    write_shortest(w, value, open_metrics)
}

/// 2^53: below it every integer is an `f64`, and its shortest round-trip digits are its
/// decimal digits without trailing zeros (a shorter digit string would name another
/// integer, which is representable too).
const EXACT_INTEGERS: f64 = 9_007_199_254_740_992.0;

/// [`write_f64`] for a non-zero whole number below 2^53, laid out from its integer
/// digits.
fn write_integral<W: Write + ?Sized>(w: &mut W, value: f64, open_metrics: bool) -> fmt::Result {
    if value < 0.0 {
        w.write_char('-')?;
    }
    // Exact: `value` is a whole number below 2^53.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let magnitude = value.abs() as u64;
    if magnitude < 1_000_000 {
        write_u64(w, magnitude)?;
        return if open_metrics {
            w.write_str(".0")
        } else {
            Ok(())
        };
    }
    // Exponent form: d[.ddd]e+XX, the digits without trailing zeros.
    let mut buf = [0u8; 20];
    let digits = digits(magnitude, &mut buf);
    let exponent = digits.len() - 1;
    let significant = digits
        .iter()
        .rposition(|d| *d != b'0')
        .map_or(1, |last| last + 1);
    let digits = core::str::from_utf8(&digits[..significant]).map_err(|_| fmt::Error)?;
    w.write_str(&digits[..1])?;
    if digits.len() > 1 {
        w.write_char('.')?;
        w.write_str(&digits[1..])?;
    }
    w.write_str("e+")?;
    if exponent < 10 {
        w.write_char('0')?;
    }
    write_u64(w, exponent as u64)
}

/// [`write_f64`] for any other finite, non-zero value, from Rust's shortest round-trip
/// digits (`{:e}`).
fn write_shortest<W: Write + ?Sized>(w: &mut W, value: f64, open_metrics: bool) -> fmt::Result {
    let mut scientific = StackBuf::new();
    write!(scientific, "{value:e}")?;
    let text = scientific.as_str();
    let (negative, text) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (mantissa, exponent) = text.split_once('e').ok_or(fmt::Error)?;
    let exponent: i32 = exponent.parse().map_err(|_| fmt::Error)?;
    // At most 17 significant digits for an f64.
    let mut digits = [0u8; 24];
    let mut count = 0;
    for byte in mantissa.bytes().filter(u8::is_ascii_digit) {
        *digits.get_mut(count).ok_or(fmt::Error)? = byte;
        count += 1;
    }
    let digits = core::str::from_utf8(&digits[..count]).map_err(|_| fmt::Error)?;

    if negative {
        w.write_char('-')?;
    }
    if !(-4..6).contains(&exponent) {
        // d[.ddd]e±XX
        w.write_str(&digits[..1])?;
        if digits.len() > 1 {
            w.write_char('.')?;
            w.write_str(&digits[1..])?;
        }
        w.write_str(if exponent < 0 { "e-" } else { "e+" })?;
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            w.write_char('0')?;
        }
        write_u64(w, u64::from(magnitude))
    } else if exponent < 0 {
        // 0.000ddd
        w.write_str("0.")?;
        for _ in 0..(-exponent - 1) {
            w.write_char('0')?;
        }
        w.write_str(digits)
    } else {
        // ddd[.ddd], the integer part padded with zeros
        let integer_len = exponent as usize + 1;
        if digits.len() <= integer_len {
            w.write_str(digits)?;
            for _ in digits.len()..integer_len {
                w.write_char('0')?;
            }
            if open_metrics {
                w.write_str(".0")?;
            }
            Ok(())
        } else {
            w.write_str(&digits[..integer_len])?;
            w.write_char('.')?;
            w.write_str(&digits[integer_len..])
        }
    }
}

/// Writes an unsigned integer in decimal without going through `core::fmt`'s machinery.
pub(crate) fn write_u64<W: Write + ?Sized>(w: &mut W, value: u64) -> fmt::Result {
    let mut buf = [0u8; 20];
    w.write_str(core::str::from_utf8(digits(value, &mut buf)).map_err(|_| fmt::Error)?)
}

/// The decimal digits of `value`, written at the end of `buf` (u64::MAX has 20).
#[inline]
pub(crate) fn digits(mut value: u64, buf: &mut [u8; 20]) -> &[u8] {
    let mut start = buf.len();
    loop {
        start -= 1;
        // A remainder of 10: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let digit = (value % 10) as u8;
        buf[start] = b'0' + digit;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    &buf[start..]
}

/// A fixed-size `fmt::Write` sink on the stack for one formatted number and the few
/// bytes around it on a sample line. The longest number is 24 bytes (`{:e}` of
/// `-2.2250738585072014e-308`, or `-0.0001` and 17 digits); 32 leaves room for the
/// `} ` before it and the `\n` after it.
pub(crate) struct StackBuf {
    buf: [u8; 32],
    len: usize,
}

impl StackBuf {
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            buf: [0; 32],
            len: 0,
        }
    }

    fn as_str(&self) -> &str {
        // Only whole `&str`s are ever copied in, so this never fails.
        core::str::from_utf8(&self.buf[..self.len]).unwrap_or("")
    }

    /// What was written.
    #[inline]
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// Appends ASCII bytes.
    #[inline]
    pub(crate) fn push(&mut self, bytes: &[u8]) -> fmt::Result {
        self.len = append(&mut self.buf, self.len, bytes).ok_or(fmt::Error)?;
        Ok(())
    }
}

impl Write for StackBuf {
    #[inline]
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push(s.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;

    fn go(value: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, value, false).unwrap();
        s
    }

    fn om(value: f64) -> String {
        let mut s = String::new();
        write_f64(&mut s, value, true).unwrap();
        s
    }

    /// Golden output of Go's `strconv.FormatFloat(v, 'g', -1, 64)` as `expfmt` uses it.
    #[test]
    fn golden_table() {
        let table: &[(f64, &str, &str)] = &[
            (0.0, "0", "0.0"),
            (-0.0, "0", "0.0"),
            (1.0, "1", "1.0"),
            (0.5, "0.5", "0.5"),
            (100000.0, "100000", "100000.0"),
            (1e6, "1e+06", "1e+06"),
            (1234567.0, "1.234567e+06", "1.234567e+06"),
            (1.5e-7, "1.5e-07", "1.5e-07"),
            (0.0001, "0.0001", "0.0001"),
            (1e-5, "1e-05", "1e-05"),
            (1e21, "1e+21", "1e+21"),
            (1.7e9, "1.7e+09", "1.7e+09"),
            (f64::INFINITY, "+Inf", "+Inf"),
            (f64::NEG_INFINITY, "-Inf", "-Inf"),
            (f64::NAN, "NaN", "NaN"),
            (3.25, "3.25", "3.25"),
            (1027.0, "1027", "1027.0"),
            (-1e6, "-1e+06", "-1e+06"),
            (-2.5, "-2.5", "-2.5"),
            (
                1.7000000001230001e9,
                "1.7000000001230001e+09",
                "1.7000000001230001e+09",
            ),
            (
                f64::MAX,
                "1.7976931348623157e+308",
                "1.7976931348623157e+308",
            ),
            (
                f64::MIN_POSITIVE,
                "2.2250738585072014e-308",
                "2.2250738585072014e-308",
            ),
            (5e-324, "5e-324", "5e-324"),
            (123456.7, "123456.7", "123456.7"),
            (999999.0, "999999", "999999.0"),
        ];
        for &(value, text, open_metrics) in table {
            assert_eq!(go(value), text, "text format of {value:?}");
            assert_eq!(om(value), open_metrics, "OpenMetrics format of {value:?}");
        }
    }

    /// The OpenMetrics canonical `le`/`quantile` list (§1.3).
    #[test]
    fn canonical_bounds() {
        let values = [
            0.0, 0.001, 0.01, 0.1, 0.9, 0.95, 0.99, 0.999, 1.0, 1.7, 10.0,
        ];
        let expected = [
            "0.0", "0.001", "0.01", "0.1", "0.9", "0.95", "0.99", "0.999", "1.0", "1.7", "10.0",
        ];
        for (value, expected) in values.iter().zip(expected) {
            assert_eq!(om(*value), expected);
        }
        let values = [1e-10, 1e-9, 1e-5, 0.0001, 0.1, 1.0, 100000.0, 1e6, 1e10];
        let expected = [
            "1e-10", "1e-09", "1e-05", "0.0001", "0.1", "1.0", "100000.0", "1e+06", "1e+10",
        ];
        for (value, expected) in values.iter().zip(expected) {
            assert_eq!(om(*value), expected);
        }
    }

    #[test]
    fn integers() {
        for value in [0, 1, 9, 10, 1234, u64::MAX] {
            let mut s = String::new();
            write_u64(&mut s, value).unwrap();
            assert_eq!(s, std::format!("{value}"));
        }
    }

    proptest::proptest! {
        /// The whole-number fast path writes exactly what the general path writes.
        #[test]
        fn integral_fast_path_matches(magnitude in 1u64..(1 << 53), negative in proptest::bool::ANY, open_metrics in proptest::bool::ANY) {
            #[allow(clippy::cast_precision_loss)]
            let value = if negative { -(magnitude as f64) } else { magnitude as f64 };
            let (mut fast, mut general) = (String::new(), String::new());
            write_integral(&mut fast, value, open_metrics).unwrap();
            write_shortest(&mut general, value, open_metrics).unwrap();
            proptest::prop_assert_eq!(fast, general);
        }

        /// Every finite value is written with digits that parse back to the same bits
        /// (`-0.0` aside, which `expfmt` writes as `0`), in both formats.
        #[test]
        fn round_trips(bits in proptest::num::u64::ANY) {
            let value = f64::from_bits(bits);
            for open_metrics in [false, true] {
                let mut s = String::new();
                write_f64(&mut s, value, open_metrics).unwrap();
                let parsed: f64 = match s.as_str() {
                    "+Inf" => f64::INFINITY,
                    "-Inf" => f64::NEG_INFINITY,
                    other => other.parse().unwrap(),
                };
                if value.is_nan() {
                    proptest::prop_assert!(parsed.is_nan());
                } else if value == 0.0 {
                    proptest::prop_assert_eq!(parsed.to_bits(), 0);
                } else {
                    proptest::prop_assert_eq!(parsed.to_bits(), value.to_bits(), "{}", s);
                }
                // Go's shape: exponent form iff the decimal exponent is < -4 or >= 6,
                // a signed two-digit-minimum exponent, and (OpenMetrics) a '.' or 'e'.
                if let Some((_, exponent)) = s.split_once('e') {
                    proptest::prop_assert!(exponent.starts_with('+') || exponent.starts_with('-'));
                    proptest::prop_assert!(exponent.len() >= 3);
                    let magnitude = value.abs();
                    proptest::prop_assert!(!(1e-4..1e6).contains(&magnitude), "{}", s);
                } else if value.is_finite() && value != 0.0 {
                    let magnitude = value.abs();
                    proptest::prop_assert!((9.999e-5..1e6).contains(&magnitude), "{}", s);
                }
                if open_metrics && value.is_finite() {
                    proptest::prop_assert!(s.contains('.') || s.contains('e'), "{}", s);
                }
            }
        }
    }
}
