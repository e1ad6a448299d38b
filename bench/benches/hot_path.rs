//! Cases 1–5 of `cargo xtask bench`: the cost of one metric operation in each library,
//! next to the physical floor, and the overhead of the future wrappers.
//!
//! Paths are `<case>::<variant>::<library>`; `cargo xtask bench` turns them into the
//! tables of `BENCHMARKS.md`. Contended cases run on one shared metric, once on one
//! thread and once on every available core (`threads = [1, 0]`); divan reports the time
//! per operation on each thread. Inputs (observed values, label combinations) are
//! pre-generated in `torchlight_bench::workload` and handed over by divan's input
//! generator, outside the timed region; the floor rows read the same inputs.
#![forbid(unsafe_code)]

use std::sync::LazyLock;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Instant;

use divan::{Bencher, black_box};
use torchlight_bench::workload::{BUCKETS, KINDS, ROUTES, next_label_pair, next_observation};

/// Samples per benchmark unless `--sample-count` (or `DIVAN_SAMPLE_COUNT`) says
/// otherwise; the tables report the median sample.
const SAMPLES: u32 = 1_000;

/// Iterations per sample unless `--sample-size` (or `DIVAN_SAMPLE_SIZE`) says
/// otherwise. Fixed rather than left to divan's calibration, which picked 1 for
/// `metrics`' histogram (its first calls allocate) and so timed single 50 ns calls with
/// a 20 ns timer; 1024 calls of ≥ 1 ns are well above the timer's precision.
const SAMPLE_SIZE: u32 = 1_024;

fn main() {
    torchlight_bench::machine::print();
    let given = |flag: &str, var: &str| {
        std::env::args().any(|arg| arg.starts_with(flag)) || std::env::var_os(var).is_some()
    };
    let mut divan = divan::Divan::from_args();
    if !given("--sample-count", "DIVAN_SAMPLE_COUNT") {
        divan = divan.sample_count(SAMPLES);
    }
    if !given("--sample-size", "DIVAN_SAMPLE_SIZE") {
        divan = divan.sample_size(SAMPLE_SIZE);
    }
    divan.main();
}

/// One thread, then every available core (divan's `0`), on one shared metric.
const THREADS: &[usize] = &[1, 0];

/// The recorder behind the `metrics` handles of cases 1–3 (created once and leaked by
/// the `LazyLock`), given the same buckets as everyone else.
static METRICS_RECORDER: LazyLock<metrics_exporter_prometheus::PrometheusRecorder> =
    LazyLock::new(|| {
        metrics_exporter_prometheus::PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the shared buckets are valid")
            .build_recorder()
    });

/// A `metrics` handle registered with [`METRICS_RECORDER`].
fn metrics_handle<T>(register: impl FnOnce() -> T) -> T {
    metrics::with_local_recorder(&*METRICS_RECORDER, register)
}

// ---------------------------------------------------------------------------------------
/// Case 1: `Counter::inc` (or the peer's equivalent) on one counter.
mod case1_counter {
    use super::*;

    /// Increment by one.
    mod inc {
        use super::*;

        static FLOOR: AtomicU64 = AtomicU64::new(0);
        static TORCHLIGHT: torchlight::Counter = torchlight::Counter::new();
        static PROMETHEUS: LazyLock<prometheus::IntCounter> = LazyLock::new(|| {
            prometheus::IntCounter::new("counter", "help text").expect("valid name")
        });
        static PROMETHEUS_CLIENT: LazyLock<prometheus_client::metrics::counter::Counter> =
            LazyLock::new(Default::default);
        static METRICS: LazyLock<metrics::Counter> =
            LazyLock::new(|| metrics_handle(|| metrics::counter!("counter")));
        static MEASURED: LazyLock<measured::Counter> = LazyLock::new(measured::Counter::new);

        #[divan::bench(threads = THREADS)]
        fn floor(bencher: Bencher<'_, '_>) {
            // The result is dropped, as the counters drop theirs (`lock add`, not `xadd`).
            bencher.bench(|| {
                black_box(&FLOOR).fetch_add(1, Ordering::Relaxed);
            });
        }

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher.bench(|| black_box(&TORCHLIGHT).inc());
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            let counter = &*PROMETHEUS;
            bencher.bench(|| black_box(counter).inc());
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let counter = &*PROMETHEUS_CLIENT;
            bencher.bench(|| black_box(counter).inc());
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let counter = &*METRICS;
            bencher.bench(|| black_box(counter).increment(1));
        }

