//! Native histograms through the public API: the schema a growth factor picks, the
//! bucket index of values on and around client_golang's published bucket boundaries
//! for every schema from −4 to 8, the zero bucket, negative values, ±Inf and NaN as
//! client_golang handles them, the fallback when the bucket table is full, and the
//! protobuf exposition of them (golden bytes, and `prost` decoding every field).
#![cfg(all(feature = "std", not(loom)))]

use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use crate::client_model::{self as pb, decode_all};
use crate::support;
use torchlight::{
    Buckets, DEFAULT_ZERO_THRESHOLD, Exemplar, ExemplarNativeHistogram, Format, Instrument,
    ManualClock, Metric, NativeHistogram, Registry, schema_for,
};

/// The factor → schema table of the specification ("Native Histograms",
/// "Instrumentation libraries": one example factor per schema).
const FACTORS: [(f64, i8); 13] = [
    (65536.0, -4),
    (256.0, -3),
    (16.0, -2),
    (4.0, -1),
    (2.0, 0),
    (1.5, 1),
    (1.2, 2),
    (1.1, 3),
    (1.05, 4),
    (1.03, 5),
    (1.02, 6),
    (1.01, 7),
    (1.005, 8),
];

#[test]
fn schemas_from_growth_factors_follow_the_specification() {
    for (factor, schema) in FACTORS {
        assert_eq!(schema_for(factor), schema, "factor {factor}");
        assert_eq!(NativeHistogram::<4>::new(factor).schema(), schema);
    }
    // Beyond the ends: clamped, as client_golang's `pickSchema`.
    assert_eq!(schema_for(1e12), -4);
    assert_eq!(schema_for(1.000_01), 8);
    assert!(std::panic::catch_unwind(|| schema_for(1.0)).is_err());
    assert!(std::panic::catch_unwind(|| schema_for(f64::NAN)).is_err());
}

/// The one positive bucket `value` lands in, at the schema `factor` picks.
fn bucket(factor: f64, value: f64) -> i32 {
    let histogram: NativeHistogram<4> = NativeHistogram::new(factor);
    histogram.observe(value);
    let snapshot = histogram.snapshot();
    let buckets: Vec<_> = snapshot.positive().collect();
    assert_eq!(buckets.len(), 1, "{value}: {buckets:?}");
    assert_eq!(buckets[0].1, 1);
    buckets[0].0
}

fn next_up(value: f64) -> f64 {
    f64::from_bits(value.to_bits() + 1)
}

fn next_down(value: f64) -> f64 {
    f64::from_bits(value.to_bits() - 1)
}

/// Boundaries from client_golang's `nativeHistogramBounds` (`prometheus/histogram.go`)
/// as `(schema, j, fraction)`: bucket `j + (e - 1) · 2^schema` ends at `fraction · 2^e`.
const PUBLISHED: &[(i8, i32, f64)] = &[
    (1, 1, 0.7071067811865475),
    (2, 1, 0.5946035575013605),
    (2, 3, 0.8408964152537144),
    (3, 1, 0.5452538663326288),
    (3, 3, 0.6484197773255048),
    (3, 7, 0.9170040432046711),
    (4, 5, 0.620928906036742),
    (4, 15, 0.9576032806985735),
    (5, 9, 0.6076236799902344),
    (5, 31, 0.9785720620876999),
    (6, 1, 0.5054446430258502),
    (6, 63, 0.9892280131939752),
    (7, 1, 0.5027149505564014),
    (7, 127, 0.9945994234836328),
    (8, 1, 0.5013556375251013),
    (8, 128, 0.7071067811865475),
    (8, 255, 0.9972960560854698),
];

