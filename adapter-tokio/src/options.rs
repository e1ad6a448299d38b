//! What to serve and where: [`Options`] for `start_http_server`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use torchlight::Registry;
use torchlight::exposure::Limits;

/// Where and what a metrics server serves.
///
/// The defaults follow Python's `prometheus_async`: every IPv4 interface, an ephemeral
/// port chosen by the OS, and the process-wide [`torchlight::REGISTRY`].
///
/// ```
/// use std::net::Ipv6Addr;
/// use torchlight_tokio::Options;
///
/// let options = Options::new().address(Ipv6Addr::LOCALHOST).port(0);
/// assert_eq!(options.socket_address().to_string(), "[::1]:0");
/// ```
#[derive(Clone, Debug)]
pub struct Options {
    address: IpAddr,
    port: u16,
    registry: &'static Registry,
    advertised_address: Option<String>,
    limits: Limits,
}

impl Options {
    /// `0.0.0.0`, port 0, the global registry, [`Limits::DEFAULT`].
    #[must_use]
    pub fn new() -> Self {
        Self {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            registry: &torchlight::REGISTRY,
            advertised_address: None,
            limits: Limits::DEFAULT,
        }
    }

    /// The address to listen on (`127.0.0.1`, `::1`, `0.0.0.0`, …).
    #[must_use]
    pub fn address(mut self, address: impl Into<IpAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// The port to listen on; 0 lets the OS choose a free one (read it back with
    /// `MetricsServer::local_addr`).
    #[must_use]
    pub fn port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The registry to serve instead of [`torchlight::REGISTRY`].
    #[must_use]
    pub fn registry(mut self, registry: &'static Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The host (name or IP) under which others reach this server, when the bound
    /// address is not it (`0.0.0.0`, a container address behind NAT). Service
    /// discovery announces this address.
    #[must_use]
    pub fn advertised_address(mut self, host: impl Into<String>) -> Self {
        self.advertised_address = Some(host.into());
        self
    }

    /// Resource limits per client (timeouts, header size, connection count).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// The socket address to bind.
    #[must_use]
    pub fn socket_address(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    pub(crate) fn registry_ref(&self) -> &'static Registry {
        self.registry
    }

    pub(crate) fn advertised(&self) -> Option<&str> {
        self.advertised_address.as_deref()
    }

    pub(crate) fn limits_ref(&self) -> Limits {
        self.limits
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl From<SocketAddr> for Options {
    fn from(address: SocketAddr) -> Self {
        Self::new().address(address.ip()).port(address.port())
    }
}
