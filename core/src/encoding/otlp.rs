//! OTLP metrics from the sample model: an `ExportMetricsServiceRequest`
//! (open-telemetry/opentelemetry-proto, `collector/metrics/v1/metrics_service.proto`,
//! `metrics/v1/metrics.proto`; the "OTLP Specification"), written into a [`ByteSink`]
//! without allocating by [`Registry::encode_otlp`](crate::Registry::encode_otlp).
//!
//! # The mapping
//!
//! As OpenTelemetry's "Prometheus and OpenMetrics Compatibility" specification
//! ("Prometheus Metric points to OTLP") describes it, with cumulative temporality:
//!
//! | torchlight | OTLP `Metric` | name |
//! |---|---|---|
//! | counter | monotonic `Sum`, its exemplar | the family's (no `_total`) |
//! | gauge, unknown | `Gauge` | the family's |
//! | histogram | `Histogram`: explicit bounds, per-bucket (not cumulative) counts, the buckets' exemplars | the family's |
//! | native histogram | `ExponentialHistogram`: scale = schema, bucket indexes one lower | the family's |
//! | summary | `Summary` | the family's |
//! | info | non-monotonic `Sum`, 1 | `<family>_info`, the series a scrape stores |
//! | state set | non-monotonic `Sum`, a point per state labelled `<family>="state"`, 1 or 0 | the family's |
//!
//! Every metric also carries its Prometheus type in `metadata` as `prometheus.type`
//! (OpenMetrics' keyword), its help as the description, and its unit translated to
//! OpenTelemetry's (UCUM) spelling: `seconds` → `s`, `bytes` → `By`, `ratio` → `1`,
//! `foo_per_bar` → `foo/bar`; a unit the table does not know goes as it is.
//!
//! Points of cumulative metrics carry their series' created timestamp as their start
//! time ("Prometheus and OpenMetrics Compatibility", "Counters": `_created` becomes
//! `StartTimeUnixNano`), or the request's start time for a series that keeps none (a
//! user's `Collect`, a registry without a clock); never a time after the point's own.
//! Gauges carry none. A label is an attribute with a string value; a label with an empty value is
//! left out (Prometheus treats it as absent). An exemplar's `trace_id` (32 hex digits)
//! and `span_id` (16) go as the bytes they spell, its other labels as filtered
//! attributes; its time is its timestamp, or the request's.
//!
//! A native histogram's bucket `i` holds `(base^(i-1), base^i]`, an OTLP exponential
//! bucket `i` `(base^i, base^(i+1)]` ("Exponential Histogram" in the OpenTelemetry data
//! model): the same bucket is one index lower in OTLP. Buckets are dense in OTLP, so the
//! populated ones are written from the first to the last with zeros between.
//!
//! # Shape
//!
//! One `ResourceMetrics` (the resource's attributes) holding one `ScopeMetrics` (scope
//! `torchlight` and this crate's version) holding a `Metric` per family with series.
//! Every message length is written as a placeholder and filled in when the message
//! ends (`Chunked::fill_length`), as the protobuf exposition does, so the sink must keep
//! what it wrote ([`ByteSink::written_mut`]). A family's `Metric` is opened at its
//! first series: a family without series writes nothing.

use core::fmt::{self, Write};
use core::time::Duration;

use super::wire::{Wire, varint_len};
use super::{ByteSink, Chunked, EncodeError, FamilyHead};
use crate::collect::MetricType;
use crate::sample::{
    Buckets, EncodeLabels, Encoder, Exemplar, LabelEncoder, LabelSink, Native, NativeBuckets,
    Number, Quantiles, Samples,
};

