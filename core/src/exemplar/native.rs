//! [`ExemplarNativeHistogram`]: a [`NativeHistogram`] that keeps a few recent
//! exemplars for the native histogram as a whole, and one per classic bucket.

use core::fmt;

#[cfg(all(feature = "std", not(loom)))]
use core::time::Duration;

use super::{Pending, Slot, slots};
use crate::collect::{MetricType, Series};
use crate::histogram::Buckets;
use crate::native::{NativeHistogram, NativeSnapshot};
use crate::sample::{EncodeLabels, Encoder, Exemplar, ExemplarError};
use crate::sync::const_fn;

/// A [`NativeHistogram`] that keeps exemplars: up to `E` (default 10, client_golang's
/// `NativeHistogramMaxExemplars` default) for the native histogram, which the
/// protobuf format carries in `Histogram.exemplars`, and the latest per classic
/// bucket (`+Inf` included: with no classic buckets, that one), which OpenMetrics
/// writes after its `_bucket` line and protobuf on its `Bucket`, as client_golang
/// 1.23 does.
///
/// # Which native exemplars are kept
///
/// client_golang keeps its native exemplars in a list sorted by value under a lock:
/// a new one replaces an exemplar older than `NativeHistogramExemplarTTL` (5 min)
/// if there is one, else the older of the two closest in value on a log scale, so
/// the list stays spread over the range rather than filled by the commonest values.
/// Here an observer never waits, so the spread is kept by position instead: the
/// native slot of a value is its binary exponent (the power of two below `|v|`)
/// modulo `E`, and the newest exemplar in a slot wins. `E` consecutive powers of two
/// (with the default, 1 ms to 1 s) never share a slot, so a rare slow request's
/// exemplar is not pushed out by a flood of fast ones; values `2^E` apart share one.
/// An exemplar stays until its slot gets a newer one (client_golang's stay until
/// evicted). NaN gets no native exemplar (as in client_golang), only the `+Inf`
/// bucket's.
///
/// Prometheus (2.51 and later) reads `Histogram.exemplars` and keeps only those
/// with a timestamp; with `std` every exemplar here is stamped with the wall clock.
/// Earlier versions read a native histogram's exemplars from its classic buckets
/// (one per scrape), which this type also keeps.
///
/// Plain [`observe`](Self::observe) is `NativeHistogram::observe`, no more;
/// [`observe_with_exemplar`](Self::observe_with_exemplar) adds the label check and
/// packing, a read of the wall clock (with `std`) and two slot writes (each a load, a
/// compare-and-swap, the copy of the packed words and a `Release` store). The slots
/// cost about 290 bytes each: `C + 1 + E` of them.
///
/// ```
/// use torchlight::{ExemplarNativeHistogram, Format, Metric, Registry};
///
/// static LATENCY: Metric<ExemplarNativeHistogram> = Metric::new(
///     "latency_seconds",
///     "Request latency.",
///     ExemplarNativeHistogram::new(1.1),
/// );
/// let registry = Registry::new();
/// registry.register(&LATENCY)?;
/// LATENCY.observe(0.003);
/// LATENCY.observe_with_exemplar(0.25, &[("trace_id", "4bf92f35")])?;
/// LATENCY.observe_with_exemplar(0.004, &[("trace_id", "77e1c0de")])?;
///
/// // Both are kept for the native histogram (0.25 and 0.004 are powers of two apart)...
/// let kept: Vec<f64> = LATENCY.exemplars().map(|exemplar| exemplar.value()).collect();
/// assert_eq!(kept, [0.004, 0.25]);
/// // ... and OpenMetrics shows the latest on the `+Inf` bucket, the only classic one.
/// let mut body = String::new();
/// registry.encode(&mut body, Format::OpenMetrics)?;
/// assert!(body.contains("latency_seconds_bucket{le=\"+Inf\"} 3 # {trace_id=\"77e1c0de\"} 0.004"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ExemplarNativeHistogram<const N: usize = 160, const C: usize = 0, const E: usize = 10> {
    histogram: NativeHistogram<N, C>,
    /// `classic[i]` belongs to the classic bucket `le=bounds[i]`.
    classic: [Slot; C],
    /// The `+Inf` bucket's (values above every bound, and NaN).
    overflow: Slot,
    /// The native histogram's. Invariant: a value's exemplar goes to slot
    /// [`band`]`(value)`.
    native: [Slot; E],
    /// Seconds a slot's exemplar is kept before a new one may replace it; 0: none.
    min_interval: f64,
}

