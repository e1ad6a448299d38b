//! Created timestamps: set at registration from the registry's clock, at a family
//! child's creation and at a reset; carried by protobuf's `created_timestamp` (decoded
//! with `prost` and client_model's mirrors, golden bytes derived by hand from
//! `metrics.proto` and the protobuf encoding guide) and, only when asked, by
//! OpenMetrics' `_created` samples (golden text; `tests/tests/suite/created.rs` runs the
//! strict parser and compares with `prometheus_client`).
#![cfg(all(feature = "std", not(loom)))]

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::client_model::{self as pb, decode_all};
use torchlight::{
    Buckets, Counter, DynFamily, Family, FloatCounter, Format, Histogram, Labelled, ManualClock,
    Metric, NativeHistogram, Registry, Summary,
};

/// When the golden registry's metrics were registered: 1 700 000 000.5 s after 1970.
const AT: Duration = Duration::from_millis(1_700_000_000_500);

/// `AT` as client_model's `Timestamp`.
const AT_PB: pb::Timestamp = pb::Timestamp {
    seconds: 1_700_000_000,
    nanos: 500_000_000,
};

static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);
static LATENCY: Metric<Histogram<2>> = Metric::new(
    "latency_seconds",
    "Latency.",
    Histogram::with_buckets(&BOUNDS),
)
.with_unit("seconds");
static SIZES: Metric<Summary> = Metric::new("sizes", "Sizes.", Summary::new());

/// A counter, a histogram and a summary registered at `AT` by a manual wall clock.
fn registry() -> &'static Registry {
    static WALL: ManualClock = ManualClock::new();
    static SHARED: Registry = Registry::new().with_created_clock(Some(&WALL));
    static RECORD: std::sync::Once = std::sync::Once::new();
    RECORD.call_once(|| {
        WALL.set(AT);
        SHARED.register(&JOBS).expect("registers once");
        SHARED.register(&LATENCY).expect("registers once");
        SHARED.register(&SIZES).expect("registers once");
        JOBS.inc_by(3);
        for value in [0.5, 1.5, 3.0] {
            LATENCY.observe(value);
        }
        SIZES.observe(1.0);
        SIZES.observe(2.0);
    });
    &SHARED
}

fn text(registry: &Registry, exposition: impl Into<torchlight::Exposition>) -> String {
    let mut text = String::new();
    registry.encode(&mut text, exposition).expect("encodes");
    text
}

fn protobuf(registry: &Registry) -> Vec<pb::MetricFamily> {
    let mut body = Vec::new();
    registry
        .encode_to(&mut body, Format::Protobuf)
        .expect("encodes");
    decode_all(&body)
}

/// The system's wall clock.
fn now() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
}

fn duration(timestamp: &pb::Timestamp) -> Duration {
    Duration::new(
        u64::try_from(timestamp.seconds).expect("after 1970"),
        u32::try_from(timestamp.nanos).expect("below a second"),
    )
}

/// The created timestamp of a counter series.
fn counter_created(metric: &pb::Metric) -> Option<Duration> {
    metric
        .counter
        .as_ref()
        .expect("a counter")
        .created_timestamp
        .as_ref()
        .map(duration)
}

/// Go's `expfmt` without `WithCreatedLines()`: the bytes before created timestamps.
const OPENMETRICS: &str = "# HELP jobs Jobs run.\n# TYPE jobs counter\njobs_total 3.0\n\
    # HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n\
    # UNIT latency_seconds seconds\n\
    latency_seconds_bucket{le=\"1.0\"} 1\nlatency_seconds_bucket{le=\"2.0\"} 2\n\
    latency_seconds_bucket{le=\"+Inf\"} 3\nlatency_seconds_sum 5.0\nlatency_seconds_count 3\n\
    # HELP sizes Sizes.\n# TYPE sizes summary\nsizes_sum 3.0\nsizes_count 2\n# EOF\n";

/// With `WithCreatedLines()`: `_created` after each series' last sample, in seconds.
const OPENMETRICS_CREATED: &str = "# HELP jobs Jobs run.\n# TYPE jobs counter\njobs_total 3.0\n\
    jobs_created 1.7000000005e+09\n\
    # HELP latency_seconds Latency.\n# TYPE latency_seconds histogram\n\
    # UNIT latency_seconds seconds\n\
    latency_seconds_bucket{le=\"1.0\"} 1\nlatency_seconds_bucket{le=\"2.0\"} 2\n\
    latency_seconds_bucket{le=\"+Inf\"} 3\nlatency_seconds_sum 5.0\nlatency_seconds_count 3\n\
    latency_seconds_created 1.7000000005e+09\n\
    # HELP sizes Sizes.\n# TYPE sizes summary\nsizes_sum 3.0\nsizes_count 2\n\
    sizes_created 1.7000000005e+09\n# EOF\n";

