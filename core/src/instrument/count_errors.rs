//! [`CountErrors`]: a future that counts the errors it returns.

use core::error::Error;
use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{Inc, IncExemplar, Phase, UnwindGuard, Unwound, WithExemplar, disarm};
use crate::sample::EncodeLabels;

/// Decides which errors a [`CountErrors`] counts (Python's `exc=` argument).
///
/// Implemented by every `FnMut(&E) -> bool` closure and by [`AllErrors`]; implement it
/// for a named type when the wrapped future must have a nameable type.
pub trait ErrorFilter<E: ?Sized> {
    /// Whether `error` is counted.
    fn counts(&mut self, error: &E) -> bool;
}

impl<E: ?Sized, P: FnMut(&E) -> bool> ErrorFilter<E> for P {
    #[inline]
    fn counts(&mut self, error: &E) -> bool {
        self(error)
    }
}

/// The default [`ErrorFilter`]: every `Err` counts.
#[derive(Clone, Copy, Debug, Default)]
pub struct AllErrors;

impl<E: ?Sized> ErrorFilter<E> for AllErrors {
    #[inline]
    fn counts(&mut self, _: &E) -> bool {
        true
    }
}

/// Whether `error` is a `T` or was caused by one (somewhere in its
/// [`source`](Error::source) chain): the closest Rust analogue of Python's
/// `except SomeError`, which also matches subclasses.
///
/// ```
/// use core::fmt;
/// use torchlight::{Counter, Instrument, caused_by};
///
/// #[derive(Debug)]
/// struct Timeout;
/// impl fmt::Display for Timeout {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("timed out") }
/// }
/// impl core::error::Error for Timeout {}
///
/// #[derive(Debug)]
/// struct QueryFailed(Timeout);
/// impl fmt::Display for QueryFailed {
///     fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str("query failed") }
/// }
/// impl core::error::Error for QueryFailed {
///     fn source(&self) -> Option<&(dyn core::error::Error + 'static)> { Some(&self.0) }
/// }
///
/// static TIMEOUTS: Counter = Counter::new();
/// let query = async { Err::<(), _>(QueryFailed(Timeout)) };
/// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
/// let _ = block_on(query.count_errors_if(&TIMEOUTS, |e| caused_by::<Timeout>(e)));
/// assert_eq!(TIMEOUTS.get(), 1);
/// ```
#[must_use]
pub fn caused_by<T: Error + 'static>(error: &(dyn Error + 'static)) -> bool {
    let mut next = Some(error);
    while let Some(error) = next {
        if error.is::<T>() {
            return true;
        }
        next = error.source();
    }
    false
}

pin_project! {
    /// A future that increments a counter once for each `Err` its inner future returns
    /// that the filter `P` accepts, and once if a panic unwinds out of the inner `poll`.
    /// The output is passed through unchanged.
    ///
    /// Dropping a started, unfinished future (cancellation) is not an error unless
    /// [`count_cancellation`](Self::count_cancellation) says so.
    ///
    /// Made by [`Instrument::count_errors`](crate::Instrument::count_errors) and
    /// [`Instrument::count_errors_if`](crate::Instrument::count_errors_if).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct CountErrors<F, M, P>
    where
        M: Inc,
    {
        #[pin]
        inner: F,
        counter: ErrorCounter<M>,
        filter: P,
    }
}

/// The counting half of a [`CountErrors`]; counting a cancellation lives in its `Drop`.
struct ErrorCounter<M: Inc> {
    metric: M,
    /// Invariant: `Running` from the first poll until the outcome has been counted (or
    /// found not to count).
    phase: Phase<()>,
    /// Whether a drop while `Running` counts as an error.
    count_cancellation: bool,
}

impl<F, M: Inc, P> CountErrors<F, M, P> {
    /// Wraps `inner`, to count in `metric` the errors `filter` accepts.
    pub fn new(inner: F, metric: M, filter: P) -> Self {
        Self {
            inner,
            counter: ErrorCounter {
                metric,
                phase: Phase::Idle,
                count_cancellation: false,
            },
            filter,
        }
    }

