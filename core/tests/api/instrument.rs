//! The future wrappers' public behaviour: the Python suite's `TestTime`,
//! `TestCountExceptions` and `TestTrackInprogress` (cases 1–16 of the reference), run on
//! a hand-rolled executor and on tokio, smol and async-std, plus cancellation,
//! never-polled futures, panics, races and a 10 000-task stress run.
//!
//! Every measured duration is exactly one second: the work advances a `ManualClock` by
//! one second, as the Python suite's `patch_timer` fixture makes every `perf_counter`
//! delta exactly 1. Cases 1, 7 and 14 are about decorators and live with the attribute
//! macros in `core/macros/tests/attributes.rs`.
// `StdClock` needs `std`; the wrappers and runtimes are not built under loom (see
// `core/Cargo.toml`).
#![cfg(all(feature = "std", not(loom)))]

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::Poll;
use std::time::Duration;

use crate::support::{
    AsyncStd, Executor, FakeCounter, FakeGauge, FakeObserver, Gate, HandRolled, Smol,
    TokioCurrentThread, TokioMultiThread, YieldOnce, poll_once,
};
use torchlight::{
    Clock, Counter, FloatCounter, FloatGauge, Gauge, Histogram, Instrument, Labelled, ManualClock,
    Metric, Summary, caused_by, label_set, label_value,
};

const ONE_SECOND: Duration = Duration::from_secs(1);

/// The error the Python suite raises: `ValueError("foo")`.
#[derive(Debug, PartialEq, Eq)]
struct ValueError(&'static str);

impl std::fmt::Display for ValueError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "value error: {}", self.0)
    }
}

impl std::error::Error for ValueError {}

/// Another error type, for the "wrong exception" cases.
#[derive(Debug)]
struct TypeError;

impl std::fmt::Display for TypeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("type error")
    }
}

impl std::error::Error for TypeError {}

/// Python's `coro()`: `await asyncio.sleep(0); return 42`, taking one second.
async fn coro(clock: &ManualClock) -> u32 {
    YieldOnce::default().await;
    clock.advance(ONE_SECOND);
    42
}

/// Python's `raiser()`: `await asyncio.sleep(0); raise ve`, taking one second. The
/// error is boxed so the test can check it comes back as the very same object.
async fn raiser(clock: &ManualClock, error: Box<ValueError>) -> Result<u32, Box<ValueError>> {
    YieldOnce::default().await;
    clock.advance(ONE_SECOND);
    Err(error)
}

// ---------------------------------------------------------------- TestTime (cases 2–6)

/// The Python library's README times requests into a `Summary`
/// (`REQ_TIME = Summary(...)`, `@time(REQ_TIME)`): the count and sum are the calls and
/// their seconds.
fn time_into_a_summary<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let req_time = Metric::new("req_time_seconds", "time spent in requests", Summary::new());
    assert_eq!(
        executor.block_on(coro(&clock).time_with(&req_time, &clock)),
        42
    );
    let out =
        executor.block_on(raiser(&clock, Box::new(ValueError("foo"))).time_with(&req_time, &clock));
    assert!(out.is_err());
    let snapshot = req_time.snapshot();
    assert_eq!((snapshot.count(), snapshot.sum()), (2, 2.0));
}

/// Case 2 (`test_decorator_sync`): a future that is ready at its first poll is timed.
fn time_ready_future<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let work = async {
        clock.advance(ONE_SECOND);
        42
    };
    assert_eq!(executor.block_on(work.time_with(&observer, &clock)), 42);
    assert_eq!(observer.observed(), [1.0]);
}

/// Case 3 (`test_decorator`): wrapping observes nothing; the clock starts at the first
/// poll, not at creation, so time spent before the first poll is not measured.
fn time_starts_at_first_poll<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let timed = coro(&clock).time_with(&observer, &clock);
    clock.advance(Duration::from_secs(100));
    assert_eq!(observer.observed(), [] as [f64; 0]);
    assert_eq!(executor.block_on(timed), 42);
    assert_eq!(observer.observed(), [1.0]);
}

