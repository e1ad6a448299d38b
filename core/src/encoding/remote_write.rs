//! Prometheus remote write 1.0 from the sample model: a `prometheus.WriteRequest`
//! (prometheus/prometheus `prompb/remote.proto` and `prompb/types.proto`; the
//! "Prometheus Remote-Write Specification" on prometheus.io), written into a
//! [`ByteSink`] without allocating, then compressed with snappy's block format
//! (`encoding/snappy.rs`) by [`Registry::encode_remote_write`](crate::Registry::encode_remote_write).
//!
//! # What a push holds
//!
//! Every series as a scrape of the registry would store it, each with one sample at the
//! push's timestamp (milliseconds since the epoch):
//!
//! | torchlight | series (`__name__`) |
//! |---|---|
//! | counter | `<name>_total`, with its exemplar |
//! | gauge, unknown | `<name>` |
//! | histogram | `<name>_bucket{le}` (with `+Inf`, each with its exemplar), `<name>_sum`, `<name>_count` |
//! | native histogram | as a histogram, or with [`RemoteWrite::with_native_histograms`] one `<name>` series whose `Histogram` carries the exponential buckets |
//! | summary | `<name>{quantile}`, `<name>_sum`, `<name>_count` |
//! | info | `<name>_info`, value 1 |
//! | state set | `<name>{<name>="state"}`, 1 or 0 |
//!
//! `le` and `quantile` values are written as OpenMetrics writes them (`1.0`, `+Inf`),
//! the form Prometheus 3 normalises them to. Each family is described by a
//! `MetricMetadata` (type, family name, help, unit) before its series, named and typed
//! as an OpenMetrics scrape reports it (`COUNTER` `foo` for a counter `foo_total`,
//! `INFO`, `STATESET`).
//!
//! # Labels: sorted in place
//!
//! The specification wants each series' labels sorted by name, `__name__` among them,
//! without duplicates or empty values. A metric reports its labels in its own order, so
//! each `Label` message is written where it arrives and then moved to its place among
//! the series' labels already written (an insertion sort on the encoded messages, in
//! the chunk or in the sink, which must keep what it wrote like the protobuf format's:
//! [`ByteSink::written_mut`]). A series has a handful of labels, and they usually
//! arrive in order: most insertions compare one name and move nothing. External labels
//! go in the same way, unless the series has a label of that name (the series' wins,
//! as in Prometheus). A label with an empty value is left out (Prometheus treats it as
//! absent).

use core::fmt::{self, Write};

use super::float::{StackBuf, write_f64};
use super::wire::{Wire, varint_len, zigzag};
use super::{ByteSink, Chunked, EncodeError, FamilyHead};
use crate::collect::MetricType;
use crate::name::is_label_name;
use crate::sample::{
    Buckets, EncodeLabels, Encoder, Exemplar, LabelEncoder, LabelSink, Native, NativeBuckets,
    Number, Quantiles, Samples,
};

/// Field numbers of `prompb`'s `remote.proto` and `types.proto`.
mod field {
    pub(super) mod request {
        pub(crate) const TIMESERIES: u8 = 1;
        pub(crate) const METADATA: u8 = 3;
    }
    pub(super) mod series {
        pub(crate) const LABELS: u8 = 1;
        pub(crate) const SAMPLES: u8 = 2;
        pub(crate) const EXEMPLARS: u8 = 3;
        pub(crate) const HISTOGRAMS: u8 = 4;
    }
    pub(super) mod metadata {
        pub(crate) const TYPE: u8 = 1;
        pub(crate) const FAMILY_NAME: u8 = 2;
        pub(crate) const HELP: u8 = 4;
        pub(crate) const UNIT: u8 = 5;
    }
    pub(super) mod histogram {
        pub(crate) const COUNT_INT: u8 = 1;
        pub(crate) const SUM: u8 = 3;
        pub(crate) const SCHEMA: u8 = 4;
        pub(crate) const ZERO_THRESHOLD: u8 = 5;
        pub(crate) const ZERO_COUNT_INT: u8 = 6;
        pub(crate) const NEGATIVE_SPANS: u8 = 8;
        pub(crate) const NEGATIVE_DELTAS: u8 = 9;
        pub(crate) const POSITIVE_SPANS: u8 = 11;
        pub(crate) const POSITIVE_DELTAS: u8 = 12;
        pub(crate) const TIMESTAMP: u8 = 15;
    }
}

