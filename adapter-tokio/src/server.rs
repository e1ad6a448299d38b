//! The HTTP server: [`start_http_server`] and its handle [`MetricsServer`].
//!
//! One task accepts connections, one task per connection runs hyper's HTTP/1.1
//! state machine over [`MetricsService`]. Every limit comes from
//! [`Limits`](torchlight::exposure::Limits).
//!
//! Lifecycle with service discovery: bind (the socket listens), register, serve; on
//! close or drop, deregister while still serving, then stop accepting and drain.

use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use torchlight::Registry;
use torchlight::discovery::{DiscoveryError, Registration, ServerInfo};
use torchlight::exposure::Limits;

use crate::{MetricsService, Options, StartError};

/// How long the accept loop pauses after a failed `accept` (out of file descriptors),
/// so it frees the CPU instead of spinning; tokio's and Go's `net/http` back off
/// similarly (Go starts at 5 ms).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Binds `options`' address, registers the server with its service discovery (if
/// any), and serves its registry until the handle is closed or dropped.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::net::Ipv4Addr;
/// use torchlight_tokio::{Options, start_http_server};
///
/// let mut server = start_http_server(Options::new().address(Ipv4Addr::LOCALHOST)).await?;
/// println!("metrics at {}metrics", server.url());
/// server.close().await?;
/// # Ok(()) }
/// ```
///
/// # Lifecycle
///
/// Registration happens once the socket listens (a connection arriving meanwhile, such
/// as the agent's first health check, waits in the backlog and is served right after).
/// Every discovery request is bounded by the discovery's own timeout
/// (`ConsulAgent::with_request_timeout`), so a silent agent cannot hang the start.
/// Cancelling the start while the registration is in flight releases the port but
/// cannot undo a registration the agent may already have recorded.
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound (the message names it);
/// [`StartError::Register`] when the service discovery fails, after which the port is
/// already released.
pub async fn start_http_server(options: Options) -> Result<MetricsServer, StartError> {
    let address = options.socket_address();
    let bind_error = |source| StartError::Bind { address, source };
    let listener = TcpListener::bind(address).await.map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    let mut info = ServerInfo::new(local_addr);
    if let Some(host) = options.advertised_host() {
        info = info.with_advertised_address(host);
    }
    let registration = match options.discovery() {
        // On failure `listener` is dropped on the way out: the port is released.
        Some(discovery) => {
            discovery
                .register(&info)
                .await
                .map_err(|source| StartError::Register {
                    address: local_addr,
                    source,
                })?
        }
        None => None,
    };
    let registered = registration.is_some();
    let (shutdown, stop) = watch::channel(());
    let (deregistered, outcome) = oneshot::channel();
    let task = tokio::spawn(async move {
        let result = run(
            listener,
            options.served_registry(),
            options.configured_limits(),
            Stop(stop),
            registration,
        )
        .await;
        let _ = deregistered.send(result);
    });
    Ok(MetricsServer {
        info,
        registered,
        shutdown: Some(shutdown),
        task: Some(task),
        outcome: Some(outcome),
    })
}

/// A running metrics server. Dropping it stops the server (in the background);
/// [`close`](Self::close) stops it and waits.
#[derive(Debug)]
pub struct MetricsServer {
    info: ServerInfo,
    registered: bool,
    /// Dropping it tells the server to deregister, then stop.
    shutdown: Option<watch::Sender<()>>,
    /// The server; it ends once the port is released and connections are done.
    task: Option<JoinHandle<()>>,
    /// The deregistration's result, sent as the task ends.
    outcome: Option<oneshot::Receiver<Result<(), DiscoveryError>>>,
}

impl MetricsServer {
    /// The bound address, with the real port when port 0 was asked for.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.info.bound_address()
    }

    /// `http://host:port/` for the bound address (IPv6 in brackets). The path is the
    /// cheap page; the metrics are at `url() + "metrics"`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr())
    }

    /// The advertised host given in [`Options::advertised_address`], if any.
    #[must_use]
    pub fn advertised_address(&self) -> Option<&str> {
        self.info.advertised_address()
    }

    /// What the service discovery was given: bound and advertised address, port,
    /// scheme.
    #[must_use]
    pub fn server_info(&self) -> &ServerInfo {
        &self.info
    }

    /// Whether a service discovery registered this server at start: `false` without
    /// [`Options::service_discovery`] or when the discovery declined (`Ok(None)`).
    /// Closing does not change it (as in Python's `prometheus_async`).
    #[must_use]
    pub fn is_registered(&self) -> bool {
        self.registered
    }

    /// Deregisters the server (if it was registered), then stops accepting, lets
    /// in-flight requests finish for up to [`Limits::shutdown_grace`], closes the
    /// remaining connections and releases the port. Connections are still served while
    /// the deregistration runs, which the discovery's timeout bounds.
    ///
    /// # Errors
    ///
    /// The deregistration's error: the service may still be announced. The server has
    /// stopped and released its port all the same. Closing again does nothing and
    /// returns `Ok(())`.
    pub async fn close(&mut self) -> Result<(), DiscoveryError> {
        drop(self.shutdown.take());
        if let Some(task) = self.task.take() {
            // An error means the task panicked or the runtime is shutting down; either
            // way it no longer holds the port, and `outcome` tells what it did.
            let _ = task.await;
        }
        match self.outcome.take().map(|mut outcome| outcome.try_recv()) {
            Some(Ok(result)) => result,
            Some(Err(_)) if self.registered => Err(DiscoveryError::other(
                "the metrics server stopped before it could deregister",
            )),
            _ => Ok(()),
        }
    }
}

impl Drop for MetricsServer {
    /// Stops the server in the background: a detached task deregisters it (best effort,
    /// while the runtime keeps running; its error is lost), then stops it. Await
    /// [`close`](Self::close) to know the outcome.
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

/// The server's life: it serves until `stop`, deregisters while it still serves, then
/// stops accepting and drains.
async fn run(
    listener: TcpListener,
    registry: &'static Registry,
    limits: Limits,
    mut stop: Stop,
    registration: Option<Registration>,
) -> Result<(), DiscoveryError> {
    let (stop_serving, serving_stopped) = watch::channel(());
    let withdraw = async move {
        stop.wait().await;
        let result = match registration {
            Some(registration) => registration.deregister().await,
            None => Ok(()),
        };
        drop(stop_serving);
        result
    };
    let ((), result) = tokio::join!(
        serve(listener, registry, limits, Stop(serving_stopped)),
        withdraw
    );
    result
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
