//! The Prometheus text format 0.0.4 and OpenMetrics 1.0, written into any
//! [`core::fmt::Write`] without allocating.
//!
//! The bytes follow Go's `expfmt`, the ecosystem's reference encoder
//! (`github.com/prometheus/common`, `expfmt/text_create.go` and
//! `expfmt/openmetrics_create.go`; the formats are specified in Prometheus'
//! "Exposition formats" page and the OpenMetrics 1.0 specification):
//!
//! | | text 0.0.4 | OpenMetrics 1.0 |
//! |---|---|---|
//! | metadata order | `# HELP`, `# TYPE` | `# HELP`, `# TYPE`, `# UNIT` |
//! | counter family `foo` | `# TYPE foo_total counter`, `foo_total 1` | `# TYPE foo counter`, `foo_total 1.0` |
//! | floats | `1`, `1e+06`, `+Inf` | `1.0`, `1e+06`, `+Inf` |
//! | bucket counts, `_count` | as floats | integers |
//! | HELP escapes | `\\`, `\n` | `\\`, `\n`, `\"` |
//! | end | — | `# EOF` |
//!
//! A metric describes itself to an [`Encoder`] through [`Collect`](crate::Collect);
//! the encoder owns every formatting rule, so a metric type cannot get one wrong.

mod escape;
mod float;

use core::fmt::{self, Write};

use escape::{Escaper, write_escaped};
use float::{write_f64, write_u64};

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The Prometheus text format, version 0.0.4.
    Text,
    /// OpenMetrics 1.0 text, what Prometheus asks for first by default.
    OpenMetrics,
}

impl Format {
    /// The exact `Content-Type` to send with a body in this format.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
        }
    }
}

/// The kind of a metric family, as written on its `# TYPE` line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MetricType {
    /// Monotonic; samples `<name>_total`.
    Counter,
    /// Goes up and down; one sample per series.
    Gauge,
    /// Cumulative buckets; samples `_bucket{le=…}`, `_sum`, `_count`.
    Histogram,
    /// Count and sum (and optional quantiles); samples `{quantile=…}`, `_sum`, `_count`.
    Summary,
    /// Constant `1` carrying labels; sample `<name>_info`. A gauge in text 0.0.4.
    Info,
    /// One series per state, exactly one of them `1`. Gauges in text 0.0.4.
    StateSet,
    /// Anything else: `untyped` in text 0.0.4, `unknown` in OpenMetrics.
    Unknown,
}

impl MetricType {
    /// The `# TYPE` keyword in `format`.
    #[must_use]
    pub const fn keyword(self, format: Format) -> &'static str {
        match (self, format) {
            (Self::Counter, _) => "counter",
            (Self::Gauge, _) => "gauge",
            (Self::Histogram, _) => "histogram",
            (Self::Summary, _) => "summary",
            (Self::Info | Self::StateSet, Format::Text) => "gauge",
            (Self::Info, Format::OpenMetrics) => "info",
            (Self::StateSet, Format::OpenMetrics) => "stateset",
            (Self::Unknown, Format::Text) => "untyped",
            (Self::Unknown, Format::OpenMetrics) => "unknown",
        }
    }

    /// The suffix a family name carries on its samples and, in text 0.0.4, on its
    /// metadata lines (`_total` for counters, `_info` for infos).
    #[must_use]
    pub const fn family_suffix(self) -> &'static str {
        match self {
            Self::Counter => "_total",
            Self::Info => "_info",
            _ => "",
        }
    }

    /// Every suffix this type appends to its family name on some sample; two families
    /// clash when one's name plus one of these equals the other's.
    #[must_use]
    pub const fn sample_suffixes(self) -> &'static [&'static str] {
        match self {
            Self::Counter => &["_total", "_created"],
            Self::Histogram => &["_bucket", "_sum", "_count", "_created"],
            Self::Summary => &["", "_sum", "_count", "_created"],
            Self::Info => &["_info"],
            Self::Gauge | Self::StateSet | Self::Unknown => &[""],
        }
    }
}

