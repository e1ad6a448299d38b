//! Distributions of observed values in cumulative buckets, read without tearing.
//!
//! # How a scrape sees a consistent histogram
//!
//! A [`Histogram`] keeps its counters in the two shards of the split-shard protocol
//! (`split.rs`, whose header describes it). Each shard has a `count`, a `sum`, an
//! `overflow` bucket (above the last bound, and NaN) and the finite buckets, with
//! `count` and `sum` on the shard's first cache line.
//! [`observe`](Histogram::observe) adds to the hot shard's bucket, to its `sum`
//! (`Release`) and to its `count` (`Release`), in that order: three read-modify-writes.
//! A shard is read by loading `count` (`Acquire`), then `sum` (`Acquire`), then the
//! buckets, and is kept only if `count` equals the buckets' total: `count` counts only
//! observations whose bucket and sum are visible, and a sum that includes an
//! observation makes its bucket visible too; so when the totals agree the buckets and
//! the sum belong to exactly the counted observations.
//!
//! Invariant: a snapshot is the sum of two consistent shard readings, so its `+Inf`
//! bucket equals its `_count`, its buckets are cumulative and monotone, its `_sum` is
//! the sum of exactly the observations it counts, it includes every observation that
//! completed before it started, and a later snapshot includes everything an earlier
//! one did. `core/tests/loom.rs` model-checks this (including the parking path);
//! `core/tests/stress/histogram.rs` stress-tests it.
//!
//! Cost: an observation is three atomic read-modify-writes (the sum's is a
//! compare-and-swap loop), all on one shard and usually one cache line; besides
//! finding the bucket, the only other work is a predictable branch on the `WAITING`
//! bit. A shard is padded to the
//! cache line (see `Shard`), so a `Histogram<14>` takes 640 bytes on x86-64.
//! A collection reads each shard once when nothing is in flight.

use core::fmt;
use core::time::Duration;

use crate::collect::{MetricType, Series};
use crate::created::Created;
use crate::sample::{self, EncodeLabels, Encoder, Exemplar};
use crate::split::{self, Split};
use crate::sync::{AtomicU64, Ordering, add_f64_with, const_fn, zeroed};

/// The default bucket bounds of Python's `prometheus_client` (`Histogram.DEFAULT_BUCKETS`),
/// the library `prometheus_async` instruments with: 5 ms to 10 s, for request latencies.
pub const DEFAULT_BUCKETS: Buckets<14> = Buckets::new([
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
]);

/// Validated upper bounds of a histogram's buckets, in increasing order.
///
/// The `+Inf` bucket is implicit: it is always there and never listed. Construct them in
/// a `const` so mistakes are compile errors:
///
/// ```
/// use torchlight::Buckets;
///
/// const LATENCY: Buckets<4> = Buckets::new([0.01, 0.1, 1.0, 10.0]);
/// const SIZES: Buckets<5> = Buckets::exponential(100.0, 10.0); // 100 .. 1e6
/// const QUEUE: Buckets<3> = Buckets::linear(10.0, 10.0);        // 10, 20, 30
/// assert_eq!(SIZES.bounds()[4], 1e6);
/// assert_eq!(QUEUE.bounds(), &[10.0, 20.0, 30.0]);
/// assert!(Buckets::try_new([1.0, 1.0]).is_err());
/// ```
///
/// Invalid bounds in a `const` do not compile:
///
/// ```compile_fail
/// const UNSORTED: torchlight::Buckets<2> = torchlight::Buckets::new([2.0, 1.0]);
/// ```
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Buckets<const N: usize> {
    /// Invariant: finite and strictly increasing.
    bounds: [f64; N],
}

/// Why bucket bounds were rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BucketsError {
    /// The bound at `index` is NaN or infinite; the `+Inf` bucket is implicit, so leave
    /// it out.
    NotFinite {
        /// Position of the offending bound.
        index: usize,
    },
    /// The bound at `index` is not greater than the one before it: bounds must be sorted
    /// and distinct.
    NotIncreasing {
        /// Position of the offending bound.
        index: usize,
    },
    /// A linear width or exponential factor that cannot produce increasing bounds:
    /// `linear` needs `width > 0`, `exponential` needs `start > 0` and `factor > 1`.
    BadGenerator,
}

