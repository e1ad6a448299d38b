//! OTLP: every metric type decoded with an independent implementation (`prost` with the
//! hand-written mirrors of `otlp_proto.rs`) and compared, whole, with what was recorded:
//! the mapping of OpenTelemetry's Prometheus compatibility specification, the resource
//! and scope, exemplars with trace and span ids as bytes, native histograms as
//! exponential ones (their bucket indexes one lower), a fixed buffer, and sinks that
//! cannot take the format.
#![cfg(all(feature = "std", not(loom)))]

use core::time::Duration;
use torchlight::{
    Buckets, ByteSink, Collect, Counter, EncodeError, Encoder, Exemplar, ExemplarCounter,
    ExemplarHistogram, Gauge, Histogram, Info, ManualClock, Metric, MetricType, NativeHistogram,
    Otlp, Registry, SliceSink, StateSet, Summary,
};

use crate::otlp_proto::{self as pb, Data, Value, decode, pairs};

const START: u64 = 1_700_000_000_000_000_000;
const NOW: u64 = START + 15_000_000_000;
/// When the metrics of a registry with [`created_at`]'s clock were created.
const CREATED: u64 = START + 5_000_000_000;

/// A registry whose metrics are created at `at` nanoseconds since the Unix epoch.
fn created_at(at: u64, clock: &'static ManualClock) -> Registry {
    clock.set(Duration::from_nanos(at));
    Registry::new().with_created_clock(Some(clock))
}

fn export(registry: &Registry, request: &Otlp<'_>) -> pb::ExportMetricsServiceRequest {
    let mut body = Vec::new();
    registry
        .encode_otlp(&mut body, request)
        .expect("a Vec never fills up");
    decode(&body)
}

/// The metrics of the one resource's one scope.
fn metrics(request: &pb::ExportMetricsServiceRequest) -> &[pb::Metric] {
    assert_eq!(request.resource_metrics.len(), 1);
    let scopes = &request.resource_metrics[0].scope_metrics;
    assert_eq!(scopes.len(), 1);
    &scopes[0].metrics
}

fn key_values(attributes: &[(&str, &str)]) -> Vec<pb::KeyValue> {
    attributes
        .iter()
        .map(|(key, value)| pb::KeyValue {
            key: (*key).to_owned(),
            value: Some(pb::AnyValue {
                value: Some(pb::any_value::Value::StringValue((*value).to_owned())),
            }),
        })
        .collect()
}

fn metric(name: &str, description: &str, unit: &str, kind: &str, data: Data) -> pb::Metric {
    pb::Metric {
        name: name.into(),
        description: description.into(),
        unit: unit.into(),
        data: Some(data),
        metadata: key_values(&[("prometheus.type", kind)]),
    }
}

fn point(attributes: &[(&str, &str)], start: u64, value: Value) -> pb::NumberDataPoint {
    pb::NumberDataPoint {
        attributes: key_values(attributes),
        start_time_unix_nano: start,
        time_unix_nano: NOW,
        value: Some(value),
        exemplars: Vec::new(),
    }
}

fn sum(points: Vec<pb::NumberDataPoint>, monotonic: bool) -> Data {
    Data::Sum(pb::Sum {
        data_points: points,
        aggregation_temporality: pb::CUMULATIVE,
        is_monotonic: monotonic,
    })
}

torchlight::label_value! { enum Phase { Starting = "starting", Running = "running" } }

/// Labels reported by a collector of its own, one of them empty, values as floats.
struct Rooms;

impl Collect for Rooms {
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    fn label_names(&self) -> &[&'static str] {
        &["room", "floor"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        encoder.gauge(&[("room", "kitchen"), ("floor", "1")], 21.5)?;
        // An empty value is no attribute.
        encoder.gauge(&[("room", "cellar"), ("floor", "")], 12.0)
    }
}

/// Registers a `Metric` whatever its type, so a test can list them.
trait Register {
    fn register(&'static self, registry: &Registry);
}

impl<M: Collect> Register for Metric<M> {
    fn register(&'static self, registry: &Registry) {
        registry.register(self).expect("registers once");
    }
}

#[test]
fn every_metric_type_maps_as_the_compatibility_specification_says() {
    static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    static ROOMS: Metric<Rooms> =
        Metric::new("temperature_celsius", "", Rooms).with_unit("celsius");
    static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.5]);
    static LATENCY: Metric<Histogram<2>> = Metric::new(
        "latency_seconds",
        "Latency.",
        Histogram::with_buckets(&BOUNDS),
    )
    .with_unit("seconds");
    static SIZES: Metric<Summary> = Metric::new("sizes_bytes_per_second", "Sizes.", Summary::new())
        .with_unit("bytes_per_second");
    static BUILD: Metric<Info<1>> =
        Metric::new("build", "Build.", Info::new([("version", "1.2.3")]));
    static PHASE: Metric<StateSet<Phase>> = Metric::new("phase", "Phase.", StateSet::new());
    static DEPTH: Metric<Gauge> = Metric::new("depth", "Depth.", Gauge::new());
    static IDLE: Metric<Counter> = Metric::new("idle", "Never exported twice.", Counter::new());
    static CLOCK: ManualClock = ManualClock::new();

