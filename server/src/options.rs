//! What to serve and where: [`Options`] for every adapter's `start_http_server`.
//!
//! Settings are typed values: TLS is a [`TlsConfig`](crate::TlsConfig) (feature `tls`),
//! basic authentication anything that implements [`Authenticate`], so settings the
//! server cannot use do not compile.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;

use crate::consul::ConsulAgent;
use crate::discovery::ServiceDiscovery;
use crate::exposure::Authenticate;
use crate::limits::Limits;
use crate::registry::ServedRegistry;
#[cfg(feature = "tls")]
use crate::tls::TlsConfig;

/// Where and what a metrics server serves.
///
/// The defaults follow Python's `prometheus_async`: every IPv4 interface, an ephemeral
/// port chosen by the OS, and the process-wide [`REGISTRY`](torchlight::REGISTRY), no
/// service discovery.
///
/// Each setting is set with `with_x` and read with `x`, as every settings type of
/// torchlight's crates does.
///
/// ```
/// use std::net::Ipv6Addr;
/// use torchlight_smol::{Limits, Options};
///
/// let options = Options::new().with_address(Ipv6Addr::LOCALHOST).with_port(0);
/// assert_eq!(options.socket_address().to_string(), "[::1]:0");
/// assert_eq!(options.address(), Ipv6Addr::LOCALHOST);
/// assert_eq!(options.limits(), Limits::DEFAULT);
/// ```
///
/// TLS settings are a `TlsConfig`; anything else is a compile error, not a refusal at
/// start:
///
/// ```compile_fail
/// use std::sync::Arc;
/// use torchlight_smol::Options;
///
/// #[derive(Debug)]
/// struct MyTls;
/// let options = Options::new().with_tls(Arc::new(MyTls)); // error: expected `TlsConfig`
/// ```
#[derive(Clone)]
pub struct Options {
    address: IpAddr,
    port: u16,
    registry: ServedRegistry,
    advertised_address: Option<String>,
    discovery: Discovery,
    limits: Limits,
    #[cfg(feature = "tls")]
    tls: Option<TlsConfig>,
    users: Option<Arc<dyn Authenticate>>,
    created_samples: bool,
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
            registry: ServedRegistry::from(&torchlight::REGISTRY),
            advertised_address: None,
            discovery: Discovery::None,
            limits: Limits::DEFAULT,
            #[cfg(feature = "tls")]
            tls: None,
            users: None,
            created_samples: false,
        }
    }

    /// The address to listen on (`127.0.0.1`, `::1`, `0.0.0.0`, …).
    #[must_use]
    pub fn with_address(mut self, address: impl Into<IpAddr>) -> Self {
        self.address = address.into();
        self
    }

    /// The port to listen on; 0 lets the OS choose a free one (read it back with
    /// `MetricsServer::local_addr`).
    #[must_use]
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// The registry to serve instead of [`REGISTRY`](torchlight::REGISTRY): a
    /// `&'static Registry` or an `Arc<Registry>` the program shares with the server.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use torchlight::Registry;
    /// use torchlight_smol::Options;
    ///
    /// let registry = Arc::new(Registry::new());
    /// let options = Options::new().with_registry(Arc::clone(&registry));
    /// assert!(std::ptr::eq(&**options.registry(), &*registry));
    /// ```
    #[must_use]
    pub fn with_registry(mut self, registry: impl Into<ServedRegistry>) -> Self {
        self.registry = registry.into();
        self
    }

    /// The host (name or IP) under which others reach this server, when the bound
    /// address is not it (`0.0.0.0`, a container address behind NAT). Service
    /// discovery announces this address.
    #[must_use]
    pub fn with_advertised_address(mut self, host: impl Into<String>) -> Self {
        self.advertised_address = Some(host.into());
        self
    }

    /// Announces the server to `discovery` once it listens, and withdraws it on close.
    /// For Consul, [`with_consul`](Self::with_consul) is shorter. Replaces an earlier
    /// `with_service_discovery` or `with_consul`.
    ///
    /// A failed registration makes the start fail with `StartError::Register`. A server
    /// bound to `0.0.0.0` or `::` needs an [advertised address](Self::with_advertised_address)
    /// to register.
    #[must_use]
    pub fn with_service_discovery(mut self, discovery: Arc<dyn ServiceDiscovery>) -> Self {
        self.discovery = Discovery::Custom(discovery);
        self
    }

    /// Registers the server with the Consul agent `agent` describes once it listens,
    /// and deregisters it on close, talking to the agent over the runtime the server
    /// starts on (no transport to choose, so none from another runtime can be passed).
    /// Replaces an earlier `with_service_discovery` or `with_consul`.
    ///
    /// ```
    /// use torchlight_smol::consul::ConsulAgent;
    /// use torchlight_smol::Options;
    ///
    /// let agent = ConsulAgent::new().with_name("billing-metrics");
    /// let options = Options::new()
    ///     .with_advertised_address("billing.internal")
    ///     .with_consul(agent);
    /// assert_eq!(options.consul().map(ConsulAgent::name), Some("billing-metrics"));
    /// ```
    #[must_use]
    pub fn with_consul(mut self, agent: ConsulAgent) -> Self {
        self.discovery = Discovery::Consul(Box::new(agent));
        self
    }

    /// Resource limits per client (timeouts, header size, connection count).
    #[must_use]
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Serves HTTPS instead of plain HTTP: every connection is encrypted with `tls`
    /// (PEM files or a ready `rustls::ServerConfig`). The server's URL
    /// and the [`ServerInfo`](crate::discovery::ServerInfo) it gives service discovery
    /// then use `https`.
    #[must_use]
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn with_tls(mut self, tls: TlsConfig) -> Self {
        self.tls = Some(tls);
        self
    }

    /// Requires HTTP basic authentication on every request (`/metrics`, the page at
    /// `/`, any path): a request without credentials `users` accepts is answered 401
    /// with `WWW-Authenticate` (see [`Route::authorize`](crate::exposure::Route::authorize)).
    /// `BasicAuthUsers` (feature `basic-auth`) checks bcrypt hashes, or bring your own
    /// [`Authenticate`]. Without `with_tls` (feature `tls`) the password crosses the
    /// network in clear.
    #[must_use]
    pub fn with_basic_auth(mut self, users: impl Authenticate + 'static) -> Self {
        self.users = Some(Arc::new(users));
        self
    }

    /// Whether OpenMetrics scrapes get a `<name>_created` sample after each counter,
    /// histogram and summary series that has a created timestamp (see
    /// [`Exposition::with_created_samples`](torchlight::Exposition::with_created_samples)).
    /// Off by default, as in Go's `promhttp`: Prometheus 2 stores each `_created` as a
    /// series of its own, one more per counter. Protobuf scrapes carry the timestamps
    /// either way, in `created_timestamp`, where Prometheus' created-timestamp ingestion
    /// reads them.
    ///
    /// ```
    /// use torchlight_smol::Options;
    ///
    /// assert!(!Options::new().created_samples());
    /// assert!(Options::new().with_created_samples(true).created_samples());
    /// ```
    #[must_use]
    pub fn with_created_samples(mut self, created_samples: bool) -> Self {
        self.created_samples = created_samples;
        self
    }

    /// The socket address to bind: [`address`](Self::address) and
    /// [`port`](Self::port) together.
    #[must_use]
    pub fn socket_address(&self) -> SocketAddr {
        SocketAddr::new(self.address, self.port)
    }

    /// What [`with_address`](Self::with_address) set.
    #[must_use]
    pub fn address(&self) -> IpAddr {
        self.address
    }

    /// What [`with_port`](Self::with_port) set.
    #[must_use]
    pub fn port(&self) -> u16 {
        self.port
    }

    /// What [`with_registry`](Self::with_registry) set: the registry to serve.
    #[must_use]
    pub fn registry(&self) -> &ServedRegistry {
        &self.registry
    }

    /// What [`with_advertised_address`](Self::with_advertised_address) set: the host to register
    /// with service discovery instead of the bound address.
    #[must_use]
    pub fn advertised_address(&self) -> Option<&str> {
        self.advertised_address.as_deref()
    }

    /// What [`with_service_discovery`](Self::with_service_discovery) set, unless
    /// [`with_consul`](Self::with_consul) replaced it.
    #[must_use]
    pub fn service_discovery(&self) -> Option<&dyn ServiceDiscovery> {
        match &self.discovery {
            Discovery::Custom(discovery) => Some(&**discovery),
            Discovery::None | Discovery::Consul(_) => None,
        }
    }

    /// What [`with_consul`](Self::with_consul) set, unless
    /// [`with_service_discovery`](Self::with_service_discovery) replaced it.
    #[must_use]
    pub fn consul(&self) -> Option<&ConsulAgent> {
        match &self.discovery {
            Discovery::Consul(agent) => Some(agent),
            Discovery::None | Discovery::Custom(_) => None,
        }
    }

    /// What [`with_limits`](Self::with_limits) set: the per-client limits.
    #[must_use]
    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// What [`with_basic_auth`](Self::with_basic_auth) set: `None` lets every request in.
    #[must_use]
    pub fn basic_auth(&self) -> Option<&Arc<dyn Authenticate>> {
        self.users.as_ref()
    }

    /// What [`with_created_samples`](Self::with_created_samples) set.
    #[must_use]
    pub fn created_samples(&self) -> bool {
        self.created_samples
    }

    /// What [`with_tls`](Self::with_tls) set: `None` serves plain HTTP.
    #[must_use]
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    pub fn tls(&self) -> Option<&TlsConfig> {
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
            .field("tls", &self.tls_debug())
            .field("basic_auth", &self.users)
            .field("created_samples", &self.created_samples)
            .finish_non_exhaustive()
    }
}

impl Options {
    #[cfg(feature = "tls")]
    fn tls_debug(&self) -> &dyn fmt::Debug {
        &self.tls
    }

    #[cfg(not(feature = "tls"))]
    fn tls_debug(&self) -> &dyn fmt::Debug {
        &None::<()>
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl From<SocketAddr> for Options {
    fn from(address: SocketAddr) -> Self {
        Self::new()
            .with_address(address.ip())
            .with_port(address.port())
    }
}
