//! Native histograms: exponential buckets chosen by a resolution, not by bounds
//! (Prometheus' "Native Histograms" specification; client_golang's
//! `NativeHistogramBucketFactor`), exposed in the protobuf format.
//!
//! # Buckets
//!
//! At schema `s` (−4 to 8) bucket `i` holds the values in `(2^((i-1)·2^-s), 2^(i·2^-s)]`,
//! so each bucket is `2^(2^-s)` times as wide as the one before. Observations with
//! `|v| <=` the zero threshold count in the zero bucket; other values count in a
//! positive or negative bucket by `|v|`. The index is computed exactly as
//! client_golang's `histogramCounts.observe` does: `frexp`, then a binary search in
//! the fractions of `native/bounds.rs` for schemas above 0, a shift for the others;
//! ±Inf land one bucket above `±f64::MAX`; NaN is counted and summed but lands in no
//! bucket.
//!
//! # Bounded memory: a fixed table, and a coarse fallback
//!
//! A [`NativeHistogram<N, C>`] has room for `N` distinct buckets (both signs together)
//! at its schema: a table of bucket keys, each claimed once by a compare-and-swap and
//! never freed, shared by the two shards of the split-shard protocol (`split.rs`),
//! with one counter per key in each shard. When the table is full and an observation's
//! bucket is not in it, client_golang's answer when the bucket limit is reached,
//! *reduce the resolution*, applies: the observation is counted in a fixed array of
//! schema −4 buckets (one per power of 2^16, which covers every `f64`: 133 per sign),
//! and from then on the histogram is exposed at schema −4, every table bucket merged
//! into the one that contains it. client_golang halves the resolution step by step,
//! merging buckets under a lock; here claimed buckets cannot be merged in place without
//! stopping observers, so the reduction goes to the coarsest schema at once. The
//! other answer, resetting after a minimum interval, would need a clock and would lose
//! counts a scrape has not seen. Choose `N` for the range you expect: at schema 3
//! (factor 1.1) one power of ten takes 27 buckets; client_golang's documentation
//! suggests a limit of 160.
//!
//! # Consistency
//!
//! The split-shard protocol reads it: an observation adds to its bucket (or the zero
//! bucket, or the NaN count), to its classic bucket when there are classic buckets, to
//! the sum (`Release`), and completes with the shard's `count` (`Release`); a shard is
//! kept when its native and its classic counters each total its `count`. A
//! [`NativeSnapshot`] is therefore never torn: its buckets, zero bucket and NaN count
//! add up to its count, its classic buckets end at its count, and its sum is the sum
//! of exactly those observations. `core/tests/loom.rs` model-checks it and
//! `core/tests/stress/histogram.rs` stress-tests it.
//!
//! Cost: an observation is the classic histogram's three read-modify-writes (four with
//! classic buckets) plus one acquire load of the key table (more when keys collide),
//! after `frexp` and a binary search of at most eight steps. A shard is
//! `8 · (4 + N + 266 + C + 1)` bytes; the snapshot holds `16 · N + 8 · (266 + C)`.

mod bounds;

use core::fmt;

use crate::collect::{MetricType, Series};
use crate::histogram::Buckets;
use crate::sample::{self, EncodeLabels, Encoder, NativeBuckets};
use crate::split::{self, Split};
use crate::sync::{AtomicU64, Ordering, add_f64_with, const_fn, zeroed};

/// The zero threshold client_golang uses by default (`DefNativeHistogramZeroThreshold`):
/// 2^-128, a bucket boundary at every schema.
pub const DEFAULT_ZERO_THRESHOLD: f64 = 2.938_735_877_055_719e-39;

/// Schema −4 buckets per sign: keys −67 (2^-1074 and below) to 65 (+Inf). Under loom
/// only keys −1 to 1, `(2^-32, 2^32]`, which the model's values stay in: the model
/// checks the protocol, and every coarse counter is a load in each read it explores.
const COARSE_SIDE: usize = if cfg!(loom) { 3 } else { 133 };
/// The coarse key of the first of [`COARSE_SIDE`]'s buckets.
const COARSE_LOWEST: i32 = if cfg!(loom) { -1 } else { -67 };
/// The coarsest schema, which the fallback array uses.
const COARSEST: i8 = -4;

