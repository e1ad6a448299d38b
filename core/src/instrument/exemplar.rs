//! Exemplars for the wrappers: the capabilities [`ObserveExemplar`] and
//! [`IncExemplar`], and [`WithExemplar`], the metric adapter that
//! `Timed::exemplar` and `CountErrors::exemplar` put in place of the metric so each
//! observation or count carries the labels a closure returns at that moment.

use core::fmt;

use super::{Inc, Observe};
use crate::sample::{EncodeLabels, ExemplarError};

/// Something that records a value with an exemplar: what [`Timed::exemplar`](super::Timed::exemplar)
/// needs.
///
/// Implemented by [`ExemplarHistogram`](crate::ExemplarHistogram) and
/// [`ExemplarNativeHistogram`](crate::ExemplarNativeHistogram), by
/// [`Metric`](crate::Metric)s of them, and by references to
/// (and, with `std`, `Arc`s of) any implementor.
pub trait ObserveExemplar: Observe {
    /// Records `value` with `labels` as its exemplar.
    ///
    /// # Errors
    ///
    /// [`ExemplarError`] when the labels break an OpenMetrics rule; `value` was
    /// recorded anyway.
    fn observe_with_exemplar(
        &self,
        value: f64,
        labels: &dyn EncodeLabels,
    ) -> Result<(), ExemplarError>;
}

/// Something that counts by one with an exemplar: what
/// [`CountErrors::exemplar`](super::CountErrors::exemplar) needs.
///
/// Implemented by [`ExemplarCounter`](crate::ExemplarCounter), by
/// [`Metric`](crate::Metric)s of it, and by references to
/// (and, with `std`, `Arc`s of) any implementor.
pub trait IncExemplar: Inc {
    /// Adds one with `labels` as the exemplar.
    ///
    /// # Errors
    ///
    /// [`ExemplarError`] when the labels break an OpenMetrics rule; the count was made
    /// anyway.
    fn inc_with_exemplar(&self, labels: &dyn EncodeLabels) -> Result<(), ExemplarError>;
}

/// A metric whose every observation (or count) carries, as its exemplar, the labels
/// `source` returns at that moment: for a wrapper, when the future completes (or is
/// dropped, or unwinds), so a trace id read from the current span is the request's.
///
/// Made by [`Timed::exemplar`](super::Timed::exemplar) and
/// [`CountErrors::exemplar`](super::CountErrors::exemplar). Labels that break an
/// OpenMetrics rule (over 128 characters, an invalid name) are dropped; the value is
/// recorded regardless.
#[derive(Clone)]
pub struct WithExemplar<M, S> {
    metric: M,
    source: S,
}

impl<M, S> WithExemplar<M, S> {
    /// `metric`, recording the labels `source` returns as exemplars.
    pub fn new(metric: M, source: S) -> Self {
        Self { metric, source }
    }
}

impl<M: ObserveExemplar, S: Fn() -> L, L: EncodeLabels> Observe for WithExemplar<M, S> {
    #[inline]
    fn observe(&self, value: f64) {
        // An invalid label set loses its exemplar, not its observation (documented).
        let _ = self.metric.observe_with_exemplar(value, &(self.source)());
    }
}

impl<M: IncExemplar, S: Fn() -> L, L: EncodeLabels> Inc for WithExemplar<M, S> {
    #[inline]
    fn inc(&self) {
        // As in `observe`.
        let _ = self.metric.inc_with_exemplar(&(self.source)());
    }
}

impl<M: fmt::Debug, S> fmt::Debug for WithExemplar<M, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WithExemplar")
            .field("metric", &self.metric)
            .finish_non_exhaustive()
    }
}
