//! The Consul agent protocol over `async-io`'s sockets and timer: [`ConsulTransport`].

use std::io;
use std::time::Duration;

use smol::Timer;
use smol::future::FutureExt as _;
use smol::io::{AsyncReadExt as _, AsyncWriteExt as _};
use smol::net::TcpStream;
use torchlight::consul::{ExchangeError, ExchangeFuture, Request, Response, Transport};

/// A [`Transport`] over `smol::net::TcpStream`, bounded by a `smol::Timer`: what
/// [`torchlight::consul::ConsulAgent::discovery`] needs on smol (and async-std, which
/// shares smol's reactor).
///
/// The whole exchange (name resolution, connection, request, answer) takes at most the
/// agent's request timeout. It runs on any executor: `async-io` drives the socket and
/// the timer from its own thread.
///
/// ```
/// use std::sync::Arc;
/// use torchlight::consul::ConsulAgent;
/// use torchlight_smol::{ConsulTransport, Options};
///
/// let consul = ConsulAgent::new().with_name("billing-metrics").discovery(ConsulTransport);
/// let options = Options::new().service_discovery(Arc::new(consul));
/// # drop(options);
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct ConsulTransport;

impl Transport for ConsulTransport {
    fn exchange<'a>(&'a self, request: &'a Request, timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(exchange(request).or(async move {
            Timer::after(timeout).await;
            Err(ExchangeError::Timeout)
        }))
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
