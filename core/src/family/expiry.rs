//! Expiry that waits for a scrape: the per-child state ([`Life`]) and the per-family
//! settings ([`Expiry`]) behind [`Family::with_idle_timeout`](super::Family::with_idle_timeout).
//!
//! Protocol. A child's [`Life`] is one word: `TOUCHED` (a lookup handed out its
//! handle since a scrape last looked), `HELD` (the last scrape found a handle to it
//! outside the family), or *idle since scrape `s`*, with an *exposed* bit. Lookups
//! (`get_or_create`, `get`) store `TOUCHED` under their shard's read lock; nothing else
//! on the hot path, and no clock. A scrape of an expiring family:
//!
//! 1. **observes** every child under its shard's *write* lock (so no lookup is in
//!    flight): a child with a handle outside the family (its `Arc` count above the
//!    family's one; scrapes hold only `Weak`s) becomes `HELD`, active now; a `TOUCHED`
//!    or formerly `HELD` child becomes idle since this scrape, active now; an idle,
//!    *exposed* child whose last activity is at least the timeout old is removed (an
//!    exposed one not that old stays as it is); an idle child not exposed (its scrape
//!    failed, or another overtook it) is re-stamped idle since this scrape;
//! 2. writes the children (no lock held);
//! 3. if the encoder accepted every child, marks **exposed** each child still idle
//!    since *this* scrape (again under the write locks).
//!
//! Why no update is lost: a child is removed only while no handle to it exists outside
//! the family, and only if it is still exposed, meaning that since the scrape that
//! exposed it no lookup handed out a handle (that would have stored `TOUCHED`) and no
//! handle existed at that scrape's observation. A handle obtained before that
//! observation and dropped since was seen dropped there (its updates visible through
//! the `Acquire` fence after the count) and the scrape wrote the value after. So the
//! removed child's value is the one that scrape wrote: the final one. Re-stamping with
//! the scrape's own number, unique per family, makes a concurrent scrape's mark miss
//! when another scrape (or a lookup) changed the word in between.
//!
//! Tested by `core/tests/api/family.rs` (the cases), `core/tests/stress/expiry.rs`
//! (updaters racing a scraper with a zero timeout: every increment exposed once) and
//! `core/tests/alloc/family.rs` (memory returns).

use std::sync::OnceLock;
use std::time::{Duration, Instant};

use crate::sync::{AtomicU64, Ordering};

/// A lookup handed the child out since the last scrape's observation.
const TOUCHED: u64 = u64::MAX;
/// The last scrape found a handle to the child outside the family.
const HELD: u64 = u64::MAX - 1;
/// The bit that marks an idle child's value as written by a scrape since it went idle.
const EXPOSED: u64 = 1;

/// One child's activity, kept beside it in its shard.
pub(super) struct Life {
    /// `TOUCHED`, `HELD`, or `scrape << 1 | exposed` for a child idle since `scrape`.
    /// Invariant: written by scrapes only under the child's shard's write lock; by
    /// lookups only (to `TOUCHED`) under its read lock.
    state: AtomicU64,
    /// When a scrape last found the child touched or held, in nanoseconds since the
    /// family's first expiring scrape. Written under the shard's write lock.
    active: AtomicU64,
}

/// What a scrape's observation decided for one child.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    Keep,
    Remove,
}

impl Life {
    /// A new child: touched, so the first scrape counts it active.
    pub(super) fn new() -> Self {
        Self {
            state: AtomicU64::new(TOUCHED),
            active: AtomicU64::new(0),
        }
    }

    /// Records that a lookup handed out the child's handle.
    #[inline]
    pub(super) fn touch(&self) {
        // Read first, so lookups of a child already touched share its cache line
        // instead of taking it in turn. ORDERING: Relaxed: scrapes read the word under
        // the shard's write lock, which this lookup's read lock orders.
        if self.state.load(Ordering::Relaxed) != TOUCHED {
            self.state.store(TOUCHED, Ordering::Relaxed);
        }
    }