/// The settings of one remote-write request: its timestamp, the external labels added
/// to every series, and what else it carries.
///
/// ```
/// use torchlight::{Counter, Metric, Registry, RemoteWrite};
///
/// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
/// let registry = Registry::new();
/// registry.register(&JOBS)?;
///
/// let request = RemoteWrite::new(1_700_000_000_000).with_external_labels(&[("region", "eu")])?;
/// let mut scratch = [0u8; 256];
/// let mut body = [0u8; 256];
/// let mut sink = torchlight::SliceSink::new(&mut body);
/// registry.encode_remote_write(&mut scratch, &mut sink, &request)?;
/// assert!(!sink.is_empty());
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct RemoteWrite<'a> {
    timestamp_ms: i64,
    external_labels: &'a [(&'a str, &'a str)],
    metadata: bool,
    native_histograms: bool,
}

impl<'a> RemoteWrite<'a> {
    /// A request whose samples are stamped `timestamp_ms` (milliseconds since the Unix
    /// epoch), with metadata, without external labels, native histograms as classic
    /// ones.
    #[must_use]
    pub const fn new(timestamp_ms: i64) -> Self {
        Self {
            timestamp_ms,
            external_labels: &[],
            metadata: true,
            native_histograms: false,
        }
    }

    /// Labels added to every series that has no label of that name (Prometheus'
    /// `external_labels`: which process, region or replica the samples come from).
    ///
    /// # Errors
    ///
    /// When a name is not a label name (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with
    /// `__`), a value is empty, or a name is given twice.
    pub fn with_external_labels(
        mut self,
        labels: &'a [(&'a str, &'a str)],
    ) -> Result<Self, ExternalLabelError<'a>> {
        for (i, (name, value)) in labels.iter().enumerate() {
            if !is_label_name(name)
                || value.is_empty()
                || labels[..i].iter().any(|(other, _)| other == name)
            {
                return Err(ExternalLabelError { name });
            }
        }
        self.external_labels = labels;
        Ok(self)
    }

    /// Whether each family's `MetricMetadata` (type, help, unit) goes with its series
    /// (default: yes).
    #[must_use]
    pub const fn with_metadata(mut self, metadata: bool) -> Self {
        self.metadata = metadata;
        self
    }

    /// Whether a native histogram goes as the protobuf's `Histogram` (exponential
    /// buckets, for receivers with native histograms enabled: Prometheus
    /// `--enable-feature=native-histograms`) instead of its classic buckets (the
    /// default, which every receiver stores).
    #[must_use]
    pub const fn with_native_histograms(mut self, native: bool) -> Self {
        self.native_histograms = native;
        self
    }

    /// The samples' timestamp, in milliseconds since the Unix epoch.
    #[must_use]
    pub const fn timestamp_ms(&self) -> i64 {
        self.timestamp_ms
    }

    /// The external labels.
    #[must_use]
    pub const fn external_labels(&self) -> &'a [(&'a str, &'a str)] {
        self.external_labels
    }

    /// The `Content-Type`, `Content-Encoding` and `X-Prometheus-Remote-Write-Version`
    /// headers a remote-write body goes with (specification, "Protocol").
    pub const HEADERS: [(&'static str, &'static str); 3] = [
        ("content-type", "application/x-protobuf"),
        ("content-encoding", "snappy"),
        ("x-prometheus-remote-write-version", "0.1.0"),
    ];
}

