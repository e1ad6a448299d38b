//! The HTTP server on any [`Runtime`]: [`start`] and its handle [`MetricsServer`].
//!
//! One task accepts connections, one task per connection runs hyper's HTTP/1.1 state
//! machine over a per-connection service. Every limit comes from [`Limits`].
//!
//! Lifecycle with service discovery: bind (the socket listens), register, serve; on
//! close or drop, deregister while still serving, then stop accepting and drain.
//!
//! Connections are accepted as soon as they arrive and admitted by the slot table
//! (`slots.rs`), which evicts the oldest idle connection when every slot is taken;
//! each request is answered by the one request path (`service.rs`). With TLS
//! (feature `tls`), [`connection`] runs the handshake (`tls.rs`, which answers plain
//! HTTP `400` instead) before hyper sees the stream, within the connection's header
//! deadline.

use std::convert::Infallible;
use std::fmt;
use std::net::{SocketAddr, TcpListener};
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::time::Duration;

use async_channel::{Receiver, Sender};
use bytes::Bytes;
use futures_lite::FutureExt as _;
use futures_lite::future;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::{Request, Response};

use crate::consul::ConsulTransport;
use crate::discovery::{DiscoveryError, Registration, ServerInfo, ServiceDiscovery};
use crate::error::StartError;
use crate::limits::Limits;
use crate::options::Options;
use crate::runtime::{Runtime, sleep};
use crate::service::Exposure;
use crate::slots::{Evicted, Slot, Slots};
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;

/// How long the accept loop pauses after a failed `accept` (out of file descriptors),
/// so it frees the CPU instead of spinning; tokio's and Go's `net/http` back off
/// similarly (Go starts at 5 ms).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// The accessors both handles ([`MetricsServer`], `ThreadedMetricsServer`) have, on
/// their `info: ServerInfo` and `registered: bool` fields.
macro_rules! started_accessors {
    () => {
        /// The bound address, with the real port when port 0 was asked for.
        #[must_use]
        pub fn local_addr(&self) -> SocketAddr {
            self.info.bound_address()
        }

        /// `http://host:port/` for the bound address (IPv6 in brackets), `https://`
        /// when the server serves TLS: the cheap page.
        #[must_use]
        pub fn url(&self) -> String {
            format!("{}://{}/", self.info.scheme(), self.local_addr())
        }

        /// `http://host:port/metrics` (or `https://`) for the bound address: what to
        /// scrape.
        #[must_use]
        pub fn metrics_url(&self) -> String {
            format!("{}metrics", self.url())
        }

        /// The advertised host given in [`Options::advertised_address`](crate::Options::with_advertised_address), if any.
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
        /// [`Options::with_service_discovery`](crate::Options::with_service_discovery) or when the discovery declined (`Ok(None)`).
        /// Closing does not change it (as in Python's `prometheus_async`).
        #[must_use]
        pub fn is_registered(&self) -> bool {
            self.registered
        }
    };
}
pub(crate) use started_accessors;

