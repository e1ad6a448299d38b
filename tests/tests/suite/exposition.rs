//! Everything torchlight encodes is accepted by the reference validators with the values
//! that were recorded: `promtool check metrics` (no parse error, no lint problem) and
//! `prometheus_client`'s lenient parser for text 0.0.4, `prometheus_client`'s strict
//! parser for OpenMetrics 1.0. The registry holds hostile label values and help text
//! (quotes, backslashes, newlines, non-ASCII) and extreme floats.
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use torchlight::{
    Buckets, Counter, FloatCounter, FloatGauge, Format, Gauge, Histogram, Labelled, Metric,
    Registry,
};
use torchlight_tests::{Family, openmetrics_parse, promtool_check, text_parse};

torchlight::label_value! {
    enum Hostile {
        Quote = "say \"hi\"",
        Backslash = "C:\\temp\\",
        Newline = "two\nlines",
        Unicode = "日本語 ✓ ü",
        Mixed = "\\\"\n\\n",
    }
}
torchlight::label_set! {
    struct Path { path: Hostile }
}

torchlight::label_value! {
    enum Extreme {
        Nan = "nan",
        PlusInf = "+inf",
        MinusInf = "-inf",
        Max = "max",
        MinPositive = "min_positive",
        Subnormal = "subnormal",
        NegativeZero = "negative_zero",
        Tiny = "tiny",
        Million = "million",
    }
}
torchlight::label_set! {
    struct Value { value: Extreme }
}

const LATENCY: Buckets<5> = Buckets::new([1e-9, 0.001, 0.5, 1.0, 1e10]);

static REQUESTS: Metric<Labelled<Path, Counter, 5>> = Metric::new(
    "requests",
    "Requests with \"quotes\", a \\ backslash,\na newline and non-ASCII: 日本語.",
    Labelled::new([const { Counter::new() }; 5]),
);
static BYTES: Metric<FloatCounter> =
    Metric::new("sent_bytes", "Bytes sent.", FloatCounter::new()).with_unit("bytes");
static HUGE: Metric<Counter> =
    Metric::new("huge_total", "A counter near u64::MAX.", Counter::new());
static LEVELS: Metric<Labelled<Value, FloatGauge, 9>> = Metric::new(
    "levels",
    "Extreme float values.",
    Labelled::new([const { FloatGauge::new() }; 9]),
);
static DEPTH: Metric<Gauge> = Metric::new("queue_depth", "An i64 gauge.", Gauge::new());
static LATENCY_SECONDS: Metric<Histogram<5>> = Metric::new(
    "latency_seconds",
    "Latency with extreme bucket bounds.",
    Histogram::with_buckets(&LATENCY),
)
.with_unit("seconds");

/// The registry with every metric registered and recorded, once for all tests.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    static RECORDED: OnceLock<()> = OnceLock::new();
    let registry = REGISTRY.get_or_init(Registry::new);
    RECORDED.get_or_init(|| {
        registry.register(&REQUESTS).expect("requests registers");
        registry.register(&BYTES).expect("sent_bytes registers");
        registry.register(&HUGE).expect("huge_total registers");
        registry.register(&LEVELS).expect("levels registers");
        registry.register(&DEPTH).expect("queue_depth registers");
        registry
            .register(&LATENCY_SECONDS)
            .expect("latency_seconds registers");

        for (index, path) in [
            Hostile::Quote,
            Hostile::Backslash,
            Hostile::Newline,
            Hostile::Unicode,
            Hostile::Mixed,
        ]
        .into_iter()
        .enumerate()
        {
            REQUESTS.get(Path { path }).inc_by(index as u64 + 1);
        }
        BYTES.inc_by(1.5e-7);
        BYTES.inc_by(1e21);
        HUGE.inc_by(u64::MAX);
        for (value, level) in [
            (Extreme::Nan, f64::NAN),
            (Extreme::PlusInf, f64::INFINITY),
            (Extreme::MinusInf, f64::NEG_INFINITY),
            (Extreme::Max, f64::MAX),
            (Extreme::MinPositive, f64::MIN_POSITIVE),
            (Extreme::Subnormal, 5e-324),
            (Extreme::NegativeZero, -0.0),
            (Extreme::Tiny, -1.5e-7),
            (Extreme::Million, 1e6),
        ] {
            LEVELS.get(Value { value }).set(level);
        }
        DEPTH.set(i64::MIN);
        for seconds in [0.0, 1e-10, 0.0005, 0.25, 0.75, 1.0, 3e9, 1e300] {
            LATENCY_SECONDS.observe(seconds);
        }
    });
    registry
}

