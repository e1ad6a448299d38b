//! The HTTP exposure protocol, sans I/O: from a request head to a response.
//!
//! Every adapter (`torchlight-tokio`, `torchlight-smol`, `torchlight-async-std`) serves
//! metrics with the same rules because they all call this module; an adapter only
//! accepts connections, parses HTTP with hyper and moves bytes.
//!
//! | request | response |
//! |---|---|
//! | `GET`/`HEAD /metrics` | 200, the exposition in the negotiated [`Format`], gzip if asked for |
//! | `GET`/`HEAD /` | 200, `text/html`: a link to `/metrics` (the cheap health-check target) |
//! | another method on those paths | 405 with `Allow: GET, HEAD` |
//! | any other path | 404 |
//! | anything without valid credentials, where basic authentication is required ([`Route::authorize`]) | 401 with `WWW-Authenticate` |
//!
//! A `HEAD` response has the headers (and `Content-Length`) of the `GET` response and no
//! body.
//!
//! Answering is split in two so that an adapter can keep its async runtime responsive:
//! [`Request::route`] is cheap (header parsing only); [`Route::respond`] encodes the
//! registry, which is CPU work proportional to the number of series
//! ([`Route::encodes`] says whether it will), so adapters run it on a blocking-friendly
//! thread. [`Limits`] holds the resource limits every adapter applies.
//!
//! ```
//! use torchlight::exposure::Request;
//! use torchlight::{Counter, Metric, Registry};
//!
//! static HITS: Metric<Counter> = Metric::new("hits", "Hits.", Counter::new());
//! let registry = Registry::new();
//! registry.register(&HITS)?;
//!
//! // What Prometheus 2.x sends by default.
//! let accept = "application/openmetrics-text;version=1.0.0,\
//!     application/openmetrics-text;version=0.0.1;q=0.75,\
//!     text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
//! let route = Request::new("GET", "/metrics").with_accept(Some(accept)).route();
//! assert!(route.encodes());
//! let response = route.respond(&registry);
//! assert_eq!(response.status(), 200);
//! assert_eq!(
//!     response.header("content-type"),
//!     Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
//! );
//! assert_eq!(response.body(), b"# HELP hits Hits.\n# TYPE hits counter\nhits_total 0.0\n# EOF\n");
//!
//! let response = Request::new("POST", "/metrics").route().respond(&registry);
//! assert_eq!((response.status(), response.header("allow")), (405, Some("GET, HEAD")));
//! # Ok::<(), torchlight::RegisterError>(())
//! ```

use core::time::Duration;
use std::io::Write as _;
use std::vec::Vec;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::encoding::Format;
use crate::registry::Registry;

mod auth;
mod error;
mod negotiation;
mod options;
mod tls;

pub use auth::{Authenticate, CHALLENGE, Credentials};
pub use error::StartError;
pub use negotiation::{accepts_gzip, negotiate};
pub use options::{Options, ServedRegistry};
pub use tls::Tls;

/// The HTML of `GET /`, byte for byte what Python's `prometheus_async` serves (its
/// `_cheap` handler): a page a health check can fetch without encoding any metric.
pub const PAGE: &str = r#"<html><body><a href="/metrics">Metrics</a></body></html>"#;

/// The methods the two routes allow, as sent in `Allow` on a 405.
pub const ALLOW: &str = "GET, HEAD";

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const TEXT_HTML: &str = "text/html; charset=utf-8";
/// The body of every 500: short, and the same whatever failed.
const INTERNAL_SERVER_ERROR: &str = "500: Internal Server Error";
/// Both negotiated headers change the body of `/metrics`, so caches must key on them.
const VARY: &str = "Accept, Accept-Encoding";

