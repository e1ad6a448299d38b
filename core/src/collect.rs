//! The traits through which any metric type reports its samples: [`Collect`] (a whole
//! family) and [`Series`] (one series, given its labels). Each metric type implements
//! them next to its definition; the samples go to the format-neutral
//! [`Encoder`] of `sample.rs`.

use core::fmt;

use crate::encoding::MetricType;
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
}

impl<S: Series> Collect for S {
    fn metric_type(&self) -> MetricType {
        S::TYPE
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        self.encode_series(&(), encoder)
    }
}