/// An empty key slot.
const EMPTY: u64 = 0;

/// The schema client_golang's `pickSchema` chooses for a growth factor: the coarsest
/// whose buckets grow by at most `factor` from one to the next (so `1.1` gives 3,
/// `2` gives 0), −4 for factors of 65536 and more, 8 below 1.0027.
///
/// # Panics
///
/// If `factor <= 1` or NaN (a compile error in a `const`).
#[must_use]
pub const fn schema_for(factor: f64) -> i8 {
    if factor.is_nan() || factor <= 1.0 {
        panic!("a native histogram's bucket factor must be greater than 1");
    }
    let mut schema = COARSEST;
    while schema < 8 {
        if factor >= growth(schema) {
            return schema;
        }
        schema += 1;
    }
    8
}

/// `2^(2^-schema)`: how much wider each bucket is than the one before.
const fn growth(schema: i8) -> f64 {
    if schema <= 0 {
        // 2^(2^k) for k = -schema in 0..=4: exact.
        let mut growth = 2.0;
        let mut k = 0;
        while k < -schema {
            growth *= growth;
            k += 1;
        }
        growth
    } else {
        // 2^(2^-s) = 2 · 2^(j/256) / 2 with j = 256 >> s.
        2.0 * bounds::BOUNDS[256 >> schema]
    }
}

/// `frexp`: `value = frac · 2^exp` with `frac` in `[0.5, 1)`, for finite `value > 0`.
fn frexp(value: f64) -> (f64, i32) {
    let bits = value.to_bits();
    // The biased exponent: 11 bits, so the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let biased = ((bits >> 52) & 0x7ff) as i32;
    if biased == 0 {
        // Subnormal: scale into the normal range first.
        let (frac, exp) = frexp(value * f64::from_bits(0x43f0_0000_0000_0000)); // 2^64
        return (frac, exp - 64);
    }
    let frac = f64::from_bits((bits & !(0x7ff << 52)) | (1022 << 52));
    (frac, biased - 1022)
}

/// The bucket index of a finite `abs > 0` at `schema`, as client_golang computes it.
fn key(abs: f64, schema: i8) -> i32 {
    let (frac, exp) = frexp(abs);
    if schema > 0 {
        let n = 1usize << schema;
        let stride = 256 >> schema;
        // The first j whose lower fraction is >= frac (Go's `sort.SearchFloat64s`).
        let (mut low, mut high) = (0, n);
        while low < high {
            let mid = (low + high) / 2;
            if bounds::BOUNDS[mid * stride] < frac {
                low = mid + 1;
            } else {
                high = mid;
            }
        }
        // At most 256 and 2^schema: the casts are exact.
        #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
        let (j, n) = (low as i32, n as i32);
        j + (exp - 1) * n
    } else {
        let key = if frac == 0.5 { exp - 1 } else { exp };
        let shift = -schema;
        let offset = (1 << shift) - 1;
        (key + offset) >> shift
    }
}

/// The bucket index of a non-NaN `abs > 0` (±Inf one above `f64::MAX`'s).
fn key_of(abs: f64, schema: i8) -> i32 {
    if abs.is_infinite() {
        key(f64::MAX, schema) + 1
    } else {
        key(abs, schema)
    }
}

/// A bucket index at `schema`, moved to the coarser `to`: the bucket that contains it.
const fn coarsen(index: i32, schema: i8, to: i8) -> i32 {
    let shift = (schema - to) as u32;
    // ceil(index / 2^shift), also for negative indices (arithmetic shift floors).
    (index + (1 << shift) - 1) >> shift
}

/// A table key: sign and index, never [`EMPTY`].
fn pack(negative: bool, index: i32) -> u64 {
    // The index's two's-complement bits, zero-extended.
    #[allow(clippy::cast_sign_loss)]
    let index = u64::from(index as u32);
    (index << 2) | (u64::from(negative) << 1) | 1
}

fn unpack(key: u64) -> (bool, i32) {
    // The low 32 bits of the shifted key are the index's bits.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let index = (key >> 2) as u32 as i32;
    (key & 2 != 0, index)
}

