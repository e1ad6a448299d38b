//! A recording TCP proxy, to see on the wire what a real scraper and a server said to
//! each other: [`Proxy::start`] listens on `127.0.0.1` and an ephemeral port, forwards
//! every connection to one upstream address byte for byte, and keeps the first request
//! head and the first response head of each connection (plus the response body's first
//! bytes, to tell gzip from plain text).
//!
//! The end-to-end tests put one in front of each server that Prometheus scrapes, so
//! "the scrape negotiated OpenMetrics and used gzip" is read from Prometheus's actual
//! `Accept` / `Accept-Encoding` and the server's actual `Content-Type` /
//! `Content-Encoding`, with no test hook in the adapters.
//!
//! Only the first exchange of a connection is parsed: following a keep-alive stream
//! would mean parsing bodies, and Prometheus sends the same request every time.
//! Dropping the proxy stops its threads and closes every connection, also when a test
//! fails.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::{self, JoinHandle};
use std::time::Duration;

/// How many bytes of a response body are kept after its head (gzip's magic number).
const BODY_PREFIX: usize = 2;

/// The most bytes a head may take before capture gives up on it.
const MAX_HEAD: usize = 64 * 1024;

/// How long the acceptor sleeps when no connection is waiting.
const ACCEPT_IDLE: Duration = Duration::from_millis(10);

/// How long connecting to the upstream may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// A request or response head, as it crossed the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Head {
    /// `GET /metrics HTTP/1.1` or `HTTP/1.1 200 OK`.
    pub start_line: String,
    /// Header names (lowercase) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The first bytes after the head: up to two of a response body, none of a
    /// request's.
    pub body_prefix: Vec<u8>,
}

impl Head {
    /// The first value of header `name` (lowercase).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(header, _)| header == name)
            .map(|(_, value)| value.as_str())
    }
}

/// One connection's first request and first response, each once complete.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Exchange {
    /// The client's first request head.
    pub request: Option<Head>,
    /// The upstream's first response head.
    pub response: Option<Head>,
}

/// What the acceptor and the pumps share with the handle.
#[derive(Default)]
struct Shared {
    /// One entry per accepted connection, in accept order.
    exchanges: Mutex<Vec<Exchange>>,
    /// A clone of every stream, so dropping the proxy can shut them all down.
    streams: Mutex<Vec<TcpStream>>,
    /// The pump threads, joined on drop.
    pumps: Mutex<Vec<JoinHandle<()>>>,
}

/// A lock that a panicking thread cannot make unusable: the data are plain records.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A running proxy; stopped (threads joined, connections closed) on drop.
pub struct Proxy {
    address: SocketAddr,
    upstream: SocketAddr,
    stop: Arc<AtomicBool>,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl Proxy {
    /// Listens on `127.0.0.1` and an ephemeral port, forwarding to `upstream`.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound or no thread started.
    #[must_use]
    pub fn start(upstream: SocketAddr) -> Self {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind an ephemeral loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let address = listener.local_addr().expect("the listener's address");
        let stop = Arc::new(AtomicBool::new(false));
        let shared = Arc::new(Shared::default());
        let acceptor = thread::Builder::new()
            .name("proxy-accept".into())
            .spawn({
                let (stop, shared) = (Arc::clone(&stop), Arc::clone(&shared));
                move || accept(&listener, upstream, &stop, &shared)
            })
            .expect("start the proxy's accept thread");
        Self {
            address,
            upstream,
            stop,
            shared,
            acceptor: Some(acceptor),
        }
    }

    /// The address clients connect to.
    #[must_use]
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The address it forwards to.
    #[must_use]
    pub fn upstream(&self) -> SocketAddr {
        self.upstream
    }

    /// Every connection so far, in accept order.
    #[must_use]
    pub fn exchanges(&self) -> Vec<Exchange> {
        lock(&self.shared.exchanges).clone()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        // ORDERING: Relaxed: the flag publishes nothing else; joining the acceptor
        // below is what orders everything after it.
        self.stop.store(true, Ordering::Relaxed);
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        // The acceptor is gone, so no stream or pump is added after this.
        for stream in lock(&self.shared.streams).drain(..) {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let pumps: Vec<_> = lock(&self.shared.pumps).drain(..).collect();
        for pump in pumps {
            let _ = pump.join();
        }
    }
}

/// The acceptor: polls the non-blocking listener until told to stop.
fn accept(listener: &TcpListener, upstream: SocketAddr, stop: &AtomicBool, shared: &Arc<Shared>) {
    // ORDERING: Relaxed: see `Drop for Proxy`.
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((client, _)) => connect(client, upstream, shared),
            // `WouldBlock` when idle; other errors (a reset before accept) are retried.
            Err(_) => thread::sleep(ACCEPT_IDLE),
        }
    }
}

