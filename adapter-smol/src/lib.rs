//! Prometheus `/metrics` for [torchlight] on smol: an HTTP server, a threaded mode for
//! programs without a runtime, and an embeddable hyper service.
//!
//! The server is `torchlight-server`'s, written once for every runtime (routing,
//! negotiation, gzip, limits, TLS: its [`exposure`] module and its settings), run on
//! [`Smol`]: `async-io`'s sockets and timer, through `smol-hyper`, and smol's executor.
//! `torchlight-tokio` and `torchlight-async-std` offer the same API.
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
//!         let mut server = start_http_server(Options::new().with_address(Ipv4Addr::LOCALHOST)).await?;
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
//! [`Options::with_consul`] registers the server with a Consul agent, spoken to over
//! this crate's runtime (one call; no transport to pick);
//! [`Options::with_service_discovery`] takes any other
//! [`ServiceDiscovery`](crate::discovery::ServiceDiscovery). The server registers
//! once its socket listens, and a failed registration is [`StartError::Register`] (the
//! port is released). `close` (or `serve_until`'s signal) deregisters while still
//! serving, then stops; every request is bounded by the agent's request timeout.
//! Dropping the handle deregisters in the background, best effort.
//!
//! ```no_run
//! use std::net::Ipv4Addr;
//! use torchlight_smol::consul::ConsulAgent;
//! use torchlight_smol::{Options, start_http_server};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     smol::block_on(async {
//!         // The agent at CONSUL_HTTP_ADDR (default 127.0.0.1:8500).
//!         let options = Options::new()
//!             .with_address(Ipv4Addr::LOCALHOST)
//!             .with_consul(ConsulAgent::new().with_name("billing-metrics"));
//!         let mut server = start_http_server(options).await?; // registers
//!         assert!(server.is_registered());
//!         server.close().await?; // deregisters, then stops
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # How long the server runs
//!
//! The server runs while its handle lives: dropping [`MetricsServer`] stops it (the
//! type is `#[must_use]`). A `main` that only serves ends with
//! `server.serve_until(signal).await?`, which serves until the future `signal`
//! completes, then deregisters and stops as `close` does (this runtime has no signal
//! handling of its own: a handler installed with the `ctrlc` crate can complete a
//! channel's `recv()`), or with `serve_forever()`; `detach()` lets it run without a
//! handle until the process exits.
//! The threaded handle has the same three, blocking.
//!
//! ```no_run
//! use torchlight_smol::{Options, start_http_server};
//!
//! fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // Ctrl-C (and SIGTERM with the `ctrlc` crate's `termination` feature) sends on
//!     // a channel; its `recv()` is the signal.
//!     let (interrupted, interrupt) = smol::channel::bounded(1);
//!     ctrlc::set_handler(move || {
//!         let _ = interrupted.try_send(());
//!     })?;
//!     smol::block_on(async {
//!         let server = start_http_server(Options::new().with_port(9000)).await?;
//!         // … the program's own tasks …
//!         server.serve_until(interrupt.recv()).await?; // deregisters, then stops
//!         Ok(())
//!     })
//! }
//! ```
//!
//! # HTTP behaviour
//!
//! `GET`/`HEAD /metrics` serve the exposition in the format the `Accept` header
//! prefers: OpenMetrics 1.0, the protobuf exposition (delimited `MetricFamily`
//! messages, with native histograms; what Prometheus asks for with
//! `--enable-feature=native-histograms`) or, by default, text 0.0.4; gzip when
//! `Accept-Encoding` allows it. `/` answers a small HTML page, other methods 405,
//! other paths 404. HTTP/1.1 with keep-alive; the limits in [`Limits`] bound what one
//! client can hold.
//!
//! # HTTPS and authentication
//!
//! Feature `tls`: [`Options::with_tls`] with a `TlsConfig` serves HTTPS (rustls, `ring`),
//! with exporter-toolkit's client-certificate modes, versions and cipher suites
//! (`TlsFiles`, `ClientAuth`, `TlsVersion`) and
//! certificate reload (`TlsConfig::reload`); `url()` and the `ServerInfo` given to
//! service discovery say `https`. Feature `basic-auth`: [`Options::with_basic_auth`] with
//! `BasicAuthUsers` (bcrypt, passed checks cached) answers requests without valid
//! credentials 401. Feature
//! `web-config`: `WebConfig` reads both from exporter-toolkit's web configuration file.
//! The handshake counts against [`Limits::header_read_timeout`], and the slow-client
//! guarantees hold on the TLS port.
//!
//! ```no_run
//! # #[cfg(feature = "tls")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use torchlight_smol::{Options, TlsConfig, start_http_server};
//!
//! smol::block_on(async {
//!     let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//!     let mut server = start_http_server(Options::new().with_tls(tls.clone())).await?;
//!     assert!(server.url().starts_with("https://"));
//!     tls.reload()?; // after the certificate rotated
//!     server.close().await?;
//!     Ok::<(), Box<dyn std::error::Error>>(())
//! })?;
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "tls"))]
//! # fn main() {}
//! ```
//!
//! # Blocking
//!
//! Encoding is CPU work proportional to the number of series: 100 000 series take
//! about 2 ms in a release build (3.1 MB of text; `BENCHMARKS.md` case 6), and gzip
//! level 1 adds more than that again, measured on a shared 2-core machine. It runs on smol's blocking pool
//! ([`smol::unblock`]), never on the executor's threads, so other tasks and scrapes
//! keep running while a large registry is encoded.
//!
//! # Features
//!
//! | feature | enables | costs |
//! |---|---|---|
//! | `tls` | HTTPS: `Options::with_tls` with `TlsConfig` | rustls (`ring`), futures-rustls |
//! | `basic-auth` | `Options::with_basic_auth` with `BasicAuthUsers` | bcrypt |
//! | `web-config` | `WebConfig`, exporter-toolkit's web configuration file | `tls`, `basic-auth`, yaml-rust2 |
//!
//! Each item a feature enables says so on its page (on docs.rs, or with
//! `RUSTDOCFLAGS="--cfg docsrs" cargo +nightly doc --all-features`); a plain
//! `cargo doc` leaves them out, `cargo doc --all-features` shows them.
//!
// Without the feature, links to what it enables point to the table above.
#![cfg_attr(not(feature = "tls"), doc = "[`Options::with_tls`]: #features")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod pusher;
mod runtime;
mod server;