/// Something that writes label pairs: a compile-time [`LabelSet`](crate::LabelSet), a
/// run-time family's values, or a plain list of pairs.
pub trait EncodeLabels {
    /// Writes each `name="value"` pair through `labels`.
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

/// Writes the `{name="value",…}` part of a sample line, escaping values.
///
/// Label names are written as given: they are validated once, at registration (see
/// [`Registry::register`](crate::Registry::register)), never per scrape.
pub struct LabelEncoder<'a> {
    w: &'a mut dyn Write,
    /// Invariant: `true` once `{` has been written.
    open: bool,
}

impl LabelEncoder<'_> {
    /// Writes one pair.
    pub fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        self.name(name)?;
        write_escaped(self.w, value, true)?;
        self.w.write_char('"')
    }

    /// Writes one pair whose value is formatted (a status code, an enum with `Display`).
    pub fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        self.name(name)?;
        write!(
            Escaper {
                inner: self.w,
                quote: true
            },
            "{value}"
        )?;
        self.w.write_char('"')
    }

    fn name(&mut self, name: &str) -> fmt::Result {
        self.w.write_char(if self.open { ',' } else { '{' })?;
        self.open = true;
        self.w.write_str(name)?;
        self.w.write_str("=\"")
    }
}

/// Receives the samples of one metric family and writes them in one format.
///
/// Handed to [`Collect::encode`](crate::Collect::encode); the metadata lines are already
/// written. Each method writes every sample line of one series.
pub struct Encoder<'a> {
    w: &'a mut dyn Write,
    format: Format,
    /// The family name, without any type suffix.
    family: &'a str,
}

impl<'a> Encoder<'a> {
    /// Writes the `# HELP`, `# TYPE` and (OpenMetrics) `# UNIT` lines of a family and
    /// returns the encoder for its samples.
    pub(crate) fn start(
        w: &'a mut dyn Write,
        format: Format,
        family: &'a str,
        metric_type: MetricType,
        help: &str,
        unit: Option<&str>,
    ) -> Result<Self, fmt::Error> {
        let suffix = match format {
            Format::Text => metric_type.family_suffix(),
            Format::OpenMetrics => "",
        };
        if !help.is_empty() {
            w.write_str("# HELP ")?;
            w.write_str(family)?;
            w.write_str(suffix)?;
            w.write_char(' ')?;
            write_escaped(w, help, format == Format::OpenMetrics)?;
            w.write_char('\n')?;
        }
        w.write_str("# TYPE ")?;
        w.write_str(family)?;
        w.write_str(suffix)?;
        w.write_char(' ')?;
        w.write_str(metric_type.keyword(format))?;
        w.write_char('\n')?;
        if let (Format::OpenMetrics, Some(unit)) = (format, unit) {
            w.write_str("# UNIT ")?;
            w.write_str(family)?;
            w.write_char(' ')?;
            w.write_str(unit)?;
            w.write_char('\n')?;
        }
        Ok(Self { w, format, family })
    }

    /// The format being written.
    #[must_use]
    pub fn format(&self) -> Format {
        self.format
    }

    /// A counter series: `<family>_total{labels} value`.
    pub fn counter(&mut self, labels: &dyn EncodeLabels, value: f64) -> fmt::Result {
        self.sample("_total", labels, None, |w, format| {
            write_f64(w, value, format == Format::OpenMetrics)
        })
    }

    /// A gauge series: `<family>{labels} value`.
    pub fn gauge(&mut self, labels: &dyn EncodeLabels, value: f64) -> fmt::Result {
        self.sample("", labels, None, |w, format| {
            write_f64(w, value, format == Format::OpenMetrics)
        })
    }

    /// An untyped/unknown series: `<family>{labels} value`.
    pub fn unknown(&mut self, labels: &dyn EncodeLabels, value: f64) -> fmt::Result {
        self.gauge(labels, value)
    }