/// An external label that no receiver would accept: its name is not a label name
/// (`[a-zA-Z_][a-zA-Z0-9_]*`, not starting with `__`), its value is empty, or it is
/// given twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExternalLabelError<'a> {
    /// The label's name.
    pub name: &'a str,
}

impl fmt::Display for ExternalLabelError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "external label {:?} is invalid: use a label name ([a-zA-Z_][a-zA-Z0-9_]*, not \
             starting with \"__\") with a non-empty value, once",
            self.name
        )
    }
}

impl core::error::Error for ExternalLabelError<'_> {}

/// Writes one family: its metadata (if asked), then its series.
///
/// # Errors
///
/// The sink's error, [`EncodeError::Unsupported`] when the sink cannot rewrite what it
/// holds, or [`EncodeError::Collect`] when `collect` failed on its own.
pub(crate) fn encode_family<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    family: &FamilyHead<'_>,
    request: &RemoteWrite<'_>,
    collect: impl FnOnce(&mut Encoder<'_>) -> fmt::Result,
) -> Result<(), EncodeError> {
    if !out.rewritable() {
        return Err(EncodeError::Unsupported);
    }
    let mut writer = Writer {
        wire: Wire::new(out),
        family,
        request,
        labels_start: 0,
    };
    let result = writer
        .metadata()
        .and_then(|()| collect(&mut Encoder::new(&mut writer)));
    writer.wire.finish(result)
}

/// A sample of one series: a float, or a native histogram.
enum Value<'a> {
    Float(f64),
    Native(&'a Native<'a>, u64, f64),
}

/// The encoder of one family's series.
struct Writer<'o, 'c, B: ?Sized> {
    wire: Wire<'o, 'c, B>,
    family: &'o FamilyHead<'o>,
    request: &'o RemoteWrite<'o>,
    /// The position of the current series' first `Label` message.
    labels_start: usize,
}

impl<B: ByteSink + ?Sized> Writer<'_, '_, B> {
    /// The family's `MetricMetadata`, named and typed as OpenMetrics reports it.
    fn metadata(&mut self) -> fmt::Result {
        use field::metadata::{FAMILY_NAME, HELP, TYPE, UNIT};
        if !self.request.metadata {
            return Ok(());
        }
        let family = self.family;
        let metric_type = match family.metric_type {
            MetricType::Counter => 1,
            MetricType::Gauge => 2,
            MetricType::Histogram => 3,
            MetricType::Summary => 5,
            MetricType::Info => 6,
            MetricType::StateSet => 7,
            // `UNKNOWN`, and any type added later.
            _ => 0,
        };
        let mark = self.wire.open(field::request::METADATA)?;
        self.wire.uint(TYPE, metric_type)?;
        self.wire.string(FAMILY_NAME, family.name)?;
        if !family.help.is_empty() {
            self.wire.string(HELP, family.help)?;
        }
        if let Some(unit) = family.unit {
            self.wire.string(UNIT, unit)?;
        }
        self.wire.close(mark)
    }

    /// One `TimeSeries`: `__name__` (the family name and `suffix`), the metric's labels,
    /// `extra` (`le`, `quantile`, a state set's), the external labels, all sorted; then
    /// the value at the request's timestamp and the exemplar.
    fn series(
        &mut self,
        suffix: &str,
        labels: &dyn EncodeLabels,
        extra: Option<(&str, &str)>,
        value: Value<'_>,
        exemplar: Option<&Exemplar>,
    ) -> fmt::Result {
        let mark = self.wire.open(field::request::TIMESERIES)?;
        self.labels_start = self.wire.out.position();
        let name = self.family.name;
        self.label_parts("__name__", name, suffix)?;
        labels.encode(&mut LabelEncoder::new(self))?;
        if let Some((name, value)) = extra {
            self.label(name, value)?;
        }
        let request = self.request;
        for (name, value) in request.external_labels {
            if !self.has_label(name)? {
                self.label(name, value)?;
            }
        }
        let timestamp = request.timestamp_ms;
        match value {
            Value::Float(value) => {
                #[allow(clippy::cast_sign_loss)]
                let stamp = varint_len(timestamp as u64);
                // A double with its tag, the timestamp with its tag.
                self.wire.sized(field::series::SAMPLES, 9 + 1 + stamp)?;
                self.wire.double(1, value)?;
                self.wire.int(2, timestamp)?;
            }
            Value::Native(native, count, sum) => self.histogram(native, count, sum)?,
        }
        if let Some(exemplar) = exemplar {
            self.exemplar(exemplar)?;
        }
        self.wire.close(mark)
    }

