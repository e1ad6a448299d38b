//! Case 7: `/metrics` over keep-alive loopback HTTP, torchlight's tokio server
//! (`torchlight_tokio::start_http_server`) against `metrics-exporter-prometheus`'s HTTP
//! listener, each serving [`SERIES`] series.
//!
//! Both servers run on their own tokio multi-thread runtime built the same way (one
//! worker per core) and both encode on tokio's blocking pool (each library's own
//! choice). Both serve the family of case 6 (`counters_total{kind="0"…}`, every series
//! at 1) with labels known at run time ([`Labels::RunTime`]): a torchlight `Family`
//! and `metrics`' `counter!` (its only kind); torchlight also serves the same series
//! from compile-time labels ([`Labels::CompileTime`], case 6's registry), which
//! separates the server's cost from the family's. The load generator, [`load`], is the same for both: `n`
//! threads, each with one keep-alive connection over raw HTTP/1.1 on `127.0.0.1`, asking
//! for `/metrics` with [`ACCEPT`] (text 0.0.4, the only format the peer serves) and
//! `Accept-Encoding: identity` (no gzip from either), back to back for a fixed time.
//!
//! Case 12 serves the same torchlight server (compile-time labels) over plain HTTP
//! and over HTTPS ([`Server::start_https`]: a self-signed certificate made at start,
//! rustls with its `ring` provider on both sides), loaded the same way through a
//! [`Target`] that says how to connect: the cost of TLS on a kept-alive scrape. Its
//! basic-auth row ([`Server::start_https_with_basic_auth`]) adds exporter-toolkit's
//! usual setting, a cost-10 bcrypt hash, and clients that send the right password:
//! the cost of authenticating every scrape.

use core::fmt;
use std::io::{self, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Barrier};
use std::thread;
use std::time::{Duration, Instant};

use crate::Library;
use crate::scrape::{self, FAMILY, HELP};
use crate::workload::series_labels;

/// The series each server exposes.
pub const SERIES: usize = 10_000;

/// The `Accept` header every request sends: the Prometheus text format 0.0.4.
pub const ACCEPT: &str = "text/plain;version=0.0.4";

/// The one request, byte for byte, both servers receive.
const REQUEST: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\
Accept: text/plain;version=0.0.4\r\nAccept-Encoding: identity\r\n\r\n";

/// [`REQUEST`] with the credentials of [`BASIC_AUTH_USER`] (`prom:secret`).
const AUTHORIZED_REQUEST: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\
Accept: text/plain;version=0.0.4\r\nAccept-Encoding: identity\r\n\
Authorization: Basic cHJvbTpzZWNyZXQ=\r\n\r\n";

/// The user of the basic-auth server, and the bcrypt hash of its password `secret`
/// at cost 10, the cost `htpasswd -nBC 10` and exporter-toolkit's docs use (made by
/// the system's `crypt(3)`, libxcrypt).
const BASIC_AUTH_USER: (&str, &str) = (
    "prom",
    "$2b$10$HOx49az5GBNdATQHJ41JrucTfcemINgdzRNsQRR.yf3joC9XLhKiq",
);

/// The request of a burst (case 10): what Prometheus sends, gzip included, so the
/// bodies on the wire are what a real burst moves and the shared encoding's gzip is
/// shared too.
const GZIP_REQUEST: &[u8] = b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\
Accept: text/plain;version=0.0.4\r\nAccept-Encoding: gzip\r\n\r\n";

/// How long a client waits on a socket before giving up.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(10);

/// The most response header bytes a client accepts.
const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The most latencies one client records (a bound on memory; at 10 000 series a
/// scrape takes well over a microsecond, so no run of seconds comes near it).
const MAX_LATENCIES: usize = 1 << 22;

/// How the served series are labelled.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Labels {
    /// Label values known at run time: torchlight's `Family`, `metrics`' `counter!`.
    RunTime,
    /// Label values known at compile time: torchlight's `Labelled` (case 6's registry).
    CompileTime,
}

