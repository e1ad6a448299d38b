//! The soak run behind `cargo xtask soak`: an adapter's `quickstart` example under
//! mixed load for minutes, measured each second.
//!
//! One [`run`] starts the quickstart (over HTTP, or HTTPS with a web configuration
//! file naming a certificate generated for the run), then drives it from threads until
//! the time is up:
//!
//! - app load: keep-alive clients on the app's port, one request in ten to a missing
//!   path (counted by the app as an error), reconnecting every 100 requests;
//! - scrapes: a keep-alive client asking for OpenMetrics with gzip, one for the text
//!   format without, and one opening a new connection per scrape (connection churn)
//!   alternating protobuf and gzip'd text, each checking status and body length;
//! - faults: slow clients that dribble a request head one byte at a time (over HTTPS,
//!   that never finish the handshake), replaced when the server drops them, and
//!   half-closed clients that send a request then close their write side (TCP
//!   `shutdown`, or TLS `close_notify`), which must still be answered.
//!
//! Each second it records the server's resident memory and open file descriptors
//! (`/proc/<pid>/status`, `/proc/<pid>/fd`), the scrapes' latency percentiles, and the
//! errors; at the end it checks that the app's request counter, as scraped, equals the
//! requests the load completed (nothing lost), and fits a line through the second half
//! of the memory and descriptor series ([`Trend`]): growth the noise cannot explain is
//! a leak. It stops the quickstart by its process id (SIGINT, then SIGKILL).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ClientConnection, StreamOwned};

use crate::tls::Pki;

/// Over plain HTTP or HTTPS.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    /// `http://`.
    Http,
    /// `https://`, with a certificate generated for the run.
    Https,
}

impl Scheme {
    /// `http` or `https`.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Http => "http",
            Self::Https => "https",
        }
    }
}

/// One second of a run.
#[derive(Clone, Debug, Default)]
pub struct Second {
    /// Seconds since the load started.
    pub at: f64,
    /// Resident memory of the server process, KiB.
    pub rss_kib: u64,
    /// Its open file descriptors.
    pub fds: u64,
    /// Scrapes completed in this second.
    pub scrapes: u64,
    /// Errors so far (scrapes, app requests, half-closed requests).
    pub errors: u64,
    /// Scrape latency percentiles in this second, milliseconds.
    pub p50_ms: f64,
    /// The 99th percentile.
    pub p99_ms: f64,
    /// The slowest.
    pub max_ms: f64,
    /// App requests completed so far.
    pub app_requests: u64,
}

/// A least-squares line through a series.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Trend {
    /// Growth per second.
    pub slope: f64,
    /// The line's rise over the series' span.
    pub rise: f64,
    /// The standard deviation of the points around the line.
    pub noise: f64,
}

