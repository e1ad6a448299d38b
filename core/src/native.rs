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
//! # Bounded memory, and a resolution that drops only as far as needed
//!
//! A [`NativeHistogram<N, C>`] exposes at most `N` buckets (both signs together),
//! client_golang's `NativeHistogramMaxBucketNumber`, unless observations spread over
//! more than `N` buckets even at schema −4, the coarsest (as in client_golang, which
//! stops halving there). When the observations need more
//! at the configured schema, it answers as client_golang does (`limitBuckets`): the
//! zero bucket widens over the lowest buckets when a maximum zero threshold allows it
//! ([`NativeHistogram::with_max_zero_threshold`]), then the resolution halves, step
//! by step, until every bucket fits. The exposed schema is the finest at which all of
//! them fit: the fixed point client_golang's one-step-per-observation halving reaches
//! (`native/resolution.rs`), never lower.
//!
//! client_golang merges buckets in place under a lock. Here observers never wait and
//! a claimed counter is never moved, so the merge happens at read time instead:
//!
//! - A *key table* of `4 · N` slots maps a bucket key (sign, schema, index) to one of
//!   `2 · N` counters, claimed once by a compare-and-swap and never freed, shared by
//!   the two shards of the split-shard protocol (`split.rs`), each with its `2 · N`
//!   counters. At most half the slots are ever taken, so a lookup that misses ends at
//!   an empty slot after a few probes.
//! - An observation looks up its bucket at the configured schema first: while the
//!   buckets fit, that is the only lookup. A bucket not in the table gets a counter:
//!   at the configured schema while fewer than `N` keys exist, otherwise at the
//!   finest schema at which the keys already claimed and the new one fit the bound,
//!   computed from the keys by the claiming observer (claims are rare: at most
//!   `2 · N` in the histogram's life). That schema gets a bit in `reduced`, and the
//!   coarsest such bit caps the schema every later snapshot exposes.
//! - Below that cap a finer counter is exact for its coarse bucket, so an observation
//!   whose coarse bucket already has a finer key *folds* into that key's counter
//!   rather than take a new one, and stores an *alias* (its coarse key naming the same
//!   counter, at most `N` of them) so the next ones find it in one lookup. The lookup
//!   tries the reduced schemas that have keys, finest first, before claiming.
//! - A snapshot coarsens every populated counter to the finest schema at or below the
//!   cap at which they fit (`resolution::fit`), merging as it goes.
//! - The zero bucket widens (when allowed) by the same rule, at read time; the
//!   threshold a claim found necessary is kept (`widened`), so observations below it
//!   count in the zero bucket instead of taking counters.
//!
//! Observations whose bucket already has a counter (the usual case: latencies recur)
//! cost what they cost before the reduction; a bucket new at the configured schema
//! pays for the lookups at the reduced schemas, and a claim for a scan of the table.
//! A histogram whose range keeps growing after each reduction (each reduction can
//! take up to `N` counters for buckets no finer key covers) can use up all `2 · N`;
//! past that, a new bucket folds into a key covering it at the finest schema where one
//! does, which then caps the exposed schema (coarser than client_golang would go:
//! the one case where the resolution drops further than the data needs). Only a value
//! that no key covers even at schema −4 is counted in a fixed array of schema −4
//! buckets (one per power of 2^16, which covers every `f64`: 133 per sign), and the
//! histogram is then exposed at schema −4.
//!
//! The other answer client_golang has, resetting the whole histogram after
//! `NativeHistogramMinResetDuration`, is not offered: it needs a clock on the observe
//! path (this crate's metrics never read one), loses the counts no scrape has seen,
//! and restarts a counter-like series (Prometheus sees `_count` drop and treats the
//! series as reset, the rate over that scrape losing what was counted since the
//! previous one).
//!
//! # Consistency
//!
//! The split-shard protocol reads it: an observation adds to its bucket (or the zero
//! bucket, or the NaN count), to its classic bucket when there are classic buckets, to
//! the sum (`Release`), and completes with the shard's `count` (`Release`); a shard is
//! kept when its native and its classic counters each total its `count`. A
//! [`NativeSnapshot`] is therefore never torn: its buckets, zero bucket and NaN count
//! add up to its count, its classic buckets end at its count, and its sum is the sum
//! of exactly those observations. Every key of a counted observation was claimed
//! before the observation completed, so a snapshot finds it. `core/tests/loom.rs`
//! model-checks it, through a claim, a reduced claim and the fallback, and
//! `core/tests/stress/histogram.rs` stress-tests it with a histogram that reduces.
//!
//! Cost: an observation is the classic histogram's three read-modify-writes (four with
//! classic buckets) plus one acquire load of the key table (more when keys collide),
//! after `frexp` and a binary search of at most eight steps. A shard is
//! `8 · (4 + 2·N + 266 + C + 1)` bytes and the key table `32 · N` (for `N = 160`
//! and no classic buckets: 14 672 bytes on x86-64, against about 8.1 KiB with the single
//! table before); the snapshot holds `32 · N + 8 · (266 + C)` and builds its buckets
//! with `16 · N` more on the stack, and a claim that must choose a schema scans the
//! table with a buffer of `64 · N` bytes on the stack.