impl fmt::Display for BucketsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFinite { index } => write!(
                f,
                "bucket bound #{index} is NaN or infinite; list finite bounds only \
                 (the +Inf bucket is always added)"
            ),
            Self::NotIncreasing { index } => write!(
                f,
                "bucket bound #{index} is not greater than the bound before it; \
                 bounds must be sorted and distinct"
            ),
            Self::BadGenerator => f.write_str(
                "bucket generator cannot produce increasing bounds: linear needs width > 0, \
                 exponential needs start > 0 and factor > 1",
            ),
        }
    }
}

impl core::error::Error for BucketsError {}

impl<const N: usize> Buckets<N> {
    /// Checks `bounds`, returning why they are unusable.
    pub const fn try_new(bounds: [f64; N]) -> Result<Self, BucketsError> {
        let mut i = 0;
        while i < N {
            if !bounds[i].is_finite() {
                return Err(BucketsError::NotFinite { index: i });
            }
            if i > 0 && bounds[i] <= bounds[i - 1] {
                return Err(BucketsError::NotIncreasing { index: i });
            }
            i += 1;
        }
        Ok(Self { bounds })
    }

    /// Like [`try_new`](Self::try_new), for constants.
    ///
    /// # Panics
    ///
    /// On invalid bounds, with the reason; in a `const` item that is a compile error.
    #[must_use]
    pub const fn new(bounds: [f64; N]) -> Self {
        match Self::try_new(bounds) {
            Ok(buckets) => buckets,
            Err(BucketsError::NotFinite { .. }) => {
                panic!("bucket bounds must be finite; the +Inf bucket is always added")
            }
            Err(_) => panic!("bucket bounds must be sorted and distinct"),
        }
    }

    /// `N` bounds `start, start + width, …`.
    ///
    /// # Panics
    ///
    /// If `width <= 0` or a bound is not finite (a compile error in a `const`).
    #[must_use]
    pub const fn linear(start: f64, width: f64) -> Self {
        if width.is_nan() || width <= 0.0 {
            panic!("linear buckets need width > 0");
        }
        let mut bounds = [0.0; N];
        let mut i = 0;
        while i < N {
            bounds[i] = start + width * i as f64;
            i += 1;
        }
        Self::new(bounds)
    }

    /// `N` bounds `start, start * factor, start * factor², …`.
    ///
    /// # Panics
    ///
    /// If `start <= 0`, `factor <= 1` or a bound is not finite (a compile error in a
    /// `const`).
    #[must_use]
    pub const fn exponential(start: f64, factor: f64) -> Self {
        if start.is_nan() || factor.is_nan() || start <= 0.0 || factor <= 1.0 {
            panic!("exponential buckets need start > 0 and factor > 1");
        }
        let mut bounds = [0.0; N];
        let mut bound = start;
        let mut i = 0;
        while i < N {
            bounds[i] = bound;
            bound *= factor;
            i += 1;
        }
        Self::new(bounds)
    }

    /// The finite upper bounds, increasing.
    #[must_use]
    pub const fn bounds(&self) -> &[f64; N] {
        &self.bounds
    }

    /// Index of the first bucket whose bound is `>= value`; `N` (only `+Inf`) for
    /// values above every bound and for NaN.
    #[inline]
    pub(crate) fn index(&self, value: f64) -> usize {
        if value.is_nan() {
            return N;
        }
        self.bounds.partition_point(|bound| *bound < value)
    }
}

