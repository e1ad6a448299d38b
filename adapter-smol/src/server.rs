//! The server on smol: [`start_http_server`], [`start_http_server_in_thread`], their
//! handles and the embeddable [`MetricsService`], each the shared `torchlight-server`
//! item on [`Smol`](crate::Smol).

use crate::runtime::Smol;
use crate::{Options, StartError, ThreadedMetricsServer};

/// A running metrics server on smol. Dropping it stops the server (in the background);
/// `close` stops it and waits. See [`start_http_server`].
pub type MetricsServer = torchlight_server::MetricsServer<Smol>;

/// Binds `options`' address, registers the server with its service discovery (if
/// any), and serves its registry on smol's global executor until the handle is
/// closed or dropped.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> { smol::block_on(async {
/// use std::net::Ipv4Addr;
/// use torchlight_smol::{Options, start_http_server};
///
/// let mut server = start_http_server(Options::new().with_address(Ipv4Addr::LOCALHOST)).await?;
/// println!("scrape {}", server.metrics_url());
/// server.close().await?;
/// # Ok(()) }) }
/// ```
///
/// The lifecycle (register once listening, deregister on close before accepting
/// stops) and the limits are `torchlight_server::start`'s.
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound (the message names it);
/// [`StartError::Register`] when the service discovery fails, after which the port is
/// already released.
pub async fn start_http_server(options: Options) -> Result<MetricsServer, StartError> {
    torchlight_server::start::<Smol>(options).await
}

/// Starts the server from its own thread named
/// [`THREAD_NAME`](crate::THREAD_NAME) (which drives start and shutdown with
/// `smol::block_on`; connections run on smol's global executor), and returns once it listens, or with the reason
/// it cannot (a bind or registration failure is an error, not a hang). Registration
/// and deregistration run in the server's thread.
///
/// ```
/// use std::net::Ipv4Addr;
/// use torchlight_smol::{Options, start_http_server_in_thread};
///
/// let mut server = start_http_server_in_thread(Options::new().with_address(Ipv4Addr::LOCALHOST))?;
/// println!("scrape {}", server.metrics_url());
/// server.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound, [`StartError::Register`] when
/// the service discovery fails (the port is released), [`StartError::Thread`] when the
/// thread cannot be created.
pub fn start_http_server_in_thread(options: Options) -> Result<ThreadedMetricsServer, StartError> {
    torchlight_server::start_in_thread::<Smol>(options)
}

/// A hyper `Service` serving a registry's metrics at
/// `/metrics` (and the small page at `/`), answering like the server. Encoding runs on
/// smol's blocking pool ([`smol::unblock`]).
///
/// Route `/metrics` to it from your own service — see `examples/hyper.rs`:
///
/// ```no_run
/// use hyper::service::Service as _;
/// use torchlight_smol::MetricsService;
///
/// # async fn handle(request: hyper::Request<hyper::body::Incoming>) {
/// let metrics = MetricsService::new(&torchlight::REGISTRY);
/// let response = metrics.call(request).await;
/// # }
/// ```
pub type MetricsService = torchlight_server::MetricsService<Smol>;