mod bounds;
mod resolution;

use core::fmt;
use core::time::Duration;

use crate::collect::{MetricType, Series};
use crate::created::Created;
use crate::histogram::Buckets;
use crate::sample::{self, EncodeLabels, Encoder, Exemplar, NativeBuckets};
use crate::split::{self, Split};
use crate::sync::{AtomicU64, Ordering, add_f64_with, const_fn, zeroed, zeroed_rows};
use resolution::Bucket;

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

/// Key table slots per bucket of the bound: at most half of them are ever taken (see
/// [`COUNTERS`]), so linear probing for a key that is absent stops at an empty slot
/// after about 2.5 probes on average (Knuth, TAOCP vol. 3, 6.4: `(1 + 1/(1-α)²)/2` at
/// load `α = 1/2`).
const SLOTS: usize = 4;
/// Counters per bucket of the bound: `N` at the configured schema, and as many again
/// for the schemas a reduction records at.
const COUNTERS: usize = 2;

/// Bits of a table word below the counter's index: the key (see [`pack`]).
const KEY_BITS: u32 = 40;
const KEY_MASK: u64 = (1 << KEY_BITS) - 1;

/// A table key: an occupied bit, the sign, the schema and the index, never [`EMPTY`].
fn pack(negative: bool, schema: i8, index: i32) -> u64 {
    // The index's two's-complement bits, zero-extended; the schema + 4 in 0..=12.
    #[allow(clippy::cast_sign_loss)]
    let (index, schema) = (u64::from(index as u32), (schema - COARSEST) as u64);
    (index << 8) | (schema << 2) | (u64::from(negative) << 1) | 1
}

/// A table word's sign, schema and index.
fn unpack(word: u64) -> (bool, i8, i32) {
    // The low 32 bits of the shifted word are the index's bits; the schema is 4 bits.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let (index, schema) = ((word >> 8) as u32 as i32, ((word >> 2) & 0xf) as i8);
    (word & 2 != 0, schema + COARSEST, index)
}

/// A table word's counter index.
fn counter_of(word: u64) -> usize {
    // At most 24 bits.
    #[allow(clippy::cast_possible_truncation)]
    let counter = (word >> KEY_BITS) as usize;
    counter
}

/// `reduced`'s bit for `schema`.
const fn level_bit(schema: i8) -> u64 {
    #[allow(clippy::cast_sign_loss)]
    let bit = 1 << (schema - COARSEST) as u32;
    bit
}

/// The coarsest schema with a bit in `reduced`, or `schema` when none is set.
fn recording(reduced: u64, schema: i8) -> i8 {
    if reduced == 0 {
        return schema;
    }
    // At most 12: the cast is exact.
    #[allow(clippy::cast_possible_truncation, clippy::cast_possible_wrap)]
    let coarsest = reduced.trailing_zeros() as i8 + COARSEST;
    coarsest
}