/// Field numbers of opentelemetry-proto's `metrics.proto`, `common.proto`,
/// `resource.proto` and `metrics_service.proto`.
mod field {
    pub(super) const REQUEST_RESOURCE_METRICS: u8 = 1;
    pub(super) const RESOURCE_METRICS_RESOURCE: u8 = 1;
    pub(super) const RESOURCE_METRICS_SCOPE_METRICS: u8 = 2;
    pub(super) const RESOURCE_ATTRIBUTES: u8 = 1;
    pub(super) const SCOPE_METRICS_SCOPE: u8 = 1;
    pub(super) const SCOPE_METRICS_METRICS: u8 = 2;
    pub(super) const SCOPE_NAME: u8 = 1;
    pub(super) const SCOPE_VERSION: u8 = 2;
    pub(super) const KEY_VALUE_KEY: u8 = 1;
    pub(super) const KEY_VALUE_VALUE: u8 = 2;
    pub(super) const ANY_VALUE_STRING: u8 = 1;
    pub(super) mod metric {
        pub(crate) const NAME: u8 = 1;
        pub(crate) const DESCRIPTION: u8 = 2;
        pub(crate) const UNIT: u8 = 3;
        pub(crate) const GAUGE: u8 = 5;
        pub(crate) const SUM: u8 = 7;
        pub(crate) const HISTOGRAM: u8 = 9;
        pub(crate) const EXPONENTIAL_HISTOGRAM: u8 = 10;
        pub(crate) const SUMMARY: u8 = 11;
        pub(crate) const METADATA: u8 = 12;
    }
    /// `Gauge`, `Sum`, `Histogram`, `ExponentialHistogram`, `Summary`.
    pub(super) mod data {
        pub(crate) const DATA_POINTS: u8 = 1;
        pub(crate) const AGGREGATION_TEMPORALITY: u8 = 2;
        pub(crate) const IS_MONOTONIC: u8 = 3;
    }
    /// Fields every data point has at the same number.
    pub(super) const START_TIME: u8 = 2;
    pub(super) const TIME: u8 = 3;
    pub(super) mod number {
        pub(crate) const AS_DOUBLE: u8 = 4;
        pub(crate) const EXEMPLARS: u8 = 5;
        pub(crate) const AS_INT: u8 = 6;
        pub(crate) const ATTRIBUTES: u8 = 7;
    }
    pub(super) mod histogram {
        pub(crate) const COUNT: u8 = 4;
        pub(crate) const SUM: u8 = 5;
        pub(crate) const BUCKET_COUNTS: u8 = 6;
        pub(crate) const EXPLICIT_BOUNDS: u8 = 7;
        pub(crate) const EXEMPLARS: u8 = 8;
        pub(crate) const ATTRIBUTES: u8 = 9;
    }
    pub(super) mod exponential {
        pub(crate) const ATTRIBUTES: u8 = 1;
        pub(crate) const COUNT: u8 = 4;
        pub(crate) const SUM: u8 = 5;
        pub(crate) const SCALE: u8 = 6;
        pub(crate) const ZERO_COUNT: u8 = 7;
        pub(crate) const POSITIVE: u8 = 8;
        pub(crate) const NEGATIVE: u8 = 9;
        pub(crate) const ZERO_THRESHOLD: u8 = 14;
        pub(crate) const OFFSET: u8 = 1;
        pub(crate) const BUCKET_COUNTS: u8 = 2;
    }
    pub(super) mod summary {
        pub(crate) const COUNT: u8 = 4;
        pub(crate) const SUM: u8 = 5;
        pub(crate) const QUANTILE_VALUES: u8 = 6;
        pub(crate) const ATTRIBUTES: u8 = 7;
        pub(crate) const QUANTILE: u8 = 1;
        pub(crate) const VALUE: u8 = 2;
    }
    pub(super) mod exemplar {
        pub(crate) const TIME: u8 = 2;
        pub(crate) const AS_DOUBLE: u8 = 3;
        pub(crate) const SPAN_ID: u8 = 4;
        pub(crate) const TRACE_ID: u8 = 5;
        pub(crate) const FILTERED_ATTRIBUTES: u8 = 7;
    }
}

/// `AggregationTemporality.AGGREGATION_TEMPORALITY_CUMULATIVE`.
const CUMULATIVE: u64 = 2;

/// The settings of one OTLP export: its time, the start time of its cumulative points,
/// and the resource it describes.
///
/// ```
/// use torchlight::{Counter, Metric, Otlp, Registry};
///
/// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
/// let registry = Registry::new();
/// registry.register(&JOBS)?;
///
/// let started = 1_700_000_000_000_000_000;
/// let request = Otlp::new(started + 60_000_000_000, started)
///     .with_resource(&[("service.name", "checkout")]);
/// let mut body = [0u8; 512];
/// let mut sink = torchlight::SliceSink::new(&mut body);
/// registry.encode_otlp(&mut sink, &request)?;
/// assert!(!sink.is_empty());
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Otlp<'a> {
    time_unix_nano: u64,
    start_time_unix_nano: u64,
    resource: &'a [(&'a str, &'a str)],
}

