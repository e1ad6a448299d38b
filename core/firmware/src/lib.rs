//! The torchlight core run on emulated Cortex-M microcontrollers, so the `no_std` claim is
//! shown by execution and not only by a build: `thumbv7m-none-eabi` on QEMU's
//! `lm3s6965evb` (Cortex-M3) and `thumbv6m-none-eabi` on its `microbit` (Cortex-M0,
//! without compare-and-swap).
//!
//! Three programs share this library:
//!
//! - `harness` (`src/bin/harness.rs`) runs every check and exits QEMU with the result
//!   through semihosting; a failed check prints `FAIL <name>` and why. `cargo xtask
//!   firmware` (and the `firmware` step of `cargo xtask ci`) builds and runs it on both
//!   boards.
//! - `minimal` (`src/bin/minimal.rs`) is the smallest useful firmware, one counter, one
//!   histogram and the text encoder, whose flash and RAM `cargo xtask firmware sizes`
//!   measures; it prints the stack an encode takes.
//! - `readme` (`src/bin/readme.rs`) is the README's "On a microcontroller" example,
//!   run on both boards too.
//!
//! Modules: [`report`] (semihosting output, the check runner, the panic handler),
//! [`buffer`] (a fixed byte buffer the exposition is encoded into), [`tick`] (the SysTick
//! tick count and a [`Clock`](torchlight::Clock) over it), [`executor`] (a minimal
//! `block_on`) and [`stack`] (the stack high-water mark of a call, by painting).
//!
//! # Interrupts and the emulated atomics
//!
//! Both boards have one core, and an interrupt handler preempts the main loop at any
//! instruction, so every metric an interrupt handler touches is shared with the code it
//! interrupted. The core's 64-bit atomics come from `portable-atomic` on both targets
//! (neither has 64-bit atomic instructions). Its default for a target with 32-bit
//! compare-and-swap (thumbv7m) is a lock-based fallback, also with its `critical-section`
//! feature: a handler that preempted a holder of one of its global locks spins on that
//! lock forever (the `histogram-interrupt` check hangs so without the feature below).
//! This crate therefore enables `portable-atomic`'s `unsafe-assume-single-core` feature,
//! with which every emulated atomic operation runs with interrupts masked (`cpsid i`);
//! it is sound on a single-core chip running in privileged mode, which both boards are
//! (see `portable-atomic`'s README, "Optional features").
//!
//! # Observe anywhere, snapshot in the main loop
//!
//! The `histogram-interrupt` check has the SysTick handler observe while the main loop
//! takes snapshots: an observation in a handler runs to its end before the interrupted
//! snapshot resumes, which the hot/cold protocol handles. The other way round needs
//! care on one core: a snapshot waits for the observations in flight, and one taken in
//! a handler that interrupted an observation of the same histogram waits for code that
//! cannot run until the handler returns (tried: it hangs on both boards). The
//! `histogram-snapshot-in-interrupt` check shows the way that works: the main loop
//! masks interrupts around each observation of a histogram the handler snapshots
//! (`cortex_m::interrupt::free`), and never snapshots that histogram itself.
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod buffer;
pub mod executor;
pub mod report;
pub mod stack;
pub mod tick;