/// Case 4 (`test_decorator_exc`): the error is passed through as the same object and
/// the time is observed once.
fn time_error_passes_through<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let error = Box::new(ValueError("foo"));
    let address: *const ValueError = &*error;
    let out = executor.block_on(raiser(&clock, error).time_with(&observer, &clock));
    let error = out.expect_err("raiser fails");
    assert!(std::ptr::eq(&*error, address), "the same error object");
    assert_eq!(observer.observed(), [1.0]);
}

/// Case 5 (`test_future`): a pending future observes nothing until it completes.
fn time_pending_future<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gate = Gate::default();
    let mut timed = pin!(gate.wait().time_with(&observer, &clock));
    assert!(poll_once(timed.as_mut()).is_pending());
    assert_eq!(observer.observed(), [] as [f64; 0]);
    clock.advance(ONE_SECOND);
    gate.open(42);
    assert_eq!(executor.block_on(timed), 42);
    assert_eq!(observer.observed(), [1.0]);
}

/// Case 6 (`test_future_exc`): a pending future that fails observes once.
fn time_pending_future_error<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gate = Gate::<Result<u32, ValueError>>::default();
    let mut timed = pin!(gate.wait().time_with(&observer, &clock));
    assert!(poll_once(timed.as_mut()).is_pending());
    clock.advance(ONE_SECOND);
    gate.open(Err(ValueError("foo")));
    assert_eq!(executor.block_on(timed), Err(ValueError("foo")));
    assert_eq!(observer.observed(), [1.0]);
}

// ------------------------------------------------------ TestCountExceptions (8–13)

/// Case 8 (`test_decorator_no_exc`).
fn count_errors_ok<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let counter = FakeCounter::default();
    let out =
        executor.block_on(async { Ok::<_, ValueError>(coro(&clock).await) }.count_errors(&counter));
    assert_eq!(out, Ok(42));
    assert_eq!(counter.get(), 0);
}

/// Case 9 (`test_decorator_wrong_exc`): `exc=TypeError`, the body fails with a
/// `ValueError`: it passes through uncounted.
fn count_errors_wrong_type<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let counter = FakeCounter::default();
    let out = executor.block_on(
        raiser(&clock, Box::new(ValueError("foo")))
            .count_errors_if(&counter, |e| caused_by::<TypeError>(&**e)),
    );
    assert_eq!(out, Err(Box::new(ValueError("foo"))));
    assert_eq!(counter.get(), 0);
}

/// Case 10 (`test_decorator_exc`): `exc=ValueError`: counted once, passed through.
fn count_errors_matching_type<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let counter = FakeCounter::default();
    let out = executor.block_on(
        raiser(&clock, Box::new(ValueError("foo")))
            .count_errors_if(&counter, |e| caused_by::<ValueError>(&**e)),
    );
    assert_eq!(out, Err(Box::new(ValueError("foo"))));
    assert_eq!(counter.get(), 1);
}

/// Case 11 (`test_future_no_exc`): a pending future that succeeds.
fn count_errors_pending_ok<E: Executor>(executor: &E) {
    let counter = FakeCounter::default();
    let gate = Gate::<Result<u32, ValueError>>::default();
    let mut counted = pin!(gate.wait().count_errors(&counter));
    assert!(poll_once(counted.as_mut()).is_pending());
    gate.open(Ok(42));
    assert_eq!(executor.block_on(counted), Ok(42));
    assert_eq!(counter.get(), 0);
}

/// Case 12 (`test_future_wrong_exc`): a pending future fails with an error the filter
/// does not match.
fn count_errors_pending_wrong_type<E: Executor>(executor: &E) {
    let counter = FakeCounter::default();
    let gate = Gate::<Result<u32, ValueError>>::default();
    let mut counted = pin!(
        gate.wait()
            .count_errors_if(&counter, |e| caused_by::<TypeError>(e))
    );
    assert!(poll_once(counted.as_mut()).is_pending());
    gate.open(Err(ValueError("foo")));
    assert_eq!(executor.block_on(counted), Err(ValueError("foo")));
    assert_eq!(counter.get(), 0);
}