#[test]
fn values_on_published_boundaries_land_in_the_bucket_they_end() {
    let factor = |schema: i8| FACTORS.iter().find(|(_, s)| *s == schema).unwrap().0;
    // Schemas above 0: the published fractions, at several powers of two.
    for (schema, j, fraction) in PUBLISHED {
        let n = 1 << schema;
        for e in [-20, -1, 0, 1, 2, 10, 30] {
            let bound = fraction * 2f64.powi(e);
            let index = j + (e - 1) * n;
            assert_eq!(
                bucket(factor(*schema), bound),
                index,
                "schema {schema} bound {bound}"
            );
            assert_eq!(
                bucket(factor(*schema), next_down(bound)),
                index,
                "below {bound}"
            );
            assert_eq!(
                bucket(factor(*schema), next_up(bound)),
                index + 1,
                "above {bound}"
            );
        }
    }
    // Every schema: powers of two are boundaries (bucket i ends at 2^(i·2^-schema)).
    for schema in -4..=8i8 {
        for e in [-40, -8, -1, 0, 1, 5, 16, 64] {
            let bound = 2f64.powi(e);
            // 2^e ends bucket e·2^schema; for negative schemas only when 2^-schema
            // divides e, else it is inside the bucket ending at the next multiple.
            let index = if schema >= 0 {
                e << schema
            } else {
                let width = 1 << -schema;
                e.div_euclid(width) + i32::from(e.rem_euclid(width) != 0)
            };
            assert_eq!(
                bucket(factor(schema), bound),
                index,
                "schema {schema}, 2^{e}"
            );
            let on_boundary = schema >= 0 || e % (1 << -schema) == 0;
            let above = if on_boundary { index + 1 } else { index };
            assert_eq!(
                bucket(factor(schema), next_up(bound)),
                above,
                "schema {schema}, above 2^{e}"
            );
        }
    }
}

#[test]
fn zero_bucket_negatives_infinities_and_nan_as_client_golang() {
    let histogram: NativeHistogram<8> = NativeHistogram::new(1.2);
    for value in [
        0.0,
        -0.0,
        DEFAULT_ZERO_THRESHOLD,
        -DEFAULT_ZERO_THRESHOLD,
        1e-40,
    ] {
        histogram.observe(value);
    }
    // client_golang's "factor 1.2 results in schema 2" case, mirrored to negatives.
    for value in [1.0, 1.2, 1.4, 1.8, 2.0] {
        histogram.observe(-value);
    }
    histogram.observe(f64::INFINITY);
    histogram.observe(f64::MAX);
    histogram.observe(f64::NEG_INFINITY);
    let snapshot = histogram.snapshot();
    assert_eq!(snapshot.zero_count(), 5);
    assert_eq!(snapshot.zero_threshold(), DEFAULT_ZERO_THRESHOLD);
    // f64::MAX ends bucket 4096 at schema 2 (frexp: 0.99…·2^1024); ±Inf one above.
    assert_eq!(
        snapshot.positive().collect::<Vec<_>>(),
        [(4096, 1), (4097, 1)]
    );
    assert_eq!(
        snapshot.negative().collect::<Vec<_>>(),
        [(0, 1), (2, 2), (4, 2), (4097, 1)]
    );
    assert_eq!(snapshot.count(), 13);
    assert!(snapshot.sum().is_nan(), "+Inf and -Inf sum to NaN");

    // NaN: counted and summed, in no bucket.
    let nan: NativeHistogram<8> = NativeHistogram::new(1.2);
    nan.observe(f64::NAN);
    nan.observe(1.0);
    let snapshot = nan.snapshot();
    assert_eq!((snapshot.count(), snapshot.zero_count()), (2, 0));
    assert!(snapshot.sum().is_nan());
    assert_eq!(snapshot.positive().collect::<Vec<_>>(), [(0, 1)]);

    // A zero threshold of 0 keeps only exact zeros.
    let exact: NativeHistogram<8> = NativeHistogram::new(1.2).with_zero_threshold(0.0);
    exact.observe(0.0);
    exact.observe(1e-300);
    let snapshot = exact.snapshot();
    assert_eq!(snapshot.zero_count(), 1);
    assert_eq!(snapshot.positive().count(), 1);
}

