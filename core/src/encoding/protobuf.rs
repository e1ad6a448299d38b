//! The Prometheus protobuf exposition from the sample model: length-delimited
//! `io.prometheus.client.MetricFamily` messages, as client_golang's
//! `expfmt.FmtProtoDelim` writes them (client_model, `io/prometheus/client/metrics.proto`;
//! the native-histogram fields as in Prometheus' "Native Histograms" specification,
//! section "Exposition formats").
//!
//! Hand-written rather than generated: the messages are few, and a generator's runtime
//! (`prost`, `protobuf`) allocates a message tree per scrape, which the core must not.
//! The encoder writes fields straight into the sink as the metric reports its series,
//! through the wire format the protobuf encoders share (`encoding/wire.rs`).
//!
//! # Length prefixes: back-patching, not a sizing pass
//!
//! Every message (and the top-level `MetricFamily`) is written with its length before
//! it. A sizing pass would need the whole family before its first byte, that is,
//! collecting every series twice, and two collections of a live histogram differ.
//! Instead the encoder writes one placeholder byte where a length goes, writes the
//! message, and fills in the length (`Chunked::fill_length`): in the stack chunk when
//! the message is still there (a series usually is), else in the sink, which must keep
//! what it wrote ([`ByteSink::written_mut`]: a `Vec<u8>`, a `SliceSink`). A length of
//! 128 bytes or more needs more than one varint byte, and the message then moves right
//! by the difference (one `copy_within`, once per family or large series). Messages
//! whose size is known from the values in hand (a counter's, a bucket, a label pair)
//! are written with their length directly.
//!
//! # Mapping
//!
//! | torchlight | `MetricType` | family name |
//! |---|---|---|
//! | counter | `COUNTER` | `<name>_total` |
//! | gauge | `GAUGE` | `<name>` |
//! | histogram (classic buckets, `+Inf` left out as client_golang does) | `HISTOGRAM` | `<name>` |
//! | summary | `SUMMARY` | `<name>` |
//! | info | `GAUGE`, value 1 | `<name>_info` |
//! | state set | `GAUGE`, one series per state labelled `<name>="state"` | `<name>` |
//! | unknown | `UNTYPED` | `<name>` |
//!
//! That is text 0.0.4's mapping, which is also what Prometheus stores for either. A
//! family without series is left out, as client_golang's registry does. A series'
//! created timestamp, when it has one, goes in its message's `created_timestamp`
//! (`Counter` 3, `Summary` 4, `Histogram` 15), as client_golang always writes it.

use core::fmt::{self, Write};
use core::time::Duration;

use super::wire::{Wire, varint_len, zigzag};
use super::{ByteSink, Chunked, EncodeError, FamilyHead};
use crate::collect::MetricType;
use crate::name::{Escaping, escaped, is_label_name, is_metric_name};
use crate::sample::{
    Buckets, EncodeLabels, Encoder, Exemplar, LabelEncoder, LabelSink, Native, NativeBuckets,
    Number, Quantiles, Samples,
};

/// Field numbers of client_model's `metrics.proto`.
mod field {
    pub(super) mod family {
        pub(crate) const NAME: u8 = 1;
        pub(crate) const HELP: u8 = 2;
        pub(crate) const TYPE: u8 = 3;
        pub(crate) const METRIC: u8 = 4;
        pub(crate) const UNIT: u8 = 5;
    }
    pub(super) mod metric {
        pub(crate) const LABEL: u8 = 1;
        pub(crate) const GAUGE: u8 = 2;
        pub(crate) const COUNTER: u8 = 3;
        pub(crate) const SUMMARY: u8 = 4;
        pub(crate) const UNTYPED: u8 = 5;
        pub(crate) const HISTOGRAM: u8 = 7;
    }
    pub(super) mod counter {
        pub(crate) const VALUE: u8 = 1;
        pub(crate) const EXEMPLAR: u8 = 2;
        pub(crate) const CREATED_TIMESTAMP: u8 = 3;
    }
    pub(super) mod summary {
        pub(crate) const CREATED_TIMESTAMP: u8 = 4;
    }
    pub(super) mod histogram {
        pub(crate) const SAMPLE_COUNT: u8 = 1;
        pub(crate) const SAMPLE_SUM: u8 = 2;
        pub(crate) const BUCKET: u8 = 3;
        pub(crate) const SCHEMA: u8 = 5;
        pub(crate) const ZERO_THRESHOLD: u8 = 6;
        pub(crate) const ZERO_COUNT: u8 = 7;
        pub(crate) const NEGATIVE_SPAN: u8 = 9;
        pub(crate) const NEGATIVE_DELTA: u8 = 10;
        pub(crate) const POSITIVE_SPAN: u8 = 12;
        pub(crate) const POSITIVE_DELTA: u8 = 13;
        pub(crate) const CREATED_TIMESTAMP: u8 = 15;
        /// The first field number above 15: its tag takes two bytes.
        pub(crate) const EXEMPLARS: u8 = 16;
    }
}

