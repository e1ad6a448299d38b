//! Exemplars in the exposition: golden bytes for counters and histogram buckets (with
//! and without a timestamp, with no labels, with hostile label values), read back by
//! `prometheus_client`'s strict OpenMetrics parser with the recorded labels, values and
//! timestamps on the right samples; text 0.0.4 leaves them out and stays valid for
//! promtool. Run-time `Family` and compile-time `Labelled` children carry them too, and
//! a native histogram's classic buckets (`+Inf` alone without classic bounds).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use torchlight::{
    Buckets, Exemplar, ExemplarCounter, ExemplarHistogram, ExemplarNativeHistogram, Family, Format,
    Labelled, Metric, Registry,
};
use torchlight_tests::{Exemplar as Parsed, openmetrics_parse, promtool_check};

static BOUNDS: Buckets<2> = Buckets::new([0.1, 1.0]);

/// A value no sane trace id has, but OpenMetrics allows: backslash, newline,
/// non-ASCII and the `#`, `{` and `}` that delimit an exemplar. No quote: see
/// [`a_quote_is_escaped_as_in_a_series_label`].
const HOSTILE: &str = "a\\c\nd #{x} 日本";

fn leak<T>(value: T) -> &'static T {
    Box::leak(Box::new(value))
}

fn encode(registry: &Registry, format: Format) -> String {
    let mut body = String::new();
    registry.encode(&mut body, format).expect("encode");
    body
}

fn exemplar(labels: &[(&str, &str)], value: f64, timestamp: Option<f64>) -> Exemplar {
    let exemplar = Exemplar::new(&labels, value).expect("a valid exemplar");
    match timestamp {
        Some(timestamp) => exemplar.with_timestamp(timestamp),
        None => exemplar,
    }
}

fn parsed(labels: &[(&str, &str)], value: f64, timestamp: Option<f64>) -> Option<Parsed> {
    Some(Parsed {
        labels: labels
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect::<BTreeMap<_, _>>(),
        value,
        timestamp,
    })
}

/// One registry with a counter and a histogram carrying every kind of exemplar.
fn registry() -> Registry {
    let registry = Registry::new();
    let errors = leak(Metric::new("errors", "Errors.", ExemplarCounter::new()));
    let empty = leak(Metric::new("empty", "Nothing.", ExemplarCounter::new()));
    let latency = leak(Metric::new(
        "latency_seconds",
        "Request latency.",
        ExemplarHistogram::with_buckets(&BOUNDS),
    ));
    registry.register(errors).expect("a fresh registry");
    registry.register(empty).expect("a fresh registry");
    registry.register(latency).expect("a fresh registry");

    errors.inc();
    errors.inc_by_exemplar(
        2,
        &exemplar(&[("trace_id", "4bf92f35")], 2.0, Some(1_700_000_000.5)),
    );
    empty.inc_by_exemplar(1, &exemplar(&[], 1.0, None));
    latency.observe(0.0625);
    latency.observe_exemplar(&exemplar(&[("trace_id", HOSTILE)], 0.5, None));
    latency.observe_exemplar(&exemplar(
        &[("trace_id", "x"), ("span_id", "y")],
        4.0,
        Some(1_700_000_000.125),
    ));
    registry
}