/// One shard's counters (see `split.rs`).
struct Shard<const N: usize, const C: usize> {
    /// Completed observations, incremented last (`Release`); bit 63 is
    /// `split::WAITING`. Invariant: once every observation in flight here has
    /// completed, `count == zero + nan + Σ table + Σ coarse`, and with classic buckets
    /// (`C > 0`) `count == classic_overflow + Σ classic`.
    count: AtomicU64,
    /// Bits of the `f64` sum, added before `count` (`Release`).
    sum: AtomicU64,
    /// Observations with `|v| <= zero_threshold`.
    zero: AtomicU64,
    /// NaN observations: counted and summed, in no bucket (as client_golang).
    nan: AtomicU64,
    /// Per table slot, the observations in the bucket whose key the slot holds.
    table: [AtomicU64; N],
    /// Schema −4 buckets, positive then negative, from key [`COARSE_LOWEST`].
    coarse: [AtomicU64; 2 * COARSE_SIDE],
    /// Classic buckets (not cumulative) and the observations above the last bound;
    /// unused when `C == 0`.
    classic: [AtomicU64; C],
    classic_overflow: AtomicU64,
}

/// One consistent read of a shard.
struct Reading<const N: usize, const C: usize> {
    count: u64,
    sum: f64,
    zero: u64,
    table: [u64; N],
    coarse: [u64; 2 * COARSE_SIDE],
    classic: [u64; C],
}

impl<const N: usize, const C: usize> Shard<N, C> {
    const_fn! {
        const fn new() -> Self {
            Self {
                count: AtomicU64::new(0),
                sum: AtomicU64::new(0),
                zero: AtomicU64::new(0),
                nan: AtomicU64::new(0),
                table: zeroed(),
                coarse: zeroed(),
                classic: zeroed(),
                classic_overflow: AtomicU64::new(0),
            }
        }
    }
}

/// Loads `cells` into `into` (`Relaxed`) and returns their total.
fn load_all(cells: &[AtomicU64], into: &mut [u64]) -> u64 {
    let mut total = 0u64;
    for (slot, cell) in into.iter_mut().zip(cells) {
        // ORDERING: Relaxed: ordered after the `count` and `sum` loads by their Acquire;
        // a torn read is caught by the totals, not prevented.
        *slot = cell.load(Ordering::Relaxed);
        total = total.wrapping_add(*slot);
    }
    total
}

impl<const N: usize, const C: usize> split::Shard for Shard<N, C> {
    type Reading = Reading<N, C>;

    fn count(&self) -> &AtomicU64 {
        &self.count
    }

    fn read(&self, count: u64) -> Option<Reading<N, C>> {
        // ORDERING: Acquire pairs with the Release exchange in `observe`: when this sum
        // includes an observation, the loads below see its counters.
        let sum = f64::from_bits(self.sum.load(Ordering::Acquire));
        let mut reading = Reading {
            count,
            sum,
            zero: 0,
            table: [0; N],
            coarse: [0; 2 * COARSE_SIDE],
            classic: [0; C],
        };
        // ORDERING: Relaxed: as in `load_all`.
        reading.zero = self.zero.load(Ordering::Relaxed);
        // ORDERING: Relaxed: as in `load_all`.
        let nan = self.nan.load(Ordering::Relaxed);
        let native = reading
            .zero
            .wrapping_add(nan)
            .wrapping_add(load_all(&self.table, &mut reading.table))
            .wrapping_add(load_all(&self.coarse, &mut reading.coarse));
        // ORDERING: Relaxed: as in `load_all`.
        let classic = self
            .classic_overflow
            .load(Ordering::Relaxed)
            .wrapping_add(load_all(&self.classic, &mut reading.classic));
        // Without classic buckets nothing is recorded there (see `observe`).
        (native == count && (C == 0 || classic == count)).then_some(reading)
    }
}

