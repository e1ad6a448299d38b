//! An OTLP export allocates nothing once its buffer has grown: the
//! `ExportMetricsServiceRequest` is rebuilt in the same `Vec` every export.

#![cfg(feature = "std")]
use torchlight::{
    Buckets, Counter, Exemplar, ExemplarHistogram, Labelled, Metric, NativeHistogram, Otlp,
    Registry, Summary,
};

use crate::measure;

torchlight::label_value! { enum Method { Get = "GET", Post = "POST" } }
torchlight::label_set! { struct Route { method: Method } }

static BOUNDS: Buckets<4> = Buckets::exponential(0.001, 10.0);
static EXPORTED: Metric<Counter> = Metric::new("exported", "Exported.", Counter::new());
static LATENCY: Metric<ExemplarHistogram<4>> = Metric::new(
    "otlp_latency_seconds",
    "Latency.",
    ExemplarHistogram::with_buckets(&BOUNDS),
)
.with_unit("seconds");
static ROUTES: Metric<Labelled<Route, Counter, 2>> = Metric::new(
    "otlp_routes",
    "By route.",
    Labelled::new([const { Counter::new() }; 2]),
);
static NATIVE: Metric<NativeHistogram<16>> =
    Metric::new("otlp_native", "Native.", NativeHistogram::new(1.1));
static SIZES: Metric<Summary> = Metric::new("otlp_sizes", "Sizes.", Summary::new());

#[test]
fn exports_after_the_first_do_not_allocate() {
    let registry = Registry::new();
    registry.register(&EXPORTED).unwrap();
    registry.register(&LATENCY).unwrap();
    registry.register(&ROUTES).unwrap();
    registry.register(&NATIVE).unwrap();
    registry.register(&SIZES).unwrap();
    for value in [0.0005, 0.5, 5.0, -1.0] {
        NATIVE.observe(value);
        SIZES.observe(value);
    }
    let traced = Exemplar::new(
        &[
            ("trace_id", "0af7651916cd43dd8448eb211c80319c"),
            ("span_id", "b7ad6b7169203331"),
        ],
        0.05,
    )
    .unwrap()
    .with_timestamp(1_700_000_000.25);
    LATENCY.observe_exemplar(&traced);
    let resource = [("service.name", "alloc"), ("host.name", "h")];
    let mut body = Vec::new();
    let mut export = || {
        let request = Otlp::new(1_700_000_000_000_000_000, 1_600_000_000_000_000_000)
            .with_resource(&resource);
        body.clear();
        registry.encode_otlp(&mut body, &request).unwrap();
    };
    export();
    let ((), calls, _) = measure(|| {
        for _ in 0..100 {
            EXPORTED.inc();
            export();
        }
    });
    assert_eq!(calls, 0);
}
