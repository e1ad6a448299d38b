//! A scripted HTTP receiver for the pushers' fault tests: a std `TcpListener` on an
//! ephemeral loopback port, answering each request as the test's script says (a
//! status with a body and `Retry-After`, no answer at all, a closed connection) and
//! recording what arrived, with the time it arrived.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// How the receiver answers one request.
#[derive(Clone, Debug)]
pub enum Reply {
    /// A status, a `Retry-After` in seconds, a body.
    Status(u16, Option<u64>, &'static str),
    /// Reads the request and never answers (until the receiver stops).
    Silence,
    /// Closes the connection after reading part of the request head.
    Close,
}

/// One request as it arrived.
#[derive(Clone, Debug)]
pub struct Received {
    /// The method.
    pub method: String,
    /// The request target.
    pub path: String,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body (empty for a closed connection).
    pub body: Vec<u8>,
    /// When it arrived.
    pub at: Instant,
}

impl Received {
    /// The value of header `name` (lowercase).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

type Script = Box<dyn Fn(usize) -> Reply + Send + Sync>;

struct Shared {
    received: Mutex<(Vec<Received>, bool)>,
    changed: Condvar,
}

/// The receiver; stops (and closes every silent connection) when dropped.
pub struct Receiver {
    url: String,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
    port: u16,
}

impl Receiver {
    /// Starts a receiver answering request `n` (from 0) with `script(n)`.
    ///
    /// # Panics
    ///
    /// When no loopback port can be bound.
    pub fn start(script: impl Fn(usize) -> Reply + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds a loopback port");
        let port = listener.local_addr().expect("has an address").port();
        let shared = Arc::new(Shared {
            received: Mutex::new((Vec::new(), false)),
            changed: Condvar::new(),
        });
        let script: Arc<Script> = Arc::new(Box::new(script));
        let accept = Arc::clone(&shared);
        let thread = thread::spawn(move || {
            let mut handlers = Vec::new();
            for (n, stream) in listener.incoming().enumerate() {
                if accept.received.lock().expect("not poisoned").1 {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (shared, script) = (Arc::clone(&accept), Arc::clone(&script));
                handlers.push(thread::spawn(move || serve(stream, &shared, script(n))));
            }
            for handler in handlers {
                let _ = handler.join();
            }
        });
        Self {
            url: format!("http://127.0.0.1:{port}/api/v1/write"),
            shared,
            thread: Some(thread),
            port,
        }
    }

    /// The URL to push to.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The receiver's base URL, `http://127.0.0.1:<port>` (for an OTLP endpoint, to which
    /// the exporter appends its path).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Waits until `n` requests arrived (or `deadline` passed) and returns them all.
    #[must_use]
    pub fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Received> {
        let guard = self.shared.received.lock().expect("not poisoned");
        let (guard, _) = self
            .shared
            .changed
            .wait_timeout_while(guard, deadline, |(received, _)| received.len() < n)
            .expect("not poisoned");
        guard.0.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.shared.received.lock().expect("not poisoned").1 = true;
        self.shared.changed.notify_all();
        // Wakes the accept loop so it sees the stop flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(stream: TcpStream, shared: &Shared, reply: Reply) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut line = String::new();
    if reader.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    if matches!(reply, Reply::Close) {
        let _ = stream.shutdown(Shutdown::Both);
        record(shared, method, path, Vec::new(), Vec::new());
        return;
    }
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let length = headers
        .iter()
        .find(|(n, _)| n == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    record(shared, method, path, headers, body);
    match reply {
        Reply::Status(status, retry_after, text) => {
            let retry = retry_after.map_or(String::new(), |s| format!("retry-after: {s}\r\n"));
            let answer = format!(
                "HTTP/1.1 {status} X\r\ncontent-length: {}\r\n{retry}connection: close\r\n\r\n{text}",
                text.len()
            );
            let _ = (&stream).write_all(answer.as_bytes());
        }
        Reply::Silence => {
            let guard = shared.received.lock().expect("not poisoned");
            drop(
                shared
                    .changed
                    .wait_while(guard, |(_, stopped)| !*stopped)
                    .expect("not poisoned"),
            );
        }
        Reply::Close => {}
    }
}

fn record(
    shared: &Shared,
    method: String,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) {
    shared
        .received
        .lock()
        .expect("not poisoned")
        .0
        .push(Received {
            method,
            path,
            headers,
            body,
            at: Instant::now(),
        });
    shared.changed.notify_all();
}