fn encode(format: Format) -> String {
    let mut body = String::new();
    registry()
        .encode(&mut body, format)
        .expect("encoding into a String cannot fail");
    body
}

/// A sample as recorded: name, labels (name, value) and value.
type Recorded = (String, Vec<(String, String)>, f64);

/// Every sample the metrics hold, as recorded, in exposition order.
fn recorded() -> Vec<Recorded> {
    let mut samples = Vec::new();
    let mut push = |name: &str, labels: &[(&str, &str)], value: f64| {
        let labels = labels
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        samples.push((name.to_owned(), labels, value));
    };
    for (labels, counter) in REQUESTS.iter() {
        let path = torchlight::LabelValue::as_str(labels.path);
        push("requests_total", &[("path", path)], counter.get() as f64);
    }
    push("sent_bytes_total", &[], BYTES.get());
    push("huge_total", &[], HUGE.get() as f64);
    for (labels, gauge) in LEVELS.iter() {
        let value = torchlight::LabelValue::as_str(labels.value);
        push("levels", &[("value", value)], gauge.get());
    }
    push("queue_depth", &[], DEPTH.get() as f64);
    let snapshot = LATENCY_SECONDS.snapshot();
    for (bound, count) in snapshot.bounds().iter().zip(snapshot.cumulative()) {
        // The `le` strings differ by format; compared separately below.
        push(
            "latency_seconds_bucket",
            &[("le", &bound.to_string())],
            *count as f64,
        );
    }
    push(
        "latency_seconds_bucket",
        &[("le", "+Inf")],
        snapshot.count() as f64,
    );
    push("latency_seconds_sum", &[], snapshot.sum());
    push("latency_seconds_count", &[], snapshot.count() as f64);
    samples
}

/// `a` and `b` are the same number (`NaN` equals `NaN`; `-0` equals `0`, since the text
/// format writes `-0` as `0` as Go does).
fn same(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan()) || a == b
}

/// Compares what a parser read with what was recorded; `le` values are compared as
/// numbers, since each format spells them differently (`1` vs `1.0`).
fn assert_values(families: &[Family]) {
    let parsed: Vec<_> = families.iter().flat_map(|family| &family.samples).collect();
    let recorded = recorded();
    assert_eq!(parsed.len(), recorded.len(), "sample count: {families:#?}");
    for (sample, (name, labels, value)) in parsed.iter().zip(&recorded) {
        assert_eq!(&sample.name, name);
        assert_eq!(sample.labels.len(), labels.len(), "{sample:?}");
        for (label, expected) in labels {
            let actual = &sample.labels[label];
            if label == "le" {
                let actual: f64 = actual.parse().expect("le is a float");
                let expected: f64 = expected.parse().expect("le is a float");
                assert_eq!(actual.to_bits(), expected.to_bits(), "{sample:?}");
            } else {
                assert_eq!(actual, expected, "{sample:?}");
            }
        }
        assert!(
            same(sample.value, *value),
            "{name}{labels:?}: parsed {} but recorded {value}",
            sample.value
        );
    }
}

#[test]
fn text_exposition_passes_promtool() {
    let text = encode(Format::Text);
    if let Err(problem) = promtool_check(&text) {
        panic!("{problem}\n--- exposition ---\n{text}");
    }
}

#[test]
fn text_exposition_parses_to_the_recorded_values() {
    let text = encode(Format::Text);
    let families = text_parse(&text).unwrap_or_else(|error| panic!("{error}\n{text}"));
    assert_eq!(
        families[0].help,
        "Requests with \"quotes\", a \\ backslash,\na newline and non-ASCII: 日本語."
    );
    assert_values(&families);
}

#[test]
fn openmetrics_exposition_passes_the_strict_parser_with_the_recorded_values() {
    let body = encode(Format::OpenMetrics);
    let families = openmetrics_parse(&body).unwrap_or_else(|error| panic!("{error}\n{body}"));
    let kinds: Vec<(&str, &str, &str)> = families
        .iter()
        .map(|family| {
            (
                family.name.as_str(),
                family.type_.as_str(),
                family.unit.as_str(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("requests", "counter", ""),
            ("sent_bytes", "counter", "bytes"),
            ("huge", "counter", ""),
            ("levels", "gauge", ""),
            ("queue_depth", "gauge", ""),
            ("latency_seconds", "histogram", "seconds"),
        ]
    );
    assert_eq!(
        families[0].help,
        "Requests with \"quotes\", a \\ backslash,\na newline and non-ASCII: 日本語."
    );
    assert_values(&families);
}