/// Where a new bucket's observation is counted.
enum Home {
    /// A counter claimed for it, or covering it.
    Counter(usize),
    /// The zero bucket, widened over it.
    Zero,
    /// The schema −4 fallback.
    Coarse,
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
    /// Per counter claimed in the key table, the observations in its bucket.
    table: [[AtomicU64; N]; COUNTERS],
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
    table: [[u64; N]; COUNTERS],
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
                table: zeroed_rows(),
                coarse: zeroed(),
                classic: zeroed(),
                classic_overflow: AtomicU64::new(0),
            }
        }
    }

    /// The counter claimed as `counter`.
    #[inline]
    fn counter(&self, counter: usize) -> &AtomicU64 {
        &self.table.as_flattened()[counter]
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
            table: [[0; N]; COUNTERS],
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
            .wrapping_add(load_all(
                self.table.as_flattened(),
                reading.table.as_flattened_mut(),
            ))
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

/// A native histogram exposing at most `N` buckets (default 160, what client_golang's
/// documentation suggests as a limit) unless even schema −4 needs more (its buckets
/// each span a factor of 2^16, 133 of them per sign), and `C` classic buckets beside
/// (default none); lock-free and allocation-free to observe, never torn when read.
///
/// Bucket `i` holds the values in `(2^((i-1)·2^-s), 2^(i·2^-s)]` at schema `s`, which
/// the growth factor picks ([`schema_for`]); values with `|v| <=` the zero threshold
/// count in the zero bucket, NaN in no bucket. When the observations need more than
/// `N` buckets, the histogram is exposed at the finest coarser schema at which they
/// fit (what client_golang's step-by-step halving reaches), after widening the zero
/// bucket if [`with_max_zero_threshold`](Self::with_max_zero_threshold) allows; see
/// the module docs for how, what it costs and the one case that falls back to schema
/// −4. Pick `N` for the range you expect: at schema 3 one power of ten takes 27
/// buckets.
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
///
/// Past the bound, the resolution drops as far as needed and no further:
///
/// ```
/// use torchlight::NativeHistogram;
///
/// // Room for 4 buckets at schema 0 (factor 2): 1, 2, 4, 8 and 16 need 5 ...
/// let histogram: NativeHistogram<4> = NativeHistogram::new(2.0);
/// for value in [1.0, 2.0, 4.0, 8.0, 16.0] {
///     histogram.observe(value);
/// }
/// // ... and 3 at schema -1, where (1/4, 1], (1, 4], (4, 16] are the buckets.
/// let snapshot = histogram.snapshot();
/// assert_eq!(snapshot.schema(), -1);
/// assert_eq!(snapshot.positive().collect::<Vec<_>>(), [(0, 1), (1, 2), (2, 2)]);
/// ```
pub struct NativeHistogram<const N: usize = 160, const C: usize = 0> {
    /// Invariant: −4 to 8.
    schema: i8,
    /// Invariant: finite and `>= 0`.
    zero_threshold: f64,
    /// How far the zero bucket may widen (client_golang's
    /// `NativeHistogramMaxZeroThreshold`). Invariant: finite; no widening when it is
    /// at most `zero_threshold`.
    max_zero_threshold: f64,
    classic: &'static Buckets<C>,
    /// Bucket keys (see [`pack`]) claimed by observations, each with the index of its
    /// counter in the bits from [`KEY_BITS`] up, shared by both shards.
    /// Invariant: a slot changes once, from [`EMPTY`]; no key is in two slots; at most
    /// `COUNTERS · N` slots are taken.
    keys: [[AtomicU64; N]; SLOTS],
    /// Counters handed out to claims. Invariant: only grows; a claim holds the counter
    /// it got only if it is below `COUNTERS · N`.
    claimed: AtomicU64,
    /// A bit (see [`level_bit`]) per schema below `schema` that has keys. Invariant: set
    /// before the first key at that schema is claimed; only grows.
    reduced: AtomicU64,
    /// Aliases stored in `keys` (see `alias`). Invariant: only grows; an alias is
    /// stored only by a call that saw it below `N`.
    aliases: AtomicU64,
    /// Bits of the threshold the zero bucket has widened to (0.0 before), which
    /// observations of buckets without a counter compare against. Invariant: only
    /// grows; at most `max_zero_threshold`; a bucket boundary at every schema that has
    /// keys.
    widened: AtomicU64,
    /// The split's config is the created timestamp: on its first cache line, which
    /// observations read but registration alone writes.
    split: Split<Shard<N, C>, Created>,
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
        /// If `factor <= 1`, or `N` is above 2^20 (a compile error in a `static`).
        #[must_use]
        pub const fn with_buckets(factor: f64, classic: &'static Buckets<C>) -> Self {
            // A counter's index has 24 bits in a table word.
            assert!(N <= 1 << 20, "a native histogram's bound is at most 2^20 buckets");
            Self {
                schema: schema_for(factor),
                zero_threshold: DEFAULT_ZERO_THRESHOLD,
                max_zero_threshold: 0.0,
                classic,
                keys: zeroed_rows(),
                claimed: AtomicU64::new(0),
                reduced: AtomicU64::new(0),
                aliases: AtomicU64::new(0),
                widened: AtomicU64::new(0),
                split: Split::new(Created::new(), [Shard::new(), Shard::new()]),
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
            self.set_zero_threshold(threshold);
            self
        }
    }

    /// What [`with_zero_threshold`](Self::with_zero_threshold) does, in place (for
    /// the types that wrap a native histogram).
    pub(crate) const fn set_zero_threshold(&mut self, threshold: f64) {
        if !threshold.is_finite() || threshold < 0.0 {
            panic!("a zero threshold must be finite and not negative");
        }
        self.zero_threshold = threshold;
    }

    const_fn! {
        /// Lets the zero bucket widen up to `threshold` before the resolution drops,
        /// as client_golang's `NativeHistogramMaxZeroThreshold`: while more than `N`
        /// buckets remain, the zero bucket takes the buckets closest to zero (of both
        /// signs), its threshold becoming their upper bound, as long as that is at most
        /// `threshold`. It is decided when the histogram is read, at the schema it is
        /// exposed at, from the buckets kept; nothing is widened while the buckets fit.
        /// By default the zero bucket never widens.
        ///
        /// # Panics
        ///
        /// If `threshold` is negative, NaN or infinite (a compile error in a `static`).
        #[must_use]
        pub const fn with_max_zero_threshold(mut self, threshold: f64) -> Self {
            self.set_max_zero_threshold(threshold);
            self
        }
    }

    /// What [`with_max_zero_threshold`](Self::with_max_zero_threshold) does, in place.
    pub(crate) const fn set_max_zero_threshold(&mut self, threshold: f64) {
        if !threshold.is_finite() || threshold < 0.0 {
            panic!("a maximum zero threshold must be finite and not negative");
        }
        self.max_zero_threshold = threshold;
    }

    /// The schema the buckets are recorded at while they fit (a snapshot may be
    /// coarser, see the type docs).
    #[must_use]
    pub fn schema(&self) -> i8 {
        self.schema
    }

    /// The classic bucket bounds (none for [`new`](NativeHistogram::new)).
    #[must_use]
    pub fn buckets(&self) -> &'static Buckets<C> {
        self.classic
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

    /// The counter of `abs`'s bucket: at the configured schema when the table has it.
    #[inline]
    fn bucket<'s>(&self, shard: &'s Shard<N, C>, negative: bool, abs: f64) -> &'s AtomicU64 {
        match self.find(pack(negative, self.schema, key_of(abs, self.schema))) {
            Ok(counter) => shard.counter(counter),
            Err(_) => self.new_bucket(shard, negative, abs),
        }
    }

    /// The counter of `abs`'s bucket at a reduced schema, or a new one, or the coarse
    /// fallback: the path of observations whose bucket at the configured schema has no
    /// counter.
    #[cold]
    #[inline(never)]
    fn new_bucket<'s>(&self, shard: &'s Shard<N, C>, negative: bool, abs: f64) -> &'s AtomicU64 {
        // ORDERING: Relaxed: the bits only steer the lookups below; one missed here
        // makes this observation claim a key a snapshot merges with the one it missed.
        let reduced = self.reduced.load(Ordering::Relaxed);
        for schema in (COARSEST..self.schema).rev() {
            if reduced & level_bit(schema) != 0 {
                if let Ok(counter) = self.find(pack(negative, schema, key_of(abs, schema))) {
                    return shard.counter(counter);
                }
            }
        }
        // ORDERING: Relaxed: a snapshot loads it after its Acquire load of `count`, so
        // it sees at least the threshold this observation compared against.
        if abs <= f64::from_bits(self.widened.load(Ordering::Relaxed)) {
            return &shard.zero;
        }
        match self.claim(negative, abs, reduced) {
            Home::Counter(counter) => return shard.counter(counter),
            Home::Zero => return &shard.zero,
            Home::Coarse => {}
        }
        let side = if negative { COARSE_SIDE } else { 0 };
        let index = key_of(abs, COARSEST) - COARSE_LOWEST;
        // Within the side's range for every non-NaN `abs > 0` (see `COARSE_SIDE`).
        #[allow(clippy::cast_sign_loss)]
        &shard.coarse[side + index as usize]
    }

    /// The counter of `key` when the table has it (`Ok`), or the empty slot where a
    /// lookup for it ends (`Err`; `SLOTS · N` when there is none, which the bound on
    /// claims rules out).
    #[inline]
    fn find(&self, key: u64) -> Result<usize, usize> {
        let slots = self.keys.as_flattened();
        if slots.is_empty() {
            return Err(0);
        }
        // Fibonacci hashing: the high bits of the product spread nearby indices.
        #[allow(clippy::cast_possible_truncation)]
        let mut slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize % slots.len();
        for _ in 0..slots.len() {
            // ORDERING: Acquire pairs with the Release of the exchange that claimed the
            // slot: an observer counting under a key another claimed has the claim
            // happen before its `count` increment, so a collector that counts it sees
            // the key.
            let word = slots[slot].load(Ordering::Acquire);
            if word & KEY_MASK == key {
                return Ok(counter_of(word));
            }
            if word == EMPTY {
                return Err(slot);
            }
            slot = if slot + 1 == slots.len() { 0 } else { slot + 1 };
        }
        Err(slots.len())
    }

    /// A counter for `abs`'s bucket, which no key at its schema holds: at the finest
    /// schema where the keys claimed so far and this one fit the bound, a key there
    /// that covers it, or a new one; `None` once every counter is taken.
    fn claim(&self, negative: bool, abs: f64, reduced: u64) -> Home {
        let recording = recording(reduced, self.schema);
        // ORDERING: Relaxed: only a hint of how many keys exist (see `schema_of_claim`).
        let claimed = self.claimed.load(Ordering::Relaxed);
        let counters = (COUNTERS * N) as u64;
        let schema = if recording == self.schema && claimed < N as u64 {
            self.schema
        } else {
            let fit = self.schema_of_claim(negative, abs, recording);
            if fit.zero_threshold > self.zero_threshold {
                // ORDERING: Relaxed: see the load in `new_bucket`. Positive floats
                // order as their bits.
                self.widened
                    .fetch_max(fit.zero_threshold.to_bits(), Ordering::Relaxed);
                if abs <= fit.zero_threshold {
                    return Home::Zero;
                }
            }
            fit.schema
        };
        let index = key_of(abs, schema);
        let key = pack(negative, schema, index);
        if schema < self.schema {
            if schema < recording {
                // ORDERING: Relaxed: see the load in `new_bucket`. A snapshot that counts
                // an observation recorded at `schema` sees the bit: it was set before that
                // observation completed (or, for an observation that found the bit set,
                // read before it completed), and the snapshot loads it after its Acquire
                // load of `count` (coherence).
                self.reduced.fetch_or(level_bit(schema), Ordering::Relaxed);
            }
            // A finer key whose bucket is inside this one: at `schema` and below, its
            // counter is this bucket's, so this observation and the next ones (through
            // an alias) go there rather than to a new counter.
            if let Some(counter) = self.covering(negative, index, schema) {
                self.alias(key, counter);
                return Home::Counter(counter);
            }
        }
        // ORDERING: Relaxed: the counter is only handed out here; the exchange that
        // stores it with its key publishes it.
        let counter = if claimed >= counters {
            counters
        } else {
            self.claimed.fetch_add(1, Ordering::Relaxed)
        };
        if counter >= counters {
            return self
                .fold(negative, abs, schema)
                .map_or(Home::Coarse, Home::Counter);
        }
        match self.insert(key | (counter << KEY_BITS)) {
            Ok(()) => {
                // Below 2^21: the cast is exact.
                #[allow(clippy::cast_possible_truncation)]
                Home::Counter(counter as usize)
            }
            Err(theirs) => {
                // Another observer claimed the same key first: give ours back if no
                // later claim took one.
                // ORDERING: Relaxed: as above.
                let _ = self.claimed.compare_exchange(
                    counter + 1,
                    counter,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                );
                theirs.map_or(Home::Coarse, Home::Counter)
            }
        }
    }

    /// Every counter is taken: the counter of a key covering `abs`'s bucket at the
    /// finest schema below `schema` where one does, which from then on caps the
    /// exposed schema (its bit in `reduced`); `None` when none does even at −4.
    #[cold]
    fn fold(&self, negative: bool, abs: f64, schema: i8) -> Option<usize> {
        (COARSEST..schema).rev().find_map(|coarser| {
            let index = key_of(abs, coarser);
            let counter = self.covering(negative, index, coarser)?;
            // ORDERING: Relaxed: as in `claim`.
            self.reduced.fetch_or(level_bit(coarser), Ordering::Relaxed);
            self.alias(pack(negative, coarser, index), counter);
            Some(counter)
        })
    }

    /// Stores `word` (a key and its counter) in the slot where a lookup for its key
    /// ends; `Err` with the counter already there when another observer stored the
    /// key first (`None` when the table has no empty slot, which the bounds on claims
    /// and aliases rule out).
    fn insert(&self, word: u64) -> Result<(), Option<usize>> {
        loop {
            let slot = match self.find(word & KEY_MASK) {
                Ok(theirs) => return Err(Some(theirs)),
                Err(slot) => self.keys.as_flattened().get(slot).ok_or(None)?,
            };
            // ORDERING: Release publishes the key as `find` says; Relaxed on failure:
            // `find` reloads the slot with Acquire.
            if slot
                .compare_exchange(EMPTY, word, Ordering::Release, Ordering::Relaxed)
                .is_ok()
            {
                return Ok(());
            }
        }
    }

    /// Makes `key` a second name of `counter` (whose key is finer and inside `key`'s
    /// bucket), so the next lookups at `key`'s schema find it; at most `N` aliases, as
    /// many as one schema can use, which keeps the table at most three quarters full.
    fn alias(&self, key: u64, counter: usize) {
        // ORDERING: Relaxed: only a budget; the exchange in `insert` publishes.
        if self.aliases.load(Ordering::Relaxed) >= N as u64
            || self.aliases.fetch_add(1, Ordering::Relaxed) >= N as u64
        {
            return;
        }
        let _ = self.insert(key | ((counter as u64) << KEY_BITS));
    }

    /// The counter of a key at `schema` or finer whose bucket, coarsened to `schema`,
    /// is `(negative, index)`.
    fn covering(&self, negative: bool, index: i32, schema: i8) -> Option<usize> {
        self.keys.as_flattened().iter().find_map(|slot| {
            // ORDERING: Relaxed: only the key is read (a key claimed concurrently and
            // missed here costs a counter, not correctness); the counter it names is
            // published to collectors by this observation's own completion.
            let word = slot.load(Ordering::Relaxed);
            let (sign, at, key) = unpack(word);
            (word != EMPTY
                && sign == negative
                && at >= schema
                && resolution::coarsen(key, at, schema) == index)
                .then(|| counter_of(word))
        })
    }

    /// The schema a new key for `abs` is claimed at once the configured schema is full
    /// or reduced: the finest at or below `recording` at which the keys in the table
    /// and this one fit (`resolution::fit`).
    fn schema_of_claim(&self, negative: bool, abs: f64, recording: i8) -> resolution::Fit {
        let mut buffer = [[Bucket::EMPTY; N]; SLOTS];
        let buffer = buffer.as_flattened_mut();
        let mut len = 0;
        for slot in self.keys.as_flattened() {
            // ORDERING: Relaxed: only the key is read, and a key claimed concurrently
            // and missed here only makes the schema chosen finer than needed, which a
            // snapshot corrects.
            let word = slot.load(Ordering::Relaxed);
            // Keep room for the new key: the table always has an empty slot.
            if word == EMPTY || len + 1 >= buffer.len() {
                continue;
            }
            let (negative, schema, index) = unpack(word);
            buffer[len] = Bucket {
                schema,
                negative,
                index,
                count: 1,
            };
            len += 1;
        }
        let Some(new) = buffer.get_mut(len) else {
            return resolution::Fit {
                schema: COARSEST,
                len,
                widened: 0,
                zero_threshold: self.zero_threshold,
            };
        };
        *new = Bucket {
            schema: recording,
            negative,
            index: key_of(abs, recording),
            count: 1,
        };
        resolution::fit(
            &mut buffer[..=len],
            recording,
            N,
            self.zero_threshold,
            self.max_zero_threshold,
        )
    }

    /// A consistent view of the observations completed so far: at least every
    /// observation that completed before this call, and nothing half-recorded.
    ///
    /// Waits for observations already in flight in the shard it reads (parked with
    /// `std`, spinning without); concurrent calls are serialised.
    #[must_use]
    pub fn snapshot(&self) -> NativeSnapshot<N, C> {
        let readings = self.split.snapshot();
        let mut table = [[0u64; N]; COUNTERS];
        let mut coarse = [0u64; 2 * COARSE_SIDE];
        let mut classic = [0u64; C];
        let (mut count, mut sum, mut zero) = (0, 0.0, 0);
        for reading in &readings {
            count += reading.count;
            sum += reading.sum;
            zero += reading.zero;
            for (total, n) in table
                .as_flattened_mut()
                .iter_mut()
                .zip(reading.table.as_flattened())
            {
                *total += n;
            }
            for (total, n) in coarse.iter_mut().zip(reading.coarse) {
                *total += n;
            }
            for (total, n) in classic.iter_mut().zip(reading.classic) {
                *total += n;
            }
        }
        let table = table.as_flattened();
        let fallback = coarse.iter().any(|n| *n != 0);
        // ORDERING: Relaxed: loaded after the readings' Acquire loads of `count`; every
        // bit an observation they count relied on is visible (see `claim`).
        let ceiling = recording(self.reduced.load(Ordering::Relaxed), self.schema);
        // ORDERING: Relaxed: as `reduced` above (see `new_bucket`).
        let widened = f64::from_bits(self.widened.load(Ordering::Relaxed)).max(self.zero_threshold);
        // One key per counter: an alias names a counter a finer key owns.
        let mut owners = [[EMPTY; N]; COUNTERS];
        let owners = owners.as_flattened_mut();
        for slot in self.keys.as_flattened() {
            // ORDERING: Relaxed: the key of a counter counted in a reading was visible
            // to that reading (see `find`), and this thread reads it again later.
            let word = slot.load(Ordering::Relaxed);
            if let Some(owner) = owners.get_mut(counter_of(word)) {
                let finer = word != EMPTY && (*owner == EMPTY || unpack(word).1 > unpack(*owner).1);
                if finer {
                    *owner = word;
                }
            }
        }
        let mut buckets = [[Bucket::EMPTY; N]; COUNTERS];
        let flat = buckets.as_flattened_mut();
        let mut len = 0;
        for (word, n) in owners.iter().zip(table) {
            if *word == EMPTY || *n == 0 {
                continue;
            }
            let (negative, schema, index) = unpack(*word);
            if fallback {
                let index = resolution::coarsen(index, schema, COARSEST) - COARSE_LOWEST;
                let side = if negative { COARSE_SIDE } else { 0 };
                // In range: the coarse bucket containing a recorded bucket.
                #[allow(clippy::cast_sign_loss)]
                let cell = &mut coarse[side + index as usize];
                *cell += n;
            } else if resolution::upper_bound(index, schema) <= widened {
                zero += n;
            } else {
                flat[len] = Bucket {
                    schema,
                    negative,
                    index,
                    count: *n,
                };
                len += 1;
            }
        }
        let (mut schema, mut zero_threshold, mut start) = (COARSEST, widened, 0);
        if !fallback {
            let fit = resolution::fit(
                &mut flat[..len],
                ceiling,
                N,
                widened,
                self.max_zero_threshold,
            );
            zero += flat[..fit.widened].iter().map(|b| b.count).sum::<u64>();
            flat[fit.widened..fit.len].sort_unstable_by_key(|b| (b.negative, b.index));
            (schema, zero_threshold, start, len) =
                (fit.schema, fit.zero_threshold, fit.widened, fit.len);
        }
        let mut running = 0;
        for n in &mut classic {
            running += *n;
            *n = running;
        }
        NativeSnapshot {
            schema,
            zero_threshold,
            zero_count: zero,
            count,
            sum,
            buckets,
            start,
            end: if fallback { 0 } else { len },
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
            .field("max_zero_threshold", &self.max_zero_threshold)
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
    /// Populated buckets at `schema`. Invariant: `buckets[start..end]` (flattened),
    /// negative ones last, by index; empty when the coarse fallback was used.
    buckets: [[Bucket; N]; COUNTERS],
    start: usize,
    end: usize,
    /// Schema −4 buckets as in `Shard::coarse`; all zero unless the fallback was used.
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
        let table = self.buckets.as_flattened()[self.start..self.end]
            .iter()
            .filter(move |bucket| bucket.negative == negative)
            .map(|bucket| (bucket.index, bucket.count));
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

impl<const N: usize, const C: usize> NativeSnapshot<N, C> {
    /// Reports the snapshot as one series: the classic buckets with `classic`'s
    /// exemplars (one per bound, or none) and `inf`, the native buckets with
    /// `native`'s. The one place a native histogram becomes samples, for
    /// [`NativeHistogram`] and the exemplar-keeping type alike.
    pub(crate) fn encode(
        &self,
        labels: &dyn EncodeLabels,
        encoder: &mut Encoder<'_>,
        classic: &[Option<Exemplar>],
        inf: Option<&Exemplar>,
        native: &[Option<Exemplar>],
        created: Option<Duration>,
    ) -> fmt::Result {
        encoder.histogram_series(
            labels,
            &sample::Buckets {
                bounds: self.bounds(),
                cumulative: self.cumulative(),
                count: self.count,
                sum: self.sum,
                exemplars: classic,
                inf_exemplar: inf,
                native: Some(sample::Native {
                    schema: self.schema,
                    zero_threshold: self.zero_threshold,
                    zero_count: self.zero_count,
                    buckets: self,
                    exemplars: native,
                }),
                created,
            },
        )
    }
}

impl<const N: usize, const C: usize> Series for NativeHistogram<N, C> {
    const TYPE: MetricType = MetricType::Histogram;

    fn encode_series(&self, labels: &dyn EncodeLabels, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Taken before reporting, as the classic histogram's.
        self.snapshot()
            .encode(labels, encoder, &[], None, &[], self.created())
    }

    fn set_created(&self, created: Option<Duration>) {
        self.split.config().set(created);
    }
}

impl<const N: usize, const C: usize> NativeHistogram<N, C> {
    /// The created timestamp, for the exemplar-keeping type built on this one.
    pub(crate) fn created(&self) -> Option<Duration> {
        self.split.config().get()
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
        for (negative, schema, index) in [
            (false, 3, 0),
            (true, -4, -1),
            (false, 8, i32::MIN),
            (true, 0, i32::MAX),
        ] {
            let key = pack(negative, schema, index);
            assert_ne!(key, EMPTY);
            assert_eq!(key & KEY_MASK, key);
            assert_eq!(
                unpack(key | (12_345 << KEY_BITS)),
                (negative, schema, index)
            );
            assert_eq!(counter_of(key | (12_345 << KEY_BITS)), 12_345);
        }
    }

    #[test]
    fn coarsening_a_key_finds_the_coarse_bucket_of_its_values() {
        for schema in -3..=8 {
            for value in [1e-9, 0.001, 0.3, 1.0, 7.5, 1e6, f64::MAX] {
                assert_eq!(
                    resolution::coarsen(key(value, schema), schema, COARSEST),
                    key(value, COARSEST),
                    "{value} at {schema}"
                );
            }
        }
    }

    #[test]
    fn the_recording_schema_is_the_coarsest_with_keys() {
        assert_eq!(recording(0, 3), 3);
        assert_eq!(recording(level_bit(2) | level_bit(0), 3), 0);
        assert_eq!(recording(level_bit(COARSEST), 3), COARSEST);
    }
}
