//! Time on a microcontroller: the SysTick interrupt counts ticks into a [`Counter`], and
//! [`TickClock`] reads it, the [`Clock`] the future wrappers time with.

use cortex_m::peripheral::SYST;
use cortex_m::peripheral::syst::SystClkSource;
use torchlight::{Clock, Counter};

/// SysTick interrupts so far; the SysTick handler increments it (a metric like any other:
/// a `static` counter is the tick count, its 64 bits never wrap).
pub static TICKS: Counter = Counter::new();

/// How many ticks [`TickClock`] counts as one second: a SysTick reloaded every
/// `core clock / TICKS_PER_SECOND` cycles (12 000 on the LM3S6965's 12 MHz) makes it
/// true; the harness, which varies the period, uses it as a nominal scale.
pub const TICKS_PER_SECOND: f64 = 1000.0;

/// The [`Clock`] over [`TICKS`]: an instant is a tick count.
#[derive(Clone, Copy, Debug, Default)]
pub struct TickClock;

impl Clock for TickClock {
    type Instant = u64;

    fn now(&self) -> u64 {
        TICKS.get()
    }

    fn seconds_between(earlier: u64, later: u64) -> f64 {
        // Exact below 2^53 ticks; `saturating_sub` keeps the trait's "never negative".
        later.saturating_sub(earlier) as f64 / TICKS_PER_SECOND
    }
}

/// Starts the SysTick interrupt every `reload + 1` core clock cycles.
pub fn start(mut syst: SYST, reload: u32) {
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(reload);
    syst.clear_current();
    syst.enable_interrupt();
    syst.enable_counter();
}