/// A native histogram with room for `N` buckets at its schema (default 160, what
/// client_golang's documentation suggests as a limit), and `C` classic buckets beside
/// (default none); lock-free and allocation-free to observe, never torn when read.
///
/// Bucket `i` holds the values in `(2^((i-1)·2^-s), 2^(i·2^-s)]` at schema `s`, which
/// the growth factor picks ([`schema_for`]); values with `|v| <=` the zero threshold
/// count in the zero bucket, NaN in no bucket. The first `N` distinct buckets
/// observed take the table's slots for good; when it is full, an observation whose
/// bucket has no slot is recorded at schema −4 (buckets 2^16 times as wide), and the
/// histogram is then exposed at schema −4 (client_golang's answer to its bucket limit,
/// reducing the resolution, in one step: claimed buckets are never merged in place).
/// Pick `N` for the range you expect: at schema 3 one power of ten takes 27 buckets.
///
/// ```
/// use torchlight::{NativeHistogram, Registry, Metric, Format};
///
/// // Buckets at most 10 % wider than the one before: schema 3.
/// static LATENCY: Metric<NativeHistogram> =
///     Metric::new("latency_seconds", "Request latency.", NativeHistogram::new(1.1));
///
/// LATENCY.observe(0.25);
/// LATENCY.observe(0.375);
/// let snapshot = LATENCY.snapshot();
/// assert_eq!((snapshot.schema(), snapshot.count(), snapshot.sum()), (3, 2, 0.625));
/// // 0.25 = 2^(-16/8) is the upper bound of bucket -16; 0.375 is in bucket -11,
/// // (2^(-12/8), 2^(-11/8)].
/// assert_eq!(snapshot.positive().collect::<Vec<_>>(), [(-16, 1), (-11, 1)]);
///
/// // Prometheus gets the buckets in the protobuf format; text formats show the
/// // classic buckets (here none: `+Inf`, `_sum` and `_count`).
/// let registry = Registry::new();
/// registry.register(&LATENCY)?;
/// # #[cfg(feature = "std")] {
/// let mut body = Vec::new();
/// registry.encode_to(&mut body, Format::Protobuf)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct NativeHistogram<const N: usize = 160, const C: usize = 0> {
    /// Invariant: −4 to 8.
    schema: i8,
    /// Invariant: finite and `>= 0`.
    zero_threshold: f64,
    classic: &'static Buckets<C>,
    /// Bucket keys (see [`pack`]) claimed by observations, shared by both shards.
    /// Invariant: a slot changes once, from [`EMPTY`]; no key is in two slots.
    keys: [AtomicU64; N],
    split: Split<Shard<N, C>>,
}

/// No classic buckets.
const NO_BUCKETS: Buckets<0> = Buckets::new([]);

