//! Threaded mode in a program with no async runtime: the metrics server runs in its
//! own thread while `main` does blocking work.
//!
//! ```text
//! cargo run -p torchlight-tokio --example threaded -- [--metrics-addr ADDR]
//! ```
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use torchlight::{Counter, Metric, REGISTRY};
use torchlight_tokio::{Options, start_http_server_in_thread};

static WORK_DONE: Metric<Counter> =
    Metric::new("work_done", "units of blocking work done", Counter::new());

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let metrics_addr: SocketAddr = match std::env::args().nth(1).as_deref() {
        Some("--metrics-addr") => std::env::args()
            .nth(2)
            .ok_or("--metrics-addr needs an address")?
            .parse()?,
        Some(other) => {
            return Err(format!("unknown argument {other:?}; use --metrics-addr ADDR").into());
        }
        None => "127.0.0.1:8000".parse()?,
    };
    REGISTRY.register(&WORK_DONE)?;
    let mut server = start_http_server_in_thread(Options::from(metrics_addr))?;
    println!("metrics: {}metrics (for 3 seconds)", server.url());
    for _ in 0..30 {
        thread::sleep(Duration::from_millis(100));
        WORK_DONE.inc();
    }
    server.close()?;
    println!("stopped after {} units of work", WORK_DONE.get());
    Ok(())
}