    // Cumulative points start at their series' created timestamp (counters, histograms,
    // summaries), or at the request's start time (info and state sets keep none).
    let registry = created_at(CREATED, &CLOCK);
    for metric in [
        &JOBS as &dyn Register,
        &ROOMS,
        &LATENCY,
        &SIZES,
        &BUILD,
        &PHASE,
        &DEPTH,
        &IDLE,
    ] {
        metric.register(&registry);
    }
    JOBS.inc_by(3);
    for value in [0.5, 1.5, 3.0, 0.25] {
        LATENCY.observe(value);
    }
    SIZES.observe(1.0);
    SIZES.observe(2.0);
    PHASE.set(Phase::Running);
    DEPTH.set(-4);

    let sent = export(&registry, &Otlp::new(NOW, START));
    let expected = [
        metric(
            "jobs",
            "Jobs run.",
            "",
            "counter",
            sum(vec![point(&[], CREATED, Value::AsInt(3))], true),
        ),
        metric(
            "temperature_celsius",
            "",
            "Cel",
            "gauge",
            Data::Gauge(pb::Gauge {
                data_points: vec![
                    point(
                        &[("room", "kitchen"), ("floor", "1")],
                        0,
                        Value::AsDouble(21.5),
                    ),
                    point(&[("room", "cellar")], 0, Value::AsDouble(12.0)),
                ],
            }),
        ),
        metric(
            "latency_seconds",
            "Latency.",
            "s",
            "histogram",
            Data::Histogram(pb::Histogram {
                data_points: vec![pb::HistogramDataPoint {
                    attributes: Vec::new(),
                    start_time_unix_nano: CREATED,
                    time_unix_nano: NOW,
                    count: 4,
                    sum: Some(5.25),
                    // Per bucket: (-inf, 1], (1, 2.5], (2.5, +inf).
                    bucket_counts: vec![2, 1, 1],
                    explicit_bounds: vec![1.0, 2.5],
                    exemplars: Vec::new(),
                }],
                aggregation_temporality: pb::CUMULATIVE,
            }),
        ),
        metric(
            "sizes_bytes_per_second",
            "Sizes.",
            "By/s",
            "summary",
            Data::Summary(pb::Summary {
                data_points: vec![pb::SummaryDataPoint {
                    attributes: Vec::new(),
                    start_time_unix_nano: CREATED,
                    time_unix_nano: NOW,
                    count: 2,
                    sum: 3.0,
                    quantile_values: Vec::new(),
                }],
            }),
        ),
        metric(
            "build_info",
            "Build.",
            "",
            "info",
            sum(
                vec![point(&[("version", "1.2.3")], START, Value::AsInt(1))],
                false,
            ),
        ),
        metric(
            "phase",
            "Phase.",
            "",
            "stateset",
            sum(
                vec![
                    point(&[("phase", "starting")], START, Value::AsInt(0)),
                    point(&[("phase", "running")], START, Value::AsInt(1)),
                ],
                false,
            ),
        ),
        metric(
            "depth",
            "Depth.",
            "",
            "gauge",
            Data::Gauge(pb::Gauge {
                data_points: vec![point(&[], 0, Value::AsInt(-4))],
            }),
        ),
        metric(
            "idle",
            "Never exported twice.",
            "",
            "counter",
            sum(vec![point(&[], CREATED, Value::AsInt(0))], true),
        ),
    ];
    assert_eq!(metrics(&sent), expected);
}

