//! [`ExemplarHistogram`]: a [`Histogram`] with an exemplar slot per bucket.

use core::fmt;

#[cfg(all(feature = "std", not(loom)))]
use core::time::Duration;

use super::{Pending, Slot, slots};
use crate::collect::{MetricType, Series};
use crate::histogram::{Buckets, DEFAULT_BUCKETS, Histogram, Snapshot};
use crate::sample::{EncodeLabels, Encoder, Exemplar, ExemplarError};
use crate::sync::const_fn;

/// A [`Histogram`] that keeps, per bucket (`+Inf` included), the exemplar of the latest
/// observation that came with one. OpenMetrics exposes each after its `_bucket` line.
///
/// Plain [`observe`](Self::observe) is `Histogram::observe`, no more;
/// [`observe_with_exemplar`](Self::observe_with_exemplar) adds the label check and
/// packing, a load and a compare-and-swap, the copy of the packed words and a `Release`
/// store (plus, with `std`, a read of the wall clock once the slot is taken). The slots cost about 290 bytes
/// per bucket. With `std`, [`with_min_interval`](Self::with_min_interval) keeps each
/// bucket's exemplar for at least that long.
///
/// ```
/// use torchlight::{Buckets, ExemplarHistogram, Format, Metric, Registry};
///
/// const BOUNDS: Buckets<2> = Buckets::new([0.1, 1.0]);
/// static LATENCY: Metric<ExemplarHistogram<2>> = Metric::new(
///     "latency_seconds",
///     "",
///     ExemplarHistogram::with_buckets(&BOUNDS),
/// );
/// let registry = Registry::new();
/// registry.register(&LATENCY)?;
/// LATENCY.observe(0.05);
/// LATENCY.observe_with_exemplar(0.5, &[("trace_id", "4bf92f35")])?;
///
/// let mut body = String::new();
/// registry.encode(&mut body, Format::OpenMetrics)?;
/// assert!(body.contains("latency_seconds_bucket{le=\"1.0\"} 2 # {trace_id=\"4bf92f35\"} 0.5"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ExemplarHistogram<const N: usize = 14> {
    histogram: Histogram<N>,
    /// `exemplars[i]` belongs to the bucket `le=bounds[i]`.
    exemplars: [Slot; N],
    /// The `+Inf` bucket's (values above every bound, and NaN).
    overflow: Slot,
    /// Seconds a slot's exemplar is kept before a new one may replace it; 0: none.
    min_interval: f64,
}

impl ExemplarHistogram<14> {
    const_fn! {
        /// A histogram with [`DEFAULT_BUCKETS`].
        #[must_use]
        pub const fn new() -> Self {
            Self::with_buckets(&DEFAULT_BUCKETS)
        }
    }
}

impl Default for ExemplarHistogram<14> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> ExemplarHistogram<N> {
    const_fn! {
        /// A histogram with the given bucket bounds.
        #[must_use]
        pub const fn with_buckets(buckets: &'static Buckets<N>) -> Self {
            Self {
                histogram: Histogram::with_buckets(buckets),
                exemplars: slots(),
                overflow: Slot::new(),
                min_interval: 0.0,
            }
        }
    }

    /// Keeps each bucket's exemplar for at least `interval` (by its timestamp): an
    /// observation with an exemplar within it records only its value, without checking
    /// or packing the labels. By default every one replaces the exemplar.
    #[cfg(all(feature = "std", not(loom)))]
    #[must_use]
    pub const fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval.as_secs_f64();
        self
    }

    /// Records one value without an exemplar: exactly [`Histogram::observe`].
    #[inline]
    pub fn observe(&self, value: f64) {
        self.histogram.observe(value);
    }

    /// Records one value, and makes `labels` (with `value` and, with `std`, the current
    /// wall-clock time) the exemplar of its bucket, unless the bucket's exemplar is
    /// younger than the minimum interval (see
    /// [`with_min_interval`](Self::with_min_interval)).
    ///
    /// The value is recorded whatever happens to the exemplar. The exemplar replaces the
    /// bucket's previous one unless another thread is writing or reading that slot at
    /// this instant, in which case it is dropped (an observer never waits).
    ///
    /// # Errors
    ///
    /// [`ExemplarError`] when the labels break an OpenMetrics rule (too long, an invalid
    /// name); the value was recorded, the exemplar was not. The labels are checked as
    /// they are written into the bucket's slot, which then holds no exemplar (when
    /// another thread holds the slot at that instant they are checked alone and the
    /// slot is left as it is).
    #[inline]
    pub fn observe_with_exemplar(
        &self,
        value: f64,
        labels: &dyn EncodeLabels,
    ) -> Result<(), ExemplarError> {
        let slot = self.slot(value);
        let mut pending = Pending::new(labels);
        let due = pending.due(slot, self.min_interval);
        // Counted before it is stored: a scrape that shows the exemplar counts it.
        self.histogram.observe(value);
        if due {
            pending.store(slot, value)?;
        }
        Ok(())
    }

    /// Records `exemplar`'s value and keeps `exemplar` as it is (its timestamp, or
    /// none) for the value's bucket; dropped, as in
    /// [`observe_with_exemplar`](Self::observe_with_exemplar), if the slot is busy.
    #[inline]
    pub fn observe_exemplar(&self, exemplar: &Exemplar) {
        self.histogram.observe(exemplar.value());
        self.slot(exemplar.value()).store(exemplar);
    }

    /// The slot of `value`'s bucket.
    fn slot(&self, value: f64) -> &Slot {
        self.exemplars
            .get(self.histogram.buckets().index(value))
            .unwrap_or(&self.overflow)
    }

    /// The exemplar of bucket `index` (`0..N` in bound order, `N` for `+Inf`), if any.
    #[must_use]
    pub fn exemplar(&self, index: usize) -> Option<Exemplar> {
        if index == N {
            return self.overflow.load();
        }
        self.exemplars.get(index).and_then(Slot::load)
    }

    /// A consistent view of the observations, as [`Histogram::snapshot`].
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<N> {
        self.histogram.snapshot()
    }

    /// The bucket bounds.
    #[must_use]
    pub fn buckets(&self) -> &'static Buckets<N> {
        self.histogram.buckets()
    }
}

impl<const N: usize> fmt::Debug for ExemplarHistogram<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExemplarHistogram")
            .field("buckets", self.buckets().bounds())
            .finish_non_exhaustive()
    }
}

impl<const N: usize> Series for ExemplarHistogram<N> {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Exemplars first, then the counts: an exemplar's observation was counted
        // before the exemplar was stored, so the snapshot counts every exposed one.
        let exemplars: [Option<Exemplar>; N] = core::array::from_fn(|i| self.exemplars[i].load());
        let overflow = self.overflow.load();
        self.histogram.snapshot().encode(
            labels,
            encoder,
            &exemplars,
            overflow.as_ref(),
            self.histogram.created(),
        )
    }

    fn set_created(&self, created: Option<core::time::Duration>) {
        Series::set_created(&self.histogram, created);
    }
}
