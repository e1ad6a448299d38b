//! Service discovery: announcing a started metrics server so that Prometheus finds it.
//!
//! An exposure server calls [`ServiceDiscovery::register`] once, after its socket
//! listens, with a [`ServerInfo`] describing where it can be scraped. The discovery answers
//! with an optional [`Registration`]; the server keeps it and calls
//! [`Registration::deregister`] when it closes, before it stops listening. An error from
//! `register` aborts the start of the server (which releases its port).
//!
//! This is the Rust form of Python `prometheus_async`'s `ServiceDiscovery` protocol. The
//! trait is runtime-neutral and object-safe, so servers hold an
//! `Arc<dyn ServiceDiscovery>` and users plug in their own system; [`crate::consul`]
//! provides Consul.
//!
//! ```
//! use std::net::SocketAddr;
//! use std::sync::{Arc, Mutex};
//! use torchlight_smol::discovery::{
//!     DiscoveryError, DiscoveryFuture, Registration, ServerInfo, ServiceDiscovery,
//! };
//!
//! /// Keeps the URLs of the registered servers in a list.
//! #[derive(Default)]
//! struct Directory(Arc<Mutex<Vec<String>>>);
//!
//! impl ServiceDiscovery for Directory {
//!     fn register<'a>(&'a self, server: &'a ServerInfo) -> DiscoveryFuture<'a, Option<Registration>> {
//!         Box::pin(async move {
//!             let url = server.url()?;
//!             self.0.lock().map_err(|_| DiscoveryError::other("poisoned"))?.push(url.clone());
//!             let list = Arc::clone(&self.0);
//!             Ok(Some(Registration::new(move || async move {
//!                 list.lock().map_err(|_| DiscoveryError::other("poisoned"))?.retain(|u| *u != url);
//!                 Ok(())
//!             })))
//!         })
//!     }
//! }
//!
//! # fn main() -> Result<(), torchlight_smol::discovery::DiscoveryError> {
//! let directory = Directory::default();
//! let server = ServerInfo::new(SocketAddr::from(([127, 0, 0, 1], 9464)));
//! let registration = block_on(directory.register(&server))?.expect("registered");
//! assert_eq!(*directory.0.lock().unwrap(), ["http://127.0.0.1:9464/"]);
//! block_on(registration.deregister())?;
//! assert!(directory.0.lock().unwrap().is_empty());
//! # Ok::<(), torchlight_smol::discovery::DiscoveryError>(())
//! # }
//! # fn block_on<F: std::future::Future>(future: F) -> F::Output {
//! #     use std::task::{Context, Poll, Waker};
//! #     let mut future = std::pin::pin!(future);
//! #     let mut cx = Context::from_waker(Waker::noop());
//! #     loop {
//! #         if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
//! #             return output;
//! #         }
//! #     }
//! # }
//! ```

use core::fmt;
use core::future::Future;
use core::net::{IpAddr, SocketAddr};
use core::pin::Pin;
use core::time::Duration;
use std::boxed::Box;
use std::format;
use std::string::{String, ToString};

/// The future a [`ServiceDiscovery`] or a [`Registration`] returns: boxed so that the
/// trait stays object-safe, `Send` so that any multi-threaded runtime can drive it.
pub type DiscoveryFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, DiscoveryError>> + Send + 'a>>;

/// A service-discovery system that a metrics server announces itself to.
///
/// Implementations must not block the thread that polls them on network I/O unless they
/// document it (the adapters drive them on their runtime), and every request they send
/// must have a timeout, so that a silent discovery service cannot hang a server's start
/// or close.
pub trait ServiceDiscovery: Send + Sync {
    /// Announces `server`, which already listens.
    ///
    /// `Ok(Some(_))`: registered; the server calls [`Registration::deregister`] when it
    /// closes. `Ok(None)`: deliberately not registered, nothing to undo. `Err(_)`: the
    /// server does not start and returns the error.
    fn register<'a>(&'a self, server: &'a ServerInfo) -> DiscoveryFuture<'a, Option<Registration>>;
}

/// A done registration: how to undo it.
///
/// Dropping it without calling [`Registration::deregister`] leaves the service
/// registered.
#[must_use = "a registration is undone only by awaiting `deregister()`"]
pub struct Registration {
    /// `None` when the registration is meant to outlive the server.
    deregister: Option<Box<dyn FnOnce() -> DiscoveryFuture<'static, ()> + Send + Sync>>,
}