#[test]
fn a_range_no_schema_fits_ends_at_schema_minus_4() {
    // Room for two buckets: 1, 3 and 1000 (and -1000) are in three at every schema.
    let histogram: NativeHistogram<2> = NativeHistogram::new(1.1);
    for value in [1.0, 3.0, 3.0, 1000.0] {
        histogram.observe(value);
    }
    histogram.observe(-1000.0);
    let snapshot = histogram.snapshot();
    assert_eq!(snapshot.schema(), -4);
    // At schema -4 bucket i is (2^(16(i-1)), 2^(16i)]: 1 ends bucket 0, 3 and 1000 are
    // in bucket 1.
    assert_eq!(snapshot.positive().collect::<Vec<_>>(), [(0, 1), (1, 3)]);
    assert_eq!(snapshot.negative().collect::<Vec<_>>(), [(1, 1)]);
    assert_eq!(snapshot.count(), 5);

    // Until then it keeps its schema.
    let roomy: NativeHistogram<3> = NativeHistogram::new(1.1);
    for value in [1.0, 3.0, 1000.0] {
        roomy.observe(value);
    }
    assert_eq!(roomy.snapshot().schema(), 3);
}

#[test]
fn classic_buckets_ride_along() {
    static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);
    let histogram: NativeHistogram<8, 2> = NativeHistogram::with_buckets(2.0, &BOUNDS);
    for value in [0.5, 1.5, 1.5, 4.0] {
        histogram.observe(value);
    }
    let snapshot = histogram.snapshot();
    assert_eq!(snapshot.cumulative(), &[1, 3]);
    assert_eq!(snapshot.bounds(), &[1.0, 2.0]);
    // Schema 0: 0.5 = 2^-1 ends bucket -1, 1.5 is in (1, 2], 4 ends bucket 2.
    assert_eq!(
        snapshot.positive().collect::<Vec<_>>(),
        [(-1, 1), (1, 2), (2, 1)]
    );
}

static NATIVE: Metric<NativeHistogram> =
    Metric::new("native_seconds", "Native.", NativeHistogram::new(1.1));
static EMPTY: Metric<NativeHistogram> = Metric::new("empty_seconds", "", NativeHistogram::new(1.1));