#[test]
fn the_resource_has_defaults_and_the_scope_is_torchlights() {
    let registry = Registry::new();
    let sent = export(&registry, &Otlp::new(NOW, START));
    let resource = &sent.resource_metrics[0];
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        pairs(&resource.resource.as_ref().unwrap().attributes),
        [
            ("service.name", "unknown_service"),
            ("telemetry.sdk.name", "torchlight"),
            ("telemetry.sdk.language", "rust"),
            ("telemetry.sdk.version", version),
        ]
    );
    let scope = resource.scope_metrics[0].scope.as_ref().unwrap();
    assert_eq!((scope.name.as_str(), scope.version.as_str()), Otlp::SCOPE);
    assert_eq!(scope.version, version);
    assert!(metrics(&sent).is_empty());

    let given = [
        ("service.name", "checkout"),
        ("deployment.environment.name", "prod"),
        ("telemetry.sdk.name", "mine"),
        ("service.name", "ignored: the first wins"),
    ];
    let sent = export(&registry, &Otlp::new(NOW, START).with_resource(&given));
    assert_eq!(
        pairs(
            &sent.resource_metrics[0]
                .resource
                .as_ref()
                .unwrap()
                .attributes
        ),
        [
            ("service.name", "checkout"),
            ("deployment.environment.name", "prod"),
            ("telemetry.sdk.name", "mine"),
            ("telemetry.sdk.language", "rust"),
            ("telemetry.sdk.version", version),
        ]
    );
}

#[test]
fn exemplars_carry_trace_and_span_ids_as_bytes() {
    static TRACED: Metric<ExemplarCounter> =
        Metric::new("traced", "Traced jobs.", ExemplarCounter::new());
    static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);
    static LATENCY: Metric<ExemplarHistogram<2>> = Metric::new(
        "traced_seconds",
        "Traced latency.",
        ExemplarHistogram::with_buckets(&BOUNDS),
    );
    let registry = Registry::new();
    registry.register(&TRACED).unwrap();
    registry.register(&LATENCY).unwrap();

    let trace = "0af7651916cd43dd8448eb211c80319c";
    let span = "b7ad6b7169203331";
    let job = Exemplar::new(
        &[("trace_id", trace), ("span_id", span), ("user", "u1")],
        2.0,
    )
    .unwrap()
    .with_timestamp(1_700_000_000.5);
    TRACED.inc_by_exemplar(2, &job);
    // Not hex of a trace id's length: an attribute like any other label.
    let fast = Exemplar::new(&[("trace_id", "f1")], 0.5).unwrap();
    let slow = Exemplar::new(&[("span_id", span)], 7.0)
        .unwrap()
        .with_timestamp(1_700_000_001.25);
    LATENCY.observe_exemplar(&fast);
    LATENCY.observe(1.5);
    LATENCY.observe_exemplar(&slow);

    let sent = export(&registry, &Otlp::new(NOW, START));
    let exemplar =
        |attributes: &[(&str, &str)], time: u64, value: f64, trace: &[u8], span: &[u8]| {
            pb::Exemplar {
                filtered_attributes: key_values(attributes),
                time_unix_nano: time,
                value: Some(pb::ExemplarValue::AsDouble(value)),
                span_id: span.to_vec(),
                trace_id: trace.to_vec(),
            }
        };
    let trace_bytes = [
        0x0a, 0xf7, 0x65, 0x19, 0x16, 0xcd, 0x43, 0xdd, 0x84, 0x48, 0xeb, 0x21, 0x1c, 0x80, 0x31,
        0x9c,
    ];
    let span_bytes = [0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31];
    let Some(Data::Sum(counter)) = &metrics(&sent)[0].data else {
        panic!("a sum");
    };
    assert_eq!(
        counter.data_points[0].exemplars,
        [exemplar(
            &[("user", "u1")],
            1_700_000_000_500_000_000,
            2.0,
            &trace_bytes,
            &span_bytes
        )]
    );
    let Some(Data::Histogram(histogram)) = &metrics(&sent)[1].data else {
        panic!("a histogram");
    };
    assert_eq!(
        histogram.data_points[0].exemplars,
        [
            // Without a timestamp: the export's time.
            exemplar(&[("trace_id", "f1")], NOW, 0.5, &[], &[]),
            exemplar(&[], 1_700_000_001_250_000_000, 7.0, &[], &span_bytes),
        ]
    );
    assert_eq!(histogram.data_points[0].bucket_counts, [1, 1, 1]);
}

/// The OTLP exponential bucket index of `value` at `scale`: `(base^i, base^(i+1)]`
/// holds it, `base = 2^(2^-scale)` (exact for the powers of two used here).
fn otlp_index(value: f64, scale: i32) -> i32 {
    #[allow(clippy::cast_possible_truncation)]
    let index = (value.abs().log2() * 2f64.powi(scale)).ceil() as i32 - 1;
    index
}

