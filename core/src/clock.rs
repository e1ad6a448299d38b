//! Where the future wrappers get their time from: the [`Clock`] trait, a [`ManualClock`]
//! for tests and for targets without an OS clock, and (with `std`) `StdClock`.
//!
//! Why `Clock` has an associated `Instant` type is explained on the trait.

#[cfg(feature = "std")]
mod system;

use core::time::Duration;

use crate::created::WallClock;
use crate::sync::{AtomicU64, Ordering};

#[cfg(feature = "std")]
pub use system::StdClock;

/// A monotonic source of time for the future wrappers.
///
/// The wrappers call [`now`](Self::now) once when a future is first polled and once
/// when it finishes (or is dropped), then [`seconds_between`](Self::seconds_between)
/// the two; they never read time any other way.
///
/// # Why an associated `Instant` type
///
/// A clock hands out *its own* instants, and only the clock knows how to turn two of
/// them into seconds. The alternative, `fn now(&self) -> u64` (nanoseconds since some
/// epoch), would force every clock to pick an epoch: `std::time::Instant` and
/// `tokio::time::Instant` have none, so a `u64` could only be made by subtracting a
/// start instant stored in a global (a `OnceLock`, which the `no_std` core cannot
/// have), and a 32-bit embedded tick counter would have to be widened and scaled on
/// every read even when nobody looks at the result. With an associated type,
/// `StdClock` stores a `std::time::Instant`, a tokio clock stores a
/// `tokio::time::Instant` (so paused and auto-advanced test time just works), a
/// microcontroller stores its raw tick count, and the conversion to seconds happens
/// once, when a wrapper observes.
///
/// # Your own clock
///
/// Implement it to plug in your own time source, e.g. a hardware timer on a target
/// without `std`:
///
/// ```
/// use torchlight::Clock;
///
/// /// A 32 kHz tick counter, as a real-time clock peripheral would provide.
/// struct Rtc;
///
/// impl Clock for Rtc {
///     type Instant = u32;
///
///     fn now(&self) -> u32 {
///         # const fn read_rtc_register() -> u32 { 42 }
///         read_rtc_register()
///     }
///
///     fn seconds_between(earlier: u32, later: u32) -> f64 {
///         // The counter wraps; a wrapping difference is right across one wrap.
///         f64::from(later.wrapping_sub(earlier)) / 32_768.0
///     }
/// }
///
/// assert_eq!(Rtc::seconds_between(u32::MAX, 32_767), 1.0);
/// ```
pub trait Clock {
    /// A point in time, as this clock counts it.
    type Instant: Copy;

    /// The current time.
    fn now(&self) -> Self::Instant;

    /// Seconds from `earlier` to `later`; `0.0` (never negative) if `later` comes
    /// first, so a clock that was set backwards cannot make a histogram observe a
    /// negative duration.
    fn seconds_between(earlier: Self::Instant, later: Self::Instant) -> f64;
}

/// A reference to a clock is a clock, so one clock (say, a `static` [`ManualClock`])
/// can serve many wrappers.
impl<C: Clock + ?Sized> Clock for &C {
    type Instant = C::Instant;

    #[inline]
    fn now(&self) -> Self::Instant {
        (**self).now()
    }

    #[inline]
    fn seconds_between(earlier: Self::Instant, later: Self::Instant) -> f64 {
        C::seconds_between(earlier, later)
    }
}

/// A clock that moves only when told to: for tests (every measured duration is exact)
/// and for `no_std` programs that keep time themselves (set it from a timer interrupt).
///
/// Its instants are the [`Duration`] since the clock's zero. It is lock-free and can be
/// a `static`; reads and writes from several threads are fine, each read sees some
/// value that was set.
///
/// ```
/// use core::time::Duration;
/// use torchlight::{Clock, ManualClock};
///
/// static CLOCK: ManualClock = ManualClock::new();
/// let start = CLOCK.now();
/// CLOCK.advance(Duration::from_millis(1500));
/// assert_eq!(ManualClock::seconds_between(start, CLOCK.now()), 1.5);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    /// Nanoseconds since the clock's zero (a `u64` of nanoseconds spans 584 years).
    nanos: AtomicU64,
}

impl ManualClock {
    /// A clock at zero.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            nanos: AtomicU64::new(0),
        }
    }

    /// Moves the clock forward by `by` (saturating at 584 years).
    pub fn advance(&self, by: Duration) {
        let by = duration_to_nanos(by);
        // ORDERING: Relaxed: the clock publishes nothing but its own value, and a single
        // atomic's modification order already keeps reads from going backwards.
        let _ = self
            .nanos
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |now| {
                Some(now.saturating_add(by))
            });
    }

    /// Sets the clock to `to` since its zero. Setting it backwards is allowed; durations
    /// measured across such a step read as `0.0` (see [`Clock::seconds_between`]).
    pub fn set(&self, to: Duration) {
        // ORDERING: Relaxed: see `advance`.
        self.nanos.store(duration_to_nanos(to), Ordering::Relaxed);
    }
}

impl Clock for ManualClock {
    type Instant = Duration;

    #[inline]
    fn now(&self) -> Duration {
        // ORDERING: Relaxed: see `advance`.
        Duration::from_nanos(self.nanos.load(Ordering::Relaxed))
    }

    #[inline]
    fn seconds_between(earlier: Duration, later: Duration) -> f64 {
        later.saturating_sub(earlier).as_secs_f64()
    }
}

/// As a [`WallClock`], a manual clock's zero is the Unix epoch: set it to the time since
/// 1970 (from a real-time clock, or a fixed time in tests) to stamp created timestamps;
/// at zero it gives none.
///
/// ```
/// use core::time::Duration;
/// use torchlight::{ManualClock, WallClock};
///
/// static WALL: ManualClock = ManualClock::new();
/// assert_eq!(WALL.unix_time(), None);
/// WALL.set(Duration::from_secs(1_700_000_000));
/// assert_eq!(WALL.unix_time(), Some(Duration::from_secs(1_700_000_000)));
/// ```
impl WallClock for ManualClock {
    fn unix_time(&self) -> Option<Duration> {
        // ORDERING: Relaxed: see `advance`.
        match self.nanos.load(Ordering::Relaxed) {
            0 => None,
            nanos => Some(Duration::from_nanos(nanos)),
        }
    }
}

/// `duration` in nanoseconds, saturating at `u64::MAX` (584 years).
fn duration_to_nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_saturates_instead_of_wrapping() {
        let clock = ManualClock::new();
        clock.set(Duration::from_nanos(u64::MAX - 1));
        clock.advance(Duration::from_secs(10));
        assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
        clock.set(Duration::MAX);
        assert_eq!(clock.now(), Duration::from_nanos(u64::MAX));
    }

    #[test]
    fn a_clock_set_backwards_measures_zero() {
        let clock = ManualClock::new();
        clock.set(Duration::from_secs(5));
        let start = clock.now();
        clock.set(Duration::from_secs(2));
        assert_eq!(ManualClock::seconds_between(start, clock.now()), 0.0);
    }
}