impl Labels {
    /// The variant name in result lines.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::RunTime => "run_time",
            Self::CompileTime => "compile_time",
        }
    }
}

/// A metrics server for case 7, running on its own tokio runtime until dropped.
pub struct Server {
    address: SocketAddr,
    /// How clients reach it: with TLS for [`Server::start_https`].
    tls: Option<Arc<rustls::ClientConfig>>,
    /// Whether clients send credentials ([`Server::start_https_with_basic_auth`]).
    authorized: bool,
    /// Keeps the `metrics` recorder (and so its registry) alive.
    _recorder: Option<metrics_exporter_prometheus::PrometheusRecorder>,
    /// Keeps torchlight's server running; dropped before the runtime.
    torchlight_server: Option<torchlight_tokio::MetricsServer>,
    runtime: Option<tokio::runtime::Runtime>,
}

impl fmt::Debug for Server {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Server")
            .field("address", &self.address)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Starts `library`'s server on `127.0.0.1` with `series` series labelled as
    /// `labels` says.
    ///
    /// # Errors
    ///
    /// When the runtime cannot start or no port can be bound.
    ///
    /// # Panics
    ///
    /// For a library without an HTTP server here (only torchlight and `metrics` have
    /// one), for compile-time labels in `metrics`, and for a compile-time registry size
    /// not in [`SERIES_COUNTS`](crate::workload::SERIES_COUNTS).
    pub fn start(library: Library, labels: Labels, series: usize) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .thread_name(SERVER_THREAD)
            .enable_all()
            .build()?;
        match (library, labels) {
            (Library::Torchlight, _) => {
                let server = torchlight_server(&runtime, labels, series, None, false)?;
                Ok(Self {
                    address: server.local_addr(),
                    tls: None,
                    authorized: false,
                    _recorder: None,
                    torchlight_server: Some(server),
                    runtime: Some(runtime),
                })
            }
            (Library::Metrics, Labels::RunTime) => {
                let _entered = runtime.enter();
                let (recorder, exporter, address) = metrics_listener()?;
                metrics::with_local_recorder(&recorder, || {
                    metrics::describe_counter!(FAMILY, HELP);
                    for label in &series_labels()[..series] {
                        metrics::counter!(FAMILY, "kind" => label.clone()).increment(1);
                    }
                });
                runtime.spawn(exporter);
                Ok(Self {
                    address,
                    tls: None,
                    authorized: false,
                    _recorder: Some(recorder),
                    torchlight_server: None,
                    runtime: Some(runtime),
                })
            }
            (other, labels) => panic!("{other} has no HTTP server with {labels:?} labels"),
        }
    }

    /// torchlight's server over HTTPS with `series` series labelled as `labels` says:
    /// a self-signed certificate for `127.0.0.1` (ECDSA P-256, rcgen's default) given
    /// as a ready `rustls::ServerConfig`; [`Server::target`] trusts exactly it.
    ///
    /// # Errors
    ///
    /// When the runtime cannot start, no port can be bound, or the certificate cannot
    /// be made.
    pub fn start_https(labels: Labels, series: usize) -> io::Result<Self> {
        Self::https(labels, series, false)
    }

    /// [`start_https`](Self::start_https) with basic authentication: one user whose
    /// hash has cost 10; [`Server::target`] sends its credentials with every request.
    ///
    /// # Errors
    ///
    /// As [`start_https`](Self::start_https).
    pub fn start_https_with_basic_auth(labels: Labels, series: usize) -> io::Result<Self> {
        Self::https(labels, series, true)
    }

    fn https(labels: Labels, series: usize, basic_auth: bool) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        let (server_config, client_config) = self_signed()?;
        let tls = torchlight_tokio::TlsConfig::from_server_config(server_config);
        let server = torchlight_server(&runtime, labels, series, Some(tls), basic_auth)?;
        Ok(Self {
            address: server.local_addr(),
            tls: Some(client_config),
            authorized: basic_auth,
            _recorder: None,
            torchlight_server: Some(server),
            runtime: Some(runtime),
        })
    }

    /// Where the server listens.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Where and how clients connect (TLS for an HTTPS server).
    #[must_use]
    pub fn target(&self) -> Target {
        Target {
            address: self.address,
            tls: self.tls.clone(),
            authorized: self.authorized,
        }
    }
}