/// Writes one family as a delimited `MetricFamily`, or nothing when it has no series.
///
/// # Errors
///
/// The sink's error, [`EncodeError::Unsupported`] when the sink cannot rewrite what it
/// holds, or [`EncodeError::Collect`] when `collect` failed on its own.
pub(crate) fn encode_family<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    escaping: Escaping,
    family: &FamilyHead<'_>,
    collect: impl FnOnce(&mut Encoder<'_>) -> fmt::Result,
) -> Result<(), EncodeError> {
    // Refused up front, not when a length first has to be patched in the sink: that
    // would depend on the family's size.
    if !out.rewritable() {
        return Err(EncodeError::Unsupported);
    }
    let mut proto = Proto {
        wire: Wire::new(out),
        family,
        escaping,
        open: None,
    };
    let result = collect(&mut Encoder::new(&mut proto)).and_then(|()| proto.close_family());
    proto.wire.finish(result)
}

/// The encoder of one family's message.
struct Proto<'o, 'c, B: ?Sized> {
    wire: Wire<'o, 'c, B>,
    family: &'o FamilyHead<'o>,
    /// How names outside the legacy grammar are written (no quoting in protobuf).
    escaping: Escaping,
    /// Invariant: `Some(mark)` once the family's message is open (its first series was
    /// reported); `mark` is the position after its length placeholder.
    open: Option<usize>,
}

impl<B: ByteSink + ?Sized> Proto<'_, '_, B> {
    /// The family's head, before its first series.
    fn open_family(&mut self) -> fmt::Result {
        if self.open.is_some() {
            return Ok(());
        }
        let mark = self.wire.open_delimited()?;
        self.open = Some(mark);
        let family = self.family;
        let suffix = family.metric_type.family_suffix();
        if is_metric_name(family.name) {
            let len = family.name.len() + suffix.len();
            self.wire.sized(field::family::NAME, len)?;
            self.wire.put(family.name.as_bytes())?;
        } else {
            let len = escaped(family.name, self.escaping, false).count();
            self.wire.sized(field::family::NAME, len + suffix.len())?;
            self.escaped_name(family.name, false)?;
        }
        self.wire.put(suffix.as_bytes())?;
        self.wire.string(field::family::HELP, family.help)?;
        let metric_type = match family.metric_type {
            MetricType::Counter => 0,
            MetricType::Summary => 2,
            MetricType::Unknown => 3,
            MetricType::Histogram => 4,
            // Gauges, infos and state sets are gauges, as in text 0.0.4.
            _ => 1,
        };
        self.wire.uint(field::family::TYPE, metric_type)
    }

    /// `name` as the scheme writes it (its bytes, without a length).
    #[cold]
    fn escaped_name(&mut self, name: &str, label: bool) -> fmt::Result {
        let mut buf = [0u8; 32];
        let mut len = 0;
        for byte in escaped(name, self.escaping, label) {
            if len == buf.len() {
                self.wire.put(&buf)?;
                len = 0;
            }
            buf[len] = byte;
            len += 1;
        }
        self.wire.put(&buf[..len])
    }

    /// A `LabelPair`'s name field (1), escaped when it is not a legacy label name.
    fn label_name(&mut self, name: &str) -> fmt::Result {
        if self.family.legacy_labels || is_label_name(name) {
            return self.wire.string(1, name);
        }
        let len = escaped(name, self.escaping, true).count();
        self.wire.sized(1, len)?;
        self.escaped_name(name, true)
    }

