//! Why a server could not start: [`StartError`].

use std::fmt;
use std::io;
use std::net::SocketAddr;

/// Why `start_http_server` or `start_http_server_in_thread` failed. Nothing is left
/// running and no port is held when this is returned.
#[derive(Debug)]
#[non_exhaustive]
pub enum StartError {
    /// The listening socket could not be bound: the port is in use, the address is not
    /// one of this host's, or the port needs privileges.
    Bind {
        /// The address that was asked for.
        address: SocketAddr,
        /// What the OS said.
        source: io::Error,
    },
    /// The server's thread or its runtime could not be started (threaded mode only).
    Thread {
        /// What the OS said.
        source: io::Error,
    },
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bind { address, source } => write!(
                f,
                "cannot listen on {address}: {source}; choose another address or port \
                 (port 0 picks a free one)"
            ),
            Self::Thread { source } => write!(
                f,
                "cannot start the metrics server thread: {source}; the process may be out of \
                 threads or memory"
            ),
        }
    }
}

impl std::error::Error for StartError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Bind { source, .. } | Self::Thread { source } => Some(source),
        }
    }
}
