//! Remote write 1.0: every metric type decoded with independent implementations (`snap`
//! for snappy's block format, `prost` with the hand-written mirrors of `prompb.rs`) and
//! compared with what was recorded; labels sorted with `__name__`; external labels;
//! metadata; exemplars; native histograms; a fixed buffer; the compressor against
//! `snap` on arbitrary input.
#![cfg(all(feature = "std", not(loom)))]

use proptest::prelude::*;
use torchlight::{
    Buckets, Collect, Counter, EncodeError, Encoder, Exemplar, ExemplarCounter, Gauge, Histogram,
    Info, Metric, MetricType, NativeHistogram, Registry, RemoteWrite, SliceSink, StateSet, Summary,
    snappy_compress,
};

use crate::prompb::{self as pb, decode_body};

const NOW: i64 = 1_700_000_000_123;

fn push(registry: &Registry, request: &RemoteWrite<'_>) -> pb::WriteRequest {
    let mut proto = Vec::new();
    registry
        .encode_write_request(&mut proto, request)
        .expect("a Vec never fills up");
    let mut body = Vec::new();
    snappy_compress(&proto, &mut body).expect("a Vec never fills up");
    decode_body(&body)
}

/// `(labels, value)` of every float series, labels as sent.
fn series(request: &pb::WriteRequest) -> Vec<(Vec<(String, String)>, f64)> {
    request
        .timeseries
        .iter()
        .map(|s| {
            assert_eq!(s.samples.len(), 1, "one sample per series");
            assert_eq!(s.samples[0].timestamp, NOW);
            let labels = s
                .labels
                .iter()
                .map(|l| (l.name.clone(), l.value.clone()))
                .collect();
            (labels, s.samples[0].value)
        })
        .collect()
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

torchlight::label_value! { enum Phase { Starting = "starting", Running = "running" } }

/// Labels reported out of order, one of them sorting before `__name__`.
struct Rooms;

impl Collect for Rooms {
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    fn label_names(&self) -> &[&'static str] {
        &["room", "Floor", "a"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        encoder.gauge(&[("room", "kitchen"), ("Floor", "1"), ("a", "x")], 21.5)?;
        // An empty value is no label.
        encoder.gauge(&[("room", "cellar"), ("Floor", ""), ("a", "y")], 12.0)
    }
}

#[test]
fn every_metric_type_maps_as_a_scrape_stores_it() {
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
    static SIZES: Metric<Summary> = Metric::new("sizes", "Sizes.", Summary::new());
    static BUILD: Metric<Info<1>> =
        Metric::new("build", "Build.", Info::new([("version", "1.2.3")]));
    static PHASE: Metric<StateSet<Phase>> = Metric::new("phase", "Phase.", StateSet::new());
    static DEPTH: Metric<Gauge> = Metric::new("depth", "Depth.", Gauge::new());

    let registry = Registry::new();
    for metric in [
        &JOBS as &dyn Register,
        &ROOMS,
        &LATENCY,
        &SIZES,
        &BUILD,
        &PHASE,
        &DEPTH,
    ] {
        metric.register(&registry);
    }
    JOBS.inc_by(3);
    for value in [0.5, 1.5, 3.0] {
        LATENCY.observe(value);
    }
    SIZES.observe(1.0);
    SIZES.observe(2.0);
    PHASE.set(Phase::Running);
    DEPTH.set(-4);

    let request = push(&registry, &RemoteWrite::new(NOW));
    let expected: Vec<(Vec<(String, String)>, f64)> = [
        (&[("__name__", "jobs_total")][..], 3.0),
        (
            &[
                ("Floor", "1"),
                ("__name__", "temperature_celsius"),
                ("a", "x"),
                ("room", "kitchen"),
            ],
            21.5,
        ),
        (
            &[
                ("__name__", "temperature_celsius"),
                ("a", "y"),
                ("room", "cellar"),
            ],
            12.0,
        ),
        (
            &[("__name__", "latency_seconds_bucket"), ("le", "1.0")],
            1.0,
        ),
        (
            &[("__name__", "latency_seconds_bucket"), ("le", "2.5")],
            2.0,
        ),
        (
            &[("__name__", "latency_seconds_bucket"), ("le", "+Inf")],
            3.0,
        ),
        (&[("__name__", "latency_seconds_sum")], 5.0),
        (&[("__name__", "latency_seconds_count")], 3.0),
        (&[("__name__", "sizes_sum")], 3.0),
        (&[("__name__", "sizes_count")], 2.0),
        (&[("__name__", "build_info"), ("version", "1.2.3")], 1.0),
        (&[("__name__", "phase"), ("phase", "starting")], 0.0),
        (&[("__name__", "phase"), ("phase", "running")], 1.0),
        (&[("__name__", "depth")], -4.0),
    ]
    .iter()
    .map(|(labels, value)| (owned(labels), *value))
    .collect();
    assert_eq!(series(&request), expected);

    let metadata: Vec<(i32, &str, &str, &str)> = request
        .metadata
        .iter()
        .map(|m| {
            (
                m.r#type,
                m.metric_family_name.as_str(),
                m.help.as_str(),
                m.unit.as_str(),
            )
        })
        .collect();
    assert_eq!(
        metadata,
        [
            (1, "jobs", "Jobs run.", ""),
            (2, "temperature_celsius", "", "celsius"),
            (3, "latency_seconds", "Latency.", "seconds"),
            (5, "sizes", "Sizes.", ""),
            (6, "build", "Build.", ""),
            (7, "phase", "Phase.", ""),
            (2, "depth", "Depth.", ""),
        ]
    );

    let bare = push(&registry, &RemoteWrite::new(NOW).with_metadata(false));
    assert!(bare.metadata.is_empty());
    assert_eq!(series(&bare), expected);
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
fn every_series_has_sorted_unique_labels_and_external_labels_yield() {
    static ROOMS: Metric<Rooms> = Metric::new("temperature_celsius", "", Rooms);
    let registry = Registry::new();
    registry.register(&ROOMS).unwrap();
    let external = [
        ("room", "ignored"),
        ("region", "eu"),
        ("Zone", "z"),
        ("zz", "last"),
    ];
    let request = RemoteWrite::new(NOW)
        .with_external_labels(&external)
        .unwrap();
    let sent = push(&registry, &request);
    assert_eq!(
        sent.timeseries[0].pairs(),
        [
            ("Floor", "1"),
            ("Zone", "z"),
            ("__name__", "temperature_celsius"),
            ("a", "x"),
            ("region", "eu"),
            ("room", "kitchen"),
            ("zz", "last"),
        ]
    );
    for series in &sent.timeseries {
        let names: Vec<&str> = series.labels.iter().map(|l| l.name.as_str()).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(names, sorted);
        assert!(series.labels.iter().all(|l| !l.value.is_empty()));
    }
}

#[test]
fn invalid_external_labels_are_refused() {
    for labels in [
        &[("__reserved", "x")][..],
        &[("a-b", "x")],
        &[("a", "")],
        &[("a", "1"), ("a", "2")],
    ] {
        let error = RemoteWrite::new(NOW)
            .with_external_labels(labels)
            .unwrap_err();
        assert_eq!(error.name, labels.last().unwrap().0);
        assert!(error.to_string().contains("external label"));
    }
}

#[test]
fn exemplars_ride_in_their_field() {
    static TRACED: Metric<ExemplarCounter> =
        Metric::new("traced", "Traced jobs.", ExemplarCounter::new());
    let registry = Registry::new();
    registry.register(&TRACED).unwrap();
    let job = Exemplar::new(&[("trace_id", "abc")], 2.0)
        .unwrap()
        .with_timestamp(1_700_000_000.5);
    TRACED.inc_by_exemplar(2, &job);
    let sent = push(&registry, &RemoteWrite::new(NOW));
    assert_eq!(
        sent.timeseries[0].exemplars,
        [pb::Exemplar {
            labels: vec![pb::Label {
                name: "trace_id".into(),
                value: "abc".into()
            }],
            value: 2.0,
            timestamp: 1_700_000_000_500,
        }]
    );
}

#[test]
fn native_histograms_go_as_histograms_when_asked() {
    static CLASSIC: Buckets<1> = Buckets::new([1.0]);
    static LATENCY: Metric<NativeHistogram<8, 1>> = Metric::new(
        "native_seconds",
        "Native.",
        NativeHistogram::with_buckets(1.1, &CLASSIC),
    );
    let registry = Registry::new();
    registry.register(&LATENCY).unwrap();
    for value in [0.0, 1.0, 1.0, 3.0, -2.0] {
        LATENCY.observe(value);
    }

    // By default: the classic buckets, which every receiver stores.
    let classic = push(&registry, &RemoteWrite::new(NOW));
    assert_eq!(classic.timeseries.len(), 4);
    assert!(classic.timeseries.iter().all(|s| s.histograms.is_empty()));

    let native = push(
        &registry,
        &RemoteWrite::new(NOW).with_native_histograms(true),
    );
    assert_eq!(native.timeseries.len(), 1);
    let series = &native.timeseries[0];
    assert_eq!(series.pairs(), [("__name__", "native_seconds")]);
    assert!(series.samples.is_empty());
    let histogram = &series.histograms[0];
    assert_eq!(histogram.count_int, 5);
    assert_eq!(histogram.sum, 3.0);
    assert_eq!(histogram.schema, LATENCY.schema().into());
    assert_eq!(histogram.zero_count_int, 1);
    assert_eq!(histogram.timestamp, NOW);
    // Spans and deltas expand to the counts observed: 1.0 twice, 3.0 once, -2.0 once.
    let expand = |spans: &[pb::BucketSpan], deltas: &[i64]| {
        let (mut index, mut count, mut out, mut deltas) = (0, 0, Vec::new(), deltas.iter());
        for span in spans {
            index += span.offset;
            for _ in 0..span.length {
                count += deltas.next().unwrap();
                out.push((index, count));
                index += 1;
            }
        }
        out
    };
    let positive = expand(&histogram.positive_spans, &histogram.positive_deltas);
    assert_eq!(positive.iter().map(|(_, c)| c).sum::<i64>(), 3);
    assert_eq!(positive.len(), 2);
    let negative = expand(&histogram.negative_spans, &histogram.negative_deltas);
    assert_eq!(negative.len(), 1);
    assert_eq!(negative[0].1, 1);
}

/// Many long labels: lengths past one varint byte and labels sorted across the encoder's
/// chunk, into a `Vec` and a fixed buffer alike.
#[test]
fn long_series_sort_across_chunks_in_any_sink() {
    struct Long;
    impl Collect for Long {
        fn metric_type(&self) -> MetricType {
            MetricType::Gauge
        }
        fn label_names(&self) -> &[&'static str] {
            &["z", "m", "b"]
        }
        fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
            let long = "v".repeat(150);
            for i in 0..20 {
                let i = i.to_string();
                encoder.gauge(
                    &[
                        ("z", long.as_str()),
                        ("m", i.as_str()),
                        ("b", long.as_str()),
                    ],
                    1.0,
                )?;
            }
            Ok(())
        }
    }
    static LONG: Metric<Long> = Metric::new("long", "", Long);
    let registry = Registry::new();
    registry.register(&LONG).unwrap();
    let sent = push(&registry, &RemoteWrite::new(NOW));
    assert_eq!(sent.timeseries.len(), 20);
    for (i, series) in sent.timeseries.iter().enumerate() {
        let names: Vec<&str> = series.labels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["__name__", "b", "m", "z"]);
        assert_eq!(series.labels[2].value, i.to_string());
    }

    let mut vec = Vec::new();
    registry
        .encode_write_request(&mut vec, &RemoteWrite::new(NOW))
        .unwrap();
    let mut buf = vec![0u8; vec.len()];
    let mut fixed = SliceSink::new(&mut buf);
    registry
        .encode_write_request(&mut fixed, &RemoteWrite::new(NOW))
        .unwrap();
    assert_eq!(fixed.filled(), vec.as_slice());

    let mut small = vec![0u8; vec.len() - 1];
    assert_eq!(
        registry.encode_write_request(&mut SliceSink::new(&mut small), &RemoteWrite::new(NOW)),
        Err(EncodeError::Full)
    );
}

/// Without an allocator: scratch and body are fixed buffers.
#[test]
fn encode_remote_write_needs_no_allocator() {
    static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    let registry = Registry::new();
    registry.register(&JOBS).unwrap();
    JOBS.inc();
    let (mut scratch, mut body) = ([0u8; 128], [0u8; 128]);
    let mut sink = SliceSink::new(&mut body);
    registry
        .encode_remote_write(&mut scratch, &mut sink, &RemoteWrite::new(NOW))
        .unwrap();
    let sent = decode_body(sink.filled());
    assert_eq!(sent.timeseries[0].pairs(), [("__name__", "jobs_total")]);
    assert_eq!(sent.timeseries[0].samples[0].value, 1.0);

    let mut tiny = [0u8; 16];
    assert_eq!(
        registry.encode_remote_write(
            &mut tiny,
            &mut SliceSink::new(&mut [0u8; 128]),
            &RemoteWrite::new(NOW)
        ),
        Err(EncodeError::Full)
    );
}

proptest! {
    // Each case compresses up to 200 KB in a debug build: few cases, long inputs.
    #![proptest_config(ProptestConfig::with_cases(16))]

    /// The compressor's output decodes with `snap` to the input, whatever it is, and
    /// stays within the format's worst case.
    #[test]
    fn snappy_round_trips_through_snap(
        input in prop::collection::vec(prop_oneof![Just(b'a'), Just(b'b'), any::<u8>()], 0..70_000),
        repeat in 1usize..4,
    ) {
        let input = input.repeat(repeat);
        let mut body = Vec::new();
        snappy_compress(&input, &mut body).unwrap();
        prop_assert!(body.len() <= 32 + input.len() + input.len() / 6);
        let decoded = snap::raw::Decoder::new().decompress_vec(&body).unwrap();
        prop_assert_eq!(decoded, input);
    }
}
