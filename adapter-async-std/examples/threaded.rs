//! Threaded mode in a program with no async runtime: the metrics server runs in its
//! own thread while `main` does blocking work.
//!
//! ```text
//! cargo run -p torchlight-async-std --example threaded -- [--metrics-addr ADDR]
//! ```
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::thread;
use std::time::Duration;

use torchlight::{Counter, Metric, REGISTRY};
use torchlight_async_std::{Options, start_http_server_in_thread};
use torchlight_example_cli::examples::{self, METRICS_ADDR};
use torchlight_example_cli::report;

static WORK_DONE: Metric<Counter> =
    Metric::new("work_done", "units of blocking work done", Counter::new());

fn main() -> ExitCode {
    let [metrics_addr] = examples::threaded(env!("CARGO_PKG_NAME")).parse();
    report(run(metrics_addr))
}

fn run(metrics_addr: SocketAddr) -> Result<(), Box<dyn Error>> {
    REGISTRY.register(&WORK_DONE)?;
    let mut server = start_http_server_in_thread(Options::from(metrics_addr))
        .map_err(|error| METRICS_ADDR.blame(metrics_addr, error))?;
    println!("metrics: {} (for 3 seconds)", server.metrics_url());
    for _ in 0..30 {
        thread::sleep(Duration::from_millis(100));
        WORK_DONE.inc();
    }
    server.close()?;
    println!("stopped after {} units of work", WORK_DONE.get());
    Ok(())
}
