//! Why a server could not start: [`StartError`].

use std::fmt;
use std::io;
use std::net::SocketAddr;

use crate::discovery::DiscoveryError;

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
    /// The server listened on `address` but its service discovery refused or failed to
    /// register it (agent unreachable, no answer in time, a non-success status, an
    /// unspecified address without an advertised one). The port is released.
    Register {
        /// The address the server was listening on.
        address: SocketAddr,
        /// What the discovery said; its message names the agent and quotes its answer.
        source: DiscoveryError,
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
            Self::Register { address, source } => write!(
                f,
                "the metrics server on {address} was stopped because registering it \
                 failed: {source}"
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
            Self::Register { source, .. } => Some(source),
        }
    }
}
