//! A remote-write push allocates nothing once its two buffers have grown: the
//! `WriteRequest` and the snappy body are rebuilt in the same `Vec`s every push.

#![cfg(feature = "std")]
use torchlight::{
    Buckets, Counter, ExemplarCounter, Histogram, Labelled, Metric, NativeHistogram, Registry,
    RemoteWrite, snappy_compress,
};

use crate::measure;

torchlight::label_value! { enum Method { Get = "GET", Post = "POST" } }
torchlight::label_set! { struct Route { method: Method } }

static BOUNDS: Buckets<4> = Buckets::exponential(0.001, 10.0);
static PUSHED: Metric<Counter> = Metric::new("pushed", "Pushed.", Counter::new());
static LATENCY: Metric<Histogram<4>> = Metric::new(
    "push_latency_seconds",
    "Latency.",
    Histogram::with_buckets(&BOUNDS),
);
static ROUTES: Metric<Labelled<Route, Counter, 2>> = Metric::new(
    "push_routes",
    "By route.",
    Labelled::new([const { Counter::new() }; 2]),
);
static NATIVE: Metric<NativeHistogram<16>> =
    Metric::new("push_native", "Native.", NativeHistogram::new(1.1));
static TRACED: Metric<ExemplarCounter> =
    Metric::new("push_traced", "Traced.", ExemplarCounter::new());

#[test]
fn pushes_after_the_first_do_not_allocate() {
    let registry = Registry::new();
    registry.register(&PUSHED).unwrap();
    registry.register(&LATENCY).unwrap();
    registry.register(&ROUTES).unwrap();
    registry.register(&NATIVE).unwrap();
    registry.register(&TRACED).unwrap();
    let external = [("replica", "a"), ("region", "eu")];
    let (mut proto, mut body) = (Vec::new(), Vec::new());
    let mut push = |native: bool| {
        let request = RemoteWrite::new(1_700_000_000_000)
            .with_external_labels(&external)
            .unwrap()
            .with_native_histograms(native);
        proto.clear();
        body.clear();
        registry.encode_write_request(&mut proto, &request).unwrap();
        snappy_compress(&proto, &mut body).unwrap();
    };
    for native in [false, true] {
        for value in [0.0005, 0.5, 5.0] {
            LATENCY.observe(value);
            NATIVE.observe(value);
        }
        push(native);
        let ((), calls, _) = measure(|| {
            for _ in 0..100 {
                PUSHED.inc();
                push(native);
            }
        });
        assert_eq!(calls, 0, "native histograms as histograms: {native}");
    }
}
