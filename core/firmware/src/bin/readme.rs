//! The README's "On a microcontroller" example, verbatim from the `#![no_std]` line on
//! (`tests/tests/suite/readme.rs` keeps the two identical); `cargo xtask firmware` builds and
//! runs it on both boards. Semihosting stands in for the UART.

#![forbid(unsafe_code)]
#![no_std]
#![no_main]

use core::fmt::{self, Write};

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::{entry, exception};
use torchlight::{Clock, Counter, Format, Histogram, Instrument, Metric, Registry};
use torchlight_firmware::executor::block_on;

static REGISTRY: Registry = Registry::new();
static FRAMES: Metric<Counter> = Metric::new("frames", "Frames handled.", Counter::new());
static HANDLING: Metric<Histogram> = Metric::new(
    "handling_seconds",
    "Time to handle a frame.",
    Histogram::new(),
);

/// Milliseconds since boot, counted by the SysTick interrupt.
static MILLIS: Counter = Counter::new();

#[exception]
fn SysTick() {
    MILLIS.inc();
}

/// The future wrappers' clock: SysTick's millisecond count.
struct Millis;

impl Clock for Millis {
    type Instant = u64;

    fn now(&self) -> u64 {
        MILLIS.get()
    }

    fn seconds_between(earlier: u64, later: u64) -> f64 {
        later.saturating_sub(earlier) as f64 / 1000.0
    }
}

/// A fixed frame to send: full is an error, nothing is allocated.
struct Frame {
    bytes: [u8; 1024],
    len: usize,
}

impl Write for Frame {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let free = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        free.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

async fn handle_frame() {
    FRAMES.inc();
}

#[entry]
fn main() -> ! {
    let mut syst = cortex_m::Peripherals::take().expect("taken once").SYST;
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(12_000 - 1); // 1 kHz from a 12 MHz core clock
    syst.enable_interrupt();
    syst.enable_counter();

    REGISTRY.register(&FRAMES).expect("a valid name");
    REGISTRY.register(&HANDLING).expect("a valid name");
    // `block_on` stands for your executor (embassy, RTIC, a loop of `wfi`).
    block_on(handle_frame().time_with(&HANDLING, Millis));

    let mut frame = Frame {
        bytes: [0; 1024],
        len: 0,
    };
    REGISTRY
        .encode(&mut frame, Format::Text)
        .expect("fits in a frame");
    send(&frame.bytes[..frame.len]);

    cortex_m_semihosting::debug::exit(Ok(())); // ends the emulation under QEMU
    loop {
        cortex_m::asm::wfi();
    }
}

/// Writes `bytes` to the host; on a board, to the UART or a USB endpoint.
fn send(bytes: &[u8]) {
    let text = core::str::from_utf8(bytes).unwrap_or("<not UTF-8>");
    cortex_m_semihosting::hprint!("{}", text);
}
