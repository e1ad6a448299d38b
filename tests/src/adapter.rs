//! One harness over the three adapters: [`Adapter`] starts servers the way a user of
//! each crate would (on that crate's runtime), [`Server`] is what the suite sees.
//!
//! `tests/exposure_server.rs` runs every test once per adapter through this trait, so
//! "identical HTTP behaviour on the three" is checked, not assumed.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};
use std::sync::{Arc, mpsc};
use std::thread::{self, JoinHandle};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper::{Request, Response};
use torchlight::Registry;
use torchlight_server::consul::ConsulAgent;
use torchlight_server::discovery::{DiscoveryError, ServerInfo, ServiceDiscovery};
use torchlight_server::{Limits, ServedRegistry};

/// What a test asks of a server, whatever the adapter.
#[derive(Clone)]
pub struct Config {
    /// The address to bind.
    pub address: IpAddr,
    /// The port (0: ephemeral).
    pub port: u16,
    /// The registry to serve: `&'static` or shared (`Arc`).
    pub registry: ServedRegistry,
    /// Resource limits.
    pub limits: Limits,
    /// The advertised host, if any.
    pub advertised_address: Option<String>,
    /// The service discovery to register with, if any.
    pub service_discovery: Option<Arc<dyn ServiceDiscovery>>,
    /// The Consul agent to register with (`Options::with_consul`), if any.
    pub consul: Option<ConsulAgent>,
    /// HTTPS (`Options::with_tls`) when set: the same type in every adapter (re-exported
    /// from `torchlight-server`).
    pub tls: Option<torchlight_tokio::TlsConfig>,
    /// Basic authentication (`Options::with_basic_auth`) when set.
    pub basic_auth: Option<Arc<dyn torchlight_server::exposure::Authenticate>>,
    /// OpenMetrics `_created` samples (`Options::with_created_samples`).
    pub created_samples: bool,
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("address", &self.address)
            .field("port", &self.port)
            .field("limits", &self.limits)
            .field("advertised_address", &self.advertised_address)
            .field("service_discovery", &self.service_discovery.is_some())
            .field("consul", &self.consul)
            .field("tls", &self.tls)
            .field("basic_auth", &self.basic_auth)
            .field("created_samples", &self.created_samples)
            .finish_non_exhaustive()
    }
}

impl Config {
    /// `127.0.0.1`, an ephemeral port, default limits.
    #[must_use]
    pub fn loopback(registry: impl Into<ServedRegistry>) -> Self {
        Self {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            registry: registry.into(),
            limits: Limits::DEFAULT,
            advertised_address: None,
            service_discovery: None,
            consul: None,
            tls: None,
            basic_auth: None,
            created_samples: false,
        }
    }
}

/// A start that failed: the error's message and, for bind errors, the address.
#[derive(Debug)]
pub struct StartFailure {
    /// `StartError`'s `Display`.
    pub message: String,
    /// The address in `StartError::Bind`.
    pub bind_address: Option<SocketAddr>,
    /// The address and error in `StartError::Register`.
    pub registration: Option<Box<(SocketAddr, DiscoveryError)>>,
}

impl fmt::Display for StartFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// A running server, as the suite drives it.
pub trait Server: Send {
    /// The handle's `local_addr()`.
    fn local_addr(&self) -> SocketAddr;
    /// The handle's `url()`.
    fn url(&self) -> String;
    /// The handle's `advertised_address()`.
    fn advertised_address(&self) -> Option<String>;
    /// The server thread's name (threaded mode), while it runs.
    fn thread_name(&self) -> Option<String>;
    /// The handle's `is_registered()`.
    fn is_registered(&self) -> bool;
    /// The handle's `server_info()`.
    fn server_info(&self) -> ServerInfo;
    /// The handle's `close()`, run to completion, with its deregistration result.
    ///
    /// # Errors
    ///
    /// The deregistration's error.
    fn try_close(&mut self) -> Result<(), DiscoveryError>;
    /// [`Server::try_close`], failing the test on a deregistration error.
    fn close(&mut self) {
        if let Err(error) = self.try_close() {
            panic!("close failed: {error}");
        }
    }
    /// Drops the handle without closing it, keeping the runtime alive.
    fn drop_handle(&mut self);
}