/// torchlight's server on `runtime` for `series` series labelled as `labels` says, on
/// a free loopback port, over HTTPS with `tls`, with [`BASIC_AUTH_USER`] if
/// `basic_auth`.
fn torchlight_server(
    runtime: &tokio::runtime::Runtime,
    labels: Labels,
    series: usize,
    tls: Option<torchlight_tokio::TlsConfig>,
    basic_auth: bool,
) -> io::Result<torchlight_tokio::MetricsServer> {
    let registry = match labels {
        Labels::RunTime => scrape::torchlight_family_registry(series),
        Labels::CompileTime => scrape::torchlight_registry(series),
    };
    let mut options = torchlight_tokio::Options::new()
        .with_address(Ipv4Addr::LOCALHOST)
        .with_port(0)
        .with_registry(registry);
    if let Some(tls) = tls {
        options = options.with_tls(tls);
    }
    if basic_auth {
        let (user, hash) = BASIC_AUTH_USER;
        let users = torchlight_tokio::BasicAuthUsers::builder()
            .with_user(user, hash)
            .build()
            .map_err(io::Error::other)?;
        options = options.with_basic_auth(users);
    }
    runtime
        .block_on(torchlight_tokio::start_http_server(options))
        .map_err(io::Error::other)
}

/// A self-signed certificate for `127.0.0.1`: the server's settings and a client's
/// that trust exactly that certificate, both with rustls' `ring` provider.
fn self_signed() -> io::Result<(Arc<rustls::ServerConfig>, Arc<rustls::ClientConfig>)> {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let key = rcgen::KeyPair::generate().map_err(io::Error::other)?;
    let mut params =
        rcgen::CertificateParams::new(Vec::<String>::new()).map_err(io::Error::other)?;
    params.subject_alt_names = vec![rcgen::SanType::IpAddress(Ipv4Addr::LOCALHOST.into())];
    let cert = params.self_signed(&key).map_err(io::Error::other)?;
    // Deprecated since rustls 0.23.48 for lacking post-quantum key exchange, which a
    // loopback benchmark does not need; the server's default provider is `ring` too.
    #[expect(
        deprecated,
        reason = "rustls' ring provider lacks post-quantum key exchange"
    )]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_no_client_auth()
        .with_single_cert(
            vec![cert.der().clone()],
            PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        )
        .map_err(io::Error::other)?;
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.der().clone()).map_err(io::Error::other)?;
    let client = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(io::Error::other)?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok((Arc::new(server), Arc::new(client)))
}

/// Where a [`Client`] connects, whether over TLS, and whether with credentials.
#[derive(Clone)]
pub struct Target {
    address: SocketAddr,
    tls: Option<Arc<rustls::ClientConfig>>,
    authorized: bool,
}

impl Target {
    /// Plain HTTP to `address`.
    #[must_use]
    pub const fn plain(address: SocketAddr) -> Self {
        Self {
            address,
            tls: None,
            authorized: false,
        }
    }

    /// The server's address.
    #[must_use]
    pub const fn address(&self) -> SocketAddr {
        self.address
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Target")
            .field("address", &self.address)
            .field("tls", &self.tls.is_some())
            .field("authorized", &self.authorized)
            .finish()
    }
}

/// A client's connection: a `TcpStream`, or rustls' client over one.
trait Stream: Read + Write + Send {}

impl<T: Read + Write + Send> Stream for T {}

impl Drop for Server {
    fn drop(&mut self) {
        drop(self.torchlight_server.take());
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(1));
        }
    }
}

