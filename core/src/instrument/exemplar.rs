//! Exemplars for the wrappers: the capabilities [`ObserveExemplar`] and
//! [`IncExemplar`], and [`WithExemplar`], the metric adapter that
//! `Timed::exemplar` and `CountErrors::exemplar` put in place of the metric so each
//! observation or count carries the labels a closure returns at that moment.

use core::fmt;

use super::{Inc, Observe};
use crate::exemplar::{ExemplarCounter, ExemplarError, ExemplarHistogram};
use crate::metric::Metric;
use crate::sample::EncodeLabels;

/// Something that records a value with an exemplar: what [`Timed::exemplar`](super::Timed::exemplar)
/// needs.
///
/// Implemented by [`ExemplarHistogram`], by [`Metric`]s of it, and by references to
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
/// Implemented by [`ExemplarCounter`], by [`Metric`]s of it, and by references to
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

impl<const N: usize> ObserveExemplar for ExemplarHistogram<N> {
    #[inline]
    fn observe_with_exemplar(
        &self,
        value: f64,
        labels: &dyn EncodeLabels,
    ) -> Result<(), ExemplarError> {
        ExemplarHistogram::observe_with_exemplar(self, value, labels)
    }
}

impl<const N: usize> Observe for ExemplarHistogram<N> {
    #[inline]
    fn observe(&self, value: f64) {
        ExemplarHistogram::observe(self, value);
    }
}

impl IncExemplar for ExemplarCounter {
    #[inline]
    fn inc_with_exemplar(&self, labels: &dyn EncodeLabels) -> Result<(), ExemplarError> {
        ExemplarCounter::inc_with_exemplar(self, labels)
    }
}

impl Inc for ExemplarCounter {
    #[inline]
    fn inc(&self) {
        ExemplarCounter::inc(self);
    }
}

/// Forwards the exemplar capabilities through a wrapper that derefs to the metric:
/// `Metric<M>`, `&T` and (with `std`) `Arc<T>`.
macro_rules! forward {
    ($(impl<$param:ident $(: ?$sized:ident)?> for $wrapper:ty;)*) => {$(
        impl<$param: ObserveExemplar $(+ ?$sized)?> ObserveExemplar for $wrapper {
            #[inline]
            fn observe_with_exemplar(
                &self,
                value: f64,
                labels: &dyn EncodeLabels,
            ) -> Result<(), ExemplarError> {
                (**self).observe_with_exemplar(value, labels)
            }
        }

        impl<$param: IncExemplar $(+ ?$sized)?> IncExemplar for $wrapper {
            #[inline]
            fn inc_with_exemplar(&self, labels: &dyn EncodeLabels) -> Result<(), ExemplarError> {
                (**self).inc_with_exemplar(labels)
            }
        }
    )*};
}

forward! {
    impl<M> for Metric<M>;
    impl<T: ?Sized> for &T;
}
#[cfg(feature = "std")]
forward! {
    impl<T: ?Sized> for std::sync::Arc<T>;
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
