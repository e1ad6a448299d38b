//! The sample model: how a metric reports its family's series, independent of the
//! format they end up in.
//!
//! A [`Collect`](crate::collect::Collect) implementation is handed an [`Encoder`] and
//! reports each series to it as *what it is*, not as text: a counter value, a gauge
//! value, a histogram's bounds and cumulative counts, a summary's count and sum, an
//! info's labels, a state set's states, each with the labels that identify the series
//! (an [`EncodeLabels`], which reports `(name, value)` pairs to a [`LabelEncoder`]). The
//! family itself (name, help, unit, [`MetricType`](crate::collect::MetricType)) is reported by the registry before
//! the series, so a metric cannot get it wrong.
//!
//! # Shape: a visitor behind one dynamic call per series
//!
//! `Encoder` is a thin handle on a crate-private visitor trait (`Samples`) that each
//! exposition format implements: the text encoder of `encoding/text.rs` (Prometheus
//! text 0.0.4 and OpenMetrics 1.0) and the protobuf encoder of `encoding/protobuf.rs`
//! (delimited `MetricFamily` messages), each writing into a byte buffer. The choice,
//! over the alternatives:
//!
//! - a *generic* encoder (`fn encode<E: Encode>(&self, e: &mut E)`) would make
//!   [`Collect`](crate::collect::Collect) impossible to use as a trait object, and the
//!   registry holds `&dyn Collect`;
//! - a *sample enum* handed to a sink is the same visitor with a `match` instead of a
//!   vtable, and forces every sample into one size;
//! - the visitor crosses one dynamic call per series (and one per label pair) and
//!   nothing per byte: each format writes the whole series with static calls into a
//!   concrete buffer. That per-byte `dyn fmt::Write` was what made the previous
//!   encoder slow.
//!
//! The visitor is crate-private and `Encoder` forwards to it, so formats and samples can
//! be added without breaking a user's `Collect`. Exemplars came that way: a counter's
//! and a histogram's buckets' ride with their series (`Encoder::counter_with_exemplar`,
//! `Encoder::histogram_with_exemplars`), and a format without them (text 0.0.4) leaves
//! them out. An exemplar is a value of the sample model ([`Exemplar`], in
//! `sample/exemplar.rs`), so the formats write it without naming the metrics that keep
//! one.
//! A native histogram reports itself as a classic histogram series whose `Buckets` also
//! carry a `Native` part (schema, zero bucket, its populated buckets through
//! `NativeBuckets`, and the exemplars of the histogram as a whole): protobuf writes
//! both, the text formats the classic buckets (and their exemplars) only.
//! Errors are `fmt::Error`, as in
//! [`core::fmt::Write`]: a stop signal; the format that stopped keeps the reason (a
//! full buffer) and the registry reports it as an
//! [`EncodeError`](crate::encoding::EncodeError).

pub(crate) mod exemplar;

use core::fmt;
use core::time::Duration;

pub use exemplar::{Exemplar, ExemplarError, ExemplarLabels};