/// How much an exposure server lets one client take, identical on every adapter.
///
/// Every limit bounds the time or memory a misbehaving client can hold while other
/// scrapes keep being served. Start from [`Limits::DEFAULT`] (or `Limits::default()`)
/// and change what you need:
///
/// ```
/// use std::time::Duration;
/// use torchlight::exposure::Limits;
///
/// let limits = Limits::DEFAULT.with_header_read_timeout(Duration::from_secs(5));
/// assert_eq!(limits.header_read_timeout(), Duration::from_secs(5));
/// assert_eq!(limits.max_connections(), 128);
/// ```
///
/// # Slow clients
///
/// A server accepts every connection as it arrives, so each connection's
/// [header read timeout](Self::header_read_timeout) counts from when it connected. When
/// all [`max_connections`](Self::max_connections) slots are taken, the oldest connection
/// that is not inside a request (it has not sent a complete request head yet, or it is
/// kept alive between requests) is closed to make room. Connections that never finish
/// their head therefore cannot keep a complete request waiting: a new connection is
/// served at once unless every slot holds a request whose response is being made, and
/// then as soon as the first of those is answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    header_read_timeout: Duration,
    max_header_bytes: usize,
    max_connections: usize,
    shutdown_grace: Duration,
}

impl Limits {
    /// The defaults described on each getter.
    pub const DEFAULT: Self = Self {
        header_read_timeout: Duration::from_secs(10),
        max_header_bytes: 32 * 1024,
        max_connections: 128,
        shutdown_grace: Duration::from_secs(5),
    };

    /// How long a client may take to send a request head, counted from when it
    /// connected or, on a kept-alive connection, from the end of the previous
    /// response; then the connection is closed. This also closes idle kept-alive
    /// connections.
    ///
    /// Default 10 s: Prometheus' default `scrape_timeout`, after which a scraper has
    /// given up on the request anyway (and sends its whole head at once). For
    /// comparison, nginx's `client_header_timeout` defaults to 60 s, and Go's
    /// `net/http` server has no `ReadHeaderTimeout` unless one is set.
    #[must_use]
    pub const fn header_read_timeout(&self) -> Duration {
        self.header_read_timeout
    }

    /// Sets [`header_read_timeout`](Self::header_read_timeout).
    #[must_use]
    pub const fn with_header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// The largest request head (request line and headers) in bytes; a larger one gets
    /// `431 Request Header Fields Too Large` and the connection is closed.
    ///
    /// Default 32 KiB, nginx's `large_client_header_buffers 4 8k`; Prometheus sends
    /// about 300 bytes. (Go's `net/http` allows 1 MiB, `DefaultMaxHeaderBytes`.)
    #[must_use]
    pub const fn max_header_bytes(&self) -> usize {
        self.max_header_bytes
    }

    /// Sets [`max_header_bytes`](Self::max_header_bytes).
    #[must_use]
    pub const fn with_max_header_bytes(mut self, bytes: usize) -> Self {
        self.max_header_bytes = bytes;
        self
    }

    /// Connections served at once (at least one). When all are taken, a new connection
    /// takes the slot of the oldest idle one (see [Slow clients](Self#slow-clients)).
    ///
    /// Default 128: a few Prometheus replicas and health checkers need a handful, and
    /// 128 descriptors are a small share of the usual 1024 per process (`ulimit -n`).
    #[must_use]
    pub const fn max_connections(&self) -> usize {
        self.max_connections
    }

    /// Sets [`max_connections`](Self::max_connections).
    #[must_use]
    pub const fn with_max_connections(mut self, connections: usize) -> Self {
        self.max_connections = connections;
        self
    }

    /// How long `close()` lets in-flight scrapes finish before dropping their
    /// connections. Default 5 s, half of Prometheus' default 10 s `scrape_timeout`.
    #[must_use]
    pub const fn shutdown_grace(&self) -> Duration {
        self.shutdown_grace
    }