impl Trend {
    /// The line through `points` (`(t, y)`), or `None` for fewer than 3 points.
    #[must_use]
    pub fn fit(points: &[(f64, f64)]) -> Option<Self> {
        if points.len() < 3 {
            return None;
        }
        #[allow(clippy::cast_precision_loss)]
        let n = points.len() as f64;
        let mean_t = points.iter().map(|p| p.0).sum::<f64>() / n;
        let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
        let stt: f64 = points.iter().map(|p| (p.0 - mean_t).powi(2)).sum();
        let sty: f64 = points.iter().map(|p| (p.0 - mean_t) * (p.1 - mean_y)).sum();
        let slope = if stt == 0.0 { 0.0 } else { sty / stt };
        let noise = (points
            .iter()
            .map(|p| (p.1 - (mean_y + slope * (p.0 - mean_t))).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        let span = points[points.len() - 1].0 - points[0].0;
        Some(Self {
            slope,
            rise: slope * span,
            noise,
        })
    }

    /// Whether this is a leak: a rise over the span larger than three times the noise
    /// around the line and than `floor` (the granularity of what is measured: the
    /// allocator's arenas for memory, a connection or two for descriptors).
    #[must_use]
    pub fn leaks(&self, floor: f64) -> bool {
        self.rise > 3.0 * self.noise && self.rise > floor
    }
}

/// The second half of `seconds`, as `(t, value)`.
fn second_half(seconds: &[Second], value: fn(&Second) -> u64) -> Vec<(f64, f64)> {
    #[allow(clippy::cast_precision_loss)]
    seconds[seconds.len() / 2..]
        .iter()
        .map(|second| (second.at, value(second) as f64))
        .collect()
}

/// What one run found.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The adapter (`tokio`, `smol`, `async-std`).
    pub adapter: String,
    /// HTTP or HTTPS.
    pub scheme: Scheme,
    /// Every second.
    pub seconds: Vec<Second>,
    /// Scrapes completed.
    pub scrapes: u64,
    /// App requests completed.
    pub app_requests: u64,
    /// Half-closed requests answered.
    pub half_closed: u64,
    /// Slow clients opened.
    pub slow_clients: u64,
    /// Connections opened by the churning scraper and the app load.
    pub connections: u64,
    /// Scrape latency over the whole run, milliseconds: p50, p99, max.
    pub latency_ms: [f64; 3],
    /// The memory trend over the second half (KiB).
    pub rss: Option<Trend>,
    /// The descriptor trend over the second half.
    pub fds: Option<Trend>,
    /// What went wrong; empty when nothing did.
    pub failures: Vec<String>,
}

impl Outcome {
    /// The per-second series as tab-separated values, with a header line.
    #[must_use]
    pub fn tsv(&self) -> String {
        let mut out = String::from(
            "at\trss_kib\tfds\tscrapes\terrors\tp50_ms\tp99_ms\tmax_ms\tapp_requests\n",
        );
        for s in &self.seconds {
            let _ = writeln!(
                out,
                "{:.1}\t{}\t{}\t{}\t{}\t{:.2}\t{:.2}\t{:.2}\t{}",
                s.at,
                s.rss_kib,
                s.fds,
                s.scrapes,
                s.errors,
                s.p50_ms,
                s.p99_ms,
                s.max_ms,
                s.app_requests
            );
        }
        out
    }
}

/// What the load threads share.
#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    /// Scrape latencies since the sampler last took them, milliseconds.
    latencies: Mutex<Vec<f64>>,
    scrapes: AtomicU64,
    errors: AtomicU64,
    /// The first error messages.
    messages: Mutex<Vec<String>>,
    app_ok: AtomicU64,
    app_missing: AtomicU64,
    half_closed: AtomicU64,
    slow_clients: AtomicU64,
    connections: AtomicU64,
}

impl Shared {
    fn error(&self, message: String) {
        // Relaxed: counters read after the threads are joined, or for progress lines.
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut messages = self.messages.lock().unwrap_or_else(|p| p.into_inner());
        if messages.len() < 20 {
            messages.push(message);
        }
    }

    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }
}

/// How long a client waits for any one read or write.
const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// A connection to the server, plain or TLS.
enum Connection {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
}

impl Connection {
    fn open(address: SocketAddr, tls: Option<&Arc<ClientConfig>>) -> std::io::Result<Self> {
        let stream = TcpStream::connect_timeout(&address, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        stream.set_nodelay(true)?;
        Ok(match tls {
            None => Self::Plain(stream),
            Some(config) => {
                let name = ServerName::IpAddress(address.ip().into());
                let connection = ClientConnection::new(Arc::clone(config), name)
                    .map_err(std::io::Error::other)?;
                Self::Tls(Box::new(StreamOwned::new(connection, stream)))
            }
        })
    }

    /// Closes the write side: TCP `shutdown`, or TLS `close_notify` (a TCP shutdown
    /// under TLS would race the server's close into a reset).
    fn half_close(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(stream) => stream.shutdown(Shutdown::Write),
            Self::Tls(stream) => {
                stream.conn.send_close_notify();
                stream.flush()
            }
        }
    }
}

impl Read for Connection {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buf),
            Self::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Connection {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.write(buf),
            Self::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Self::Plain(stream) => stream.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}

/// A response read off a keep-alive connection: status, headers (lowercase names),
/// body (exactly `Content-Length` bytes).
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Reads one response with a `Content-Length` from `reader`.
fn read_response(reader: &mut impl BufRead) -> std::io::Result<Response> {
    let invalid =
        |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let status = line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| invalid(&format!("a bad status line {line:?}")))?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        if reader.read_line(&mut line)? == 0 {
            return Err(invalid("the connection closed inside the head"));
        }
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .and_then(|(_, value)| value.parse().ok())
        .ok_or_else(|| invalid("no Content-Length"))?;
    let mut body = vec![0; length];
    reader.read_exact(&mut body)?;
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The percentile `p` (0–100) of sorted `values`.
fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