/// What every exposition format implements to receive a family's series: the visitor
/// behind [`Encoder`]. Each method reports one whole series.
pub(crate) trait Samples {
    /// A counter's `_total`, with the exemplar OpenMetrics writes after it, and its
    /// created timestamp (since the Unix epoch) if it keeps one.
    fn counter(
        &mut self,
        labels: &dyn EncodeLabels,
        value: Number,
        exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result;
    fn gauge(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result;
    fn unknown(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result;
    fn histogram(&mut self, labels: &dyn EncodeLabels, histogram: &Buckets<'_>) -> fmt::Result;
    fn summary(&mut self, labels: &dyn EncodeLabels, summary: &Quantiles<'_>) -> fmt::Result;
    fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result;
    fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result;
}

/// A sample value as the metric holds it: integer metrics report integers, so a format
/// that writes them as floats (text 0.0.4, OpenMetrics) can take the digits as they
/// are, and one that stores doubles (protobuf) converts once.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Number {
    Float(f64),
    Unsigned(u64),
    Signed(i64),
}

/// A classic histogram series, as reported to [`Samples::histogram`].
pub(crate) struct Buckets<'a> {
    /// Finite upper bounds, increasing.
    pub(crate) bounds: &'a [f64],
    /// `cumulative[i]` counts observations `<= bounds[i]`; same length as `bounds`.
    pub(crate) cumulative: &'a [u64],
    /// Every observation: the `+Inf` bucket and `_count`.
    pub(crate) count: u64,
    pub(crate) sum: f64,
    /// `exemplars[i]` belongs to the bucket `le=bounds[i]`; empty when the histogram
    /// keeps none.
    pub(crate) exemplars: &'a [Option<Exemplar>],
    /// The `+Inf` bucket's exemplar.
    pub(crate) inf_exemplar: Option<&'a Exemplar>,
    /// The exponential buckets of a native histogram, which only the protobuf format
    /// carries; text formats write the classic buckets above (client_golang's combined
    /// form).
    pub(crate) native: Option<Native<'a>>,
    /// When the histogram started counting (since the Unix epoch), if it keeps that.
    pub(crate) created: Option<Duration>,
}

/// A native histogram's exponential buckets (Prometheus' "Native Histograms"
/// specification, "Data model").
pub(crate) struct Native<'a> {
    /// Bucket `i` holds `(2^((i-1)·2^-schema), 2^(i·2^-schema)]`; −4 to 8.
    pub(crate) schema: i8,
    /// Observations with `|v| <= zero_threshold` count in the zero bucket.
    pub(crate) zero_threshold: f64,
    pub(crate) zero_count: u64,
    pub(crate) buckets: &'a dyn NativeBuckets,
    /// Exemplars of the native histogram as a whole (client_model's
    /// `Histogram.exemplars`), which only protobuf carries; empty when it keeps none.
    /// The text formats write the classic buckets' exemplars of [`Buckets`] instead.
    pub(crate) exemplars: &'a [Option<Exemplar>],
}

/// The populated buckets of a native histogram, reported by sign: a format walks them
/// as often as it needs (protobuf: once for the spans, once for the deltas), so the
/// metric needs no buffer in the shape of one format.
pub(crate) trait NativeBuckets {
    /// Reports each populated bucket of `negative` observations (or of positive ones)
    /// as `(index, count)`, by increasing index; stops at the first error.
    fn each(&self, negative: bool, f: &mut dyn FnMut(i32, u64) -> fmt::Result) -> fmt::Result;
}

/// A summary series, as reported to [`Samples::summary`].
pub(crate) struct Quantiles<'a> {
    /// `(quantile, value)` pairs.
    pub(crate) quantiles: &'a [(f64, f64)],
    pub(crate) count: u64,
    pub(crate) sum: f64,
    /// When the summary started counting (since the Unix epoch), if it keeps that.
    pub(crate) created: Option<Duration>,
}

/// Receives the series of one metric family, whatever the exposition format.
///
/// Handed to [`Collect::encode`](crate::Collect::encode) after the family's name, help,
/// unit and type have been reported. Each method reports one whole series with the
/// labels that identify it; an `Err` stops the exposition (return it as it is).
///
/// ```
/// use torchlight::{Collect, Encoder, Format, Metric, MetricType, Registry, SliceSink};
///
/// /// Two fixed readings, exposed as one gauge family.
/// struct Temperatures;
///
/// impl Collect for Temperatures {
///     fn metric_type(&self) -> MetricType {
///         MetricType::Gauge
///     }
///
///     fn label_names(&self) -> &[&'static str] {
///         &["room"]
///     }
///
///     fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
///         encoder.gauge(&[("room", "kitchen")], 21.5)?;
///         encoder.gauge(&[("room", "cellar")], 12.0)
///     }
/// }
///
/// static ROOMS: Metric<Temperatures> = Metric::new("temperature_celsius", "", Temperatures);
/// let registry = Registry::new();
/// registry.register(&ROOMS)?;
/// let mut buf = [0u8; 256];
/// let mut body = SliceSink::new(&mut buf);
/// registry.encode_to(&mut body, Format::Text)?;
/// assert_eq!(
///     body.filled(),
///     b"# TYPE temperature_celsius gauge\n\
///       temperature_celsius{room=\"kitchen\"} 21.5\n\
///       temperature_celsius{room=\"cellar\"} 12\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Encoder<'a> {
    samples: &'a mut dyn Samples,
}

