//! The protobuf exposition: golden bytes for every metric type, derived by hand from
//! client_model's `metrics.proto` and the protobuf encoding guide
//! (<https://protobuf.dev/programming-guides/encoding/>), and a decode of the bytes with
//! an independent implementation (`prost`, with the hand-written mirrors of
//! `client_model.rs`) comparing every field with what was recorded.
#![cfg(all(feature = "std", not(loom)))]

use crate::client_model::{self as pb, decode_all};
use torchlight::{
    Buckets, Collect, Counter, EncodeError, Encoder, FloatGauge, Format, Histogram, Info, Metric,
    MetricType, Registry, SliceSink, StateSet, Summary,
};

/// Two rooms' temperatures: a labelled gauge family.
struct Rooms;

impl Collect for Rooms {
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    fn label_names(&self) -> &[&'static str] {
        &["room"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        encoder.gauge(&[("room", "kitchen")], 21.5)?;
        encoder.gauge(&[("room", "cellar")], 12.0)
    }
}

/// An untyped family.
struct Things;

impl Collect for Things {
    fn metric_type(&self) -> MetricType {
        MetricType::Unknown
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        encoder.unknown(&(), 7.0)
    }
}

torchlight::label_value! { enum Phase { Starting = "starting", Running = "running", Stopped = "stopped" } }

static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
static ROOMS: Metric<Rooms> = Metric::new("temperature_celsius", "", Rooms).with_unit("celsius");
static THINGS: Metric<Things> = Metric::new("things", "Untyped.", Things);
static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);
static LATENCY: Metric<Histogram<2>> = Metric::new(
    "latency_seconds",
    "Latency.",
    Histogram::with_buckets(&BOUNDS),
)
.with_unit("seconds");
static SIZES: Metric<Summary> = Metric::new("sizes", "Sizes.", Summary::new());
static BUILD: Metric<Info<1>> = Metric::new("build", "Build.", Info::new([("version", "1.2.3")]));
static PHASE: Metric<StateSet<Phase>> = Metric::new("phase", "Phase.", StateSet::new());

/// The registry of every golden case, registered and recorded once.
fn registry() -> &'static Registry {
    // Without a clock: no `created_timestamp` (`created.rs` has the bytes with one).
    static SHARED: Registry = Registry::new().with_created_clock(None);
    static RECORD: std::sync::Once = std::sync::Once::new();
    RECORD.call_once(|| {
        SHARED.register(&JOBS).expect("registers once");
        SHARED.register(&ROOMS).expect("registers once");
        SHARED.register(&THINGS).expect("registers once");
        SHARED.register(&LATENCY).expect("registers once");
        SHARED.register(&SIZES).expect("registers once");
        SHARED.register(&BUILD).expect("registers once");
        SHARED.register(&PHASE).expect("registers once");
        JOBS.inc_by(3);
        for value in [0.5, 1.5, 3.0] {
            LATENCY.observe(value);
        }
        SIZES.observe(1.0);
        SIZES.observe(2.0);
        PHASE.set(Phase::Running);
    });
    &SHARED
}

fn protobuf(registry: &Registry) -> Vec<u8> {
    let mut body = Vec::new();
    registry
        .encode_to(&mut body, Format::Protobuf)
        .expect("a Vec never fills up");
    body
}

