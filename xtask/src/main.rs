//! The project's automation, run as `cargo xtask <command>` (see `.cargo/config.toml`).
//!
//! Each command is one module; `main` only parses the command line and dispatches.
//! Everything here uses the standard library alone, so `cargo xtask` builds in seconds
//! on a fresh clone.
//!
//! Commands:
//! - `ci`: the README's test command; see [`ci`].
//! - `bench`: the peer comparison and `BENCHMARKS.md`; see [`mod@bench`].
//! - `e2e`: only the end-to-end tests against a real Prometheus; see [`e2e`].
//! - `fuzz`: the fuzz targets under libFuzzer; see [`fuzz`].
//! - `soak`: every quickstart under mixed load for minutes; see [`soak`].
//! - `firmware`: the core on emulated Cortex-M boards, and its size table; see
//!   [`firmware`].
#![forbid(unsafe_code)]

mod bench;
mod chart;
mod ci;
mod command;
mod e2e;
mod failure;
mod firmware;
mod fuzz;
mod install;
mod markers;
mod soak;
mod workspace;

use std::process::ExitCode;

use failure::Failure;

/// The command list; each command's module owns its own lines.
fn usage() -> String {
    format!(
        "\
usage: cargo xtask <command> [options]

commands:
  ci [--skip STEP]... [--only STEP]...
      the README's test command: install the tools, then fmt, clippy, tests, docs,
      packaging, no_std builds, loom and the firmware on QEMU, stopping at the first
      failure.
      steps: install fmt clippy test test-no-default doc package no-std loom fuzz
      firmware
{}
{}
{}
{}
{}
  help
      print this text
",
        bench::USAGE,
        e2e::USAGE,
        firmware::USAGE,
        fuzz::USAGE,
        soak::USAGE
    )
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let result = match args.next().as_deref() {
        Some("ci") => ci::run(args),
        Some("bench") => bench::run(args),
        Some("e2e") => e2e::run(args),
        Some("firmware") => firmware::run(args),
        Some("fuzz") => fuzz::run(args),
        Some("soak") => soak::run(args),
        Some("help" | "-h" | "--help") => {
            print!("{}", usage());
            Ok(())
        }
        Some(other) => Err(Failure::new(
            format!("unknown command `{other}`"),
            format!("run one of the commands listed below\n\n{}", usage()),
        )),
        None => Err(Failure::new(
            "no command given",
            format!("name a command\n\n{}", usage()),
        )),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("\nxtask: {failure}");
            ExitCode::FAILURE
        }
    }
}