    /// The family's unit and length, after its last series; nothing without series.
    fn close_family(&mut self) -> fmt::Result {
        let Some(mark) = self.open.take() else {
            return Ok(());
        };
        if let Some(unit) = self.family.unit {
            self.wire.string(field::family::UNIT, unit)?;
        }
        self.wire.close(mark)
    }

    /// One `Metric`: the labels, an extra label (a state set's), then `value`'s fields.
    fn metric(
        &mut self,
        labels: &dyn EncodeLabels,
        extra: Option<(&str, &str)>,
        value: impl FnOnce(&mut Self) -> fmt::Result,
    ) -> fmt::Result {
        self.open_family()?;
        let mark = self.wire.open(field::family::METRIC)?;
        labels.encode(&mut LabelEncoder::new(self))?;
        if let Some((name, value)) = extra {
            self.label(name, value)?;
        }
        value(self)?;
        self.wire.close(mark)
    }

    /// A `Gauge` or `Untyped` message holding only its value.
    fn single(&mut self, field: u8, value: Number) -> fmt::Result {
        // Tag and eight bytes.
        self.wire.sized(field, 9)?;
        self.wire.double(1, as_f64(value))
    }

    /// An `Exemplar` message as field `field`: its labels (1), value (2) and, when it
    /// has one, its timestamp (3, a `google.protobuf.Timestamp`: seconds 1, nanos 2),
    /// as client_golang writes a counter's (`Counter` field 2) and a bucket's (`Bucket`
    /// field 3).
    fn exemplar(&mut self, field: u8, exemplar: &Exemplar) -> fmt::Result {
        let mark = self.wire.open(field)?;
        for (name, value) in exemplar.labels() {
            let pair = self.wire.open(1)?;
            self.wire.string(1, name)?;
            self.wire.string(2, value)?;
            self.wire.close(pair)?;
        }
        self.wire.double(2, exemplar.value())?;
        if let Some(unix) = exemplar.timestamp() {
            // Whole seconds (rounded down, without `f64::floor`, which needs std) and
            // nanoseconds of a Unix time in milliseconds: both fit.
            #[allow(clippy::cast_possible_truncation)]
            let (seconds, nanos) = {
                let mut seconds = unix as i64;
                #[allow(clippy::cast_precision_loss)]
                if seconds as f64 > unix {
                    seconds -= 1;
                }
                #[allow(clippy::cast_precision_loss)]
                let fraction = unix - seconds as f64;
                (
                    seconds,
                    ((fraction * 1e9 + 0.5) as i64).clamp(0, 999_999_999),
                )
            };
            self.timestamp(3, seconds, nanos)?;
        }
        self.wire.close(mark)
    }

    /// A `google.protobuf.Timestamp` message as field `field`: `seconds` (1) and
    /// `nanos` (2), each left out when 0 (proto3 defaults); its length is known, so it
    /// is written in front.
    fn timestamp(&mut self, field: u8, seconds: i64, nanos: i64) -> fmt::Result {
        self.wire.sized(field, timestamp_len(seconds, nanos))?;
        if seconds != 0 {
            self.wire.int(1, seconds)?;
        }
        if nanos != 0 {
            self.wire.int(2, nanos)?;
        }
        Ok(())
    }

