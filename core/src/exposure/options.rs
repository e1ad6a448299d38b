//! What to serve and where: [`Options`] for every adapter's `start_http_server`.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::string::String;
use std::sync::Arc;

use super::Limits;
use crate::discovery::ServiceDiscovery;
use crate::registry::Registry;

/// Where and what a metrics server serves.
///
/// The defaults follow Python's `prometheus_async`: every IPv4 interface, an ephemeral
/// port chosen by the OS, and the process-wide [`REGISTRY`](crate::REGISTRY), no service
/// discovery.
///
/// ```
/// use std::net::Ipv6Addr;
/// use torchlight::exposure::Options;
///
/// let options = Options::new().address(Ipv6Addr::LOCALHOST).port(0);
/// assert_eq!(options.socket_address().to_string(), "[::1]:0");
/// ```
#[derive(Clone)]
pub struct Options {
    address: IpAddr,
    port: u16,
    registry: &'static Registry,
    advertised_address: Option<String>,
    service_discovery: Option<Arc<dyn ServiceDiscovery>>,
    limits: Limits,
}

impl Options {
    /// `0.0.0.0`, port 0, the global registry, [`Limits::DEFAULT`].
    #[must_use]
    pub fn new() -> Self {
        Self {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            registry: &crate::REGISTRY,
            advertised_address: None,
            service_discovery: None,
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

    /// The registry to serve instead of [`REGISTRY`](crate::REGISTRY).
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

    /// Announces the server to `discovery` once it listens (Consul:
    /// `ConsulAgent::new().discovery(ConsulTransport)`), and withdraws it on close.
    ///
    /// A failed registration makes the start fail with `StartError::Register`. A server
    /// bound to `0.0.0.0` or `::` needs an [advertised address](Self::advertised_address)
    /// to register.
    #[must_use]
    pub fn service_discovery(mut self, discovery: Arc<dyn ServiceDiscovery>) -> Self {
        self.service_discovery = Some(discovery);
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

    /// The registry to serve.
    #[must_use]
    pub fn served_registry(&self) -> &'static Registry {
        self.registry
    }

    /// The host to register with service discovery instead of the bound address.
    #[must_use]
    pub fn advertised_host(&self) -> Option<&str> {
        self.advertised_address.as_deref()
    }

    /// The service discovery to register with, if any.
    #[must_use]
    pub fn discovery(&self) -> Option<&dyn ServiceDiscovery> {
        self.service_discovery.as_deref()
    }

    /// The per-client limits.
    #[must_use]
    pub fn configured_limits(&self) -> Limits {
        self.limits
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("address", &self.address)
            .field("port", &self.port)
            .field("advertised_address", &self.advertised_address)
            .field("service_discovery", &self.service_discovery.is_some())
            .field("limits", &self.limits)
            .finish_non_exhaustive()
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
