//! [`Flag`], a flag naming the address a server listens on, and [`ListenError`], a
//! failure to start that server, tied to the flag.

use std::error::Error;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

/// `127.0.0.1:port`, as a constant (the examples listen on loopback unless told otherwise).
pub const fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// A `--name ADDR` flag: where one of the program's servers listens, with a default.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    name: &'static str,
    default: SocketAddr,
    listener: &'static str,
}

impl Flag {
    /// The flag `name` (with its dashes: `--metrics-addr`) sets where `listener` (`the
    /// metrics server`, words that fit "where … listens") listens; `default` when absent.
    pub const fn new(name: &'static str, default: SocketAddr, listener: &'static str) -> Self {
        Self {
            name,
            default,
            listener,
        }
    }

    /// The flag as typed, `--metrics-addr`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// The address used when the flag is not given.
    pub const fn default_address(&self) -> SocketAddr {
        self.default
    }

    /// What listens on the flag's address, `the metrics server`.
    pub const fn listener(&self) -> &'static str {
        self.listener
    }

    /// Ties `source`, a failure to start the listener on `address` (the address this
    /// flag gave), to the flag, so the report says which flag changes the address.
    pub fn blame(
        &self,
        address: SocketAddr,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> ListenError {
        ListenError {
            flag: *self,
            address,
            source: source.into(),
        }
    }
}

/// A server could not start on the address a [`Flag`] gave (see [`Flag::blame`]). Its
/// message names the server, the address and the flag; the failure itself is its
/// `source`, which [`report`](crate::report) prints on the next line.
#[derive(Debug)]
pub struct ListenError {
    flag: Flag,
    address: SocketAddr,
    source: Box<dyn Error + Send + Sync>,
}

impl ListenError {
    /// The flag whose address was used.
    pub fn flag(&self) -> &Flag {
        &self.flag
    }

    /// The address that was tried.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl fmt::Display for ListenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cannot start on {} ({} sets the address)",
            self.flag.listener, self.address, self.flag.name
        )
    }
}

impl Error for ListenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_listener_the_address_and_the_flag() {
        let flag = Flag::new("--app-addr", loopback(8080), "the app");
        let error = flag.blame(loopback(9), std::io::Error::other("taken"));
        assert_eq!(
            error.to_string(),
            "the app cannot start on 127.0.0.1:9 (--app-addr sets the address)"
        );
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("taken")
        );
        assert_eq!(error.address(), loopback(9));
        assert_eq!(error.flag().name(), "--app-addr");
    }
}
