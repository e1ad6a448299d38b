//! Distributions of observed values in cumulative buckets, read without tearing.
//!
//! # How a scrape sees a consistent histogram
//!
//! A [`Histogram`] keeps two *halves*, each with its own bucket counts, sum and count,
//! and one word, `count_and_hot`, whose top bit names the *hot* half and whose other 63
//! bits count the observations started so far (client_golang's hot/cold design,
//! prometheus/client_golang#457, ported by tikv/rust-prometheus#314).
//!
//! - [`observe`](Histogram::observe) increments `count_and_hot` (learning which half is
//!   hot), adds to that half's bucket and sum, and increments that half's `count` last,
//!   with `Release`, to say "this observation is complete".
//! - [`snapshot`](Histogram::snapshot) (one collector at a time, under a spin lock that
//!   observers never touch) flips the hot bit. Every observation that started before the
//!   flip went to the now-cold half, and the flip tells how many there were. It waits
//!   until the cold half's `count` reaches that number, reads the cold half, then moves
//!   the cold half's totals into the hot half and zeroes the cold one.
//!
//! Invariant: outside a collection, one half is all zeros and the hot half holds every
//! completed observation; so a snapshot covers exactly the observations started before
//! its flip, and its `+Inf` bucket equals its `_count`, its buckets are cumulative and
//! monotone, and its `_sum` is the sum of those same observations. `core/tests/loom.rs`
//! model-checks this; `core/tests/histogram_stress.rs` stress-tests it.
//!
//! Cost: an observation is four atomic read-modify-writes (plus the sum's CAS loop); a
//! collection waits only for observations already in flight.

use core::fmt;

use crate::collect::Series;
use crate::encoding::MetricType;
use crate::sample::{EncodeLabels, Encoder};
use crate::sync::{AtomicU64, Ordering, SpinLock, add_f64, backoff, const_fn, zeroed};

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
    fn index(&self, value: f64) -> usize {
        if value.is_nan() {
            return N;
        }
        self.bounds.partition_point(|bound| *bound < value)
    }
}

/// One half of the hot/cold pair.
struct Half<const N: usize> {
    /// Per-bucket (not cumulative) counts; observations above the last bound count only
    /// in `count`, which is the `+Inf` bucket.
    buckets: [AtomicU64; N],
    /// Bits of the `f64` sum.
    sum: AtomicU64,
    /// Completed observations (plus, in the hot half, the totals moved in by the last
    /// collection). Incremented last, with `Release`.
    count: AtomicU64,
}

impl<const N: usize> Half<N> {
    const_fn! {
        const fn new() -> Self {
            Self { buckets: zeroed(), sum: AtomicU64::new(0), count: AtomicU64::new(0) }
        }
    }
}

const HOT_BIT: u64 = 1 << 63;

/// A histogram with `N` finite buckets plus `+Inf`; lock-free and allocation-free to
/// observe, and never torn when read (the hot/cold protocol at the top of
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
    buckets: &'static Buckets<N>,
    /// Invariant: bit 63 is the index of the hot half; bits 0..63 count observations
    /// started since creation.
    count_and_hot: AtomicU64,
    halves: [Half<N>; 2],
    /// Serialises collections; observers never take it.
    collecting: SpinLock,
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
                buckets,
                count_and_hot: AtomicU64::new(0),
                halves: [Half::new(), Half::new()],
                collecting: SpinLock::new(),
            }
        }
    }

    /// The bucket bounds.
    #[must_use]
    pub fn buckets(&self) -> &'static Buckets<N> {
        self.buckets
    }

    /// Records one value. NaN lands in the `+Inf` bucket (and makes the sum NaN), as in
    /// client_golang.
    #[inline]
    pub fn observe(&self, value: f64) {
        let index = self.buckets.index(value);
        // ORDERING: Acquire pairs with the Release half of the flip in `snapshot`, so a
        // half zeroed by the previous collection is zero before this observation adds
        // to it.
        let started = self.count_and_hot.fetch_add(1, Ordering::Acquire);
        let half = &self.halves[(started >> 63) as usize];
        if let Some(bucket) = half.buckets.get(index) {
            // ORDERING: Relaxed: published by the Release increment of `count` below.
            bucket.fetch_add(1, Ordering::Relaxed);
        }
        add_f64(&half.sum, value);
        // ORDERING: Release pairs with the Acquire wait in `snapshot`: once the
        // collector sees this count, it sees this observation's bucket and sum.
        half.count.fetch_add(1, Ordering::Release);
    }

    /// A consistent view of every observation completed so far.
    ///
    /// Waits (spinning, then yielding with `std`) for observations already in flight;
    /// concurrent calls are serialised.
    #[must_use]
    pub fn snapshot(&self) -> Snapshot<N> {
        let _guard = self.collecting.lock();
        // ORDERING: AcqRel. Release: observers that see the new hot bit also see the
        // zeroing of that half by the previous collection (ordered before this flip by
        // the lock). Acquire: nothing to acquire here, but RMWs must take one order.
        let flipped = self.count_and_hot.fetch_add(HOT_BIT, Ordering::AcqRel);
        let started = flipped & !HOT_BIT;
        let cold = &self.halves[(flipped >> 63) as usize];
        let hot = &self.halves[((flipped >> 63) ^ 1) as usize];

        let mut spins = 0u32;
        // ORDERING: Acquire pairs with the Release increments in `observe` (and with the
        // Release merge below from the previous collection).
        while cold.count.load(Ordering::Acquire) != started {
            spins = spins.wrapping_add(1);
            backoff(spins);
        }

        // ORDERING (reads and merge): Relaxed. The wait above acquired every completed
        // observation and no observer writes the cold half any more; the totals moved
        // into the hot half are published to the next collection by the Release
        // increment of `hot.count` below.
        let mut cumulative = [0u64; N];
        let mut running = 0u64;
        for ((slot, bucket), hot_bucket) in
            cumulative.iter_mut().zip(&cold.buckets).zip(&hot.buckets)
        {
            let n = bucket.swap(0, Ordering::Relaxed);
            if n != 0 {
                hot_bucket.fetch_add(n, Ordering::Relaxed);
            }
            running += n;
            *slot = running;
        }
        let sum = f64::from_bits(cold.sum.swap(0, Ordering::Relaxed));
        add_f64(&hot.sum, sum);
        cold.count.store(0, Ordering::Relaxed);
        // ORDERING: Release pairs with the Acquire wait of the next collection, which
        // must see the totals moved into this half.
        hot.count.fetch_add(started, Ordering::Release);

        Snapshot {
            buckets: self.buckets,
            cumulative,
            count: started,
            sum,
        }
    }
}

impl<const N: usize> fmt::Debug for Histogram<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Histogram")
            .field("buckets", self.buckets.bounds())
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
        let snapshot = self.snapshot();
        encoder.histogram(
            labels,
            snapshot.bounds(),
            snapshot.cumulative(),
            snapshot.count(),
            snapshot.sum(),
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