/// Case 13 (`test_future_exc`): a pending future fails with a matching error.
fn count_errors_pending_matching_type<E: Executor>(executor: &E) {
    let counter = FakeCounter::default();
    let gate = Gate::<Result<u32, ValueError>>::default();
    let mut counted = pin!(
        gate.wait()
            .count_errors_if(&counter, |e| caused_by::<ValueError>(e))
    );
    assert!(poll_once(counted.as_mut()).is_pending());
    gate.open(Err(ValueError("foo")));
    assert_eq!(executor.block_on(counted), Err(ValueError("foo")));
    assert_eq!(counter.get(), 1);
}

// --------------------------------------------------------- TestTrackInprogress (15–16)

/// Case 15 (`test_coroutine`): one increment, one decrement, back to 0.
fn track_in_progress_completes<E: Executor>(executor: &E) {
    let clock = ManualClock::new();
    let gauge = FakeGauge::default();
    let tracked = async {
        let during = gauge.get();
        (coro(&clock).await, during)
    }
    .track_in_progress(&gauge);
    assert_eq!(gauge.calls(), 0, "nothing happens at creation");
    assert_eq!(executor.block_on(tracked), (42, 1));
    assert_eq!(gauge.get(), 0);
    assert_eq!(gauge.calls(), 2);
}

/// Case 16 (`test_future`), with the decided deviation: Python's future mode increments
/// at wrap time (and leaks if never awaited); here the gauge goes up at the first poll
/// and down when the future completes.
fn track_in_progress_pending_future<E: Executor>(executor: &E) {
    let gauge = FakeGauge::default();
    let gate = Gate::default();
    let mut tracked = pin!(gate.wait().track_in_progress(&gauge));
    assert_eq!(gauge.get(), 0, "not started yet");
    assert!(poll_once(tracked.as_mut()).is_pending());
    assert_eq!(gauge.get(), 1);
    gate.open(42);
    assert_eq!(executor.block_on(tracked), 42);
    assert_eq!(gauge.get(), 0);
    assert_eq!(gauge.calls(), 2);
}

/// All three stacked on torchlight's own metrics, through `Metric` and a labelled child.
fn stacked_on_torchlight_metrics<E: Executor>(executor: &E) {
    label_value! { enum Outcome { Hit = "hit", Miss = "miss" } }
    label_set! { struct Labels { outcome: Outcome } }
    let clock = ManualClock::new();
    let time: Metric<Histogram> = Metric::new("t_seconds", "t", Histogram::new());
    let errors: Labelled<Labels, Counter, 2> = Labelled::new([Counter::new(), Counter::new()]);
    let in_flight = Gauge::new();
    let out = executor.block_on(
        raiser(&clock, Box::new(ValueError("x")))
            .count_errors(errors.get(Labels {
                outcome: Outcome::Miss,
            }))
            .track_in_progress(&in_flight)
            .time_with(&time, &clock),
    );
    assert!(out.is_err());
    let snapshot = time.snapshot();
    assert_eq!((snapshot.count(), snapshot.sum()), (1, 1.0));
    assert_eq!(
        errors
            .get(Labels {
                outcome: Outcome::Miss
            })
            .get(),
        1
    );
    assert_eq!(
        errors
            .get(Labels {
                outcome: Outcome::Hit
            })
            .get(),
        0
    );
    assert_eq!(in_flight.get(), 0);
}