    /// A histogram series: one `_bucket` line per finite bound plus `+Inf`, then `_sum`
    /// and `_count`. `cumulative[i]` counts observations `<= bounds[i]`; the `+Inf`
    /// bucket is `count`.
    pub fn histogram(
        &mut self,
        labels: &dyn EncodeLabels,
        bounds: &[f64],
        cumulative: &[u64],
        count: u64,
        sum: f64,
    ) -> fmt::Result {
        debug_assert_eq!(bounds.len(), cumulative.len());
        for (bound, n) in bounds.iter().zip(cumulative) {
            self.sample("_bucket", labels, Some(("le", *bound)), |w, format| {
                write_count(w, *n, format)
            })?;
        }
        self.sample(
            "_bucket",
            labels,
            Some(("le", f64::INFINITY)),
            |w, format| write_count(w, count, format),
        )?;
        self.sample("_sum", labels, None, |w, format| {
            write_f64(w, sum, format == Format::OpenMetrics)
        })?;
        self.sample("_count", labels, None, |w, format| {
            write_count(w, count, format)
        })
    }

    /// A summary series without quantiles: `_sum` and `_count` (what Python's
    /// `prometheus_client.Summary` exposes), or with `quantiles` as `(q, value)` pairs
    /// written first as `<family>{quantile="q"}`.
    pub fn summary(
        &mut self,
        labels: &dyn EncodeLabels,
        quantiles: &[(f64, f64)],
        count: u64,
        sum: f64,
    ) -> fmt::Result {
        for (quantile, value) in quantiles {
            self.sample("", labels, Some(("quantile", *quantile)), |w, format| {
                write_f64(w, *value, format == Format::OpenMetrics)
            })?;
        }
        self.sample("_sum", labels, None, |w, format| {
            write_f64(w, sum, format == Format::OpenMetrics)
        })?;
        self.sample("_count", labels, None, |w, format| {
            write_count(w, count, format)
        })
    }

    /// An info series: `<family>_info{labels} 1`.
    pub fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result {
        self.sample("_info", labels, None, |w, format| {
            write_f64(w, 1.0, format == Format::OpenMetrics)
        })
    }

    /// A state set: one `<family>{labels,<family>="state"} 0|1` line per state.
    pub fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result {
        for (state, on) in states {
            let value = if *on { 1.0 } else { 0.0 };
            let family = self.family;
            self.line(
                "",
                labels,
                |l| l.label(family, state),
                |w, format| write_f64(w, value, format == Format::OpenMetrics),
            )?;
        }
        Ok(())
    }

    fn sample(
        &mut self,
        suffix: &str,
        labels: &dyn EncodeLabels,
        bound: Option<(&str, f64)>,
        value: impl FnOnce(&mut dyn Write, Format) -> fmt::Result,
    ) -> fmt::Result {
        let format = self.format;
        self.line(
            suffix,
            labels,
            |l| match bound {
                Some((name, bound)) => {
                    l.name(name)?;
                    write_f64(l.w, bound, format == Format::OpenMetrics)?;
                    l.w.write_char('"')
                }
                None => Ok(()),
            },
            value,
        )
    }

    fn line(
        &mut self,
        suffix: &str,
        labels: &dyn EncodeLabels,
        extra: impl FnOnce(&mut LabelEncoder<'_>) -> fmt::Result,
        value: impl FnOnce(&mut dyn Write, Format) -> fmt::Result,
    ) -> fmt::Result {
        self.w.write_str(self.family)?;
        self.w.write_str(suffix)?;
        let mut label_encoder = LabelEncoder {
            w: self.w,
            open: false,
        };
        labels.encode(&mut label_encoder)?;
        extra(&mut label_encoder)?;
        if label_encoder.open {
            self.w.write_char('}')?;
        }
        self.w.write_char(' ')?;
        value(self.w, self.format)?;
        self.w.write_char('\n')
    }
}

/// Counts (bucket counts, `_count`): integers in OpenMetrics, Go floats in text 0.0.4.
fn write_count(w: &mut dyn Write, n: u64, format: Format) -> fmt::Result {
    match format {
        Format::OpenMetrics => write_u64(w, n),
        // Exact below 2^53; past that, what Go's float conversion would print.
        #[allow(clippy::cast_precision_loss)]
        Format::Text => write_f64(w, n as f64, false),
    }
}

/// Writes the OpenMetrics terminator.
pub(crate) fn write_eof(w: &mut dyn Write, format: Format) -> fmt::Result {
    match format {
        Format::OpenMetrics => w.write_str("# EOF\n"),
        Format::Text => Ok(()),
    }
}