/// Binds `options`' address, registers the server with its service discovery (if any),
/// and serves its registry on `R` until the handle is closed or dropped. Each adapter's
/// `start_http_server` is this on its runtime.
///
/// ```
/// use std::net::Ipv4Addr;
/// use torchlight_server::start;
/// use torchlight_smol::{Options, Smol};
///
/// smol::block_on(async {
///     let mut server = start::<Smol>(Options::new().with_address(Ipv4Addr::LOCALHOST)).await?;
///     println!("scrape {}", server.metrics_url());
///     server.close().await?;
///     Ok::<(), Box<dyn std::error::Error>>(())
/// })?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
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
pub async fn start<R: Runtime>(options: Options) -> Result<MetricsServer<R>, StartError> {
    #[cfg(feature = "tls")]
    let tls = options.tls().cloned();
    #[cfg(not(feature = "tls"))]
    let tls: Option<std::convert::Infallible> = None;
    let address = options.socket_address();
    let bind_error = |source| StartError::Bind { address, source };
    let listener = TcpListener::bind(address).map_err(bind_error)?;
    let local_addr = listener.local_addr().map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    let listener = R::listen(listener).map_err(bind_error)?;
    let mut info = ServerInfo::new(local_addr).with_https(tls.is_some());
    if let Some(host) = options.advertised_address() {
        info = info.with_advertised_address(host);
    }
    // Consul given as an agent speaks over this runtime's sockets and timer.
    let consul = options
        .consul()
        .map(|agent| agent.clone().discovery(ConsulTransport::<R>::new()));
    let discovery: Option<&dyn ServiceDiscovery> = match &consul {
        Some(consul) => Some(consul),
        None => options.service_discovery(),
    };
    let registration = match discovery {
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
    let (shutdown, stop) = async_channel::bounded(1);
    let (deregistered, outcome) = async_channel::bounded(1);
    let task = R::spawn(async move {
        let result = run::<R>(
            listener,
            Served {
                exposure: Exposure::new(
                    options.registry().clone(),
                    options.basic_auth().cloned(),
                    options.created_samples(),
                ),
                limits: options.limits(),
                tls,
            },
            Stop(stop),
            registration,
        )
        .await;
        let _ = deregistered.try_send(result);
    });
    Ok(MetricsServer {
        info,
        registered,
        shutdown: Some(shutdown),
        task: Some(task),
        outcome: Some(outcome),
    })
}

/// A running metrics server on runtime `R`. Dropping it stops the server (in the
/// background); [`close`](Self::close) stops it and waits.
///
/// How long it serves is the handle's life, so a program decides it in one of these
/// ways:
///
/// - [`serve_until`](Self::serve_until)`(signal).await`: serves until `signal`
///   completes (Ctrl-C, a shutdown channel), then closes like `close`;
/// - [`serve_forever`](Self::serve_forever)`().await`: serves until the process exits;
/// - keep the handle while the program does its work, then [`close`](Self::close) it
///   (or drop it);
/// - [`detach`](Self::detach): serves, without a handle, until the process exits.
///
/// Ctrl-C with what each runtime has: tokio's `tokio::signal::ctrl_c()` is a future
/// (`server.serve_until(tokio::signal::ctrl_c()).await?`); on smol and async-std, a
/// handler installed with the `ctrlc` crate sends on a channel whose `recv()` is the
/// signal (the adapters' crate docs show both).
#[must_use = "dropping a `MetricsServer` stops the server: keep the handle, or call \
              `serve_until`, `serve_forever` or `detach`"]
pub struct MetricsServer<R: Runtime> {
    info: ServerInfo,
    registered: bool,
    /// Dropping it tells the server to deregister, then stop.
    shutdown: Option<Sender<()>>,
    /// The server; it ends once the port is released and connections are done.
    task: Option<R::Task>,
    /// The deregistration's result, sent as the task ends.
    outcome: Option<Receiver<Result<(), DiscoveryError>>>,
}

impl<R: Runtime> MetricsServer<R> {
    started_accessors!();

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
            // Its output (on tokio, whether it panicked) is not needed: `outcome` tells
            // what it did.
            let _ = task.await;
        }
        match self.outcome.take().map(|outcome| outcome.try_recv()) {
            Some(Ok(result)) => result,
            Some(Err(_)) if self.registered => Err(DiscoveryError::other(
                "the metrics server stopped before it could deregister",
            )),
            _ => Ok(()),
        }
    }

    /// Serves until `signal` completes (whatever its output), then closes the server
    /// like [`close`](Self::close): deregistration while still serving, then stop,
    /// drain and release the port. The usual end of a `main` that only serves metrics:
    /// `server.serve_until(tokio::signal::ctrl_c()).await?` on tokio, a channel's
    /// `recv()` fed by a `ctrlc` handler on smol or async-std (see [`MetricsServer`]).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use torchlight_server::start;
    /// use torchlight_smol::{Options, Smol};
    ///
    /// smol::block_on(async {
    ///     let server = start::<Smol>(Options::new().with_address(Ipv4Addr::LOCALHOST)).await?;
    ///     let (stop, stopped) = async_channel::bounded::<()>(1);
    ///     let serving = smol::spawn(server.serve_until(async move {
    ///         let _ = stopped.recv().await;
    ///     }));
    ///     // … scrapes are answered meanwhile …
    ///     drop(stop);
    ///     serving.await?; // closed, the port released
    ///     Ok::<(), Box<dyn std::error::Error>>(())
    /// })?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The deregistration's error, as [`close`](Self::close) returns it; the server has
    /// stopped all the same.
    pub async fn serve_until<F: Future>(mut self, signal: F) -> Result<(), DiscoveryError> {
        signal.await;
        self.close().await
    }

    /// Serves until the process exits: the future never completes (its output,
    /// [`Infallible`], has no value). Dropping the future stops the server, as dropping
    /// the handle does. For a `main` with nothing else to do; with a shutdown signal,
    /// [`serve_until`](Self::serve_until) deregisters on the way out.
    pub async fn serve_forever(self) -> Infallible {
        let _serving = self;
        future::pending().await
    }

    /// Lets the server run on without its handle until the process exits; it is never
    /// closed, so a service discovery registration is not withdrawn (the agent's
    /// health check finds the port closed). For programs that start the server once
    /// and never stop it, as Python's `start_http_server` does.
    pub fn detach(mut self) {
        if let Some(task) = self.task.take() {
            R::detach(task);
        }
        // The stop signal is the last sender's drop: never dropping it, the server
        // serves until the process exits. What leaks is one small channel, once.
        std::mem::forget(self.shutdown.take());
    }
}