/// client_golang's "factor 1.1 results in schema 3" case (`histogram_test.go`,
/// `TestNativeHistogram`): observations 0, 1, 2, 3.
#[test]
fn protobuf_golden_bytes_and_prost_decode() {
    // Without a clock: no `created_timestamp` (`created.rs` has the bytes with one).
    let registry = Registry::new().with_created_clock(None);
    registry.register(&NATIVE).unwrap();
    registry.register(&EMPTY).unwrap();
    for value in [0.0, 1.0, 2.0, 3.0] {
        NATIVE.observe(value);
    }
    let mut body = Vec::new();
    registry.encode_to(&mut body, Format::Protobuf).unwrap();
    let native: &[u8] = b"\x4e\x0a\x0e\x6e\x61\x74\x69\x76\x65\x5f\x73\x65\x63\x6f\x6e\x64\x73\x12\x07\x4e\x61\x74\x69\x76\x65\x2e\x18\x04\x22\x31\x3a\x2f\x08\x04\x11\x00\x00\x00\x00\x00\x00\x18\x40\x28\x06\x31\x00\x00\x00\x00\x00\x00\xf0\x37\x38\x01\x62\x04\x08\x00\x10\x01\x62\x04\x08\x0e\x10\x01\x62\x04\x08\x08\x10\x01\x6a\x03\x02\x00\x00";
    // An empty native histogram carries the no-op span that marks it native.
    let empty: &[u8] = b"\x35\x0a\x0d\x65\x6d\x70\x74\x79\x5f\x73\x65\x63\x6f\x6e\x64\x73\x12\x00\x18\x04\x22\x20\x3a\x1e\x08\x00\x11\x00\x00\x00\x00\x00\x00\x00\x00\x28\x06\x31\x00\x00\x00\x00\x00\x00\xf0\x37\x38\x00\x62\x04\x08\x00\x10\x00";
    assert_eq!(body, [native, empty].concat());

    let span = |offset, length| pb::BucketSpan {
        offset: Some(offset),
        length: Some(length),
    };
    let families = decode_all(&body);
    assert_eq!(
        families[0].metric[0].histogram,
        Some(pb::Histogram {
            created_timestamp: None,
            sample_count: Some(4),
            sample_sum: Some(6.0),
            bucket: vec![],
            schema: Some(3),
            zero_threshold: Some(DEFAULT_ZERO_THRESHOLD),
            zero_count: Some(1),
            negative_span: vec![],
            negative_delta: vec![],
            positive_span: vec![span(0, 1), span(7, 1), span(4, 1)],
            positive_delta: vec![1, 0, 0],
            exemplars: vec![],
        })
    );
    assert_eq!(families[0].r#type, Some(pb::MetricType::Histogram as i32));
    assert_eq!(
        families[1].metric[0]
            .histogram
            .as_ref()
            .unwrap()
            .positive_span,
        [span(0, 0)]
    );

    // Text formats see the classic form: here only `+Inf`, `_sum` and `_count`.
    let mut text = String::new();
    registry.encode(&mut text, Format::Text).unwrap();
    assert!(
        text.contains(
            "native_seconds_bucket{le=\"+Inf\"} 4\nnative_seconds_sum 6\nnative_seconds_count 4\n"
        ),
        "{text}"
    );
}

/// client_golang's "factor 1.2 results in schema 2" case, with classic buckets and
/// negative values: spans fill gaps of up to two buckets with zero deltas.
#[test]
fn prost_decodes_spans_deltas_and_classic_buckets() {
    static BOUNDS: Buckets<1> = Buckets::new([1.5]);
    static BOTH: Metric<NativeHistogram<16, 1>> =
        Metric::new("both", "Both.", NativeHistogram::with_buckets(1.2, &BOUNDS));
    let registry = Registry::new().with_created_clock(None);
    registry.register(&BOTH).unwrap();
    for value in [0.0, 1.0, 1.2, 1.4, 1.8, 2.0, -1.0, -8.0] {
        BOTH.observe(value);
    }
    let mut body = Vec::new();
    registry.encode_to(&mut body, Format::Protobuf).unwrap();
    let histogram = decode_all(&body)[0].metric[0].histogram.clone().unwrap();
    let span = |offset, length| pb::BucketSpan {
        offset: Some(offset),
        length: Some(length),
    };
    assert_eq!(
        histogram,
        pb::Histogram {
            created_timestamp: None,
            sample_count: Some(8),
            sample_sum: Some(0.0 + 1.0 + 1.2 + 1.4 + 1.8 + 2.0 - 1.0 - 8.0),
            bucket: vec![pb::Bucket {
                cumulative_count: Some(6),
                upper_bound: Some(1.5),
                exemplar: None,
            }],
            schema: Some(2),
            zero_threshold: Some(DEFAULT_ZERO_THRESHOLD),
            zero_count: Some(1),
            // -1 in bucket 0, -8 (2^3) in bucket 12: a new span after a gap of 11.
            negative_span: vec![span(0, 1), span(11, 1)],
            negative_delta: vec![1, 0],
            positive_span: vec![span(0, 5)],
            positive_delta: vec![1, -1, 2, -2, 2],
            exemplars: vec![],
        }
    );
}

/// `time_with` observes a future's duration into a native histogram as into a classic
/// one: 0.25 s ends bucket -16 at schema 3.
#[test]
fn futures_are_timed_into_a_native_histogram() {
    static TIMED: Metric<NativeHistogram<8>> =
        Metric::new("timed_seconds", "Timed.", NativeHistogram::new(1.1));
    let clock = ManualClock::new();
    let work = async {
        clock.advance(Duration::from_millis(250));
    };
    let timed = pin!(work.time_with(&TIMED, &clock));
    assert_eq!(support::poll_once(timed), Poll::Ready(()));
    let snapshot = TIMED.snapshot();
    assert_eq!((snapshot.count(), snapshot.sum()), (1, 0.25));
    assert_eq!(snapshot.positive().collect::<Vec<_>>(), [(-16, 1)]);
}

fn stamped(trace: &str, value: f64, at: f64) -> Exemplar {
    Exemplar::new(&[("trace_id", trace)], value)
        .expect("a valid exemplar")
        .with_timestamp(at)
}

fn decoded(trace: &str, value: f64, seconds: i64) -> pb::Exemplar {
    pb::Exemplar {
        label: vec![pb::LabelPair {
            name: Some("trace_id".into()),
            value: Some(trace.into()),
        }],
        value: Some(value),
        timestamp: Some(pb::Timestamp { seconds, nanos: 0 }),
    }
}

/// `Histogram.exemplars` (field 16, a two-byte tag) carries the native histogram's
/// exemplars, by value, the newest per power-of-two slot; each classic bucket (and
/// `+Inf`) carries its latest, as client_golang 1.23 writes both.
#[test]
fn exemplars_ride_in_the_native_histogram_and_on_its_classic_buckets() {
    static BOUNDS: Buckets<1> = Buckets::new([1.0]);
    // Four native slots: binary exponents modulo 4.
    static TRACED: Metric<ExemplarNativeHistogram<16, 1, 4>> = Metric::new(
        "traced_seconds",
        "Traced.",
        ExemplarNativeHistogram::with_buckets(2.0, &BOUNDS),
    );
    let registry = Registry::new();
    registry.register(&TRACED).unwrap();
    TRACED.observe(0.75);
    const T: f64 = 1_700_000_000.0;
    // 0.3 and 0.4 share 2^-2's slot, 3 and 48 (2^1 and 2^5, 2^4 apart) share one;
    // -0.7 (2^-1) has its own.
    for (trace, value, at) in [
        ("a", 0.3, T),
        ("b", 0.4, T + 1.0),
        ("c", 3.0, T + 2.0),
        ("d", 48.0, T + 3.0),
        ("e", -0.7, T + 4.0),
    ] {
        TRACED.observe_exemplar(&stamped(trace, value, at));
    }
    let kept: Vec<f64> = TRACED.exemplars().map(|e| e.value()).collect();
    assert_eq!(kept, [-0.7, 0.4, 48.0]);

    let mut body = Vec::new();
    registry.encode_to(&mut body, Format::Protobuf).unwrap();
    assert!(
        body.windows(2).any(|tag| tag == [0x82, 0x01]),
        "field 16, wire type 2: the varint 130"
    );
    let histogram = decode_all(&body)[0].metric[0].histogram.clone().unwrap();
    assert_eq!(histogram.sample_count, Some(6));
    assert_eq!(
        histogram.bucket,
        [
            pb::Bucket {
                cumulative_count: Some(4),
                upper_bound: Some(1.0),
                exemplar: Some(decoded("e", -0.7, 1_700_000_004)),
            },
            pb::Bucket {
                cumulative_count: Some(6),
                upper_bound: Some(f64::INFINITY),
                exemplar: Some(decoded("d", 48.0, 1_700_000_003)),
            },
        ]
    );
    assert_eq!(
        histogram.exemplars,
        [
            decoded("e", -0.7, 1_700_000_004),
            decoded("b", 0.4, 1_700_000_001),
            decoded("d", 48.0, 1_700_000_003),
        ]
    );
    assert_eq!(histogram.schema, Some(0));
}

/// `time_with(..).exemplar(..)` records into the exemplar-keeping native histogram:
/// the value, its native exemplar and, the only classic bucket, `+Inf`'s, stamped
/// with the wall clock (Prometheus drops native exemplars without a timestamp).
#[test]
fn futures_are_timed_with_exemplars_into_a_native_histogram() {
    static TIMED: Metric<ExemplarNativeHistogram<8>> = Metric::new(
        "timed_traced_seconds",
        "Timed.",
        ExemplarNativeHistogram::new(1.1),
    );
    let clock = ManualClock::new();
    let work = async {
        clock.advance(Duration::from_millis(250));
    };
    let timed = pin!(
        work.time_with(&TIMED, &clock)
            .exemplar(|| [("trace_id", "t1")])
    );
    assert_eq!(support::poll_once(timed), Poll::Ready(()));
    let snapshot = TIMED.snapshot();
    assert_eq!((snapshot.count(), snapshot.sum()), (1, 0.25));
    let kept: Vec<Exemplar> = TIMED.exemplars().collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].value(), 0.25);
    assert!(kept[0].timestamp().is_some(), "stamped with std");
    assert_eq!(TIMED.exemplar(0).map(|e| e.value()), Some(0.25));
    assert_eq!(TIMED.exemplar(1).map(|e| e.value()), None);
    // NaN is counted and gets the `+Inf` bucket's exemplar, no native one.
    TIMED
        .observe_with_exemplar(f64::NAN, &[("trace_id", "t2")])
        .unwrap();
    assert_eq!(TIMED.exemplars().count(), 1);
    assert!(TIMED.exemplar(0).unwrap().value().is_nan());
}

