//! Golden bytes of the fixture expositions (`torchlight_tests::fixtures`), which the
//! reference-parser checks also read. `prometheus_client` 0.26's strict OpenMetrics
//! parser and its text parser accepted exactly these bytes when they were recorded.
#![forbid(unsafe_code)]

use torchlight::Format;
use torchlight_tests::fixtures::exposition;

const TEXT: &str = r##"# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
rpc_duration_seconds_sum 2.75
rpc_duration_seconds_count 3
# HELP build_info Build "facts" \\ with\nnewline.
# TYPE build_info gauge
build_info{version="1.2.3",commit="a\"b\\c\nd"} 1
# HELP job_state Job state.
# TYPE job_state gauge
job_state{job_state="queued"} 0
job_state{job_state="running"} 1
job_state{job_state="done"} 0
# HELP http_requests_total Requests served.
# TYPE http_requests_total counter
http_requests_total{method="GET",path=""} 1
http_requests_total{method="GET",path="/"} 3
http_requests_total{method="GET",path="/a\"b\\c\nd"} 1
http_requests_total{method="POST",path="/ünïcødé ✓"} 2
http_requests_total{otel_metric_overflow="true"} 6
# HELP queue_depth Items waiting.
# TYPE queue_depth gauge
queue_depth{queue="a"} 7
queue_depth{queue="b"} -2
# HELP http_latency_seconds Time to serve.
# TYPE http_latency_seconds histogram
http_latency_seconds_bucket{path="/",le="0.01"} 0
http_latency_seconds_bucket{path="/",le="0.1"} 1
http_latency_seconds_bucket{path="/",le="1"} 2
http_latency_seconds_bucket{path="/",le="+Inf"} 3
http_latency_seconds_sum{path="/"} 5.55
http_latency_seconds_count{path="/"} 3
http_latency_seconds_bucket{path="/health",le="0.01"} 1
http_latency_seconds_bucket{path="/health",le="0.1"} 1
http_latency_seconds_bucket{path="/health",le="1"} 1
http_latency_seconds_bucket{path="/health",le="+Inf"} 1
http_latency_seconds_sum{path="/health"} 0.001
http_latency_seconds_count{path="/health"} 1
"##;

const OPENMETRICS: &str = r##"# HELP rpc_duration_seconds RPC latency.
# TYPE rpc_duration_seconds summary
# UNIT rpc_duration_seconds seconds
rpc_duration_seconds_sum 2.75
rpc_duration_seconds_count 3
# HELP build Build \"facts\" \\ with\nnewline.
# TYPE build info
build_info{version="1.2.3",commit="a\"b\\c\nd"} 1.0
# HELP job_state Job state.
# TYPE job_state stateset
job_state{job_state="queued"} 0.0
job_state{job_state="running"} 1.0
job_state{job_state="done"} 0.0
# HELP http_requests Requests served.
# TYPE http_requests counter
http_requests_total{method="GET",path=""} 1.0
http_requests_total{method="GET",path="/"} 3.0
http_requests_total{method="GET",path="/a\"b\\c\nd"} 1.0
http_requests_total{method="POST",path="/ünïcødé ✓"} 2.0
http_requests_total{otel_metric_overflow="true"} 6.0
# HELP queue_depth Items waiting.
# TYPE queue_depth gauge
queue_depth{queue="a"} 7.0
queue_depth{queue="b"} -2.0
# HELP http_latency_seconds Time to serve.
# TYPE http_latency_seconds histogram
# UNIT http_latency_seconds seconds
http_latency_seconds_bucket{path="/",le="0.01"} 0
http_latency_seconds_bucket{path="/",le="0.1"} 1
http_latency_seconds_bucket{path="/",le="1.0"} 2
http_latency_seconds_bucket{path="/",le="+Inf"} 3
http_latency_seconds_sum{path="/"} 5.55
http_latency_seconds_count{path="/"} 3
http_latency_seconds_bucket{path="/health",le="0.01"} 1
http_latency_seconds_bucket{path="/health",le="0.1"} 1
http_latency_seconds_bucket{path="/health",le="1.0"} 1
http_latency_seconds_bucket{path="/health",le="+Inf"} 1
http_latency_seconds_sum{path="/health"} 0.001
http_latency_seconds_count{path="/health"} 1
# EOF
"##;

#[test]
fn text_golden() {
    assert_eq!(exposition(Format::Text), TEXT);
}

#[test]
fn openmetrics_golden() {
    assert_eq!(exposition(Format::OpenMetrics), OPENMETRICS);
}

#[test]
fn fixtures_are_deterministic() {
    // Fresh registries and families (new random hash keys) give the same bytes.
    for _ in 0..3 {
        assert_eq!(exposition(Format::OpenMetrics), OPENMETRICS);
    }
}

/// Every sample as `(name, labels) -> value`, for comparing parsers. `le` values are
/// compared as numbers: text 0.0.4 writes `le="1"` where OpenMetrics writes `le="1.0"`.
fn samples(families: &[torchlight_tests::Family]) -> std::collections::BTreeMap<String, f64> {
    families
        .iter()
        .flat_map(|family| &family.samples)
        .map(|sample| {
            let mut labels = sample.labels.clone();
            if let Some(le) = labels.get_mut("le") {
                *le = le.parse::<f64>().expect("le is a number").to_string();
            }
            (format!("{}{labels:?}", sample.name), sample.value)
        })
        .collect()
}

/// The fixture expositions pass the reference validators, and both formats carry the
/// same samples with the same values.
#[test]
fn validators_accept_the_fixtures_with_equal_values() {
    let text = exposition(Format::Text);
    let open_metrics = exposition(Format::OpenMetrics);
    torchlight_tests::promtool_check(&text).unwrap();
    let strict = torchlight_tests::openmetrics_parse(&open_metrics).unwrap();
    let lenient = torchlight_tests::text_parse(&text).unwrap();
    let (strict, lenient) = (samples(&strict), samples(&lenient));
    assert_eq!(strict, lenient);
    assert_eq!(
        strict["http_requests_total{\"otel_metric_overflow\": \"true\"}"],
        6.0
    );
    assert_eq!(strict["job_state{\"job_state\": \"running\"}"], 1.0);
}
