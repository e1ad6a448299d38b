//! Monotonic counters: [`Counter`] for whole counts, [`FloatCounter`] for amounts
//! (seconds, bytes) that Prometheus models as floats.

use core::fmt;
use core::time::Duration;

use crate::collect::{MetricType, Series};
use crate::created::Created;
use crate::sample::{EncodeLabels, Encoder, Number};
use crate::sync::{AtomicU64, Ordering, add_f64, const_fn};

/// A monotonically increasing integer count, lock-free and allocation-free.
///
/// ```
/// use torchlight::Counter;
///
/// static REQUESTS: Counter = Counter::new();
/// REQUESTS.inc();
/// REQUESTS.inc_by(2);
/// assert_eq!(REQUESTS.get(), 3);
/// ```
///
/// It keeps a created timestamp beside the count (see [`Collect::set_created`](crate::Collect::set_created)),
/// which observations never touch; [`reset`](Self::reset) moves it.
#[derive(Debug)]
pub struct Counter {
    value: AtomicU64,
    created: Created,
}

impl Counter {
    const_fn! {
        /// A counter at zero.
        #[must_use]
        pub const fn new() -> Self {
            Self { value: AtomicU64::new(0), created: Created::new() }
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
    }

    /// Sets the count back to zero, as when the work it counts starts over without the
    /// process restarting (Python's `Counter.reset`), and moves its created timestamp
    /// to now, so a scraper sees a new series start rather than a drop: with `std`,
    /// to the system's wall clock; without `std`, where no clock is at hand, the
    /// timestamp is removed (give one with [`reset_at`](Self::reset_at)). A counter
    /// without a created timestamp (not registered, or in a registry without a clock)
    /// stays without.
    ///
    /// A scrape running at the same time may see the new count with the old timestamp
    /// (Prometheus reads a lower count as a counter reset either way).
    ///
    /// ```
    /// use torchlight::{Counter, Format, Metric, Registry};
    ///
    /// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    /// let registry = Registry::new();
    /// registry.register(&JOBS)?;
    /// JOBS.inc_by(5);
    /// JOBS.reset();
    /// assert_eq!(JOBS.get(), 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn reset(&self) {
        self.created.restart();
        // ORDERING: Relaxed: a counter publishes nothing but its own value.
        self.value.store(0, Ordering::Relaxed);
    }

    /// Sets the count back to zero and its created timestamp to `created` (the time
    /// since the Unix epoch, from a clock of your own): [`reset`](Self::reset) for
    /// targets without `std`.
    pub fn reset_at(&self, created: Duration) {
        self.created.set(Some(created));
        // ORDERING: Relaxed: see `reset`.
        self.value.store(0, Ordering::Relaxed);
    }

    /// Adds `n`. Wraps at `u64::MAX`, which at a billion increments a second takes
    /// five centuries.
    #[inline]
    pub fn inc_by(&self, n: u64) {
        // ORDERING: Relaxed: a counter publishes nothing but its own value.
        self.value.fetch_add(n, Ordering::Relaxed);
    }

    /// The current count.
    #[inline]
    #[must_use]
    pub fn get(&self) -> u64 {
        // ORDERING: Relaxed: see `inc_by`.
        self.value.load(Ordering::Relaxed)
    }
}

impl Default for Counter {
    fn default() -> Self {
        Self::new()
    }
}

/// A monotonically increasing floating-point amount, such as seconds or bytes.
///
/// Stored as `f64` bits in an atomic; [`inc_by`](Self::inc_by) is a compare-and-swap
/// loop. Like every `f64`, it stops growing by small amounts past 2^53 (Prometheus
/// stores samples as `f64`, so a wider type would not help the reader).
///
/// ```
/// use torchlight::FloatCounter;
///
/// static BUSY_SECONDS: FloatCounter = FloatCounter::new();
/// BUSY_SECONDS.inc_by(0.25);
/// BUSY_SECONDS.inc_by(0.5);
/// assert_eq!(BUSY_SECONDS.get(), 0.75);
/// ```
///
/// Like [`Counter`], it keeps a created timestamp that [`reset`](Self::reset) moves.
#[derive(Debug)]
pub struct FloatCounter {
    /// Invariant: the bits of a non-negative `f64` (or NaN if a NaN was added).
    bits: AtomicU64,
    created: Created,
}

impl FloatCounter {
    const_fn! {
        /// A counter at zero.
        #[must_use]
        pub const fn new() -> Self {
            Self { bits: AtomicU64::new(0), created: Created::new() }
        }
    }

    /// Sets the amount back to zero and moves the created timestamp, as
    /// [`Counter::reset`] does.
    pub fn reset(&self) {
        self.created.restart();
        // ORDERING: Relaxed: a counter publishes nothing but its own value.
        self.bits.store(0, Ordering::Relaxed);
    }

    /// Sets the amount back to zero and the created timestamp to `created`, as
    /// [`Counter::reset_at`] does.
    pub fn reset_at(&self, created: Duration) {
        self.created.set(Some(created));
        // ORDERING: Relaxed: see `reset`.
        self.bits.store(0, Ordering::Relaxed);
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        add_f64(&self.bits, 1.0);
    }

    /// Adds `amount`. Negative amounts would break the counter's monotonicity and are
    /// ignored (`debug_assert!` catches them in tests).
    #[inline]
    pub fn inc_by(&self, amount: f64) {
        debug_assert!(
            amount >= 0.0 || amount.is_nan(),
            "counters only go up; got {amount}"
        );
        if amount < 0.0 {
            return;
        }
        add_f64(&self.bits, amount);
    }

    /// The current amount.
    #[inline]
    #[must_use]
    pub fn get(&self) -> f64 {
        // ORDERING: Relaxed: a counter publishes nothing but its own value.
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

impl Default for FloatCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl Series for Counter {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.counter_number(labels, Number::Unsigned(self.get()), None, self.created())
    }

    fn set_created(&self, created: Option<Duration>) {
        self.created.set(created);
    }
}

impl Counter {
    /// The created timestamp, for the exemplar counter built on this one.
    pub(crate) fn created(&self) -> Option<Duration> {
        self.created.get()
    }
}

impl Series for FloatCounter {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.counter_number(labels, Number::Float(self.get()), None, self.created.get())
    }

    fn set_created(&self, created: Option<Duration>) {
        self.created.set(created);
    }
}
