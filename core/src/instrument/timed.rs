//! [`Timed`]: a future that observes how long it ran.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{Observe, ObserveExemplar, Phase, UnwindGuard, Unwound, WithExemplar, disarm};
use crate::clock::Clock;
use crate::sample::EncodeLabels;

pin_project! {
    /// A future that observes, in seconds, how long its inner future ran: from the first
    /// poll until it completed, was dropped, or panicked. Exactly one observation per
    /// started future; none for a future that was never polled.
    ///
    /// Made by `Instrument::time` (with `std`) and
    /// [`Instrument::time_with`](crate::Instrument::time_with).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct Timed<F, M, C>
    where
        M: Observe,
        C: Clock,
    {
        #[pin]
        inner: F,
        timer: Timer<M, C>,
    }
}

/// The measuring half of a [`Timed`]; observing lives in its `Drop`, so `Timed` itself
/// needs no drop glue of its own and can hand its inner future back in `into_inner`.
struct Timer<M: Observe, C: Clock> {
    metric: M,
    clock: C,
    /// Invariant: `Running(start)` from the first poll until the one observation.
    phase: Phase<C::Instant>,
}

impl<F, M: Observe, C: Clock> Timed<F, M, C> {
    /// Wraps `inner`, to observe into `metric` with time read from `clock`.
    pub fn new(inner: F, metric: M, clock: C) -> Self {
        Self {
            inner,
            timer: Timer {
                metric,
                clock,
                phase: Phase::Idle,
            },
        }
    }

    /// Unwraps the inner future. If it had been polled and not finished, the time so far
    /// is observed now, as a drop would; the inner future runs on unmeasured.
    pub fn into_inner(self) -> F {
        let Self { inner, timer } = self;
        drop(timer);
        inner
    }
}

impl<F, M: ObserveExemplar + Clone, C: Clock + Clone> Timed<F, M, C> {
    /// Records, with the observation, the labels `source` returns when the future ends
    /// (usually the current trace id) as the exemplar of the observed bucket:
    /// `work().time(&REQ_TIME).exemplar(|| [("trace_id", current_trace_id())])`.
    ///
    /// The metric and the clock are cloned into the new wrapper (a reference or an
    /// `Arc` clones cheaply); a measurement already started carries over. Labels that
    /// break an OpenMetrics rule lose the exemplar, never the observation.
    ///
    /// ```
    /// use torchlight::{ExemplarHistogram, Instrument, ManualClock};
    ///
    /// static REQ_TIME: ExemplarHistogram = ExemplarHistogram::new();
    /// static CLOCK: ManualClock = ManualClock::new();
    /// # fn block_on<F: core::future::Future>(f: F) -> F::Output { let mut f = core::pin::pin!(f); let mut cx = core::task::Context::from_waker(core::task::Waker::noop()); loop { if let core::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) { return v; } } }
    /// let work = async { CLOCK.advance(core::time::Duration::from_millis(30)) };
    /// block_on(work.time_with(&REQ_TIME, &CLOCK).exemplar(|| [("trace_id", "4bf92f35")]));
    /// let exemplar = REQ_TIME.exemplar(3).expect("the 0.05 bucket's exemplar");
    /// assert_eq!(exemplar.labels().next(), Some(("trace_id", "4bf92f35")));
    /// assert_eq!(exemplar.value(), 0.03);
    /// ```
    pub fn exemplar<S, L>(self, source: S) -> Timed<F, WithExemplar<M, S>, C>
    where
        S: Fn() -> L,
        L: EncodeLabels,
    {
        let Self { inner, mut timer } = self;
        // Done: dropping the old timer below records nothing.
        let phase = core::mem::replace(&mut timer.phase, Phase::Done);
        Timed {
            inner,
            timer: Timer {
                metric: WithExemplar::new(timer.metric.clone(), source),
                clock: timer.clock.clone(),
                phase,
            },
        }
    }
}

impl<M: Observe, C: Clock> Timer<M, C> {
    #[inline]
    fn start(&mut self) {
        if matches!(self.phase, Phase::Idle) {
            self.phase = Phase::Running(self.clock.now());
        }
    }

    #[inline]
    fn finish(&mut self) {
        if let Phase::Running(start) = self.phase {
            self.phase = Phase::Done;
            self.metric
                .observe(C::seconds_between(start, self.clock.now()));
        }
    }
}

impl<M: Observe, C: Clock> Unwound for Timer<M, C> {
    fn unwound(&mut self) {
        self.finish();
    }
}

impl<M: Observe, C: Clock> Drop for Timer<M, C> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<F: Future, M: Observe, C: Clock> Future for Timed<F, M, C> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let timer = this.timer;
        timer.start();
        let guard = UnwindGuard(&mut *timer);
        let poll = this.inner.poll(cx);
        disarm(guard);
        if poll.is_ready() {
            timer.finish();
        }
        poll
    }
}

impl<F: fmt::Debug, M: Observe + fmt::Debug, C: Clock + fmt::Debug> fmt::Debug for Timed<F, M, C>
where
    C::Instant: fmt::Debug,
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timed")
            .field("inner", &self.inner)
            .field("metric", &self.timer.metric)
            .field("clock", &self.timer.clock)
            .field("phase", &self.timer.phase)
            .finish()
    }
}