/// `metrics-exporter-prometheus`'s recorder and HTTP listener on a free loopback port.
/// The builder takes a fixed address and does not report the bound one, so a free port
/// is found by binding port 0 first; another process may take it in between, hence a
/// few tries. Must run inside a tokio runtime (the builder spawns its upkeep task).
fn metrics_listener() -> io::Result<(
    metrics_exporter_prometheus::PrometheusRecorder,
    metrics_exporter_prometheus::ExporterFuture,
    SocketAddr,
)> {
    let mut last_error = None;
    for _ in 0..5 {
        let address = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?;
        match metrics_exporter_prometheus::PrometheusBuilder::new()
            .with_http_listener(address)
            .build()
        {
            Ok((recorder, exporter)) => return Ok((recorder, exporter, address)),
            Err(error) => last_error = Some(error),
        }
    }
    Err(io::Error::other(format!(
        "metrics-exporter-prometheus could not bind a loopback port: {}",
        last_error.map_or_else(String::new, |e| e.to_string())
    )))
}

/// One keep-alive HTTP/1.1 connection that asks for `/metrics`.
pub struct Client {
    stream: Box<dyn Stream>,
    /// [`REQUEST`], or [`AUTHORIZED_REQUEST`] for a [`Target`] with credentials.
    request: &'static [u8],
    buffer: Vec<u8>,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("buffered", &self.buffer.len())
            .finish_non_exhaustive()
    }
}

/// What a [`Client::get`] received.
#[derive(Debug, PartialEq, Eq)]
pub struct Response<'a> {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<&'a str>,
    /// The body.
    pub body: &'a [u8],
}

impl Client {
    /// Connects to `address` (no Nagle delay, a 10 s timeout on reads and writes).
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub fn connect(address: SocketAddr) -> io::Result<Self> {
        Self::connect_to(&Target::plain(address))
    }

    /// Connects to `target`, over TLS if it says so (the handshake happens with the
    /// first request).
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub fn connect_to(target: &Target) -> io::Result<Self> {
        let stream = TcpStream::connect_timeout(&target.address, SOCKET_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(SOCKET_TIMEOUT))?;
        stream.set_write_timeout(Some(SOCKET_TIMEOUT))?;
        let stream: Box<dyn Stream> = match &target.tls {
            None => Box::new(stream),
            Some(config) => {
                let name = rustls::pki_types::ServerName::IpAddress(target.address.ip().into());
                let connection = rustls::ClientConnection::new(Arc::clone(config), name)
                    .map_err(io::Error::other)?;
                Box::new(rustls::StreamOwned::new(connection, stream))
            }
        };
        Ok(Self {
            stream,
            request: if target.authorized {
                AUTHORIZED_REQUEST
            } else {
                REQUEST
            },
            buffer: Vec::with_capacity(1 << 20),
        })
    }

