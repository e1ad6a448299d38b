//! The Prometheus `/metrics` server of torchlight's adapters, written once for every
//! async runtime.
//!
//! This crate holds the whole behaviour of the exposure server and its settings: the
//! [`Options`], start (bind, register with service discovery, serve), the per-client
//! [`Limits`], shutdown (deregister while still serving, stop accepting, drain), the
//! threaded mode, the sans-IO HTTP protocol ([`exposure`]: route, authorize, encode,
//! answer), the sharing of concurrent scrapes, the embeddable [`MetricsService`],
//! HTTPS and basic authentication, and service discovery ([`discovery`], [`consul`]).
//! It is generic over a [`Runtime`], the seam an adapter implements with its runtime's
//! sockets, timer, spawning and blocking pool. The core (`torchlight`) holds the
//! metrics and the formats; this crate is what serving them over HTTP adds (hyper,
//! gzip), so a library that only instruments never compiles it.
//!
//! Applications use an adapter (`torchlight-tokio`, `torchlight-smol`,
//! `torchlight-async-std`), which names these items for its runtime
//! (`start_http_server`, `MetricsServer`, …). Use this crate directly to serve metrics
//! on another runtime: implement [`Runtime`] (one small file; the adapters' `runtime.rs`
//! show it) and call [`start`].
//!
//! # Slow clients
//!
//! Connections are accepted as soon as they arrive, so each one's header deadline
//! ([`Limits::header_read_timeout`]) counts from when it connected. When all
//! [`Limits::max_connections`] slots are taken, a new connection takes the slot of the
//! oldest connection that is not inside a request (it has not sent a complete request
//! head, or is kept alive between requests), which is closed. However many connections
//! never finish their head, a complete request on a fresh connection is answered.
//!
//! # Concurrent scrapes
//!
//! Requests that arrive while an encoding of the same format and compression is in
//! flight share its result instead of encoding again; no request waits for more than
//! the one encoding in flight when it arrived.
//!
//! # Asynchronous collectors
//!
//! Before each encoding the server runs the registry's asynchronous collectors
//! (`torchlight::AsyncCollector`) on `R`, each under its timeout; coalesced scrapes
//! share one run. A collector that fails, panics or times out is skipped and counted
//! (`torchlight_async_collector_failures_total`); the scrape is answered all the same.
//!
//! # HTTPS and authentication
//!
//! With the feature `tls`, [`Options::with_tls`] given a [`TlsConfig`] (PEM files, with the
//! client-certificate modes of exporter-toolkit, or a ready `rustls::ServerConfig`)
//! serves HTTPS: one handshake path for every runtime, within each connection's header
//! deadline; the URLs and the [`ServerInfo`](crate::discovery::ServerInfo) given
//! to service discovery say `https`. [`TlsConfig::reload`] reads rotated certificate
//! files. With `basic-auth`, [`Options::with_basic_auth`] given [`BasicAuthUsers`]
//! answers every request without valid credentials 401 ([`exposure::Route::authorize`]
//! decides), checking bcrypt on the blocking pool. With `web-config`, [`WebConfig`]
//! reads both from exporter-toolkit's web configuration file. The embeddable
//! [`MetricsService`] takes basic authentication too; TLS is the embedding app's, as
//! its listener is.
//!
//! ```no_run
//! # #[cfg(feature = "tls")]
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use torchlight_server::start_in_thread;
//! use torchlight_smol::{Options, Smol, TlsConfig};
//!
//! let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
//! let server = start_in_thread::<Smol>(Options::new().with_tls(tls))?;
//! assert!(server.url().starts_with("https://"));
//! # Ok(())
//! # }
//! # #[cfg(not(feature = "tls"))]
//! # fn main() {}
//! ```
//!
//! # Features
//!
//! | feature | enables | costs |
//! |---|---|---|
//! | `tls` | HTTPS: `Options::with_tls` with `TlsConfig`, `TlsConfig::reload` | rustls (`ring`), futures-rustls |
//! | `basic-auth` | `Options::with_basic_auth` with `BasicAuthUsers` | bcrypt |
//! | `web-config` | `WebConfig`, exporter-toolkit's web configuration file | `tls`, `basic-auth`, yaml-rust2 |
//!
//! Each item a feature enables says so on its page (on docs.rs, or with
//! `RUSTDOCFLAGS="--cfg docsrs" cargo +nightly doc --all-features`); a plain
//! `cargo doc` leaves them out, `cargo doc --all-features` shows them.
//!
// Without the feature, links to what it enables point to the table above.
#![cfg_attr(
    not(feature = "tls"),
    doc = "[`Options::with_tls`]: #features\n[`TlsConfig`]: #features\n\
           [`TlsConfig::reload`]: #features"
)]
#![cfg_attr(not(feature = "basic-auth"), doc = "[`BasicAuthUsers`]: #features")]
#![cfg_attr(not(feature = "web-config"), doc = "[`WebConfig`]: #features")]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "basic-auth")]
mod basic_auth;
pub mod consul;
pub mod discovery;
mod error;
pub mod exposure;
mod limits;
mod options;
pub mod push;
mod registry;
pub mod runtime;
mod server;
mod service;
mod slots;
mod thread;
#[cfg(feature = "tls")]
mod tls;
#[cfg(feature = "web-config")]
mod web_config;

#[cfg(feature = "basic-auth")]
#[cfg_attr(docsrs, doc(cfg(feature = "basic-auth")))]
pub use basic_auth::{BasicAuthError, BasicAuthUsers, BasicAuthUsersBuilder};
pub use error::StartError;
pub use limits::Limits;
pub use options::Options;
pub use registry::ServedRegistry;
pub use runtime::Runtime;
pub use server::{MetricsServer, start};
pub use service::MetricsService;
pub use thread::{THREAD_NAME, ThreadedMetricsServer, start_in_thread};
#[cfg(feature = "web-config")]
#[cfg_attr(docsrs, doc(cfg(feature = "web-config")))]
pub use web_config::{WebConfig, WebConfigError};
#[cfg(feature = "tls")]
#[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
pub use {
    rustls,
    tls::{ClientAuth, TlsConfig, TlsError, TlsFiles, TlsVersion},
};

/// The names every adapter re-exports as they are (`pub use torchlight_server::api::*;`),
/// so the three adapters' shared API is this one list; each adapter adds only its
/// runtime's names (`start_http_server`, `MetricsServer`, `MetricsService`, its
/// `Runtime` type and `RuntimeClock`), and names the feature-gated ones again under
/// its own features, so that rustdoc labels their pages with the feature (the items
/// of a glob from another crate come unlabelled). `tests/tests/suite/adapter_api.rs`
/// checks the three adapters agree.
#[doc(hidden)]
pub mod api {
    #[cfg(feature = "basic-auth")]
    pub use crate::basic_auth::{BasicAuthError, BasicAuthUsers, BasicAuthUsersBuilder};
    #[cfg(feature = "web-config")]
    pub use crate::web_config::{WebConfig, WebConfigError};
    pub use crate::{
        Limits, Options, ServedRegistry, StartError, THREAD_NAME, ThreadedMetricsServer, consul,
        discovery, exposure, push,
    };
    #[cfg(feature = "tls")]
    pub use crate::{
        rustls,
        tls::{ClientAuth, TlsConfig, TlsError, TlsFiles, TlsVersion},
    };
}
