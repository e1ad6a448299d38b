//! The split-shard protocol shared by the classic [`Histogram`](crate::Histogram) and
//! the [`NativeHistogram`](crate::NativeHistogram): how a scrape reads a set of counters
//! that observers update with several atomics, without tearing and without locking
//! observers out.
//!
//! A [`Split`] holds two *shards* of the same counters (the split-histogram design,
//! wyfo/split-histogram on GitHub, after client_golang's hot/cold halves,
//! prometheus/client_golang#457). Each shard has a `count` of completed observations;
//! an observation goes to one shard, the metric is the sum of both, and nothing is ever
//! moved between them or reset.
//!
//! - An observer takes the hot shard ([`Split::hot`], a plain load), adds to its
//!   counters, publishing them with `Release` (the shard type says which of its
//!   operations does that), then completes with [`Split::complete`], a `Release`
//!   increment of `count`.
//! - A shard is *read* by loading `count` (`Acquire`), then the counters, and is kept
//!   only if they account for exactly `count` observations ([`Shard::read`]).
//!   Otherwise an observation is half-recorded: the collector rereads a few times, then
//!   raises the `WAITING` bit in `count` and parks (with `std`; it spins without), and
//!   the observer whose increment sees the bit wakes it.
//! - [`Split::snapshot`] (one collector at a time, under a spin lock that observers
//!   never touch) reads the cold shard, makes it hot, then reads the shard that was
//!   hot. Each read waits only for observations that picked that shard before it went
//!   cold, so a collection waits for a bounded set even under constant load.
//!
//! Invariant: a snapshot is two consistent shard readings, so it holds exactly the
//! observations it counts, includes every observation that completed before it
//! started, and a later snapshot includes everything an earlier one did.
//! `core/tests/loom.rs` model-checks this for both histograms (including the parking
//! path); `core/tests/stress/histogram.rs` stress-tests it.

use crate::sync::{AtomicBool, AtomicU64, Ordering, SpinLock, Waiter, backoff, const_fn, fence};

/// Bit 63 of a shard's `count`: a collector is waiting for this shard's observations
/// in flight, and the observer that completes one must wake it.
pub(crate) const WAITING: u64 = 1 << 63;

/// How many times a collector rereads a shard before it parks. Under loom once, so
/// the model checks the parking path too.
const SPINS: u32 = if cfg!(loom) { 1 } else { 32 };

/// The counters of one shard, as the protocol sees them.
pub(crate) trait Shard {
    /// What one consistent read of the shard found.
    type Reading;

    /// Completed observations in bits 0..63, incremented last (`Release`, by
    /// [`Split::complete`]); bit 63 is [`WAITING`].
    fn count(&self) -> &AtomicU64;

    /// Reads the counters after `count` (flag cleared) was loaded with `Acquire`, and
    /// keeps them only if they belong to exactly the observations it counts.
    fn read(&self, count: u64) -> Option<Self::Reading>;
}

/// Two shards, which one is hot, and the collection lock; `config` is the metric's own
/// settings (read-only but for the created timestamp, which observations never touch), kept here so they share the first cache line with `hot` (a
/// `Histogram<14>` stays 640 bytes on x86-64).
pub(crate) struct Split<S, C = ()> {
    config: C,
    /// The shard observers use: `false` for `shards[0]`, `true` for `shards[1]`.
    /// Only a collection (under `collecting`) changes it.
    hot: AtomicBool,
    /// Serialises collections; observers never take it.
    collecting: SpinLock,
    /// Where a collection waits for observations in flight.
    waiter: Waiter,
    /// Invariant: every observation is counted in exactly one shard, and a shard's
    /// counters only grow; the metric is the sum of the two.
    shards: [S; 2],
}

impl<S: Shard, C> Split<S, C> {
    const_fn! {
        pub(crate) const fn new(config: C, shards: [S; 2]) -> Self {
            Self {
                config,
                hot: AtomicBool::new(false),
                collecting: SpinLock::new(),
                waiter: Waiter::new(),
                shards,
            }
        }
    }

    /// The metric's settings.
    #[inline]
    pub(crate) fn config(&self) -> &C {
        &self.config
    }

    /// The shard to record an observation into.
    #[inline]
    pub(crate) fn hot(&self) -> &S {
        // ORDERING: Relaxed: the hot shard only steers observers away from the shard a
        // collection is about to read; any shard is correct (every read is checked).
        &self.shards[usize::from(self.hot.load(Ordering::Relaxed))]
    }

    /// Completes an observation recorded into `shard`: it is counted from now on.
    #[inline]
    pub(crate) fn complete(&self, shard: &S) {
        // ORDERING: Release pairs with the Acquire load (or flag-raising exchange) of
        // `count` in `read`: a collector that counts this observation sees its counters.
        if shard.count().fetch_add(1, Ordering::Release) & WAITING != 0 {
            self.wake();
        }
    }

    /// A collector is waiting for this shard: wake it.
    #[cold]
    #[inline(never)]
    fn wake(&self) {
        // ORDERING: Acquire fence: the increment just made read `count` with the
        // collector's Release flag-raising exchange in it, so after this fence the
        // collector's handle, registered before that exchange, is visible.
        fence(Ordering::Acquire);
        self.waiter.wake();
    }

    /// Consistent readings of the cold shard, then of the hot one: together at least
    /// every observation that completed before this call, and nothing half-recorded.
    ///
    /// Waits for observations already in flight in the shard it reads (parked with
    /// `std`, spinning without); concurrent calls are serialised.
    pub(crate) fn snapshot(&self) -> [S::Reading; 2] {
        let _guard = self.collecting.lock();
        // ORDERING: Relaxed: only collections change `hot`, and they are serialised by
        // the lock.
        let hot = self.hot.load(Ordering::Relaxed);
        // The cold shard first: only observers that loaded `hot` before the last flip
        // can still be in flight there, so this read waits for a bounded set.
        let cold = self.read(&self.shards[usize::from(!hot)]);
        // ORDERING: Relaxed: see `hot`; correctness never depends on when observers
        // see the flip, only how soon the read below stops waiting does.
        self.hot.store(!hot, Ordering::Relaxed);
        [cold, self.read(&self.shards[usize::from(hot)])]
    }

    /// Reads `shard` consistently: rereads while an observation is half-recorded in it,
    /// then parks until the observer completing one wakes it.
    fn read(&self, shard: &S) -> S::Reading {
        for spins in 1..=SPINS {
            // ORDERING: Acquire pairs with the Release increments in `complete`: every
            // counted observation's counters are visible to `Shard::read`.
            let count = shard.count().load(Ordering::Acquire);
            if let Some(reading) = shard.read(count & !WAITING) {
                return reading;
            }
            backoff(spins);
        }
        self.waiter.register();
        let reading = loop {
            // ORDERING: AcqRel. Acquire as the load above. Release: an observer whose
            // increment reads the flag also sees the handle registered just before
            // (its Acquire fence in `wake`).
            let count = shard.count().fetch_or(WAITING, Ordering::AcqRel);
            if let Some(reading) = shard.read(count & !WAITING) {
                break reading;
            }
            // An observer that increments `count` after the exchange above sees the flag
            // and wakes us; one before it is in this read. Parking keeps a wake that
            // came first, so none is lost.
            self.waiter.wait();
        };
        // ORDERING: Relaxed: lowering the flag publishes nothing; an observer that still
        // sees it wakes this thread needlessly (a spurious unpark) or finds no handle.
        shard.count().fetch_and(!WAITING, Ordering::Relaxed);
        self.waiter.unregister();
        reading
    }
}