    /// A `Label` whose value is `value` and `suffix`, moved to its place by name.
    fn label_parts(&mut self, name: &str, value: &str, suffix: &str) -> fmt::Result {
        let value_len = value.len() + suffix.len();
        if value_len == 0 {
            return Ok(());
        }
        let start = self.wire.out.position();
        let len = 1
            + varint_len(name.len() as u64)
            + name.len()
            + 1
            + varint_len(value_len as u64)
            + value_len;
        self.wire.sized(field::series::LABELS, len)?;
        self.wire.string(1, name)?;
        self.wire.sized(2, value_len)?;
        self.wire.put(value.as_bytes())?;
        self.wire.put(suffix.as_bytes())?;
        self.place(start)
    }

    /// Moves the `Label` written at `start` (the last one) to its place among the
    /// series' labels, sorted by name.
    fn place(&mut self, start: usize) -> fmt::Result {
        let labels_start = self.labels_start;
        if start == labels_start {
            return Ok(());
        }
        match self.wire.out.since_mut(labels_start) {
            Ok(region) => {
                sort_last(region, start - labels_start);
                Ok(())
            }
            Err(error) => Err(self.wire.fail(error)),
        }
    }

    /// Whether the current series has a label called `name`.
    fn has_label(&mut self, name: &str) -> Result<bool, fmt::Error> {
        match self.wire.out.since_mut(self.labels_start) {
            Ok(region) => Ok(labels(region).any(|label| label_name(label) == name.as_bytes())),
            Err(error) => Err(self.wire.fail(error)),
        }
    }

    /// A native histogram's `Histogram` message, at the request's timestamp.
    fn histogram(&mut self, native: &Native<'_>, count: u64, sum: f64) -> fmt::Result {
        use field::histogram::{
            COUNT_INT, NEGATIVE_DELTAS, NEGATIVE_SPANS, POSITIVE_DELTAS, POSITIVE_SPANS, SCHEMA,
            SUM, TIMESTAMP, ZERO_COUNT_INT, ZERO_THRESHOLD,
        };
        let mark = self.wire.open(field::series::HISTOGRAMS)?;
        self.wire.uint(COUNT_INT, count)?;
        self.wire.double(SUM, sum)?;
        self.wire.sint(SCHEMA, i64::from(native.schema))?;
        self.wire.double(ZERO_THRESHOLD, native.zero_threshold)?;
        self.wire.uint(ZERO_COUNT_INT, native.zero_count)?;
        self.side(native.buckets, true, NEGATIVE_SPANS, NEGATIVE_DELTAS)?;
        self.side(native.buckets, false, POSITIVE_SPANS, POSITIVE_DELTAS)?;
        self.wire.int(TIMESTAMP, self.request.timestamp_ms)?;
        self.wire.close(mark)
    }

    /// One `BucketSpan` message.
    fn span(&mut self, field: u8, offset: i32, length: u32) -> fmt::Result {
        let offset = zigzag(i64::from(offset));
        let length = u64::from(length);
        let len = 1 + varint_len(offset) + 1 + varint_len(length);
        self.wire.sized(field, len)?;
        self.wire.uint(1, offset)?;
        self.wire.uint(2, length)
    }