/// The exemplar slots are all an exemplar-keeping native histogram adds: about 290
/// bytes each, `C + 1 + E` of them (the type docs).
#[test]
fn exemplar_slots_are_all_the_exemplar_type_adds() {
    let plain = std::mem::size_of::<NativeHistogram>();
    let traced = std::mem::size_of::<ExemplarNativeHistogram>();
    let slots = 1 + 10;
    let per_slot = (traced - plain - 8) / slots;
    assert_eq!(traced - plain - 8, slots * per_slot, "{traced} - {plain}");
    assert!((280..300).contains(&per_slot), "{per_slot} bytes a slot");
}

/// An independent model of client_golang's bucket limit (`prometheus/histogram.go`,
/// v1.23: `histogram.observe` → `limitBuckets` → `maybeWidenZeroBucket`, then
/// `doubleBucketWidth`), written from its documentation and code, not from
/// torchlight's: buckets in a `BTreeMap` keyed by `(negative, index)`, the index
/// computed with `log2` (the values below stay clear of bucket boundaries, which the
/// model asserts), and, per observation that takes the histogram past the limit, one
/// widening of the zero bucket over the bucket(s) with the lowest index when the new
/// threshold stays within the maximum, else one halving: schema − 1, bucket `k` merged
/// into `(k + 1) / 2` for `k > 0` and `k / 2` otherwise (Go's truncating division).
struct GolangModel {
    schema: i32,
    limit: usize,
    zero_threshold: f64,
    max_zero_threshold: f64,
    zero_count: u64,
    buckets: std::collections::BTreeMap<(bool, i32), u64>,
}