/// A fresh registry holding one counter `name` (help `cnt`, like the Python tests) at
/// `value`: tests run in parallel, so none shares the global registry.
///
/// # Panics
///
/// When `name` is not a valid metric name.
#[must_use]
pub fn registry_with(name: &str, value: u64) -> &'static Registry {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let metric: &'static torchlight::Metric<torchlight::Counter> = Box::leak(Box::new(
        torchlight::Metric::new(name, "cnt", torchlight::Counter::new()),
    ));
    metric.inc_by(value);
    registry.register(metric).expect("a valid counter");
    registry
}

/// Runs `test` against a server started from `config()`, once with
/// `start_http_server` and once with `start_http_server_in_thread`, closing each.
///
/// # Panics
///
/// When a server does not start.
pub fn in_both_modes<A: Adapter>(config: impl Fn() -> Config, test: impl Fn(&mut dyn Server)) {
    let mut server = A::start(config()).unwrap_or_else(|error| panic!("{}: {error}", A::NAME));
    test(&mut *server);
    server.close();
    let mut threaded = A::start_in_thread(config())
        .unwrap_or_else(|error| panic!("{} (threaded): {error}", A::NAME));
    test(&mut *threaded);
    threaded.close();
}

/// A server that a thread of the test serves with `serve_until(signal)`, as a `main`
/// ends; [`Serving::signal`] completes the signal.
#[derive(Debug)]
pub struct Serving {
    /// The server's bound address.
    pub local_addr: SocketAddr,
    /// Dropping it completes the signal (the channel's `recv` returns).
    signal: Option<smol::channel::Sender<()>>,
    /// Returns what `serve_until` returned.
    thread: Option<JoinHandle<Result<(), DiscoveryError>>>,
}

impl Serving {
    /// Runs `serve` on a thread of its own, with where to send the bound address once
    /// the server listens and the receiver whose `recv` is the signal.
    ///
    /// # Panics
    ///
    /// When the server does not start.
    fn spawn(
        serve: impl FnOnce(
            mpsc::Sender<SocketAddr>,
            smol::channel::Receiver<()>,
        ) -> Result<(), DiscoveryError>
        + Send
        + 'static,
    ) -> Self {
        let (listening, local_addr) = mpsc::channel();
        let (signal, signalled) = smol::channel::bounded(1);
        let thread = thread::spawn(move || serve(listening, signalled));
        let local_addr = local_addr
            .recv()
            .expect("the server started (its thread panicked otherwise)");
        Self {
            local_addr,
            signal: Some(signal),
            thread: Some(thread),
        }
    }

    /// Whether `serve_until` is still running.
    #[must_use]
    pub fn is_serving(&self) -> bool {
        self.thread
            .as_ref()
            .is_some_and(|thread| !thread.is_finished())
    }

