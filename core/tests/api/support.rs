//! Test doubles shared by the instrumentation tests: the Python suite's fake metrics,
//! a hand-rolled executor, a future that completes when told to, and one adapter per
//! executor so every behaviour test runs on each.
// Test support: a poisoned lock or a runtime that cannot start is a test failure, so
// `unwrap` is the right response; not every test binary uses every helper.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use torchlight::{Inc, IncDec, Observe};

// ORDERING (whole file): SeqCst: test doubles, read by assertions on other threads after
// joins and runtime shutdowns; the strongest ordering keeps them obviously right.

/// Python's `fake_observer`: remembers every observed value.
#[derive(Debug, Default)]
pub struct FakeObserver(Mutex<Vec<f64>>);

impl FakeObserver {
    pub fn observed(&self) -> Vec<f64> {
        self.0.lock().unwrap().clone()
    }
}

impl Observe for FakeObserver {
    fn observe(&self, value: f64) {
        self.0.lock().unwrap().push(value);
    }
}

/// Python's `fake_counter`.
///
/// The fakes' atomics are `Relaxed`: a test reads them after the future finished on
/// the executor, whose completion (a join, a channel, `block_on` returning) orders the
/// updates before the read.
#[derive(Debug, Default)]
pub struct FakeCounter(AtomicU64);

impl FakeCounter {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

impl Inc for FakeCounter {
    fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }
}

/// Python's `fake_gauge`: a value and the number of calls made to it.
#[derive(Debug, Default)]
pub struct FakeGauge {
    value: AtomicI64,
    calls: AtomicU64,
}

impl FakeGauge {
    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }

    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }
}

impl Inc for FakeGauge {
    fn inc(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.value.fetch_add(1, Ordering::Relaxed);
    }
}

impl IncDec for FakeGauge {
    fn dec(&self) {
        self.calls.fetch_add(1, Ordering::Relaxed);
        self.value.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A future that is pending until [`Gate::open`] hands it a value (Python's
/// `asyncio.Future` with `set_result` / `set_exception`).
#[derive(Debug)]
pub struct Gate<T> {
    value: Mutex<Option<T>>,
    waker: Mutex<Option<Waker>>,
}

impl<T> Default for Gate<T> {
    fn default() -> Self {
        Self {
            value: Mutex::new(None),
            waker: Mutex::new(None),
        }
    }
}

impl<T> Gate<T> {
    pub fn open(&self, value: T) {
        *self.value.lock().unwrap() = Some(value);
        if let Some(waker) = self.waker.lock().unwrap().take() {
            waker.wake();
        }
    }

    pub fn wait(&self) -> GateWait<'_, T> {
        GateWait(self)
    }
}

pub struct GateWait<'a, T>(&'a Gate<T>);

impl<T> Future for GateWait<'_, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        *self.0.waker.lock().unwrap() = Some(cx.waker().clone());
        match self.0.value.lock().unwrap().take() {
            Some(value) => Poll::Ready(value),
            None => Poll::Pending,
        }
    }
}

/// Pending once (waking itself), then ready: Python's `await asyncio.sleep(0)`.
#[derive(Debug, Default)]
pub struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Polls `future` once with a waker that does nothing.
pub fn poll_once<F: Future + ?Sized>(future: Pin<&mut F>) -> Poll<F::Output> {
    future.poll(&mut Context::from_waker(Waker::noop()))
}

/// Runs a future to completion on some executor.
pub trait Executor {
    fn block_on<F: Future>(&self, future: F) -> F::Output;
}

/// The smallest real executor: poll, park the thread until woken, repeat. No runtime
/// dependency; the waker unparks the thread.
pub struct HandRolled;

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

impl Executor for HandRolled {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        let mut future = pin!(future);
        let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
        let mut cx = Context::from_waker(&waker);
        loop {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            thread::park();
        }
    }
}

pub struct TokioCurrentThread;

impl Executor for TokioCurrentThread {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }
}

pub struct TokioMultiThread;

impl Executor for TokioMultiThread {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap()
            .block_on(future)
    }
}

pub struct Smol;

impl Executor for Smol {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }
}

pub struct AsyncStd;

impl Executor for AsyncStd {
    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_std::task::block_on(future)
    }
}
