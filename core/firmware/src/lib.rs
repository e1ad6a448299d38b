//! The torchlight core run on emulated Cortex-M microcontrollers, so the `no_std` claim is
//! shown by execution and not only by a build: `thumbv7m-none-eabi` on QEMU's
//! `lm3s6965evb` (Cortex-M3) and `thumbv6m-none-eabi` on its `microbit` (Cortex-M0,
//! without compare-and-swap).
//!
//! Two programs share this library:
//!
//! - `harness` (`src/bin/harness.rs`) runs every check and exits QEMU with the result
//!   through semihosting; a failed check prints `FAIL <name>` and why. `cargo xtask
//!   firmware` (and the `firmware` step of `cargo xtask ci`) builds and runs it on both
//!   boards.
//! - `minimal` (`src/bin/minimal.rs`) is the smallest useful firmware, one counter, one
//!   histogram and the text encoder, whose flash and RAM `cargo xtask firmware sizes`
//!   measures; it prints the stack an encode takes.
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
//! compare-and-swap (thumbv7m) is a lock-based fallback: a handler that preempted a
//! holder of one of its global locks would spin on that lock forever. This crate
//! therefore enables `portable-atomic`'s `unsafe-assume-single-core` feature, with which
//! every emulated atomic operation runs with interrupts masked (`cpsid i`); it is sound
//! on a single-core chip running in privileged mode, which both boards are (see
//! `portable-atomic`'s README, "Optional features").
#![no_std]
#![deny(unsafe_code)]
#![warn(missing_docs, clippy::undocumented_unsafe_blocks)]

pub mod buffer;
pub mod executor;
pub mod report;
pub mod stack;
pub mod tick;