        #[divan::bench(threads = THREADS)]
        fn measured(bencher: Bencher<'_, '_>) {
            let counter = &*MEASURED;
            bencher.bench(|| black_box(counter).inc());
        }
    }
}

// ---------------------------------------------------------------------------------------
/// Case 2: integer gauge `set` and `add` on one gauge (`metrics` gauges are `f64`).
mod case2_gauge {
    use super::*;

    static FLOOR: AtomicI64 = AtomicI64::new(0);
    static TORCHLIGHT: torchlight::Gauge = torchlight::Gauge::new();
    static PROMETHEUS: LazyLock<prometheus::IntGauge> =
        LazyLock::new(|| prometheus::IntGauge::new("gauge", "help text").expect("valid name"));
    static PROMETHEUS_CLIENT: LazyLock<prometheus_client::metrics::gauge::Gauge> =
        LazyLock::new(Default::default);
    static METRICS: LazyLock<metrics::Gauge> =
        LazyLock::new(|| metrics_handle(|| metrics::gauge!("gauge")));
    static MEASURED: LazyLock<measured::Gauge> = LazyLock::new(measured::Gauge::new);

    /// Replace the value.
    mod set {
        use super::*;

        #[divan::bench(threads = THREADS)]
        fn floor(bencher: Bencher<'_, '_>) {
            bencher.bench(|| black_box(&FLOOR).store(black_box(42), Ordering::Relaxed));
        }

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher.bench(|| black_box(&TORCHLIGHT).set(black_box(42)));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            let gauge = &*PROMETHEUS;
            bencher.bench(|| black_box(gauge).set(black_box(42)));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let gauge = &*PROMETHEUS_CLIENT;
            bencher.bench(|| black_box(gauge).set(black_box(42)));
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let gauge = &*METRICS;
            bencher.bench(|| black_box(gauge).set(black_box(42.0)));
        }

        #[divan::bench(threads = THREADS)]
        fn measured(bencher: Bencher<'_, '_>) {
            let gauge = &*MEASURED;
            bencher.bench(|| black_box(gauge).set(black_box(42)));
        }
    }

    /// Add to the value.
    mod add {
        use super::*;

        #[divan::bench(threads = THREADS)]
        fn floor(bencher: Bencher<'_, '_>) {
            bencher.bench(|| {
                black_box(&FLOOR).fetch_add(black_box(1), Ordering::Relaxed);
            });
        }

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher.bench(|| black_box(&TORCHLIGHT).add(black_box(1)));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            let gauge = &*PROMETHEUS;
            bencher.bench(|| black_box(gauge).add(black_box(1)));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let gauge = &*PROMETHEUS_CLIENT;
            bencher.bench(|| black_box(gauge).inc_by(black_box(1)));
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let gauge = &*METRICS;
            bencher.bench(|| black_box(gauge).increment(black_box(1.0)));
        }

        #[divan::bench(threads = THREADS)]
        fn measured(bencher: Bencher<'_, '_>) {
            let gauge = &*MEASURED;
            bencher.bench(|| black_box(gauge).inc_by(black_box(1)));
        }
    }
}

// ---------------------------------------------------------------------------------------
/// Case 3: histogram `observe` with the 14 default buckets on one histogram, values
/// from `workload::observations` (every bucket and `+Inf` hit).
mod case3_histogram {
    use super::*;

    /// Observe one value.
    mod observe {
        use super::*;

        static FLOOR: AtomicU64 = AtomicU64::new(0);
        static TORCHLIGHT: torchlight::Histogram = torchlight::Histogram::new();
        static PROMETHEUS: LazyLock<prometheus::Histogram> = LazyLock::new(|| {
            prometheus::Histogram::with_opts(
                prometheus::HistogramOpts::new("histogram", "help text").buckets(BUCKETS.to_vec()),
            )
            .expect("valid name and buckets")
        });
        static PROMETHEUS_CLIENT: LazyLock<prometheus_client::metrics::histogram::Histogram> =
            LazyLock::new(|| prometheus_client::metrics::histogram::Histogram::new(BUCKETS));
        static METRICS: LazyLock<metrics::Histogram> =
            LazyLock::new(|| metrics_handle(|| metrics::histogram!("histogram")));
        static MEASURED: LazyLock<measured::Histogram<14>> = LazyLock::new(|| {
            measured::Histogram::with_metadata(
                measured::metric::histogram::Thresholds::with_buckets(BUCKETS),
            )
        });