/// One of the two shards: the counters of the observations that went to it, laid out
/// so that `count`, `sum`, `overflow` and the first buckets share the shard's first
/// cache line (one exclusive line per observation in the common case) and the two
/// shards never share one.
///
/// The alignment is the cache-line (or prefetch-pair) size crossbeam-utils'
/// `CachePadded` uses (`crossbeam-utils/src/cache_padded.rs`): 128 bytes on x86-64
/// (the spatial prefetcher pulls lines in pairs), aarch64 and powerpc64, 256 on
/// s390x, 32 on arm (Cortex-M parts mostly have no data cache at all, so a larger
/// alignment would only cost RAM), and 64 elsewhere.
#[cfg_attr(target_arch = "arm", repr(C, align(32)))]
#[cfg_attr(
    any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64"
    ),
    repr(C, align(128))
)]
#[cfg_attr(target_arch = "s390x", repr(C, align(256)))]
#[cfg_attr(
    not(any(
        target_arch = "x86_64",
        target_arch = "aarch64",
        target_arch = "powerpc64",
        target_arch = "s390x",
        target_arch = "arm"
    )),
    repr(C, align(64))
)]
struct Shard<const N: usize> {
    /// Completed observations in bits 0..63, incremented last (`Release`); bit 63 is
    /// `split::WAITING`. Invariant: once every observation in flight here has completed,
    /// `count` equals `overflow` plus the sum of `buckets`.
    count: AtomicU64,
    /// Bits of the `f64` sum, added second (`Release`).
    sum: AtomicU64,
    /// Observations above the last bound (and NaN), added first.
    overflow: AtomicU64,
    /// Per-bucket (not cumulative) counts, added first.
    buckets: [AtomicU64; N],
}

/// What one consistent read of a shard found.
struct Reading<const N: usize> {
    count: u64,
    sum: f64,
    /// Per-bucket counts, as in [`Shard::buckets`].
    buckets: [u64; N],
}

impl<const N: usize> Shard<N> {
    const_fn! {
        const fn new() -> Self {
            Self {
                count: AtomicU64::new(0),
                sum: AtomicU64::new(0),
                overflow: AtomicU64::new(0),
                buckets: zeroed(),
            }
        }
    }
}

impl<const N: usize> split::Shard for Shard<N> {
    type Reading = Reading<N>;

    fn count(&self) -> &AtomicU64 {
        &self.count
    }

    /// Reads the sum and buckets after `count` was loaded (with `Acquire`) and keeps
    /// them only if they belong to exactly the observations `count` counts.
    fn read(&self, count: u64) -> Option<Reading<N>> {
        // ORDERING: Acquire pairs with the Release exchange in `observe`: when this sum
        // includes an observation, the bucket loads below see its bucket increment, so
        // an observation in the sum but not in `count` makes the totals disagree.
        let sum = f64::from_bits(self.sum.load(Ordering::Acquire));
        let mut buckets = [0u64; N];
        // ORDERING: Relaxed: ordered after the `count` and `sum` loads by their Acquire;
        // a torn read is caught by the comparison, not prevented.
        let mut total = self.overflow.load(Ordering::Relaxed);
        for (slot, bucket) in buckets.iter_mut().zip(&self.buckets) {
            *slot = bucket.load(Ordering::Relaxed);
            total = total.wrapping_add(*slot);
        }
        (total == count).then_some(Reading {
            count,
            sum,
            buckets,
        })
    }
}

/// A histogram with `N` finite buckets plus `+Inf`; lock-free and allocation-free to
/// observe, and never torn when read (the split-shard protocol at the top of
/// `histogram.rs` says how).
///
/// ```
/// use torchlight::{Buckets, Histogram};
///
/// static LATENCY: Histogram = Histogram::new(); // prometheus_client's default buckets
/// const SMALL: Buckets<3> = Buckets::new([0.1, 1.0, 10.0]);
/// static SIZES: Histogram<3> = Histogram::with_buckets(&SMALL);
///
/// LATENCY.observe(0.2);
/// SIZES.observe(0.5);
/// SIZES.observe(50.0);
/// let snapshot = SIZES.snapshot();
/// assert_eq!(snapshot.count(), 2);
/// assert_eq!(snapshot.sum(), 50.5);
/// assert_eq!(snapshot.cumulative(), &[0, 1, 1]); // le=0.1, le=1, le=10; +Inf = count
/// ```
pub struct Histogram<const N: usize = 14> {
    /// The bucket bounds and created timestamp, and the shards.
    split: Split<Shard<N>, Config<N>>,
}

/// What a histogram keeps beside its shards, on the split's first cache line: written
/// at construction, registration and nowhere on the observation path.
struct Config<const N: usize> {
    buckets: &'static Buckets<N>,
    created: Created,
}

impl Histogram<14> {
    const_fn! {
        /// A histogram with [`DEFAULT_BUCKETS`].
        #[must_use]
        pub const fn new() -> Self {
            Self::with_buckets(&DEFAULT_BUCKETS)
        }
    }
}