impl<R: Runtime> Drop for MetricsServer<R> {
    /// Stops the server in the background: a detached task deregisters it (best effort,
    /// while the runtime keeps running; its error is lost), then stops it. Await
    /// [`close`](Self::close) to know the outcome.
    fn drop(&mut self) {
        drop(self.shutdown.take());
        if let Some(task) = self.task.take() {
            R::detach(task);
        }
    }
}

impl<R: Runtime> fmt::Debug for MetricsServer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MetricsServer")
            .field("info", &self.info)
            .field("registered", &self.registered)
            .field("open", &self.shutdown.is_some())
            .finish()
    }
}

/// Resolves once its sender side is dropped.
#[derive(Clone)]
struct Stop(Receiver<()>);

impl Stop {
    async fn wait(&self) {
        // Nothing is ever sent: `recv` returns once every sender is dropped.
        let _ = self.0.recv().await;
    }
}

/// The server's life: it serves until `stop`, deregisters while it still serves, then
/// stops accepting and drains.
async fn run<R: Runtime>(
    listener: R::Listener,
    served: Served,
    stop: Stop,
    registration: Option<Registration>,
) -> Result<(), DiscoveryError> {
    let (stop_serving, serving_stopped) = async_channel::bounded::<()>(1);
    let withdraw = async move {
        stop.wait().await;
        let result = match registration {
            Some(registration) => registration.deregister().await,
            None => Ok(()),
        };
        drop(stop_serving);
        result
    };
    let ((), result) = future::zip(
        serve::<R>(listener, served, Stop(serving_stopped)),
        withdraw,
    )
    .await;
    result
}

/// What a server serves, and how.
struct Served {
    exposure: Exposure,
    limits: Limits,
    /// HTTPS when set.
    #[cfg(feature = "tls")]
    tls: Option<TlsConfig>,
    #[cfg(not(feature = "tls"))]
    tls: Option<std::convert::Infallible>,
}

/// What every connection of one server shares.
struct Shared {
    exposure: Exposure,
    limits: Limits,
    #[cfg(feature = "tls")]
    tls: Option<TlsConfig>,
    /// Shutdown (graceful), then abort (after the grace).
    stop: Stop,
    abort: Stop,
    /// Every connection holds a clone; the drain ends when all are dropped.
    _in_flight: Sender<()>,
}

/// The accept loop, then the drain.
async fn serve<R: Runtime>(listener: R::Listener, served: Served, stop: Stop) {
    let Served {
        exposure,
        limits,
        tls,
    } = served;
    #[cfg(not(feature = "tls"))]
    let _: Option<std::convert::Infallible> = tls;
    let slots = Slots::new(limits.max_connections());
    let (in_flight, drained) = async_channel::bounded::<()>(1);
    let (abort, aborted) = async_channel::bounded::<()>(1);
    let shared = Arc::new(Shared {
        exposure,
        limits,
        #[cfg(feature = "tls")]
        tls,
        stop: stop.clone(),
        abort: Stop(aborted),
        _in_flight: in_flight,
    });
    loop {
        let accepted = async { Some(R::accept(&listener).await) }
            .or(async {
                stop.wait().await;
                None
            })
            .await;
        let Some(accepted) = accepted else { break };
        let Ok(stream) = accepted else {
            sleep::<R>(ACCEPT_BACKOFF).await;
            continue;
        };
        // Accepted at once, so its header deadline runs from now; a slot is found by
        // evicting an idle connection if need be (see `slots.rs`).
        let admitted = async { Some(slots.admit().await) }
            .or(async {
                stop.wait().await;
                None
            })
            .await;
        let Some((slot, evicted)) = admitted else {
            break;
        };
        R::detach(R::spawn(connection::<R>(
            stream,
            slot,
            evicted,
            Arc::clone(&shared),
        )));
    }
    // Releases the port before waiting for connections.
    drop(listener);
    drop(shared);
    drain::<R>(drained, abort, limits.shutdown_grace()).await;
}