        /// The floor: the same inputs, one bare atomic add.
        #[divan::bench(threads = THREADS)]
        fn floor(bencher: Bencher<'_, '_>) {
            bencher.with_inputs(next_observation).bench_values(|value| {
                black_box(value);
                black_box(&FLOOR).fetch_add(1, Ordering::Relaxed);
            });
        }

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(&TORCHLIGHT).observe(value));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            let histogram = &*PROMETHEUS;
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(histogram).observe(value));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let histogram = &*PROMETHEUS_CLIENT;
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(histogram).observe(value));
        }

        /// `metrics` appends the raw value to a buffer that is bucketed at render time;
        /// nothing renders here, so the buffer grows for the whole run.
        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            let histogram = &*METRICS;
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(histogram).record(value));
        }

        #[divan::bench(threads = THREADS)]
        fn measured(bencher: Bencher<'_, '_>) {
            let histogram = &*MEASURED;
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(histogram).observe(value));
        }

        static EXEMPLAR_TYPE: torchlight::ExemplarHistogram = torchlight::ExemplarHistogram::new();

        /// Plain `observe` on torchlight's exemplar-capable histogram: it should cost
        /// what the `torchlight` row costs (the exemplar slots are never touched).
        #[divan::bench(threads = THREADS)]
        fn torchlight_exemplar_type(bencher: Bencher<'_, '_>) {
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(&EXEMPLAR_TYPE).observe(value));
        }
    }

    /// Observe one value with an exemplar: a `trace_id` of 32 hex digits and, as
    /// torchlight does with `std`, the wall-clock time. Only the peers that have
    /// exemplar histograms (`prometheus-client`; `measured` 0.0.25, the version that
    /// builds here, has none).
    mod observe_with_exemplar {
        use super::*;
        use prometheus_client::metrics::exemplar::HistogramWithExemplars;

        const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

        static TORCHLIGHT: torchlight::ExemplarHistogram = torchlight::ExemplarHistogram::new();
        static PROMETHEUS_CLIENT: LazyLock<HistogramWithExemplars<[(&'static str, String); 1]>> =
            LazyLock::new(|| HistogramWithExemplars::new(BUCKETS.into_iter()));

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher.with_inputs(next_observation).bench_values(|value| {
                black_box(&TORCHLIGHT)
                    .observe_with_exemplar(value, &[("trace_id", TRACE_ID)])
                    .expect("a valid exemplar")
            });
        }

        /// Its exemplar labels are an owned set (the type parameter `S`), built by the
        /// input generator outside the timed region; dropping the replaced one is timed.
        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let histogram = &*PROMETHEUS_CLIENT;
            bencher
                .with_inputs(|| (next_observation(), [("trace_id", TRACE_ID.to_owned())]))
                .bench_values(|(value, labels)| {
                    black_box(histogram).observe(
                        value,
                        Some(labels),
                        Some(std::time::SystemTime::now()),
                    );
                });
        }
    }
}

/// Case 3, native: histogram `observe` into a native histogram (bucket factor 1.1,
/// schema 3, the default zero threshold), the same values as case 3; torchlight's
/// classic row is `case3_histogram::observe::torchlight`.
mod case3_native_histogram {
    use super::*;

    mod observe {
        use super::*;

