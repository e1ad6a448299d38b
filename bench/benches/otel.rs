//! Case 15 (issue 24): torchlight against the OpenTelemetry Rust SDK (`opentelemetry` +
//! `opentelemetry_sdk` 0.33), on one thread and on every core as in `hot_path`.
//!
//! - `case15_counter::{add, add_with_attributes}`: a `u64` counter's `add(1)`, without
//!   attributes (torchlight: `Counter::inc`) and with the two attributes of case 4
//!   (`kind`, `route`, values from `workload::label_pairs`; torchlight: the run-time
//!   `Family::get_or_create(..).inc()`, the SDK: `&[KeyValue; 2]` built outside the timed
//!   region).
//! - `case15_histogram::{record, record_with_attributes}`: the same with an `f64`
//!   histogram over case 3's buckets and values.
//! - `case15_export::encode_10k`: one export of 10 000 counter series (`kind` = `"0"` …
//!   `"9999"`, each incremented once): torchlight's `Registry::encode_otlp` into a kept
//!   buffer against the SDK's collect (a `ManualReader`) plus its OTLP protobuf encoding,
//!   opentelemetry-proto's `ExportMetricsServiceRequest::from(&ResourceMetrics)` encoded
//!   by prost into a kept buffer: what `opentelemetry-otlp`'s HTTP exporter does before it
//!   sends, without a network.
#![forbid(unsafe_code)]

use std::sync::{Arc, LazyLock, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use divan::{Bencher, black_box};
use opentelemetry::KeyValue;
use opentelemetry::metrics::MeterProvider as _;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_sdk::error::OTelSdkResult;
use opentelemetry_sdk::metrics::data::ResourceMetrics;
use opentelemetry_sdk::metrics::reader::MetricReader;
use opentelemetry_sdk::metrics::{
    InstrumentKind, ManualReader, Pipeline, SdkMeterProvider, Stream, Temporality,
};
use prost::Message as _;
use torchlight::Otlp;
use torchlight_bench::scrape::torchlight_family_registry;
use torchlight_bench::workload::{
    BUCKETS, KINDS, ROUTES, next_label_pair, next_observation, series_labels,
};

/// As `hot_path`'s: 1 000 samples of 1 024 calls per hot-path bench.
const SAMPLES: u32 = 1_000;
const SAMPLE_SIZE: u32 = 1_024;

/// The series of the export case (one of `workload::SERIES_COUNTS`).
const SERIES: usize = 10_000;

fn main() {
    torchlight_bench::machine::print();
    // Per bench, not for the whole program as `hot_path` does: divan's program-wide
    // settings win over a bench's, and one export is milliseconds, not nanoseconds.
    divan::Divan::from_args().main();
}

/// One thread, then every available core (divan's `0`), on one shared instrument.
const THREADS: &[usize] = &[1, 0];

/// A `ManualReader` the bench keeps a handle to after the provider took it.
#[derive(Debug, Clone)]
struct SharedReader(Arc<ManualReader>);

impl MetricReader for SharedReader {
    fn register_pipeline(&self, pipeline: Weak<Pipeline>) {
        self.0.register_pipeline(pipeline);
    }
    fn collect(&self, rm: &mut ResourceMetrics) -> OTelSdkResult {
        self.0.collect(rm)
    }
    fn force_flush(&self) -> OTelSdkResult {
        self.0.force_flush()
    }
    fn shutdown_with_timeout(&self, timeout: Duration) -> OTelSdkResult {
        self.0.shutdown_with_timeout(timeout)
    }
    fn temporality(&self, kind: InstrumentKind) -> Temporality {
        self.0.temporality(kind)
    }
}

/// The SDK's meter provider, read by hand (cumulative, as torchlight's points are), with
/// the cardinality limit raised above the export case's series (the SDK's default, 2 000,
/// would fold the rest into its overflow series).
static PROVIDER: LazyLock<(SdkMeterProvider, SharedReader)> = LazyLock::new(provider);

/// A meter provider and its reader (see [`PROVIDER`]).
fn provider() -> (SdkMeterProvider, SharedReader) {
    let reader = SharedReader(Arc::new(ManualReader::builder().build()));
    let provider = SdkMeterProvider::builder()
        .with_reader(reader.clone())
        .with_view(|_: &opentelemetry_sdk::metrics::Instrument| {
            Stream::builder()
                .with_cardinality_limit(2 * SERIES)
                .build()
                .ok()
        })
        .build();
    (provider, reader)
}

fn meter() -> opentelemetry::metrics::Meter {
    PROVIDER.0.meter("torchlight-bench")
}

/// Case 4's attributes as the SDK takes them.
fn attributes() -> [KeyValue; 2] {
    let (kind, route) = next_label_pair();
    [
        KeyValue::new("kind", KINDS[kind]),
        KeyValue::new("route", ROUTES[route]),
    ]
}

/// Case 4's label values as torchlight's run-time family takes them.
fn string_labels() -> [&'static str; 2] {
    let (kind, route) = next_label_pair();
    [KINDS[kind], ROUTES[route]]
}

// ---------------------------------------------------------------------------------------
/// Case 15: a counter's add.
mod case15_counter {
    use super::*;

    /// Add 1, no attributes.
    mod add {
        use super::*;

        static TORCHLIGHT: torchlight::Counter = torchlight::Counter::new();
        static OPENTELEMETRY: LazyLock<opentelemetry::metrics::Counter<u64>> =
            LazyLock::new(|| meter().u64_counter("counter").build());

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher.bench(|| black_box(&TORCHLIGHT).inc());
        }

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn opentelemetry(bencher: Bencher<'_, '_>) {
            let counter = &*OPENTELEMETRY;
            bencher.bench(|| black_box(counter).add(1, &[]));
        }
    }

    /// Add 1 to the series of two attributes (`kind`, `route`: 18 combinations).
    mod add_with_attributes {
        use super::*;

        static TORCHLIGHT: torchlight::Family<torchlight::Counter, 2> =
            torchlight::Family::new(["kind", "route"], torchlight::Counter::new);
        static OPENTELEMETRY: LazyLock<opentelemetry::metrics::Counter<u64>> =
            LazyLock::new(|| meter().u64_counter("counter_with_attributes").build());

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let family = &TORCHLIGHT;
            bencher.with_inputs(string_labels).bench_values(|labels| {
                black_box(family).get_or_create(labels).inc();
            });
        }

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn opentelemetry(bencher: Bencher<'_, '_>) {
            let counter = &*OPENTELEMETRY;
            bencher
                .with_inputs(attributes)
                .bench_refs(|attributes| black_box(counter).add(1, attributes));
        }
    }
}