impl GolangModel {
    fn new(schema: i32, limit: usize) -> Self {
        Self {
            schema,
            limit,
            zero_threshold: DEFAULT_ZERO_THRESHOLD,
            max_zero_threshold: 0.0,
            zero_count: 0,
            buckets: std::collections::BTreeMap::new(),
        }
    }

    /// `ceil(log2(|v|) · 2^schema)`: bucket `i` is `(2^((i-1)/2^s), 2^(i/2^s)]`.
    fn index(value: f64, schema: i32) -> i32 {
        let position = value.abs().log2() * 2f64.powi(schema);
        let distance = (position - position.round()).abs();
        assert!(
            distance > 1e-6,
            "{value} is too close to a boundary at {schema}"
        );
        position.ceil() as i32
    }

    fn upper_bound(index: i32, schema: i32) -> f64 {
        2f64.powf(f64::from(index) / 2f64.powi(schema))
    }

    fn observe(&mut self, value: f64) {
        if value.abs() <= self.zero_threshold {
            self.zero_count += 1;
            return;
        }
        let key = (value < 0.0, Self::index(value, self.schema));
        *self.buckets.entry(key).or_default() += 1;
        if self.buckets.len() > self.limit {
            self.limit_buckets();
        }
    }

    /// One step of `limitBuckets`.
    fn limit_buckets(&mut self) {
        let Some(lowest) = self.buckets.keys().map(|(_, index)| *index).min() else {
            return;
        };
        let threshold = Self::upper_bound(lowest, self.schema);
        if self.zero_threshold < self.max_zero_threshold && threshold <= self.max_zero_threshold {
            for negative in [false, true] {
                self.zero_count += self.buckets.remove(&(negative, lowest)).unwrap_or(0);
            }
            self.zero_threshold = threshold;
            return;
        }
        if self.schema == -4 {
            return;
        }
        self.schema -= 1;
        let old = std::mem::take(&mut self.buckets);
        for ((negative, mut key), count) in old {
            if key > 0 {
                key += 1;
            }
            *self.buckets.entry((negative, key / 2)).or_default() += count;
        }
    }

    /// Where steady traffic takes it: every further observation over the limit is
    /// another step, until the buckets fit (or schema −4, or no widening is left).
    fn settle(&mut self) {
        while self.buckets.len() > self.limit && self.schema > -4 {
            self.limit_buckets();
        }
    }

    fn side(&self, negative: bool) -> Vec<(i32, u64)> {
        self.buckets
            .iter()
            .filter(|((sign, _), _)| *sign == negative)
            .map(|((_, index), count)| (*index, *count))
            .collect()
    }
}

