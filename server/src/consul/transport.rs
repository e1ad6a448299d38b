//! Moving a [`Request`] to the agent and its [`Response`] back: the one thing that
//! differs between runtimes. Adapters implement [`Transport`] over their own sockets and
//! timers; [`StdTransport`] is the blocking one for code without a runtime.

use core::fmt;
use core::future::Future;
use core::pin::Pin;
use core::time::Duration;
use std::boxed::Box;
use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Instant;
use std::vec::Vec;

use super::http::{Request, Response, ResponseError};

/// The future a [`Transport`] returns.
pub type ExchangeFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Response, ExchangeError>> + Send + 'a>>;

/// Sends one request to the agent and reads its answer, within a time bound.
///
/// An implementation connects to [`Request::agent`], writes [`Request::to_bytes`], reads
/// until [`Response::parse`] returns a response (passing `eof = true` once the peer
/// closed), and gives up with [`ExchangeError::Timeout`] when `timeout` elapses: the
/// whole exchange, connection included, takes at most `timeout`.
pub trait Transport: Send + Sync + 'static {
    /// Performs one exchange.
    fn exchange<'a>(&'a self, request: &'a Request, timeout: Duration) -> ExchangeFuture<'a>;
}

/// Why an exchange with the agent produced no response.
#[derive(Debug)]
#[non_exhaustive]
pub enum ExchangeError {
    /// Connecting, writing or reading failed.
    Io(io::Error),
    /// The time bound elapsed.
    Timeout,
    /// The bytes received are not a usable response.
    Response(ResponseError),
}

impl fmt::Display for ExchangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExchangeError::Io(error) => write!(f, "{error}"),
            ExchangeError::Timeout => f.write_str("no answer in time"),
            ExchangeError::Response(error) => write!(f, "{error}"),
        }
    }
}

impl core::error::Error for ExchangeError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            ExchangeError::Io(error) => Some(error),
            ExchangeError::Timeout => None,
            ExchangeError::Response(error) => Some(error),
        }
    }
}

/// A blocking [`Transport`] over [`std::net::TcpStream`].
///
/// Its future does all the work in its first poll and **blocks the thread polling it**
/// for up to the timeout: use it where nothing else runs on that thread (a program
/// without an async runtime, a dedicated thread, tests). Host names are resolved with
/// the system resolver, which the timeout does not cover.
#[derive(Clone, Copy, Debug, Default)]
pub struct StdTransport;

impl Transport for StdTransport {
    fn exchange<'a>(&'a self, request: &'a Request, timeout: Duration) -> ExchangeFuture<'a> {
        Box::pin(async move { exchange_blocking(request, timeout) })
    }
}

/// One exchange with a deadline; each socket call gets the time that is left.
fn exchange_blocking(request: &Request, timeout: Duration) -> Result<Response, ExchangeError> {
    let deadline = Instant::now() + timeout;
    let left = || {
        deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or(ExchangeError::Timeout)
    };
    let addrs = request
        .agent()
        .authority()
        .to_socket_addrs()
        .map_err(ExchangeError::Io)?;
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the agent's host has no address");
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, left()?) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(error) => last = error,
        }
    }
    let mut stream = stream.ok_or_else(|| timed_out_or(last))?;
    stream.set_nodelay(true).map_err(ExchangeError::Io)?;
    stream
        .set_write_timeout(Some(left()?))
        .map_err(ExchangeError::Io)?;
    stream
        .write_all(&request.to_bytes())
        .map_err(timed_out_or)?;
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        stream
            .set_read_timeout(Some(left()?))
            .map_err(ExchangeError::Io)?;
        let n = match stream.read(&mut chunk) {
            Ok(n) => n,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
            Err(error) => return Err(timed_out_or(error)),
        };
        received.extend_from_slice(&chunk[..n]);
        if let Some(response) =
            Response::parse(&received, n == 0).map_err(ExchangeError::Response)?
        {
            return Ok(response);
        }
    }
}

/// Socket timeouts surface as `WouldBlock` (Unix) or `TimedOut` (Windows).
fn timed_out_or(error: io::Error) -> ExchangeError {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ExchangeError::Timeout,
        _ => ExchangeError::Io(error),
    }
}