/// Connects one accepted client to the upstream and starts its two pumps.
fn connect(client: TcpStream, upstream: SocketAddr, shared: &Arc<Shared>) {
    let Ok(server) = TcpStream::connect_timeout(&upstream, CONNECT_TIMEOUT) else {
        // The upstream is down: the client sees its connection closed, as if it had
        // connected to the upstream itself and been refused.
        let _ = client.shutdown(Shutdown::Both);
        return;
    };
    let streams = (|| {
        client.set_nonblocking(false)?;
        Ok::<_, std::io::Error>((
            client.try_clone()?,
            client.try_clone()?,
            server.try_clone()?,
            server.try_clone()?,
        ))
    })();
    let Ok((client_read, client_keep, server_read, server_keep)) = streams else {
        let _ = client.shutdown(Shutdown::Both);
        let _ = server.shutdown(Shutdown::Both);
        return;
    };
    let index = {
        let mut exchanges = lock(&shared.exchanges);
        exchanges.push(Exchange::default());
        exchanges.len() - 1
    };
    lock(&shared.streams).extend([client_keep, server_keep]);
    let requests = Capture::new(0, {
        let shared = Arc::clone(shared);
        move |head| lock(&shared.exchanges)[index].request = Some(head)
    });
    let responses = Capture::new(BODY_PREFIX, {
        let shared = Arc::clone(shared);
        move |head| lock(&shared.exchanges)[index].response = Some(head)
    });
    for (from, to, capture) in [
        (client_read, server, requests),
        (server_read, client, responses),
    ] {
        let pump = thread::Builder::new()
            .name("proxy-pump".into())
            .spawn(move || pump(from, to, capture))
            .expect("start a proxy pump thread");
        lock(&shared.pumps).push(pump);
    }
}

/// Copies `from` to `to` until either side ends, feeding `capture` each chunk before
/// it is forwarded (so a head is recorded before the peer can act on it).
fn pump(mut from: TcpStream, mut to: TcpStream, mut capture: Capture) {
    let mut buffer = vec![0; 16 * 1024];
    loop {
        match from.read(&mut buffer) {
            Ok(0) => {
                // A half-close passes through as a half-close.
                let _ = to.shutdown(Shutdown::Write);
                break;
            }
            Ok(n) => {
                capture.feed(&buffer[..n]);
                if to.write_all(&buffer[..n]).is_err() {
                    let _ = from.shutdown(Shutdown::Both);
                    break;
                }
            }
            Err(_) => {
                let _ = to.shutdown(Shutdown::Both);
                break;
            }
        }
    }
    capture.finish();
}

/// Collects a stream's first head (and `body_prefix` bytes after it) and hands it to
/// `sink` once, as soon as it is complete, or at the end of the stream if the body
/// was shorter.
struct Capture {
    bytes: Vec<u8>,
    body_prefix: usize,
    sink: Option<Box<dyn FnOnce(Head) + Send>>,
}

