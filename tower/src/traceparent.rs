//! The W3C Trace Context `traceparent` header (<https://www.w3.org/TR/trace-context/>,
//! version `00`), read into a fixed-size value so an exemplar costs no allocation:
//! `00-<32 hex trace id>-<16 hex parent id>-<2 hex flags>`.

use http::{HeaderMap, HeaderName};

/// The header's name, made once: a `&str` name would be parsed at every lookup.
static TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");

/// A sampled request's trace and span ids, as lowercase hex.
#[derive(Clone, Copy)]
pub(crate) struct TraceContext {
    /// Invariant: 32 lowercase hex digits, not all zero.
    trace_id: [u8; 32],
    /// Invariant: 16 lowercase hex digits, not all zero.
    span_id: [u8; 16],
}

impl TraceContext {
    /// The context of `headers`' `traceparent`, when there is exactly one, it is
    /// well-formed (version `00`, or a later version's first 55 characters, as the
    /// specification asks of a parser), its ids are not all zero and its `sampled`
    /// flag is set: an exemplar pointing at a trace that was not recorded leads
    /// nowhere.
    pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Self> {
        let mut values = headers.get_all(&TRACEPARENT).iter();
        let value = values.next()?;
        if values.next().is_some() {
            return None;
        }
        Self::parse(value.as_bytes())
    }

    fn parse(value: &[u8]) -> Option<Self> {
        let value = value.trim_ascii();
        let (head, rest) = value.split_at_checked(55)?;
        let version = head.get(..2)?;
        // Version `ff` is invalid; a version above `00` may append fields after a `-`.
        if !is_hex(version) || version == b"ff" || (version == b"00" && !rest.is_empty()) {
            return None;
        }
        if !rest.is_empty() && rest.first() != Some(&b'-') {
            return None;
        }
        if head.get(2) != Some(&b'-') || head.get(35) != Some(&b'-') || head.get(52) != Some(&b'-')
        {
            return None;
        }
        let trace: [u8; 32] = head.get(3..35)?.try_into().ok()?;
        let span: [u8; 16] = head.get(36..52)?.try_into().ok()?;
        let flags = head.get(53..55)?;
        if !is_hex(&trace) || !is_hex(&span) || !is_hex(flags) {
            return None;
        }
        if trace.iter().all(|&b| b == b'0') || span.iter().all(|&b| b == b'0') {
            return None;
        }
        let sampled = flags.get(1).is_some_and(|&low| hex_value(low) & 1 == 1);
        sampled.then_some(Self {
            trace_id: trace,
            span_id: span,
        })
    }

    /// The exemplar's labels: `trace_id` and `span_id`, the names OpenMetrics'
    /// examples and Grafana use.
    pub(crate) fn labels(&self) -> [(&'static str, &str); 2] {
        [
            (
                "trace_id",
                core::str::from_utf8(&self.trace_id).unwrap_or(""),
            ),
            ("span_id", core::str::from_utf8(&self.span_id).unwrap_or("")),
        ]
    }
}

/// Lowercase hex, as the specification requires.
fn is_hex(bytes: &[u8]) -> bool {
    bytes
        .iter()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
}

fn hex_value(digit: u8) -> u8 {
    match digit {
        b'0'..=b'9' => digit - b'0',
        b'a'..=b'f' => digit - b'a' + 10,
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRACE: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
    const SPAN: &str = "00f067aa0ba902b7";

    fn parse(value: &str) -> Option<[String; 2]> {
        TraceContext::parse(value.as_bytes()).map(|context| {
            let [(_, trace), (_, span)] = context.labels();
            [trace.to_owned(), span.to_owned()]
        })
    }

    #[test]
    fn a_sampled_traceparent_gives_its_ids() {
        assert_eq!(
            parse(&format!("00-{TRACE}-{SPAN}-01")),
            Some([TRACE.to_owned(), SPAN.to_owned()])
        );
        // A later version may carry more fields.
        assert!(parse(&format!("01-{TRACE}-{SPAN}-01-whatever")).is_some());
    }

    #[test]
    fn malformed_unsampled_or_zero_ids_give_none() {
        assert_eq!(parse(&format!("00-{TRACE}-{SPAN}-00")), None, "not sampled");
        assert_eq!(parse(&format!("00-{}-{SPAN}-01", "0".repeat(32))), None);
        assert_eq!(parse(&format!("00-{TRACE}-{}-01", "0".repeat(16))), None);
        assert_eq!(
            parse(&format!("00-{}-{SPAN}-01", TRACE.to_uppercase())),
            None
        );
        assert_eq!(parse(&format!("ff-{TRACE}-{SPAN}-01")), None);
        assert_eq!(parse(&format!("00-{TRACE}-{SPAN}-01-extra")), None);
        assert_eq!(parse(&format!("00-{TRACE}-{SPAN}")), None);
        assert_eq!(parse(""), None);
    }
}
