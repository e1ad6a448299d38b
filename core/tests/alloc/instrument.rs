//! Wrapping and driving instrumented futures allocates nothing: the allocations made
//! on the measuring thread while futures are wrapped, polled to completion, cancelled
//! and unwrapped are counted.
// The wrappers are not built under loom (see `core/src/lib.rs`).
#![cfg(all(feature = "std", not(loom)))]

use std::future::Future;
use std::pin::{Pin, pin};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use torchlight::{Counter, Gauge, Histogram, Instrument, ManualClock, Metric};

use crate::allocations_during;

/// Pending `n` times (waking itself), then ready.
struct PendingFor(u32);

impl Future for PendingFor {
    type Output = Result<u32, &'static str>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.0 == 0 {
            return Poll::Ready(Err("done"));
        }
        self.0 -= 1;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// A waker-less executor (`Waker::noop` does not allocate).
fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

static REQ_TIME: Metric<Histogram> = Metric::new("req_seconds", "req", Histogram::new());
static ERRORS: Metric<Counter> = Metric::new("errors", "errors", Counter::new());
static IN_FLIGHT: Metric<Gauge> = Metric::new("in_flight", "in flight", Gauge::new());
static CLOCK: ManualClock = ManualClock::new();

#[test]
fn wrapping_driving_cancelling_and_unwrapping_allocate_nothing() {
    let allocations = allocations_during(|| {
        for _ in 0..100 {
            // Completed, with an error, through every wrapper and both clocks.
            let out = block_on(
                PendingFor(3)
                    .count_errors(&ERRORS)
                    .count_cancellation()
                    .track_in_progress(&IN_FLIGHT)
                    .time(&REQ_TIME)
                    .time_with(&REQ_TIME, &CLOCK),
            );
            assert_eq!(out, Err("done"));

            // Cancelled mid-flight.
            let mut cancelled = pin!(
                PendingFor(5)
                    .count_errors_if(&ERRORS, |e| e.is_empty())
                    .track_in_progress(&IN_FLIGHT)
                    .time(&REQ_TIME)
            );
            let mut cx = Context::from_waker(Waker::noop());
            assert!(cancelled.as_mut().poll(&mut cx).is_pending());
            CLOCK.advance(Duration::from_millis(1));

            // Unwrapped after a poll.
            let mut timed = PendingFor(2).time_with(&REQ_TIME, &CLOCK);
            assert!(Pin::new(&mut timed).poll(&mut cx).is_pending());
            let PendingFor(left) = timed.into_inner();
            assert_eq!(left, 1);
        }
    });
    assert_eq!(allocations, 0);
    // The work was really done: 100 × (2 completed + 1 cancelled + 1 unwrapped).
    assert_eq!(REQ_TIME.snapshot().count(), 400);
    assert_eq!(ERRORS.get(), 100);
    assert_eq!(IN_FLIGHT.get(), 0);
}

#[test]
fn the_counting_allocator_counts() {
    let allocations = allocations_during(|| drop(std::hint::black_box(Box::new(7u8))));
    assert_eq!(allocations, 1, "a test that cannot fail proves nothing");
}
