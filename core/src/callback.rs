//! Values computed when a scrape happens, by a function: [`GaugeFn`] and [`CounterFn`]
//! (client_golang's `GaugeFunc` and `CounterFunc`).
//!
//! The function runs synchronously while the registry is encoded, on the encoding
//! thread (the adapters' blocking pool), so it must be quick and must not wait for
//! async work; for values that need it, see `AsyncCollector` (`std`).

use core::fmt;

use crate::collect::{MetricType, Series};
use crate::sample::{EncodeLabels, Encoder};

/// A gauge whose value a function returns at each scrape: a queue's length, a cache's
/// size, anything already in memory.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use torchlight::{Format, GaugeFn, Metric, Registry};
///
/// static QUEUE: AtomicUsize = AtomicUsize::new(0);
/// fn queue_length() -> f64 {
///     QUEUE.load(Ordering::Relaxed) as f64
/// }
/// static QUEUED: Metric<GaugeFn<fn() -> f64>> =
///     Metric::new("jobs_queued", "Jobs waiting.", GaugeFn::new(queue_length));
///
/// let registry = Registry::new();
/// registry.register(&QUEUED)?;
/// QUEUE.store(3, Ordering::Relaxed);
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.ends_with("jobs_queued 3\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct GaugeFn<F> {
    read: F,
}

impl<F: Fn() -> f64 + Sync> GaugeFn<F> {
    /// A gauge reporting what `read` returns when scraped.
    #[must_use]
    pub const fn new(read: F) -> Self {
        Self { read }
    }
}

impl<F: Fn() -> f64 + Sync> Series for GaugeFn<F> {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.gauge(labels, (self.read)())
    }
}

impl<F> fmt::Debug for GaugeFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GaugeFn").finish_non_exhaustive()
    }
}

/// A counter whose value a function returns at each scrape: a total kept elsewhere (a
/// library's own statistics). The function must never return less than before.
///
/// ```
/// use torchlight::{CounterFn, Format, Metric, Registry};
///
/// fn bytes_sent() -> f64 {
///     1024.0
/// }
/// static SENT: Metric<CounterFn<fn() -> f64>> =
///     Metric::new("sent_bytes", "Bytes sent.", CounterFn::new(bytes_sent));
///
/// let registry = Registry::new();
/// registry.register(&SENT)?;
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert!(text.ends_with("sent_bytes_total 1024\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct CounterFn<F> {
    read: F,
}

impl<F: Fn() -> f64 + Sync> CounterFn<F> {
    /// A counter reporting what `read` returns when scraped.
    #[must_use]
    pub const fn new(read: F) -> Self {
        Self { read }
    }
}

impl<F: Fn() -> f64 + Sync> Series for CounterFn<F> {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.counter(labels, (self.read)())
    }
}

impl<F> fmt::Debug for CounterFn<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CounterFn").finish_non_exhaustive()
    }
}