impl Registration {
    /// A registration undone by the future that `deregister` returns.
    pub fn new<F, Fut>(deregister: F) -> Self
    where
        F: FnOnce() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), DiscoveryError>> + Send + 'static,
    {
        Registration {
            deregister: Some(Box::new(move || -> DiscoveryFuture<'static, ()> {
                Box::pin(deregister())
            })),
        }
    }

    /// A registration that stays after the server closes (Consul's `deregister` option
    /// turned off): [`Registration::deregister`] does nothing.
    pub fn kept() -> Self {
        Registration { deregister: None }
    }

    /// Whether [`Registration::deregister`] sends anything.
    pub fn deregisters(&self) -> bool {
        self.deregister.is_some()
    }

    /// Undoes the registration. An error means the service may still be announced; the
    /// server still closes.
    pub fn deregister(self) -> DiscoveryFuture<'static, ()> {
        match self.deregister {
            Some(deregister) => deregister(),
            None => Box::pin(async { Ok(()) }),
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration")
            .field("deregisters", &self.deregisters())
            .finish()
    }
}

/// Where a started metrics server can be reached: what a [`ServiceDiscovery`] announces.
///
/// ```
/// use std::net::SocketAddr;
/// use torchlight_smol::discovery::ServerInfo;
///
/// let server = ServerInfo::new(SocketAddr::from(([0, 0, 0, 0], 9464)));
/// assert!(server.url().is_err()); // nobody can connect to 0.0.0.0
/// let server = server.with_advertised_address("metrics.example.internal");
/// assert_eq!(server.url()?, "http://metrics.example.internal:9464/");
///
/// let server = ServerInfo::new("[::1]:9464".parse()?);
/// assert_eq!((server.host()?, server.port()), ("::1".to_string(), 9464));
/// assert_eq!(server.url()?, "http://[::1]:9464/");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerInfo {
    bound: SocketAddr,
    /// Invariant: not empty.
    advertised: Option<String>,
    https: bool,
}

impl ServerInfo {
    /// A plain-HTTP server listening on `bound` (the address the socket really has, with
    /// the port the system picked when port 0 was asked for).
    pub fn new(bound: SocketAddr) -> Self {
        ServerInfo {
            bound,
            advertised: None,
            https: false,
        }
    }

    /// Announces `host` (an IP address or a DNS name, without port) instead of the bound
    /// address: needed when the server listens on `0.0.0.0` or `::`, and behind NAT. An
    /// empty `host` is ignored.
    pub fn with_advertised_address(mut self, host: impl Into<String>) -> Self {
        let host = host.into();
        self.advertised = if host.is_empty() { None } else { Some(host) };
        self
    }

    /// Marks the server as serving HTTPS: the URL's scheme becomes `https`.
    pub fn with_https(mut self, https: bool) -> Self {
        self.https = https;
        self
    }

    /// The address the socket is bound to.
    pub fn bound_address(&self) -> SocketAddr {
        self.bound
    }

    /// The advertised host, if one was set.
    pub fn advertised_address(&self) -> Option<&str> {
        self.advertised.as_deref()
    }

    /// The port the server listens on.
    pub fn port(&self) -> u16 {
        self.bound.port()
    }

    /// `"http"` or `"https"`.
    pub fn scheme(&self) -> &'static str {
        if self.https { "https" } else { "http" }
    }

    /// Whether the server is served over TLS.
    pub fn is_https(&self) -> bool {
        self.https
    }

    /// The host to announce: the advertised one, else the bound IP address (IPv6 without
    /// brackets, as Consul's `Address` wants it).
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::UnspecifiedAddress`] when the server is bound to `0.0.0.0` or
    /// `::` and no advertised address is set: that address cannot be connected to.
    pub fn host(&self) -> Result<String, DiscoveryError> {
        match &self.advertised {
            Some(host) => Ok(host.clone()),
            None if self.bound.ip().is_unspecified() => {
                Err(DiscoveryError::UnspecifiedAddress { bound: self.bound })
            }
            None => Ok(self.bound.ip().to_string()),
        }
    }

    /// The server's root URL, `scheme://host:port/`, with an IPv6 host in brackets.
    ///
    /// # Errors
    ///
    /// As [`ServerInfo::host`].
    pub fn url(&self) -> Result<String, DiscoveryError> {
        let host = self.host()?;
        let bracketed = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6());
        Ok(if bracketed {
            format!("{}://[{host}]:{}/", self.scheme(), self.port())
        } else {
            format!("{}://{host}:{}/", self.scheme(), self.port())
        })
    }
}