/// The app load: keep-alive requests, one in ten to a missing path.
fn app_load(shared: &Shared, app: SocketAddr) {
    let mut sent: u64 = 0;
    'connections: while !shared.stopped() {
        let Ok(stream) = Connection::open(app, None) else {
            shared.error(format!("app: cannot connect to {app}"));
            thread::sleep(Duration::from_millis(100));
            continue;
        };
        shared.connections.fetch_add(1, Ordering::Relaxed);
        let mut reader = BufReader::new(stream);
        for _ in 0..100 {
            if shared.stopped() {
                break 'connections;
            }
            sent += 1;
            let missing = sent.is_multiple_of(10);
            let path = if missing { "/missing" } else { "/" };
            let request = format!("GET {path} HTTP/1.1\r\nHost: app\r\n\r\n");
            let answered = reader
                .get_mut()
                .write_all(request.as_bytes())
                .and_then(|()| read_response(&mut reader));
            match answered {
                Ok(response) if response.status == if missing { 404 } else { 200 } => {
                    let counter = if missing {
                        &shared.app_missing
                    } else {
                        &shared.app_ok
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
                Ok(response) => {
                    shared.error(format!("app: GET {path} answered {}", response.status));
                }
                Err(error) => {
                    shared.error(format!("app: GET {path}: {error}"));
                    continue 'connections;
                }
            }
            // About 400 requests a second per client: load, without starving the
            // scrapes of the machine's cores.
            thread::sleep(Duration::from_micros(2500));
        }
    }
}

/// One scrape on `connection`; records the latency or the error.
fn scrape(
    shared: &Shared,
    reader: &mut BufReader<Connection>,
    accept: &str,
    gzip: bool,
    close: bool,
) -> bool {
    let started = Instant::now();
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: soak\r\nAccept: {accept}\r\n{}{}\r\n",
        if gzip {
            "Accept-Encoding: gzip\r\n"
        } else {
            ""
        },
        if close { "Connection: close\r\n" } else { "" },
    );
    let result = reader
        .get_mut()
        .write_all(request.as_bytes())
        .and_then(|()| read_response(reader));
    match result {
        Ok(response)
            if response.status == 200
                && !response.body.is_empty()
                && (response.header("content-encoding") == Some("gzip")) == gzip =>
        {
            let elapsed = started.elapsed().as_secs_f64() * 1e3;
            shared
                .latencies
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(elapsed);
            shared.scrapes.fetch_add(1, Ordering::Relaxed);
            true
        }
        Ok(response) => {
            shared.error(format!(
                "scrape ({accept}, gzip {gzip}): status {}, {} bytes, encoding {:?}",
                response.status,
                response.body.len(),
                response.header("content-encoding")
            ));
            false
        }
        Err(error) => {
            shared.error(format!("scrape ({accept}, gzip {gzip}): {error}"));
            false
        }
    }
}

