//! Asynchronous collectors (`std` feature): futures a server runs before each
//! encoding, under a deadline, to update metrics whose values must be fetched (a
//! connection pool's size, a queue length read over the network).
//!
//! The protocol, runtime-neutral: [`Registry::collect_async`] polls every registered
//! [`AsyncCollector`]'s future concurrently in the calling task, each raced against a
//! timer future the caller makes from the collector's timeout (the server passes its
//! runtime's sleep). A collector that returns an error, panics, or is still running when
//! its timer fires is *skipped*: its future is dropped (that is its cancellation), the
//! metrics it updates keep the values they had, and
//! `torchlight_async_collector_failures_total{collector, reason}` counts it with
//! `reason` = `error`, `panic` or `timeout`. The scrape is answered either way; a
//! failure never turns it into a 500, because one slow backend would then hide every
//! other metric and Prometheus' `up` alike.
//!
//! Chosen over a 500 for that reason, and over dropping the collector's families for
//! the scrape because the metrics it updates are ordinary registered metrics, which the
//! registry encodes without knowing who sets them.

use core::future::{Future, poll_fn};
use core::pin::Pin;
use core::task::Poll;
use core::time::Duration;
use std::boxed::Box;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::vec::Vec;

use super::Registry;
use crate::collect::{Collect, MetricType};
use crate::counter::Counter;
use crate::metric::Metric;
use crate::registry::RegisterError;
use crate::sample::Encoder;

/// The error an [`AsyncCollector`]'s future may return: anything that is an error.
pub type CollectorError = Box<dyn core::error::Error + Send + Sync>;

/// The future an [`AsyncCollector`] makes for one scrape.
type CollectorFuture = Pin<Box<dyn Future<Output = Result<(), CollectorError>> + Send>>;

/// One collector's run in [`Registry::collect_async`].
type Run = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Why a collector was skipped, as the `reason` label says it; indexed by the three
/// constants below.
const REASONS: [&str; 3] = ["timeout", "error", "panic"];
const TIMEOUT: usize = 0;
const ERROR: usize = 1;
const PANIC: usize = 2;

/// A future run before each scrape's encoding, on the server's runtime, to update
/// metrics that need asynchronous work to read.
///
/// The closure makes one future per scrape; the future sets ordinary registered
/// metrics (gauges, families, …). Concurrent scrapes that a server coalesces (same
/// format and compression) run it once; scrapes in different formats at the same
/// moment are separate encodings and run it once each, possibly at the same time. Register it with [`Registry::register_async`]; the adapters' servers and
/// `MetricsService`s run it (through [`Registry::collect_async`]); encoding alone
/// ([`Registry::encode`], `exposure::Route::respond`) does not.
///
/// A run that returns an error, panics, or is still going when its
/// [timeout](Self::with_timeout) fires is *skipped*: its future is dropped (a timed-out
/// run is cancelled that way), the metrics it updates keep the values they had, and
/// the counter family [`FAILURES`](Self::FAILURES) counts it with `reason` `error`,
/// `panic` or `timeout`. The scrape is answered all the same, never with a 500: one
/// slow backend would then hide every other metric, and Prometheus' `up` with them.
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// use torchlight::{AsyncCollector, Format, Gauge, Metric, Registry};
///
/// let registry = Registry::new();
/// let queued = Arc::new(Metric::new("jobs_queued", "Jobs waiting.", Gauge::new()));
/// registry.register_owned(Arc::clone(&queued))?;
///
/// // Stands for a query over the network.
/// async fn queue_length() -> Result<i64, std::io::Error> {
///     Ok(7)
/// }
/// registry.register_async(
///     AsyncCollector::new("queue", move || {
///         let queued = Arc::clone(&queued);
///         async move {
///             queued.set(queue_length().await?);
///             Ok::<(), std::io::Error>(())
///         }
///     })
///     .with_timeout(Duration::from_secs(2)),
/// )?;
///
/// // What a server does before encoding (the adapters pass their runtime's timer).
/// block_on(registry.collect_async(|_timeout| std::future::pending::<()>()));
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.contains("jobs_queued 7\n"));
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::task::{Context, Poll, Waker};
/// #     let mut future = std::pin::pin!(future);
/// #     let mut cx = Context::from_waker(Waker::noop());
/// #     loop {
/// #         if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
/// #             return output;
/// #         }
/// #     }
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct AsyncCollector {
    name: &'static str,
    timeout: Duration,
    make: Box<dyn Fn() -> CollectorFuture + Send + Sync>,
    /// Skipped scrapes, by reason, in the order of `REASONS`.
    failures: [Counter; 3],
}

impl AsyncCollector {
    /// The default deadline of one run: 5 s, half of Prometheus' default 10 s
    /// `scrape_timeout`, so the scrape is still answered in time when it is spent.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

    /// The name of the counter family of runs that did not finish (labels `collector`
    /// and `reason`), registered with the first collector.
    pub const FAILURES: &'static str = "torchlight_async_collector_failures_total";

