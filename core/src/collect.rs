//! The traits through which any metric type reports its samples ([`Collect`],
//! [`Series`]), and their implementations for the metric types of this crate.

use core::fmt;

use crate::encoding::{EncodeLabels, Encoder, MetricType};
use crate::{Counter, FloatCounter, FloatGauge, Gauge, Histogram};

/// Reports a metric family's samples to an [`Encoder`].
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

    /// Writes every series of the family.
    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result;
}

/// A metric that is a single series: it writes its samples given the labels that
/// identify it. [`Counter`](crate::Counter), [`Gauge`](crate::Gauge),
/// [`Histogram`](crate::Histogram) and the other metric types implement it, so they can
/// stand alone or as the children of a labelled family.
pub trait Series: Sync {
    /// The family type this series belongs to.
    const TYPE: MetricType;

    /// Writes this series' samples, each carrying `labels`.
    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result;
}

impl<S: Series> Collect for S {
    fn metric_type(&self) -> MetricType {
        S::TYPE
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.encode_series(&(), encoder)
    }
}

impl Series for Counter {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Exact up to 2^53; past that, what Go's float conversion of the count prints.
        #[allow(clippy::cast_precision_loss)]
        encoder.counter(labels, self.get() as f64)
    }
}

impl Series for FloatCounter {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.counter(labels, self.get())
    }
}

impl Series for Gauge {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        #[allow(clippy::cast_precision_loss)]
        encoder.gauge(labels, self.get() as f64)
    }
}

impl Series for FloatGauge {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.gauge(labels, self.get())
    }
}

impl<const N: usize> Series for Histogram<N> {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Take the snapshot before writing: the collection lock is never held while
        // the caller's writer runs.
        let snapshot = self.snapshot();
        encoder.histogram(
            labels,
            snapshot.bounds(),
            snapshot.cumulative(),
            snapshot.count(),
            snapshot.sum(),
        )
    }
}