impl<'a> Encoder<'a> {
    pub(crate) fn new(samples: &'a mut dyn Samples) -> Self {
        Self { samples }
    }

    /// A counter series: `<family>_total{labels} value`.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn counter(&mut self, labels: &dyn EncodeLabels, value: f64) -> fmt::Result {
        self.samples
            .counter(labels, Number::Float(value), None, None)
    }

    /// A counter series with an exemplar: OpenMetrics writes it after the `_total`
    /// sample as `# {labels} value [timestamp]`; text 0.0.4 has no syntax for it and
    /// writes what [`counter`](Self::counter) does.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn counter_with_exemplar(
        &mut self,
        labels: &dyn EncodeLabels,
        value: f64,
        exemplar: Option<&Exemplar>,
    ) -> fmt::Result {
        self.samples
            .counter(labels, Number::Float(value), exemplar, None)
    }

    /// A counter series with the value as the metric holds it, and its created
    /// timestamp.
    #[inline]
    pub(crate) fn counter_number(
        &mut self,
        labels: &dyn EncodeLabels,
        value: Number,
        exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result {
        self.samples.counter(labels, value, exemplar, created)
    }

    /// A counter series with an integer value: the same samples as
    /// [`counter`](Self::counter) with `value as f64`, without the float round trip.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn counter_u64(&mut self, labels: &dyn EncodeLabels, value: u64) -> fmt::Result {
        self.samples
            .counter(labels, Number::Unsigned(value), None, None)
    }

    /// A gauge series: `<family>{labels} value`.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn gauge(&mut self, labels: &dyn EncodeLabels, value: f64) -> fmt::Result {
        self.samples.gauge(labels, Number::Float(value))
    }

    /// A gauge series with an integer value: the same samples as
    /// [`gauge`](Self::gauge) with `value as f64`, without the float round trip.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn gauge_i64(&mut self, labels: &dyn EncodeLabels, value: i64) -> fmt::Result {
        self.samples.gauge(labels, Number::Signed(value))
    }

    /// An untyped/unknown series: `<family>{labels} value`.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn unknown(&mut self, labels: &dyn EncodeLabels, value: f64) -> fmt::Result {
        self.samples.unknown(labels, Number::Float(value))
    }

    /// A histogram series: one `_bucket` sample per finite bound plus `+Inf`, then
    /// `_sum` and `_count`. `cumulative[i]` counts observations `<= bounds[i]`; the
    /// `+Inf` bucket is `count`.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    pub fn histogram(
        &mut self,
        labels: &dyn EncodeLabels,
        bounds: &[f64],
        cumulative: &[u64],
        count: u64,
        sum: f64,
    ) -> fmt::Result {
        self.histogram_with_exemplars(labels, bounds, cumulative, count, sum, &[], None)
    }

    /// A histogram series with exemplars: the samples of
    /// [`histogram`](Self::histogram), and in OpenMetrics `exemplars[i]` after the
    /// bucket `le=bounds[i]` and `inf_exemplar` after `+Inf`, each as
    /// `# {labels} value [timestamp]`. `exemplars` is as long as `bounds`, or empty.
    /// Text 0.0.4 has no syntax for exemplars and leaves them out.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[allow(clippy::too_many_arguments)]
    pub fn histogram_with_exemplars(
        &mut self,
        labels: &dyn EncodeLabels,
        bounds: &[f64],
        cumulative: &[u64],
        count: u64,
        sum: f64,
        exemplars: &[Option<Exemplar>],
        inf_exemplar: Option<&Exemplar>,
    ) -> fmt::Result {
        debug_assert_eq!(bounds.len(), cumulative.len());
        debug_assert!(exemplars.is_empty() || exemplars.len() == bounds.len());
        self.samples.histogram(
            labels,
            &Buckets {
                bounds,
                cumulative,
                count,
                sum,
                exemplars,
                inf_exemplar,
                native: None,
                created: None,
            },
        )
    }

    /// A histogram series as a metric of this crate reports it: with its created
    /// timestamp, and native buckets as well (see [`Buckets::native`]).
    pub(crate) fn histogram_series(
        &mut self,
        labels: &dyn EncodeLabels,
        histogram: &Buckets<'_>,
    ) -> fmt::Result {
        self.samples.histogram(labels, histogram)
    }

    /// A summary series without quantiles: `_sum` and `_count` (what Python's
    /// `prometheus_client.Summary` exposes), or with `quantiles` as `(q, value)` pairs
    /// reported first as `<family>{quantile="q"}`.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    pub fn summary(
        &mut self,
        labels: &dyn EncodeLabels,
        quantiles: &[(f64, f64)],
        count: u64,
        sum: f64,
    ) -> fmt::Result {
        self.samples.summary(
            labels,
            &Quantiles {
                quantiles,
                count,
                sum,
                created: None,
            },
        )
    }

    /// A summary series as a metric of this crate reports it, with its created
    /// timestamp.
    pub(crate) fn summary_series(
        &mut self,
        labels: &dyn EncodeLabels,
        summary: &Quantiles<'_>,
    ) -> fmt::Result {
        self.samples.summary(labels, summary)
    }

    /// An info series: `<family>_info{labels} 1`.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    pub fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result {
        self.samples.info(labels)
    }

    /// A state set: one `<family>{labels,<family>="state"} 0|1` sample per state.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    pub fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result {
        self.samples.state_set(labels, states)
    }
}

