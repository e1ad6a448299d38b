//! The attribute macros on real code: free functions, methods (`&self`, `&mut self`),
//! generics, `where` clauses, trait impls, `?`, early `return`, `impl Trait` returns,
//! stacking — and the Python suite's decorator cases 1, 3, 7 and 14.
#![forbid(unsafe_code)]

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use torchlight::{Counter, Gauge, Histogram, Inc, IncDec, ManualClock, Metric, Observe};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

/// Pending once, then ready: Python's `await asyncio.sleep(0)`.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if std::mem::replace(&mut self.0, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Python's `fake_observer`.
struct FakeObserver(Mutex<Vec<f64>>);

impl Observe for FakeObserver {
    fn observe(&self, value: f64) {
        self.0.lock().expect("observer lock").push(value);
    }
}

impl FakeObserver {
    fn observed(&self) -> Vec<f64> {
        self.0.lock().expect("observer lock").clone()
    }
}

/// Python's `fake_gauge`: value and number of calls. `Relaxed`: the tests run the
/// futures on their own thread.
struct FakeGauge(AtomicU64, AtomicU64);

impl Inc for FakeGauge {
    fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

impl IncDec for FakeGauge {
    fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
        self.1.fetch_add(1, Ordering::Relaxed);
    }
}

const ONE_SECOND: Duration = Duration::from_secs(1);

mod case_1_and_3 {
    //! Case 1 (`test_still_coroutine_function`) and case 3 (`test_decorator`): the
    //! decorated function and method still return futures, which measure nothing until
    //! awaited.
    use super::*;

    static OBSERVER: FakeObserver = FakeObserver(Mutex::new(Vec::new()));
    static CLOCK: ManualClock = ManualClock::new();

    /// Python's `coro()`.
    #[torchlight::timed(OBSERVER, clock = &CLOCK)]
    async fn coro() -> u32 {
        YieldOnce(false).await;
        CLOCK.advance(ONE_SECOND);
        42
    }

    struct C;

    impl C {
        /// Python's `C.coro`.
        #[torchlight::timed(OBSERVER, clock = &CLOCK)]
        async fn coro(&self) -> u32 {
            YieldOnce(false).await;
            CLOCK.advance(ONE_SECOND);
            42
        }
    }

    fn is_future<F: Future<Output = u32>>(f: F) -> F {
        f
    }

    #[test]
    fn decorated_fn_and_method_return_futures_that_measure_when_awaited() {
        let from_fn = is_future(coro());
        let from_method = is_future(C.coro());
        CLOCK.advance(Duration::from_secs(60));
        assert_eq!(
            OBSERVER.observed(),
            [] as [f64; 0],
            "nothing observed at call time"
        );
        assert_eq!(block_on(from_fn), 42);
        assert_eq!(block_on(from_method), 42);
        assert_eq!(OBSERVER.observed(), [1.0, 1.0]);
    }
}

mod case_7 {
    //! Case 7 (`test_decorator_wrapt`): stacked with other attributes on a method of
    //! two instances; the signature (here: arguments, docs, `#[must_use]`) survives.
    use super::*;

    static OBSERVER: FakeObserver = FakeObserver(Mutex::new(Vec::new()));
    static ERRORS: Counter = Counter::new();
    static CLOCK: ManualClock = ManualClock::new();

    struct C {
        base: u32,
        calls: u32,
    }

    impl C {
        /// Adds to the base.
        #[must_use = "the sum is the point"]
        #[torchlight::count_errors(ERRORS)]
        #[inline]
        #[torchlight::timed(OBSERVER, clock = &CLOCK)]
        async fn coro(&mut self, x: u32) -> Result<String, std::num::TryFromIntError> {
            self.calls += 1;
            CLOCK.advance(ONE_SECOND);
            let x = u8::try_from(x)?;
            Ok((self.base + u32::from(x)).to_string())
        }
    }

    #[test]
    fn stacked_attributes_on_methods_of_two_instances() {
        let mut a = C { base: 0, calls: 0 };
        let mut b = C { base: 40, calls: 0 };
        assert_eq!(block_on(a.coro(5)).as_deref(), Ok("5"));
        assert_eq!(block_on(b.coro(2)).as_deref(), Ok("42"));
        assert_eq!((a.calls, b.calls), (1, 1));
        assert_eq!(OBSERVER.observed(), [1.0, 1.0]);
        assert_eq!(ERRORS.get(), 0);
        assert!(block_on(a.coro(300)).is_err(), "`?` works in the body");
        assert_eq!(ERRORS.get(), 1);
        assert_eq!(OBSERVER.observed(), [1.0, 1.0, 1.0]);
    }
}