/// The native slot of `value` among `E`: its binary exponent modulo `E` (`None` for
/// NaN, or without slots).
#[inline]
fn band<const E: usize>(value: f64) -> Option<usize> {
    if E == 0 || value.is_nan() {
        return None;
    }
    // The biased exponent: 11 bits (0 for zero and subnormals, 2047 for infinities).
    #[allow(clippy::cast_possible_truncation)]
    let exponent = ((value.to_bits() >> 52) & 0x7ff) as usize;
    Some(exponent % E)
}

/// No classic buckets.
const NO_BUCKETS: Buckets<0> = Buckets::new([]);

impl<const N: usize, const E: usize> ExemplarNativeHistogram<N, 0, E> {
    const_fn! {
        /// A native histogram as [`NativeHistogram::new`]`(factor)`, without
        /// exemplars yet.
        ///
        /// # Panics
        ///
        /// If `factor <= 1` (a compile error in a `static`).
        #[must_use]
        pub const fn new(factor: f64) -> Self {
            Self::with_buckets(factor, &NO_BUCKETS)
        }
    }
}

impl<const N: usize, const C: usize, const E: usize> ExemplarNativeHistogram<N, C, E> {
    const_fn! {
        /// A native histogram with classic buckets beside, as
        /// [`NativeHistogram::with_buckets`].
        ///
        /// # Panics
        ///
        /// As [`NativeHistogram::with_buckets`].
        #[must_use]
        pub const fn with_buckets(factor: f64, classic: &'static Buckets<C>) -> Self {
            Self {
                histogram: NativeHistogram::with_buckets(factor, classic),
                classic: slots(),
                overflow: Slot::new(),
                native: slots(),
                min_interval: 0.0,
            }
        }
    }

    const_fn! {
        /// As [`NativeHistogram::with_zero_threshold`].
        ///
        /// # Panics
        ///
        /// If `threshold` is negative, NaN or infinite (a compile error in a `static`).
        #[must_use]
        pub const fn with_zero_threshold(mut self, threshold: f64) -> Self {
            self.histogram.set_zero_threshold(threshold);
            self
        }
    }

    const_fn! {
        /// As [`NativeHistogram::with_max_zero_threshold`].
        ///
        /// # Panics
        ///
        /// If `threshold` is negative, NaN or infinite (a compile error in a `static`).
        #[must_use]
        pub const fn with_max_zero_threshold(mut self, threshold: f64) -> Self {
            self.histogram.set_max_zero_threshold(threshold);
            self
        }
    }

    /// Keeps each slot's exemplar for at least `interval` (by its timestamp): an
    /// observation with an exemplar whose slots are both younger records only its
    /// value, without checking or packing the labels. By default every one replaces
    /// the exemplars of its slots.
    #[cfg(all(feature = "std", not(loom)))]
    #[must_use]
    pub const fn with_min_interval(mut self, interval: Duration) -> Self {
        self.min_interval = interval.as_secs_f64();
        self
    }

    /// Records one value without an exemplar: exactly [`NativeHistogram::observe`].
    #[inline]
    pub fn observe(&self, value: f64) {
        self.histogram.observe(value);
    }

    /// Records one value, and makes `labels` (with `value` and, with `std`, the current
    /// wall-clock time) the exemplar of its classic bucket and of its native slot
    /// (see the type docs), each unless that slot's exemplar is younger than the
    /// minimum interval (see [`with_min_interval`](Self::with_min_interval)).
    ///
    /// The value is recorded whatever happens to the exemplar. The exemplar replaces
    /// a slot's previous one unless another thread is writing or reading that slot at
    /// this instant, in which case it is dropped there (an observer never waits).
    ///
    /// # Errors
    ///
    /// [`ExemplarError`] when the labels break an OpenMetrics rule (too long, an invalid
    /// name); the value was recorded, the exemplar was not. The labels are checked as
    /// they are written into the first slot due, which then holds no exemplar (when
    /// another thread holds that slot at that instant they are checked alone and the
    /// slot is left as it is).
    #[inline]
    pub fn observe_with_exemplar(
        &self,
        value: f64,
        labels: &dyn EncodeLabels,
    ) -> Result<(), ExemplarError> {
        let (classic, native) = (self.classic_slot(value), self.native_slot(value));
        let mut pending = Pending::new(labels);
        let classic_due = pending.due(classic, self.min_interval);
        let native = native.filter(|slot| pending.due(slot, self.min_interval));
        // Counted before it is stored: a scrape that shows the exemplar counts it.
        self.histogram.observe(value);
        if classic_due {
            pending.store(classic, value)?;
        }
        if let Some(native) = native {
            pending.store(native, value)?;
        }
        Ok(())
    }