    /// Sets [`shutdown_grace`](Self::shutdown_grace).
    #[must_use]
    pub const fn with_shutdown_grace(mut self, grace: Duration) -> Self {
        self.shutdown_grace = grace;
        self
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The head of an HTTP request, as far as the exposure protocol reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    method: &'a str,
    path: &'a str,
    accept: Option<&'a str>,
    accept_encoding: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request for `path` (a query string, if still attached, is ignored) with
    /// `method` (case-sensitive, as HTTP defines methods: `GET`, `HEAD`, …).
    #[must_use]
    pub const fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            accept: None,
            accept_encoding: None,
        }
    }

    /// Sets the `Accept` header's value (several header lines joined with `,`).
    #[must_use]
    pub const fn with_accept(mut self, accept: Option<&'a str>) -> Self {
        self.accept = accept;
        self
    }

    /// Sets the `Accept-Encoding` header's value (several lines joined with `,`).
    #[must_use]
    pub const fn with_accept_encoding(mut self, accept_encoding: Option<&'a str>) -> Self {
        self.accept_encoding = accept_encoding;
        self
    }

    /// Decides what to answer: routing and content negotiation, no encoding yet.
    #[must_use]
    pub fn route(&self) -> Route {
        let path = self.path.split('?').next().unwrap_or_default();
        let head = self.method == "HEAD";
        let allowed = head || self.method == "GET";
        let target = match (path, allowed) {
            ("/metrics", true) => Target::Exposition {
                format: negotiate(self.accept),
                gzip: accepts_gzip(self.accept_encoding),
            },
            ("/", true) => Target::Page,
            ("/metrics" | "/", false) => Target::MethodNotAllowed,
            _ => Target::NotFound,
        };
        Route { target, head }
    }
}

/// What a request asked for, once routed and negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// The metrics, in `format`, gzip-compressed if `gzip`.
    Exposition {
        /// The negotiated exposition format.
        format: Format,
        /// Whether the body is sent with `Content-Encoding: gzip`.
        gzip: bool,
    },
    /// The small HTML page at `/`.
    Page,
    /// A path that does not exist: 404.
    NotFound,
    /// A method other than `GET` or `HEAD` on an existing path: 405.
    MethodNotAllowed,
    /// Missing or wrong credentials where basic authentication is required: 401 with
    /// `WWW-Authenticate: `[`CHALLENGE`] (see [`Route::authorize`]).
    Unauthorized,
}

/// A routed request: what to answer, and whether without a body (`HEAD`).
///
/// `Route` is `Copy + Send + 'static`, so it can be moved to a blocking thread for
/// [`respond`](Self::respond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    target: Target,
    head: bool,
}

impl Route {
    /// What the request asked for.
    #[must_use]
    pub const fn target(&self) -> Target {
        self.target
    }

    /// Whether the request was a `HEAD`: the response has headers and no body.
    #[must_use]
    pub const fn is_head(&self) -> bool {
        self.head
    }

    /// This route if `credentials` are valid for `users`, otherwise a 401 asking for
    /// them: where a server requires basic authentication, every request goes through
    /// here before it is answered, whatever its path or method. `users.verify` may be
    /// slow (bcrypt), so call this where blocking is allowed.
    ///
    /// ```
    /// use torchlight::exposure::{Authenticate, CHALLENGE, Credentials, Request, Target};
    ///
    /// #[derive(Debug)]
    /// struct Only(&'static str, &'static str);
    /// impl Authenticate for Only {
    ///     fn verify(&self, user: &str, password: &str) -> bool {
    ///         (user, password) == (self.0, self.1)
    ///     }
    /// }
    ///
    /// let users = Only("prom", "secret");
    /// let route = Request::new("GET", "/metrics").route();
    /// let given = Credentials::parse("Basic cHJvbTpzZWNyZXQ="); // prom:secret
    /// assert_eq!(route.authorize(given.as_ref(), &users), route);
    /// let refused = route.authorize(None, &users);
    /// assert_eq!(refused.target(), Target::Unauthorized);
    /// let response = refused.respond(&torchlight::REGISTRY);
    /// assert_eq!((response.status(), response.header("www-authenticate")), (401, Some(CHALLENGE)));
    /// ```
    #[must_use]
    pub fn authorize(self, credentials: Option<&Credentials>, users: &dyn Authenticate) -> Self {
        match credentials {
            Some(credentials) if users.verify(credentials.user(), credentials.password()) => self,
            _ => Self {
                target: Target::Unauthorized,
                head: self.head,
            },
        }
    }

    /// Whether [`respond`](Self::respond) will encode the registry (work that grows with
    /// the number of series; run it where blocking is allowed).
    #[must_use]
    pub const fn encodes(&self) -> bool {
        matches!(self.target, Target::Exposition { .. })
    }

