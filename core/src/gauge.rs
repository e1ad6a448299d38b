//! Values that go up and down: [`Gauge`] for whole numbers (queue depth, requests in
//! flight), [`FloatGauge`] for measurements (temperature, ratios).

use core::fmt;

use crate::collect::{MetricType, Series};
use crate::sample::{EncodeLabels, Encoder};
use crate::sync::{AtomicI64, AtomicU64, Ordering, add_f64, const_fn};

/// An integer value that goes up and down, lock-free and allocation-free.
///
/// ```
/// use torchlight::Gauge;
///
/// static IN_FLIGHT: Gauge = Gauge::new();
/// IN_FLIGHT.inc();
/// IN_FLIGHT.add(4);
/// IN_FLIGHT.dec();
/// assert_eq!(IN_FLIGHT.get(), 4);
/// IN_FLIGHT.set(-2);
/// assert_eq!(IN_FLIGHT.get(), -2);
/// ```
#[derive(Debug)]
pub struct Gauge {
    value: AtomicI64,
}

// ORDERING (whole impl): Relaxed: a gauge publishes nothing but its own value.
impl Gauge {
    const_fn! {
        /// A gauge at zero.
        #[must_use]
        pub const fn new() -> Self {
            Self { value: AtomicI64::new(0) }
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.sub(1);
    }

    /// Adds `n` (wrapping).
    #[inline]
    pub fn add(&self, n: i64) {
        self.value.fetch_add(n, Ordering::Relaxed);
    }

    /// Subtracts `n` (wrapping).
    #[inline]
    pub fn sub(&self, n: i64) {
        self.value.fetch_sub(n, Ordering::Relaxed);
    }

    /// Replaces the value.
    #[inline]
    pub fn set(&self, n: i64) {
        self.value.store(n, Ordering::Relaxed);
    }

    /// The current value.
    #[inline]
    #[must_use]
    pub fn get(&self) -> i64 {
        self.value.load(Ordering::Relaxed)
    }
}

impl Default for Gauge {
    fn default() -> Self {
        Self::new()
    }
}

/// A floating-point value that goes up and down.
///
/// `set` is a plain store; `add`/`sub` are compare-and-swap loops over the `f64` bits.
///
/// ```
/// use torchlight::FloatGauge;
///
/// static TEMPERATURE: FloatGauge = FloatGauge::new();
/// TEMPERATURE.set(21.5);
/// TEMPERATURE.add(0.25);
/// assert_eq!(TEMPERATURE.get(), 21.75);
/// ```
#[derive(Debug)]
pub struct FloatGauge {
    /// Invariant: the bits of an `f64`.
    bits: AtomicU64,
}

// ORDERING (whole impl): Relaxed: a gauge publishes nothing but its own value.
impl FloatGauge {
    const_fn! {
        /// A gauge at `0.0`.
        #[must_use]
        pub const fn new() -> Self {
            Self { bits: AtomicU64::new(0) }
        }
    }

    /// Adds one.
    #[inline]
    pub fn inc(&self) {
        self.add(1.0);
    }

    /// Subtracts one.
    #[inline]
    pub fn dec(&self) {
        self.add(-1.0);
    }

    /// Adds `amount`.
    #[inline]
    pub fn add(&self, amount: f64) {
        add_f64(&self.bits, amount);
    }

    /// Subtracts `amount`.
    #[inline]
    pub fn sub(&self, amount: f64) {
        add_f64(&self.bits, -amount);
    }

    /// Replaces the value.
    #[inline]
    pub fn set(&self, value: f64) {
        self.bits.store(value.to_bits(), Ordering::Relaxed);
    }

    /// The current value.
    #[inline]
    #[must_use]
    pub fn get(&self) -> f64 {
        f64::from_bits(self.bits.load(Ordering::Relaxed))
    }
}

impl Default for FloatGauge {
    fn default() -> Self {
        Self::new()
    }
}

impl Series for Gauge {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.gauge_i64(labels, self.get())
    }
}

impl Series for FloatGauge {
    const TYPE: MetricType = MetricType::Gauge;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.gauge(labels, self.get())
    }
}
