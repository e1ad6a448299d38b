//! The operating system's monotonic clock.

use std::time::Instant;

use super::Clock;

/// The operating system's monotonic clock, [`std::time::Instant`] (`CLOCK_MONOTONIC` on
/// Linux): what [`Instrument::time`](crate::Instrument::time) uses. A zero-sized type.
///
/// ```
/// use torchlight::{Clock, StdClock};
///
/// let start = StdClock.now();
/// assert!(StdClock::seconds_between(start, StdClock.now()) >= 0.0);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct StdClock;

impl Clock for StdClock {
    type Instant = Instant;

    #[inline]
    fn now(&self) -> Instant {
        Instant::now()
    }

    #[inline]
    fn seconds_between(earlier: Instant, later: Instant) -> f64 {
        later.saturating_duration_since(earlier).as_secs_f64()
    }
}