    /// A native histogram's spans and deltas of one sign: a span per run of populated
    /// buckets (the client-side layout of the exposition's, whose gap filling is an
    /// optimisation the receiver does not need), then the packed count deltas.
    fn side(
        &mut self,
        buckets: &dyn NativeBuckets,
        negative: bool,
        span_field: u8,
        delta_field: u8,
    ) -> fmt::Result {
        let mut span: Option<(i32, u32)> = None;
        let mut next = 0i32;
        buckets.each(negative, &mut |index, _| {
            let gap = index - next;
            next = index + 1;
            match &mut span {
                Some((_, length)) if gap == 0 => *length += 1,
                open => {
                    if let Some((offset, length)) = open.replace((gap, 1)) {
                        self.span(span_field, offset, length)?;
                    }
                }
            }
            Ok(())
        })?;
        let Some((offset, length)) = span else {
            return Ok(());
        };
        self.span(span_field, offset, length)?;
        let mark = self.wire.open(delta_field)?;
        let mut previous = 0i64;
        buckets.each(negative, &mut |_, count| {
            // Counts below 2^63: a histogram cannot see more observations.
            #[allow(clippy::cast_possible_wrap)]
            let count = count as i64;
            self.wire.varint(zigzag(count - previous))?;
            previous = count;
            Ok(())
        })?;
        self.wire.close(mark)
    }

    /// An `Exemplar` (labels, value, timestamp in milliseconds: the exemplar's own, or
    /// the request's when it has none).
    fn exemplar(&mut self, exemplar: &Exemplar) -> fmt::Result {
        let mark = self.wire.open(field::series::EXEMPLARS)?;
        for (name, value) in exemplar.labels() {
            let pair = self.wire.open(1)?;
            self.wire.string(1, name)?;
            self.wire.string(2, value)?;
            self.wire.close(pair)?;
        }
        self.wire.double(2, exemplar.value())?;
        // Milliseconds of a Unix time in seconds: the cast saturates, never wraps.
        #[allow(clippy::cast_possible_truncation)]
        let timestamp = exemplar
            .timestamp()
            .map_or(self.request.timestamp_ms, |unix| (unix * 1e3 + 0.5) as i64);
        self.wire.int(3, timestamp)?;
        self.wire.close(mark)
    }

    /// `value` formatted as OpenMetrics writes an `le` or `quantile`.
    fn float_label(
        &mut self,
        suffix: &str,
        labels: &dyn EncodeLabels,
        name: &str,
        bound: f64,
        value: f64,
        exemplar: Option<&Exemplar>,
    ) -> fmt::Result {
        let mut text = StackBuf::new();
        write_f64(&mut text, bound, true)?;
        let text = core::str::from_utf8(text.as_bytes()).map_err(|_| fmt::Error)?;
        self.series(
            suffix,
            labels,
            Some((name, text)),
            Value::Float(value),
            exemplar,
        )
    }
}

/// Moves the last `Label` of `region` (which starts at `last`) before the first one
/// whose name is greater: one step of an insertion sort.
fn sort_last(region: &mut [u8], last: usize) {
    let new_len = region.len() - last;
    let mut at = 0;
    while at < last {
        let len = label_len(&region[at..]);
        if label_name(&region[at..]) > label_name(&region[last..]) {
            region[at..].rotate_right(new_len);
            return;
        }
        at += len;
    }
}

/// The `Label` messages (tag and length included) in `region`.
fn labels(region: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = region;
    core::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let (label, after) = rest.split_at(label_len(rest));
        rest = after;
        Some(label)
    })
}

/// The name inside the `Label` message (tag, length, `name`, `value`) at `bytes`' start.
fn label_name(bytes: &[u8]) -> &[u8] {
    let (_, at) = read_varint(bytes, 1);
    // `at` is past the message length; the name's tag, then its length.
    let (len, start) = read_varint(bytes, at + 1);
    #[allow(clippy::cast_possible_truncation)]
    &bytes[start..start + len as usize]
}