impl Capture {
    fn new(body_prefix: usize, sink: impl FnOnce(Head) + Send + 'static) -> Self {
        Self {
            bytes: Vec::new(),
            body_prefix,
            sink: Some(Box::new(sink)),
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        if self.sink.is_none() {
            return;
        }
        self.bytes.extend_from_slice(chunk);
        match head_end(&self.bytes) {
            Some(end) if self.bytes.len() >= end + self.body_prefix => self.finish(),
            None if self.bytes.len() > MAX_HEAD => self.sink = None,
            _ => {}
        }
    }

    fn finish(&mut self) {
        let (Some(end), Some(sink)) = (head_end(&self.bytes), self.sink.take()) else {
            return;
        };
        let text = String::from_utf8_lossy(&self.bytes[..end - 4]);
        let mut lines = text.split("\r\n");
        let start_line = lines.next().unwrap_or_default().to_owned();
        let headers = lines
            .filter_map(|line| line.split_once(':'))
            .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
            .collect();
        let prefix_end = self.bytes.len().min(end + self.body_prefix);
        sink(Head {
            start_line,
            headers,
            body_prefix: self.bytes[end..prefix_end].to_vec(),
        });
    }
}

/// The index just past the head's blank line, if it has arrived.
fn head_end(bytes: &[u8]) -> Option<usize> {
    bytes
        .windows(4)
        .position(|window| window == b"\r\n\r\n")
        .map(|start| start + 4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_split_across_chunks_is_captured_once_with_the_body_prefix() {
        let captured = Arc::new(Mutex::new(Vec::new()));
        let mut capture = Capture::new(2, {
            let captured = Arc::clone(&captured);
            move |head| lock(&captured).push(head)
        });
        capture.feed(b"HTTP/1.1 200 OK\r\nContent-Encoding: gz");
        capture.feed(b"ip\r\n\r\n");
        assert!(lock(&captured).is_empty(), "waits for the body prefix");
        capture.feed(b"\x1f\x8b\x08rest");
        capture.feed(b"HTTP/1.1 200 OK\r\n\r\n");
        capture.finish();
        let captured = lock(&captured);
        assert_eq!(captured.len(), 1);
        assert_eq!(captured[0].start_line, "HTTP/1.1 200 OK");
        assert_eq!(captured[0].header("content-encoding"), Some("gzip"));
        assert_eq!(captured[0].body_prefix, b"\x1f\x8b");
    }

    #[test]
    fn a_stream_without_a_complete_head_captures_nothing() {
        let captured = Arc::new(Mutex::new(Vec::new()));
        let mut capture = Capture::new(0, {
            let captured = Arc::clone(&captured);
            move |head: Head| lock(&captured).push(head)
        });
        capture.feed(b"GET / HTTP/1.1\r\nHost: x\r\n");
        capture.finish();
        assert!(lock(&captured).is_empty());
    }

    #[test]
    fn forwards_both_ways_records_the_heads_and_stops_on_drop() {
        let upstream = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).expect("bind");
        let upstream_address = upstream.local_addr().expect("address");
        let server = thread::spawn(move || {
            let (mut stream, _) = upstream.accept().expect("accept");
            let mut request = [0; 1024];
            let mut received = Vec::new();
            while head_end(&received).is_none() {
                let n = stream.read(&mut request).expect("read");
                assert_ne!(n, 0, "the request arrives whole");
                received.extend_from_slice(&request[..n]);
            }
            stream
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Test: yes\r\n\r\nhello")
                .expect("write");
            // The upstream keeps its end open: only the proxy's drop can end the stream.
            (received, stream)
        });
        let proxy = Proxy::start(upstream_address);
        assert_eq!(proxy.upstream(), upstream_address);
        let mut client = TcpStream::connect(proxy.address()).expect("connect to the proxy");
        client
            .set_read_timeout(Some(Duration::from_secs(10)))
            .expect("timeout");
        client
            .write_all(b"GET /metrics HTTP/1.1\r\nAccept: text/plain\r\n\r\n")
            .expect("write");
        let mut response = Vec::new();
        let mut buffer = [0; 1024];
        while !response.ends_with(b"hello") {
            let n = client.read(&mut buffer).expect("read");
            assert_ne!(n, 0, "the response arrives whole");
            response.extend_from_slice(&buffer[..n]);
        }
        let (received, _open) = server.join().expect("the upstream thread");
        assert_eq!(
            received,
            b"GET /metrics HTTP/1.1\r\nAccept: text/plain\r\n\r\n"
        );
        let exchanges = proxy.exchanges();
        assert_eq!(exchanges.len(), 1);
        let request = exchanges[0].request.as_ref().expect("the request head");
        assert_eq!(request.start_line, "GET /metrics HTTP/1.1");
        assert_eq!(request.header("accept"), Some("text/plain"));
        let response_head = exchanges[0].response.as_ref().expect("the response head");
        assert_eq!(response_head.header("x-test"), Some("yes"));
        assert_eq!(response_head.body_prefix, b"he");
        drop(proxy);
        // The proxy closed its side: the client reads the end of the stream.
        assert_eq!(client.read(&mut buffer).unwrap_or(0), 0);
    }
}
