//! [`RuntimeClock`]: tokio's clock for the future wrappers.

use torchlight::Clock;

/// tokio's clock ([`tokio::time::Instant`]) for [`Instrument::time_with`]: in a test with
/// paused time (`#[tokio::test(start_paused = true)]`, tokio's `test-util` feature), a
/// `tokio::time::sleep(1 s)` inside a timed future observes exactly one second, instantly.
///
/// ```
/// use torchlight::{Histogram, Instrument};
/// use torchlight_tokio::RuntimeClock;
///
/// static LATENCY: Histogram = Histogram::new();
///
/// # tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap().block_on(async {
/// async { tokio::time::sleep(std::time::Duration::from_millis(1)).await }
///     .time_with(&LATENCY, RuntimeClock)
///     .await;
/// assert_eq!(LATENCY.snapshot().count(), 1);
/// # });
/// ```
///
/// [`Instrument::time_with`]: torchlight::Instrument::time_with
#[derive(Clone, Copy, Debug, Default)]
pub struct RuntimeClock;

impl Clock for RuntimeClock {
    type Instant = tokio::time::Instant;

    fn now(&self) -> tokio::time::Instant {
        tokio::time::Instant::now()
    }

    fn seconds_between(earlier: tokio::time::Instant, later: tokio::time::Instant) -> f64 {
        later.saturating_duration_since(earlier).as_secs_f64()
    }
}
