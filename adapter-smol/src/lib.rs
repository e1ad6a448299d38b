//! Prometheus `/metrics` for [torchlight] on smol: an HTTP server, a threaded mode for
//! programs without a runtime, and an embeddable hyper service.
//!
//! The protocol (routing, content negotiation, gzip) is the core's
//! [`torchlight::exposure`]; this crate binds, accepts, spawns and moves bytes with
//! hyper 1 over `async-io` (through `smol-hyper`): the server is `torchlight-server`'s,
//! run on [`Smol`]. `torchlight-tokio` and `torchlight-async-std` offer the same API.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use torchlight::{Counter, Metric, REGISTRY};
//! use torchlight_smol::{Options, start_http_server};
//!
//! static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     smol::block_on(async {
//!         REGISTRY.register(&JOBS)?;
//!         let mut server = start_http_server(Options::new().address(Ipv4Addr::LOCALHOST)).await?;
//!         println!("metrics at {}", server.metrics_url());
//!         JOBS.inc();
//!         server.close().await?;
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # Runtime metrics
//!
//! smol's executor (`async-executor`) exposes no metrics of its own: no worker, task or
//! queue counts are public, so this crate has no runtime metrics (tokio's are in
//! `torchlight-tokio`). The process metrics are the core's
//! `torchlight::process::register`, and asynchronous collectors
//! (`torchlight::AsyncCollector`) run on this runtime before each scrape.
//!
//! # Service discovery
//!
//! [`Options::consul`] registers the server with a Consul agent, spoken to over this
//! crate's runtime (one call; no transport to pick);
//! [`Options::service_discovery`] takes any other
//! [`ServiceDiscovery`](torchlight::discovery::ServiceDiscovery). The server registers
//! once its socket listens, and a failed registration is [`StartError::Register`] (the
//! port is released). `close` deregisters while still serving, then stops; every
//! request is bounded by the agent's request timeout. Dropping the handle deregisters
//! in the background, best effort.
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use torchlight::consul::ConsulAgent;
//! use torchlight_smol::{Options, start_http_server};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     smol::block_on(async {
//!         // The agent at CONSUL_HTTP_ADDR (default 127.0.0.1:8500).
//!         let options = Options::new()
//!             .address(Ipv4Addr::LOCALHOST)
//!             .consul(ConsulAgent::new().with_name("billing-metrics"));
//!         let mut server = start_http_server(options).await?; // registers
//!         assert!(server.is_registered());
//!         server.close().await?; // deregisters, then stops
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # HTTP behaviour
//!
//! `GET`/`HEAD /metrics` serve the exposition (OpenMetrics 1.0 when the `Accept` header
//! prefers it, text 0.0.4 otherwise; gzip when `Accept-Encoding` allows it), `/` a
//! small HTML page, other methods 405, other paths 404. HTTP/1.1 with keep-alive; the
//! limits in [`Limits`] bound what one client can hold.
//!
//! # Blocking
//!
//! Encoding is CPU work proportional to the number of series: 100 000 series take
//! about 15–25 ms in a release build (2.2 MB of text; gzip level 1 brings it to
//! 0.45 MB in about the same time again), measured on a shared 2-core machine. It runs on smol's blocking pool
//! ([`smol::unblock`]), never on the executor's threads, so other tasks and scrapes
//! keep running while a large registry is encoded.
#![forbid(unsafe_code)]

mod clock;
mod runtime;
mod server;

pub use clock::RuntimeClock;
pub use runtime::Smol;
pub use server::{MetricsServer, MetricsService, start_http_server, start_http_server_in_thread};
pub use torchlight_server::{Limits, Options, StartError, THREAD_NAME, ThreadedMetricsServer};