    /// Sends the request and reads the whole response (which must carry a
    /// `Content-Length`; both servers send one) on the same connection.
    ///
    /// # Errors
    ///
    /// On socket errors, a closed connection, or a response this client cannot frame.
    pub fn get(&mut self) -> io::Result<Response<'_>> {
        self.send(self.request)
    }

    /// Sends `request` and reads its response, as [`get`](Self::get) does.
    fn send(&mut self, request: &[u8]) -> io::Result<Response<'_>> {
        self.stream.write_all(request)?;
        self.buffer.clear();
        let header_end = loop {
            if let Some(end) = find(&self.buffer, b"\r\n\r\n") {
                break end + 4;
            }
            if self.buffer.len() > MAX_HEADER_BYTES {
                return Err(invalid("response headers too long"));
            }
            self.fill()?;
        };
        let head = std::str::from_utf8(&self.buffer[..header_end])
            .map_err(|_| invalid("response headers are not UTF-8"))?;
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|line| line.split(' ').nth(1))
            .and_then(|code| code.parse::<u16>().ok())
            .ok_or_else(|| invalid("no status line"))?;
        let mut content_length = None;
        // Where the Content-Type value sits in the buffer (the head borrows it).
        let mut content_type = None;
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            if name.eq_ignore_ascii_case("content-length") {
                content_length = value.trim().parse::<usize>().ok();
            } else if name.eq_ignore_ascii_case("content-type") {
                let value = value.trim();
                let start = value.as_ptr() as usize - head.as_ptr() as usize;
                content_type = Some(start..start + value.len());
            }
        }
        let length = content_length.ok_or_else(|| invalid("no Content-Length"))?;
        let total = header_end + length;
        while self.buffer.len() < total {
            self.fill()?;
        }
        if self.buffer.len() > total {
            return Err(invalid("bytes after the response"));
        }
        Ok(Response {
            status,
            // The head was checked to be UTF-8 above and the range lies within it.
            content_type: content_type
                .and_then(|range| std::str::from_utf8(&self.buffer[range]).ok()),
            body: &self.buffer[header_end..total],
        })
    }

    /// Reads what is available onto the buffer; a closed connection is an error.
    fn fill(&mut self) -> io::Result<()> {
        let start = self.buffer.len();
        self.buffer.resize(start + 64 * 1024, 0);
        let read = self.stream.read(&mut self.buffer[start..]);
        let n = *read.as_ref().unwrap_or(&0);
        self.buffer.truncate(start + n);
        match read {
            Ok(0) => Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the server closed the connection",
            )),
            Ok(_) => Ok(()),
            Err(error) => Err(error),
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

fn invalid(what: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_owned())
}

/// The sample lines of an exposition (neither comments nor blank).
#[must_use]
pub fn sample_lines(body: &[u8]) -> Vec<&str> {
    std::str::from_utf8(body)
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .collect()
}

/// Fetches `/metrics` once and checks it is a 200 with exactly `series` samples, each
/// `counters_total{kind="…"} 1`; returns the body's size in bytes.
///
/// # Errors
///
/// When the request fails or the exposition is not the expected one.
pub fn check(address: SocketAddr, series: usize) -> io::Result<usize> {
    check_target(&Target::plain(address), series)
}

/// [`check`] through `target` (over TLS for an HTTPS server).
///
/// # Errors
///
/// As [`check`].
pub fn check_target(target: &Target, series: usize) -> io::Result<usize> {
    let mut client = Client::connect_to(target)?;
    let response = client.get()?;
    if response.status != 200 {
        return Err(invalid(&format!("status {}", response.status)));
    }
    let samples = sample_lines(response.body);
    if samples.len() != series {
        return Err(invalid(&format!(
            "{} samples, expected {series}",
            samples.len()
        )));
    }
    if let Some(bad) = samples
        .iter()
        .find(|line| !(line.starts_with("counters_total{kind=\"") && line.ends_with("\"} 1")))
    {
        return Err(invalid(&format!("unexpected sample line {bad:?}")));
    }
    Ok(response.body.len())
}

/// What [`load`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    /// Responses completed in the measured window, all clients together.
    pub requests: u64,
    /// The measured window: from its start until the last counted response.
    pub elapsed: Duration,
    /// Every counted request's latency in nanoseconds, sorted.
    pub latencies_ns: Vec<u64>,
}

impl Load {
    /// Responses per second.
    #[must_use]
    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.elapsed.as_secs_f64()
    }

    /// The latency below which `quantile` of the requests fall (nearest rank), in
    /// nanoseconds; `None` without requests.
    #[must_use]
    pub fn latency_ns(&self, quantile: f64) -> Option<u64> {
        let n = self.latencies_ns.len();
        if n == 0 {
            return None;
        }
        let rank = (quantile * n as f64).ceil() as usize;
        Some(self.latencies_ns[rank.clamp(1, n) - 1])
    }
}

/// Runs `clients` threads, each with its own keep-alive connection to `address`,
/// asking for `/metrics` back to back: `warmup` unmeasured, then `duration` measured
/// (requests started in the window are counted when they complete). Every response
/// must be a 200 with a body.
///
/// # Errors
///
/// The first client error (connection, framing, or a non-200 answer).
pub fn load(
    address: SocketAddr,
    clients: usize,
    warmup: Duration,
    duration: Duration,
) -> io::Result<Load> {
    load_target(&Target::plain(address), clients, warmup, duration)
}