/// One delimited `MetricFamily` per family, in registration order: the length, then
/// the fields in field-number order (name 1, help 2, type 3, metric 4…, unit 5).
const GOLDEN: &[(&str, &[u8])] = &[
    ("counter", b"\x26\x0a\x0a\x6a\x6f\x62\x73\x5f\x74\x6f\x74\x61\x6c\x12\x09\x4a\x6f\x62\x73\x20\x72\x75\x6e\x2e\x18\x00\x22\x0b\x1a\x09\x09\x00\x00\x00\x00\x00\x00\x08\x40"),
    ("gauge", b"\x5d\x0a\x13\x74\x65\x6d\x70\x65\x72\x61\x74\x75\x72\x65\x5f\x63\x65\x6c\x73\x69\x75\x73\x12\x00\x18\x01\x22\x1c\x0a\x0f\x0a\x04\x72\x6f\x6f\x6d\x12\x07\x6b\x69\x74\x63\x68\x65\x6e\x12\x09\x09\x00\x00\x00\x00\x00\x80\x35\x40\x22\x1b\x0a\x0e\x0a\x04\x72\x6f\x6f\x6d\x12\x06\x63\x65\x6c\x6c\x61\x72\x12\x09\x09\x00\x00\x00\x00\x00\x00\x28\x40\x2a\x07\x63\x65\x6c\x73\x69\x75\x73"),
    ("unknown", b"\x21\x0a\x06\x74\x68\x69\x6e\x67\x73\x12\x08\x55\x6e\x74\x79\x70\x65\x64\x2e\x18\x03\x22\x0b\x2a\x09\x09\x00\x00\x00\x00\x00\x00\x1c\x40"),
    ("histogram", b"\x4f\x0a\x0f\x6c\x61\x74\x65\x6e\x63\x79\x5f\x73\x65\x63\x6f\x6e\x64\x73\x12\x08\x4c\x61\x74\x65\x6e\x63\x79\x2e\x18\x04\x22\x27\x3a\x25\x08\x03\x11\x00\x00\x00\x00\x00\x00\x14\x40\x1a\x0b\x08\x01\x11\x00\x00\x00\x00\x00\x00\xf0\x3f\x1a\x0b\x08\x02\x11\x00\x00\x00\x00\x00\x00\x00\x40\x2a\x07\x73\x65\x63\x6f\x6e\x64\x73"),
    ("summary", b"\x20\x0a\x05\x73\x69\x7a\x65\x73\x12\x06\x53\x69\x7a\x65\x73\x2e\x18\x02\x22\x0d\x22\x0b\x08\x02\x11\x00\x00\x00\x00\x00\x00\x08\x40"),
    ("info", b"\x35\x0a\x0a\x62\x75\x69\x6c\x64\x5f\x69\x6e\x66\x6f\x12\x06\x42\x75\x69\x6c\x64\x2e\x18\x01\x22\x1d\x0a\x10\x0a\x07\x76\x65\x72\x73\x69\x6f\x6e\x12\x05\x31\x2e\x32\x2e\x33\x12\x09\x09\x00\x00\x00\x00\x00\x00\xf0\x3f"),
    ("state_set", b"\x6f\x0a\x05\x70\x68\x61\x73\x65\x12\x06\x50\x68\x61\x73\x65\x2e\x18\x01\x22\x1e\x0a\x11\x0a\x05\x70\x68\x61\x73\x65\x12\x08\x73\x74\x61\x72\x74\x69\x6e\x67\x12\x09\x09\x00\x00\x00\x00\x00\x00\x00\x00\x22\x1d\x0a\x10\x0a\x05\x70\x68\x61\x73\x65\x12\x07\x72\x75\x6e\x6e\x69\x6e\x67\x12\x09\x09\x00\x00\x00\x00\x00\x00\xf0\x3f\x22\x1d\x0a\x10\x0a\x05\x70\x68\x61\x73\x65\x12\x07\x73\x74\x6f\x70\x70\x65\x64\x12\x09\x09\x00\x00\x00\x00\x00\x00\x00\x00"),
];

#[test]
fn golden_bytes_for_every_metric_type() {
    let body = protobuf(registry());
    let mut expected = Vec::new();
    for (_, bytes) in GOLDEN {
        expected.extend_from_slice(bytes);
    }
    let mut rest = &body[..];
    for (name, bytes) in GOLDEN {
        assert!(
            rest.starts_with(bytes),
            "{name}: expected {bytes:x?}, got {:x?}",
            &rest[..bytes.len().min(rest.len())]
        );
        rest = &rest[bytes.len()..];
    }
    assert_eq!(body, expected);
}

fn label(name: &str, value: &str) -> pb::LabelPair {
    pb::LabelPair {
        name: Some(name.into()),
        value: Some(value.into()),
    }
}

fn gauge(value: f64) -> Option<pb::Gauge> {
    Some(pb::Gauge { value: Some(value) })
}