macro_rules! on_every_executor {
    ($($case:ident),* $(,)?) => {
        mod hand_rolled { $( #[test] fn $case() { super::$case(&super::HandRolled); } )* }
        mod tokio_current_thread { $( #[test] fn $case() { super::$case(&super::TokioCurrentThread); } )* }
        mod tokio_multi_thread { $( #[test] fn $case() { super::$case(&super::TokioMultiThread); } )* }
        mod smol { $( #[test] fn $case() { super::$case(&super::Smol); } )* }
        mod async_std { $( #[test] fn $case() { super::$case(&super::AsyncStd); } )* }
    };
}

on_every_executor!(
    time_into_a_summary,
    time_ready_future,
    time_starts_at_first_poll,
    time_error_passes_through,
    time_pending_future,
    time_pending_future_error,
    count_errors_ok,
    count_errors_wrong_type,
    count_errors_matching_type,
    count_errors_pending_ok,
    count_errors_pending_wrong_type,
    count_errors_pending_matching_type,
    track_in_progress_completes,
    track_in_progress_pending_future,
    stacked_on_torchlight_metrics,
);

// ------------------------------------------------------------ beyond the Python suite

/// `fut.time(&SUMMARY)` on a `static`, with the standard clock.
#[test]
fn time_a_future_into_a_static_summary() {
    static REQ_TIME: Metric<Summary> =
        Metric::new("req_time_seconds", "time spent in requests", Summary::new());
    assert_eq!(HandRolled.block_on(async { 7 }.time(&REQ_TIME)), 7);
    let snapshot = REQ_TIME.snapshot();
    assert_eq!(snapshot.count(), 1);
    assert!(
        snapshot.sum() >= 0.0 && snapshot.sum() < 60.0,
        "{snapshot:?}"
    );
}

#[test]
fn cancellation_observes_and_decrements_once_and_counts_only_when_asked() {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gauge = FakeGauge::default();
    let quiet = FakeCounter::default();
    let loud = FakeCounter::default();
    let gate = Gate::<Result<(), ValueError>>::default();
    {
        let mut fut = Box::pin(
            gate.wait()
                .count_errors(&quiet)
                .count_errors(&loud)
                .count_cancellation()
                .track_in_progress(&gauge)
                .time_with(&observer, &clock),
        );
        assert!(poll_once(fut.as_mut()).is_pending());
        assert!(poll_once(fut.as_mut()).is_pending());
        clock.advance(ONE_SECOND);
        assert_eq!(gauge.get(), 1);
    } // dropped mid-flight: cancelled
    assert_eq!(observer.observed(), [1.0], "time until the drop, once");
    assert_eq!((gauge.get(), gauge.calls()), (0, 2));
    assert_eq!(quiet.get(), 0, "cancellation is not an error by default");
    assert_eq!(loud.get(), 1, "count_cancellation opts in");
}

#[test]
fn never_polled_futures_touch_nothing() {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gauge = FakeGauge::default();
    let counter = FakeCounter::default();
    let fut = async { Err::<(), _>(ValueError("never")) }
        .count_errors(&counter)
        .count_cancellation()
        .track_in_progress(&gauge)
        .time_with(&observer, &clock);
    drop(fut);
    assert_eq!(observer.observed(), [] as [f64; 0]);
    assert_eq!(gauge.calls(), 0);
    assert_eq!(counter.get(), 0);
}

#[test]
fn a_panic_in_poll_ends_every_measurement_exactly_once() {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gauge = FakeGauge::default();
    let counter = FakeCounter::default();
    let mut fut = Box::pin(
        async {
            YieldOnce::default().await;
            clock.advance(ONE_SECOND);
            if gauge.get() == 1 {
                panic!("boom");
            }
            Ok::<(), ValueError>(())
        }
        .count_errors(&counter)
        .count_cancellation()
        .track_in_progress(&gauge)
        .time_with(&observer, &clock),
    );
    assert!(poll_once(fut.as_mut()).is_pending());
    assert_eq!(gauge.get(), 1);
    let panicked = catch_unwind(AssertUnwindSafe(|| poll_once(fut.as_mut())));
    assert!(panicked.is_err());
    // Ended while the panic unwound, before the future itself is dropped.
    assert_eq!(observer.observed(), [1.0]);
    assert_eq!((gauge.get(), gauge.calls()), (0, 2));
    assert_eq!(counter.get(), 1, "the panic counts as an error");
    drop(fut);
    assert_eq!(observer.observed(), [1.0], "no second observation at drop");
    assert_eq!(gauge.calls(), 2);
    assert_eq!(
        counter.get(),
        1,
        "a panicked future is not also a cancellation"
    );
}

#[test]
fn a_panicking_task_on_tokio_leaves_the_gauge_at_zero() {
    static IN_FLIGHT: Gauge = Gauge::new();
    static PANICS: Counter = Counter::new();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    let joined = runtime.block_on(
        runtime.spawn(
            async {
                tokio::task::yield_now().await;
                if IN_FLIGHT.get() == 1 {
                    panic!("boom");
                }
                Ok::<(), ValueError>(())
            }
            .count_errors(&PANICS)
            .track_in_progress(&IN_FLIGHT),
        ),
    );
    assert!(joined.unwrap_err().is_panic());
    assert_eq!(IN_FLIGHT.get(), 0);
    assert_eq!(PANICS.get(), 1);
}

#[test]
fn the_loser_of_a_select_race_is_measured_as_cancelled() {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gauge = FakeGauge::default();
    let cancelled = FakeCounter::default();
    let never = Gate::<Result<u32, ValueError>>::default();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let winner = runtime.block_on(async {
        let slow = never
            .wait()
            .count_errors(&cancelled)
            .count_cancellation()
            .track_in_progress(&gauge)
            .time_with(&observer, &clock);
        let fast = async {
            YieldOnce::default().await;
            clock.advance(ONE_SECOND);
            Ok::<u32, ValueError>(7)
        }
        .track_in_progress(&gauge)
        .time_with(&observer, &clock);
        tokio::select! {
            biased;
            out = slow => out,
            out = fast => out,
        }
    });
    assert_eq!(winner, Ok(7));
    assert_eq!(
        observer.observed(),
        [1.0, 1.0],
        "winner completed, loser dropped"
    );
    assert_eq!((gauge.get(), gauge.calls()), (0, 4));
    assert_eq!(cancelled.get(), 1);
}

#[test]
fn ten_thousand_concurrent_tracked_futures_end_at_exactly_zero() {
    const TASKS: usize = 10_000;
    static IN_FLIGHT: Metric<Gauge> = Metric::new("in_flight", "in flight", Gauge::new());
    static REQ_TIME: Metric<Histogram> = Metric::new("req_seconds", "req", Histogram::new());
    static ERRORS: Metric<Counter> = Metric::new("req_errors", "errors", Counter::new());
    static STARTED: AtomicUsize = AtomicUsize::new(0);
    static RELEASE: AtomicBool = AtomicBool::new(false);

    // ORDERING: SeqCst on STARTED / RELEASE: a start-line between the tasks and the test;
    // the strongest ordering keeps the barrier obviously right, speed is irrelevant.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        let tasks: Vec<_> = (0..TASKS)
            .map(|i| {
                tokio::spawn(
                    async move {
                        // ORDERING: SeqCst, the start line (see above).
                        STARTED.fetch_add(1, Ordering::SeqCst);
                        // ORDERING: SeqCst, the start line (see above).
                        while !RELEASE.load(Ordering::SeqCst) {
                            tokio::task::yield_now().await;
                        }
                        if i % 2 == 0 {
                            Ok(i)
                        } else {
                            Err(ValueError("odd"))
                        }
                    }
                    .count_errors(&ERRORS)
                    .track_in_progress(&IN_FLIGHT)
                    .time(&REQ_TIME),
                )
            })
            .collect();
        // ORDERING: SeqCst, the start line (see above).
        while STARTED.load(Ordering::SeqCst) < TASKS {
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        assert_eq!(IN_FLIGHT.get(), TASKS as i64, "all in flight at once");
        // ORDERING: SeqCst, the start line (see above).
        RELEASE.store(true, Ordering::SeqCst);
        for task in tasks {
            task.await.unwrap().ok();
        }
    });
    assert_eq!(IN_FLIGHT.get(), 0);
    assert_eq!(REQ_TIME.snapshot().count(), TASKS as u64);
    assert_eq!(ERRORS.get(), (TASKS / 2) as u64);
}

#[test]
fn into_inner_hands_back_the_future_and_ends_the_measurement() {
    let clock = ManualClock::new();
    let observer = FakeObserver::default();
    let gauge = FakeGauge::default();
    let counter = FakeCounter::default();
    // Never polled: nothing recorded.
    let inner = async { 5 }.time_with(&observer, &clock).into_inner();
    assert_eq!(HandRolled.block_on(inner), 5);
    assert_eq!(observer.observed(), [] as [f64; 0]);

    // Polled (Unpin inner, so it can be polled in place and moved out).
    let gate = Gate::<Result<u32, ValueError>>::default();
    let mut tracked = gate
        .wait()
        .count_errors(&counter)
        .count_cancellation()
        .track_in_progress(&gauge)
        .time_with(&observer, &clock);
    assert!(poll_once(std::pin::Pin::new(&mut tracked)).is_pending());
    clock.advance(ONE_SECOND);
    let counted = tracked.into_inner().into_inner();
    assert_eq!(observer.observed(), [1.0]);
    assert_eq!((gauge.get(), gauge.calls()), (0, 2));
    let mut wait = counted.into_inner();
    assert_eq!(counter.get(), 0, "into_inner is not a cancellation");
    gate.open(Ok(3));
    assert_eq!(poll_once(std::pin::Pin::new(&mut wait)), Poll::Ready(Ok(3)));
    assert_eq!(observer.observed(), [1.0]);
    assert_eq!(gauge.calls(), 2);
}

#[test]
fn wrappers_keep_send_sync_and_unpin() {
    fn send_sync_unpin<T: Send + Sync + Unpin>(_: &T) {}
    static HIST: Histogram = Histogram::new();
    static GAUGE: Gauge = Gauge::new();
    static COUNTER: Counter = Counter::new();
    static CLOCK: ManualClock = ManualClock::new();
    let ready = std::future::ready(Ok::<u8, ValueError>(1));
    let wrapped = ready
        .count_errors(&COUNTER)
        .track_in_progress(&GAUGE)
        .time(&HIST)
        .time_with(&HIST, &CLOCK);
    send_sync_unpin(&wrapped);
    // The wrappers add a few words, never a pointer to the heap.
    assert!(
        std::mem::size_of_val(&wrapped) <= 128,
        "{}",
        std::mem::size_of_val(&wrapped)
    );
}

#[test]
fn arc_owned_metrics_let_spawned_tasks_own_them() {
    let gauge = std::sync::Arc::new(Gauge::new());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime
        .block_on(runtime.spawn(async {}.track_in_progress(std::sync::Arc::clone(&gauge))))
        .unwrap();
    assert_eq!(gauge.get(), 0);
}

/// What an adapter's tokio clock looks like: `tokio::time::Instant` is the instant.
struct TokioClock;

impl Clock for TokioClock {
    type Instant = tokio::time::Instant;

    fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }

    fn seconds_between(earlier: tokio::time::Instant, later: tokio::time::Instant) -> f64 {
        later.saturating_duration_since(earlier).as_secs_f64()
    }
}

#[test]
fn a_tokio_clock_plugs_in() {
    let histogram = Histogram::new();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    runtime.block_on(async {
        tokio::time::sleep(Duration::from_millis(20))
            .time_with(&histogram, TokioClock)
            .await;
    });
    let snapshot = histogram.snapshot();
    assert_eq!(snapshot.count(), 1);
    assert!((0.02..5.0).contains(&snapshot.sum()), "{}", snapshot.sum());
}

#[test]
fn float_metrics_plug_in() {
    let clock = ManualClock::new();
    let busy = FloatCounter::new();
    let errors = FloatCounter::new();
    let in_flight = FloatGauge::new();
    let out = HandRolled.block_on(
        async {
            clock.advance(Duration::from_millis(250));
            Err::<(), _>(ValueError("x"))
        }
        .count_errors(&errors)
        .track_in_progress(&in_flight)
        .time_with(&busy, &clock),
    );
    assert!(out.is_err());
    assert_eq!(busy.get(), 0.25, "a FloatCounter adds up the seconds");
    assert_eq!(errors.get(), 1.0);
    assert_eq!(in_flight.get(), 0.0);
}