impl<'a> Otlp<'a> {
    /// An export whose points are taken at `time_unix_nano` and whose cumulative points
    /// count from `start_time_unix_nano` (nanoseconds since the Unix epoch) where their
    /// series keeps no created timestamp, without resource attributes of its own.
    #[must_use]
    pub const fn new(time_unix_nano: u64, start_time_unix_nano: u64) -> Self {
        Self {
            time_unix_nano,
            start_time_unix_nano,
            resource: &[],
        }
    }

    /// The resource's attributes (`service.name`, `deployment.environment.name`, …), each
    /// written once as given, the first of a key winning. `service.name` is
    /// `unknown_service` when absent; `telemetry.sdk.name` (`torchlight`),
    /// `telemetry.sdk.language` (`rust`) and `telemetry.sdk.version` are added unless
    /// given ("Resource semantic conventions").
    #[must_use]
    pub const fn with_resource(mut self, attributes: &'a [(&'a str, &'a str)]) -> Self {
        self.resource = attributes;
        self
    }

    /// When the points were taken, in nanoseconds since the Unix epoch.
    #[must_use]
    pub const fn time_unix_nano(&self) -> u64 {
        self.time_unix_nano
    }

    /// Since when the cumulative points of series without a created timestamp count, in
    /// nanoseconds since the Unix epoch.
    #[must_use]
    pub const fn start_time_unix_nano(&self) -> u64 {
        self.start_time_unix_nano
    }

    /// The resource's attributes.
    #[must_use]
    pub const fn resource(&self) -> &'a [(&'a str, &'a str)] {
        self.resource
    }

    /// The instrumentation scope every metric is exported under: its name and version.
    pub const SCOPE: (&'static str, &'static str) = ("torchlight", env!("CARGO_PKG_VERSION"));

    /// The `Content-Type` an OTLP/HTTP protobuf body goes with (OTLP specification,
    /// "OTLP/HTTP Request").
    pub const HEADERS: [(&'static str, &'static str); 1] =
        [("content-type", "application/x-protobuf")];
}

/// The marks of the two messages that enclose every metric, closed by [`end`].
pub(crate) struct Open {
    resource_metrics: usize,
    scope_metrics: usize,
}

/// Writes what comes before the first metric: the request's `ResourceMetrics`, its
/// `Resource`, its `ScopeMetrics` and scope, leaving the last two open.
///
/// # Errors
///
/// The sink's error, or [`EncodeError::Unsupported`] when the sink cannot rewrite what
/// it holds.
pub(crate) fn begin<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    request: &Otlp<'_>,
) -> Result<Open, EncodeError> {
    if !out.rewritable() {
        return Err(EncodeError::Unsupported);
    }
    let mut w = Wire::new(out);
    let open = head(&mut w, request);
    w.finish(open)
}

/// [`begin`]'s messages.
fn head<B: ByteSink + ?Sized>(
    w: &mut Wire<'_, '_, B>,
    request: &Otlp<'_>,
) -> Result<Open, fmt::Error> {
    let resource_metrics = w.open(field::REQUEST_RESOURCE_METRICS)?;
    let resource = w.open(field::RESOURCE_METRICS_RESOURCE)?;
    let given = request.resource;
    for (i, (key, value)) in given.iter().enumerate() {
        if !given[..i].iter().any(|(other, _)| other == key) {
            key_value(w, field::RESOURCE_ATTRIBUTES, key, value)?;
        }
    }
    let defaults = [
        ("service.name", "unknown_service"),
        ("telemetry.sdk.name", "torchlight"),
        ("telemetry.sdk.language", "rust"),
        ("telemetry.sdk.version", env!("CARGO_PKG_VERSION")),
    ];
    for (key, value) in defaults {
        if !given.iter().any(|(other, _)| *other == key) {
            key_value(w, field::RESOURCE_ATTRIBUTES, key, value)?;
        }
    }
    w.close(resource)?;
    let scope_metrics = w.open(field::RESOURCE_METRICS_SCOPE_METRICS)?;
    let (name, version) = Otlp::SCOPE;
    let scope = w.open(field::SCOPE_METRICS_SCOPE)?;
    w.string(field::SCOPE_NAME, name)?;
    w.string(field::SCOPE_VERSION, version)?;
    w.close(scope)?;
    Ok(Open {
        resource_metrics,
        scope_metrics,
    })
}