impl Default for Histogram<14> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Histogram<N> {
    const_fn! {
        /// A histogram with the given bucket bounds.
        #[must_use]
        pub const fn with_buckets(buckets: &'static Buckets<N>) -> Self {
            Self {
                split: Split::new(
                    Config { buckets, created: Created::new() },
                    [Shard::new(), Shard::new()],
                ),
            }
        }
    }

    /// The bucket bounds.
    #[must_use]
    pub fn buckets(&self) -> &'static Buckets<N> {
        self.split.config().buckets
    }

    /// The created timestamp, for the types built on this one.
    pub(crate) fn created(&self) -> Option<Duration> {
        self.split.config().created.get()
    }

    /// Records one value. NaN lands in the `+Inf` bucket (and makes the sum NaN), as in
    /// client_golang.
    #[inline]
    pub fn observe(&self, value: f64) {
        let index = self.buckets().index(value);
        let shard = self.split.hot();
        // ORDERING: Relaxed: published by the Release exchange of `sum` below.
        shard
            .buckets
            .get(index)
            .unwrap_or(&shard.overflow)
            .fetch_add(1, Ordering::Relaxed);
        // ORDERING: Release pairs with the Acquire load of `sum` in `Shard::read`: a
        // collector that sees this sum sees the bucket increment above.
        add_f64_with(&shard.sum, value, Ordering::Release);
        self.split.complete(shard);
    }

    /// A consistent view of the observations completed so far: at least every
    /// observation that completed before this call, and nothing half-recorded.
    ///
    /// Waits for observations already in flight in the shard it reads (parked with
    /// `std`, spinning without); concurrent calls are serialised. So never call it where
    /// it may have interrupted an observation of the same histogram on the same core
    /// (an interrupt or signal handler): that observation cannot finish until the
    /// handler returns, and the snapshot would wait for it forever. Observe anywhere;
    /// snapshot and encode from ordinary code.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<N> {
        let [cold, hot] = self.split.snapshot();
        let mut cumulative = [0u64; N];
        let mut running = 0u64;
        for ((slot, cold), hot) in cumulative.iter_mut().zip(cold.buckets).zip(hot.buckets) {
            running += cold + hot;
            *slot = running;
        }
        Snapshot {
            buckets: self.buckets(),
            cumulative,
            count: cold.count + hot.count,
            sum: cold.sum + hot.sum,
        }
    }
}

impl<const N: usize> fmt::Debug for Histogram<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("buckets", self.buckets().bounds())
            .finish_non_exhaustive()
    }
}

/// A consistent reading of a [`Histogram`]: cumulative buckets, count and sum of the
/// same observations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Snapshot<const N: usize> {
    buckets: &'static Buckets<N>,
    /// Invariant: non-decreasing, and the last is `<= count`.
    cumulative: [u64; N],
    count: u64,
    sum: f64,
}

impl<const N: usize> Snapshot<N> {
    /// Number of observations (the `+Inf` bucket and `_count`).
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Sum of the observations (`_sum`).
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Cumulative counts of the finite buckets, in the order of [`bounds`](Self::bounds).
    #[must_use]
    pub fn cumulative(&self) -> &[u64; N] {
        &self.cumulative
    }

    /// The finite bucket bounds.
    #[must_use]
    pub fn bounds(&self) -> &'static [f64; N] {
        self.buckets.bounds()
    }
}

impl<const N: usize> Series for Histogram<N> {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Take the snapshot before reporting: the collection lock is never held while
        // the encoder (and a caller's writer) runs.
        self.snapshot()
            .encode(labels, encoder, &[], None, self.created())
    }

    fn set_created(&self, created: Option<Duration>) {
        self.split.config().created.set(created);
    }
}