/// [`load`] through `target` (over TLS for an HTTPS server; each client's handshake
/// falls in the warm-up).
///
/// # Errors
///
/// As [`load`].
pub fn load_target(
    target: &Target,
    clients: usize,
    warmup: Duration,
    duration: Duration,
) -> io::Result<Load> {
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            let target = target.clone();
            thread::spawn(move || -> io::Result<(Vec<u64>, Option<Instant>)> {
                let connected = Client::connect_to(&target);
                barrier.wait();
                let start = Instant::now();
                let mut client = connected?;
                let measure_from = start + warmup;
                let until = measure_from + duration;
                let mut latencies = Vec::with_capacity(4096);
                let mut last = None;
                loop {
                    let began = Instant::now();
                    if began >= until {
                        break;
                    }
                    let response = client.get()?;
                    if response.status != 200 || response.body.is_empty() {
                        return Err(invalid(&format!("status {}", response.status)));
                    }
                    let ended = Instant::now();
                    if began >= measure_from && latencies.len() < MAX_LATENCIES {
                        latencies.push(
                            u64::try_from(ended.duration_since(began).as_nanos())
                                .unwrap_or(u64::MAX),
                        );
                        last = Some(ended);
                    }
                }
                Ok((latencies, last))
            })
        })
        .collect();
    barrier.wait();
    let start = Instant::now();
    let measure_from = start + warmup;
    let mut latencies_ns = Vec::new();
    let mut last_end = measure_from;
    let mut first_error = None;
    for handle in threads {
        match handle.join() {
            Ok(Ok((latencies, last))) => {
                latencies_ns.extend(latencies);
                last_end = last_end.max(last.unwrap_or(measure_from));
            }
            Ok(Err(error)) => {
                first_error.get_or_insert(error);
            }
            Err(_) => {
                first_error.get_or_insert(io::Error::other("a client thread panicked"));
            }
        }
    }
    if let Some(error) = first_error {
        return Err(error);
    }
    latencies_ns.sort_unstable();
    Ok(Load {
        requests: latencies_ns.len() as u64,
        elapsed: last_end.duration_since(measure_from),
        latencies_ns,
    })
}

/// The series of the burst case (case 10): the large registry.
pub const BURST_SERIES: usize = 100_000;

/// What [`burst`] measured.
#[derive(Clone, Debug, PartialEq)]
pub struct Burst {
    /// The server's CPU time (user and system, of the threads named [`SERVER_THREAD`]:
    /// its runtime's workers and blocking pool) per round, in nanoseconds; the client
    /// threads, which read sixteen bodies where one scrape reads one, are not counted.
    pub cpu_per_round_ns: f64,
    /// Every scrape's latency in nanoseconds (connection already open), sorted.
    pub latencies_ns: Vec<u64>,
}

impl Burst {
    /// The latency below which `quantile` of the scrapes fall (nearest rank).
    #[must_use]
    pub fn latency_ns(&self, quantile: f64) -> Option<u64> {
        Load {
            requests: self.latencies_ns.len() as u64,
            elapsed: Duration::ZERO,
            latencies_ns: self.latencies_ns.clone(),
        }
        .latency_ns(quantile)
    }
}

