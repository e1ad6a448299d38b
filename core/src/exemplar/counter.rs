//! [`ExemplarCounter`]: a [`Counter`] with an exemplar slot.

use core::fmt;

#[cfg(all(feature = "std", not(loom)))]
use core::time::Duration;

use super::{Pending, Slot};
use crate::collect::{MetricType, Series};
use crate::counter::Counter;
use crate::sample::{EncodeLabels, Encoder, Exemplar, ExemplarError, Number};
use crate::sync::const_fn;

/// A [`Counter`] that keeps the exemplar of the latest increment that came with one.
/// OpenMetrics exposes it after the `_total` line.
///
/// Plain [`inc`](Self::inc) and [`inc_by`](Self::inc_by) are `Counter`'s, no more; the
/// slot costs about 290 bytes.
///
/// ```
/// use torchlight::{ExemplarCounter, Format, Metric, Registry};
///
/// static ERRORS: Metric<ExemplarCounter> = Metric::new("errors", "", ExemplarCounter::new());
/// let registry = Registry::new();
/// registry.register(&ERRORS)?;
/// ERRORS.inc();
/// ERRORS.inc_with_exemplar(&[("trace_id", "4bf92f35")])?;
///
/// let mut body = String::new();
/// registry.encode(&mut body, Format::OpenMetrics)?;
/// assert!(body.contains("errors_total 2.0 # {trace_id=\"4bf92f35\"} 1.0"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct ExemplarCounter {
    counter: Counter,
    exemplar: Slot,
    /// Seconds the exemplar is kept before a new one may replace it; 0: none.
    min_interval: f64,
}

impl ExemplarCounter {
    const_fn! {
        /// A counter at zero, without an exemplar.
        #[must_use]
        pub const fn new() -> Self {
            Self { counter: Counter::new(), exemplar: Slot::new(), min_interval: 0.0 }
        }
    }

    /// Keeps the exemplar for at least `interval` (by its timestamp): an increment with
    /// an exemplar within it only counts, without checking or packing the labels. By
    /// default every one replaces the exemplar.
    #[cfg(all(feature = "std", not(loom)))]
    #[must_use]
    pub const fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval.as_secs_f64();
        self
    }

    /// Adds one: exactly [`Counter::inc`].
    #[inline]
    pub fn inc(&self) {
        self.counter.inc();
    }

    /// Adds `n`: exactly [`Counter::inc_by`].
    #[inline]
    pub fn inc_by(&self, n: u64) {
        self.counter.inc_by(n);
    }

    /// Adds one, with `labels` as the exemplar (value 1 and, with `std`, the current
    /// wall-clock time).
    ///
    /// # Errors
    ///
    /// As [`inc_by_with_exemplar`](Self::inc_by_with_exemplar).
    #[inline]
    pub fn inc_with_exemplar(&self, labels: &dyn EncodeLabels) -> Result<(), ExemplarError> {
        self.inc_by_with_exemplar(1, labels)
    }

    /// Adds `n`, with `labels` as the exemplar (value `n` and, with `std`, the current
    /// wall-clock time), unless the exemplar is younger than the minimum interval (see
    /// [`with_min_interval`](Self::with_min_interval)). The increment always happens; the exemplar replaces the
    /// previous one unless another thread is writing or reading it at this instant, in
    /// which case it is dropped (an incrementer never waits).
    ///
    /// # Errors
    ///
    /// [`ExemplarError`] when the labels break an OpenMetrics rule; the counter was
    /// incremented, the exemplar was not kept. The labels are checked as they are
    /// written into the counter's slot, which then holds no exemplar (when another
    /// thread holds the slot at that instant they are checked alone and the slot is
    /// left as it is).
    #[inline]
    pub fn inc_by_with_exemplar(
        &self,
        n: u64,
        labels: &dyn EncodeLabels,
    ) -> Result<(), ExemplarError> {
        // Exact below 2^53, the only counts an `f64` exemplar value can spell.
        #[allow(clippy::cast_precision_loss)]
        let value = n as f64;
        let mut pending = Pending::new(labels);
        let due = pending.due(&self.exemplar, self.min_interval);
        // Counted before it is stored: a scrape that shows the exemplar counts it.
        self.counter.inc_by(n);
        if due {
            pending.store(&self.exemplar, value)?;
        }
        Ok(())
    }

    /// Adds `n` and keeps `exemplar` as it is (its value and timestamp, or none);
    /// dropped, as in [`inc_by_with_exemplar`](Self::inc_by_with_exemplar), if the slot
    /// is busy.
    #[inline]
    pub fn inc_by_exemplar(&self, n: u64, exemplar: &Exemplar) {
        self.counter.inc_by(n);
        self.exemplar.store(exemplar);
    }

    /// The current count.
    #[inline]
    #[must_use]
    pub fn get(&self) -> u64 {
        self.counter.get()
    }

    /// The exemplar, if any, read whole.
    #[must_use]
    pub fn exemplar(&self) -> Option<Exemplar> {
        self.exemplar.load()
    }
}

impl Default for ExemplarCounter {
    fn default() -> Self {
        Self::new()
    }
}

impl Series for ExemplarCounter {
    const TYPE: MetricType = MetricType::Counter;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // The exemplar first: its increment is then in the value read after it.
        let exemplar = self.exemplar.load();
        encoder.counter_number(
            labels,
            Number::Unsigned(self.get()),
            exemplar.as_ref(),
            self.counter.created(),
        )
    }

    fn set_created(&self, created: Option<core::time::Duration>) {
        Series::set_created(&self.counter, created);
    }
}
