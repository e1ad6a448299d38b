//! The traits through which any metric type reports its samples: [`Collect`] (a whole
//! family) and [`Series`] (one series, given its labels), and the vocabulary they share,
//! [`MetricType`]. Each metric type implements
//! them next to its definition; the samples go to the format-neutral
//! [`Encoder`] of `sample.rs`.

use core::fmt;
use core::time::Duration;

use crate::sample::{EncodeLabels, Encoder};

/// Reports a metric family's samples to an [`Encoder`], whatever the exposition format.
///
/// Implemented for every [`Series`] (one unlabelled series) and for labelled
/// collections of them; implement it for your own type to expose anything else.
pub trait Collect: Sync {
    /// The family's type.
    fn metric_type(&self) -> MetricType;

    /// Names of the labels every series carries, checked once at registration.
    fn label_names(&self) -> &[&'static str] {
        &[]
    }

    /// Reports every series of the family.
    ///
    /// # Errors
    ///
    /// Return the encoder's errors as they are (they stop the exposition); an error of
    /// your own fails the scrape with [`EncodeError::Collect`](crate::EncodeError::Collect).
    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result;

    /// Sets the created timestamp (the time since the Unix epoch when the series
    /// started counting) of every series the family has now; `None` removes it. A
    /// [`Registry`](crate::Registry) calls it once, when it registers the metric, with
    /// its clock's time, under its registration lock (so it must not register
    /// anything itself). The default does nothing, for families without created
    /// timestamps (gauges, infos) and for those that stamp their series themselves
    /// (a `Family` stamps each child when it creates it).
    fn set_created(&self, created: Option<Duration>) {
        let _ = created;
    }
}

/// A metric that is a single series: it writes its samples given the labels that
/// identify it. [`Counter`](crate::Counter), [`Gauge`](crate::Gauge),
/// [`Histogram`](crate::Histogram) and the other metric types implement it, so they can
/// stand alone or as the children of a labelled family.
pub trait Series: Sync {
    /// The family type this series belongs to.
    const TYPE: MetricType;

    /// Reports this series' samples, each carrying `labels`.
    ///
    /// # Errors
    ///
    /// As [`Collect::encode`].
    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result;

    /// Sets the series' created timestamp (see [`Collect::set_created`]): this crate's
    /// counters, histograms and summaries ([`Counter`](crate::Counter),
    /// [`FloatCounter`](crate::FloatCounter), [`Histogram`](crate::Histogram),
    /// [`NativeHistogram`](crate::NativeHistogram), [`Summary`](crate::Summary) and the
    /// exemplar kinds) keep it and report it with their samples; the default ignores it
    /// (and so do [`CounterFn`](crate::CounterFn) and the gauge-like types). A `Family`
    /// calls it when it creates the child.
    fn set_created(&self, created: Option<Duration>) {
        let _ = created;
    }
}

impl<S: Series> Collect for S {
    fn metric_type(&self) -> MetricType {
        S::TYPE
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.encode_series(&(), encoder)
    }

    fn set_created(&self, created: Option<Duration>) {
        Series::set_created(self, created);
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