mod case_14 {
    //! Case 14 (`test_async_decorator`): one increment, one decrement.
    use super::*;

    static GAUGE: FakeGauge = FakeGauge(AtomicU64::new(0), AtomicU64::new(0));

    #[torchlight::track_in_progress(GAUGE)]
    async fn coro() -> u64 {
        YieldOnce(false).await;
        GAUGE.0.load(Ordering::Relaxed)
    }

    #[test]
    fn decorated_fn_tracks_in_progress() {
        assert_eq!(block_on(coro()), 1, "in progress while running");
        assert_eq!(GAUGE.0.load(Ordering::Relaxed), 0);
        assert_eq!(GAUGE.1.load(Ordering::Relaxed), 2);
    }
}

mod shapes {
    //! The function shapes the attributes must keep working.
    use std::fmt::Display;

    use super::*;

    static TIME: Metric<Histogram> = Metric::new("t_seconds", "t", Histogram::new());
    static ERRORS: Metric<Counter> = Metric::new("e", "e", Counter::new());
    static TIMEOUTS: Counter = Counter::new();
    static IN_FLIGHT: Metric<Gauge> = Metric::new("g", "g", Gauge::new());

    #[derive(Debug, PartialEq)]
    enum Error {
        Timeout,
        Refused,
    }

    /// Generic, with a `where` clause and an early `return`.
    #[torchlight::timed(TIME)]
    #[torchlight::track_in_progress(IN_FLIGHT)]
    async fn largest<T>(items: &[T]) -> Option<&T>
    where
        T: PartialOrd,
    {
        if items.is_empty() {
            return None;
        }
        items
            .iter()
            .fold(None, |best: Option<&T>, item| match best {
                Some(b) if b >= item => Some(b),
                _ => Some(item),
            })
    }

    /// Counts only timeouts.
    #[torchlight::count_errors(TIMEOUTS, filter = |e| *e == Error::Timeout)]
    async fn connect(outcome: Result<(), Error>) -> Result<(), Error> {
        outcome
    }

    /// An `impl Trait` return type and no return type at all.
    #[torchlight::timed(TIME)]
    async fn shown(n: u32) -> impl Display {
        n * 2
    }

    #[torchlight::track_in_progress(IN_FLIGHT)]
    async fn unit() {}

    trait Service {
        async fn call(&self, n: u32) -> Result<u32, Error>;
    }

    struct Doubler;

    impl Service for Doubler {
        #[torchlight::count_errors(ERRORS)]
        #[torchlight::timed(TIME)]
        async fn call(&self, n: u32) -> Result<u32, Error> {
            n.checked_mul(2).ok_or(Error::Refused)
        }
    }

    torchlight::label_value! { enum Method { Get = "GET", Post = "POST" } }
    torchlight::label_set! { struct Labels { method: Method } }
    static BY_METHOD: torchlight::Labelled<Labels, Histogram, 2> =
        torchlight::Labelled::new([Histogram::new(), Histogram::new()]);

    /// The metric may depend on the arguments (a labelled child chosen per call).
    #[torchlight::timed(BY_METHOD.get(Labels { method }))]
    async fn handle(method: Method, body: String) -> usize {
        let _ = method;
        body.len()
    }

    #[test]
    fn the_metric_may_depend_on_the_arguments() {
        assert_eq!(block_on(handle(Method::Post, "abc".into())), 3);
        assert_eq!(block_on(handle(Method::Post, String::new())), 0);
        assert_eq!(
            BY_METHOD
                .get(Labels {
                    method: Method::Post
                })
                .snapshot()
                .count(),
            2
        );
        assert_eq!(
            BY_METHOD
                .get(Labels {
                    method: Method::Get
                })
                .snapshot()
                .count(),
            0
        );
    }

    #[test]
    fn generics_where_clauses_early_returns_and_lifetimes() {
        assert_eq!(block_on(largest::<u8>(&[])), None);
        assert_eq!(block_on(largest(&[3, 9, 4])), Some(&9));
        assert_eq!(IN_FLIGHT.get(), 0);
    }