    /// Step 1 of the protocol for scrape number `scrape` at `now`. `held`: whether a
    /// handle exists outside the family. Called under the shard's write lock.
    pub(super) fn observe(&self, held: bool, scrape: u64, now: u64, timeout: u64) -> Verdict {
        // ORDERING: Relaxed throughout: every access is under the shard's lock.
        let state = self.state.load(Ordering::Relaxed);
        let next = if held {
            HELD
        } else if state == TOUCHED || state == HELD {
            scrape << 1
        } else if state & EXPOSED == EXPOSED {
            let since = self.active.load(Ordering::Relaxed);
            if now.saturating_sub(since) >= timeout {
                return Verdict::Remove;
            }
            return Verdict::Keep;
        } else {
            // Idle, but no scrape wrote it since (a failed scrape): expose it now.
            self.state.store(scrape << 1, Ordering::Relaxed);
            return Verdict::Keep;
        };
        self.state.store(next, Ordering::Relaxed);
        self.active.store(now, Ordering::Relaxed);
        Verdict::Keep
    }

    /// Step 3: scrape `scrape` wrote every child; marks this one exposed if it is still
    /// idle since that scrape. Called under the shard's write lock.
    pub(super) fn exposed_by(&self, scrape: u64) {
        // ORDERING: Relaxed: under the shard's lock, as in `observe`.
        if self.state.load(Ordering::Relaxed) == scrape << 1 {
            self.state.store(scrape << 1 | EXPOSED, Ordering::Relaxed);
        }
    }
}

/// A family's expiry settings and scrape clock.
pub(super) struct Expiry {
    timeout: Duration,
    /// The clock's origin, read at the first expiring scrape.
    origin: OnceLock<Instant>,
    /// Numbers the family's scrapes, from 1 (so an idle word is never 0 or a marker).
    scrapes: AtomicU64,
}

/// One expiring scrape: its number and time.
#[derive(Clone, Copy)]
pub(super) struct Scrape {
    pub(super) number: u64,
    pub(super) now: u64,
    pub(super) timeout: u64,
}

impl Expiry {
    pub(super) const fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            origin: OnceLock::new(),
            scrapes: AtomicU64::new(1),
        }
    }

    pub(super) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Starts a scrape: one clock read, one number.
    pub(super) fn start(&self) -> Scrape {
        let origin = *self.origin.get_or_init(Instant::now);
        // ORDERING: Relaxed: only uniqueness matters, which the read-modify-write gives.
        let number = self.scrapes.fetch_add(1, Ordering::Relaxed);
        Scrape {
            number,
            now: nanos(origin.elapsed()),
            timeout: nanos(self.timeout),
        }
    }
}

/// A duration in nanoseconds, saturated (`u64` holds 584 years).
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_is_removed_only_after_a_scrape_exposed_it() {
        let life = Life::new();
        // Touched at creation: the first scrape counts it active.
        assert_eq!(life.observe(false, 1, 10, 0), Verdict::Keep);
        // Not yet exposed: kept, even with a zero timeout.
        assert_eq!(life.observe(false, 2, 20, 0), Verdict::Keep);
        life.exposed_by(2);
        assert_eq!(life.observe(false, 3, 30, 0), Verdict::Remove);
    }

    #[test]
    fn a_mark_from_an_overtaken_scrape_misses() {
        let life = Life::new();
        assert_eq!(life.observe(false, 1, 10, 0), Verdict::Keep);
        life.touch();
        // Scrape 2 consumed the touch; scrape 1's late mark must not count.
        assert_eq!(life.observe(false, 2, 20, 0), Verdict::Keep);
        life.exposed_by(1);
        assert_eq!(life.observe(false, 3, 30, 0), Verdict::Keep);
    }

    #[test]
    fn a_held_child_is_never_exposed_nor_removed() {
        let life = Life::new();
        for scrape in 1..5 {
            assert_eq!(life.observe(true, scrape, scrape * 10, 0), Verdict::Keep);
            life.exposed_by(scrape);
        }
        // Released: active at this scrape, exposed by it, removed at the next.
        assert_eq!(life.observe(false, 5, 50, 0), Verdict::Keep);
        life.exposed_by(5);
        assert_eq!(life.observe(false, 6, 60, 0), Verdict::Remove);
    }

    #[test]
    fn the_timeout_counts_from_the_last_activity() {
        let life = Life::new();
        assert_eq!(life.observe(false, 1, 100, 50), Verdict::Keep);
        life.exposed_by(1);
        assert_eq!(life.observe(false, 2, 149, 50), Verdict::Keep);
        assert_eq!(life.observe(false, 3, 150, 50), Verdict::Remove);
    }
}
