//! [`RuntimeClock`]: the clock smol's timers use, for the future wrappers.

use std::time::Instant;

use torchlight::Clock;

/// The clock async-io's timers (and so smol's and async-std's) run on,
/// [`std::time::Instant`], for [`Instrument::time_with`]. It reads the same time as
/// [`Instrument::time`]; it exists so code written against one adapter's
/// `RuntimeClock` moves to another unchanged.
///
/// ```
/// use torchlight::{Histogram, Instrument};
/// use torchlight_smol::RuntimeClock;
///
/// static LATENCY: Histogram = Histogram::new();
///
/// smol::block_on(async {
///     async { smol::Timer::after(std::time::Duration::from_millis(1)).await }
///         .time_with(&LATENCY, RuntimeClock)
///         .await;
/// });
/// assert_eq!(LATENCY.snapshot().count(), 1);
/// assert!(LATENCY.snapshot().sum() >= 0.001);
/// ```
///
/// [`Instrument::time_with`]: torchlight::Instrument::time_with
/// [`Instrument::time`]: torchlight::Instrument::time
#[derive(Clone, Copy, Debug, Default)]
pub struct RuntimeClock;

impl Clock for RuntimeClock {
    type Instant = Instant;

    fn now(&self) -> Instant {
        Instant::now()
    }

    fn seconds_between(earlier: Instant, later: Instant) -> f64 {
        later.saturating_duration_since(earlier).as_secs_f64()
    }
}