    #[test]
    fn filter_option_selects_errors() {
        let before = TIMEOUTS.get();
        assert_eq!(block_on(connect(Err(Error::Refused))), Err(Error::Refused));
        assert_eq!(block_on(connect(Err(Error::Timeout))), Err(Error::Timeout));
        assert_eq!(block_on(connect(Ok(()))), Ok(()));
        assert_eq!(TIMEOUTS.get(), before + 1);
    }

    #[test]
    fn impl_trait_and_unit_returns() {
        assert_eq!(block_on(shown(21)).to_string(), "42");
        block_on(unit());
    }

    #[test]
    fn generated_futures_stay_send() {
        fn send<F: Future + Send>(_: F) {}
        send(Doubler.call(1));
        send(connect(Ok(())));
        send(largest(&[1u8]));
        send(unit());
    }

    #[test]
    fn trait_impl_methods() {
        assert_eq!(block_on(Doubler.call(2)), Ok(4));
        assert_eq!(block_on(Doubler.call(u32::MAX)), Err(Error::Refused));
        assert!(ERRORS.get() >= 1);
    }
}

#[test]
fn non_async_functions_are_rejected_with_a_clear_error() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/ui/*.rs");
}

/// `cancellation = true` counts a call dropped after it started and before it finished,
/// besides its errors; a call that finishes with `Ok` is not counted, and without the
/// option a cancellation is not counted either.
#[test]
fn count_errors_can_count_cancellations() {
    static WITH: Counter = Counter::new();
    static WITHOUT: Counter = Counter::new();

    #[torchlight::count_errors(WITH, cancellation = true)]
    async fn counted(outcome: Result<(), ()>) -> Result<(), ()> {
        YieldOnce(false).await;
        outcome
    }

    #[torchlight::count_errors(WITHOUT)]
    async fn uncounted(outcome: Result<(), ()>) -> Result<(), ()> {
        YieldOnce(false).await;
        outcome
    }

    let cx = &mut Context::from_waker(Waker::noop());
    let mut started = Box::pin(counted(Ok(())));
    assert!(started.as_mut().poll(cx).is_pending());
    drop(started);
    let mut started = Box::pin(uncounted(Ok(())));
    assert!(started.as_mut().poll(cx).is_pending());
    drop(started);
    assert_eq!((WITH.get(), WITHOUT.get()), (1, 0));

    assert_eq!(block_on(counted(Ok(()))), Ok(()));
    assert_eq!(block_on(counted(Err(()))), Err(()));
    assert_eq!(WITH.get(), 2, "one cancellation and one error");
}

/// `exemplar = || LABELS`: each observation and each counted error carries the labels
/// the closure returns when the call ends, here built from an argument.
mod exemplars {
    use super::*;
    use torchlight::{ExemplarCounter, ExemplarHistogram};

    static LATENCY: ExemplarHistogram = ExemplarHistogram::new();
    static FAILURES: ExemplarCounter = ExemplarCounter::new();
    static CLOCK: ManualClock = ManualClock::new();

    #[torchlight::timed(LATENCY, clock = &CLOCK, exemplar = || [("trace_id", trace_id)])]
    #[torchlight::count_errors(FAILURES, exemplar = || [("trace_id", trace_id)])]
    async fn call(trace_id: &str, fail: bool) -> Result<(), ()> {
        CLOCK.advance(Duration::from_millis(200));
        if fail { Err(()) } else { Ok(()) }
    }

    #[test]
    fn the_labels_of_the_call_become_its_exemplars() {
        block_on(call("ok-trace", false)).unwrap();
        block_on(call("failed-trace", true)).unwrap_err();
        // Both took 0.2 s: the 0.25 bucket (index 6) holds the later call's exemplar.
        let bucket = LATENCY.exemplar(6).expect("an exemplar in le=0.25");
        assert_eq!(bucket.labels().next(), Some(("trace_id", "failed-trace")));
        assert_eq!(bucket.value(), 0.2);
        assert_eq!(FAILURES.get(), 1);
        let failure = FAILURES.exemplar().expect("the failure's exemplar");
        assert_eq!(failure.labels().next(), Some(("trace_id", "failed-trace")));
    }
}
