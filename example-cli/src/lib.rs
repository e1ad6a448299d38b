//! The command line every torchlight example shares, so that each behaves like a real
//! command-line tool rather than a sketch:
//!
//! - [`Cli`]: the program's purpose and its flags. [`Cli::parse`] answers `--help` with
//!   the purpose, the flags and their defaults (exit status 0) and refuses an unknown
//!   flag, a missing value or a malformed address with a [`UsageError`] naming the flag
//!   (exit status [`USAGE`], 2).
//! - [`Flag`]: a `--name ADDR` flag, the address one of the example's servers listens on
//!   ([`Flag::blame`] ties a failure to start that server to the address and the flag
//!   that changes it: [`ListenError`]), a `--name VALUE` flag whose value is checked for
//!   its [`Kind`] (a file, a URL, a name, a duration in Prometheus' syntax:
//!   [`parse_duration`]), or a `--name` switch.
//! - [`examples`]: the command line of each example (purpose, flags, defaults), once
//!   for the three adapters' copies of it.
//! - [`TraceId`]: a generated trace id for each request the examples serve, where a
//!   real application would take its tracer's, so their exemplars link to something.
//! - [`quickstart`]: the quickstarts' instrumented application and their remote-write
//!   pusher's options (an outage reported once), the same on every runtime.
//! - [`batch`]: the `push` examples' batch job, the same on every runtime.
//! - [`report`]: a runtime failure is printed as its `Display` chain, one `source` per
//!   line, and the exit status is 1.
//!
//! ```
//! use std::process::ExitCode;
//!
//! use torchlight_example_cli::{Cli, Flag, loopback, report};
//!
//! const METRICS_ADDR: Flag = Flag::new("--metrics-addr", loopback(8000), "the metrics server");
//! const CLI: Cli<1> = Cli {
//!     name: "demo",
//!     package: "torchlight-example-cli",
//!     about: "Serves nothing, for the documentation.",
//!     flags: [METRICS_ADDR],
//!     environment: &[],
//!     options: &[],
//! };
//!
//! fn run(metrics_addr: std::net::SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
//!     let listener = std::net::TcpListener::bind(metrics_addr)
//!         .map_err(|error| METRICS_ADDR.blame(metrics_addr, error))?;
//!     println!("listening on {}", listener.local_addr()?);
//!     Ok(())
//! }
//!
//! fn main() -> ExitCode {
//!     // A real example calls `CLI.parse()`, which reads the process's arguments.
//!     let Ok([metrics_addr]) = CLI.try_parse(["--metrics-addr", "127.0.0.1:0"]) else {
//!         return ExitCode::from(torchlight_example_cli::USAGE);
//!     };
//!     report(run(metrics_addr))
//! }
//! ```
//!
//! This crate is not published: the adapters list it as a path-only dev-dependency, which
//! `cargo publish` drops, and only their examples use it.
#![forbid(unsafe_code)]

pub mod batch;
mod cli;
mod duration;
pub mod examples;
mod flag;
pub mod quickstart;
mod report;
mod trace;

pub use cli::{Args, Cli, Stop, USAGE, UsageError};
pub use duration::{DurationError, parse_duration};
pub use flag::{Flag, Kind, ListenError, Takes, loopback};
pub use report::{render, report};
pub use trace::TraceId;
