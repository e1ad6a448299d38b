//! The Consul agent protocol over tokio's sockets and timer: [`ConsulTransport`].

use std::io;
use std::time::Duration;

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;
use torchlight::consul::{ExchangeError, ExchangeFuture, Request, Response, Transport};

/// A [`Transport`] over [`tokio::net::TcpStream`], bounded by [`tokio::time::timeout`]:
/// what [`torchlight::consul::ConsulAgent::discovery`] needs on tokio.
///
/// The whole exchange (name resolution, connection, request, answer) takes at most the
/// agent's request timeout. Its futures must run inside a tokio runtime with I/O and
/// time enabled (as `start_http_server` does).
///
/// ```
/// use std::sync::Arc;
/// use torchlight::consul::ConsulAgent;
/// use torchlight_tokio::{ConsulTransport, Options};
///
/// let consul = ConsulAgent::new().with_name("billing-metrics").discovery(ConsulTransport);
/// let options = Options::new().service_discovery(Arc::new(consul));
/// # drop(options);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsulTransport;

impl Transport for ConsulTransport {
    fn exchange<'a>(&'a self, request: &'a Request, timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(async move {
            tokio::time::timeout(timeout, exchange(request))
                .await
                .unwrap_or(Err(ExchangeError::Timeout))
        })
    }
}

/// Connects, writes the request, reads until the response is complete.
async fn exchange(request: &Request) -> Result<Response, ExchangeError> {
    let mut stream = TcpStream::connect(request.agent().authority())
        .await
        .map_err(ExchangeError::Io)?;
    // One request, written whole: do not let Nagle delay it.
    let _ = stream.set_nodelay(true);
    stream
        .write_all(&request.to_bytes())
        .await
        .map_err(ExchangeError::Io)?;
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let n = stream.read(&mut chunk).await.map_err(ExchangeError::Io)?;
        received.extend_from_slice(&chunk[..n]);
        // `parse` bounds the size and fails on a truncated answer at end of stream.
        if let Some(response) =
            Response::parse(&received, n == 0).map_err(ExchangeError::Response)?
        {
            return Ok(response);
        }
        if n == 0 {
            return Err(ExchangeError::Io(io::ErrorKind::UnexpectedEof.into()));
        }
    }
}
