//! The agent protocol over any [`Runtime`]'s sockets and timer: [`ConsulTransport`],
//! what a server uses to register itself on the runtime it runs on.

use std::fmt;
use std::future::poll_fn;
use std::io;
use std::marker::PhantomData;
use std::pin::Pin;
use std::time::Duration;

use super::{ExchangeError, ExchangeFuture, Request, Response, Transport};
use futures_lite::FutureExt as _;
use hyper::rt::{Read, ReadBuf, Write};

use crate::runtime::{Runtime, sleep};

/// A [`Transport`] over `R`'s TCP sockets, bounded by `R`'s timer: what
/// [`ConsulAgent::discovery`](super::ConsulAgent::discovery) needs on that runtime. Each adapter
/// names it `ConsulTransport` for its runtime.
///
/// The whole exchange (name resolution, connection, request, answer) takes at most the
/// agent's request timeout. Its futures need what `R`'s sockets need (on tokio, a
/// runtime with I/O and time enabled, as every server start has).
pub struct ConsulTransport<R>(PhantomData<fn() -> R>);

impl<R> ConsulTransport<R> {
    /// The transport; it holds nothing.
    #[must_use]
    pub const fn new() -> Self {
        Self(PhantomData)
    }
}

impl<R> Default for ConsulTransport<R> {
    fn default() -> Self {
        Self::new()
    }
}

impl<R> Clone for ConsulTransport<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for ConsulTransport<R> {}

impl<R> fmt::Debug for ConsulTransport<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ConsulTransport")
    }
}

impl<R: Runtime> Transport for ConsulTransport<R> {
    fn exchange<'a>(&'a self, request: &'a Request, timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(exchange::<R>(request).or(async move {
            sleep::<R>(timeout).await;
            Err(ExchangeError::Timeout)
        }))
    }
}

/// Connects, writes the request, reads until the response is complete.
async fn exchange<R: Runtime>(request: &Request) -> Result<Response, ExchangeError> {
    let authority = request.agent().authority();
    let mut stream = R::connect(&authority).await.map_err(ExchangeError::Io)?;
    let bytes = request.to_bytes();
    let mut written = 0;
    while written < bytes.len() {
        let n = poll_fn(|cx| Pin::new(&mut stream).poll_write(cx, &bytes[written..]))
            .await
            .map_err(ExchangeError::Io)?;
        if n == 0 {
            return Err(ExchangeError::Io(io::ErrorKind::WriteZero.into()));
        }
        written += n;
    }
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let mut buf = ReadBuf::new(&mut chunk);
        poll_fn(|cx| Pin::new(&mut stream).poll_read(cx, buf.unfilled()))
            .await
            .map_err(ExchangeError::Io)?;
        let read = buf.filled();
        let n = read.len();
        received.extend_from_slice(read);
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
