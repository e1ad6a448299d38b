//! The HTTP server: [`start_http_server`] and its handle [`MetricsServer`].

use crate::runtime::AsyncStd;
use crate::{Options, StartError};

/// A running metrics server. Dropping it stops the server (in the background);
/// `close` stops it and waits. See `torchlight_smol::MetricsServer`, which this is on
/// async-std's executor.
pub type MetricsServer = torchlight_smol::MetricsServer<AsyncStd>;

/// Binds `options`' address, registers the server with its service discovery (if
/// any; use [`ConsulTransport`](crate::ConsulTransport) for Consul), and serves its
/// registry until the handle is closed or dropped. Tasks run on async-std's executor.
/// The lifecycle is `torchlight_smol::start_http_server`'s: register once the socket
/// listens, deregister on close before accepting stops, every request bounded.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> { async_std::task::block_on(async {
/// use std::net::Ipv4Addr;
/// use torchlight_async_std::{Options, start_http_server};
///
/// let mut server = start_http_server(Options::new().address(Ipv4Addr::LOCALHOST)).await?;
/// println!("metrics at {}metrics", server.url());
/// server.close().await?;
/// # Ok(()) }) }
/// ```
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound (the message names it);
/// [`StartError::Register`] when the service discovery fails, after which the port is
/// already released.
pub async fn start_http_server(options: Options) -> Result<MetricsServer, StartError> {
    torchlight_smol::start::<AsyncStd>(options).await
}