impl<const N: usize> NativeHistogram<N, 0> {
    const_fn! {
        /// A native histogram whose buckets grow by at most `factor` from one to the
        /// next ([`schema_for`]), with client_golang's default zero threshold
        /// ([`DEFAULT_ZERO_THRESHOLD`]) and no classic buckets.
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

impl<const N: usize, const C: usize> NativeHistogram<N, C> {
    const_fn! {
        /// Like [`new`](NativeHistogram::new), with classic buckets beside the native
        /// ones (client_golang's combined form): text and OpenMetrics scrapers see
        /// the classic buckets, protobuf scrapers get both.
        ///
        /// # Panics
        ///
        /// If `factor <= 1` (a compile error in a `static`).
        #[must_use]
        pub const fn with_buckets(factor: f64, classic: &'static Buckets<C>) -> Self {
            Self {
                schema: schema_for(factor),
                zero_threshold: DEFAULT_ZERO_THRESHOLD,
                classic,
                keys: zeroed(),
                split: Split::new((), [Shard::new(), Shard::new()]),
            }
        }
    }

    const_fn! {
        /// Sets the zero bucket's threshold: observations with `|v| <= threshold` count
        /// there. `0.0` keeps only exact zeros.
        ///
        /// # Panics
        ///
        /// If `threshold` is negative, NaN or infinite (a compile error in a `static`).
        #[must_use]
        pub const fn with_zero_threshold(mut self, threshold: f64) -> Self {
            if !threshold.is_finite() || threshold < 0.0 {
                panic!("a zero threshold must be finite and not negative");
            }
            self.zero_threshold = threshold;
            self
        }
    }

    /// The schema the buckets are recorded at (a snapshot may be coarser, see the type
    /// docs).
    #[must_use]
    pub fn schema(&self) -> i8 {
        self.schema
    }

    /// Records one value.
    #[inline]
    pub fn observe(&self, value: f64) {
        let shard = self.split.hot();
        if C > 0 {
            let classic = self.classic.index(value);
            // ORDERING: Relaxed: published by the Release exchange of `sum` below.
            shard
                .classic
                .get(classic)
                .unwrap_or(&shard.classic_overflow)
                .fetch_add(1, Ordering::Relaxed);
        }
        let bucket = if value > self.zero_threshold {
            self.bucket(shard, false, value)
        } else if value < -self.zero_threshold {
            self.bucket(shard, true, -value)
        } else if value.is_nan() {
            &shard.nan
        } else {
            &shard.zero
        };
        // ORDERING: Relaxed: published by the Release exchange of `sum` below.
        bucket.fetch_add(1, Ordering::Relaxed);
        // ORDERING: Release pairs with the Acquire load of `sum` in `Shard::read`: a
        // collector that sees this sum sees the increments above.
        add_f64_with(&shard.sum, value, Ordering::Release);
        self.split.complete(shard);
    }

    /// The counter of `abs`'s bucket: its table slot, or the coarse fallback.
    #[inline]
    fn bucket<'s>(&self, shard: &'s Shard<N, C>, negative: bool, abs: f64) -> &'s AtomicU64 {
        if let Some(slot) = self.slot(pack(negative, key_of(abs, self.schema))) {
            return &shard.table[slot];
        }
        let side = if negative { COARSE_SIDE } else { 0 };
        let index = key_of(abs, COARSEST) - COARSE_LOWEST;
        // Within the side's range for every non-NaN `abs > 0` (see `COARSE_SIDE`).
        #[allow(clippy::cast_sign_loss)]
        &shard.coarse[side + index as usize]
    }

    /// The table slot holding `key`, claiming an empty one if needed; `None` when the
    /// table is full of other keys.
    #[inline]
    fn slot(&self, key: u64) -> Option<usize> {
        if N == 0 {
            return None;
        }
        // Fibonacci hashing: the high bits of the product spread nearby indices.
        #[allow(clippy::cast_possible_truncation)]
        let start = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize % N;
        for step in 0..N {
            let slot = (start + step) % N;
            // ORDERING: Acquire pairs with the Release of the exchange that claimed the
            // slot: an observer counting under a key another claimed has the claim
            // happen before its `count` increment, so a collector that counts it sees
            // the key.
            let found = self.keys[slot].load(Ordering::Acquire);
            if found == key {
                return Some(slot);
            }
            if found == EMPTY {
                // ORDERING: AcqRel: Release publishes the key as above; Acquire on
                // failure reads a key another observer just claimed, as the load above.
                match self.keys[slot].compare_exchange(
                    EMPTY,
                    key,
                    Ordering::AcqRel,
                    Ordering::Acquire,
                ) {
                    Ok(_) => return Some(slot),
                    Err(claimed) if claimed == key => return Some(slot),
                    Err(_) => {}
                }
            }
        }
        None
    }