    /// Records `exemplar`'s value and keeps `exemplar` as it is (its timestamp, or
    /// none) in the value's slots; dropped, as in
    /// [`observe_with_exemplar`](Self::observe_with_exemplar), where a slot is busy.
    #[inline]
    pub fn observe_exemplar(&self, exemplar: &Exemplar) {
        let value = exemplar.value();
        self.histogram.observe(value);
        self.classic_slot(value).store(exemplar);
        if let Some(native) = self.native_slot(value) {
            native.store(exemplar);
        }
    }

    /// The slot of `value`'s classic bucket.
    fn classic_slot(&self, value: f64) -> &Slot {
        self.classic
            .get(self.histogram.buckets().index(value))
            .unwrap_or(&self.overflow)
    }

    /// The native slot of `value`, if any.
    fn native_slot(&self, value: f64) -> Option<&Slot> {
        self.native.get(band::<E>(value)?)
    }

    /// The exemplar of classic bucket `index` (`0..C` in bound order, `C` for `+Inf`),
    /// if any.
    #[must_use]
    pub fn exemplar(&self, index: usize) -> Option<Exemplar> {
        if index == C {
            return self.overflow.load();
        }
        self.classic.get(index).and_then(Slot::load)
    }

    /// The native histogram's exemplars, by increasing value, each read whole.
    pub fn exemplars(&self) -> impl Iterator<Item = Exemplar> {
        self.native_exemplars().into_iter().flatten()
    }

    /// The native slots' exemplars, by increasing value, the empty ones last.
    fn native_exemplars(&self) -> [Option<Exemplar>; E] {
        let mut exemplars: [Option<Exemplar>; E] = core::array::from_fn(|i| self.native[i].load());
        exemplars.sort_unstable_by(|a, b| match (a, b) {
            (Some(a), Some(b)) => a.value().total_cmp(&b.value()),
            (a, b) => b.is_some().cmp(&a.is_some()),
        });
        exemplars
    }

    /// A consistent view of the observations, as [`NativeHistogram::snapshot`].
    #[must_use]
    pub fn snapshot(&self) -> NativeSnapshot<N, C> {
        self.histogram.snapshot()
    }

    /// The schema the buckets are recorded at while they fit, as
    /// [`NativeHistogram::schema`].
    #[must_use]
    pub fn schema(&self) -> i8 {
        self.histogram.schema()
    }

    /// The classic bucket bounds.
    #[must_use]
    pub fn buckets(&self) -> &'static Buckets<C> {
        self.histogram.buckets()
    }
}

impl<const N: usize, const C: usize, const E: usize> fmt::Debug
    for ExemplarNativeHistogram<N, C, E>
{
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExemplarNativeHistogram")
            .field("histogram", &self.histogram)
            .field("exemplars", &E)
            .finish_non_exhaustive()
    }
}

impl<const N: usize, const C: usize, const E: usize> Series for ExemplarNativeHistogram<N, C, E> {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Exemplars first, then the counts: an exemplar's observation was counted
        // before the exemplar was stored, so the snapshot counts every exposed one.
        let classic: [Option<Exemplar>; C] = core::array::from_fn(|i| self.classic[i].load());
        let overflow = self.overflow.load();
        let native = self.native_exemplars();
        self.histogram.snapshot().encode(
            labels,
            encoder,
            &classic,
            overflow.as_ref(),
            &native,
            self.histogram.created(),
        )
    }

    fn set_created(&self, created: Option<core::time::Duration>) {
        Series::set_created(&self.histogram, created);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn powers_of_two_apart_take_their_own_slots() {
        // 2^-10 (about 1 ms) to 2^-1: ten consecutive exponents, ten slots.
        let (mut seen, mut value) = ([false; 10], 1.5);
        for _ in 0..10 {
            value /= 2.0;
            let slot = band::<10>(value).unwrap();
            assert!(!seen[slot], "{value} shares slot {slot}");
            seen[slot] = true;
        }
        assert_eq!(
            band::<10>(value),
            band::<10>(value * 1024.0),
            "2^10 apart share one"
        );
        assert_eq!(band::<10>(3.0), band::<10>(-2.0), "the sign is ignored");
        assert_eq!(band::<10>(f64::NAN), None);
        assert_eq!(band::<0>(1.0), None);
        assert!(band::<10>(f64::INFINITY).is_some());
        assert!(band::<10>(0.0).is_some());
    }
}
