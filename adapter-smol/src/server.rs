//! The HTTP server: [`start_http_server`] and its handle [`MetricsServer`].
//!
//! One task accepts connections, one task per connection runs hyper's HTTP/1.1
//! state machine over [`MetricsService`]. Every limit comes from
//! [`Limits`](torchlight::exposure::Limits).

use std::fmt;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use smol::channel::{self, Receiver, Sender};
use smol::future::FutureExt as _;
use smol::lock::{Semaphore, SemaphoreGuardArc};
use smol::{Async, Timer};
use smol_hyper::rt::{FuturesIo, SmolTimer};
use torchlight::Registry;
use torchlight::exposure::Limits;

use crate::runtime::{Runtime, Smol};
use crate::{MetricsService, Options, StartError};

/// How long the accept loop pauses after a failed `accept` (out of file descriptors),
/// so it frees the CPU instead of spinning; tokio's and Go's `net/http` back off
/// similarly (Go starts at 5 ms).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Binds `options`' address and serves its registry until the handle is closed or
/// dropped. Tasks run on smol's global executor.
///
/// ```
/// # fn main() -> Result<(), torchlight_smol::StartError> { smol::block_on(async {
/// use std::net::Ipv4Addr;
/// use torchlight_smol::{Options, start_http_server};
///
/// let mut server = start_http_server(Options::new().address(Ipv4Addr::LOCALHOST)).await?;
/// println!("metrics at {}metrics", server.url());
/// server.close().await;
/// # Ok(()) }) }
/// ```
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound (the message names it).
pub async fn start_http_server(options: Options) -> Result<MetricsServer, StartError> {
    start::<Smol>(options).await
}

/// [`start_http_server`] on any [`Runtime`].
///
/// # Errors
///
/// As [`start_http_server`].
#[allow(clippy::unused_async)] // async like the other adapters': binding may suspend there
pub async fn start<R: Runtime>(options: Options) -> Result<MetricsServer<R>, StartError> {
    let address = options.socket_address();
    let bind_error = |source| StartError::Bind { address, source };
    let listener = Async::<TcpListener>::bind(address).map_err(bind_error)?;
    let local_addr = listener.get_ref().local_addr().map_err(bind_error)?;
    let (shutdown, stop) = channel::bounded(1);
    let task = R::spawn(serve::<R>(
        listener,
        options.registry_ref(),
        options.limits_ref(),
        Stop(stop),
    ));
    Ok(MetricsServer {
        local_addr,
        advertised_address: options.advertised().map(str::to_owned),
        shutdown: Some(shutdown),
        task: Some(task),
    })
}

/// A running metrics server. Dropping it stops the server (in the background);
/// [`close`](Self::close) stops it and waits.
pub struct MetricsServer<R: Runtime = Smol> {
    local_addr: SocketAddr,
    advertised_address: Option<String>,
    /// Dropping it tells the accept loop and every connection to stop.
    shutdown: Option<Sender<()>>,
    /// The accept loop; it ends once the port is released and connections are done.
    task: Option<R::Task>,
}

impl<R: Runtime> MetricsServer<R> {
    /// The bound address, with the real port when port 0 was asked for.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://host:port/` for the bound address (IPv6 in brackets). The path is the
    /// cheap page; the metrics are at `url() + "metrics"`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// The advertised host given in [`Options::advertised_address`], if any.
    #[must_use]
    pub fn advertised_address(&self) -> Option<&str> {
        self.advertised_address.as_deref()
    }

    /// Stops accepting, lets in-flight requests finish for up to
    /// [`Limits::shutdown_grace`], closes the remaining connections and releases the
    /// port. Closing again does nothing.
    pub async fn close(&mut self) {
        drop(self.shutdown.take());
        if let Some(task) = self.task.take() {
            task.await;
        }
    }
}

impl<R: Runtime> Drop for MetricsServer<R> {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        // Detached, the accept loop drains in the background.
        if let Some(task) = self.task.take() {
            R::detach(task);
        }
    }
}

impl<R: Runtime> fmt::Debug for MetricsServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServer")
            .field("local_addr", &self.local_addr)
            .field("advertised_address", &self.advertised_address)
            .field("open", &self.shutdown.is_some())
            .finish()
    }
}

/// Resolves once the [`MetricsServer`] side is dropped.
#[derive(Clone)]
struct Stop(Receiver<()>);

impl Stop {
    async fn wait(&self) {
        // Nothing is ever sent: `recv` returns only when the sender is dropped.
        while self.0.recv().await.is_ok() {}
    }
}

/// The accept loop, then the drain.
async fn serve<R: Runtime>(
    listener: Async<TcpListener>,
    registry: &'static Registry,
    limits: Limits,
    stop: Stop,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    // Every connection holds a sender; `recv` fails once all are gone.
    let (in_flight, drained) = channel::bounded::<()>(1);
    let (abort, aborted) = channel::bounded::<()>(1);
    loop {
        // Backpressure: take a connection slot before accepting.
        let permit = async { Some(permits.acquire_arc().await) }
            .or(async {
                stop.wait().await;
                None
            })
            .await;
        let Some(permit) = permit else { break };
        let accepted = async { Some(listener.accept().await) }
            .or(async {
                stop.wait().await;
                None
            })
            .await;
        let Some(accepted) = accepted else { break };
        match accepted {
            Ok((stream, _peer)) => {
                R::detach(R::spawn(connection::<R>(
                    stream,
                    registry,
                    limits,
                    (stop.clone(), Stop(aborted.clone())),
                    (permit, in_flight.clone()),
                )));
            }
            Err(_) => {
                Timer::after(ACCEPT_BACKOFF).await;
            }
        }
    }
    // Releases the port before waiting for connections.
    drop(listener);
    drop(in_flight);
    let drained_in_time = async {
        let _ = drained.recv().await;
        true
    }
    .or(async {
        Timer::after(limits.shutdown_grace).await;
        false
    })
    .await;
    if !drained_in_time {
        // Grace is over: every remaining connection stops at its next poll.
        drop(abort);
        let _ = drained.recv().await;
    }
}

/// Serves one connection until the client leaves, a limit closes it, or shutdown.
async fn connection<R: Runtime>(
    stream: Async<TcpStream>,
    registry: &'static Registry,
    limits: Limits,
    (stop, abort): (Stop, Stop),
    _held: (SemaphoreGuardArc, Sender<()>),
) {
    // Responses are written whole; do not let Nagle delay the last segment.
    let _ = stream.get_ref().set_nodelay(true);
    let mut builder = http1::Builder::new();
    builder
        .timer(SmolTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true);
    let mut conn = pin!(builder.serve_connection(
        FuturesIo::new(stream),
        MetricsService::<R>::on_runtime(registry)
    ));
    let stopped = async {
        // Errors are the client's (malformed request, timeout, reset): the
        // connection is closed, which is all there is to do.
        let _ = conn.as_mut().await;
        false
    }
    .or(async {
        stop.wait().await;
        true
    })
    .await;
    if !stopped {
        return;
    }
    // Finish the request in flight, then close; idle connections close at once.
    conn.as_mut().graceful_shutdown();
    async {
        let _ = conn.await;
    }
    .or(abort.wait())
    .await;
}
