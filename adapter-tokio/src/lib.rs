//! Prometheus `/metrics` for [torchlight] on tokio: an HTTP server, a threaded mode for
//! programs without a runtime, and an embeddable hyper service (and axum handler).
//!
//! The server is `torchlight-server`'s, written once for every runtime (routing,
//! negotiation, gzip, limits, TLS: its [`exposure`] module and its settings), run on
//! [`Tokio`]. `torchlight-smol` and `torchlight-async-std` offer the same API.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use torchlight::{AsyncCollector, Counter, Gauge, Histogram, Instrument, Metric, REGISTRY};
//! use torchlight_tokio::{Options, RuntimeClock, start_http_server};
//!
//! static REQ_TIME: Metric<Histogram> =
//!     Metric::new("req_time_seconds", "time spent in requests", Histogram::new());
//! static REQ_ERRORS: Metric<Counter> =
//!     Metric::new("req_errors", "requests that failed", Counter::new());
//! static IN_FLIGHT: Metric<Gauge> =
//!     Metric::new("req_in_flight", "requests being served", Gauge::new());
//! static QUEUED: Metric<Gauge> = Metric::new("jobs_queued", "jobs waiting", Gauge::new());
//!
//! async fn req(path: &str) -> Result<&'static str, String> {
//!     match path {
//!         "/" => Ok("hello"),
//!         other => Err(format!("no page at {other}")),
//!     }
//! }
//!
//! async fn queue_length() -> std::io::Result<i64> {
//!     Ok(3) // a query over the network, say
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     REGISTRY.register(&REQ_TIME)?;
//!     REGISTRY.register(&REQ_ERRORS)?;
//!     REGISTRY.register(&IN_FLIGHT)?;
//!     REGISTRY.register(&QUEUED)?;
//!     // CPU, memory, file descriptors, start time: what Go's and Python's clients expose.
//!     torchlight::process::register(&REGISTRY)?;
//!     // Run before each scrape, on the server's runtime, within a deadline.
//!     REGISTRY.register_async(AsyncCollector::new("queue", || async {
//!         QUEUED.set(queue_length().await?);
//!         Ok::<(), std::io::Error>(())
//!     }))?;
//!     let mut server = start_http_server(Options::new().with_address(Ipv4Addr::LOCALHOST)).await?;
//!     println!("metrics at {}", server.metrics_url());
//!
//!     // Timed from the first poll to completion (or drop), errors counted, and
//!     // tracked while in flight: prometheus_async's three decorators.
//!     let body = req("/")
//!         .time_with(&REQ_TIME, RuntimeClock)
//!         .count_errors(&REQ_ERRORS)
//!         .track_in_progress(&IN_FLIGHT)
//!         .await?;
//!     assert_eq!(body, "hello");
//!     assert_eq!(REQ_TIME.snapshot().count(), 1);
//!
//!     server.close().await?;
//!     Ok(())
//! }
//! ```
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
//! use torchlight_tokio::consul::ConsulAgent;
//! use torchlight_tokio::{Options, start_http_server};
//!
//! #[tokio::main(flavor = "current_thread")]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     // The agent at CONSUL_HTTP_ADDR (default 127.0.0.1:8500).
//!     let options = Options::new()
//!         .with_address(Ipv4Addr::LOCALHOST)
//!         .with_consul(ConsulAgent::new().with_name("billing-metrics"));
//!     let mut server = start_http_server(options).await?; // registers
//!     assert!(server.is_registered());
//!     server.close().await?; // deregisters, then stops
//!     Ok(())
//! }
//! ```
//!
//! # How long the server runs
//!
//! The server runs while its handle lives: dropping [`MetricsServer`] stops it (the
//! type is `#[must_use]`). A `main` that only serves ends with
//! `server.serve_until(signal).await?`, which serves until the future `signal`
//! completes, then deregisters and stops as `close` does (tokio's
//! `tokio::signal::ctrl_c()` is such a future), or with `serve_forever()`; `detach()`
//! lets it run without a handle until the process exits.
//! The threaded handle has the same three, blocking.
//!
//! ```no_run
//! use torchlight_tokio::{Options, start_http_server};
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = start_http_server(Options::new().with_port(9000)).await?;
//!     // … the program's own tasks …
//!     server.serve_until(tokio::signal::ctrl_c()).await?; // deregisters, then stops
//!     Ok(())
//! }
//! ```
//!
//! (`tokio::signal` needs tokio's `signal` feature.)
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
//! use torchlight_tokio::{Options, TlsConfig, start_http_server};
//!
//! tokio::runtime::Runtime::new()?.block_on(async {
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
//! level 1 adds more than that again, measured on a shared 2-core machine. It runs on tokio's blocking pool
//! ([`tokio::task::spawn_blocking`]), never on the async workers, so other tasks and
//! scrapes keep running while a large registry is encoded.
//!
//! # Runtime metrics
//!
//! [`register_runtime_metrics`] exposes the tokio runtime's own metrics (workers, alive
//! tasks, global queue depth, per-worker busy time and parks), read at each scrape.
//! The process metrics are the core's `torchlight::process::register`.
//!
//! # Features
//!
//! | feature | enables | costs |
//! |---|---|---|
//! | `axum` | `axum::metrics`, a handler for your own axum app | axum, tower |
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

#[cfg(feature = "axum")]
pub mod axum;
mod clock;
mod pusher;
mod runtime;
mod runtime_metrics;
mod server;

pub use clock::RuntimeClock;
pub use pusher::{
    Pusher, Pushgateway, start_otlp, start_otlp_in_thread, start_remote_write,
    start_remote_write_in_thread,
};
pub use runtime::Tokio;
pub use runtime_metrics::{RuntimeMetric, register_runtime_metrics};
pub use server::{MetricsServer, MetricsService, start_http_server, start_http_server_in_thread};
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