/// Runs `rounds` rounds of `scrapes` scrapes sent at the same moment (each on its own
/// connection, opened before the round, released together by a barrier), one round
/// after the other, and measures the server's CPU time over all rounds and every
/// scrape's latency. Each scrape asks for gzip, as Prometheus does. With coalescing, a
/// round of 16 costs about one encoding and one compression; without, sixteen.
///
/// # Errors
///
/// A failed scrape or connection, or no CPU clock (`/proc/self/task`, Linux only).
pub fn burst(address: SocketAddr, scrapes: usize, rounds: usize) -> io::Result<Burst> {
    let mut latencies_ns = Vec::with_capacity(scrapes * rounds);
    let mut cpu = Duration::ZERO;
    for _ in 0..rounds {
        let mut clients = (0..scrapes)
            .map(|_| Client::connect(address))
            .collect::<io::Result<Vec<_>>>()?;
        let barrier = Arc::new(Barrier::new(scrapes + 1));
        let before = server_cpu_time()?;
        let threads: Vec<_> = clients
            .drain(..)
            .map(|mut client| {
                let barrier = Arc::clone(&barrier);
                thread::spawn(move || -> io::Result<u64> {
                    barrier.wait();
                    let began = Instant::now();
                    let response = client.send(GZIP_REQUEST)?;
                    if response.status != 200 || response.body.is_empty() {
                        return Err(invalid(&format!("status {}", response.status)));
                    }
                    Ok(u64::try_from(began.elapsed().as_nanos()).unwrap_or(u64::MAX))
                })
            })
            .collect();
        barrier.wait();
        for thread in threads {
            let latency = thread
                .join()
                .map_err(|_| io::Error::other("a client thread panicked"))??;
            latencies_ns.push(latency);
        }
        cpu += server_cpu_time()?.saturating_sub(before);
    }
    latencies_ns.sort_unstable();
    Ok(Burst {
        cpu_per_round_ns: cpu.as_nanos() as f64 / rounds.max(1) as f64,
        latencies_ns,
    })
}

/// The name of every thread of the servers' runtime (workers and blocking pool), so
/// [`server_cpu_time`] can tell them from the clients' threads.
pub const SERVER_THREAD: &str = "bench-server";