/// Waits for every connection to end, for `grace` and then after aborting the rest.
async fn drain<R: Runtime>(drained: Receiver<()>, abort: Sender<()>, grace: Duration) {
    let drained_in_time = async {
        let _ = drained.recv().await;
        true
    }
    .or(async {
        sleep::<R>(grace).await;
        false
    })
    .await;
    if !drained_in_time {
        // Grace is over: every remaining connection stops at its next poll.
        drop(abort);
        let _ = drained.recv().await;
    }
}

/// Serves one connection until the client leaves, a limit or an eviction closes it,
/// or shutdown; with TLS, after the handshake.
async fn connection<R: Runtime>(
    stream: R::Stream,
    slot: Slot,
    evicted: Evicted,
    shared: Arc<Shared>,
) {
    let header_read_timeout = shared.limits.header_read_timeout();
    #[cfg(feature = "tls")]
    if let Some(tls) = &shared.tls {
        let connected = std::time::Instant::now();
        let handshake = async { tls.accept(stream).await.ok() }
            .or(async {
                sleep::<R>(header_read_timeout).await;
                None
            })
            .or(async {
                evicted.wait().await;
                None
            })
            .or(async {
                shared.stop.wait().await;
                None
            })
            .await;
        // A failed, stalled, evicted or interrupted handshake closes this connection
        // only. The head must still arrive within the deadline counted from `connected`.
        let left = header_read_timeout.saturating_sub(connected.elapsed());
        if let Some(stream) = handshake.filter(|_| !left.is_zero()) {
            http::<R, _>(stream, left, slot, evicted, Arc::clone(&shared)).await;
        }
        return;
    }
    http::<R, _>(stream, header_read_timeout, slot, evicted, shared).await;
}

/// Runs hyper's HTTP/1.1 on `stream`, the head of each request due within
/// `header_read_timeout`.
async fn http<R: Runtime, S>(
    stream: S,
    header_read_timeout: Duration,
    slot: Slot,
    evicted: Evicted,
    shared: Arc<Shared>,
) where
    S: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let mut builder = http1::Builder::new();
    builder
        .timer(R::timer())
        .header_read_timeout(header_read_timeout)
        .max_header_size(shared.limits.max_header_bytes())
        .keep_alive(true)
        // A client may shut its write side once its request is sent (`printf … | nc`,
        // some HTTP/1.0 clients): answer it, as Go's `net/http` does. An idle
        // half-closed connection still ends at once (hyper closes on EOF between
        // requests), so it holds nothing past its header deadline.
        .half_close(true);
    let service = Connection::<R> {
        slot: Arc::new(slot),
        shared: Arc::clone(&shared),
        runtime: std::marker::PhantomData,
    };
    let mut conn = pin!(builder.serve_connection(stream, service));
    let stopped = async {
        // Errors are the client's (malformed request, timeout, reset): the
        // connection is closed, which is all there is to do.
        let _ = conn.as_mut().await;
        false
    }
    .or(async {
        // An evicted connection is idle: closing it loses no request.
        evicted.wait().await;
        false
    })
    .or(async {
        shared.stop.wait().await;
        true
    })
    .await;
    if stopped {
        // Finish the request in flight, then close; idle connections close at once.
        conn.as_mut().graceful_shutdown();
        async {
            let _ = conn.await;
        }
        .or(shared.abort.wait())
        .await;
    }
}

/// The service of one connection: the one request path (`service.rs`), with the
/// connection's slot marked busy while a request is answered.
struct Connection<R> {
    slot: Arc<Slot>,
    shared: Arc<Shared>,
    runtime: std::marker::PhantomData<fn() -> R>,
}

impl<R: Runtime, B> hyper::service::Service<Request<B>> for Connection<R> {
    type Response = Response<Full<Bytes>>;
    type Error = std::convert::Infallible;
    type Future =
        Pin<Box<dyn Future<Output = Result<Self::Response, Self::Error>> + Send + 'static>>;

    fn call(&self, request: Request<B>) -> Self::Future {
        let busy = self.slot.busy();
        let shared = Arc::clone(&self.shared);
        let head = shared
            .exposure
            .head(request.method(), request.uri().path(), request.headers());
        Box::pin(async move {
            let response = shared.exposure.answer::<R>(head).await;
            drop(busy);
            Ok(response.to_hyper())
        })
    }
}