/// `count` values spread evenly in log scale over `[low, high]`, shuffled (a fixed
/// Fisher-Yates with a linear congruential generator: arrival order is part of the
/// case, and a run must be repeatable).
fn spread(low: f64, high: f64, count: usize) -> Vec<f64> {
    let mut values: Vec<f64> = (0..count)
        .map(|i| low * (high / low).powf((i as f64 + 0.37) / count as f64))
        .collect();
    shuffle(&mut values);
    values
}

fn shuffle(values: &mut [f64]) {
    let mut state = 0x2545_f491_4f6c_dd1du64;
    for i in (1..values.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        values.swap(i, (state >> 33) as usize % (i + 1));
    }
}

/// Observes `values` in torchlight and in the model; checks the exposed schema, the
/// zero bucket and every bucket count against the model.
fn check_against_model<const N: usize>(
    histogram: &NativeHistogram<N>,
    model: &mut GolangModel,
    values: &[f64],
) -> i8 {
    for value in values {
        histogram.observe(*value);
        model.observe(*value);
    }
    model.settle();
    let snapshot = histogram.snapshot();
    assert_eq!(i32::from(snapshot.schema()), model.schema, "schema");
    assert_eq!(snapshot.zero_count(), model.zero_count, "zero bucket");
    // The model's `powf` bound may be an ulp off client_golang's tabled one.
    let threshold = snapshot.zero_threshold();
    assert!(
        (threshold - model.zero_threshold).abs() <= 1e-12 * model.zero_threshold,
        "zero threshold {threshold}, model {}",
        model.zero_threshold
    );
    assert_eq!(snapshot.positive().collect::<Vec<_>>(), model.side(false));
    assert_eq!(snapshot.negative().collect::<Vec<_>>(), model.side(true));
    assert_eq!(snapshot.count(), values.len() as u64);
    let buckets = snapshot.positive().count() + snapshot.negative().count();
    assert!(buckets <= N, "{buckets} buckets for a bound of {N}");
    snapshot.schema()
}

#[test]
fn one_reduction_past_the_bound_as_client_golang() {
    // The case: factor 1.1 (schema 3), 1 µs to 100 s: 213 buckets at schema 3,
    // 107 at schema 2; the default bound, 160.
    let histogram: NativeHistogram = NativeHistogram::new(1.1);
    let mut model = GolangModel::new(3, 160);
    let values = spread(1e-6, 100.0, 5000);
    assert_eq!(check_against_model(&histogram, &mut model, &values), 2);
    assert_eq!(model.side(false).len(), 107);
}

#[test]
fn several_reductions_past_the_bound_as_client_golang() {
    // Schema 4, 1e-3 to 1e3 (20 octaves, 320 buckets) into 24: schema 0 holds 21.
    let histogram: NativeHistogram<24> = NativeHistogram::new(1.05);
    let mut model = GolangModel::new(4, 24);
    let values = spread(1e-3, 1e3, 3000);
    assert_eq!(check_against_model(&histogram, &mut model, &values), 0);
}

#[test]
fn both_signs_reduce_together_as_client_golang() {
    // Schema 3; positive values over 8 octaves and negative ones over 6, with zeros:
    // 112 buckets into 40 needs schema 1 (28 + 24... both signs count).
    let histogram: NativeHistogram<40> = NativeHistogram::new(1.1);
    let mut model = GolangModel::new(3, 40);
    let mut values = spread(0.01, 2.56, 1500);
    values.extend(spread(3.0, 192.0, 1100).into_iter().map(|v| -v));
    values.extend([0.0; 7]);
    shuffle(&mut values);
    let schema = check_against_model(&histogram, &mut model, &values);
    assert!(schema < 2, "needed more than one reduction: {schema}");
    assert!(!model.side(true).is_empty());
}

