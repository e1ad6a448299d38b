//! Prometheus `/metrics` for [torchlight] on async-std: an HTTP server, a threaded mode
//! for programs without a runtime, and an embeddable hyper service.
//!
//! async-std is discontinued upstream (its README recommends smol) but shares smol's
//! reactor (`async-io`), so this crate is thin: it runs `torchlight-smol`'s server with
//! async-std's executor (spawn, blocking pool, `block_on`). The API is the same as
//! `torchlight-smol`'s and `torchlight-tokio`'s.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use torchlight::{Counter, Metric, REGISTRY};
//! use torchlight_async_std::{Options, start_http_server};
//!
//! static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     async_std::task::block_on(async {
//!         REGISTRY.register(&JOBS)?;
//!         let mut server = start_http_server(Options::new().address(Ipv4Addr::LOCALHOST)).await?;
//!         println!("metrics at {}metrics", server.url());
//!         JOBS.inc();
//!         server.close().await?;
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Blocking
//!
//! Encoding (about 15–25 ms for 100 000 series in a release build) runs on
//! async-std's blocking pool (`async_std::task::spawn_blocking`), never on its
//! executor threads.
#![forbid(unsafe_code)]

mod runtime;
mod server;
mod service;
mod thread;

pub use runtime::AsyncStd;
pub use server::{MetricsServer, start_http_server};
pub use service::MetricsService;
pub use thread::start_http_server_in_thread;
pub use torchlight_smol::{
    ConsulTransport, Limits, Options, RuntimeClock, StartError, THREAD_NAME, ThreadedMetricsServer,
};