        static TORCHLIGHT: torchlight::NativeHistogram = torchlight::NativeHistogram::new(1.1);
        static PROMETHEUS_CLIENT: LazyLock<prometheus_client::metrics::histogram::Histogram> =
            LazyLock::new(|| {
                prometheus_client::metrics::histogram::Histogram::new_native(
                    prometheus_client::metrics::histogram::NativeHistogramConfig::new(1.1),
                )
            });

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(&TORCHLIGHT).observe(value));
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let histogram = &*PROMETHEUS_CLIENT;
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(histogram).observe(value));
        }

        static EXEMPLAR_TYPE: torchlight::ExemplarNativeHistogram =
            torchlight::ExemplarNativeHistogram::new(1.1);

        /// Plain `observe` on torchlight's exemplar-keeping native histogram: it should
        /// cost what the `torchlight` row costs (the exemplar slots are never touched).
        #[divan::bench(threads = THREADS)]
        fn torchlight_exemplar_type(bencher: Bencher<'_, '_>) {
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(&EXEMPLAR_TYPE).observe(value));
        }
    }

    /// Observe one value with an exemplar into torchlight's exemplar-keeping native
    /// histogram: a `trace_id` of 32 hex digits and the wall-clock time, stored in the
    /// value's classic (`+Inf`) slot and native slot. No peer keeps exemplars for
    /// native histograms in a form that compares (`prometheus-client` has none).
    mod observe_with_exemplar {
        use super::*;

        const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

        static TORCHLIGHT: torchlight::ExemplarNativeHistogram =
            torchlight::ExemplarNativeHistogram::new(1.1);

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher.with_inputs(next_observation).bench_values(|value| {
                black_box(&TORCHLIGHT)
                    .observe_with_exemplar(value, &[("trace_id", TRACE_ID)])
                    .expect("a valid exemplar")
            });
        }
    }

    /// The same values into a native histogram that has already been reduced: a
    /// bound of 64 buckets, which the values' 115 buckets at schema 3 (1 ms to 20 s)
    /// exceed, so it is exposed at schema 2; filled with every value before timing.
    mod observe_reduced {
        use super::*;

        static TORCHLIGHT: torchlight::NativeHistogram<64> = torchlight::NativeHistogram::new(1.1);

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            static FILLED: std::sync::Once = std::sync::Once::new();
            FILLED.call_once(|| {
                for value in torchlight_bench::workload::observations() {
                    TORCHLIGHT.observe(*value);
                }
                assert_eq!(TORCHLIGHT.snapshot().schema(), 2);
            });
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(&TORCHLIGHT).observe(value));
        }
    }
}

// ---------------------------------------------------------------------------------------
/// Case 4: a counter labelled `kind` (3 values) × `route` (6 values), a random one of
/// the 18 combinations per call (`workload::label_pairs`), each library with its own
/// representation of labels known at compile time (built by the input generator).
mod case4_labelled {
    use super::*;

    /// Label values known at compile time.
    mod compile_time {
        use super::*;

        static FLOOR: AtomicU64 = AtomicU64::new(0);

        torchlight::label_value! {
            enum Kind { User = "user", Internal = "internal", Network = "network" }
        }
        torchlight::label_value! {
            enum Route {
                Users = "/api/v1/users",
                User = "/api/v1/users/:id",
                Products = "/api/v1/products",
                Product = "/api/v1/products/:id",
                Owner = "/api/v1/products/:id/owner",
                Purchase = "/api/v1/products/:id/purchase",
            }
        }
        torchlight::label_set! {
            struct Request { kind: Kind, route: Route }
        }
        static TORCHLIGHT: torchlight::Labelled<Request, torchlight::Counter, 18> =
            torchlight::Labelled::new([const { torchlight::Counter::new() }; 18]);

        fn torchlight_labels() -> Request {
            use torchlight::LabelValue;
            let (kind, route) = next_label_pair();
            Request {
                kind: Kind::from_index(kind),
                route: Route::from_index(route),
            }
        }

        static PROMETHEUS: LazyLock<prometheus::IntCounterVec> = LazyLock::new(|| {
            prometheus::IntCounterVec::new(
                prometheus::Opts::new("requests_total", "help text"),
                &["kind", "route"],
            )
            .expect("valid names")
        });

        fn string_labels() -> [&'static str; 2] {
            let (kind, route) = next_label_pair();
            [KINDS[kind], ROUTES[route]]
        }

