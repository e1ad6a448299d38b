//! Metric names, label names and units: the grammars a registry checks once, at
//! registration, and how the exposition escapes a name a scraper cannot read.
//!
//! Two grammars (client_golang's `model.ValidationScheme`), chosen per registry
//! ([`NameValidation`]):
//!
//! - UTF-8 (the default, as in client_golang and `prometheus_client` 0.26): any
//!   non-empty name; a label name must not start with the reserved `__`.
//! - legacy: `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names, `[a-zA-Z_][a-zA-Z0-9_]*`
//!   without a leading `__` for label names (`exposition-and-integration.md` §1.2–1.3).
//!
//! A name outside the legacy grammar reaches the exposition through an [`Escaping`]
//! scheme (Prometheus' "UTF-8 metric and label name escaping schemes"), which the
//! scraper negotiates (`escaping=` in its `Accept` header, `underscores` when it sends
//! none). The formats call [`escaped`] here and nowhere else; a legacy name is written
//! unchanged under every scheme, as client_golang's `model.EscapeMetricFamily` does.

use core::fmt;

/// Which names a [`Registry`](crate::Registry) accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum NameValidation {
    /// Any non-empty UTF-8 metric name and label name (label names not starting with
    /// `__`): what Prometheus 3 stores. A scraper that cannot read such a name gets it
    /// escaped ([`Escaping`]).
    Utf8,
    /// Prometheus 2's grammar only: `[a-zA-Z_:][a-zA-Z0-9_:]*` for metric names,
    /// `[a-zA-Z_][a-zA-Z0-9_]*` (no leading `__`) for label names. Every scraper then
    /// reads every name as registered.
    Legacy,
}

impl NameValidation {
    /// Whether `name` is a metric name under this grammar.
    #[must_use]
    pub const fn is_metric_name(self, name: &str) -> bool {
        match self {
            Self::Utf8 => !name.is_empty(),
            Self::Legacy => is_metric_name(name),
        }
    }

    /// Whether `name` is a label name under this grammar.
    #[must_use]
    pub const fn is_label_name(self, name: &str) -> bool {
        match self {
            Self::Utf8 => is_utf8_label_name(name),
            Self::Legacy => is_label_name(name),
        }
    }
}

/// How a name outside the legacy grammar is written, as Prometheus' "UTF-8 metric and
/// label name escaping schemes" defines the `escaping` parameter of `Accept` and
/// `Content-Type`. A legacy name is written unchanged under every scheme (as
/// client_golang's `model.EscapeMetricFamily` leaves it; `prometheus_client` 0.26
/// rewrites `_` in every name under `dots`, which this follows Go in not doing).
///
/// | scheme | `http.server.requests` | `ünits` |
/// |---|---|---|
/// | `allow-utf-8` | `"http.server.requests"` (quoted in the text formats) | `"ünits"` |
/// | `underscores` | `http_server_requests` | `_nits` |
/// | `dots` | `http_dot_server_dot_requests` | `__nits` |
/// | `values` | `U__http_2e_server_2e_requests` | `U___fc_nits` |
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Escaping {
    /// Names as they are: the text formats quote a name outside the legacy grammar
    /// (`{"http.server.requests","http.request.method"="GET"} 3`).
    AllowUtf8,
    /// Every character outside the legacy grammar becomes `_`: what a scraper gets
    /// when it names no scheme (Prometheus 2.x).
    #[default]
    Underscores,
    /// `.` becomes `_dot_`, `_` becomes `__`, any other character outside the grammar
    /// `__`.
    Dots,
    /// `U__` then each character outside the grammar as `_<hex code point>_`, `_` as
    /// `__`.
    Values,
}

impl Escaping {
    /// Every scheme, for checks that must hold under all of them.
    pub(crate) const ALL: [Self; 4] =
        [Self::AllowUtf8, Self::Underscores, Self::Dots, Self::Values];

    /// The `escaping` parameter's value.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::AllowUtf8 => "allow-utf-8",
            Self::Underscores => "underscores",
            Self::Dots => "dots",
            Self::Values => "values",
        }
    }

    /// The scheme an `escaping` parameter's value names (exactly, as client_golang
    /// compares it), or `None` for a value no scheme has.
    #[must_use]
    pub fn from_param(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scheme| scheme.as_str() == value)
    }
}

