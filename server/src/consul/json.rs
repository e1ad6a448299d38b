//! The few JSON and URL pieces the agent's requests need, written by hand so the
//! server needs no JSON dependency: strings, Go durations, percent-encoding.

use std::fmt::Write as _;
use std::time::Duration;

/// Writes `s` as a JSON string (RFC 8259 §7): `"` and `\` escaped, control characters
/// as their short escapes or `\u00XX`, everything else verbatim (UTF-8).
pub(super) fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A duration in Go's `time.ParseDuration` syntax, as Consul reads `Interval` and
/// friends: the largest of `h`, `m`, `s`, `ms`, `us`, `ns` that divides it exactly.
pub(super) fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    const UNITS: [(u128, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if nanos == 0 {
        return "0s".to_owned();
    }
    for (unit, suffix) in UNITS {
        if nanos % unit == 0 {
            return std::format!("{}{suffix}", nanos / unit);
        }
    }
    std::format!("{nanos}ns")
}

/// Percent-encodes every byte of `s` but RFC 3986's unreserved characters.
pub(super) fn percent_encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        for (d, s) in [
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(90 * 60), "90m"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(3), "3us"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(go_duration(d), s);
        }
    }

    #[test]
    fn json_escapes() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\re\tf\u{8}\u{c}\u{1}\u{1f}é\u{7f}");
        assert_eq!(
            out,
            r#""a\"b\\c\nd\re\tf\b\f\u0001\u001fé"#.to_owned() + "\u{7f}\""
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        let mut out = String::new();
        percent_encode(&mut out, "id/with space?#%é-._~Az9");
        assert_eq!(out, "id%2Fwith%20space%3F%23%25%C3%A9-._~Az9");
    }
}
