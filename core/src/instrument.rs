//! Instrumenting futures: time them, count their errors, track them while in progress.
//!
//! The extension trait [`Instrument`] (whose docs state the semantics), the metric
//! capabilities it needs ([`Observe`], [`Inc`], [`IncDec`]) and, one module each, the
//! wrapper futures. The wrappers keep their measurement in a field whose `Drop` ends
//! it, so the wrapper structs have no drop glue of their own and `into_inner` can move
//! the inner future out without `unsafe`; a guard in each `poll` ends the measurement
//! when the inner `poll` unwinds.

mod count_errors;
mod exemplar;
mod timed;
mod track_in_progress;

use core::future::Future;
use core::mem;

use crate::clock::Clock;
use crate::counter::{Counter, FloatCounter};
use crate::exemplar::{ExemplarCounter, ExemplarHistogram, ExemplarNativeHistogram};
use crate::gauge::{FloatGauge, Gauge};
use crate::histogram::Histogram;
use crate::metric::Metric;
use crate::native::NativeHistogram;
use crate::sample::{EncodeLabels, ExemplarError};
use crate::summary::Summary;

pub use count_errors::{AllErrors, CountErrors, ErrorFilter, caused_by};
pub use exemplar::{IncExemplar, ObserveExemplar, WithExemplar};
pub use timed::Timed;
pub use track_in_progress::TrackInProgress;

/// Something that records a value: what [`Timed`] needs to report seconds.
///
/// Implemented by [`Histogram`], [`Summary`] and [`FloatCounter`] (which adds the seconds up: a
/// "busy seconds" total), by [`Metric`]s of them, and by references to (and, with
/// `std`, `Arc`s of) any implementor.
pub trait Observe {
    /// Records `value` (for [`Timed`], a duration in seconds, never negative).
    fn observe(&self, value: f64);
}

/// Something that counts by one: what [`CountErrors`] needs.
///
/// Implemented by [`Counter`], [`FloatCounter`], [`Gauge`] and [`FloatGauge`], by
/// [`Metric`]s of them, and by references to (and, with `std`, `Arc`s of) any
/// implementor.
pub trait Inc {
    /// Adds one.
    fn inc(&self);
}

/// Something that goes up and down by one: what [`TrackInProgress`] needs.
///
/// Implemented by [`Gauge`] and [`FloatGauge`], by [`Metric`]s of them, and by
/// references to (and, with `std`, `Arc`s of) any implementor.
pub trait IncDec: Inc {
    /// Subtracts one.
    fn dec(&self);
}

/// Implements a capability for metric types by calling their inherent method of the
/// same name (`value` is passed on for `Observe`); generic parameters go in brackets
/// first.
macro_rules! capability {
    ($($([$($gen:tt)*])? $trait:ident :: $method:ident $(($value:ident))? for $metric:ty;)*) => {$(
        impl$(<$($gen)*>)? $trait for $metric {
            #[inline]
            fn $method(&self $(, $value: f64)?) {
                <$metric>::$method(self $(, $value)?);
            }
        }
    )*};
}

capability! {
    [const N: usize] Observe::observe(value) for Histogram<N>;
    [const N: usize, const C: usize] Observe::observe(value) for NativeHistogram<N, C>;
    Observe::observe(value) for Summary;
    [const N: usize] Observe::observe(value) for ExemplarHistogram<N>;
    [const N: usize, const C: usize, const E: usize] Observe::observe(value) for ExemplarNativeHistogram<N, C, E>;
    Inc::inc for Counter;
    Inc::inc for FloatCounter;
    Inc::inc for ExemplarCounter;
    Inc::inc for Gauge;
    IncDec::dec for Gauge;
    Inc::inc for FloatGauge;
    IncDec::dec for FloatGauge;
}

