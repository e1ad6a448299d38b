//! `AsyncCollector` and `Registry::collect_async` without any runtime: a hand-rolled
//! `block_on`, and deadlines that are futures the test controls (already due, or
//! never), so each outcome is exact.
#![cfg(feature = "std")]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, Waker};

use torchlight::{AsyncCollector, Format, Gauge, Metric, RegisterError, Registry};

fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    // Every future here is ready or pending forever against a due deadline: a bounded
    // number of polls finishes it.
    for _ in 0..1000 {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
    panic!("collect_async did not finish after 1000 polls");
}

fn failures(registry: &Registry) -> Vec<String> {
    let mut text = String::new();
    registry.encode(&mut text, Format::Text).expect("encodes");
    text.lines()
        .filter(|line| line.starts_with("torchlight_async_collector_failures_total{"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn each_outcome_is_counted_by_reason_and_a_pending_run_is_dropped_at_its_deadline() {
    let registry = Registry::new();
    let value = Arc::new(Metric::new("value", "A value.", Gauge::new()));
    registry.register_owned(Arc::clone(&value)).expect("gauge");
    let set = Arc::clone(&value);
    registry
        .register_async(AsyncCollector::new("ok", move || {
            let set = Arc::clone(&set);
            async move {
                set.set(7);
                Ok::<(), std::io::Error>(())
            }
        }))
        .expect("ok");
    let drops = Arc::new(AtomicU64::new(0));
    struct Pending(Arc<AtomicU64>);
    impl Future for Pending {
        type Output = Result<(), std::io::Error>;
        fn poll(self: std::pin::Pin<&mut Self>, _: &mut Context<'_>) -> Poll<Self::Output> {
            Poll::Pending
        }
    }
    impl Drop for Pending {
        fn drop(&mut self) {
            // Relaxed: read after `collect_async` returned, on this thread.
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }
    let dropped = Arc::clone(&drops);
    registry
        .register_async(AsyncCollector::new("pending", move || {
            Pending(Arc::clone(&dropped))
        }))
        .expect("pending");
    registry
        .register_async(AsyncCollector::new("error", || async {
            Err::<(), _>("refused")
        }))
        .expect("error");

    // Deadlines already due: the pending run times out at once, the others finish.
    block_on(registry.collect_async(|_| std::future::ready(())));
    assert_eq!(value.get(), 7);
    assert_eq!(drops.load(Ordering::Relaxed), 1);
    assert_eq!(
        failures(&registry),
        [
            "torchlight_async_collector_failures_total{collector=\"ok\",reason=\"timeout\"} 0",
            "torchlight_async_collector_failures_total{collector=\"ok\",reason=\"error\"} 0",
            "torchlight_async_collector_failures_total{collector=\"ok\",reason=\"panic\"} 0",
            "torchlight_async_collector_failures_total{collector=\"pending\",reason=\"timeout\"} 1",
            "torchlight_async_collector_failures_total{collector=\"pending\",reason=\"error\"} 0",
            "torchlight_async_collector_failures_total{collector=\"pending\",reason=\"panic\"} 0",
            "torchlight_async_collector_failures_total{collector=\"error\",reason=\"timeout\"} 0",
            "torchlight_async_collector_failures_total{collector=\"error\",reason=\"error\"} 1",
            "torchlight_async_collector_failures_total{collector=\"error\",reason=\"panic\"} 0",
        ]
    );
}

#[test]
fn without_collectors_collect_async_is_ready_at_once() {
    let registry = Registry::new();
    let mut future = pin!(registry.collect_async(|_| std::future::pending::<()>()));
    let mut cx = Context::from_waker(Waker::noop());
    assert!(future.as_mut().poll(&mut cx).is_ready());
    assert_eq!(failures(&registry), Vec::<String>::new());
}

#[test]
fn names_are_unique_and_the_failure_family_cannot_clash() {
    let registry = Registry::new();
    let make = || AsyncCollector::new("db", || async { Ok::<(), std::io::Error>(()) });
    registry.register_async(make()).expect("first");
    assert_eq!(
        registry.register_async(make()),
        Err(RegisterError::AlreadyRegistered { name: "db" })
    );

    let taken = Registry::new();
    static CLASH: Metric<Gauge> = Metric::new(AsyncCollector::FAILURES, "Mine.", Gauge::new());
    taken.register(&CLASH).expect("registers");
    assert!(matches!(
        taken.register_async(make()),
        Err(RegisterError::Clash { .. })
    ));
}