/// Closes what [`begin`] opened.
///
/// # Errors
///
/// The sink's error.
pub(crate) fn end<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    open: Open,
) -> Result<(), EncodeError> {
    out.fill_length(open.scope_metrics)?;
    out.fill_length(open.resource_metrics)
}

/// Writes one family as a `Metric` (or, for a family whose series need two data kinds,
/// which torchlight's types never report, one `Metric` per run of a kind).
///
/// # Errors
///
/// The sink's error, or [`EncodeError::Collect`] when `collect` failed on its own.
pub(crate) fn encode_family<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    family: &FamilyHead<'_>,
    start_time_unix_nano: u64,
    request: &Otlp<'_>,
    collect: impl FnOnce(&mut Encoder<'_>) -> fmt::Result,
) -> Result<(), EncodeError> {
    let mut writer = Writer {
        wire: Wire::new(out),
        family,
        time: request.time_unix_nano,
        start: start_time_unix_nano,
        open: None,
        attributes: field::number::ATTRIBUTES,
    };
    let result = collect(&mut Encoder::new(&mut writer)).and_then(|()| writer.close_metric());
    writer.wire.finish(result)
}

/// A `KeyValue` whose value is a string `AnyValue`.
fn key_value<B: ByteSink + ?Sized>(
    w: &mut Wire<'_, '_, B>,
    field: u8,
    key: &str,
    value: &str,
) -> fmt::Result {
    let any = 1 + varint_len(value.len() as u64) + value.len();
    let len = 1 + varint_len(key.len() as u64) + key.len() + 1 + varint_len(any as u64) + any;
    w.sized(field, len)?;
    w.string(field::KEY_VALUE_KEY, key)?;
    w.sized(field::KEY_VALUE_VALUE, any)?;
    w.string(field::ANY_VALUE_STRING, value)
}

/// The data kind of an OTLP `Metric`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Gauge,
    Sum { monotonic: bool },
    Histogram,
    Exponential,
    Summary,
}

impl Kind {
    fn field(self) -> u8 {
        use field::metric::{EXPONENTIAL_HISTOGRAM, GAUGE, HISTOGRAM, SUM, SUMMARY};
        match self {
            Self::Gauge => GAUGE,
            Self::Sum { .. } => SUM,
            Self::Histogram => HISTOGRAM,
            Self::Exponential => EXPONENTIAL_HISTOGRAM,
            Self::Summary => SUMMARY,
        }
    }

    /// Whether its points are cumulative (and carry a start time).
    fn cumulative(self) -> bool {
        !matches!(self, Self::Gauge)
    }
}

/// The open `Metric` of a family: its kind and the marks of the `Metric` and of its
/// data message.
#[derive(Clone, Copy)]
struct OpenMetric {
    kind: Kind,
    metric: usize,
    data: usize,
}

/// The encoder of one family's series.
struct Writer<'o, 'c, B: ?Sized> {
    wire: Wire<'o, 'c, B>,
    family: &'o FamilyHead<'o>,
    time: u64,
    start: u64,
    /// Invariant: `Some` while a `Metric` message is open.
    open: Option<OpenMetric>,
    /// The field labels go to: the current point's (or exemplar's) attributes.
    attributes: u8,
}

impl<B: ByteSink + ?Sized> Writer<'_, '_, B> {
    /// Makes sure a `Metric` of `kind` is open: opens one (name, description, unit,
    /// `prometheus.type`) unless it already is.
    fn metric(&mut self, kind: Kind) -> fmt::Result {
        match self.open {
            Some(open) if open.kind == kind => return Ok(()),
            Some(_) => self.close_metric()?,
            None => {}
        }
        self.open = Some(self.open_metric(kind)?);
        Ok(())
    }