#[test]
fn openmetrics_writes_created_samples_only_when_asked() {
    let registry = registry();
    assert_eq!(text(registry, Format::OpenMetrics), OPENMETRICS);
    assert_eq!(
        text(registry, Format::OpenMetrics.with_created_samples(false)),
        OPENMETRICS
    );
    assert_eq!(
        text(registry, Format::OpenMetrics.with_created_samples(true)),
        OPENMETRICS_CREATED
    );
    // Text 0.0.4 has no `_created` samples, asked or not.
    assert_eq!(
        text(registry, Format::Text.with_created_samples(true)),
        text(registry, Format::Text)
    );
    assert!(!text(registry, Format::Text).contains("_created"));
}

#[test]
fn protobuf_carries_created_timestamps_golden_and_prost() {
    let mut body = Vec::new();
    registry().encode_to(&mut body, Format::Protobuf).unwrap();
    // `Counter{value=3.0 (1), created_timestamp=Timestamp{seconds=1700000000 (1),
    // nanos=500000000 (2)} (3)}`, in `Metric.counter` (3) of the `jobs_total` family.
    let counter: &[u8] = b"\x34\x0a\x0a\x6a\x6f\x62\x73\x5f\x74\x6f\x74\x61\x6c\x12\x09\x4a\x6f\x62\x73\x20\x72\x75\x6e\x2e\x18\x00\x22\x19\x1a\x17\x09\x00\x00\x00\x00\x00\x00\x08\x40\x1a\x0c\x08\x80\xe2\xcf\xaa\x06\x10\x80\xca\xb5\xee\x01";
    assert_eq!(&body[..counter.len()], counter);

    let families = decode_all(&body);
    assert_eq!(families.len(), 3);
    assert_eq!(
        families[0].metric[0].counter,
        Some(pb::Counter {
            value: Some(3.0),
            exemplar: None,
            created_timestamp: Some(AT_PB),
        })
    );
    let histogram = families[1].metric[0].histogram.as_ref().unwrap();
    assert_eq!(histogram.sample_count, Some(3));
    assert_eq!(histogram.created_timestamp, Some(AT_PB));
    let summary = families[2].metric[0].summary.as_ref().unwrap();
    assert_eq!(
        summary,
        &pb::Summary {
            sample_count: Some(2),
            sample_sum: Some(3.0),
            quantile: Vec::new(),
            created_timestamp: Some(AT_PB),
        }
    );
}

#[test]
fn registration_stamps_the_system_clock_by_default() {
    static LATE: Metric<Counter> = Metric::new("late", "", Counter::new());
    static NATIVE: Metric<NativeHistogram> =
        Metric::new("native_seconds", "", NativeHistogram::new(1.1));
    let registry = Registry::new();
    let before = now();
    registry.register(&LATE).unwrap();
    registry.register(&NATIVE).unwrap();
    let after = now();
    NATIVE.observe(1.0);
    let families = protobuf(&registry);
    let counter = counter_created(&families[0].metric[0]).unwrap();
    assert!((before..=after).contains(&counter), "{counter:?}");
    let native = families[1].metric[0].histogram.as_ref().unwrap();
    assert_eq!(native.schema, Some(3));
    let native = duration(native.created_timestamp.as_ref().unwrap());
    assert!((before..=after).contains(&native), "{native:?}");
}

#[test]
fn a_registry_without_a_clock_gives_no_timestamp() {
    static PLAIN: Metric<Counter> = Metric::new("plain", "", Counter::new());
    let registry = Registry::new().with_created_clock(None);
    registry.register(&PLAIN).unwrap();
    assert_eq!(counter_created(&protobuf(&registry)[0].metric[0]), None);
    assert_eq!(
        text(&registry, Format::OpenMetrics.with_created_samples(true)),
        "# TYPE plain counter\nplain_total 0.0\n# EOF\n"
    );
    // A reset does not make one up.
    PLAIN.reset();
    assert_eq!(counter_created(&protobuf(&registry)[0].metric[0]), None);
}