/// Why registering or deregistering a server with a discovery service failed.
///
/// Each message names the discovery service and says what to do.
#[derive(Debug)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The server listens on an unspecified address (`0.0.0.0`, `::`) and has no
    /// advertised address; discovery services (Consul among them) reject it.
    UnspecifiedAddress {
        /// The bound address.
        bound: SocketAddr,
    },
    /// The configured address of the discovery agent is not usable.
    InvalidAgentAddress {
        /// The address as given.
        address: String,
        /// Where it came from: `"the configuration"` or an environment variable name.
        origin: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A setting cannot be sent to the agent.
    InvalidSetting {
        /// The setting's name.
        setting: &'static str,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The agent could not be reached (connection refused, reset, name resolution, …).
    Unreachable {
        /// The agent, as `scheme://host:port`.
        agent: String,
        /// `"registration"` or `"deregistration"`.
        operation: &'static str,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The agent did not answer in time.
    Timeout {
        /// The agent, as `scheme://host:port`.
        agent: String,
        /// `"registration"` or `"deregistration"`.
        operation: &'static str,
        /// The configured bound that elapsed.
        after: Duration,
    },
    /// The agent answered with a status other than success.
    Rejected {
        /// The agent, as `scheme://host:port`.
        agent: String,
        /// `"registration"` or `"deregistration"`.
        operation: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The response body (lossily decoded, cut at 1 KiB).
        body: String,
    },
    /// The agent's answer is not an HTTP/1.x response.
    MalformedResponse {
        /// The agent, as `scheme://host:port`.
        agent: String,
        /// `"registration"` or `"deregistration"`.
        operation: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// An error from a user's [`ServiceDiscovery`] implementation.
    Other(Box<dyn core::error::Error + Send + Sync>),
}

impl DiscoveryError {
    /// Wraps an error of a custom [`ServiceDiscovery`].
    pub fn other(error: impl Into<Box<dyn core::error::Error + Send + Sync>>) -> Self {
        DiscoveryError::Other(error.into())
    }
}

impl fmt::Display for DiscoveryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DiscoveryError::UnspecifiedAddress { bound } => write!(
                f,
                "the metrics server listens on {bound}, an unspecified address that a \
                 discovery service cannot connect to (Consul rejects it); set an advertised \
                 address (an IP or host name reachable from the agent and Prometheus) or \
                 bind to a concrete address"
            ),
            DiscoveryError::InvalidAgentAddress {
                address,
                origin,
                reason,
            } => write!(
                f,
                "the discovery agent address {address:?} from {origin} is not usable: \
                 {reason}; give it as `http://host:port` or `host:port`"
            ),
            DiscoveryError::InvalidSetting { setting, reason } => write!(
                f,
                "the discovery setting `{setting}` cannot be sent: {reason}; correct it"
            ),
            DiscoveryError::Unreachable {
                agent,
                operation,
                source,
            } => write!(
                f,
                "{operation} with the agent at {agent} failed: {source}; check that the \
                 agent runs and listens there (CONSUL_HTTP_ADDR sets the address)"
            ),
            DiscoveryError::Timeout {
                agent,
                operation,
                after,
            } => write!(
                f,
                "{operation} with the agent at {agent} got no answer within {after:?}; \
                 check that the agent is healthy, or raise the request timeout"
            ),
            DiscoveryError::Rejected {
                agent,
                operation,
                status,
                body,
            } => {
                write!(
                    f,
                    "the agent at {agent} refused the {operation} with status {status}: {body:?}"
                )?;
                f.write_str(match status {
                    401 | 403 => {
                        "; check the ACL token (`ConsulAgent::with_token`, or CONSUL_HTTP_TOKEN)"
                    }
                    400 => "; check the service name, address, tags, meta and health check",
                    _ => "; see the agent's log",
                })
            }
            DiscoveryError::MalformedResponse {
                agent,
                operation,
                reason,
            } => write!(
                f,
                "the answer of {agent} to the {operation} is not HTTP/1.1: {reason}; check \
                 that the address points to the agent's HTTP API"
            ),
            DiscoveryError::Other(error) => write!(f, "service discovery failed: {error}"),
        }
    }
}

impl core::error::Error for DiscoveryError {
    fn source(&self) -> Option<&(dyn core::error::Error + 'static)> {
        match self {
            DiscoveryError::Unreachable { source, .. } => Some(source),
            DiscoveryError::Other(error) => Some(&**error),
            _ => None,
        }
    }
}