    fn open_metric(&mut self, kind: Kind) -> Result<OpenMetric, fmt::Error> {
        use field::metric::{DESCRIPTION, METADATA, NAME, UNIT};
        let family = self.family;
        let w = &mut self.wire;
        let metric = w.open(field::SCOPE_METRICS_METRICS)?;
        let suffix = if family.metric_type == MetricType::Info {
            "_info"
        } else {
            ""
        };
        w.sized(NAME, family.name.len() + suffix.len())?;
        w.put(family.name.as_bytes())?;
        w.put(suffix.as_bytes())?;
        if !family.help.is_empty() {
            w.string(DESCRIPTION, family.help)?;
        }
        if let Some(unit) = family.unit {
            let (numerator, denominator) = ucum(unit);
            w.sized(
                UNIT,
                numerator.len() + denominator.map_or(0, |d| 1 + d.len()),
            )?;
            w.put(numerator.as_bytes())?;
            if let Some(denominator) = denominator {
                w.put(b"/")?;
                w.put(denominator.as_bytes())?;
            }
        }
        let keyword = match family.metric_type {
            MetricType::Counter => "counter",
            MetricType::Gauge => "gauge",
            MetricType::Histogram => "histogram",
            MetricType::Summary => "summary",
            MetricType::Info => "info",
            MetricType::StateSet => "stateset",
            _ => "unknown",
        };
        key_value(w, METADATA, "prometheus.type", keyword)?;
        let data = w.open(kind.field())?;
        Ok(OpenMetric { kind, metric, data })
    }

    /// Closes the open `Metric`, if any: its temporality, then both lengths.
    fn close_metric(&mut self) -> fmt::Result {
        use field::data::{AGGREGATION_TEMPORALITY, IS_MONOTONIC};
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let w = &mut self.wire;
        if open.kind.cumulative() && open.kind != Kind::Summary {
            w.uint(AGGREGATION_TEMPORALITY, CUMULATIVE)?;
        }
        if open.kind == (Kind::Sum { monotonic: true }) {
            w.uint(IS_MONOTONIC, 1)?;
        }
        w.close(open.data)?;
        w.close(open.metric)
    }

    /// Opens a data point of `kind` with its times and labels (into `attributes`), and
    /// `extra` after them; returns its mark. A cumulative point starts when its series
    /// was `created`, if it keeps that.
    fn point(
        &mut self,
        kind: Kind,
        attributes: u8,
        labels: &dyn EncodeLabels,
        extra: Option<(&str, &str)>,
        created: Option<Duration>,
    ) -> Result<usize, fmt::Error> {
        self.metric(kind)?;
        let w = &mut self.wire;
        let mark = w.open(field::data::DATA_POINTS)?;
        if kind.cumulative() {
            let start = created.map_or(self.start, duration_nanos).min(self.time);
            w.fixed64(field::START_TIME, start)?;
        }
        w.fixed64(field::TIME, self.time)?;
        self.attributes = attributes;
        labels.encode(&mut LabelEncoder::new(self))?;
        if let Some((name, value)) = extra {
            self.label(name, value)?;
        }
        Ok(mark)
    }