#[test]
fn native_histograms_go_as_exponential_histograms_one_index_lower() {
    static CLASSIC: Buckets<1> = Buckets::new([1.0]);
    static LATENCY: Metric<NativeHistogram<8, 1>> = Metric::new(
        "native_seconds",
        "Native.",
        NativeHistogram::with_buckets(1.1, &CLASSIC),
    );
    static CLOCK: ManualClock = ManualClock::new();
    let registry = created_at(CREATED, &CLOCK);
    registry.register(&LATENCY).unwrap();
    let observed = [0.0, 1.0, 1.0, 4.0, -2.0];
    for value in observed {
        LATENCY.observe(value);
    }

    let sent = export(&registry, &Otlp::new(NOW, START));
    let sent = &metrics(&sent)[0];
    assert_eq!(sent.name, "native_seconds");
    let Some(Data::ExponentialHistogram(histogram)) = &sent.data else {
        panic!("an exponential histogram: {sent:?}");
    };
    assert_eq!(histogram.aggregation_temporality, pb::CUMULATIVE);
    let point = &histogram.data_points[0];
    let scale = i32::from(LATENCY.schema());
    assert_eq!(point.scale, scale);
    assert_eq!(point.count, 5);
    assert_eq!(point.sum, Some(4.0));
    assert_eq!(point.zero_count, 1);
    assert_eq!(point.start_time_unix_nano, CREATED);
    assert_eq!(point.time_unix_nano, NOW);
    // Dense counts from the first populated bucket: 1.0 twice, then zeros, then 4.0.
    let one = otlp_index(1.0, scale);
    let four = otlp_index(4.0, scale);
    let mut counts = vec![0; usize::try_from(four - one + 1).unwrap()];
    counts[0] = 2;
    *counts.last_mut().unwrap() = 1;
    assert_eq!(
        point.positive,
        Some(pb::Buckets {
            offset: one,
            bucket_counts: counts
        })
    );
    assert_eq!(
        point.negative,
        Some(pb::Buckets {
            offset: otlp_index(-2.0, scale),
            bucket_counts: vec![1]
        })
    );
    // At any scale 1.0 is the upper bound of OTLP bucket -1 (Prometheus' bucket 0).
    assert_eq!(one, -1);
}

#[test]
fn a_fixed_buffer_holds_an_export_or_reports_it_full() {
    static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    let registry = Registry::new();
    registry.register(&JOBS).unwrap();
    let request = Otlp::new(NOW, START).with_resource(&[("service.name", "firmware")]);

    let mut buf = [0u8; 512];
    let mut sink = SliceSink::new(&mut buf);
    registry.encode_otlp(&mut sink, &request).unwrap();
    let mut vec = Vec::new();
    registry.encode_otlp(&mut vec, &request).unwrap();
    assert_eq!(sink.filled(), vec);

    let mut small = [0u8; 64];
    assert_eq!(
        registry.encode_otlp(&mut SliceSink::new(&mut small), &request),
        Err(EncodeError::Full)
    );
}

#[test]
fn a_sink_that_cannot_rewrite_is_refused() {
    struct Forward(Vec<u8>);

    impl ByteSink for Forward {
        fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
            self.0.extend_from_slice(bytes);
            Ok(())
        }
    }

    let registry = Registry::new();
    assert_eq!(
        registry.encode_otlp(&mut Forward(Vec::new()), &Otlp::new(NOW, START)),
        Err(EncodeError::Unsupported)
    );
}

#[test]
fn long_messages_get_their_lengths_right() {
    static WIDE: Metric<torchlight::Family<Counter, 1>> = Metric::new(
        "wide",
        "Many series, so every enclosing length takes several bytes.",
        torchlight::Family::new(["shard"], Counter::new).with_limit(4000),
    );
    let registry = Registry::new();
    registry.register(&WIDE).unwrap();
    let names: Vec<String> = (0..3000).map(|i| format!("shard-{i:05}")).collect();
    for (i, name) in names.iter().enumerate() {
        WIDE.get_or_create([name.as_str()]).inc_by(i as u64);
    }
    let sent = export(&registry, &Otlp::new(NOW, START));
    let Some(Data::Sum(sum)) = &metrics(&sent)[0].data else {
        panic!("a sum");
    };
    assert_eq!(sum.data_points.len(), 3000);
    for (i, point) in sum.data_points.iter().enumerate() {
        assert_eq!(pairs(&point.attributes), [("shard", names[i].as_str())]);
        assert_eq!(point.value, Some(Value::AsInt(i64::try_from(i).unwrap())));
    }
}

#[test]
fn a_point_never_starts_after_its_own_time() {
    static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs.", Counter::new());
    static CLOCK: ManualClock = ManualClock::new();
    // Created "after" the export's time: a wall clock stepped back between the two.
    let registry = created_at(NOW + 1_000_000_000, &CLOCK);
    registry.register(&JOBS).unwrap();
    let sent = export(&registry, &Otlp::new(NOW, START));
    let expected = sum(vec![point(&[], NOW, Value::AsInt(0))], true);
    assert_eq!(metrics(&sent)[0].data, Some(expected));
}