impl fmt::Display for Escaping {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether `name` is a legacy metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`).
pub(crate) const fn is_metric_name(name: &str) -> bool {
    legacy(name, false)
}

/// Whether `name` is a legacy label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with
/// the reserved `__`).
pub(crate) const fn is_label_name(name: &str) -> bool {
    legacy(name, true) && !reserved(name)
}

/// A UTF-8 label name: not empty, not starting with the reserved `__`.
pub(crate) const fn is_utf8_label_name(name: &str) -> bool {
    !name.is_empty() && !reserved(name)
}

const fn reserved(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_'
}

/// Whether every character of non-empty `name` is a legacy one (a label name's
/// excludes `:`).
pub(crate) const fn legacy(name: &str, label: bool) -> bool {
    let bytes = name.as_bytes();
    let colon = if label { 0 } else { COLON };
    let [first, rest @ ..] = bytes else {
        return false;
    };
    // One table lookup a byte, no early exit: names are short and almost always valid.
    let mut all = CLASS[*first as usize] & (FIRST | colon) != 0;
    let mut i = 0;
    while i < rest.len() {
        all &= CLASS[rest[i] as usize] & (LATER | colon) != 0;
        i += 1;
    }
    all
}

/// A byte a legacy name may hold at position `i` ([`CLASS`]).
#[inline]
const fn legacy_byte(b: u8, i: usize, label: bool) -> bool {
    let colon = if label { 0 } else { COLON };
    let allowed = if i == 0 { FIRST } else { LATER };
    CLASS[b as usize] & (allowed | colon) != 0
}

/// [`CLASS`] bits: a byte a legacy name may start with (letters, `_`).
const FIRST: u8 = 1;
/// A byte a legacy name may hold after its first (letters, `_`, digits).
const LATER: u8 = 2;
/// `:`, anywhere in a metric name, nowhere in a label name.
const COLON: u8 = 4;

/// What each byte may be in a legacy name: client_golang's `isValidLegacyRune`; for
/// label names `prometheus_client`'s `_is_legacy_labelname_rune`, which leaves `:` out
/// as the label grammar does.
const CLASS: [u8; 256] = {
    let mut class = [0u8; 256];
    let mut b = 0;
    while b < 256 {
        // Below 256: the cast keeps every value.
        #[allow(clippy::cast_possible_truncation)]
        let byte = b as u8;
        class[b] = if byte.is_ascii_alphabetic() || byte == b'_' {
            FIRST | LATER
        } else if byte.is_ascii_digit() {
            LATER
        } else if byte == b':' {
            COLON
        } else {
            0
        };
        b += 1;
    }
    class
};

/// The bytes of `name` as `scheme` writes it outside quotes (all ASCII for every
/// scheme but [`Escaping::AllowUtf8`], which yields `name` unchanged). A legacy name
/// is unchanged under every scheme.
pub(crate) fn escaped(name: &str, scheme: Escaping, label: bool) -> Escaped<'_> {
    let unchanged = scheme == Escaping::AllowUtf8 || legacy(name, label);
    Escaped {
        chars: name.char_indices(),
        raw: name.as_bytes(),
        scheme,
        label,
        unchanged,
        at: 0,
        pending: Piece::new(if !unchanged && scheme == Escaping::Values {
            b"U__"
        } else {
            b""
        }),
    }
}

/// The iterator [`escaped`] returns.
pub(crate) struct Escaped<'a> {
    chars: core::str::CharIndices<'a>,
    raw: &'a [u8],
    scheme: Escaping,
    label: bool,
    /// Invariant: when set, the bytes of `raw` are yielded as they are.
    unchanged: bool,
    /// The next byte of `raw` when `unchanged`.
    at: usize,
    pending: Piece,
}

/// A few bytes still to yield: one character's replacement (`_10ffff_` is the
/// longest).
struct Piece {
    bytes: [u8; 8],
    len: u8,
    next: u8,
}

impl Piece {
    fn new(from: &[u8]) -> Self {
        let mut bytes = [0; 8];
        bytes[..from.len()].copy_from_slice(from);
        // At most 8 bytes: the cast is exact.
        #[allow(clippy::cast_possible_truncation)]
        let len = from.len() as u8;
        Self {
            bytes,
            len,
            next: 0,
        }
    }

    fn pop(&mut self) -> Option<u8> {
        (self.next < self.len).then(|| {
            self.next += 1;
            self.bytes[usize::from(self.next - 1)]
        })
    }
}

impl Iterator for Escaped<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        if self.unchanged {
            let byte = *self.raw.get(self.at)?;
            self.at += 1;
            return Some(byte);
        }
        loop {
            if let Some(byte) = self.pending.pop() {
                return Some(byte);
            }
            let (i, c) = self.chars.next()?;
            // A legacy character is ASCII: the cast keeps it.
            #[allow(clippy::cast_possible_truncation)]
            let ascii = c.is_ascii() && legacy_byte(c as u8, i, self.label);
            self.pending = match (self.scheme, c) {
                (Escaping::Dots | Escaping::Values, '_') => Piece::new(b"__"),
                (Escaping::Dots, '.') => Piece::new(b"_dot_"),
                #[allow(clippy::cast_possible_truncation)]
                _ if ascii => Piece::new(&[c as u8]),
                (Escaping::Underscores | Escaping::AllowUtf8, _) => Piece::new(b"_"),
                (Escaping::Dots, _) => Piece::new(b"__"),
                (Escaping::Values, _) => {
                    let mut hex = [0u8; 8];
                    hex[0] = b'_';
                    let mut len = 1;
                    let code = u32::from(c);
                    let digits = ((32 - code.leading_zeros()).max(1)).div_ceil(4);
                    for shift in (0..digits).rev() {
                        // A nibble: the cast is exact.
                        #[allow(clippy::cast_possible_truncation)]
                        let nibble = ((code >> (shift * 4)) & 0xf) as u8;
                        hex[len] = if nibble < 10 {
                            b'0' + nibble
                        } else {
                            b'a' + nibble - 10
                        };
                        len += 1;
                    }
                    hex[len] = b'_';
                    Piece::new(&hex[..=len])
                }
            };
        }
    }
}

/// Whether `a + a_suffix` and `b + b_suffix` are one name under some scheme: the same
/// name, or two names that one [`Escaping`] writes alike (`a.b` and `a_b` under
/// `underscores`). Suffixes are legacy and follow the escaped name, as the formats
/// write them.
pub(crate) fn escape_alike(a: &str, a_suffix: &str, b: &str, b_suffix: &str, label: bool) -> bool {
    Escaping::ALL.into_iter().any(|scheme| {
        let left = escaped(a, scheme, label).chain(a_suffix.bytes());
        let right = escaped(b, scheme, label).chain(b_suffix.bytes());
        left.eq(right)
    })
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;

    #[test]
    fn metric_names() {
        for good in ["a", "_", "http_requests_total", "job:rate5m", "A1", ":x"] {
            assert!(is_metric_name(good), "{good}");
        }
        for bad in ["", "1a", "a-b", "a b", "ä", "a.b", "a\n"] {
            assert!(!is_metric_name(bad), "{bad}");
        }
    }

    #[test]
    fn label_names() {
        for good in ["a", "_a", "path", "le", "A_1"] {
            assert!(is_label_name(good), "{good}");
        }
        for bad in ["", "1a", "__name__", "__x", "a:b", "a-b", "é"] {
            assert!(!is_label_name(bad), "{bad}");
        }
    }

    #[test]
    fn every_ascii_byte_first_and_later_follows_the_grammar() {
        for b in 0u8..=127 {
            let c = char::from(b);
            let letter = c.is_ascii_alphabetic() || c == '_';
            let first = String::from(c);
            let later: String = ['a', c].into_iter().collect();
            assert_eq!(legacy(&first, true), letter, "{b}");
            assert_eq!(legacy(&first, false), letter || c == ':', "{b}");
            assert_eq!(legacy(&later, true), letter || c.is_ascii_digit(), "{b}");
            assert_eq!(
                legacy(&later, false),
                letter || c.is_ascii_digit() || c == ':',
                "{b}"
            );
        }
        // Every byte of a longer name counts, not only the first and the last.
        assert!(!legacy("ab-cd", true) && !legacy("abcdefgh\nijk", false));
        assert!(legacy("job:rate5m:sum", false) && !legacy("job:rate5m", true));
    }

    #[test]
    fn utf8_names() {
        for good in ["a", "a.b", "ü", "1a", "a b", "http.server.request.duration"] {
            assert!(NameValidation::Utf8.is_metric_name(good), "{good}");
            assert!(NameValidation::Utf8.is_label_name(good), "{good}");
        }
        assert!(!NameValidation::Utf8.is_metric_name(""));
        for bad in ["", "__x", "__name__"] {
            assert!(!NameValidation::Utf8.is_label_name(bad), "{bad}");
        }
        assert!(!NameValidation::Legacy.is_metric_name("a.b"));
    }

    fn escape(name: &str, scheme: Escaping, label: bool) -> String {
        String::from_utf8(escaped(name, scheme, label).collect()).unwrap()
    }

    /// Each scheme's examples in Prometheus' "UTF-8 metric and label name escaping
    /// schemes", and the cases where the rules meet (digits first, `:` in labels).
    #[test]
    fn schemes() {
        use Escaping::{AllowUtf8, Dots, Underscores, Values};
        for (name, scheme, label, expected) in [
            (
                "metric.name/with/slashes",
                Underscores,
                false,
                "metric_name_with_slashes",
            ),
            (
                "metric.name.with.dots",
                Dots,
                false,
                "metric_dot_name_dot_with_dot_dots",
            ),
            ("metric.name", Values, false, "U__metric_2e_name"),
            ("metric_name.x", Values, false, "U__metric__name_2e_x"),
            ("metric_name.x", Dots, false, "metric__name_dot_x"),
            ("ünits", Underscores, false, "_nits"),
            ("ünits", Dots, false, "__nits"),
            ("ünits", Values, false, "U___fc_nits"),
            ("1a.b", Underscores, false, "_a_b"),
            ("1a.b", Values, false, "U___31_a_2e_b"),
            ("🙂.x", Values, false, "U___1f642__2e_x"),
            ("a:b.c", Underscores, false, "a:b_c"),
            ("a:b.c", Underscores, true, "a_b_c"),
            ("a.b", AllowUtf8, false, "a.b"),
            // A legacy name is left as it is, under every scheme (Go's rule).
            ("foo_bar", Dots, false, "foo_bar"),
            ("foo_bar", Values, false, "foo_bar"),
            ("job:rate5m", Underscores, false, "job:rate5m"),
        ] {
            assert_eq!(escape(name, scheme, label), expected, "{name} {scheme}");
        }
    }

    #[test]
    fn names_that_escape_alike() {
        assert!(escape_alike("a.b", "", "a_b", "", false));
        assert!(escape_alike("a.b", "_total", "a_b_total", "", false));
        assert!(escape_alike("a.b", "", "a_dot_b", "", false));
        assert!(escape_alike("a.b", "", "U__a_2e_b", "", false));
        assert!(escape_alike("foo", "_total", "foo_to", "tal", false));
        assert!(!escape_alike("foo", "_total", "foo", "_count", false));
        assert!(!escape_alike("a.b", "", "a-c", "", false));
        assert!(!escape_alike("a.b", "", "a:b", "", false));
        assert!(escape_alike("a.b", "", "a:b", "", true));
    }

    proptest::proptest! {
        /// Every scheme but `allow-utf-8` writes a legacy name, and `values` writes
        /// distinct non-legacy names distinctly (`dots` writes every character but
        /// `.` and `_` outside the grammar as `__`).
        #[test]
        fn escaped_names_are_legacy(name in "\\PC{1,12}", other in "\\PC{1,12}") {
            for scheme in [Escaping::Underscores, Escaping::Dots, Escaping::Values] {
                proptest::prop_assert!(is_metric_name(&escape(&name, scheme, false)), "{}", name);
                proptest::prop_assert!(legacy(&escape(&name, scheme, true), true), "{}", name);
            }
            if name != other && !legacy(&name, false) && !legacy(&other, false) {
                proptest::prop_assert_ne!(
                    escape(&name, Escaping::Values, false),
                    escape(&other, Escaping::Values, false)
                );
            }
        }
    }
}