    /// A classic `Bucket` with its exemplar (field 3).
    fn bucket_with_exemplar(&mut self, count: u64, bound: f64, exemplar: &Exemplar) -> fmt::Result {
        let mark = self.wire.open(field::histogram::BUCKET)?;
        self.wire.uint(1, count)?;
        self.wire.double(2, bound)?;
        self.exemplar(3, exemplar)?;
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

    /// A native histogram's spans and deltas of one sign, as client_golang's
    /// `makeBuckets` lays them out: a gap of up to two empty buckets is filled with
    /// zero counts rather than starting a new span. Returns whether there were any.
    fn side(
        &mut self,
        buckets: &dyn NativeBuckets,
        negative: bool,
        span_field: u8,
        delta_field: u8,
    ) -> Result<bool, fmt::Error> {
        // Pass 1: the spans, each written when the next one starts.
        let mut span: Option<(i32, u32)> = None;
        let mut next = 0i32;
        buckets.each(negative, &mut |index, _| {
            let gap = index - next;
            next = index + 1;
            match &mut span {
                // At most 2: the cast is exact.
                #[allow(clippy::cast_sign_loss)]
                Some((_, length)) if gap <= 2 => *length += gap as u32 + 1,
                open => {
                    if let Some((offset, length)) = open.replace((gap, 1)) {
                        self.span(span_field, offset, length)?;
                    }
                }
            }
            Ok(())
        })?;
        let Some((offset, length)) = span else {
            return Ok(false);
        };
        self.span(span_field, offset, length)?;
        // Pass 2: the deltas, packed (as proto3 and client_golang write repeated
        // scalars), with the gap fillers of pass 1.
        let mark = self.wire.open(delta_field)?;
        let (mut previous, mut next, mut first) = (0i64, 0i32, true);
        buckets.each(negative, &mut |index, count| {
            // A gap of up to two buckets inside a span (pass 1): zero counts.
            if !first && index - next <= 2 {
                for _ in next..index {
                    self.wire.varint(zigzag(-previous))?;
                    previous = 0;
                }
            }
            first = false;
            next = index + 1;
            // Counts below 2^63: a histogram cannot see more observations.
            #[allow(clippy::cast_possible_wrap)]
            let count = count as i64;
            self.wire.varint(zigzag(count - previous))?;
            previous = count;
            Ok(())
        })?;
        self.wire.close(mark)?;
        Ok(true)
    }

    /// The native part of a `Histogram` message but its exemplars, which go after the
    /// created timestamp (field order, as client_golang writes them).
    fn native(&mut self, native: &Native<'_>) -> fmt::Result {
        use field::histogram::{
            NEGATIVE_DELTA, NEGATIVE_SPAN, POSITIVE_DELTA, POSITIVE_SPAN, SCHEMA, ZERO_COUNT,
            ZERO_THRESHOLD,
        };
        self.wire.sint(SCHEMA, i64::from(native.schema))?;
        self.wire.double(ZERO_THRESHOLD, native.zero_threshold)?;
        self.wire.uint(ZERO_COUNT, native.zero_count)?;
        self.side(native.buckets, true, NEGATIVE_SPAN, NEGATIVE_DELTA)?;
        if !self.side(native.buckets, false, POSITIVE_SPAN, POSITIVE_DELTA)? {
            // A no-op span marks a histogram without positive buckets as native: one
            // without any observation would otherwise read as a classic histogram
            // without buckets (specification, "Exposition formats": "MUST contain a
            // no-op span").
            self.span(POSITIVE_SPAN, 0, 0)?;
        }
        Ok(())
    }
}

/// The length of a `Timestamp` message's body.
fn timestamp_len(seconds: i64, nanos: i64) -> usize {
    // Two's complement, as `int` writes them.
    #[allow(clippy::cast_sign_loss)]
    let field = |n: i64| if n == 0 { 0 } else { 1 + varint_len(n as u64) };
    field(seconds) + field(nanos)
}

/// A series' created timestamp as a `Timestamp` field, assembled in a register to be
/// written with one call (it is on nearly every counter, histogram and summary
/// series); no bytes when the series has none.
struct CreatedField {
    /// Tag, length, `seconds` and `nanos` with their tags: at most 14 bytes.
    bytes: [u8; 16],
    len: usize,
}

impl CreatedField {
    /// `created` as field `field`, whose tag takes one byte. Built in one 128-bit word
    /// and stored once: assembled byte by byte in memory, each series' copy stalled on
    /// reading back those small stores, and the field took as long as the rest of a
    /// counter's message.
    #[inline(always)]
    fn new(field: u8, created: Option<Duration>) -> Self {
        let Some(created) = created else {
            return Self {
                bytes: [0; 16],
                len: 0,
            };
        };
        // `Created` keeps seconds below 2^34; nanoseconds are below 2^30.
        let (seconds, seconds_len) = tagged_varint35(0x08, created.as_secs().min((1 << 35) - 1));
        let (nanos, nanos_len) = tagged_varint35(0x10, u64::from(created.subsec_nanos()));
        let body = seconds_len + nanos_len;
        let word = u128::from((field << 3) | 2)
            | (u128::from(body) << 8)
            | (u128::from(seconds) << 16)
            | (u128::from(nanos) << (16 + 8 * seconds_len));
        Self {
            bytes: word.to_le_bytes(),
            len: 2 + usize::from(body),
        }
    }