// ---------------------------------------------------------------------------------------
/// Case 15: a histogram's record, case 3's 14 buckets and values.
mod case15_histogram {
    use super::*;

    fn otel_histogram(name: &'static str) -> opentelemetry::metrics::Histogram<f64> {
        meter()
            .f64_histogram(name)
            .with_boundaries(BUCKETS.to_vec())
            .build()
    }

    /// Record one value, no attributes.
    mod record {
        use super::*;

        static TORCHLIGHT: torchlight::Histogram = torchlight::Histogram::new();
        static OPENTELEMETRY: LazyLock<opentelemetry::metrics::Histogram<f64>> =
            LazyLock::new(|| otel_histogram("histogram"));

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(&TORCHLIGHT).observe(value));
        }

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn opentelemetry(bencher: Bencher<'_, '_>) {
            let histogram = &*OPENTELEMETRY;
            bencher
                .with_inputs(next_observation)
                .bench_values(|value| black_box(histogram).record(value, &[]));
        }
    }

    /// Record one value in the series of two attributes.
    mod record_with_attributes {
        use super::*;

        static TORCHLIGHT: torchlight::Family<torchlight::Histogram, 2> =
            torchlight::Family::new(["kind", "route"], torchlight::Histogram::new);
        static OPENTELEMETRY: LazyLock<opentelemetry::metrics::Histogram<f64>> =
            LazyLock::new(|| otel_histogram("histogram_with_attributes"));

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let family = &TORCHLIGHT;
            bencher
                .with_inputs(|| (next_observation(), string_labels()))
                .bench_values(|(value, labels)| {
                    black_box(family).get_or_create(labels).observe(value);
                });
        }

        #[divan::bench(threads = THREADS, sample_count = SAMPLES, sample_size = SAMPLE_SIZE)]
        fn opentelemetry(bencher: Bencher<'_, '_>) {
            let histogram = &*OPENTELEMETRY;
            bencher
                .with_inputs(|| (next_observation(), attributes()))
                .bench_refs(|(value, attributes)| {
                    black_box(histogram).record(*value, attributes);
                });
        }
    }
}

// ---------------------------------------------------------------------------------------
/// Case 15: one OTLP export's encoding of 10 000 counter series, no network.
mod case15_export {
    use super::*;

    /// Collect and encode an `ExportMetricsServiceRequest`.
    mod encode_10k {
        use super::*;

        fn now() -> u64 {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |since| u64::try_from(since.as_nanos()).unwrap_or(0))
        }

        #[divan::bench(sample_count = 100, sample_size = 1)]
        fn torchlight(bencher: Bencher<'_, '_>) {
            let registry = torchlight_family_registry(SERIES);
            let start = now();
            let mut body = Vec::new();
            bencher.bench_local(|| {
                body.clear();
                let request = Otlp::new(now(), start);
                registry
                    .encode_otlp(&mut body, &request)
                    .expect("a Vec takes any body");
                black_box(body.len())
            });
            // On stderr, so the line does not split divan's row on stdout.
            eprintln!("torchlight body: {} bytes", body.len());
        }

        #[divan::bench(sample_count = 100, sample_size = 1)]
        fn opentelemetry(bencher: Bencher<'_, '_>) {
            // A provider of its own, so the other cases' instruments are not exported.
            let (provider, reader) = provider();
            let counter = provider
                .meter("torchlight-bench")
                .u64_counter("counters")
                .build();
            for label in &series_labels()[..SERIES] {
                counter.add(1, &[KeyValue::new("kind", label.clone())]);
            }
            let mut metrics = ResourceMetrics::default();
            let mut body = Vec::new();
            bencher.bench_local(|| {
                reader.collect(&mut metrics).expect("the reader collects");
                let request = ExportMetricsServiceRequest::from(&metrics);
                body.clear();
                request.encode(&mut body).expect("a Vec takes any message");
                black_box(body.len())
            });
            eprintln!("opentelemetry body: {} bytes", body.len());
        }
    }
}
