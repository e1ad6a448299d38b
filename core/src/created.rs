//! Created timestamps: when a series started counting from zero, as client_model's
//! `created_timestamp` (protobuf) and OpenMetrics' `<name>_created` sample carry it, so
//! that a scraper can tell a counter that restarted at 0 from one it never saw start.
//!
//! Counters, histograms and summaries (and the exemplar and native kinds built on them)
//! keep one in a [`Created`] cell beside their values. A `static` metric is built by a
//! `const fn` and cannot read a clock, so the timestamp is set where the series starts
//! for its readers:
//!
//! - when it is **registered** (`Registry::register`, `register_owned`), from the
//!   registry's [`WallClock`]: the system's with `std`, one the user gives without
//!   (none by default: no timestamp);
//! - for a `Family` child, when the family **creates the child** (the system's wall
//!   clock: families need `std`);
//! - when a counter is **reset** (`Counter::reset`).
//!
//! Metric operations never touch it: an observation costs what it did without it.

use core::time::Duration;

use crate::sync::{AtomicU64, Ordering, const_fn};

/// A source of wall-clock time: the time since the Unix epoch (1970-01-01 00:00:00
/// UTC). A [`Registry`](crate::Registry) reads it once per registration, to stamp each
/// metric's created timestamp (see
/// [`with_created_clock`](crate::Registry::with_created_clock)); with `std` the
/// registry reads the system's clock unless told otherwise.
///
/// A [`ManualClock`](crate::ManualClock) is one, counting from the epoch: set it from a
/// real-time clock on a target without `std`.
///
/// ```
/// use core::time::Duration;
/// use torchlight::WallClock;
///
/// /// A real-time clock peripheral that counts seconds since 1970.
/// struct Rtc;
///
/// impl WallClock for Rtc {
///     fn unix_time(&self) -> Option<Duration> {
///         # const fn read_rtc_seconds() -> u64 { 1_700_000_000 }
///         Some(Duration::from_secs(read_rtc_seconds()))
///     }
/// }
///
/// assert_eq!(Rtc.unix_time(), Some(Duration::from_secs(1_700_000_000)));
/// ```
pub trait WallClock: Sync {
    /// The time since the Unix epoch, or `None` while it is unknown (a clock not yet
    /// set): the metric is then left without a created timestamp.
    fn unix_time(&self) -> Option<Duration>;
}

/// The system's wall clock (`SystemTime`), or `None` before 1970.
#[cfg(all(feature = "std", not(loom)))]
pub(crate) fn system_time() -> Option<Duration> {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
}

/// A series' created timestamp: written when the series starts (registration, creation
/// of a family child, a reset), read by a scrape.
pub(crate) struct Created {
    /// Seconds since the Unix epoch in bits 30 and up (34 bits: until the year 2514),
    /// the nanoseconds of the second below (< 10^9 < 2^30); 0: none. Packed rather than
    /// counted in nanoseconds so a scrape reads it without a division. Relaxed
    /// everywhere: the timestamp publishes nothing, and a scrape racing a reset may
    /// report either timestamp.
    packed: AtomicU64,
}

/// Where the seconds start in `Created::packed`.
const SECONDS_SHIFT: u32 = 30;

impl Created {
    const_fn! {
        /// No timestamp.
        pub(crate) const fn new() -> Self {
            Self { packed: AtomicU64::new(0) }
        }
    }

    /// Sets the timestamp (past the year 2514: that year's last second); `None`, or
    /// the epoch itself, removes it.
    #[inline]
    pub(crate) fn set(&self, at: Option<Duration>) {
        let packed = at.map_or(0, |at| {
            let seconds = at.as_secs().min((1 << (64 - SECONDS_SHIFT)) - 1);
            (seconds << SECONDS_SHIFT) | u64::from(at.subsec_nanos())
        });
        // ORDERING: Relaxed: see `packed`.
        self.packed.store(packed, Ordering::Relaxed);
    }

    /// The timestamp, if set.
    #[inline]
    pub(crate) fn get(&self) -> Option<Duration> {
        // ORDERING: Relaxed: see `packed`.
        match self.packed.load(Ordering::Relaxed) {
            0 => None,
            packed => {
                // Below 2^30: the cast is exact.
                #[allow(clippy::cast_possible_truncation)]
                let nanos = (packed & ((1 << SECONDS_SHIFT) - 1)) as u32;
                Some(Duration::new(packed >> SECONDS_SHIFT, nanos))
            }
        }
    }

    /// Moves a set timestamp to the time of a reset: with `std` the system's wall
    /// clock; without, no clock is at hand and the timestamp is removed (it would
    /// otherwise claim the old start). A cell without a timestamp stays without.
    pub(crate) fn restart(&self) {
        if self.get().is_none() {
            return;
        }
        #[cfg(all(feature = "std", not(loom)))]
        self.set(system_time());
        #[cfg(not(all(feature = "std", not(loom))))]
        self.set(None);
    }
}

impl core::fmt::Debug for Created {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_timestamp_reads_back_as_set_to_the_nanosecond() {
        let created = Created::new();
        assert_eq!(created.get(), None);
        for at in [
            Duration::new(1_700_000_000, 500_000_000),
            Duration::new(1, 999_999_999),
            Duration::new(0, 1),
            Duration::new((1 << 34) - 1, 999_999_999),
        ] {
            created.set(Some(at));
            assert_eq!(created.get(), Some(at));
        }
        // Past 2514: that year's last second; the epoch and `None`: no timestamp.
        created.set(Some(Duration::new(u64::MAX, 7)));
        assert_eq!(created.get(), Some(Duration::new((1 << 34) - 1, 7)));
        created.set(Some(Duration::ZERO));
        assert_eq!(created.get(), None);
        created.set(Some(Duration::new(5, 0)));
        created.set(None);
        assert_eq!(created.get(), None);
    }
}
