//! Turning the facade's free-form names into names the registry accepts.
//!
//! A registry that accepts UTF-8 names ([`Registry::new`](torchlight::Registry::new),
//! the default) takes them **as recorded**: `http.server.requests` stays
//! `http.server.requests`, and each scraper gets it escaped as it asked (Prometheus 3
//! quoted, older ones `http_server_requests`). Two recorded names a scraper would read
//! alike (`a.b` and `a_b`) are refused by the registry (`RegisterError::Clash`):
//! the second is reported once and records into no-op handles. Label keys are matched
//! by their sanitised form below, so `http.method` and `http_method` are one label,
//! spelled as first recorded, never two labels a scraper reads alike.
//!
//! A legacy registry ([`Registry::legacy`](torchlight::Registry::legacy)) gets the
//! names sanitised as `metrics-exporter-prometheus` 0.18 does (its `formatting.rs`:
//! `sanitize_metric_name`, `sanitize_label_key`), so a program moving between the two
//! exporters keeps its series names:
//!
//! - A **metric name** keeps `[a-zA-Z_:]` as its first character and `[a-zA-Z0-9_:]`
//!   after it; every other character (a Unicode *character*, not a byte) becomes `_`.
//!   `http.requests` → `http_requests`, `1st` → `_st`, `größe` → `gr__e`.
//! - A **label name** keeps `[a-zA-Z_]` first and `[a-zA-Z0-9_]` after; every other
//!   character becomes `_` (so `:` too). `http.method` → `http_method`.
//! - **Label values and descriptions** are not rewritten: torchlight's encoder escapes
//!   `\`, `"` and line feeds as the exposition formats require, so every value reads
//!   back exactly as recorded. (The exporter instead leaves a `\\` pair unescaped,
//!   assuming it was escaped already, so `a\\b` reads back as `a\b` there.)
//!
//! Names the rules still leave invalid are refused at registration and reported (see
//! [`RecordError`](crate::RecordError)): the empty name, and label names starting with
//! `__` (reserved by Prometheus).
//!
//! Reference: the Prometheus data model, "Metric names and labels",
//! <https://prometheus.io/docs/concepts/data_model/#metric-names-and-labels>.

use std::borrow::Cow;

use torchlight::{NameValidation, Registry};

/// How the recorder spells names for its registry: as recorded where the registry
/// accepts UTF-8 names, sanitised where it takes only legacy ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Spelling {
    utf8: bool,
}

impl Spelling {
    pub(crate) fn of(registry: &Registry) -> Self {
        Self {
            utf8: registry.name_validation() != NameValidation::Legacy,
        }
    }

    /// The metric name the registry gets for `name`.
    pub(crate) fn metric_name(self, name: &str) -> Cow<'_, str> {
        if self.utf8 {
            Cow::Borrowed(name)
        } else {
            metric_name(name)
        }
    }

    /// The label name the registry gets for `name`.
    pub(crate) fn label_name(self, name: &str) -> Cow<'_, str> {
        if self.utf8 {
            Cow::Borrowed(name)
        } else {
            label_name(name)
        }
    }
}

/// `name` with every character a metric name cannot hold replaced by `_`.
#[must_use]
pub fn metric_name(name: &str) -> Cow<'_, str> {
    sanitize(name, |c, first| {
        c.is_ascii_alphabetic() || c == '_' || c == ':' || (!first && c.is_ascii_digit())
    })
}

/// `name` with every character a label name cannot hold replaced by `_`.
#[must_use]
pub fn label_name(name: &str) -> Cow<'_, str> {
    sanitize(name, |c, first| {
        c.is_ascii_alphabetic() || c == '_' || (!first && c.is_ascii_digit())
    })
}

/// Replaces each character `keep(c, is_first)` refuses with `_`; borrows when nothing
/// changes (the common case, so a valid name costs no allocation).
fn sanitize(name: &str, keep: impl Fn(char, bool) -> bool) -> Cow<'_, str> {
    let valid = |(i, c): (usize, char)| keep(c, i == 0);
    if name.chars().enumerate().all(valid) {
        return Cow::Borrowed(name);
    }
    Cow::Owned(
        name.chars()
            .enumerate()
            .map(|(i, c)| if keep(c, i == 0) { c } else { '_' })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metric_names_as_the_exporter_writes_them() {
        // The exporter's own known cases (formatting.rs), plus multi-byte characters.
        for (input, expected) in [
            ("*", "_"),
            ("\"", "_"),
            ("foo_bar", "foo_bar"),
            ("foo1_bar", "foo1_bar"),
            ("1foobar", "_foobar"),
            ("foo1:bar2", "foo1:bar2"),
            ("123", "_23"),
            ("http.requests", "http_requests"),
            ("größe", "gr__e"),
            ("", ""),
        ] {
            assert_eq!(metric_name(input), expected, "{input:?}");
        }
    }

    #[test]
    fn label_names_as_the_exporter_writes_them() {
        for (input, expected) in [
            ("*", "_"),
            ("\"", "_"),
            (":", "_"),
            ("foo_bar", "foo_bar"),
            ("1foobar", "_foobar"),
            ("__foobar", "__foobar"),
            ("foo1bar2", "foo1bar2"),
            ("123", "_23"),
            ("http.method", "http_method"),
        ] {
            assert_eq!(label_name(input), expected, "{input:?}");
        }
    }

    #[test]
    fn valid_names_are_borrowed() {
        assert!(matches!(metric_name("a:b_1"), Cow::Borrowed(_)));
        assert!(matches!(label_name("a_b1"), Cow::Borrowed(_)));
    }
}