    #[inline]
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

/// A field of the one-byte `tag` and the varint of `n` (below 2^35) as little-endian
/// bytes in a word, and its length (two to six bytes); nothing for zero, which
/// `int64`/`int32` fields leave out. The varint: the seven-bit groups spread one to a
/// byte, the continuation bit on every byte but the last.
#[inline]
fn tagged_varint35(tag: u8, n: u64) -> (u64, u8) {
    debug_assert!(n < 1 << 35);
    if n == 0 {
        return (0, 0);
    }
    let (varint, width) = varint35(n);
    (u64::from(tag) | (varint << 8), width + 1)
}

/// The varint of `n` (below 2^35) as little-endian bytes in a word, and its width
/// (one to five bytes).
#[inline]
fn varint35(n: u64) -> (u64, u8) {
    let spread = (n & 0x7f)
        | ((n << 1) & 0x7f00)
        | ((n << 2) & 0x7f_0000)
        | ((n << 3) & 0x7f00_0000)
        | ((n << 4) & 0x7f_0000_0000);
    // 1 to 35 significant bits: 1 to 5 groups of seven.
    #[allow(clippy::cast_possible_truncation)]
    let width = (64 - (n | 1).leading_zeros()).div_ceil(7) as u8;
    let continued = 0x80_8080_8080_u64 & ((1_u64 << (8 * (width - 1))) - 1);
    (spread | continued, width)
}

/// A sample value as the `double` protobuf stores.
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

impl<B: ByteSink + ?Sized> LabelSink for Proto<'_, '_, B> {
    fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        if !self.family.legacy_labels && !is_label_name(name) {
            let pair = self.wire.open(field::metric::LABEL)?;
            self.label_name(name)?;
            self.wire.string(2, value)?;
            return self.wire.close(pair);
        }
        let len = 1
            + varint_len(name.len() as u64)
            + name.len()
            + 1
            + varint_len(value.len() as u64)
            + value.len();
        self.wire.sized(field::metric::LABEL, len)?;
        self.wire.string(1, name)?;
        self.wire.string(2, value)
    }

    fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        let pair = self.wire.open(field::metric::LABEL)?;
        self.label_name(name)?;
        let text = self.wire.open(2)?;
        write!(self.wire, "{value}")?;
        self.wire.close(text)?;
        self.wire.close(pair)
    }
}

