//! The core's hot paths never touch the heap: a counting global allocator watches
//! thousands of updates and a full encode into a pre-sized buffer.

use torchlight::{
    Buckets, Counter, ExemplarCounter, ExemplarHistogram, FloatCounter, FloatGauge, Format, Gauge,
    Histogram, Labelled, Metric, NativeHistogram, Registry, SliceSink,
};

use crate::allocations;

torchlight::label_value! { enum Method { Get = "GET", Post = "POST" } }
torchlight::label_value! { enum Code { Ok = "200", NotFound = "404", Error = "500" } }
torchlight::label_set! { struct Route { method: Method, code: Code } }

static BOUNDS: Buckets<4> = Buckets::exponential(0.001, 10.0);
static REQUESTS: Metric<Counter> = Metric::new("requests", "Requests.", Counter::new());
static BYTES: Metric<FloatCounter> =
    Metric::new("sent_bytes", "Bytes sent.", FloatCounter::new()).with_unit("bytes");
static QUEUE: Metric<Gauge> = Metric::new("queue", "Queue depth.", Gauge::new());
static LOAD: Metric<FloatGauge> = Metric::new("load", "Load \"average\".\n", FloatGauge::new());
static LATENCY: Metric<Histogram> = Metric::new("latency_seconds", "Latency.", Histogram::new());
static SIZES: Metric<Histogram<4>> =
    Metric::new("sizes", "Sizes.", Histogram::with_buckets(&BOUNDS));
static ROUTES: Metric<Labelled<Route, Counter, 6>> = Metric::new(
    "routes",
    "By route.",
    Labelled::new([const { Counter::new() }; 6]),
);

static TRACED: Metric<ExemplarHistogram> =
    Metric::new("traced_seconds", "Traced.", ExemplarHistogram::new());
static TRACED_ERRORS: Metric<ExemplarCounter> =
    Metric::new("traced_errors", "Traced errors.", ExemplarCounter::new());
/// Trace ids as a tracer formats them (32 hex digits).
const TRACES: [&str; 3] = [
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "0af7651916cd43dd8448eb211c80319c",
    "a3ce929d0e0e47364bf92f3577b34da6",
];

#[test]
fn updates_and_encoding_do_not_allocate() {
    let registry = Registry::new();
    registry.register(&REQUESTS).unwrap();
    registry.register(&BYTES).unwrap();
    registry.register(&QUEUE).unwrap();
    registry.register(&LOAD).unwrap();
    registry.register(&LATENCY).unwrap();
    registry.register(&SIZES).unwrap();
    registry.register(&ROUTES).unwrap();
    registry.register(&TRACED).unwrap();
    registry.register(&TRACED_ERRORS).unwrap();
    let mut text = String::with_capacity(64 * 1024);
    let mut open_metrics = String::with_capacity(64 * 1024);

    let before = allocations();
    for i in 0..10_000u32 {
        REQUESTS.inc();
        BYTES.inc_by(f64::from(i));
        QUEUE.add(1);
        QUEUE.dec();
        LOAD.set(f64::from(i) / 7.0);
        LATENCY.observe(f64::from(i) / 1000.0);
        SIZES.observe(f64::from(i));
        let method = if i % 2 == 0 {
            Method::Get
        } else {
            Method::Post
        };
        let code = [Code::Ok, Code::NotFound, Code::Error][i as usize % 3];
        ROUTES.get(Route { method, code }).inc();
        let trace = TRACES[i as usize % 3];
        TRACED
            .observe_with_exemplar(f64::from(i) / 100.0, &[("trace_id", trace)])
            .unwrap();
        TRACED.observe(0.001);
        TRACED_ERRORS
            .inc_with_exemplar(&[("trace_id", trace), ("span_id", "00f067aa0ba902b7")])
            .unwrap();
        TRACED_ERRORS.inc();
    }
    registry.encode(&mut text, Format::Text).unwrap();
    registry
        .encode(&mut open_metrics, Format::OpenMetrics)
        .unwrap();
    let after = allocations();

    assert_eq!(
        after - before,
        0,
        "the hot paths allocated {} times",
        after - before
    );
    assert!(text.contains("requests_total 10000\n"), "{text}");
    assert!(open_metrics.ends_with("# EOF\n"));
    assert!(
        open_metrics.contains("traced_errors_total 20000.0 # {trace_id=\""),
        "{open_metrics}"
    );
    assert!(open_metrics.contains("traced_seconds_bucket{le=\"+Inf\"} 20000 # {"));
}

static NATIVE: Metric<NativeHistogram<160, 4>> = Metric::new(
    "native_seconds",
    "Native.",
    NativeHistogram::with_buckets(1.1, &BOUNDS),
);

static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs.", Counter::new());
static TEMPERATURE: Metric<FloatGauge> = Metric::new("temperature", "", FloatGauge::new());
static WEIGHTS: Metric<Histogram<4>> =
    Metric::new("weights", "Weights.", Histogram::with_buckets(&BOUNDS));
static PATHS: Metric<Labelled<Route, Counter, 6>> = Metric::new(
    "paths",
    "By route.",
    Labelled::new([const { Counter::new() }; 6]),
);

/// Native observations (table claims and the fallback included: more buckets than
/// the table holds) and the protobuf exposition, twice, into fixed buffers (the
/// lengths are patched in the buffer).
#[test]
fn native_observations_and_protobuf_do_not_allocate() {
    let registry = Registry::new();
    registry.register(&JOBS).unwrap();
    registry.register(&TEMPERATURE).unwrap();
    registry.register(&WEIGHTS).unwrap();
    registry.register(&PATHS).unwrap();
    registry.register(&NATIVE).unwrap();
    let mut frame = vec![0u8; 64 * 1024];
    let mut again = vec![0u8; 64 * 1024];

    let before = allocations();
    for i in 0..10_000u32 {
        NATIVE.observe(f64::from(i) / 100.0 - 20.0);
        WEIGHTS.observe(f64::from(i));
        JOBS.inc();
    }
    let mut sink = SliceSink::new(&mut frame);
    registry.encode_to(&mut sink, Format::Protobuf).unwrap();
    let written = sink.len();
    let mut second = SliceSink::new(&mut again);
    registry.encode_to(&mut second, Format::Protobuf).unwrap();
    let after = allocations();

    assert_eq!(after - before, 0, "allocated {} times", after - before);
    assert_eq!(&frame[..written], second.filled());
    assert!(written > 500, "{written} bytes");
}
