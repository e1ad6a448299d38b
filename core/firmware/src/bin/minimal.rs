//! The smallest useful firmware, measured by `cargo xtask firmware sizes`: one counter,
//! one histogram, the text encoder into a fixed buffer. It prints the stack the encode
//! took and exits.
#![forbid(unsafe_code)]
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use torchlight::{Counter, Format, Histogram, Metric, Registry};
use torchlight_firmware::buffer::{self, Buffer};
use torchlight_firmware::report::{self, line};
use torchlight_firmware::stack;

static REGISTRY: Registry = Registry::new();
static PACKETS: Metric<Counter> = Metric::new("packets", "Packets received.", Counter::new());
static LATENCY: Metric<Histogram> = Metric::new(
    "latency_seconds",
    "Time to handle a packet.",
    Histogram::new(),
);

#[entry]
fn main() -> ! {
    if REGISTRY.register(&PACKETS).is_err() || REGISTRY.register(&LATENCY).is_err() {
        line(format_args!("minimal: registration failed"));
        report::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    }
    PACKETS.inc();
    LATENCY.observe(0.003);
    let mut out = Buffer::<2048>::new();
    let (encoded, used) =
        stack::high_water(|| buffer::encode(&REGISTRY, Format::Text, &mut out).map(<[u8]>::len));
    match encoded {
        Ok(len) => {
            line(format_args!(
                "minimal: encoded {len} bytes; encode stack {used} bytes"
            ));
            report::exit(cortex_m_semihosting::debug::EXIT_SUCCESS)
        }
        Err(_) => {
            line(format_args!("minimal: the exposition did not fit"));
            report::exit(cortex_m_semihosting::debug::EXIT_FAILURE)
        }
    }
}