    /// A `NumberDataPoint` of `kind`.
    fn number(
        &mut self,
        kind: Kind,
        labels: &dyn EncodeLabels,
        extra: Option<(&str, &str)>,
        value: Number,
        exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result {
        use field::number::{AS_DOUBLE, AS_INT, ATTRIBUTES, EXEMPLARS};
        let mark = self.point(kind, ATTRIBUTES, labels, extra, created)?;
        match value {
            Number::Float(value) => self.wire.double(AS_DOUBLE, value)?,
            Number::Signed(n) => self.wire.fixed64(AS_INT, sfixed64(n))?,
            Number::Unsigned(n) => match i64::try_from(n) {
                Ok(n) => self.wire.fixed64(AS_INT, sfixed64(n))?,
                #[allow(clippy::cast_precision_loss)]
                Err(_) => self.wire.double(AS_DOUBLE, n as f64)?,
            },
        }
        if let Some(exemplar) = exemplar {
            self.exemplar(EXEMPLARS, exemplar)?;
        }
        self.wire.close(mark)
    }

    /// An `Exemplar`: `trace_id` and `span_id` as bytes when they are hex of their
    /// length, every other label as a filtered attribute.
    fn exemplar(&mut self, field: u8, exemplar: &Exemplar) -> fmt::Result {
        use field::exemplar::{AS_DOUBLE, FILTERED_ATTRIBUTES, SPAN_ID, TIME, TRACE_ID};
        let w = &mut self.wire;
        let mark = w.open(field)?;
        let mut trace = None;
        let mut span = None;
        for (name, value) in exemplar.labels() {
            let id = match name {
                "trace_id" if trace.is_none() => {
                    trace = hex::<16>(value);
                    trace.is_some()
                }
                "span_id" if span.is_none() => {
                    span = hex::<8>(value);
                    span.is_some()
                }
                _ => false,
            };
            if !id && !value.is_empty() {
                key_value(w, FILTERED_ATTRIBUTES, name, value)?;
            }
        }
        let time = exemplar.timestamp().map_or(self.time, unix_nanos);
        w.fixed64(TIME, time)?;
        w.double(AS_DOUBLE, exemplar.value())?;
        if let Some(span) = span {
            w.bytes(SPAN_ID, &span)?;
        }
        if let Some(trace) = trace {
            w.bytes(TRACE_ID, &trace)?;
        }
        w.close(mark)
    }

    /// A classic histogram's `HistogramDataPoint`: per-bucket counts (the last one past
    /// every bound), the bounds, count, sum and the buckets' exemplars.
    fn explicit(&mut self, labels: &dyn EncodeLabels, histogram: &Buckets<'_>) -> fmt::Result {
        use field::histogram::{ATTRIBUTES, BUCKET_COUNTS, COUNT, EXEMPLARS, EXPLICIT_BOUNDS, SUM};
        let mark = self.point(Kind::Histogram, ATTRIBUTES, labels, None, histogram.created)?;
        let w = &mut self.wire;
        w.fixed64(COUNT, histogram.count)?;
        w.double(SUM, histogram.sum)?;
        // Packed `fixed64`s.
        w.sized(BUCKET_COUNTS, 8 * (histogram.bounds.len() + 1))?;
        let mut below = 0;
        for cumulative in histogram.cumulative {
            // A user's `Collect` may report counts that are not cumulative: never
            // below zero.
            w.put(&cumulative.saturating_sub(below).to_le_bytes())?;
            below = below.max(*cumulative);
        }
        w.put(&histogram.count.saturating_sub(below).to_le_bytes())?;
        if !histogram.bounds.is_empty() {
            w.sized(EXPLICIT_BOUNDS, 8 * histogram.bounds.len())?;
            for bound in histogram.bounds {
                w.put(&bound.to_le_bytes())?;
            }
        }
        let exemplars = histogram.exemplars.iter().filter_map(Option::as_ref);
        for exemplar in exemplars.chain(histogram.inf_exemplar) {
            self.exemplar(EXEMPLARS, exemplar)?;
        }
        self.wire.close(mark)
    }

    /// A native histogram's `ExponentialHistogramDataPoint`.
    fn exponential(
        &mut self,
        labels: &dyn EncodeLabels,
        native: &Native<'_>,
        count: u64,
        sum: f64,
        created: Option<Duration>,
    ) -> fmt::Result {
        use field::exponential::{
            ATTRIBUTES, COUNT, NEGATIVE, POSITIVE, SCALE, SUM, ZERO_COUNT, ZERO_THRESHOLD,
        };
        let mark = self.point(Kind::Exponential, ATTRIBUTES, labels, None, created)?;
        let w = &mut self.wire;
        w.fixed64(COUNT, count)?;
        w.double(SUM, sum)?;
        w.sint(SCALE, i64::from(native.schema))?;
        w.fixed64(ZERO_COUNT, native.zero_count)?;
        w.double(ZERO_THRESHOLD, native.zero_threshold)?;
        self.side(native.buckets, false, POSITIVE)?;
        self.side(native.buckets, true, NEGATIVE)?;
        self.wire.close(mark)
    }

    /// One sign's `Buckets`: the offset (the first populated Prometheus index, less
    /// one) and the counts from there to the last populated bucket, zeros between.
    fn side(&mut self, buckets: &dyn NativeBuckets, negative: bool, field: u8) -> fmt::Result {
        use field::exponential::{BUCKET_COUNTS, OFFSET};
        let mut first = None;
        buckets.each(negative, &mut |index, _| {
            first.get_or_insert(index);
            Ok(())
        })?;
        let Some(first) = first else {
            return Ok(());
        };
        let w = &mut self.wire;
        let mark = w.open(field)?;
        w.sint(OFFSET, i64::from(first) - 1)?;
        let counts = w.open(BUCKET_COUNTS)?;
        let mut next = first;
        buckets.each(negative, &mut |index, count| {
            while next < index {
                w.varint(0)?;
                next += 1;
            }
            next = index + 1;
            w.varint(count)
        })?;
        w.close(counts)?;
        w.close(mark)
    }
}

/// A signed integer as `sfixed64`'s bits: two's complement.
#[inline]
fn sfixed64(n: i64) -> u64 {
    u64::from_le_bytes(n.to_le_bytes())
}

/// A time since the Unix epoch in nanoseconds, saturating (in the year 2554).
fn duration_nanos(since_epoch: Duration) -> u64 {
    u64::try_from(since_epoch.as_nanos()).unwrap_or(u64::MAX)
}

/// Unix seconds (as an exemplar keeps them) in nanoseconds, to the microsecond a
/// double holds of a current time; 0 before 1970.
fn unix_nanos(seconds: f64) -> u64 {
    if seconds.is_nan() || seconds <= 0.0 {
        return 0;
    }
    // Casts of positive values truncate toward zero and saturate, never wrap; `core`
    // has no `round` without `std`, hence the half added.
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let (whole, micros) = {
        let whole = seconds as u64;
        (whole, ((seconds - whole as f64) * 1e6 + 0.5) as u64)
    };
    whole
        .saturating_mul(1_000_000_000)
        .saturating_add(micros * 1_000)
}

/// The `N` bytes `text` spells in hexadecimal (either case), if it is `2·N` hex digits.
fn hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != 2 * N {
        return None;
    }
    let mut bytes = [0; N];
    for (byte, pair) in bytes.iter_mut().zip(digits.chunks_exact(2)) {
        let digit = |d: u8| (d as char).to_digit(16);
        // Two hex digits make a byte.
        #[allow(clippy::cast_possible_truncation)]
        let value = (digit(pair[0])? << 4 | digit(pair[1])?) as u8;
        *byte = value;
    }
    Some(bytes)
}