#[test]
fn the_zero_bucket_widens_before_the_resolution_drops_as_client_golang() {
    // Schema 2; 1e-4 to 1e-2 (small, about 27 buckets) and 1 to 16 (16 buckets) into
    // 20: widening up to 0.05 takes the small ones, and the resolution stays.
    let histogram: NativeHistogram<20> = NativeHistogram::new(1.2).with_max_zero_threshold(0.05);
    let mut model = GolangModel::new(2, 20);
    model.max_zero_threshold = 0.05;
    let mut values = spread(1e-4, 1e-2, 400);
    values.extend(spread(1.0, 16.0, 300));
    shuffle(&mut values);
    assert_eq!(check_against_model(&histogram, &mut model, &values), 2);
    assert!(model.zero_threshold > 1e-3 && model.zero_threshold <= 0.05);
}

/// The model's buckets merged down to `schema` as client_golang's `doubleBucketWidth`
/// merges them, one halving at a time.
fn coarsened(model: &GolangModel, negative: bool, schema: i32) -> Vec<(i32, u64)> {
    let mut merged = std::collections::BTreeMap::new();
    for (mut index, count) in model.side(negative) {
        for _ in schema..model.schema {
            index = if index > 0 {
                (index + 1) / 2
            } else {
                index / 2
            };
        }
        *merged.entry(index).or_insert(0) += count;
    }
    merged.into_iter().collect()
}

/// The documented lossy case (module docs of `native.rs`, "a histogram whose range
/// keeps growing after each reduction"): room for 4 buckets, so 8 counters; the range
/// grows on both ends after each reduction until all 8 are taken at schemas 0 to −3.
/// The next new bucket would fit at −3, where client_golang stays, but has no counter:
/// it folds into a key covering it at −4, which caps the exposed schema there. Then a
/// value no key covers even at −4 lands in the fixed schema −4 array. Either way no
/// observation is lost or misplaced: every bucket is the model's, merged down to the
/// exposed schema.
#[test]
fn a_range_that_keeps_growing_uses_up_the_counters_and_then_folds() {
    let histogram: NativeHistogram<4> = NativeHistogram::new(2.0);
    let mut model = GolangModel::new(0, 4);
    // 1.5 · 2^k sits in bucket k + 1 at schema 0, clear of every boundary.
    let observe = |model: &mut GolangModel, k: i32| {
        let value = 1.5 * 2f64.powi(k);
        histogram.observe(value);
        model.observe(value);
    };
    // Four buckets at schema 0, then a bucket further out at each end after each
    // reduction: −1, −1, −2, −3 take the other four counters.
    for k in [0, 1, 2, 3, 5, -3, 7, -7, 11] {
        observe(&mut model, k);
    }
    model.settle();
    let snapshot = histogram.snapshot();
    assert_eq!(
        (snapshot.schema(), model.schema),
        (-3, -3),
        "still as client_golang"
    );
    assert_eq!(snapshot.positive().collect::<Vec<_>>(), model.side(false));

    // A new bucket that fits at −3, with every counter taken: folded at −4.
    observe(&mut model, -15);
    model.settle();
    let snapshot = histogram.snapshot();
    assert_eq!(model.schema, -3, "client_golang keeps −3");
    assert_eq!(
        snapshot.schema(),
        -4,
        "one step coarser than the data needs"
    );
    assert_eq!(
        snapshot.positive().collect::<Vec<_>>(),
        coarsened(&model, false, -4)
    );

    // A value no key covers even at −4: the schema −4 array.
    observe(&mut model, 40);
    observe(&mut model, -40);
    model.settle();
    let snapshot = histogram.snapshot();
    assert_eq!(snapshot.schema(), -4);
    assert_eq!(
        snapshot.positive().collect::<Vec<_>>(),
        coarsened(&model, false, -4)
    );
    assert_eq!(snapshot.count(), 12);
    let total: u64 = snapshot.positive().map(|(_, n)| n).sum();
    assert_eq!(total + snapshot.zero_count(), 12);
}

#[test]
fn memory_is_bounded_as_documented() {
    // The module docs: shards of 8 · (4 + 2·N + 266 + C + 1) bytes, a key table of
    // 32 · N, a few words more; about 14.3 KiB for the default bound.
    let size = std::mem::size_of::<NativeHistogram>();
    assert!((14_500..14_800).contains(&size), "{size} bytes");
    let classic = std::mem::size_of::<NativeHistogram<160, 14>>();
    assert_eq!(classic - size, 2 * 8 * 14, "{classic} bytes");
}
