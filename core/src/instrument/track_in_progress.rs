//! [`TrackInProgress`]: a future that holds a gauge up while it runs.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::{IncDec, Phase, UnwindGuard, Unwound, disarm};

pin_project! {
    /// A future that increments a gauge when first polled and decrements it exactly once
    /// when it completes, is dropped, or panics, so the gauge never leaks. A future that
    /// is never polled never touches the gauge.
    ///
    /// Made by [`Instrument::track_in_progress`](crate::Instrument::track_in_progress).
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    pub struct TrackInProgress<F, M>
    where
        M: IncDec,
    {
        #[pin]
        inner: F,
        tracker: Tracker<M>,
    }
}

/// The gauge-holding half of a [`TrackInProgress`]; the decrement lives in its `Drop`.
struct Tracker<M: IncDec> {
    metric: M,
    /// Invariant: `Running` exactly while this tracker owes the gauge one decrement.
    phase: Phase<()>,
}

impl<F, M: IncDec> TrackInProgress<F, M> {
    /// Wraps `inner`, to be counted in `metric` while it runs.
    pub fn new(inner: F, metric: M) -> Self {
        Self {
            inner,
            tracker: Tracker {
                metric,
                phase: Phase::Idle,
            },
        }
    }

    /// Unwraps the inner future. If it had been polled and not finished, the gauge is
    /// decremented now, as a drop would; the inner future runs on untracked.
    pub fn into_inner(self) -> F {
        let Self { inner, tracker } = self;
        drop(tracker);
        inner
    }
}

impl<M: IncDec> Tracker<M> {
    #[inline]
    fn start(&mut self) {
        if matches!(self.phase, Phase::Idle) {
            self.phase = Phase::Running(());
            self.metric.inc();
        }
    }

    #[inline]
    fn finish(&mut self) {
        if matches!(self.phase, Phase::Running(())) {
            self.phase = Phase::Done;
            self.metric.dec();
        }
    }
}

impl<M: IncDec> Unwound for Tracker<M> {
    fn unwound(&mut self) {
        self.finish();
    }
}

impl<M: IncDec> Drop for Tracker<M> {
    fn drop(&mut self) {
        self.finish();
    }
}

impl<F: Future, M: IncDec> Future for TrackInProgress<F, M> {
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let tracker = this.tracker;
        tracker.start();
        let guard = UnwindGuard(&mut *tracker);
        let poll = this.inner.poll(cx);
        disarm(guard);
        if poll.is_ready() {
            tracker.finish();
        }
        poll
    }
}

impl<F: fmt::Debug, M: IncDec + fmt::Debug> fmt::Debug for TrackInProgress<F, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TrackInProgress")
            .field("inner", &self.inner)
            .field("metric", &self.tracker.metric)
            .field("phase", &self.tracker.phase)
            .finish()
    }
}