/// A keep-alive scraper, every 100 ms.
fn keep_alive_scraper(
    shared: &Shared,
    metrics: SocketAddr,
    tls: Option<&Arc<ClientConfig>>,
    accept: &str,
    gzip: bool,
) {
    while !shared.stopped() {
        let Ok(connection) = Connection::open(metrics, tls) else {
            shared.error(format!("scraper: cannot connect to {metrics}"));
            thread::sleep(Duration::from_millis(100));
            continue;
        };
        let mut reader = BufReader::new(connection);
        while !shared.stopped() && scrape(shared, &mut reader, accept, gzip, false) {
            thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A scraper that opens a connection per scrape: connection churn.
fn churning_scraper(shared: &Shared, metrics: SocketAddr, tls: Option<&Arc<ClientConfig>>) {
    const PROTOBUF: &str = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited";
    let mut n = 0u64;
    while !shared.stopped() {
        n += 1;
        match Connection::open(metrics, tls) {
            Ok(connection) => {
                shared.connections.fetch_add(1, Ordering::Relaxed);
                let mut reader = BufReader::new(connection);
                let (accept, gzip) = if n.is_multiple_of(2) {
                    (PROTOBUF, false)
                } else {
                    ("text/plain", true)
                };
                scrape(shared, &mut reader, accept, gzip, true);
            }
            Err(error) => shared.error(format!("churn: connect: {error}")),
        }
        thread::sleep(Duration::from_millis(100));
    }
}

/// Half-closed clients, two a second: request, close the write side, read the answer.
fn half_closer(shared: &Shared, metrics: SocketAddr, tls: Option<&Arc<ClientConfig>>) {
    while !shared.stopped() {
        let result = Connection::open(metrics, tls).and_then(|mut connection| {
            connection
                .write_all(b"GET /metrics HTTP/1.1\r\nHost: soak\r\nConnection: close\r\n\r\n")?;
            connection.flush()?;
            connection.half_close()?;
            read_response(&mut BufReader::new(connection))
        });
        match result {
            Ok(response) if response.status == 200 => {
                shared.half_closed.fetch_add(1, Ordering::Relaxed);
            }
            Ok(response) => shared.error(format!("half-closed: status {}", response.status)),
            Err(error) => shared.error(format!("half-closed: {error}")),
        }
        thread::sleep(Duration::from_millis(500));
    }
}

/// Slow clients: up to 16 connections that send a request head one byte every
/// 200 ms (over TLS: bytes that never finish a handshake), each replaced once the
/// server has closed it.
fn slow_clients(shared: &Shared, metrics: SocketAddr) {
    const HEAD: &[u8] =
        b"GET /metrics HTTP/1.1\r\nHost: slow\r\nUser-Agent: a-very-slow-client\r\n";
    let mut clients: Vec<(TcpStream, usize)> = Vec::new();
    while !shared.stopped() {
        while clients.len() < 16 {
            match TcpStream::connect_timeout(&metrics, IO_TIMEOUT) {
                Ok(stream) => {
                    let _ = stream.set_write_timeout(Some(Duration::from_millis(200)));
                    shared.slow_clients.fetch_add(1, Ordering::Relaxed);
                    clients.push((stream, 0));
                }
                Err(error) => {
                    shared.error(format!("slow client: connect: {error}"));
                    break;
                }
            }
        }
        // A write fails once the server has closed the connection (a reset after the
        // first write into a closed socket): the client is replaced.
        clients.retain_mut(|(stream, sent)| {
            let byte = HEAD[*sent % HEAD.len()];
            *sent += 1;
            stream.write_all(&[byte]).is_ok()
        });
        thread::sleep(Duration::from_millis(200));
    }
}

/// Resident memory (KiB) and open descriptors of process `pid`.
fn usage(pid: u32) -> Option<(u64, u64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let rss = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
    Some((rss, fds))
}

/// The quickstart's process, stopped by its id when dropped.
struct Quickstart {
    child: Child,
}

impl Quickstart {
    /// Sends SIGINT (the example's Ctrl-C: it closes its servers), waits up to 10 s,
    /// then kills it. Returns whether it exited by itself with success.
    fn stop(&mut self) -> bool {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.success();
            }
            thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        false
    }
}

impl Drop for Quickstart {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Starts `quickstart` on ephemeral ports and reads the addresses it prints.
fn start(
    quickstart: &Path,
    web_config: Option<&Path>,
    log: &Path,
) -> Result<(Quickstart, SocketAddr, SocketAddr), String> {
    let stderr =
        std::fs::File::create(log).map_err(|error| format!("{}: {error}", log.display()))?;
    let mut command = Command::new(quickstart);
    command
        .args(["--app-addr", "127.0.0.1:0", "--metrics-addr", "127.0.0.1:0"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    if let Some(file) = web_config {
        command.arg("--web-config").arg(file);
    }
    let mut child = command
        .spawn()
        .map_err(|error| format!("cannot start {}: {error}", quickstart.display()))?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let mut process = Quickstart { child };
    let (sender, receiver) = std::sync::mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if sender.send(line).is_err() {
                break;
            }
        }
    });
    let address = |line: &str, prefix: &str| -> Option<SocketAddr> {
        let rest = line.strip_prefix(prefix)?.trim();
        let rest = rest.split("://").nth(1)?;
        rest.split('/').next()?.parse().ok()
    };
    let (mut app, mut metrics) = (None, None);
    let deadline = Instant::now() + Duration::from_secs(60);
    while app.is_none() || metrics.is_none() {
        let left = deadline.saturating_duration_since(Instant::now());
        let Ok(line) = receiver.recv_timeout(left) else {
            process.stop();
            return Err(format!(
                "{} printed no addresses within 60 s (see {})",
                quickstart.display(),
                log.display()
            ));
        };
        app = app.or_else(|| address(&line, "app:"));
        metrics = metrics.or_else(|| address(&line, "metrics:"));
    }
    Ok((
        process,
        app.ok_or("no app address")?,
        metrics.ok_or("no metrics address")?,
    ))
}

/// The app's request counters as one text scrape reports them:
/// (`req_time_seconds_count`, `req_errors_total`), summed over series.
fn scraped_requests(
    metrics: SocketAddr,
    tls: Option<&Arc<ClientConfig>>,
) -> Result<(f64, f64), String> {
    let connection = Connection::open(metrics, tls).map_err(|error| error.to_string())?;
    let mut reader = BufReader::new(connection);
    reader
        .get_mut()
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: soak\r\nAccept: text/plain\r\n\r\n")
        .map_err(|error| error.to_string())?;
    let response = read_response(&mut reader).map_err(|error| error.to_string())?;
    let text = String::from_utf8_lossy(&response.body);
    let sum = |name: &str| -> f64 {
        text.lines()
            .filter(|line| {
                line.strip_prefix(name)
                    .is_some_and(|rest| rest.starts_with(' ') || rest.starts_with('{'))
            })
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    };
    Ok((sum("req_time_seconds_count"), sum("req_errors_total")))
}

/// Soaks `quickstart` (the example of `adapter`) over `scheme` for `duration`, writing
/// its log into `out`.
///
/// # Errors
///
/// When the quickstart cannot be started; everything it finds later is in the
/// outcome's `failures`.
pub fn run(
    adapter: &str,
    quickstart: &Path,
    scheme: Scheme,
    duration: Duration,
    out: &Path,
) -> Result<Outcome, String> {
    let pki = (scheme == Scheme::Https).then(Pki::new);
    let web_config: Option<PathBuf> = pki.as_ref().map(|pki| {
        let file = pki.file("web-config.yml");
        let yaml = "tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n";
        std::fs::write(&file, yaml).expect("write the web configuration");
        file
    });
    let tls = pki.as_ref().map(Pki::client);
    let log = out.join(format!("{adapter}-{}.log", scheme.name()));
    let (mut process, app, metrics) = start(quickstart, web_config.as_deref(), &log)?;
    let pid = process.child.id();
    let shared = Arc::new(Shared::default());
    let mut threads = Vec::new();
    let spawn = |threads: &mut Vec<thread::JoinHandle<()>>, work: Box<dyn FnOnce() + Send>| {
        threads.push(thread::spawn(work));
    };
    for _ in 0..4 {
        let shared = Arc::clone(&shared);
        spawn(&mut threads, Box::new(move || app_load(&shared, app)));
    }
    for (accept, gzip) in [
        ("application/openmetrics-text", true),
        ("text/plain", false),
    ] {
        let (shared, tls) = (Arc::clone(&shared), tls.clone());
        spawn(
            &mut threads,
            Box::new(move || keep_alive_scraper(&shared, metrics, tls.as_ref(), accept, gzip)),
        );
    }
    {
        let (shared, tls) = (Arc::clone(&shared), tls.clone());
        spawn(
            &mut threads,
            Box::new(move || churning_scraper(&shared, metrics, tls.as_ref())),
        );
    }
    {
        let (shared, tls) = (Arc::clone(&shared), tls.clone());
        spawn(
            &mut threads,
            Box::new(move || half_closer(&shared, metrics, tls.as_ref())),
        );
    }
    {
        let shared = Arc::clone(&shared);
        spawn(
            &mut threads,
            Box::new(move || slow_clients(&shared, metrics)),
        );
    }

    let started = Instant::now();
    let mut seconds = Vec::new();
    let mut all_latencies = Vec::new();
    let mut last_scrapes = 0;
    let mut failures = Vec::new();
    let mut tick = started;
    while started.elapsed() < duration {
        tick += Duration::from_secs(1);
        thread::sleep(tick.saturating_duration_since(Instant::now()));
        let Some((rss_kib, fds)) = usage(pid) else {
            failures.push(format!(
                "the {adapter} quickstart exited during the run (see {})",
                log.display()
            ));
            break;
        };
        let mut latencies =
            std::mem::take(&mut *shared.latencies.lock().unwrap_or_else(|p| p.into_inner()));
        latencies.sort_by(f64::total_cmp);
        let scrapes = shared.scrapes.load(Ordering::Relaxed);
        let second = Second {
            at: started.elapsed().as_secs_f64(),
            rss_kib,
            fds,
            scrapes: scrapes - last_scrapes,
            errors: shared.errors.load(Ordering::Relaxed),
            p50_ms: percentile(&latencies, 50.0),
            p99_ms: percentile(&latencies, 99.0),
            max_ms: latencies.last().copied().unwrap_or(0.0),
            app_requests: shared.app_ok.load(Ordering::Relaxed)
                + shared.app_missing.load(Ordering::Relaxed),
        };
        last_scrapes = scrapes;
        all_latencies.extend(latencies);
        if seconds.len() % 30 == 0 {
            println!(
                "{adapter} {} {:>5.0} s: rss {} KiB, {} fds, {} scrapes/s (p99 {:.1} ms), {} app requests, {} errors",
                scheme.name(),
                second.at,
                second.rss_kib,
                second.fds,
                second.scrapes,
                second.p99_ms,
                second.app_requests,
                second.errors
            );
        }
        seconds.push(second);
    }
    shared.stop.store(true, Ordering::Relaxed);
    for thread in threads {
        if thread.join().is_err() {
            failures.push("a load thread panicked".to_owned());
        }
    }
    let app_ok = shared.app_ok.load(Ordering::Relaxed);
    let app_missing = shared.app_missing.load(Ordering::Relaxed);
    match scraped_requests(metrics, tls.as_ref()) {
        #[allow(clippy::cast_precision_loss)]
        Ok((timed, errors)) => {
            if timed != (app_ok + app_missing) as f64 || errors != app_missing as f64 {
                failures.push(format!(
                    "lost observations: the app counted {timed} requests and {errors} errors, \
                     the load completed {} and {app_missing}",
                    app_ok + app_missing
                ));
            }
        }
        Err(error) => failures.push(format!("the final scrape failed: {error}")),
    }
    if !process.stop() {
        failures.push(format!(
            "the {adapter} quickstart did not exit cleanly on SIGINT within 10 s (see {})",
            log.display()
        ));
    }
    for message in shared
        .messages
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
    {
        failures.push(message.clone());
    }
    let errors = shared.errors.load(Ordering::Relaxed);
    if errors > 0 {
        failures.insert(0, format!("{errors} errors"));
    }
    let rss = Trend::fit(&second_half(&seconds, |s| s.rss_kib));
    let fds = Trend::fit(&second_half(&seconds, |s| s.fds));
    #[allow(clippy::cast_precision_loss)]
    let mean_rss =
        seconds.iter().map(|s| s.rss_kib as f64).sum::<f64>() / seconds.len().max(1) as f64;
    // Floors: 2 % of the memory (allocator arenas grow in steps) and 4 descriptors (the
    // connections in flight at a sample).
    if rss.is_some_and(|trend| trend.leaks(mean_rss * 0.02)) {
        failures.push(format!("memory grows: {rss:?} KiB over the second half"));
    }
    if fds.is_some_and(|trend| trend.leaks(4.0)) {
        failures.push(format!(
            "file descriptors grow: {fds:?} over the second half"
        ));
    }
    all_latencies.sort_by(f64::total_cmp);
    let outcome = Outcome {
        adapter: adapter.to_owned(),
        scheme,
        seconds,
        scrapes: shared.scrapes.load(Ordering::Relaxed),
        app_requests: app_ok + app_missing,
        half_closed: shared.half_closed.load(Ordering::Relaxed),
        slow_clients: shared.slow_clients.load(Ordering::Relaxed),
        connections: shared.connections.load(Ordering::Relaxed),
        latency_ms: [
            percentile(&all_latencies, 50.0),
            percentile(&all_latencies, 99.0),
            all_latencies.last().copied().unwrap_or(0.0),
        ],
        rss,
        fds,
        failures,
    };
    std::fs::write(
        out.join(format!("{adapter}-{}.tsv", scheme.name())),
        outcome.tsv(),
    )
    .map_err(|error| format!("cannot write the series into {}: {error}", out.display()))?;
    Ok(outcome)
}

#[cfg(test)]
mod tests {
    use super::Trend;

    #[test]
    fn a_steady_climb_is_a_leak_and_noise_is_not() {
        let climb: Vec<(f64, f64)> = (0..100)
            .map(|t| (f64::from(t), 1000.0 + f64::from(t) * 2.0 + f64::from(t % 3)))
            .collect();
        assert!(Trend::fit(&climb).unwrap().leaks(20.0));
        let flat: Vec<(f64, f64)> = (0..100)
            .map(|t| (f64::from(t), 1000.0 + f64::from((t * 37) % 11)))
            .collect();
        assert!(!Trend::fit(&flat).unwrap().leaks(20.0));
        // One step up (an allocator arena) is not a trend the noise cannot explain
        // when it is below the floor.
        let step: Vec<(f64, f64)> = (0..100)
            .map(|t| (f64::from(t), if t < 50 { 1000.0 } else { 1010.0 }))
            .collect();
        assert!(!Trend::fit(&step).unwrap().leaks(20.0));
        assert_eq!(Trend::fit(&climb[..2]), None);
    }
}