        #[derive(
            Clone, Copy, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelValue,
        )]
        enum PcKind {
            User,
            Internal,
            Network,
        }

        #[derive(
            Clone, Copy, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelValue,
        )]
        enum PcRoute {
            Users,
            User,
            Products,
            Product,
            Owner,
            Purchase,
        }

        #[derive(
            Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet,
        )]
        struct PcRequest {
            kind: PcKind,
            route: PcRoute,
        }

        static PROMETHEUS_CLIENT: LazyLock<
            prometheus_client::metrics::family::Family<
                PcRequest,
                prometheus_client::metrics::counter::Counter,
            >,
        > = LazyLock::new(Default::default);

        fn prometheus_client_labels() -> PcRequest {
            const KIND: [PcKind; 3] = [PcKind::User, PcKind::Internal, PcKind::Network];
            const ROUTE: [PcRoute; 6] = [
                PcRoute::Users,
                PcRoute::User,
                PcRoute::Products,
                PcRoute::Product,
                PcRoute::Owner,
                PcRoute::Purchase,
            ];
            let (kind, route) = next_label_pair();
            PcRequest {
                kind: KIND[kind],
                route: ROUTE[route],
            }
        }

        /// `metrics`' macros resolve labels through the global recorder, installed once
        /// (shared with `run_time`).
        pub(super) static METRICS_GLOBAL: LazyLock<metrics_exporter_prometheus::PrometheusHandle> =
            LazyLock::new(|| {
                let recorder =
                    metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
                let handle = recorder.handle();
                metrics::set_global_recorder(recorder)
                    .expect("only this bench installs a global recorder");
                handle
            });

        #[derive(Clone, Copy, Debug, PartialEq, measured::FixedCardinalityLabel)]
        enum MKind {
            #[label(rename = "user")]
            User,
            #[label(rename = "internal")]
            Internal,
            #[label(rename = "network")]
            Network,
        }

        #[derive(Clone, Copy, Debug, PartialEq, measured::FixedCardinalityLabel)]
        enum MRoute {
            #[label(rename = "/api/v1/users")]
            Users,
            #[label(rename = "/api/v1/users/:id")]
            User,
            #[label(rename = "/api/v1/products")]
            Products,
            #[label(rename = "/api/v1/products/:id")]
            Product,
            #[label(rename = "/api/v1/products/:id/owner")]
            Owner,
            #[label(rename = "/api/v1/products/:id/purchase")]
            Purchase,
        }

        #[derive(Clone, Copy, Debug, PartialEq, measured::LabelGroup)]
        #[label(set = MRequestSet)]
        struct MRequest {
            kind: MKind,
            route: MRoute,
        }

        static MEASURED: LazyLock<measured::CounterVec<MRequestSet>> =
            LazyLock::new(measured::CounterVec::new);

        fn measured_labels() -> MRequest {
            use measured::FixedCardinalityLabel;
            let (kind, route) = next_label_pair();
            MRequest {
                kind: MKind::decode(kind),
                route: MRoute::decode(route),
            }
        }

        /// The floor: the same inputs, one bare atomic add.
        #[divan::bench(threads = THREADS)]
        fn floor(bencher: Bencher<'_, '_>) {
            bencher.with_inputs(next_label_pair).bench_values(|pair| {
                black_box(pair);
                black_box(&FLOOR).fetch_add(1, Ordering::Relaxed);
            });
        }

        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher
                .with_inputs(torchlight_labels)
                .bench_values(|labels| black_box(&TORCHLIGHT).get(labels).inc());
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            let family = &*PROMETHEUS;
            bencher
                .with_inputs(string_labels)
                .bench_values(|labels| black_box(family).with_label_values(&labels).inc());
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let family = &*PROMETHEUS_CLIENT;
            bencher
                .with_inputs(prometheus_client_labels)
                .bench_values(|labels| {
                    black_box(family).get_or_create(&labels).inc();
                });
        }

        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            LazyLock::force(&METRICS_GLOBAL);
            bencher
                .with_inputs(string_labels)
                .bench_values(|[kind, route]| {
                    metrics::counter!("requests_total", "kind" => kind, "route" => route)
                        .increment(1);
                });
        }

        #[divan::bench(threads = THREADS)]
        fn measured(bencher: Bencher<'_, '_>) {
            let family = &*MEASURED;
            bencher
                .with_inputs(measured_labels)
                .bench_values(|labels| black_box(family).inc(labels));
        }
    }

    /// Label values known only at run time: the same 18 combinations, arriving as
    /// borrowed `&str`s (as values read from a request would). Each library looks the
    /// child up its own way; where its API needs owned values (`prometheus-client`'s
    /// key, `metrics`' `String` label values), the input generator builds them outside
    /// the timed region and the output is handed back to divan, so the peer is not
    /// charged the allocation (only `metrics` drops its consumed key inside).
    mod run_time {
        use super::*;

        static FLOOR: AtomicU64 = AtomicU64::new(0);

        static TORCHLIGHT: torchlight::Family<torchlight::Counter, 2> =
            torchlight::Family::new(["kind", "route"], torchlight::Counter::new);

        static PROMETHEUS: LazyLock<prometheus::IntCounterVec> = LazyLock::new(|| {
            prometheus::IntCounterVec::new(
                prometheus::Opts::new("requests_total", "help text"),
                &["kind", "route"],
            )
            .expect("valid names")
        });

        fn string_labels() -> [&'static str; 2] {
            let (kind, route) = next_label_pair();
            [KINDS[kind], ROUTES[route]]
        }

        /// `prometheus-client`'s family keyed by owned values.
        #[derive(
            Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet,
        )]
        struct PcRequest {
            kind: String,
            route: String,
        }

        static PROMETHEUS_CLIENT: LazyLock<
            prometheus_client::metrics::family::Family<
                PcRequest,
                prometheus_client::metrics::counter::Counter,
            >,
        > = LazyLock::new(Default::default);

        fn prometheus_client_labels() -> PcRequest {
            let [kind, route] = string_labels();
            PcRequest {
                kind: kind.to_owned(),
                route: route.to_owned(),
            }
        }

        fn owned_labels() -> [String; 2] {
            string_labels().map(str::to_owned)
        }

        /// `measured`'s label group over two `paracord`-interned labels.
        #[derive(Clone, Copy, PartialEq, Debug, measured::LabelGroup)]
        #[label(set = MRequestSet)]
        struct MRequest<'a> {
            #[label(dynamic_with = paracord::ParaCord)]
            kind: &'a str,
            #[label(dynamic_with = paracord::ParaCord)]
            route: &'a str,
        }

        static MEASURED: LazyLock<measured::CounterVec<MRequestSet>> = LazyLock::new(|| {
            measured::CounterVec::with_label_set(MRequestSet {
                kind: paracord::ParaCord::default(),
                route: paracord::ParaCord::default(),
            })
        });

        /// The floor: the same inputs, one bare atomic add.
        #[divan::bench(threads = THREADS)]
        fn floor(bencher: Bencher<'_, '_>) {
            bencher.with_inputs(string_labels).bench_values(|labels| {
                black_box(labels);
                black_box(&FLOOR).fetch_add(1, Ordering::Relaxed);
            });
        }

        /// `get_or_create` hands back an `Arc` (a clone and a drop: two more atomic
        /// read-modify-writes on the child's reference count).
        #[divan::bench(threads = THREADS)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let family = &TORCHLIGHT;
            bencher.with_inputs(string_labels).bench_values(|labels| {
                black_box(family).get_or_create(labels).inc();
            });
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus(bencher: Bencher<'_, '_>) {
            let family = &*PROMETHEUS;
            bencher
                .with_inputs(string_labels)
                .bench_values(|labels| black_box(family).with_label_values(&labels).inc());
        }

        #[divan::bench(threads = THREADS)]
        fn prometheus_client(bencher: Bencher<'_, '_>) {
            let family = &*PROMETHEUS_CLIENT;
            bencher
                .with_inputs(prometheus_client_labels)
                .bench_values(|labels| {
                    black_box(family).get_or_create(&labels).inc();
                    // Handed back so divan drops the key outside the timed region.
                    labels
                });
        }

        /// `counter!` with owned values (a `&str` of unknown lifetime has to become a
        /// `String` label value); the key it builds from them is dropped inside.
        #[divan::bench(threads = THREADS)]
        fn metrics(bencher: Bencher<'_, '_>) {
            LazyLock::force(&compile_time::METRICS_GLOBAL);
            bencher
                .with_inputs(owned_labels)
                .bench_values(|[kind, route]| {
                    metrics::counter!("requests_total", "kind" => kind, "route" => route)
                        .increment(1);
                });
        }

        #[divan::bench(threads = THREADS)]
        fn measured(bencher: Bencher<'_, '_>) {
            let family = &*MEASURED;
            bencher
                .with_inputs(string_labels)
                .bench_values(|[kind, route]| {
                    black_box(family).inc(MRequest { kind, route });
                });
        }
    }
}