pub use pusher::{
    Pusher, Pushgateway, start_otlp, start_otlp_in_thread, start_remote_write,
    start_remote_write_in_thread,
};
pub use runtime::Smol;
pub use server::{MetricsServer, MetricsService, start_http_server, start_http_server_in_thread};
/// The clock `async-io`'s timers (and so smol's) run on: [`std::time::Instant`], the
/// core's `StdClock` under the name every adapter gives its runtime's clock, so code
/// written against one adapter's `RuntimeClock` moves to another unchanged.
///
/// ```
/// use torchlight::{Histogram, Instrument};
/// use torchlight_smol::RuntimeClock;
///
/// static LATENCY: Histogram = Histogram::new();
///
/// smol::block_on(async {
///     async { smol::Timer::after(std::time::Duration::from_millis(1)).await }
///         .time_with(&LATENCY, RuntimeClock)
///         .await;
/// });
/// assert_eq!(LATENCY.snapshot().count(), 1);
/// assert!(LATENCY.snapshot().sum() >= 0.001);
/// ```
pub use torchlight::StdClock as RuntimeClock;
/// The names every adapter shares: `Options`, `Limits`, `StartError`, the threaded
/// handle, `consul`, `discovery`, `exposure` and, with their features, TLS, basic
/// authentication and the web configuration file.
pub use torchlight_server::api::*;
// The same names again under this crate's features: rustdoc labels an item with the
// `cfg` of the re-export that names it, and a glob's items come unlabelled.
#[cfg(feature = "basic-auth")]
pub use torchlight_server::api::{BasicAuthError, BasicAuthUsers};
#[cfg(feature = "tls")]
pub use torchlight_server::api::{ClientAuth, TlsConfig, TlsError, TlsFiles, TlsVersion, rustls};
#[cfg(feature = "web-config")]
pub use torchlight_server::api::{WebConfig, WebConfigError};