    /// A consistent view of the observations completed so far: at least every
    /// observation that completed before this call, and nothing half-recorded.
    ///
    /// Waits for observations already in flight in the shard it reads (parked with
    /// `std`, spinning without); concurrent calls are serialised.
    #[must_use]
    pub fn snapshot(&self) -> NativeSnapshot<N, C> {
        let readings = self.split.snapshot();
        let mut table = [0u64; N];
        let mut coarse = [0u64; 2 * COARSE_SIDE];
        let mut classic = [0u64; C];
        let (mut count, mut sum, mut zero) = (0, 0.0, 0);
        for reading in &readings {
            count += reading.count;
            sum += reading.sum;
            zero += reading.zero;
            for (total, n) in table.iter_mut().zip(reading.table) {
                *total += n;
            }
            for (total, n) in coarse.iter_mut().zip(reading.coarse) {
                *total += n;
            }
            for (total, n) in classic.iter_mut().zip(reading.classic) {
                *total += n;
            }
        }
        let reduced = coarse.iter().any(|n| *n != 0);
        let schema = if reduced { COARSEST } else { self.schema };
        let mut buckets = [(false, 0i32, 0u64); N];
        let mut len = 0;
        for (slot, n) in self.keys.iter().zip(table) {
            if n == 0 {
                continue;
            }
            // ORDERING: Relaxed: the key of a slot counted in a reading was visible to
            // that reading (see `slot`), and this thread reads it again later.
            let (negative, index) = unpack(slot.load(Ordering::Relaxed));
            if reduced {
                let index = coarsen(index, self.schema, COARSEST) - COARSE_LOWEST;
                let side = if negative { COARSE_SIDE } else { 0 };
                // In range: the coarse bucket containing a recorded bucket.
                #[allow(clippy::cast_sign_loss)]
                let cell = &mut coarse[side + index as usize];
                *cell += n;
            } else {
                buckets[len] = (negative, index, n);
                len += 1;
            }
        }
        buckets[..len].sort_unstable_by_key(|(negative, index, _)| (*negative, *index));
        let mut running = 0;
        for n in &mut classic {
            running += *n;
            *n = running;
        }
        NativeSnapshot {
            schema,
            zero_threshold: self.zero_threshold,
            zero_count: zero,
            count,
            sum,
            buckets,
            len,
            coarse,
            classic: self.classic,
            cumulative: classic,
        }
    }
}

impl<const N: usize, const C: usize> fmt::Debug for NativeHistogram<N, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NativeHistogram")
            .field("schema", &self.schema)
            .field("zero_threshold", &self.zero_threshold)
            .field("classic", self.classic.bounds())
            .finish_non_exhaustive()
    }
}

/// A consistent reading of a [`NativeHistogram`]: its buckets, zero bucket, count and
/// sum (and classic buckets) of the same observations.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NativeSnapshot<const N: usize, const C: usize> {
    schema: i8,
    zero_threshold: f64,
    zero_count: u64,
    count: u64,
    sum: f64,
    /// `(negative, index, count)` of populated table buckets, negative ones last,
    /// by index. Invariant: `buckets[..len]`; empty when `schema` was reduced.
    buckets: [(bool, i32, u64); N],
    len: usize,
    /// Schema −4 buckets as in `Shard::coarse`; all zero unless `schema` was reduced.
    coarse: [u64; 2 * COARSE_SIDE],
    classic: &'static Buckets<C>,
    /// Cumulative classic bucket counts.
    cumulative: [u64; C],
}

impl<const N: usize, const C: usize> NativeSnapshot<N, C> {
    /// The schema of [`positive`](Self::positive) and [`negative`](Self::negative):
    /// the histogram's, or −4 once its table overflowed (see [`NativeHistogram`]).
    #[must_use]
    pub fn schema(&self) -> i8 {
        self.schema
    }

    /// Every observation, NaN included.
    #[must_use]
    pub fn count(&self) -> u64 {
        self.count
    }

    /// The sum of the observations.
    #[must_use]
    pub fn sum(&self) -> f64 {
        self.sum
    }

    /// Observations with `|v| <=` [`zero_threshold`](Self::zero_threshold).
    #[must_use]
    pub fn zero_count(&self) -> u64 {
        self.zero_count
    }

    /// The zero bucket's threshold.
    #[must_use]
    pub fn zero_threshold(&self) -> f64 {
        self.zero_threshold
    }

    /// The populated buckets of positive observations as `(index, count)`, by index:
    /// bucket `i` holds `(2^((i-1)·2^-schema), 2^(i·2^-schema)]`.
    pub fn positive(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        self.side(false)
    }

