//! The independent HTTP client: ureq 3 (not hyper, no proxies from the environment),
//! plus raw-socket helpers for requests no well-behaved client sends.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// How long any client operation may take before the test fails.
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP response as the suite inspects it.
#[derive(Clone, Debug)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Headers, names lowercase, in order.
    pub headers: Vec<(String, String)>,
    /// The body bytes as received (not decompressed).
    pub body: Vec<u8>,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, value)| value.as_str())
    }

    /// The body as UTF-8 (lossy).
    #[must_use]
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A ureq agent that ignores `*_PROXY` variables, reports 4xx/5xx as replies and
/// gives up after [`TIMEOUT`].
#[must_use]
pub fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .proxy(None)
        .http_status_as_error(false)
        .timeout_global(Some(TIMEOUT))
        .build()
        .into()
}

/// Sends `method url` with `headers` through ureq.
///
/// # Panics
///
/// When the request fails at the transport level (a test failure).
#[must_use]
pub fn request(method: &str, url: &str, headers: &[(&str, &str)]) -> Reply {
    let mut builder = ureq::http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let request = builder.body(()).expect("a valid request");
    let mut response = agent()
        .run(request)
        .unwrap_or_else(|error| panic!("{method} {url}: {error}"));
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_vec()
        .unwrap_or_else(|error| panic!("{method} {url} body: {error}"));
    Reply {
        status: response.status().as_u16(),
        headers,
        body,
    }
}

/// `GET url` with `headers`.
#[must_use]
pub fn get(url: &str, headers: &[(&str, &str)]) -> Reply {
    request("GET", url, headers)
}

/// Connects to `address` with [`TIMEOUT`] as connect, read and write timeout.
///
/// # Panics
///
/// When the connection fails.
#[must_use]
pub fn connect(address: SocketAddr) -> TcpStream {
    let stream = TcpStream::connect_timeout(&address, TIMEOUT)
        .unwrap_or_else(|error| panic!("connect to {address}: {error}"));
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(TIMEOUT))
        .expect("write timeout");
    stream
}

/// Writes `request` raw and reads until the server closes the connection (or a
/// read error such as a reset, which also ends the exchange).
///
/// # Panics
///
/// When the write fails.
#[must_use]
pub fn raw(address: SocketAddr, request: &[u8]) -> Vec<u8> {
    let mut stream = connect(address);
    stream.write_all(request).expect("write the request");
    read_to_close(&mut stream)
}

/// Reads until end of stream or a read error.
pub fn read_to_close(stream: &mut TcpStream) -> Vec<u8> {
    let mut received = Vec::new();
    let mut buffer = [0; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => return received,
            Ok(n) => received.extend_from_slice(&buffer[..n]),
        }
    }
}

/// Parses one raw HTTP/1.1 response: status, lowercase headers, and the bytes after
/// the head (everything left, not limited to `Content-Length`).
///
/// # Panics
///
/// When `bytes` has no complete response head.
#[must_use]
pub fn parse(bytes: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(bytes);
    let head_end = text
        .find("\r\n\r\n")
        .unwrap_or_else(|| panic!("no response head in {text:?}"));
    let mut lines = text[..head_end].split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("bad status line {status_line:?}"));
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    Reply {
        status,
        headers,
        body: bytes[head_end + 4..].to_vec(),
    }
}
