//! What to serve and where: [`Options`] for every adapter's `start_http_server`.

use core::ops::Deref;
use std::boxed::Box;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::string::String;
use std::sync::Arc;

use super::{Authenticate, Limits, Tls};
use crate::consul::ConsulAgent;
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
/// // Each setter has a getter of the same name with `get_`.
/// assert_eq!(options.get_address(), Ipv6Addr::LOCALHOST);
/// assert_eq!(options.get_limits(), torchlight::exposure::Limits::DEFAULT);
/// ```
#[derive(Clone)]
pub struct Options {
    address: IpAddr,
    port: u16,
    registry: ServedRegistry,
    advertised_address: Option<String>,
    discovery: Discovery,
    limits: Limits,
    tls: Option<Arc<dyn Tls>>,
    users: Option<Arc<dyn Authenticate>>,
}

/// Whom the server announces itself to.
#[derive(Clone)]
enum Discovery {
    None,
    /// Any discovery, built by the caller.
    Custom(Arc<dyn ServiceDiscovery>),
    /// A Consul agent, spoken to over the server's own runtime (boxed: the agent is
    /// large and options are moved around).
    Consul(Box<ConsulAgent>),
}

impl Options {
    /// `0.0.0.0`, port 0, the global registry, [`Limits::DEFAULT`].
    #[must_use]
    pub fn new() -> Self {
        Self {
            address: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            port: 0,
            registry: ServedRegistry::from(&crate::REGISTRY),
            advertised_address: None,
            discovery: Discovery::None,
            limits: Limits::DEFAULT,
            tls: None,
            users: None,
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

    /// The registry to serve instead of [`REGISTRY`](crate::REGISTRY): a
    /// `&'static Registry` or an `Arc<Registry>` the program shares with the server.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use torchlight::Registry;
    /// use torchlight::exposure::Options;
    ///
    /// let registry = Arc::new(Registry::new());
    /// let options = Options::new().registry(Arc::clone(&registry));
    /// assert!(std::ptr::eq(&**options.get_registry(), &*registry));
    /// ```
    #[must_use]
    pub fn registry(mut self, registry: impl Into<ServedRegistry>) -> Self {
        self.registry = registry.into();
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

    /// Announces the server to `discovery` once it listens, and withdraws it on close.
    /// For Consul, [`consul`](Self::consul) is shorter. Replaces an earlier
    /// `service_discovery` or `consul`.
    ///
    /// A failed registration makes the start fail with `StartError::Register`. A server
    /// bound to `0.0.0.0` or `::` needs an [advertised address](Self::advertised_address)
    /// to register.
    #[must_use]
    pub fn service_discovery(mut self, discovery: Arc<dyn ServiceDiscovery>) -> Self {
        self.discovery = Discovery::Custom(discovery);
        self
    }

    /// Registers the server with the Consul agent `agent` describes once it listens,
    /// and deregisters it on close, talking to the agent over the runtime the server
    /// starts on (no transport to choose, so none from another runtime can be passed).
    /// Replaces an earlier `service_discovery` or `consul`.
    ///
    /// ```
    /// use torchlight::consul::ConsulAgent;
    /// use torchlight::exposure::Options;
    ///
    /// let agent = ConsulAgent::new().with_name("billing-metrics");
    /// let options = Options::new().advertised_address("billing.internal").consul(agent);
    /// assert_eq!(options.get_consul().map(ConsulAgent::name), Some("billing-metrics"));
    /// ```
    #[must_use]
    pub fn consul(mut self, agent: ConsulAgent) -> Self {
        self.discovery = Discovery::Consul(Box::new(agent));
        self
    }

    /// Resource limits per client (timeouts, header size, connection count).
    #[must_use]
    pub fn limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves HTTPS instead of plain HTTP: every connection is encrypted with `tls`
    /// (a `torchlight_server::TlsConfig`, feature `tls`; see [`Tls`]). The server's URL
    /// and the [`ServerInfo`](crate::discovery::ServerInfo) it gives service discovery
    /// then use `https`.
    #[must_use]
    pub fn tls(mut self, tls: Arc<dyn Tls>) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Requires HTTP basic authentication on every request (`/metrics`, the page at
    /// `/`, any path): a request without credentials `users` accepts is answered 401
    /// with `WWW-Authenticate` (see [`Route::authorize`](super::Route::authorize)).
    /// `torchlight_server::BasicAuthUsers` (feature `basic-auth`) checks bcrypt
    /// hashes. Without [`tls`](Self::tls) the password crosses the network in clear.
    #[must_use]
    pub fn basic_auth(mut self, users: Arc<dyn Authenticate>) -> Self {
        self.users = Some(users);
        self
    }

    /// The socket address to bind: [`get_address`](Self::get_address) and
    /// [`get_port`](Self::get_port) together.
    #[must_use]
    pub fn socket_address(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    // The getters mirror the setters, with `get_` because each setter owns the plain
    // name (as `std::process::Command::current_dir` / `get_current_dir`).

    /// What [`address`](Self::address) set.
    #[must_use]
    pub fn get_address(&self) -> IpAddr {
        self.address
    }

    /// What [`port`](Self::port) set.
    #[must_use]
    pub fn get_port(&self) -> u16 {
        self.port
    }

    /// What [`registry`](Self::registry) set: the registry to serve.
    #[must_use]
    pub fn get_registry(&self) -> &ServedRegistry {
        &self.registry
    }

    /// What [`advertised_address`](Self::advertised_address) set: the host to register
    /// with service discovery instead of the bound address.
    #[must_use]
    pub fn get_advertised_address(&self) -> Option<&str> {
        self.advertised_address.as_deref()
    }

    /// What [`service_discovery`](Self::service_discovery) set, unless
    /// [`consul`](Self::consul) replaced it.
    #[must_use]
    pub fn get_service_discovery(&self) -> Option<&dyn ServiceDiscovery> {
        match &self.discovery {
            Discovery::Custom(discovery) => Some(&**discovery),
            Discovery::None | Discovery::Consul(_) => None,
        }
    }

    /// What [`consul`](Self::consul) set, unless
    /// [`service_discovery`](Self::service_discovery) replaced it.
    #[must_use]
    pub fn get_consul(&self) -> Option<&ConsulAgent> {
        match &self.discovery {
            Discovery::Consul(agent) => Some(agent),
            Discovery::None | Discovery::Custom(_) => None,
        }
    }

    /// What [`limits`](Self::limits) set: the per-client limits.
    #[must_use]
    pub fn get_limits(&self) -> Limits {
        self.limits
    }

    /// What [`basic_auth`](Self::basic_auth) set: `None` lets every request in.
    #[must_use]
    pub fn get_basic_auth(&self) -> Option<&Arc<dyn Authenticate>> {
        self.users.as_ref()
    }

    /// What [`tls`](Self::tls) set: `None` serves plain HTTP.
    #[must_use]
    pub fn get_tls(&self) -> Option<&Arc<dyn Tls>> {
        self.tls.as_ref()
    }
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("address", &self.address)
            .field("port", &self.port)
            .field("advertised_address", &self.advertised_address)
            .field("registry", &self.registry)
            .field(
                "discovery",
                &match &self.discovery {
                    Discovery::None => "none",
                    Discovery::Custom(_) => "custom",
                    Discovery::Consul(_) => "consul",
                },
            )
            .field("limits", &self.limits)
            .field("tls", &self.tls)
            .field("basic_auth", &self.users)
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

/// The registry a server serves: a `&'static Registry` (such as
/// [`REGISTRY`](crate::REGISTRY)) or an `Arc<Registry>` shared with the program. It
/// dereferences to the [`Registry`]; cloning it is cheap.
#[derive(Clone)]
pub struct ServedRegistry(Served);

#[derive(Clone)]
enum Served {
    Static(&'static Registry),
    Shared(Arc<Registry>),
}

impl Deref for ServedRegistry {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        match &self.0 {
            Served::Static(registry) => registry,
            Served::Shared(registry) => registry,
        }
    }
}

impl From<&'static Registry> for ServedRegistry {
    fn from(registry: &'static Registry) -> Self {
        Self(Served::Static(registry))
    }
}

impl From<Arc<Registry>> for ServedRegistry {
    fn from(registry: Arc<Registry>) -> Self {
        Self(Served::Shared(registry))
    }
}

impl fmt::Debug for ServedRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Served::Static(_) => "static",
            Served::Shared(_) => "shared",
        };
        f.debug_tuple("ServedRegistry").field(&kind).finish()
    }
}