const OPENMETRICS: &str = "# HELP errors Errors.
# TYPE errors counter
errors_total 3.0 # {trace_id=\"4bf92f35\"} 2.0 1700000000.5
# HELP empty Nothing.
# TYPE empty counter
empty_total 1.0 # {} 1.0
# HELP latency_seconds Request latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{le=\"0.1\"} 1
latency_seconds_bucket{le=\"1.0\"} 2 # {trace_id=\"a\\\\c\\nd #{x} 日本\"} 0.5
latency_seconds_bucket{le=\"+Inf\"} 3 # {trace_id=\"x\",span_id=\"y\"} 4.0 1700000000.125
latency_seconds_sum 4.5625
latency_seconds_count 3
# EOF
";

const TEXT: &str = "# HELP errors_total Errors.
# TYPE errors_total counter
errors_total 3
# HELP empty_total Nothing.
# TYPE empty_total counter
empty_total 1
# HELP latency_seconds Request latency.
# TYPE latency_seconds histogram
latency_seconds_bucket{le=\"0.1\"} 1
latency_seconds_bucket{le=\"1\"} 2
latency_seconds_bucket{le=\"+Inf\"} 3
latency_seconds_sum 4.5625
latency_seconds_count 3
";

#[test]
fn openmetrics_writes_exemplars_after_their_samples() {
    assert_eq!(encode(&registry(), Format::OpenMetrics), OPENMETRICS);
}

#[test]
fn text_0_0_4_leaves_exemplars_out() {
    let text = encode(&registry(), Format::Text);
    assert_eq!(text, TEXT);
    promtool_check(&text).unwrap();
}

#[test]
fn the_strict_parser_reads_each_exemplar_on_its_sample() {
    let families = openmetrics_parse(OPENMETRICS).expect("valid OpenMetrics");
    let exemplars: Vec<_> = families
        .iter()
        .flat_map(|family| &family.samples)
        .map(|sample| (sample.name.as_str(), sample.exemplar.clone()))
        .collect();
    assert_eq!(
        exemplars,
        [
            (
                "errors_total",
                parsed(&[("trace_id", "4bf92f35")], 2.0, Some(1_700_000_000.5))
            ),
            ("empty_total", parsed(&[], 1.0, None)),
            ("latency_seconds_bucket", None),
            (
                "latency_seconds_bucket",
                parsed(&[("trace_id", HOSTILE)], 0.5, None)
            ),
            (
                "latency_seconds_bucket",
                parsed(
                    &[("trace_id", "x"), ("span_id", "y")],
                    4.0,
                    Some(1_700_000_000.125)
                )
            ),
            ("latency_seconds_sum", None),
            ("latency_seconds_count", None),
        ]
    );
}

/// The parser used above does reject what it must: an exemplar on a gauge, and one
/// whose labels pass 128 characters (so the checks above are not vacuous).
#[test]
fn the_strict_parser_rejects_bad_exemplars() {
    let on_gauge = "# TYPE g gauge\ng 1.0 # {a=\"b\"} 1.0\n# EOF\n";
    assert!(openmetrics_parse(on_gauge).is_err());
    let long = format!(
        "# TYPE c counter\nc_total 1.0 # {{a=\"{}\"}} 1.0\n# EOF\n",
        "x".repeat(128)
    );
    assert!(openmetrics_parse(&long).is_err());
}

/// A quote is escaped as in a series' label value, as OpenMetrics 1.0 says (golden
/// bytes only). Neither independent reader can check it: `prometheus_client` 0.26's
/// strict parser rejects any escaped quote in an exemplar's labels ("Invalid line"),
/// its own writer's output included, and Prometheus 2.42 accepts the line but stores
/// the exemplar's label value still escaped.
#[test]
fn a_quote_is_escaped_as_in_a_series_label() {
    let registry = Registry::new();
    let quoted = leak(Metric::new("quoted", "", ExemplarCounter::new()));
    registry.register(quoted).unwrap();
    quoted.inc_by_exemplar(1, &exemplar(&[("trace_id", "say \"hi\"")], 1.0, None));
    assert_eq!(
        encode(&registry, Format::OpenMetrics),
        "# TYPE quoted counter\nquoted_total 1.0 # {trace_id=\"say \\\"hi\\\"\"} 1.0\n# EOF\n"
    );
    let rejected = openmetrics_parse("# TYPE c counter\nc_total 1.0 # {t=\"a\\\"b\"} 1.0\n# EOF\n");
    assert!(
        rejected.is_err(),
        "prometheus_client now parses escaped quotes in exemplars: check them there"
    );
}

#[test]
fn a_label_set_over_the_limit_is_rejected_and_the_value_still_counted() {
    let counter = ExemplarCounter::new();
    let long = "x".repeat(128);
    assert!(counter.inc_with_exemplar(&[("a", long.as_str())]).is_err());
    assert_eq!(counter.get(), 1);
    assert_eq!(counter.exemplar(), None);
    let fits = "x".repeat(127);
    counter.inc_with_exemplar(&[("a", fits.as_str())]).unwrap();
    assert_eq!(counter.get(), 2);
    let kept = counter.exemplar().unwrap();
    assert_eq!(kept.labels().collect::<Vec<_>>(), [("a", fits.as_str())]);
    // With `std` an exemplar is stamped with the wall clock, to the millisecond.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let stamped = kept.timestamp().unwrap();
    assert!((now - stamped).abs() < 60.0, "{stamped} vs {now}");
    assert_eq!((stamped * 1000.0).fract(), 0.0);
}

torchlight::label_value! {
    enum Method {
        Get = "GET",
        Post = "POST",
    }
}
torchlight::label_set! {
    struct Route { method: Method }
}

#[test]
fn family_and_labelled_children_carry_exemplars() {
    let registry = Registry::new();
    let by_path = leak(Metric::new(
        "by_path",
        "",
        Family::new(["path"], || ExemplarHistogram::with_buckets(&BOUNDS)),
    ));
    let by_method = leak(Metric::new(
        "by_method",
        "",
        Labelled::<Route, ExemplarCounter, 2>::new([const { ExemplarCounter::new() }; 2]),
    ));
    registry.register(by_path).unwrap();
    registry.register(by_method).unwrap();
    by_path
        .get_or_create(["/a"])
        .observe_exemplar(&exemplar(&[("trace_id", "t1")], 0.05, None));
    by_method
        .get(Route {
            method: Method::Post,
        })
        .inc_by_exemplar(1, &exemplar(&[("trace_id", "t2")], 1.0, None));
    let body = encode(&registry, Format::OpenMetrics);
    assert_eq!(
        body,
        "# TYPE by_path histogram
by_path_bucket{path=\"/a\",le=\"0.1\"} 1 # {trace_id=\"t1\"} 0.05
by_path_bucket{path=\"/a\",le=\"1.0\"} 1
by_path_bucket{path=\"/a\",le=\"+Inf\"} 1
by_path_sum{path=\"/a\"} 0.05
by_path_count{path=\"/a\"} 1
# TYPE by_method counter
by_method_total{method=\"GET\"} 0.0
by_method_total{method=\"POST\"} 1.0 # {trace_id=\"t2\"} 1.0
# EOF
"
    );
    openmetrics_parse(&body).expect("valid OpenMetrics");
}

#[test]
fn a_minimum_interval_keeps_each_slots_exemplar_that_long() {
    let trace = |exemplar: Option<Exemplar>| {
        let exemplar = exemplar.expect("an exemplar");
        exemplar.labels().next().map(|(_, value)| value.to_owned())
    };
    let hour = Duration::from_secs(3600);

    let counter = ExemplarCounter::new().with_min_interval(hour);
    counter.inc_with_exemplar(&[("trace_id", "first")]).unwrap();
    counter
        .inc_with_exemplar(&[("trace_id", "second")])
        .unwrap();
    // Within the interval the labels are not even checked.
    counter.inc_with_exemplar(&[("1invalid", "x")]).unwrap();
    assert_eq!(counter.get(), 3);
    assert_eq!(trace(counter.exemplar()).as_deref(), Some("first"));

    // Per bucket: another bucket takes its own first exemplar.
    let histogram = ExemplarHistogram::with_buckets(&BOUNDS).with_min_interval(hour);
    histogram
        .observe_with_exemplar(0.05, &[("trace_id", "a")])
        .unwrap();
    histogram
        .observe_with_exemplar(0.06, &[("trace_id", "b")])
        .unwrap();
    histogram
        .observe_with_exemplar(0.5, &[("trace_id", "c")])
        .unwrap();
    assert_eq!(histogram.snapshot().count(), 3);
    assert_eq!(trace(histogram.exemplar(0)).as_deref(), Some("a"));
    assert_eq!(trace(histogram.exemplar(1)).as_deref(), Some("c"));

    // Without one, the newest wins.
    let every = ExemplarCounter::new();
    every.inc_with_exemplar(&[("trace_id", "first")]).unwrap();
    every.inc_with_exemplar(&[("trace_id", "second")]).unwrap();
    assert_eq!(trace(every.exemplar()).as_deref(), Some("second"));
}

/// A native histogram with exemplars shows text scrapers its classic buckets, each
/// with its latest exemplar; without classic bounds, `+Inf` with the latest of all
/// (as client_golang). The strict parser reads them on their samples.
#[test]
fn native_histograms_carry_exemplars_on_their_classic_buckets() {
    let registry = Registry::new();
    let both = leak(Metric::new(
        "both_seconds",
        "Native and classic.",
        ExemplarNativeHistogram::<16, 2>::with_buckets(1.1, &BOUNDS),
    ));
    let native = leak(Metric::new(
        "native_seconds",
        "Native only.",
        ExemplarNativeHistogram::<16>::new(1.1),
    ));
    registry.register(both).unwrap();
    registry.register(native).unwrap();
    both.observe(0.5);
    both.observe_exemplar(&exemplar(&[("trace_id", "a")], 0.0625, None));
    both.observe_exemplar(&exemplar(
        &[("trace_id", "b")],
        0.09375,
        Some(1_700_000_000.25),
    ));
    both.observe_exemplar(&exemplar(&[("trace_id", "c")], 3.0, None));
    native.observe_exemplar(&exemplar(&[("trace_id", "d")], 0.05, None));
    native.observe_exemplar(&exemplar(&[("trace_id", "e")], 3.0, None));
    native.observe(2.0);
    let body = encode(&registry, Format::OpenMetrics);
    assert_eq!(
        body,
        "# HELP both_seconds Native and classic.
# TYPE both_seconds histogram
both_seconds_bucket{le=\"0.1\"} 2 # {trace_id=\"b\"} 0.09375 1700000000.25
both_seconds_bucket{le=\"1.0\"} 3
both_seconds_bucket{le=\"+Inf\"} 4 # {trace_id=\"c\"} 3.0
both_seconds_sum 3.65625
both_seconds_count 4
# HELP native_seconds Native only.
# TYPE native_seconds histogram
native_seconds_bucket{le=\"+Inf\"} 3 # {trace_id=\"e\"} 3.0
native_seconds_sum 5.05
native_seconds_count 3
# EOF
"
    );
    let exemplars: Vec<_> = openmetrics_parse(&body)
        .expect("valid OpenMetrics")
        .iter()
        .flat_map(|family| &family.samples)
        .filter_map(|sample| Some((sample.name.clone(), sample.exemplar.clone()?)))
        .collect();
    assert_eq!(
        exemplars,
        [
            (
                "both_seconds_bucket".to_owned(),
                parsed(&[("trace_id", "b")], 0.09375, Some(1_700_000_000.25)).unwrap()
            ),
            (
                "both_seconds_bucket".to_owned(),
                parsed(&[("trace_id", "c")], 3.0, None).unwrap()
            ),
            (
                "native_seconds_bucket".to_owned(),
                parsed(&[("trace_id", "e")], 3.0, None).unwrap()
            ),
        ]
    );
    // Text 0.0.4 leaves them out, and stays valid.
    promtool_check(&encode(&registry, Format::Text)).unwrap();
}
