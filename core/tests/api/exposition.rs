//! Golden bytes: the core's expositions, byte for byte as Go's `expfmt` writes them
//! (`github.com/prometheus/common/expfmt`, `text_create.go` and `openmetrics_create.go`).

use torchlight::{
    Buckets, Counter, FloatCounter, FloatGauge, Format, Gauge, Histogram, Labelled, Metric,
    Registry,
};

fn encode(registry: &Registry, format: Format) -> String {
    let mut out = String::new();
    registry
        .encode(&mut out, format)
        .expect("a String never fails");
    out
}

torchlight::label_value! { enum Path { Hostile = "/a\"b\\c\nd" } }
torchlight::label_set! { struct ByPath { path: Path } }

static BOUNDS: Buckets<4> = Buckets::new([0.005, 1.0, 2.5, 10.0]);
static REQUESTS: Metric<Labelled<ByPath, Counter, 1>> = Metric::new(
    "http_requests_total",
    "Requests with \\ backslash and \n newline.",
    Labelled::new([const { Counter::new() }; 1]),
);
static LATENCY: Metric<Histogram<4>> = Metric::new(
    "latency_seconds",
    "Histogram.",
    Histogram::with_buckets(&BOUNDS),
);

/// §1.5's side-by-side rendering, with observations that produce its bucket counts
/// (its `_sum` of 3.25 cannot come from real observations, so ours differs).
#[test]
fn side_by_side_golden() {
    let registry = Registry::new();
    registry.register(&REQUESTS).unwrap();
    registry.register(&LATENCY).unwrap();
    REQUESTS
        .get(ByPath {
            path: Path::Hostile,
        })
        .inc_by(1027);
    for value in [0.00390625, 0.5, 0.5, 0.5, 0.5, 2.0, 2.0, 2.0, 5.0, 20.0] {
        LATENCY.observe(value);
    }

    assert_eq!(
        encode(&registry, Format::Text),
        r#"# HELP http_requests_total Requests with \\ backslash and \n newline.
# TYPE http_requests_total counter
http_requests_total{path="/a\"b\\c\nd"} 1027
# HELP latency_seconds Histogram.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.005"} 1
latency_seconds_bucket{le="1"} 5
latency_seconds_bucket{le="2.5"} 8
latency_seconds_bucket{le="10"} 9
latency_seconds_bucket{le="+Inf"} 10
latency_seconds_sum 33.00390625
latency_seconds_count 10
"#
    );
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        r#"# HELP http_requests Requests with \\ backslash and \n newline.
# TYPE http_requests counter
http_requests_total{path="/a\"b\\c\nd"} 1027.0
# HELP latency_seconds Histogram.
# TYPE latency_seconds histogram
latency_seconds_bucket{le="0.005"} 1
latency_seconds_bucket{le="1.0"} 5
latency_seconds_bucket{le="2.5"} 8
latency_seconds_bucket{le="10.0"} 9
latency_seconds_bucket{le="+Inf"} 10
latency_seconds_sum 33.00390625
latency_seconds_count 10
# EOF
"#
    );
}

static BYTES: Metric<FloatCounter> =
    Metric::new("sent_bytes", "Bytes \"sent\".", FloatCounter::new()).with_unit("bytes");
static DEPTH: Metric<Gauge> = Metric::new("queue_depth", "", Gauge::new());
static RATIO: Metric<FloatGauge> = Metric::new("ratio", "Ratio.", FloatGauge::new());
static EMPTY: Metric<Histogram<4>> = Metric::new(
    "empty_seconds",
    "Never observed.",
    Histogram::with_buckets(&BOUNDS),
)
.with_unit("seconds");

/// Units, quotes in HELP, an empty HELP, negative and extreme values, and an
/// unobserved histogram.
#[test]
fn metadata_and_extremes_golden() {
    let registry = Registry::new();
    registry.register(&BYTES).unwrap();
    registry.register(&DEPTH).unwrap();
    registry.register(&RATIO).unwrap();
    registry.register(&EMPTY).unwrap();
    BYTES.inc_by(1.5e6);
    DEPTH.set(-3);
    RATIO.set(1.5e-7);

    assert_eq!(
        encode(&registry, Format::Text),
        r#"# HELP sent_bytes_total Bytes "sent".
# TYPE sent_bytes_total counter
sent_bytes_total 1.5e+06
# TYPE queue_depth gauge
queue_depth -3
# HELP ratio Ratio.
# TYPE ratio gauge
ratio 1.5e-07
# HELP empty_seconds Never observed.
# TYPE empty_seconds histogram
empty_seconds_bucket{le="0.005"} 0
empty_seconds_bucket{le="1"} 0
empty_seconds_bucket{le="2.5"} 0
empty_seconds_bucket{le="10"} 0
empty_seconds_bucket{le="+Inf"} 0
empty_seconds_sum 0
empty_seconds_count 0
"#
    );
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        r#"# HELP sent_bytes Bytes \"sent\".
# TYPE sent_bytes counter
# UNIT sent_bytes bytes
sent_bytes_total 1.5e+06
# TYPE queue_depth gauge
queue_depth -3.0
# HELP ratio Ratio.
# TYPE ratio gauge
ratio 1.5e-07
# HELP empty_seconds Never observed.
# TYPE empty_seconds histogram
# UNIT empty_seconds seconds
empty_seconds_bucket{le="0.005"} 0
empty_seconds_bucket{le="1.0"} 0
empty_seconds_bucket{le="2.5"} 0
empty_seconds_bucket{le="10.0"} 0
empty_seconds_bucket{le="+Inf"} 0
empty_seconds_sum 0.0
empty_seconds_count 0
# EOF
"#
    );
}

#[test]
fn empty_registry() {
    let registry = Registry::new();
    assert_eq!(encode(&registry, Format::Text), "");
    assert_eq!(encode(&registry, Format::OpenMetrics), "# EOF\n");
}

#[test]
fn content_types() {
    assert_eq!(
        Format::Text.content_type(),
        "text/plain; version=0.0.4; charset=utf-8"
    );
    assert_eq!(
        Format::OpenMetrics.content_type(),
        "application/openmetrics-text; version=1.0.0; charset=utf-8"
    );
}