impl<const N: usize> Snapshot<N> {
    /// Reports the snapshot as one series, with the exemplars of the buckets (one per
    /// bound, or none) and of `+Inf`, and the histogram's created timestamp: the one
    /// place a classic histogram becomes samples, for every type built on it.
    pub(crate) fn encode(
        &self,
        labels: &dyn EncodeLabels,
        encoder: &mut Encoder<'_>,
        exemplars: &[Option<Exemplar>],
        inf_exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result {
        encoder.histogram_series(
            labels,
            &sample::Buckets {
                bounds: self.bounds(),
                cumulative: self.cumulative(),
                count: self.count(),
                sum: self.sum(),
                exemplars,
                inf_exemplar,
                native: None,
                created,
            },
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::ToString;

    use super::*;

    #[test]
    fn invalid_bounds_are_rejected_with_the_reason() {
        assert_eq!(
            Buckets::try_new([1.0, f64::NAN]),
            Err(BucketsError::NotFinite { index: 1 })
        );
        assert_eq!(
            Buckets::try_new([f64::INFINITY]),
            Err(BucketsError::NotFinite { index: 0 })
        );
        assert_eq!(
            Buckets::try_new([1.0, 1.0]),
            Err(BucketsError::NotIncreasing { index: 1 })
        );
        assert_eq!(
            Buckets::try_new([2.0, 3.0, 1.0]),
            Err(BucketsError::NotIncreasing { index: 2 })
        );
        assert!(Buckets::<0>::try_new([]).is_ok());
        let message = BucketsError::NotFinite { index: 1 }.to_string();
        assert!(message.contains("+Inf bucket is always added"), "{message}");
    }

    #[test]
    fn generators() {
        assert_eq!(
            Buckets::<4>::linear(-1.0, 0.5).bounds(),
            &[-1.0, -0.5, 0.0, 0.5]
        );
        assert_eq!(
            Buckets::<4>::exponential(1.0, 2.0).bounds(),
            &[1.0, 2.0, 4.0, 8.0]
        );
        assert!(std::panic::catch_unwind(|| Buckets::<2>::linear(0.0, 0.0)).is_err());
        assert!(std::panic::catch_unwind(|| Buckets::<2>::exponential(0.0, 2.0)).is_err());
        assert!(std::panic::catch_unwind(|| Buckets::<2>::exponential(1.0, 1.0)).is_err());
    }

    #[test]
    fn bucket_index_follows_le() {
        let buckets = Buckets::new([1.0, 2.0]);
        assert_eq!(buckets.index(-5.0), 0);
        assert_eq!(buckets.index(1.0), 0);
        assert_eq!(buckets.index(1.5), 1);
        assert_eq!(buckets.index(2.0), 1);
        assert_eq!(buckets.index(2.5), 2);
        assert_eq!(buckets.index(f64::INFINITY), 2);
        assert_eq!(buckets.index(f64::NEG_INFINITY), 0);
        assert_eq!(buckets.index(f64::NAN), 2);
    }

    #[test]
    fn default_buckets_match_prometheus_client() {
        assert_eq!(
            DEFAULT_BUCKETS.bounds(),
            &[
                0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0
            ]
        );
    }

    /// The layout the header promises: `count`, `sum`, `overflow` and the first five
    /// buckets on a shard's first 64 bytes, and shards that never share a line.
    #[test]
    fn a_shard_starts_with_its_hot_counters_on_one_cache_line() {
        use core::mem::{align_of, offset_of, size_of};
        assert_eq!(offset_of!(Shard<14>, count), 0);
        assert_eq!(offset_of!(Shard<14>, sum), 8);
        assert_eq!(offset_of!(Shard<14>, overflow), 16);
        assert_eq!(offset_of!(Shard<14>, buckets), 24);
        assert!(align_of::<Shard<14>>() >= 64);
        assert_eq!(size_of::<Shard<14>>() % align_of::<Shard<14>>(), 0);
        #[cfg(target_arch = "x86_64")]
        assert_eq!(size_of::<Histogram<14>>(), 640);
    }

    #[test]
    fn snapshots_accumulate_across_collections() {
        static BOUNDS: Buckets<2> = Buckets::new([1.0, 2.0]);
        let histogram = Histogram::with_buckets(&BOUNDS);
        histogram.observe(0.5);
        let first = histogram.snapshot();
        histogram.observe(1.5);
        histogram.observe(f64::NAN);
        let second = histogram.snapshot();
        let third = histogram.snapshot();
        assert_eq!((first.count(), *first.cumulative()), (1, [1, 1]));
        assert_eq!((second.count(), *second.cumulative()), (3, [1, 2]));
        assert!(second.sum().is_nan());
        assert_eq!((third.count(), *third.cumulative()), (3, [1, 2]));
    }
}
