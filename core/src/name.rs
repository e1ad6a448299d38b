//! The exposition rules for metric names, label names and units
//! (`exposition-and-integration.md` §1.2–1.3), checked once at registration.

/// `[a-zA-Z_:][a-zA-Z0-9_:]*`
pub(crate) const fn is_metric_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes[0].is_ascii_digit() {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'_' || b == b':') {
            return false;
        }
        i += 1;
    }
    true
}

/// `[a-zA-Z_][a-zA-Z0-9_]*`, not starting with the reserved `__`.
pub(crate) const fn is_label_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes[0].is_ascii_digit() {
        return false;
    }
    if bytes.len() >= 2 && bytes[0] == b'_' && bytes[1] == b'_' {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'_') {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether `a + a_suffix == b + b_suffix`, without building either string.
pub(crate) fn concat_eq(a: &str, a_suffix: &str, b: &str, b_suffix: &str) -> bool {
    if a.len() + a_suffix.len() != b.len() + b_suffix.len() {
        return false;
    }
    let left = a.bytes().chain(a_suffix.bytes());
    let right = b.bytes().chain(b_suffix.bytes());
    left.eq(right)
}

#[cfg(test)]
mod tests {
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
    fn concatenation() {
        assert!(concat_eq("foo", "_total", "foo_to", "tal"));
        assert!(!concat_eq("foo", "_total", "foo", "_count"));
        assert!(concat_eq("foo_sum", "", "foo", "_sum"));
    }
}