/// Something that reports label pairs: a compile-time [`LabelSet`](crate::LabelSet), a
/// run-time family's values, or a plain list of pairs.
pub trait EncodeLabels {
    /// Reports each `(name, value)` pair, in order, to `labels`.
    ///
    /// # Errors
    ///
    /// When `labels` returns one (pass it on).
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result;
}

impl EncodeLabels for () {
    fn encode(&self, _: &mut LabelEncoder<'_>) -> fmt::Result {
        Ok(())
    }
}

impl EncodeLabels for [(&str, &str)] {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        self.iter()
            .try_for_each(|(name, value)| labels.label(name, value))
    }
}

impl<const N: usize> EncodeLabels for [(&str, &str); N] {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        self.as_slice().encode(labels)
    }
}

impl<T: EncodeLabels + ?Sized> EncodeLabels for &T {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        (**self).encode(labels)
    }
}

/// What every exposition format implements to receive one series' label pairs: the
/// visitor behind [`LabelEncoder`].
pub(crate) trait LabelSink {
    fn label(&mut self, name: &str, value: &str) -> fmt::Result;
    fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result;
}

/// Receives the `(name, value)` label pairs of one series; the format escapes values.
///
/// Label names are taken as given: they are validated once, at registration (see
/// [`Registry::register`](crate::Registry::register)), never per scrape.
pub struct LabelEncoder<'a> {
    sink: &'a mut dyn LabelSink,
}

impl<'a> LabelEncoder<'a> {
    pub(crate) fn new(sink: &'a mut dyn LabelSink) -> Self {
        Self { sink }
    }

    /// Reports one pair.
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    #[inline]
    pub fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        self.sink.label(name, value)
    }

    /// Reports one pair whose value is formatted (a status code, an enum with
    /// `Display`).
    ///
    /// # Errors
    ///
    /// When the exposition stops (a full buffer, a failing writer).
    pub fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        self.sink.label_display(name, value)
    }
}
