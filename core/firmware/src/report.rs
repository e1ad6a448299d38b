//! What the firmware tells the host, over semihosting (QEMU's
//! `-semihosting-config enable=on,target=native` prints it on its stdout), and how it
//! exits QEMU with the result.
//!
//! The lines are the contract with `cargo xtask firmware`:
//!
//! - `check <name>` when a check starts, then `ok <name>` or `FAIL <name>` after the
//!   lines that explain the failure;
//! - `torchlight-firmware: <n> checks passed on <board>` or
//!   `torchlight-firmware: <n> of <m> checks FAILED on <board>`, then the exit status
//!   (semihosting `SYS_EXIT`: QEMU exits 0 on success and 1 otherwise);
//! - `panic: <message>` from the panic handler, which exits with failure.
//!
//! A check that starts and neither passes nor fails names the check that panicked or
//! hung (the host's timeout ends a hang).

use core::fmt;
use core::panic::PanicInfo;

use cortex_m_semihosting::{debug, hprintln};

/// The board this build runs on (`lm3s6965evb` or `microbit`), from the build script.
pub const BOARD: &str = env!("TORCHLIGHT_FIRMWARE_BOARD");

/// A check that did not hold; the reason was printed when it was made.
#[derive(Debug)]
pub struct Failed;

/// The result of one check.
pub type Outcome = Result<(), Failed>;

/// Fails the enclosing check with a message unless `condition` holds.
#[macro_export]
macro_rules! ensure {
    ($condition:expr, $($message:tt)+) => {
        if !$condition {
            return Err($crate::report::explain(format_args!($($message)+)));
        }
    };
}

/// Prints why a check failed and returns the failure.
pub fn explain(reason: fmt::Arguments<'_>) -> Failed {
    hprintln!("  {}", reason);
    Failed
}

/// Prints `text` as one line to the host.
pub fn line(text: fmt::Arguments<'_>) {
    hprintln!("{}", text);
}

/// Runs checks one after the other and counts the failures.
#[derive(Debug, Default)]
pub struct Run {
    passed: u32,
    failed: u32,
}

impl Run {
    /// No check run yet.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            passed: 0,
            failed: 0,
        }
    }

    /// Runs the check `name`, announcing its start and its result.
    pub fn check(&mut self, name: &str, body: impl FnOnce() -> Outcome) {
        hprintln!("check {}", name);
        match body() {
            Ok(()) => {
                self.passed += 1;
                hprintln!("ok {}", name);
            }
            Err(Failed) => {
                self.failed += 1;
                hprintln!("FAIL {}", name);
            }
        }
    }

    /// Prints the summary and exits QEMU: success only when every check passed.
    pub fn finish(self) -> ! {
        if self.failed == 0 {
            hprintln!(
                "torchlight-firmware: {} checks passed on {}",
                self.passed,
                BOARD
            );
            exit(debug::EXIT_SUCCESS)
        } else {
            hprintln!(
                "torchlight-firmware: {} of {} checks FAILED on {}",
                self.failed,
                self.passed + self.failed,
                BOARD
            );
            exit(debug::EXIT_FAILURE)
        }
    }
}

/// Ends the emulation with `status`.
pub fn exit(status: debug::ExitStatus) -> ! {
    debug::exit(status);
    // Only reached without a semihosting host (real hardware without a debugger).
    loop {
        cortex_m::asm::wfi();
    }
}

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    hprintln!("panic: {}", info);
    exit(debug::EXIT_FAILURE)
}
