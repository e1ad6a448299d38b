//! One harness over the three adapters: [`Adapter`] starts servers the way a user of
//! each crate would (on that crate's runtime), [`Server`] is what the suite sees.
//!
//! `tests/exposure_server.rs` runs every test once per adapter through this trait, so
//! "identical HTTP behaviour on the three" is checked, not assumed.

use std::convert::Infallible;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::{Service as _, service_fn};
use hyper::{Request, Response};
use torchlight::Registry;
use torchlight::exposure::Limits;

/// What a test asks of a server, whatever the adapter.
#[derive(Clone, Debug)]
pub struct Config {
    /// The address to bind.
    pub address: IpAddr,
    /// The port (0: ephemeral).
    pub port: u16,
    /// The registry to serve.
    pub registry: &'static Registry,
    /// Resource limits.
    pub limits: Limits,
    /// The advertised host, if any.
    pub advertised_address: Option<String>,
}

impl Config {
    /// `127.0.0.1`, an ephemeral port, default limits.
    #[must_use]
    pub fn loopback(registry: &'static Registry) -> Self {
        Self {
            address: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            registry,
            limits: Limits::DEFAULT,
            advertised_address: None,
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
    /// The handle's `close()`, run to completion.
    fn close(&mut self);
    /// Drops the handle without closing it, keeping the runtime alive.
    fn drop_handle(&mut self);
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
}

macro_rules! options {
    ($krate:ident, $config:expr) => {{
        let config: Config = $config;
        let mut options = $krate::Options::new()
            .address(config.address)
            .port(config.port)
            .registry(config.registry)
            .limits(config.limits);
        if let Some(host) = config.advertised_address {
            options = options.advertised_address(host);
        }
        options
    }};
}

macro_rules! failure {
    ($krate:ident, $error:expr) => {{
        let error: $krate::StartError = $error;
        StartFailure {
            message: error.to_string(),
            bind_address: match error {
                $krate::StartError::Bind { address, .. } => Some(address),
                _ => None,
            },
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
    fn close(&mut self) {
        if let Some(server) = &mut self.server {
            self.runtime.block_on(server.close());
        }
        if let Some(threaded) = &mut self.threaded {
            threaded.close();
        }
        if let Some(app) = &self.app {
            app.abort();
        }
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
                let service = service_fn(move |request: Request<Incoming>| async move {
                    if request.uri().path() == "/metrics" {
                        metrics.call(request).await
                    } else {
                        Ok::<_, Infallible>(hello())
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
            fn close(&mut self) {
                if let Some(server) = &mut self.server {
                    $block_on(server.close());
                }
                if let Some(threaded) = &mut self.threaded {
                    threaded.close();
                }
                if let Some(stop_app) = self.app.take() {
                    stop_app();
                }
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
                        let service = service_fn(move |request: Request<Incoming>| async move {
                            if request.uri().path() == "/metrics" {
                                metrics.call(request).await
                            } else {
                                Ok::<_, Infallible>(hello())
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