#[test]
fn prost_decodes_every_field_as_recorded() {
    let families = decode_all(&protobuf(registry()));
    let expected = vec![
        pb::MetricFamily {
            name: Some("jobs_total".into()),
            help: Some("Jobs run.".into()),
            r#type: Some(pb::MetricType::Counter as i32),
            metric: vec![pb::Metric {
                counter: Some(pb::Counter {
                    created_timestamp: None,
                    value: Some(3.0),
                    exemplar: None,
                }),
                ..Default::default()
            }],
            unit: None,
        },
        pb::MetricFamily {
            name: Some("temperature_celsius".into()),
            help: Some(String::new()),
            r#type: Some(pb::MetricType::Gauge as i32),
            metric: vec![
                pb::Metric {
                    label: vec![label("room", "kitchen")],
                    gauge: gauge(21.5),
                    ..Default::default()
                },
                pb::Metric {
                    label: vec![label("room", "cellar")],
                    gauge: gauge(12.0),
                    ..Default::default()
                },
            ],
            unit: Some("celsius".into()),
        },
        pb::MetricFamily {
            name: Some("things".into()),
            help: Some("Untyped.".into()),
            r#type: Some(pb::MetricType::Untyped as i32),
            metric: vec![pb::Metric {
                untyped: Some(pb::Untyped { value: Some(7.0) }),
                ..Default::default()
            }],
            unit: None,
        },
        pb::MetricFamily {
            name: Some("latency_seconds".into()),
            help: Some("Latency.".into()),
            r#type: Some(pb::MetricType::Histogram as i32),
            metric: vec![pb::Metric {
                histogram: Some(pb::Histogram {
                    created_timestamp: None,
                    sample_count: Some(3),
                    sample_sum: Some(5.0),
                    bucket: vec![
                        pb::Bucket {
                            cumulative_count: Some(1),
                            upper_bound: Some(1.0),
                            exemplar: None,
                        },
                        pb::Bucket {
                            cumulative_count: Some(2),
                            upper_bound: Some(2.0),
                            exemplar: None,
                        },
                    ],
                    ..Default::default()
                }),
                ..Default::default()
            }],
            unit: Some("seconds".into()),
        },
        pb::MetricFamily {
            name: Some("sizes".into()),
            help: Some("Sizes.".into()),
            r#type: Some(pb::MetricType::Summary as i32),
            metric: vec![pb::Metric {
                summary: Some(pb::Summary {
                    created_timestamp: None,
                    sample_count: Some(2),
                    sample_sum: Some(3.0),
                    quantile: vec![],
                }),
                ..Default::default()
            }],
            unit: None,
        },
        pb::MetricFamily {
            name: Some("build_info".into()),
            help: Some("Build.".into()),
            r#type: Some(pb::MetricType::Gauge as i32),
            metric: vec![pb::Metric {
                label: vec![label("version", "1.2.3")],
                gauge: gauge(1.0),
                ..Default::default()
            }],
            unit: None,
        },
        pb::MetricFamily {
            name: Some("phase".into()),
            help: Some("Phase.".into()),
            r#type: Some(pb::MetricType::Gauge as i32),
            metric: [("starting", 0.0), ("running", 1.0), ("stopped", 0.0)]
                .into_iter()
                .map(|(state, value)| pb::Metric {
                    label: vec![label("phase", state)],
                    gauge: gauge(value),
                    ..Default::default()
                })
                .collect(),
            unit: None,
        },
    ];
    assert_eq!(families, expected);
}

/// A family of a few hundred series: its length takes two varint bytes, the message
/// moves right once it is known, and the patch lands in the sink (the family is
/// longer than the encoder's chunk); so do label values longer than 127 bytes.
struct Many;

impl Collect for Many {
    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }

    fn label_names(&self) -> &[&'static str] {
        &["shard", "path"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        let long = "p".repeat(300);
        for shard in 0..300u64 {
            let path = if shard % 100 == 7 { long.as_str() } else { "/" };
            encoder.counter_u64(
                &[("shard", shard.to_string().as_str()), ("path", path)],
                shard,
            )?;
        }
        Ok(())
    }
}

static MANY: Metric<Many> = Metric::new("requests", "Many series.", Many);
static LAST: Metric<FloatGauge> = Metric::new("last", "After a long family.", FloatGauge::new());

#[test]
fn long_messages_get_multi_byte_lengths_in_any_sink() {
    let registry = Registry::new();
    registry.register(&MANY).unwrap();
    registry.register(&LAST).unwrap();
    LAST.set(-0.25);
    let body = protobuf(&registry);
    let families = decode_all(&body);
    assert_eq!(families.len(), 2);
    let many = &families[0];
    assert_eq!(many.name.as_deref(), Some("requests_total"));
    assert_eq!(many.metric.len(), 300);
    for (shard, metric) in many.metric.iter().enumerate() {
        let path = if shard % 100 == 7 {
            "p".repeat(300)
        } else {
            "/".into()
        };
        assert_eq!(
            metric.label,
            vec![label("shard", &shard.to_string()), label("path", &path)]
        );
        #[allow(clippy::cast_precision_loss)]
        let value = shard as f64;
        assert_eq!(
            metric.counter,
            Some(pb::Counter {
                created_timestamp: None,
                value: Some(value),
                exemplar: None,
            })
        );
    }
    assert_eq!(families[1].metric[0].gauge, gauge(-0.25));

    // The same bytes into a caller's fixed buffer, and an error (never a panic) when
    // it is too small.
    let mut buf = vec![0u8; body.len()];
    let mut sink = SliceSink::new(&mut buf);
    registry.encode_to(&mut sink, Format::Protobuf).unwrap();
    assert_eq!(sink.filled(), &body[..]);
    let mut small = vec![0u8; body.len() - 1];
    assert_eq!(
        registry.encode_to(&mut SliceSink::new(&mut small), Format::Protobuf),
        Err(EncodeError::Full)
    );
}

