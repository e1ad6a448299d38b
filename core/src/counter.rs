//! Monotonic counters: [`Counter`] for whole counts, [`FloatCounter`] for amounts
//! (seconds, bytes) that Prometheus models as floats.

use core::fmt;

use crate::collect::{MetricType, Series};
use crate::sample::{EncodeLabels, Encoder};
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
#[derive(Debug)]
pub struct Counter {
    value: AtomicU64,
}

impl Counter {
    const_fn! {
        /// A counter at zero.
        #[must_use]
        pub const fn new() -> Self {
            Self { value: AtomicU64::new(0) }
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.inc_by(1);
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
#[derive(Debug)]
pub struct FloatCounter {
    /// Invariant: the bits of a non-negative `f64` (or NaN if a NaN was added).
    bits: AtomicU64,
}

impl FloatCounter {
    const_fn! {
        /// A counter at zero.
        #[must_use]
        pub const fn new() -> Self {
            Self { bits: AtomicU64::new(0) }
        }
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
        encoder.counter_u64(labels, self.get())
    }
}

impl Series for FloatCounter {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.counter(labels, self.get())
    }
}