// ---------------------------------------------------------------------------------------
/// Case 5: the overhead of the future wrappers over the bare future.
///
/// Every row creates the same ready future (`work`), wraps it or not, and drives it with
/// the same `block_on` (one poll with a no-op waker), all inside the timed region:
///
/// - `bare`: the future alone;
/// - `floor`: the least the measurement can cost, written by hand around the bare
///   future (for `timed`: two `Instant::now()` and one observe on a torchlight
///   histogram with the default buckets, the target's "two clock reads plus one
///   observe"; for `count_errors`: one increment on the `Err`; for
///   `track_in_progress`: one increment and one decrement);
/// - `torchlight`: `Instrument::time` (`time_with(&H, StdClock)`), `count_errors`,
///   `track_in_progress`;
/// - peers with a comparable helper: `prometheus`' and `measured`'s
///   `Histogram::start_timer` around the poll (`metrics` and `prometheus-client` have
///   no timing helper; no peer has one for errors or in-progress).
mod case5_future {
    use super::*;
    use std::pin::pin;
    use std::task::{Context, Poll, Waker};
    use torchlight::Instrument;

    /// Drives `future` to completion with a no-op waker (here: one poll).
    fn block_on<F: Future>(future: F) -> F::Output {
        let mut future = pin!(future);
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
        }
    }

    /// The work being instrumented: a future that is ready at once with an error (so
    /// `count_errors` counts, its costlier path).
    async fn work() -> Result<u64, u64> {
        black_box(Err(1))
    }

    /// One clock read, the unit the timing target is stated in.
    mod clock_read {
        use super::*;

        #[divan::bench]
        fn floor() -> Instant {
            Instant::now()
        }
    }

    /// Observing how long the future ran, in seconds, into a histogram with the
    /// default buckets.
    mod timed {
        use super::*;

        static FLOOR: torchlight::Histogram = torchlight::Histogram::new();
        static TORCHLIGHT: torchlight::Histogram = torchlight::Histogram::new();
        static PROMETHEUS: LazyLock<prometheus::Histogram> = LazyLock::new(|| {
            prometheus::Histogram::with_opts(
                prometheus::HistogramOpts::new("histogram", "help text").buckets(BUCKETS.to_vec()),
            )
            .expect("valid name and buckets")
        });
        static MEASURED: LazyLock<measured::Histogram<14>> = LazyLock::new(|| {
            measured::Histogram::with_metadata(
                measured::metric::histogram::Thresholds::with_buckets(BUCKETS),
            )
        });

        #[divan::bench]
        fn bare() -> Result<u64, u64> {
            block_on(work())
        }

        /// Two clock reads and one observe, by hand.
        #[divan::bench]
        fn floor() -> Result<u64, u64> {
            let start = Instant::now();
            let output = block_on(work());
            FLOOR.observe(
                Instant::now()
                    .saturating_duration_since(start)
                    .as_secs_f64(),
            );
            output
        }

        #[divan::bench]
        fn torchlight() -> Result<u64, u64> {
            block_on(work().time(&TORCHLIGHT))
        }

        /// `start_timer` before the poll, `observe_duration` after it.
        #[divan::bench]
        fn prometheus() -> Result<u64, u64> {
            let histogram = &*PROMETHEUS;
            let timer = histogram.start_timer();
            let output = block_on(work());
            timer.observe_duration();
            output
        }

        /// `start_timer` before the poll, `observe` after it.
        #[divan::bench]
        fn measured() -> Result<u64, u64> {
            let histogram = &*MEASURED;
            let timer = histogram.start_timer();
            let output = block_on(work());
            timer.observe();
            output
        }
    }

    /// Counting the future's `Err` outputs.
    mod count_errors {
        use super::*;

        static FLOOR: torchlight::Counter = torchlight::Counter::new();
        static TORCHLIGHT: torchlight::Counter = torchlight::Counter::new();

        #[divan::bench]
        fn bare() -> Result<u64, u64> {
            block_on(work())
        }

        /// One increment on `Err`, by hand.
        #[divan::bench]
        fn floor() -> Result<u64, u64> {
            let output = block_on(work());
            if output.is_err() {
                FLOOR.inc();
            }
            output
        }

        #[divan::bench]
        fn torchlight() -> Result<u64, u64> {
            block_on(work().count_errors(&TORCHLIGHT))
        }
    }

    /// Tracking the future in an in-progress gauge.
    mod track_in_progress {
        use super::*;

        static FLOOR: torchlight::Gauge = torchlight::Gauge::new();
        static TORCHLIGHT: torchlight::Gauge = torchlight::Gauge::new();

        #[divan::bench]
        fn bare() -> Result<u64, u64> {
            block_on(work())
        }

        /// One increment before and one decrement after, by hand.
        #[divan::bench]
        fn floor() -> Result<u64, u64> {
            FLOOR.inc();
            let output = block_on(work());
            FLOOR.dec();
            output
        }

        #[divan::bench]
        fn torchlight() -> Result<u64, u64> {
            block_on(work().track_in_progress(&TORCHLIGHT))
        }
    }
}