#[test]
fn a_sink_that_cannot_rewrite_is_refused() {
    let registry = registry();
    let mut text = String::new();
    assert!(registry.encode(&mut text, Format::Protobuf).is_err());
    assert!(text.is_empty(), "{text:?}");
    assert!(
        EncodeError::Unsupported.to_string().contains("Vec<u8>"),
        "{}",
        EncodeError::Unsupported
    );
}

#[test]
fn empty_families_are_left_out() {
    let registry = Registry::new();
    struct Nothing;
    impl Collect for Nothing {
        fn metric_type(&self) -> MetricType {
            MetricType::Gauge
        }
        fn encode(&self, _: &mut Encoder<'_>) -> std::fmt::Result {
            Ok(())
        }
    }
    static NOTHING: Metric<Nothing> = Metric::new("nothing", "No series.", Nothing);
    registry.register(&NOTHING).unwrap();
    assert_eq!(protobuf(&registry), b"");
    // `decode_all` is the independent check that an empty body is an empty exposition.
    assert!(decode_all(b"").is_empty());
}

/// Exemplars ride along as client_golang writes them: a counter's in `Counter` field 2,
/// a bucket's in `Bucket` field 3, and a `+Inf` bucket (otherwise left out) when it
/// carries one; labels, value and timestamp as recorded.
#[test]
fn exemplars_ride_on_counters_and_buckets() {
    use torchlight::{Exemplar, ExemplarCounter, ExemplarHistogram};

    static TRACED: Metric<ExemplarCounter> =
        Metric::new("traced", "Traced jobs.", ExemplarCounter::new());
    static LATENCY: Metric<ExemplarHistogram<2>> = Metric::new(
        "traced_seconds",
        "Traced latency.",
        ExemplarHistogram::with_buckets(&BOUNDS_2),
    );
    static BOUNDS_2: Buckets<2> = Buckets::new([1.0, 2.0]);

    let registry = Registry::new().with_created_clock(None);
    registry.register(&TRACED).unwrap();
    registry.register(&LATENCY).unwrap();
    let job = Exemplar::new(&[("trace_id", "abc")], 2.0)
        .unwrap()
        .with_timestamp(1_700_000_000.5);
    TRACED.inc_by_exemplar(2, &job);
    let fast = Exemplar::new(&[("trace_id", "f1"), ("span", "s")], 0.5).unwrap();
    let slow = Exemplar::new(&[("trace_id", "s9")], 7.0)
        .unwrap()
        .with_timestamp(1_700_000_001.0);
    LATENCY.observe_exemplar(&fast);
    LATENCY.observe(1.5);
    LATENCY.observe_exemplar(&slow);

    let families = decode_all(&protobuf(&registry));
    let exemplar = |labels: &[(&str, &str)], value: f64, time: Option<(i64, i32)>| {
        Some(pb::Exemplar {
            label: labels.iter().map(|(n, v)| label(n, v)).collect(),
            value: Some(value),
            timestamp: time.map(|(seconds, nanos)| pb::Timestamp { seconds, nanos }),
        })
    };
    assert_eq!(
        families[0].metric[0].counter,
        Some(pb::Counter {
            created_timestamp: None,
            value: Some(2.0),
            exemplar: exemplar(
                &[("trace_id", "abc")],
                2.0,
                Some((1_700_000_000, 500_000_000))
            ),
        })
    );
    let histogram = families[1].metric[0].histogram.clone().unwrap();
    assert_eq!(
        histogram.bucket,
        [
            pb::Bucket {
                cumulative_count: Some(1),
                upper_bound: Some(1.0),
                exemplar: exemplar(&[("trace_id", "f1"), ("span", "s")], 0.5, None),
            },
            pb::Bucket {
                cumulative_count: Some(2),
                upper_bound: Some(2.0),
                exemplar: None,
            },
            pb::Bucket {
                cumulative_count: Some(3),
                upper_bound: Some(f64::INFINITY),
                exemplar: exemplar(&[("trace_id", "s9")], 7.0, Some((1_700_000_001, 0))),
            },
        ]
    );
    assert_eq!(histogram.sample_count, Some(3));
}