    /// Builds the response, encoding `registry` if the route is the exposition.
    ///
    /// Never fails: a metric whose [`Collect`](crate::Collect) impl returns an error
    /// gives a 500 response.
    #[must_use]
    pub fn respond(self, registry: &Registry) -> Response {
        let mut response = match self.target {
            Target::Exposition { format, gzip } => match exposition(registry, format, gzip) {
                Some(body) => {
                    let mut headers = Vec::with_capacity(3);
                    headers.push(("content-type", format.content_type()));
                    if gzip {
                        headers.push(("content-encoding", "gzip"));
                    }
                    headers.push(("vary", VARY));
                    Response::new(200, headers, body)
                }
                None => Response::plain(500, INTERNAL_SERVER_ERROR),
            },
            Target::Page => Response::new(
                200,
                std::vec![("content-type", TEXT_HTML)],
                PAGE.as_bytes().to_vec(),
            ),
            Target::NotFound => Response::plain(404, "404: Not Found"),
            Target::MethodNotAllowed => {
                let mut response = Response::plain(405, "405: Method Not Allowed");
                response.headers.push(("allow", ALLOW));
                response
            }
            Target::Unauthorized => {
                let mut response = Response::plain(401, "401: Unauthorized");
                response.headers.push(("www-authenticate", CHALLENGE));
                response
            }
        };
        if self.head {
            response.body = Vec::new();
        }
        response
    }
}

/// An HTTP response to send: status, headers, body.
///
/// Header names are lowercase. `Content-Length` is not among the headers: send
/// [`content_length`](Self::content_length), which for a `HEAD` response is the length
/// the `GET` body would have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    /// Invariant: the length of the body a `GET` gets (the body's own length unless the
    /// body was dropped for `HEAD`).
    content_length: usize,
}

impl Response {
    fn new(status: u16, headers: Vec<(&'static str, &'static str)>, body: Vec<u8>) -> Self {
        Self {
            status,
            headers,
            content_length: body.len(),
            body,
        }
    }

    fn plain(status: u16, body: &str) -> Self {
        Self::new(
            status,
            std::vec![("content-type", TEXT_PLAIN)],
            body.as_bytes().to_vec(),
        )
    }

    /// The answer to `route` when building its response failed outside the protocol
    /// (a collector panicked instead of returning an error): the same 500, with the
    /// same short body, that a failing collector gives.
    ///
    /// ```
    /// use torchlight::exposure::{Request, Response};
    ///
    /// let response = Response::internal_server_error(Request::new("GET", "/metrics").route());
    /// assert_eq!((response.status(), response.body()), (500, &b"500: Internal Server Error"[..]));
    /// let head = Response::internal_server_error(Request::new("HEAD", "/metrics").route());
    /// assert_eq!((head.body(), head.content_length()), (&b""[..], 26));
    /// ```
    #[must_use]
    pub fn internal_server_error(route: Route) -> Self {
        let mut response = Self::plain(500, INTERNAL_SERVER_ERROR);
        if route.head {
            response.body = Vec::new();
        }
        response
    }

    /// The status code.
    #[must_use]
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// The headers, lowercase names, in the order to send them.
    #[must_use]
    pub fn headers(&self) -> &[(&'static str, &'static str)] {
        &self.headers
    }

    /// The value of header `name` (lowercase), if set.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'static str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| *value)
    }

    /// The value for `Content-Length`.
    #[must_use]
    pub const fn content_length(&self) -> usize {
        self.content_length
    }

    /// The body (empty for `HEAD`).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body.
    #[must_use]
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// Encodes `registry`, compressed if `gzip`; `None` if a collector failed.
fn exposition(registry: &Registry, format: Format, gzip: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    registry.encode_to(&mut body, format).ok()?;
    if !gzip {
        return Some(body);
    }
    // Level 1: exposition text is repetitive, so the fastest level already shrinks it
    // several times, at a fraction of the default level's CPU time per scrape.
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    // Writing into a `Vec` cannot fail; `ok()?` keeps that an error path, not a panic.
    encoder.write_all(&body).ok()?;
    encoder.finish().ok()
}