    /// Also counts one error when the future is dropped after its first poll and before
    /// it finished (a cancellation, a lost `select!` race, a timeout). Python's
    /// `count_exceptions` does this by default because `CancelledError` is an exception.
    pub fn count_cancellation(mut self) -> Self {
        self.counter.count_cancellation = true;
        self
    }

    /// Unwraps the inner future. Nothing is counted, whatever its state; the inner
    /// future runs on uncounted.
    pub fn into_inner(self) -> F {
        let Self {
            inner, mut counter, ..
        } = self;
        counter.phase = Phase::Done;
        inner
    }
}

impl<F, M: IncExemplar + Clone, P> CountErrors<F, M, P> {
    /// Counts each error with, as its exemplar, the labels `source` returns when the
    /// error is counted (usually the current trace id).
    ///
    /// The metric is cloned into the new wrapper (a reference or an `Arc` clones
    /// cheaply); what was started carries over. Labels that break an OpenMetrics rule
    /// lose the exemplar, never the count.
    ///
    /// ```
    /// use torchlight::{ExemplarCounter, Instrument};
    ///
    /// static FAILURES: ExemplarCounter = ExemplarCounter::new();
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// let work = async { Err::<(), _>("refused") };
    /// let _ = block_on(work.count_errors(&FAILURES).exemplar(|| [("trace_id", "4bf92f35")]));
    /// assert_eq!(FAILURES.get(), 1);
    /// assert_eq!(FAILURES.exemplar().unwrap().labels().next(), Some(("trace_id", "4bf92f35")));
    /// ```
    pub fn exemplar<S, L>(self, source: S) -> CountErrors<F, WithExemplar<M, S>, P>
    where
        S: Fn() -> L,
        L: EncodeLabels,
    {
        let Self {
            inner,
            mut counter,
            filter,
        } = self;
        // Done: dropping the old counter below counts nothing.
        let phase = core::mem::replace(&mut counter.phase, Phase::Done);
        CountErrors {
            inner,
            counter: ErrorCounter {
                metric: WithExemplar::new(counter.metric.clone(), source),
                phase,
                count_cancellation: counter.count_cancellation,
            },
            filter,
        }
    }
}

impl<M: Inc> Unwound for ErrorCounter<M> {
    fn unwound(&mut self) {
        if matches!(self.phase, Phase::Running(())) {
            self.phase = Phase::Done;
            self.metric.inc();
        }
    }
}

impl<M: Inc> Drop for ErrorCounter<M> {
    fn drop(&mut self) {
        if self.count_cancellation && matches!(self.phase, Phase::Running(())) {
            self.metric.inc();
        }
    }
}

impl<F, M, P, T, E> Future for CountErrors<F, M, P>
where
    F: Future<Output = Result<T, E>>,
    M: Inc,
    P: ErrorFilter<E>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let counter = this.counter;
        if matches!(counter.phase, Phase::Idle) {
            counter.phase = Phase::Running(());
        }
        let guard = UnwindGuard(&mut *counter);
        let poll = this.inner.poll(cx);
        disarm(guard);
        if let Poll::Ready(output) = &poll {
            if matches!(counter.phase, Phase::Running(())) {
                // Done first: a panicking filter must not make a later drop count a
                // cancellation.
                counter.phase = Phase::Done;
                if let Err(error) = output {
                    if this.filter.counts(error) {
                        counter.metric.inc();
                    }
                }
            }
        }
        poll
    }
}

impl<F: fmt::Debug, M: Inc + fmt::Debug, P> fmt::Debug for CountErrors<F, M, P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CountErrors")
            .field("inner", &self.inner)
            .field("metric", &self.counter.metric)
            .field("phase", &self.counter.phase)
            .field("count_cancellation", &self.counter.count_cancellation)
            .finish_non_exhaustive()
    }
}
