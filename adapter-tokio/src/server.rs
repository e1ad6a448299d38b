//! The HTTP server: [`start_http_server`] and its handle [`MetricsServer`].
//!
//! One task accepts connections, one task per connection runs hyper's HTTP/1.1
//! state machine over [`MetricsService`]. Every limit comes from
//! [`Limits`](torchlight::exposure::Limits).

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, watch};
use tokio::task::JoinHandle;
use torchlight::Registry;
use torchlight::exposure::Limits;

use crate::{MetricsService, Options, StartError};

/// How long the accept loop pauses after a failed `accept` (out of file descriptors),
/// so it frees the CPU instead of spinning; tokio's and Go's `net/http` back off
/// similarly (Go starts at 5 ms).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Binds `options`' address and serves its registry until the handle is closed or
/// dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), torchlight_tokio::StartError> {
/// use std::net::Ipv4Addr;
/// use torchlight_tokio::{Options, start_http_server};
///
/// let mut server = start_http_server(Options::new().address(Ipv4Addr::LOCALHOST)).await?;
/// println!("metrics at {}metrics", server.url());
/// server.close().await;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound (the message names it).
pub async fn start_http_server(options: Options) -> Result<MetricsServer, StartError> {
    let address = options.socket_address();
    let bind_error = |source| StartError::Bind { address, source };
    let listener = TcpListener::bind(address).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let (shutdown, stop) = watch::channel(());
    let task = tokio::spawn(serve(
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
#[derive(Debug)]
pub struct MetricsServer {
    local_addr: SocketAddr,
    advertised_address: Option<String>,
    /// Dropping it tells the accept loop and every connection to stop.
    shutdown: Option<watch::Sender<()>>,
    /// The accept loop; it ends once the port is released and connections are done.
    task: Option<JoinHandle<()>>,
}

impl MetricsServer {
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
            // An error means the loop panicked or the runtime is shutting down; either
            // way it no longer holds the port.
            let _ = task.await;
        }
    }
}

impl Drop for MetricsServer {
    fn drop(&mut self) {
        drop(self.shutdown.take());
        // Dropping a tokio `JoinHandle` detaches the task: it drains in the background.
        drop(self.task.take());
    }
}

/// Resolves once the [`MetricsServer`] side is dropped.
#[derive(Clone)]
struct Stop(watch::Receiver<()>);

impl Stop {
    async fn wait(&mut self) {
        // Nothing is ever sent: `changed` returns only when the sender is dropped.
        while self.0.changed().await.is_ok() {}
    }
}

/// The accept loop, then the drain.
async fn serve(listener: TcpListener, registry: &'static Registry, limits: Limits, mut stop: Stop) {
    // tokio panics above `MAX_PERMITS` (`usize::MAX >> 3`); nobody needs that many.
    let permits = Arc::new(Semaphore::new(
        limits.max_connections.clamp(1, Semaphore::MAX_PERMITS),
    ));
    // Every connection holds a sender; `recv` returns `None` once all are gone.
    let (in_flight, mut drained) = mpsc::channel::<()>(1);
    let (abort, aborted) = watch::channel(());
    loop {
        // Backpressure: take a connection slot before accepting.
        let permit = tokio::select! {
            permit = Arc::clone(&permits).acquire_owned() => permit,
            () = stop.wait() => break,
        };
        let Ok(permit) = permit else { break };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            () = stop.wait() => break,
        };
        match accepted {
            Ok((stream, _peer)) => {
                tokio::spawn(connection(
                    stream,
                    registry,
                    limits,
                    (stop.clone(), Stop(aborted.clone())),
                    (permit, in_flight.clone()),
                ));
            }
            Err(_) => tokio::time::sleep(ACCEPT_BACKOFF).await,
        }
    }
    // Releases the port before waiting for connections.
    drop(listener);
    drop(in_flight);
    if tokio::time::timeout(limits.shutdown_grace, drained.recv())
        .await
        .is_err()
    {
        // Grace is over: every remaining connection stops at its next poll.
        drop(abort);
        drained.recv().await;
    }
}

/// Serves one connection until the client leaves, a limit closes it, or shutdown.
async fn connection(
    stream: TcpStream,
    registry: &'static Registry,
    limits: Limits,
    (mut stop, mut abort): (Stop, Stop),
    _held: (OwnedSemaphorePermit, mpsc::Sender<()>),
) {
    // Responses are written whole; do not let Nagle delay the last segment.
    let _ = stream.set_nodelay(true);
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_header_size(limits.max_header_bytes)
        .keep_alive(true);
    let mut conn =
        pin!(builder.serve_connection(TokioIo::new(stream), MetricsService::new(registry)));
    tokio::select! {
        // Errors are the client's (malformed request, timeout, reset): the connection
        // is closed, which is all there is to do.
        _ = conn.as_mut() => return,
        () = stop.wait() => {}
    }
    // Finish the request in flight, then close; idle connections close at once.
    conn.as_mut().graceful_shutdown();
    tokio::select! {
        _ = conn => {}
        () = abort.wait() => {}
    }
}