impl<B: ByteSink + ?Sized> Samples for Proto<'_, '_, B> {
    fn counter(
        &mut self,
        labels: &dyn EncodeLabels,
        value: Number,
        exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result {
        use field::counter::{CREATED_TIMESTAMP, EXEMPLAR, VALUE};
        let created = CreatedField::new(CREATED_TIMESTAMP, created);
        self.metric(labels, None, |p| match exemplar {
            // Sized in front: a double with its tag, and the timestamp.
            None => {
                p.wire.sized(field::metric::COUNTER, 9 + created.len)?;
                p.wire.double(VALUE, as_f64(value))?;
                p.wire.put(created.as_bytes())
            }
            Some(exemplar) => {
                let mark = p.wire.open(field::metric::COUNTER)?;
                p.wire.double(VALUE, as_f64(value))?;
                p.exemplar(EXEMPLAR, exemplar)?;
                p.wire.put(created.as_bytes())?;
                p.wire.close(mark)
            }
        })
    }

    fn gauge(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.metric(labels, None, |p| p.single(field::metric::GAUGE, value))
    }

    fn unknown(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.metric(labels, None, |p| p.single(field::metric::UNTYPED, value))
    }

    fn histogram(&mut self, labels: &dyn EncodeLabels, histogram: &Buckets<'_>) -> fmt::Result {
        use field::histogram::{BUCKET, CREATED_TIMESTAMP, EXEMPLARS, SAMPLE_COUNT, SAMPLE_SUM};
        self.metric(labels, None, |p| {
            let mark = p.wire.open(field::metric::HISTOGRAM)?;
            p.wire.uint(SAMPLE_COUNT, histogram.count)?;
            p.wire.double(SAMPLE_SUM, histogram.sum)?;
            for (i, (bound, n)) in histogram
                .bounds
                .iter()
                .zip(histogram.cumulative)
                .enumerate()
            {
                match histogram.exemplars.get(i).and_then(Option::as_ref) {
                    None => {
                        p.wire.sized(BUCKET, 1 + varint_len(*n) + 9)?;
                        p.wire.uint(1, *n)?;
                        p.wire.double(2, *bound)?;
                    }
                    Some(exemplar) => p.bucket_with_exemplar(*n, *bound, exemplar)?,
                }
            }
            // client_golang leaves the `+Inf` bucket out (it is `sample_count`) unless
            // it has an exemplar to carry.
            if let Some(exemplar) = histogram.inf_exemplar {
                p.bucket_with_exemplar(histogram.count, f64::INFINITY, exemplar)?;
            }
            if let Some(native) = &histogram.native {
                p.native(native)?;
            }
            p.wire
                .put(CreatedField::new(CREATED_TIMESTAMP, histogram.created).as_bytes())?;
            if let Some(native) = &histogram.native {
                // Last: field 16, as client_golang writes them since 1.23.
                for exemplar in native.exemplars.iter().flatten() {
                    p.exemplar(EXEMPLARS, exemplar)?;
                }
            }
            p.wire.close(mark)
        })
    }

    fn summary(&mut self, labels: &dyn EncodeLabels, summary: &Quantiles<'_>) -> fmt::Result {
        let created = CreatedField::new(field::summary::CREATED_TIMESTAMP, summary.created);
        self.metric(labels, None, |p| {
            let len =
                1 + varint_len(summary.count) + 9 + summary.quantiles.len() * 20 + created.len;
            p.wire.sized(field::metric::SUMMARY, len)?;
            p.wire.uint(1, summary.count)?;
            p.wire.double(2, summary.sum)?;
            for (quantile, value) in summary.quantiles {
                // Two doubles with their tags.
                p.wire.sized(3, 18)?;
                p.wire.double(1, *quantile)?;
                p.wire.double(2, *value)?;
            }
            p.wire.put(created.as_bytes())
        })
    }

    fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result {
        self.metric(labels, None, |p| {
            p.single(field::metric::GAUGE, Number::Float(1.0))
        })
    }

    fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result {
        let family = self.family.name;
        for (state, on) in states {
            let value = Number::Float(if *on { 1.0 } else { 0.0 });
            self.metric(labels, Some((family, state)), |p| {
                p.single(field::metric::GAUGE, value)
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encoding::wire;

    #[test]
    fn varint35_writes_what_the_wire_varint_writes() {
        let powers = (0..35).map(|bit| 1_u64 << bit);
        let below = (1..36).map(|bit| (1_u64 << bit) - 1);
        // Zero, seconds in 2025, nanoseconds.
        let others = [0, 1_765_150_000, 999_999_999];
        for n in powers.chain(below).chain(others) {
            let mut expected = [0u8; 10];
            let width = wire::varint(&mut expected, n);
            let (word, got) = varint35(n);
            assert_eq!(usize::from(got), width, "{n}");
            assert_eq!(&word.to_le_bytes()[..width], &expected[..width], "{n}");
            assert!(
                word >> (8 * width) == 0 || width == 8,
                "{n}: bytes past the varint"
            );
        }
    }

    #[test]
    fn a_created_field_is_a_timestamp_message() {
        let field = CreatedField::new(3, Some(Duration::new(1_700_000_000, 5)));
        // Tag 3/LEN, length 8, seconds (tag 1, five bytes), nanos (tag 2, one byte).
        assert_eq!(
            field.as_bytes(),
            &[0x1a, 8, 0x08, 0x80, 0xe2, 0xcf, 0xaa, 0x06, 0x10, 0x05]
        );
        assert_eq!(
            CreatedField::new(3, Some(Duration::ZERO)).as_bytes(),
            &[0x1a, 0]
        );
        assert!(CreatedField::new(3, None).as_bytes().is_empty());
    }
}