    /// The populated buckets of negative observations as `(index, count)` by index,
    /// bucket `i` holding the values whose absolute value is in bucket `i`.
    pub fn negative(&self) -> impl Iterator<Item = (i32, u64)> + '_ {
        self.side(true)
    }

    fn side(&self, negative: bool) -> impl Iterator<Item = (i32, u64)> + '_ {
        let side = if negative { COARSE_SIDE } else { 0 };
        let coarse = self.coarse[side..side + COARSE_SIDE]
            .iter()
            .zip(COARSE_LOWEST..)
            .filter(|(n, _)| **n != 0)
            .map(|(n, index)| (index, *n));
        let table = self.buckets[..self.len]
            .iter()
            .filter(move |(sign, _, _)| *sign == negative)
            .map(|(_, index, n)| (*index, *n));
        coarse.chain(table)
    }

    /// Cumulative counts of the classic buckets, in the order of
    /// [`bounds`](Self::bounds).
    #[must_use]
    pub fn cumulative(&self) -> &[u64; C] {
        &self.cumulative
    }

    /// The classic bucket bounds.
    #[must_use]
    pub fn bounds(&self) -> &'static [f64; C] {
        self.classic.bounds()
    }
}

impl<const N: usize, const C: usize> NativeBuckets for NativeSnapshot<N, C> {
    fn each(&self, negative: bool, f: &mut dyn FnMut(i32, u64) -> fmt::Result) -> fmt::Result {
        self.side(negative).try_for_each(|(index, n)| f(index, n))
    }
}

impl<const N: usize, const C: usize> Series for NativeHistogram<N, C> {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Taken before reporting, as the classic histogram's.
        let snapshot = self.snapshot();
        encoder.histogram_series(
            labels,
            &sample::Buckets {
                bounds: snapshot.bounds(),
                cumulative: snapshot.cumulative(),
                count: snapshot.count,
                sum: snapshot.sum,
                exemplars: &[],
                inf_exemplar: None,
                native: Some(sample::Native {
                    schema: snapshot.schema,
                    zero_threshold: snapshot.zero_threshold,
                    zero_count: snapshot.zero_count,
                    buckets: &snapshot,
                }),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;

    use super::*;

    #[test]
    fn frexp_matches_the_definition() {
        for value in [1.0, 0.5, 0.75, 3.0, 1e-300, 5e-324, f64::MAX, 1e300] {
            let (frac, exp) = frexp(value);
            assert!((0.5..1.0).contains(&frac), "{value}: {frac}");
            let scaled = if exp > 1000 {
                frac * 2f64.powi(exp - 1000) * 2f64.powi(1000)
            } else if exp < -1000 {
                frac * 2f64.powi(exp + 1000) * 2f64.powi(-1000)
            } else {
                frac * 2f64.powi(exp)
            };
            assert_eq!(scaled, value, "{value}");
        }
    }

    #[test]
    fn the_coarse_range_covers_every_float() {
        assert_eq!(key_of(5e-324, COARSEST), COARSE_LOWEST);
        assert_eq!(
            key_of(f64::INFINITY, COARSEST),
            COARSE_LOWEST + i32::try_from(COARSE_SIDE).unwrap() - 1
        );
    }

    #[test]
    fn keys_round_trip() {
        for (negative, index) in [(false, 0), (true, -1), (false, i32::MIN), (true, i32::MAX)] {
            assert_ne!(pack(negative, index), EMPTY);
            assert_eq!(unpack(pack(negative, index)), (negative, index));
        }
    }

    #[test]
    fn coarsening_finds_the_containing_bucket() {
        // Schema 0 bucket i is (2^(i-1), 2^i]; at schema -1, (4^(j-1), 4^j].
        assert_eq!(coarsen(1, 0, -1), 1); // (1, 2] in (1, 4]
        assert_eq!(coarsen(2, 0, -1), 1); // (2, 4] in (1, 4]
        assert_eq!(coarsen(0, 0, -1), 0); // (1/2, 1] in (1/4, 1]
        assert_eq!(coarsen(-1, 0, -1), 0); // (1/4, 1/2] in (1/4, 1]
        assert_eq!(coarsen(-2, 0, -1), -1); // (1/8, 1/4] in (1/16, 1/4]
        for schema in -3..=8 {
            for value in [1e-9, 0.001, 0.3, 1.0, 7.5, 1e6, f64::MAX] {
                assert_eq!(
                    coarsen(key(value, schema), schema, COARSEST),
                    key(value, COARSEST),
                    "{value} at {schema}"
                );
            }
        }
    }
}
