//! The system clock as the future wrappers read it: Python `prometheus_async`'s removed
//! `tests/test_utils.py::TestMkTime` ("the timer is monotonic": `time.perf_counter`).
//!
//! `Instrument::time` reads `torchlight::StdClock` (`std::time::Instant`); every other
//! wrapper test uses a `ManualClock` for exact durations, so this is where the real
//! clock is checked to be monotonic and to measure real time.
// `StdClock` and `time` need `std`; the runtimes are not built under loom.
#![cfg(all(feature = "std", not(loom)))]

use std::time::{Duration, Instant};

use torchlight::{Clock, Histogram, Instrument, StdClock};

#[test]
fn the_system_clock_never_goes_backwards() {
    let mut previous = StdClock.now();
    for _ in 0..10_000 {
        let now = StdClock.now();
        assert!(now >= previous, "Instant went backwards");
        assert!(StdClock::seconds_between(previous, now) >= 0.0);
        previous = now;
    }
    // And a backwards pair measures zero, never a negative duration.
    let later = previous + Duration::from_secs(1);
    assert_eq!(StdClock::seconds_between(later, previous), 0.0);
}

#[test]
fn time_measures_real_elapsed_time_on_the_system_clock() {
    let histogram: Histogram = Histogram::new();
    let started = Instant::now();
    smol::block_on(smol::Timer::after(Duration::from_millis(50)).time(&histogram));
    let elapsed = started.elapsed().as_secs_f64();
    let snapshot = histogram.snapshot();
    assert_eq!(snapshot.count(), 1);
    // The timer waited at least 50 ms, and the measurement lies within the span the
    // test itself saw.
    assert!(
        (0.05..=elapsed).contains(&snapshot.sum()),
        "observed {} s, the test saw {elapsed} s",
        snapshot.sum()
    );
}