/// A Prometheus unit in OpenTelemetry's spelling (UCUM case-sensitive codes, as the
/// compatibility specification's "Metric Metadata" asks): `(numerator, denominator)`
/// for `foo_per_bar`, each word abbreviated when the table knows it.
fn ucum(unit: &str) -> (&str, Option<&str>) {
    match unit.split_once("_per_") {
        Some((numerator, denominator)) if !numerator.is_empty() && !denominator.is_empty() => {
            (word(numerator), Some(word(denominator)))
        }
        _ => (word(unit), None),
    }
}

/// One unit word abbreviated: the inverse of the table the OpenTelemetry Collector's
/// Prometheus translator spells units out with (`translator/prometheus`), plus the
/// singulars a `_per_` unit uses.
fn word(unit: &str) -> &str {
    match unit {
        "days" | "day" => "d",
        "hours" | "hour" => "h",
        "minutes" | "minute" => "min",
        "seconds" | "second" => "s",
        "milliseconds" | "millisecond" => "ms",
        "microseconds" | "microsecond" => "us",
        "nanoseconds" | "nanosecond" => "ns",
        "weeks" | "week" => "wk",
        "months" | "month" => "mo",
        "years" | "year" => "y",
        "bytes" | "byte" => "By",
        "kibibytes" => "KiBy",
        "mebibytes" => "MiBy",
        "gibibytes" => "GiBy",
        "tebibytes" => "TiBy",
        "kilobytes" => "KBy",
        "megabytes" => "MBy",
        "gigabytes" => "GBy",
        "terabytes" => "TBy",
        "meters" | "meter" => "m",
        "volts" => "V",
        "amperes" => "A",
        "joules" => "J",
        "watts" => "W",
        "grams" => "g",
        "celsius" => "Cel",
        "hertz" => "Hz",
        "percent" => "%",
        "ratio" => "1",
        other => other,
    }
}

