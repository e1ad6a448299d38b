//! How much one client may take: [`Limits`], the same on every runtime and in both modes.
//!
//! The limits belong to the server (not the exposure protocol): they bound sockets,
//! time and memory, which only a server holds. Each default names its source.

use std::time::Duration;

/// How much an exposure server lets one client take, identical on every adapter.
///
/// Every limit bounds the time or memory a misbehaving client can hold while other
/// scrapes keep being served. Start from [`Limits::DEFAULT`] (or `Limits::default()`)
/// and change what you need:
///
/// ```
/// use std::time::Duration;
/// use torchlight_smol::Limits;
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
