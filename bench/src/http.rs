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
                let registry = match labels {
                    Labels::RunTime => scrape::torchlight_family_registry(series),
                    Labels::CompileTime => scrape::torchlight_registry(series),
                };
                let options = torchlight_tokio::Options::new()
                    .address(Ipv4Addr::LOCALHOST)
                    .port(0)
                    .registry(registry);
                let server = runtime
                    .block_on(torchlight_tokio::start_http_server(options))
                    .map_err(io::Error::other)?;
                Ok(Self {
                    address: server.local_addr(),
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
                    _recorder: Some(recorder),
                    torchlight_server: None,
                    runtime: Some(runtime),
                })
            }
            (other, labels) => panic!("{other} has no HTTP server with {labels:?} labels"),
        }
    }

    /// Where the server listens.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

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
#[derive(Debug)]
pub struct Client {
    stream: TcpStream,
    buffer: Vec<u8>,
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
        let stream = TcpStream::connect_timeout(&address, SOCKET_TIMEOUT)?;
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(SOCKET_TIMEOUT))?;
        stream.set_write_timeout(Some(SOCKET_TIMEOUT))?;
        Ok(Self {
            stream,
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
        self.send(REQUEST)
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
    let mut client = Client::connect(address)?;
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
    let barrier = Arc::new(Barrier::new(clients + 1));
    let threads: Vec<_> = (0..clients)
        .map(|_| {
            let barrier = Arc::clone(&barrier);
            thread::spawn(move || -> io::Result<(Vec<u64>, Option<Instant>)> {
                let connected = Client::connect(address);
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
                    let response = client.send(GZIP_REQUEST)?;
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