impl<B: ByteSink + ?Sized> LabelSink for Writer<'_, '_, B> {
    fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        if value.is_empty() {
            return Ok(());
        }
        key_value(&mut self.wire, self.attributes, name, value)
    }

    fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        let w = &mut self.wire;
        let pair = w.open(self.attributes)?;
        w.string(field::KEY_VALUE_KEY, name)?;
        let any = w.open(field::KEY_VALUE_VALUE)?;
        let text = w.open(field::ANY_VALUE_STRING)?;
        if write!(w, "{value}").is_err() {
            // The sink's error or the value's own: this format reports either as `Write`.
            return Err(w.fail(EncodeError::Write));
        }
        w.close(text)?;
        w.close(any)?;
        w.close(pair)
    }
}

impl<B: ByteSink + ?Sized> Samples for Writer<'_, '_, B> {
    fn counter(
        &mut self,
        labels: &dyn EncodeLabels,
        value: Number,
        exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result {
        let kind = Kind::Sum { monotonic: true };
        self.number(kind, labels, None, value, exemplar, created)
    }

    fn gauge(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.number(Kind::Gauge, labels, None, value, None, None)
    }

    fn unknown(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.number(Kind::Gauge, labels, None, value, None, None)
    }

    fn histogram(&mut self, labels: &dyn EncodeLabels, histogram: &Buckets<'_>) -> fmt::Result {
        match &histogram.native {
            Some(native) => {
                let (count, sum) = (histogram.count, histogram.sum);
                self.exponential(labels, native, count, sum, histogram.created)
            }
            None => self.explicit(labels, histogram),
        }
    }

    fn summary(&mut self, labels: &dyn EncodeLabels, summary: &Quantiles<'_>) -> fmt::Result {
        use field::summary::{ATTRIBUTES, COUNT, QUANTILE, QUANTILE_VALUES, SUM, VALUE};
        let mark = self.point(Kind::Summary, ATTRIBUTES, labels, None, summary.created)?;
        let w = &mut self.wire;
        w.fixed64(COUNT, summary.count)?;
        w.double(SUM, summary.sum)?;
        for (quantile, value) in summary.quantiles {
            // Two doubles with their tags.
            w.sized(QUANTILE_VALUES, 18)?;
            w.double(QUANTILE, *quantile)?;
            w.double(VALUE, *value)?;
        }
        w.close(mark)
    }

    fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result {
        let kind = Kind::Sum { monotonic: false };
        self.number(kind, labels, None, Number::Signed(1), None, None)
    }

    fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result {
        let family = self.family.name;
        let kind = Kind::Sum { monotonic: false };
        for (state, on) in states {
            let value = Number::Signed(i64::from(*on));
            self.number(kind, labels, Some((family, state)), value, None, None)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_take_opentelemetry_spelling() {
        assert_eq!(ucum("seconds"), ("s", None));
        assert_eq!(ucum("bytes_per_second"), ("By", Some("s")));
        assert_eq!(ucum("ratio"), ("1", None));
        assert_eq!(ucum("requests_per_minute"), ("requests", Some("min")));
        assert_eq!(ucum("widgets"), ("widgets", None));
        assert_eq!(ucum("_per_"), ("_per_", None));
    }

    #[test]
    fn hex_ids_decode_only_at_their_length() {
        assert_eq!(hex::<2>("0aFf"), Some([0x0a, 0xff]));
        assert_eq!(hex::<2>("0aF"), None);
        assert_eq!(hex::<2>("0aFg"), None);
        assert_eq!(hex::<2>("+aFf"), None);
    }

    #[test]
    fn exemplar_times_keep_their_milliseconds() {
        assert_eq!(unix_nanos(1_700_000_000.123), 1_700_000_000_123_000_000);
        assert_eq!(unix_nanos(0.5), 500_000_000);
        assert_eq!(unix_nanos(-1.0), 0);
    }
}