impl Observe for FloatCounter {
    /// Adds the seconds up: a "busy seconds" total.
    #[inline]
    fn observe(&self, value: f64) {
        self.inc_by(value);
    }
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

impl<const N: usize, const C: usize, const E: usize> ObserveExemplar
    for ExemplarNativeHistogram<N, C, E>
{
    #[inline]
    fn observe_with_exemplar(
        &self,
        value: f64,
        labels: &dyn EncodeLabels,
    ) -> Result<(), ExemplarError> {
        ExemplarNativeHistogram::observe_with_exemplar(self, value, labels)
    }
}

impl IncExemplar for ExemplarCounter {
    #[inline]
    fn inc_with_exemplar(&self, labels: &dyn EncodeLabels) -> Result<(), ExemplarError> {
        ExemplarCounter::inc_with_exemplar(self, labels)
    }
}

/// Forwards every capability (with and without exemplars) through a wrapper that
/// derefs to the metric: `Metric<M>`, `&T` and, with `std`, `Arc<T>`. The one place
/// a wrapper gains the capabilities, so a new capability is forwarded everywhere at
/// once. (A blanket impl over `Deref` would overlap the metrics' own impls.)
macro_rules! forward {
    ($(impl<$param:ident $(: ?$sized:ident)?> for $wrapper:ty;)*) => {$(
        impl<$param: Observe $(+ ?$sized)?> Observe for $wrapper {
            #[inline]
            fn observe(&self, value: f64) {
                (**self).observe(value);
            }
        }

        impl<$param: Inc $(+ ?$sized)?> Inc for $wrapper {
            #[inline]
            fn inc(&self) {
                (**self).inc();
            }
        }

        impl<$param: IncDec $(+ ?$sized)?> IncDec for $wrapper {
            #[inline]
            fn dec(&self) {
                (**self).dec();
            }
        }

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

/// Instruments any future: times it, counts its errors, tracks it while in progress.
///
/// The Rust form of `prometheus_async`'s `time`, `count_exceptions` and
/// `track_inprogress`. Implemented for every future, so one call wraps it in a named,
/// `#[must_use]` future — [`Timed`], [`CountErrors`] or [`TrackInProgress`] — that
/// updates a metric as the future runs:
///
/// ```
/// use torchlight::{Counter, Gauge, Histogram, Instrument, Metric};
/// # #[cfg(not(feature = "std"))] fn main() {} // `time` needs `std`
/// # #[cfg(feature = "std")] fn main() {
///
/// static REQ_TIME: Metric<Histogram> =
///     Metric::new("req_time_seconds", "Time spent in requests.", Histogram::new());
/// static ERRORS: Metric<Counter> = Metric::new("req_errors", "Failed requests.", Counter::new());
/// static IN_FLIGHT: Metric<Gauge> = Metric::new("req_in_flight", "Requests in flight.", Gauge::new());
///
/// async fn handle(id: u32) -> Result<u32, &'static str> {
///     if id == 0 { Err("no such id") } else { Ok(id * 2) }
/// }
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// let answer = block_on(
///     handle(21)
///         .count_errors(&ERRORS)
///         .track_in_progress(&IN_FLIGHT)
///         .time(&REQ_TIME),
/// );
/// assert_eq!(answer, Ok(42));
/// assert_eq!(REQ_TIME.snapshot().count(), 1);
/// assert_eq!(IN_FLIGHT.get(), 0);
///
/// assert!(block_on(handle(0).count_errors(&ERRORS)).is_err());
/// assert_eq!(ERRORS.get(), 1);
/// # }
/// ```
///
/// # Semantics
///
/// - **Work starts at the first poll.** Creating a wrapper does nothing; the timer
///   starts and the in-progress gauge goes up when it is first polled (like a
///   `prometheus_async` decorator, and unlike its "future mode", which starts at wrap
///   time and can leak an increment).
/// - **Exactly once.** A started [`Timed`] observes once: on completion (success or
///   error), on drop before completion (cancellation), or when a panic unwinds out of
///   the inner `poll`. A started [`TrackInProgress`] decrements once, in the same three
///   places, so the gauge cannot leak — not even for a future that is created and never
///   polled (it never incremented).
/// - **Errors** are `Err` outputs that match an [`ErrorFilter`] (by default every `Err`);
///   a panic unwinding out of the inner `poll` counts as one error; dropping a started,
///   unfinished future counts only after [`CountErrors::count_cancellation`].
/// - **Cheap.** The wrappers keep the inner future's `Send`, `Sync` and `Unpin`, never
///   allocate, take no lock, and pass the caller's waker through untouched. The metric
///   is held by value: pass `&METRIC` for a `static`, or anything else that implements
///   [`Observe`], [`Inc`] or [`IncDec`].
///
/// # Your own metric types
///
/// The wrappers need only one method of the metric, through a small trait: [`Observe`]
/// for [`Timed`], [`Inc`] for [`CountErrors`], [`IncDec`] for [`TrackInProgress`]. The
/// metrics of this crate, [`Metric`](crate::Metric)s of them, references (so labelled
/// children from [`Labelled::get`](crate::Labelled::get) work) and, with `std`, `Arc`s
/// implement them. Implement them for your own type to plug it in:
///
/// ```
/// use core::sync::atomic::{AtomicU64, Ordering};
/// use torchlight::{Instrument, ManualClock, Observe};
///
/// /// Keeps only the slowest duration seen, in microseconds.
/// struct Slowest(AtomicU64);
///
/// impl Observe for Slowest {
///     fn observe(&self, seconds: f64) {
///         self.0.fetch_max((seconds * 1e6) as u64, Ordering::Relaxed);
///     }
/// }
///
/// static SLOWEST: Slowest = Slowest(AtomicU64::new(0));
/// static CLOCK: ManualClock = ManualClock::new();
///
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// block_on(
///     async { CLOCK.advance(core::time::Duration::from_millis(3)) }.time_with(&SLOWEST, &CLOCK),
/// );
/// assert_eq!(SLOWEST.0.load(Ordering::Relaxed), 3_000);
/// ```
///
/// Bring it into scope with `use torchlight::Instrument` (or
/// `use torchlight::Instrument as _` next to `tracing::Instrument`).
pub trait Instrument: Future + Sized {
    /// Observes, in seconds read from [`StdClock`](crate::clock::StdClock), how long this future
    /// runs from its first poll until it completes or is dropped.
    ///
    /// ```
    /// use torchlight::{Histogram, Instrument};
    ///
    /// static REQ_TIME: Histogram = Histogram::new();
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// let out = block_on(async { 42 }.time(&REQ_TIME));
    /// assert_eq!(out, 42);
    /// assert_eq!(REQ_TIME.snapshot().count(), 1);
    /// ```
    #[cfg(feature = "std")]
    fn time<M: Observe>(self, metric: M) -> Timed<Self, M, crate::clock::StdClock> {
        Timed::new(self, metric, crate::clock::StdClock)
    }

    /// Like `time` (with `std`), with time read from `clock`: a [`ManualClock`]
    /// (tests, `no_std`), an adapter's runtime clock (tokio's, so paused time works),
    /// or your own [`Clock`].
    ///
    /// [`ManualClock`]: crate::ManualClock
    ///
    /// ```
    /// use core::time::Duration;
    /// use torchlight::{Histogram, Instrument, ManualClock};
    ///
    /// static CLOCK: ManualClock = ManualClock::new();
    /// static REQ_TIME: Histogram = Histogram::new();
    ///
    /// let work = async { CLOCK.advance(Duration::from_secs(1)) };
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// block_on(work.time_with(&REQ_TIME, &CLOCK));
    /// assert_eq!(REQ_TIME.snapshot().sum(), 1.0);
    /// ```
    fn time_with<M: Observe, C: Clock>(self, metric: M, clock: C) -> Timed<Self, M, C> {
        Timed::new(self, metric, clock)
    }

    /// Increments `metric` once for every `Err` this future returns, and once if a
    /// panic unwinds out of its `poll`.
    ///
    /// ```
    /// use torchlight::{Counter, Instrument};
    ///
    /// static ERRORS: Counter = Counter::new();
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// let out = block_on(async { "x".parse::<u8>() }.count_errors(&ERRORS));
    /// assert!(out.is_err());
    /// assert_eq!(ERRORS.get(), 1);
    /// ```
    fn count_errors<M: Inc, T, E>(self, metric: M) -> CountErrors<Self, M, AllErrors>
    where
        Self: Future<Output = Result<T, E>>,
    {
        CountErrors::new(self, metric, AllErrors)
    }

    /// Like [`count_errors`](Self::count_errors), counting only the errors for which
    /// `filter` returns `true` (Python's `count_exceptions(exc=…)`); the error is
    /// returned either way. [`caused_by`] matches an error type and its causes.
    ///
    /// ```
    /// use torchlight::{Counter, Instrument};
    ///
    /// #[derive(Debug)]
    /// enum FetchError { Timeout, NotFound }
    ///
    /// static TIMEOUTS: Counter = Counter::new();
    /// let fetch = |e| async move { Err::<(), _>(e) };
    /// let timeouts = |e: &FetchError| matches!(e, FetchError::Timeout);
    ///
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// let _ = block_on(fetch(FetchError::NotFound).count_errors_if(&TIMEOUTS, timeouts));
    /// let _ = block_on(fetch(FetchError::Timeout).count_errors_if(&TIMEOUTS, timeouts));
    /// assert_eq!(TIMEOUTS.get(), 1);
    /// ```
    fn count_errors_if<M: Inc, P, T, E>(self, metric: M, filter: P) -> CountErrors<Self, M, P>
    where
        Self: Future<Output = Result<T, E>>,
        P: FnMut(&E) -> bool,
    {
        CountErrors::new(self, metric, filter)
    }

    /// Increments `metric` when this future is first polled and decrements it exactly
    /// once when it completes, is dropped, or panics.
    ///
    /// ```
    /// use torchlight::{Gauge, Instrument};
    ///
    /// static IN_FLIGHT: Gauge = Gauge::new();
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// let out = block_on(async { IN_FLIGHT.get() }.track_in_progress(&IN_FLIGHT));
    /// assert_eq!(out, 1, "up while running");
    /// assert_eq!(IN_FLIGHT.get(), 0, "down when done");
    /// ```
    fn track_in_progress<M: IncDec>(self, metric: M) -> TrackInProgress<Self, M> {
        TrackInProgress::new(self, metric)
    }
}

impl<F: Future> Instrument for F {}

/// Where a wrapper's measurement stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase<S> {
    /// Not polled yet: nothing recorded, nothing to undo.
    Idle,
    /// Polled, not finished; holds what the start recorded (a timer's start instant).
    Running(S),
    /// Finished (completed, unwound, or ended by `into_inner`): the metric has been
    /// updated for good and is never touched again.
    Done,
}

/// A measurement that must be ended when a panic unwinds out of the inner `poll`.
trait Unwound {
    /// Ends the measurement: the inner future panicked.
    fn unwound(&mut self);
}

/// Calls [`Unwound::unwound`] if dropped, which happens only when the inner `poll`
/// unwinds: on return, [`disarm`] forgets the guard.
///
/// This needs no `std`: on a target that aborts on panic it simply never runs.
struct UnwindGuard<'a, S: Unwound>(&'a mut S);

impl<S: Unwound> Drop for UnwindGuard<'_, S> {
    fn drop(&mut self) {
        self.0.unwound();
    }
}

/// Defuses `guard`: the inner `poll` returned normally.
#[inline]
fn disarm<S: Unwound>(guard: UnwindGuard<'_, S>) {
    mem::forget(guard);
}