/// The user plus system CPU time of this process's threads named [`SERVER_THREAD`], from
/// `/proc/self/task/<tid>/stat` (fields 14 and 15, in `USER_HZ` ticks, which Linux fixes
/// at 100 per second for this file; see `proc_pid_stat(5)`). A 10 ms resolution per
/// thread: [`burst`] runs enough rounds to make it small. The runtime's threads outlive
/// a round (tokio keeps idle blocking threads for 10 s), so none of their time is lost.
fn server_cpu_time() -> io::Result<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let mut ticks = 0;
    for task in std::fs::read_dir("/proc/self/task")? {
        let Ok(stat) = std::fs::read_to_string(task?.path().join("stat")) else {
            continue; // the thread ended after the directory was listed
        };
        // The command name (field 2) sits in parentheses and may hold spaces.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            return Err(invalid("a thread's stat without a command name"));
        };
        if &stat[open + 1..close] != SERVER_THREAD {
            continue;
        }
        // Field 3 (state) is the first after the name; utime and stime are 14 and 15.
        let mut fields = stat[close + 1..].split_whitespace().skip(11);
        let mut tick = || -> io::Result<u64> {
            fields
                .next()
                .and_then(|field| field.parse().ok())
                .ok_or_else(|| invalid("a thread's stat lacks utime or stime"))
        };
        ticks += tick()? + tick()?;
    }
    Ok(Duration::from_millis(ticks * 1000 / TICKS_PER_SECOND))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::{Labels, Server, check, load, sample_lines};
    use crate::Library;

    /// Both servers hold the same series with the same values, and each answers
    /// repeated requests on one kept-alive connection.
    #[test]
    fn both_servers_expose_the_same_series_over_keep_alive() {
        let mut expositions = Vec::new();
        for (library, labels) in [
            (Library::Torchlight, Labels::RunTime),
            (Library::Torchlight, Labels::CompileTime),
            (Library::Metrics, Labels::RunTime),
        ] {
            let server = Server::start(library, labels, 1_000).unwrap();
            check(server.address(), 1_000).unwrap();
            let mut client = super::Client::connect(server.address()).unwrap();
            let mut previous = None;
            for _ in 0..3 {
                let response = client.get().unwrap();
                assert_eq!(response.status, 200, "{library}");
                let content_type = response.content_type.unwrap_or_default();
                assert!(
                    content_type.starts_with("text/plain"),
                    "{library}: {content_type}"
                );
                let mut samples: Vec<String> = sample_lines(response.body)
                    .into_iter()
                    .map(str::to_owned)
                    .collect();
                samples.sort();
                if let Some(previous) = &previous {
                    assert_eq!(&samples, previous, "{library}: the second scrape differs");
                }
                previous = Some(samples);
            }
            expositions.push(previous.unwrap());
        }
        assert_eq!(expositions[0].len(), 1_000);
        assert_eq!(expositions[0], expositions[1]);
        assert_eq!(expositions[0], expositions[2]);
    }

    /// A burst measures every scrape and some CPU time; the torchlight server
    /// answers concurrent scrapes (coalesced or not) with the full exposition.
    #[test]
    fn a_burst_records_every_scrape() {
        let server = Server::start(Library::Torchlight, Labels::RunTime, 1_000).unwrap();
        let result = super::burst(server.address(), 4, 3).unwrap();
        assert_eq!(result.latencies_ns.len(), 12);
        assert!(result.latencies_ns.is_sorted());
        assert!(result.cpu_per_round_ns >= 0.0);
        super::server_cpu_time().unwrap();
        // The server's threads carry the name the CPU time is summed over.
        let named = std::fs::read_dir("/proc/self/task")
            .unwrap()
            .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("comm")).ok())
            .filter(|comm| comm.trim_end() == super::SERVER_THREAD)
            .count();
        assert!(named > 0, "no thread named {}", super::SERVER_THREAD);
    }

    /// The HTTPS server serves the same exposition over TLS, and refuses plain HTTP.
    #[test]
    fn the_https_server_serves_the_same_series_over_tls() {
        let server = Server::start_https(Labels::CompileTime, 1_000).unwrap();
        assert_eq!(
            super::check_target(&server.target(), 1_000).unwrap(),
            super::check_target(
                &Server::start(Library::Torchlight, Labels::CompileTime, 1_000)
                    .unwrap()
                    .target(),
                1_000
            )
            .unwrap()
        );
        assert!(check(server.address(), 1_000).is_err());
        let result = super::load_target(
            &server.target(),
            2,
            Duration::ZERO,
            Duration::from_millis(200),
        )
        .unwrap();
        assert!(result.requests > 0);
    }

    /// The basic-auth server answers its target (which sends the credentials), and a
    /// client without them gets no exposition.
    #[test]
    fn the_basic_auth_server_serves_clients_with_credentials() {
        let server = Server::start_https_with_basic_auth(Labels::CompileTime, 100).unwrap();
        assert!(super::check_target(&server.target(), 100).is_ok());
        let mut without = server.target();
        without.authorized = false;
        let error = super::check_target(&without, 100).unwrap_err();
        assert!(error.to_string().contains("status 401"), "{error}");
    }

    #[test]
    fn a_check_rejects_the_wrong_series_count() {
        let server = Server::start(Library::Torchlight, Labels::RunTime, 100).unwrap();
        let error = check(server.address(), 101).unwrap_err();
        assert!(error.to_string().contains("100 samples"), "{error}");
    }

    #[test]
    fn load_counts_requests_and_latencies() {
        let server = Server::start(Library::Torchlight, Labels::RunTime, 100).unwrap();
        let result = load(
            server.address(),
            2,
            Duration::from_millis(50),
            Duration::from_millis(200),
        )
        .unwrap();
        assert!(result.requests > 0);
        assert_eq!(result.latencies_ns.len() as u64, result.requests);
        assert!(result.latencies_ns.is_sorted());
        let (median, p99) = (
            result.latency_ns(0.5).unwrap(),
            result.latency_ns(0.99).unwrap(),
        );
        assert!(0 < median && median <= p99);
        assert!(result.elapsed <= Duration::from_secs(5));
        assert!(result.per_second() > 0.0);
    }
}