/// The whole length of the `Label` message at `bytes`' start, its tag and length included.
fn label_len(bytes: &[u8]) -> usize {
    let (len, at) = read_varint(bytes, 1);
    #[allow(clippy::cast_possible_truncation)]
    let len = len as usize;
    at + len
}

/// The varint at `at`, and the position after it.
fn read_varint(bytes: &[u8], mut at: usize) -> (u64, usize) {
    let mut n = 0u64;
    let mut shift = 0;
    loop {
        let byte = bytes[at];
        at += 1;
        n |= u64::from(byte & 0x7f) << shift;
        if byte < 0x80 {
            return (n, at);
        }
        shift += 7;
    }
}

impl<B: ByteSink + ?Sized> LabelSink for Writer<'_, '_, B> {
    fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        self.label_parts(name, value, "")
    }

    fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        let start = self.wire.out.position();
        let pair = self.wire.open(field::series::LABELS)?;
        self.wire.string(1, name)?;
        let text = self.wire.open(2)?;
        write!(self.wire, "{value}")?;
        self.wire.close(text)?;
        self.wire.close(pair)?;
        self.place(start)
    }
}

/// A sample value as a double.
#[inline]
fn as_f64(value: Number) -> f64 {
    // Counts beyond 2^53 round, as in every Prometheus exposition.
    #[allow(clippy::cast_precision_loss)]
    match value {
        Number::Float(value) => value,
        Number::Unsigned(n) => n as f64,
        Number::Signed(n) => n as f64,
    }
}

impl<B: ByteSink + ?Sized> Samples for Writer<'_, '_, B> {
    fn counter(
        &mut self,
        labels: &dyn EncodeLabels,
        value: Number,
        exemplar: Option<&Exemplar>,
        // Remote write 1.0 has no field for it.
        _created: Option<core::time::Duration>,
    ) -> fmt::Result {
        self.series(
            "_total",
            labels,
            None,
            Value::Float(as_f64(value)),
            exemplar,
        )
    }

    fn gauge(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.series("", labels, None, Value::Float(as_f64(value)), None)
    }

    fn unknown(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.series("", labels, None, Value::Float(as_f64(value)), None)
    }

    #[allow(clippy::cast_precision_loss)]
    fn histogram(&mut self, labels: &dyn EncodeLabels, histogram: &Buckets<'_>) -> fmt::Result {
        if let (true, Some(native)) = (self.request.native_histograms, &histogram.native) {
            let value = Value::Native(native, histogram.count, histogram.sum);
            return self.series("", labels, None, value, None);
        }
        for (i, (bound, n)) in histogram
            .bounds
            .iter()
            .zip(histogram.cumulative)
            .enumerate()
        {
            let exemplar = histogram.exemplars.get(i).and_then(Option::as_ref);
            self.float_label("_bucket", labels, "le", *bound, *n as f64, exemplar)?;
        }
        let count = histogram.count as f64;
        let inf = histogram.inf_exemplar;
        self.float_label("_bucket", labels, "le", f64::INFINITY, count, inf)?;
        self.series("_sum", labels, None, Value::Float(histogram.sum), None)?;
        self.series("_count", labels, None, Value::Float(count), None)
    }

    #[allow(clippy::cast_precision_loss)]
    fn summary(&mut self, labels: &dyn EncodeLabels, summary: &Quantiles<'_>) -> fmt::Result {
        for (quantile, value) in summary.quantiles {
            self.float_label("", labels, "quantile", *quantile, *value, None)?;
        }
        self.series("_sum", labels, None, Value::Float(summary.sum), None)?;
        let count = summary.count as f64;
        self.series("_count", labels, None, Value::Float(count), None)
    }

    fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result {
        self.series("_info", labels, None, Value::Float(1.0), None)
    }

    fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result {
        let family = self.family.name;
        for (state, on) in states {
            let value = Value::Float(if *on { 1.0 } else { 0.0 });
            self.series("", labels, Some((family, state)), value, None)?;
        }
        Ok(())
    }
}