    /// Completes the signal and waits for `serve_until` to return.
    ///
    /// # Errors
    ///
    /// What `serve_until` returned: the deregistration's error.
    ///
    /// # Panics
    ///
    /// When the serving thread panicked.
    pub fn signal(mut self) -> Result<(), DiscoveryError> {
        drop(self.signal.take());
        self.thread
            .take()
            .expect("signalled once")
            .join()
            .expect("the serving thread did not panic")
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        drop(self.signal.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// An adapter crate, as a user would drive it.
pub trait Adapter {
    /// The crate's name.
    const NAME: &'static str;

    /// `start_http_server(options).await` on the crate's runtime.
    ///
    /// # Errors
    ///
    /// The adapter's `StartError`.
    fn start(config: Config) -> Result<Box<dyn Server>, StartFailure>;

    /// `start_http_server_in_thread(options)`.
    ///
    /// # Errors
    ///
    /// The adapter's `StartError`.
    fn start_in_thread(config: Config) -> Result<Box<dyn Server>, StartFailure>;

    /// The test's own hyper app on the crate's runtime, answering `hello` everywhere
    /// but `/metrics`, which it hands to the crate's `MetricsService`.
    fn embed(registry: &'static Registry) -> Box<dyn Server>;

    /// `start_http_server(options).await?.serve_until(signal).await` on a thread of
    /// its own, on the crate's runtime.
    ///
    /// # Panics
    ///
    /// When the server does not start.
    fn serve_until(config: Config) -> Serving;

    /// `start_http_server_in_thread(options)?.serve_until(signal)` on a thread of its
    /// own.
    ///
    /// # Panics
    ///
    /// When the server does not start.
    fn serve_until_in_thread(config: Config) -> Serving;
}

/// `serve_until` in threaded mode, the same for every adapter.
macro_rules! serve_until_in_thread {
    ($krate:ident, $config:expr) => {{
        let config: Config = $config;
        Serving::spawn(move |listening, signalled| {
            let server = $krate::start_http_server_in_thread(options!($krate, config))
                .unwrap_or_else(|error| panic!("{} (threaded): {error}", Self::NAME));
            let _ = listening.send(server.local_addr());
            server.serve_until(move || signalled.recv_blocking())
        })
    }};
}

macro_rules! options {
    ($krate:ident, $config:expr) => {{
        let config: Config = $config;
        let mut options = $krate::Options::new()
            .with_address(config.address)
            .with_port(config.port)
            .with_registry(config.registry)
            .with_limits(config.limits)
            .with_created_samples(config.created_samples);
        if let Some(host) = config.advertised_address {
            options = options.with_advertised_address(host);
        }
        if let Some(discovery) = config.service_discovery {
            options = options.with_service_discovery(discovery);
        }
        if let Some(agent) = config.consul {
            options = options.with_consul(agent);
        }
        if let Some(tls) = config.tls {
            options = options.with_tls(tls);
        }
        if let Some(users) = config.basic_auth {
            options = options.with_basic_auth(users);
        }
        options
    }};
}

macro_rules! failure {
    ($krate:ident, $error:expr) => {{
        let error: $krate::StartError = $error;
        let message = error.to_string();
        let (bind_address, registration) = match error {
            $krate::StartError::Bind { address, .. } => (Some(address), None),
            $krate::StartError::Register { address, source } => {
                (None, Some(Box::new((address, source))))
            }
            _ => (None, None),
        };
        StartFailure {
            message,
            bind_address,
            registration,
        }
    }};
}

fn hello() -> Response<Full<Bytes>> {
    Response::new(Full::new(Bytes::from_static(b"hello")))
}

/// A std listener on an ephemeral loopback port, for the embedded apps.
fn loopback_listener() -> TcpListener {
    let listener =
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind an ephemeral loopback port");
    listener
        .set_nonblocking(true)
        .expect("non-blocking listener");
    listener
}

/// `torchlight-tokio` on a one-worker tokio runtime (so blocking it would show).
#[derive(Debug)]
pub struct Tokio;

struct TokioServer {
    local_addr: SocketAddr,
    server: Option<torchlight_tokio::MetricsServer>,
    threaded: Option<torchlight_tokio::ThreadedMetricsServer>,
    app: Option<tokio::task::JoinHandle<()>>,
    /// Declared last: dropped after the handles.
    runtime: tokio::runtime::Runtime,
}

fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("a tokio runtime")
}

impl Server for TokioServer {
    fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }
    fn url(&self) -> String {
        match (&self.server, &self.threaded) {
            (Some(server), _) => server.url(),
            (_, Some(threaded)) => threaded.url(),
            _ => format!("http://{}/", self.local_addr),
        }
    }
    fn advertised_address(&self) -> Option<String> {
        match (&self.server, &self.threaded) {
            (Some(server), _) => server.advertised_address().map(str::to_owned),
            (_, Some(threaded)) => threaded.advertised_address().map(str::to_owned),
            _ => None,
        }
    }
    fn thread_name(&self) -> Option<String> {
        let thread = self.threaded.as_ref()?.thread()?;
        thread.name().map(str::to_owned)
    }
    fn is_registered(&self) -> bool {
        match (&self.server, &self.threaded) {
            (Some(server), _) => server.is_registered(),
            (_, Some(threaded)) => threaded.is_registered(),
            _ => false,
        }
    }
    fn server_info(&self) -> ServerInfo {
        match (&self.server, &self.threaded) {
            (Some(server), _) => server.server_info().clone(),
            (_, Some(threaded)) => threaded.server_info().clone(),
            _ => ServerInfo::new(self.local_addr),
        }
    }
    fn try_close(&mut self) -> Result<(), DiscoveryError> {
        let mut result = Ok(());
        if let Some(server) = &mut self.server {
            result = self.runtime.block_on(server.close());
        }
        if let Some(threaded) = &mut self.threaded {
            result = threaded.close();
        }
        if let Some(app) = &self.app {
            app.abort();
        }
        result
    }
    fn drop_handle(&mut self) {
        self.server = None;
        self.threaded = None;
    }
}

impl Adapter for Tokio {
    const NAME: &'static str = "torchlight-tokio";

    fn start(config: Config) -> Result<Box<dyn Server>, StartFailure> {
        let runtime = tokio_runtime();
        let server = runtime
            .block_on(torchlight_tokio::start_http_server(options!(
                torchlight_tokio,
                config
            )))
            .map_err(|error| failure!(torchlight_tokio, error))?;
        Ok(Box::new(TokioServer {
            local_addr: server.local_addr(),
            server: Some(server),
            threaded: None,
            app: None,
            runtime,
        }))
    }

    fn start_in_thread(config: Config) -> Result<Box<dyn Server>, StartFailure> {
        let threaded =
            torchlight_tokio::start_http_server_in_thread(options!(torchlight_tokio, config))
                .map_err(|error| failure!(torchlight_tokio, error))?;
        Ok(Box::new(TokioServer {
            local_addr: threaded.local_addr(),
            server: None,
            threaded: Some(threaded),
            app: None,
            runtime: tokio_runtime(),
        }))
    }

    fn embed(registry: &'static Registry) -> Box<dyn Server> {
        let runtime = tokio_runtime();
        let listener = loopback_listener();
        let local_addr = listener.local_addr().expect("local address");
        let metrics = torchlight_tokio::MetricsService::new(registry);
        let app = runtime.spawn(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
            while let Ok((stream, _)) = listener.accept().await {
                let metrics = metrics.clone();
                let service = service_fn(move |request: Request<Incoming>| {
                    let metrics = metrics.clone();
                    async move {
                        if request.uri().path() == "/metrics" {
                            metrics.call(request).await
                        } else {
                            Ok::<_, Infallible>(hello())
                        }
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                tokio::spawn(http1::Builder::new().serve_connection(io, service));
            }
        });
        Box::new(TokioServer {
            local_addr,
            server: None,
            threaded: None,
            app: Some(app),
            runtime,
        })
    }

    fn serve_until(config: Config) -> Serving {
        Serving::spawn(move |listening, signalled| {
            tokio_runtime().block_on(async move {
                let server =
                    torchlight_tokio::start_http_server(options!(torchlight_tokio, config))
                        .await
                        .unwrap_or_else(|error| panic!("{}: {error}", Self::NAME));
                let _ = listening.send(server.local_addr());
                server.serve_until(signalled.recv()).await
            })
        })
    }

    fn serve_until_in_thread(config: Config) -> Serving {
        serve_until_in_thread!(torchlight_tokio, config)
    }
}

/// The test's own axum app on tokio, with `torchlight_tokio::axum::metrics` mounted at
/// `/stats` (not `/metrics`: the handler serves wherever it is mounted).
#[must_use]
pub fn embed_axum(registry: &'static Registry) -> Box<dyn Server> {
    let runtime = tokio_runtime();
    let listener = loopback_listener();
    let local_addr = listener.local_addr().expect("local address");
    let app = runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        let router = axum::Router::new()
            .route("/", axum::routing::get(|| async { "hello" }))
            .route("/stats", torchlight_tokio::axum::metrics(registry));
        let _ = axum::serve(listener, router).await;
    });
    Box::new(TokioServer {
        local_addr,
        server: None,
        threaded: None,
        app: Some(app),
        runtime,
    })
}

/// The two async-io adapters share this shape; only the runtime calls differ.
macro_rules! async_io_adapter {
    ($adapter:ident, $server:ident, $krate:ident, $name:literal, $block_on:path, $spawn:path, $detach:ident, $cancel:ident) => {
        #[doc = concat!("`", $name, "` on its global executor.")]
        #[derive(Debug)]
        pub struct $adapter;

        struct $server {
            local_addr: SocketAddr,
            server: Option<$krate::MetricsServer>,
            threaded: Option<$krate::ThreadedMetricsServer>,
            app: Option<Box<dyn FnOnce() + Send>>,
        }

        impl Server for $server {
            fn local_addr(&self) -> SocketAddr {
                self.local_addr
            }
            fn url(&self) -> String {
                match (&self.server, &self.threaded) {
                    (Some(server), _) => server.url(),
                    (_, Some(threaded)) => threaded.url(),
                    _ => format!("http://{}/", self.local_addr),
                }
            }
            fn advertised_address(&self) -> Option<String> {
                match (&self.server, &self.threaded) {
                    (Some(server), _) => server.advertised_address().map(str::to_owned),
                    (_, Some(threaded)) => threaded.advertised_address().map(str::to_owned),
                    _ => None,
                }
            }
            fn thread_name(&self) -> Option<String> {
                let thread = self.threaded.as_ref()?.thread()?;
                thread.name().map(str::to_owned)
            }
            fn is_registered(&self) -> bool {
                match (&self.server, &self.threaded) {
                    (Some(server), _) => server.is_registered(),
                    (_, Some(threaded)) => threaded.is_registered(),
                    _ => false,
                }
            }
            fn server_info(&self) -> ServerInfo {
                match (&self.server, &self.threaded) {
                    (Some(server), _) => server.server_info().clone(),
                    (_, Some(threaded)) => threaded.server_info().clone(),
                    _ => ServerInfo::new(self.local_addr),
                }
            }
            fn try_close(&mut self) -> Result<(), DiscoveryError> {
                let mut result = Ok(());
                if let Some(server) = &mut self.server {
                    result = $block_on(server.close());
                }
                if let Some(threaded) = &mut self.threaded {
                    result = threaded.close();
                }
                if let Some(stop_app) = self.app.take() {
                    stop_app();
                }
                result
            }
            fn drop_handle(&mut self) {
                self.server = None;
                self.threaded = None;
            }
        }

        impl Drop for $server {
            fn drop(&mut self) {
                if let Some(stop_app) = self.app.take() {
                    stop_app();
                }
            }
        }

        impl Adapter for $adapter {
            const NAME: &'static str = $name;

            fn start(config: Config) -> Result<Box<dyn Server>, StartFailure> {
                let server = $block_on($krate::start_http_server(options!($krate, config)))
                    .map_err(|error| failure!($krate, error))?;
                Ok(Box::new($server {
                    local_addr: server.local_addr(),
                    server: Some(server),
                    threaded: None,
                    app: None,
                }))
            }

            fn start_in_thread(config: Config) -> Result<Box<dyn Server>, StartFailure> {
                let threaded = $krate::start_http_server_in_thread(options!($krate, config))
                    .map_err(|error| failure!($krate, error))?;
                Ok(Box::new($server {
                    local_addr: threaded.local_addr(),
                    server: None,
                    threaded: Some(threaded),
                    app: None,
                }))
            }

            fn embed(registry: &'static Registry) -> Box<dyn Server> {
                let listener = smol::Async::new(loopback_listener()).expect("async listener");
                let local_addr = listener.get_ref().local_addr().expect("local address");
                let metrics = $krate::MetricsService::new(registry);
                let app = $spawn(async move {
                    while let Ok((stream, _)) = listener.accept().await {
                        let metrics = metrics.clone();
                        let service = service_fn(move |request: Request<Incoming>| {
                            let metrics = metrics.clone();
                            async move {
                                if request.uri().path() == "/metrics" {
                                    metrics.call(request).await
                                } else {
                                    Ok::<_, Infallible>(hello())
                                }
                            }
                        });
                        let io = smol_hyper::rt::FuturesIo::new(stream);
                        let connection = http1::Builder::new().serve_connection(io, service);
                        $detach($spawn(async move {
                            let _ = connection.await;
                        }));
                    }
                });
                Box::new($server {
                    local_addr,
                    server: None,
                    threaded: None,
                    app: Some(Box::new(move || $cancel(app))),
                })
            }

            fn serve_until(config: Config) -> Serving {
                Serving::spawn(move |listening, signalled| {
                    $block_on(async move {
                        let server = $krate::start_http_server(options!($krate, config))
                            .await
                            .unwrap_or_else(|error| panic!("{}: {error}", Self::NAME));
                        let _ = listening.send(server.local_addr());
                        server.serve_until(signalled.recv()).await
                    })
                })
            }

            fn serve_until_in_thread(config: Config) -> Serving {
                serve_until_in_thread!($krate, config)
            }
        }
    };
}

fn cancel_smol(task: smol::Task<()>) {
    drop(task);
}

fn cancel_async_std(task: async_std::task::JoinHandle<()>) {
    async_std::task::block_on(task.cancel());
}

fn detach_smol(task: smol::Task<()>) {
    task.detach();
}

fn detach_async_std(task: async_std::task::JoinHandle<()>) {
    drop(task);
}

async_io_adapter!(
    Smol,
    SmolServer,
    torchlight_smol,
    "torchlight-smol",
    smol::block_on,
    smol::spawn,
    detach_smol,
    cancel_smol
);
async_io_adapter!(
    AsyncStd,
    AsyncStdServer,
    torchlight_async_std,
    "torchlight-async-std",
    async_std::task::block_on,
    async_std::task::spawn,
    detach_async_std,
    cancel_async_std
);
