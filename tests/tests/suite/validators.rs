//! The validator harness can fail: known-bad bodies are rejected with the validator's
//! reason, known-good ones pass with exact values. Without these, a harness that
//! accepted everything would make every exposition test vacuous.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use torchlight_tests::{Family, Sample, openmetrics_parse, promtool_check, text_parse};

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

fn sample(name: &str, pairs: &[(&str, &str)], value: f64) -> Sample {
    Sample {
        name: name.to_owned(),
        labels: labels(pairs),
        value,
        exemplar: None,
    }
}

fn expect_err<T: std::fmt::Debug>(result: Result<T, String>, needle: &str) {
    match result {
        Ok(value) => panic!("expected an error containing {needle:?}, got Ok({value:?})"),
        Err(error) => assert!(
            error.contains(needle),
            "expected an error containing {needle:?}, got {error:?}"
        ),
    }
}

const GOOD_OPENMETRICS: &str = r#"# TYPE requests counter
# HELP requests Requests with \\ backslash, \n newline and \"quotes\".
requests_total{path="/a\"b\\c\nd",lang="日本語"} 3.0
requests_total{path="/",lang="en"} 1e+06
# TYPE temperature_celsius gauge
# UNIT temperature_celsius celsius
# HELP temperature_celsius Room temperature.
temperature_celsius{room="cold"} -Inf
temperature_celsius{room="broken"} NaN
temperature_celsius{room="tiny"} 1.5e-07
# TYPE latency_seconds histogram
# HELP latency_seconds Request latency.
latency_seconds_bucket{le="0.1"} 1
latency_seconds_bucket{le="1.0"} 2
latency_seconds_bucket{le="+Inf"} 3
latency_seconds_sum 12.25
latency_seconds_count 3
# EOF
"#;

#[test]
fn openmetrics_good_body_parses_with_exact_values() {
    let families = openmetrics_parse(GOOD_OPENMETRICS).expect("a valid OpenMetrics body");
    assert_eq!(families.len(), 3);

    assert_eq!(
        families[0],
        Family {
            name: "requests".into(),
            type_: "counter".into(),
            unit: String::new(),
            help: "Requests with \\ backslash, \n newline and \"quotes\".".into(),
            samples: vec![
                sample(
                    "requests_total",
                    &[("path", "/a\"b\\c\nd"), ("lang", "日本語")],
                    3.0
                ),
                sample("requests_total", &[("path", "/"), ("lang", "en")], 1e6),
            ],
        }
    );

    let temperature = &families[1];
    assert_eq!(
        (
            temperature.name.as_str(),
            temperature.type_.as_str(),
            temperature.unit.as_str()
        ),
        ("temperature_celsius", "gauge", "celsius")
    );
    assert_eq!(temperature.samples[0].value, f64::NEG_INFINITY);
    assert!(temperature.samples[1].value.is_nan());
    assert_eq!(temperature.samples[2].value.to_bits(), 1.5e-7_f64.to_bits());

    assert_eq!(
        families[2].samples,
        vec![
            sample("latency_seconds_bucket", &[("le", "0.1")], 1.0),
            sample("latency_seconds_bucket", &[("le", "1.0")], 2.0),
            sample("latency_seconds_bucket", &[("le", "+Inf")], 3.0),
            sample("latency_seconds_sum", &[], 12.25),
            sample("latency_seconds_count", &[], 3.0),
        ]
    );
}

#[test]
fn openmetrics_without_eof_is_rejected() {
    let body = GOOD_OPENMETRICS
        .strip_suffix("# EOF\n")
        .expect("ends with # EOF");
    expect_err(openmetrics_parse(body), "EOF");
}

#[test]
fn openmetrics_counter_family_named_with_total_is_rejected() {
    expect_err(
        openmetrics_parse("# TYPE foo_total counter\nfoo_total 1\n# EOF\n"),
        "Clashing name",
    );
}

#[test]
fn openmetrics_blank_line_is_rejected() {
    expect_err(
        openmetrics_parse("# TYPE foo gauge\n\nfoo 1\n# EOF\n"),
        "blank line",
    );
}

#[test]
fn openmetrics_negative_counter_is_rejected() {
    expect_err(
        openmetrics_parse("# TYPE foo counter\nfoo_total -1\n# EOF\n"),
        "negative",
    );
}

const GOOD_TEXT: &str = r#"# HELP http_requests_total Requests with \\ backslash, \n newline and "quotes".
# TYPE http_requests_total counter
http_requests_total{path="/a\"b\\c\nd",lang="日本語"} 3
http_requests_total{path="/",lang="en"} 1e+06
# HELP queue_depth Jobs waiting.
# TYPE queue_depth gauge
queue_depth -Inf
# HELP latency_seconds Request latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.1"} 1
latency_seconds_bucket{le="1"} 2
latency_seconds_bucket{le="+Inf"} 3
latency_seconds_sum 12.25
latency_seconds_count 3
"#;

#[test]
fn promtool_accepts_a_good_text_body() {
    assert_eq!(promtool_check(GOOD_TEXT), Ok(()));
}

#[test]
fn text_parser_reads_a_good_text_body_with_exact_values() {
    let families = text_parse(GOOD_TEXT).expect("a valid text body");
    let summary: Vec<(&str, &str, &str)> = families
        .iter()
        .map(|family| {
            (
                family.name.as_str(),
                family.type_.as_str(),
                family.help.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            (
                "http_requests",
                "counter",
                "Requests with \\ backslash, \n newline and \"quotes\"."
            ),
            ("queue_depth", "gauge", "Jobs waiting."),
            ("latency_seconds", "histogram", "Request latency."),
        ]
    );
    assert_eq!(
        families[0].samples,
        vec![
            sample(
                "http_requests_total",
                &[("path", "/a\"b\\c\nd"), ("lang", "日本語")],
                3.0
            ),
            sample("http_requests_total", &[("path", "/"), ("lang", "en")], 1e6),
        ]
    );
    assert_eq!(families[1].samples[0].value, f64::NEG_INFINITY);
    assert_eq!(
        families[2].samples[1],
        sample("latency_seconds_bucket", &[("le", "1")], 2.0)
    );
}

#[test]
fn text_parser_rejects_a_non_float_value() {
    expect_err(
        text_parse("# TYPE foo gauge\nfoo abc\n"),
        "could not convert string to float",
    );
}

#[test]
fn promtool_rejects_an_escaped_quote_in_help() {
    expect_err(
        promtool_check("# HELP foo a \\\"quoted\\\" word\n# TYPE foo gauge\nfoo 1\n"),
        "invalid escape sequence",
    );
}

#[test]
fn promtool_rejects_crlf_line_endings() {
    expect_err(
        promtool_check("# HELP foo Foo.\r\n# TYPE foo gauge\r\nfoo 1\r\n"),
        "parsing error",
    );
}

#[test]
fn promtool_reports_a_counter_without_total_as_a_lint_problem() {
    expect_err(
        promtool_check("# HELP foo Foo.\n# TYPE foo counter\nfoo 1\n"),
        "should have \"_total\" suffix",
    );
}

#[test]
fn promtool_reports_missing_help_as_a_lint_problem() {
    expect_err(
        promtool_check("# TYPE foo_total counter\nfoo_total 1\n"),
        "no help text",
    );
}