    /// A collector named `name` (the `collector` label of its failure counter) that
    /// runs the future `collect` makes.
    pub fn new<F, Fut, E>(name: &'static str, collect: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), E>> + Send + 'static,
        E: Into<CollectorError>,
    {
        let make = move || -> CollectorFuture {
            let future = collect();
            Box::pin(async move { future.await.map_err(Into::into) })
        };
        Self {
            name,
            timeout: Self::DEFAULT_TIMEOUT,
            make: Box::new(make),
            failures: [Counter::new(), Counter::new(), Counter::new()],
        }
    }

    /// Sets how long one run may take ([`DEFAULT_TIMEOUT`](Self::DEFAULT_TIMEOUT)).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The name given to [`new`](Self::new).
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// How long one run may take.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Runs once, raced against `deadline`; counts a failure when it does not finish.
    async fn run(&self, deadline: impl Future<Output = ()>) {
        let mut collect = (self.make)();
        let mut deadline = core::pin::pin!(deadline);
        let failure = poll_fn(|cx| {
            // After a panic the future is never polled again, only dropped.
            match catch_unwind(AssertUnwindSafe(|| collect.as_mut().poll(cx))) {
                Ok(Poll::Ready(Ok(()))) => return Poll::Ready(None),
                Ok(Poll::Ready(Err(_))) => return Poll::Ready(Some(ERROR)),
                Err(_) => return Poll::Ready(Some(PANIC)),
                Ok(Poll::Pending) => {}
            }
            match deadline.as_mut().poll(cx) {
                Poll::Ready(()) => Poll::Ready(Some(TIMEOUT)),
                Poll::Pending => Poll::Pending,
            }
        })
        .await;
        // Dropping the future cancels a run that timed out.
        drop(collect);
        if let Some(reason) = failure {
            self.failures[reason].inc();
        }
    }
}

impl core::fmt::Debug for AsyncCollector {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("AsyncCollector")
            .field("name", &self.name)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// The registered collectors, exposed as their failure counter family.
pub(super) struct Collectors {
    /// In registration order. Changed only under the registry's `writers` lock.
    list: RwLock<Vec<Arc<AsyncCollector>>>,
}

impl Collectors {
    fn snapshot(&self) -> Vec<Arc<AsyncCollector>> {
        // A poisoned lock only means a thread panicked while holding it; a push leaves
        // the list whole.
        let list = self.list.read().unwrap_or_else(PoisonError::into_inner);
        list.clone()
    }
}

impl Collect for Collectors {
    fn metric_type(&self) -> MetricType {
        MetricType::Counter
    }

    fn label_names(&self) -> &[&'static str] {
        &["collector", "reason"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> core::fmt::Result {
        for collector in self.snapshot() {
            for (reason, failures) in REASONS.iter().zip(&collector.failures) {
                let labels = [("collector", collector.name), ("reason", *reason)];
                encoder.counter_u64(&labels, failures.get())?;
            }
        }
        Ok(())
    }
}

/// The registry's asynchronous collectors: created (and their failure family
/// registered) by the first [`Registry::register_async`].
pub(super) type Slot = OnceLock<Arc<Metric<Collectors>>>;

impl Registry {
    /// Adds an asynchronous collector, run by the servers before each encoding of this
    /// registry (see [`AsyncCollector`]). The first one also registers the family
    /// `torchlight_async_collector_failures_total`, which counts, per collector and
    /// reason (`timeout`, `error`, `panic`), the runs that did not finish.
    ///
    /// # Errors
    ///
    /// [`RegisterError::Clash`] when another metric already uses the failure family's
    /// name; [`RegisterError::AlreadyRegistered`] naming the collector when one of the
    /// same name is registered here.
    pub fn register_async(&self, collector: AsyncCollector) -> Result<(), RegisterError> {
        let collectors = match self.collectors.get() {
            Some(collectors) => collectors,
            None => {
                let family = Arc::new(Metric::new(
                    AsyncCollector::FAILURES,
                    "Runs of an asynchronous collector skipped at scrape time, by reason \
                     (timeout, error, panic).",
                    Collectors {
                        list: RwLock::new(Vec::new()),
                    },
                ));
                match self.register_owned(Arc::clone(&family)) {
                    Ok(()) => self.collectors.get_or_init(|| family),
                    // Another thread's first registration won the name meanwhile.
                    Err(error) => self.collectors.get().ok_or(error)?,
                }
            }
        };
        let _writers = self.writers.lock();
        let mut list = collectors
            .list
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if list.iter().any(|known| known.name == collector.name) {
            return Err(RegisterError::AlreadyRegistered {
                name: collector.name,
            });
        }
        list.push(Arc::new(collector));
        Ok(())
    }

    /// Runs every collector added with [`register_async`](Self::register_async) once,
    /// concurrently, in the calling task, each raced against the future
    /// `sleep(collector.timeout())` makes (a timer of the caller's runtime); returns
    /// when all have finished or been skipped. A server calls this before encoding.
    ///
    /// Returns at once, allocating nothing, when no collector is registered.
    pub fn collect_async<S, F>(&self, sleep: S) -> impl Future<Output = ()> + Send + use<S, F>
    where
        S: Fn(Duration) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        let collectors = self
            .collectors
            .get()
            .map(|collectors| collectors.snapshot())
            .unwrap_or_default();
        let mut runs: Vec<Option<Run>> = collectors
            .into_iter()
            .map(|collector| {
                let deadline = sleep(collector.timeout);
                let run: Run = Box::pin(async move { collector.run(deadline).await });
                Some(run)
            })
            .collect();
        poll_fn(move |cx| {
            let mut pending = false;
            for slot in &mut runs {
                if let Some(run) = slot {
                    if run.as_mut().poll(cx).is_ready() {
                        *slot = None;
                    } else {
                        pending = true;
                    }
                }
            }
            if pending {
                Poll::Pending
            } else {
                Poll::Ready(())
            }
        })
    }
}