#[test]
fn a_reset_zeroes_the_count_and_moves_the_created_timestamp() {
    static WALL: ManualClock = ManualClock::new();
    static RESTARTED: Metric<Counter> = Metric::new("restarted", "", Counter::new());
    static AMOUNT: Metric<FloatCounter> = Metric::new("amount", "", FloatCounter::new());
    let registry = Registry::new().with_created_clock(Some(&WALL));
    WALL.set(AT);
    registry.register(&RESTARTED).unwrap();
    registry.register(&AMOUNT).unwrap();
    RESTARTED.inc_by(7);
    AMOUNT.inc_by(2.5);

    // With a time of the caller's clock.
    let later = AT + Duration::from_secs(60);
    RESTARTED.reset_at(later);
    let families = protobuf(&registry);
    assert_eq!(
        families[0].metric[0].counter,
        Some(pb::Counter {
            value: Some(0.0),
            exemplar: None,
            created_timestamp: Some(pb::Timestamp {
                seconds: 1_700_000_060,
                nanos: 500_000_000,
            }),
        })
    );
    assert_eq!(counter_created(&families[1].metric[0]), Some(AT));
    assert_eq!(
        text(&registry, Format::OpenMetrics.with_created_samples(true)),
        "# TYPE restarted counter\nrestarted_total 0.0\nrestarted_created 1.7000000605e+09\n\
         # TYPE amount counter\namount_total 2.5\namount_created 1.7000000005e+09\n# EOF\n"
    );

    // With `std`, by the system's wall clock.
    let before = now();
    AMOUNT.reset();
    let after = now();
    assert_eq!(AMOUNT.get(), 0.0);
    let moved = counter_created(&protobuf(&registry)[1].metric[0]).unwrap();
    assert!((before..=after).contains(&moved), "{moved:?}");
}

#[test]
fn family_children_get_their_own_timestamps_when_created() {
    static REQUESTS: Metric<Family<Counter, 1>> = Metric::new(
        "requests",
        "",
        Family::new(["path"], Counter::new).with_limit(2),
    );
    // Created before registration: registering the family stamps no child.
    let before_a = now();
    REQUESTS.get_or_create(["/a"]).inc();
    let after_a = now();
    let registry = Registry::new().with_created_clock(None);
    registry.register(&REQUESTS).unwrap();
    let before_b = now();
    REQUESTS.get_or_create(["/b"]).inc();
    // Past the limit: the overflow child, stamped when it is made.
    REQUESTS.get_or_create(["/c"]).inc();
    let after_b = now();

    let families = protobuf(&registry);
    let children: Vec<Duration> = families[0]
        .metric
        .iter()
        .map(|metric| counter_created(metric).unwrap())
        .collect();
    assert_eq!(children.len(), 3, "{families:?}");
    assert!((before_a..=after_a).contains(&children[0]), "{children:?}");
    assert!((before_b..=after_b).contains(&children[1]), "{children:?}");
    assert!((before_b..=after_b).contains(&children[2]), "{children:?}");
    assert_eq!(
        families[0].metric[2].label[0].name.as_deref(),
        Some("otel_metric_overflow")
    );

    // A child removed and created again is a new series: a new timestamp.
    REQUESTS.remove(["/a"]);
    let again = now();
    REQUESTS.get_or_create(["/a"]);
    let families = protobuf(&registry);
    let recreated = counter_created(&families[0].metric[0]).unwrap();
    assert!(recreated >= again, "{recreated:?} < {again:?}");
}

#[test]
fn dynamic_family_and_owned_metrics_are_stamped_like_the_rest() {
    static WALL: ManualClock = ManualClock::new();
    let registry = Registry::new().with_created_clock(Some(&WALL));
    WALL.set(AT);
    // An owned histogram: stamped at registration, by the registry's clock.
    let owned = Arc::new(Metric::new("owned_seconds", "", Histogram::new()));
    registry.register_owned(Arc::clone(&owned)).unwrap();
    // A dynamic family's child: by the wall clock, when created.
    let family = DynFamily::new(vec!["route"], Summary::new).unwrap();
    let family = Arc::new(Metric::new("by_route", "", family));
    registry.register_owned(Arc::clone(&family)).unwrap();
    let before = now();
    family.get_or_create(&["/x"]).unwrap().observe(1.0);
    let after = now();

    let families = protobuf(&registry);
    let histogram = families[0].metric[0].histogram.as_ref().unwrap();
    assert_eq!(histogram.created_timestamp, Some(AT_PB));
    let summary = families[1].metric[0].summary.as_ref().unwrap();
    let child = duration(summary.created_timestamp.as_ref().unwrap());
    assert!((before..=after).contains(&child), "{child:?}");
}

#[test]
fn compile_time_labels_share_the_registration_timestamp() {
    torchlight::label_value! { enum Outcome { Ok = "ok", Failed = "failed" } }
    torchlight::label_set! { struct Result { outcome: Outcome } }
    static WALL: ManualClock = ManualClock::new();
    static OUTCOMES: Metric<Labelled<Result, Counter, 2>> =
        Metric::new("outcomes", "", Labelled::new([const { Counter::new() }; 2]));
    let registry = Registry::new().with_created_clock(Some(&WALL));
    WALL.set(AT);
    registry.register(&OUTCOMES).unwrap();
    let families = protobuf(&registry);
    assert_eq!(families[0].metric.len(), 2);
    for metric in &families[0].metric {
        assert_eq!(counter_created(metric), Some(AT));
    }
}
