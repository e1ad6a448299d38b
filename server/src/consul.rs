//! Registering a metrics server with a local Consul agent, sans I/O.
//!
//! [`ConsulAgent`] holds the settings (Python `prometheus_async`'s `ConsulAgent` options
//! and what deployments add: agent address, health-check timing, service meta, request
//! timeout) and turns them into the exact [`Request`]s of Consul's agent HTTP API
//! (`PUT /v1/agent/service/register`, `PUT /v1/agent/service/deregister/:id`), then judges
//! the agent's [`Response`]. A [`Transport`] moves the bytes; [`ConsulDiscovery`] combines
//! both into a [`ServiceDiscovery`](crate::discovery::ServiceDiscovery). Adapters only implement [`Transport`] on their
//! runtime; [`StdTransport`] is a blocking one.
//!
//! ```
//! use std::net::SocketAddr;
//! use torchlight_smol::consul::ConsulAgent;
//! use torchlight_smol::discovery::ServerInfo;
//!
//! let agent = ConsulAgent::with_environment(|_| None) // `new()` reads CONSUL_HTTP_*
//!     .with_name("billing-metrics")
//!     .with_tags(["prod", "eu"])
//!     .with_token("s3cr3t");
//! let server = ServerInfo::new(SocketAddr::from(([10, 0, 0, 7], 9464)));
//!
//! let request = agent.register_request(&server)?;
//! assert_eq!((request.method(), request.path()), ("PUT", "/v1/agent/service/register"));
//! assert_eq!(request.header("X-Consul-Token"), Some("s3cr3t"));
//! assert_eq!(
//!     std::str::from_utf8(request.body())?,
//!     r#"{"Name":"billing-metrics","ID":"billing-metrics","Tags":["prod","eu"],"Address":"10.0.0.7","Port":9464,"Check":{"HTTP":"http://10.0.0.7:9464/","Interval":"10s"}}"#
//! );
//! assert!(request.to_bytes().starts_with(b"PUT /v1/agent/service/register HTTP/1.1\r\nHost: 127.0.0.1:8500\r\n"));
//!
//! let request = agent.deregister_request()?;
//! assert_eq!(request.path(), "/v1/agent/service/deregister/billing-metrics");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Differences from Python, on purpose: a non-success answer to the registration is an
//! error (Python returns `None` and the server runs unregistered), every request has a
//! timeout (Python: aiohttp's 300 s), a 404 on deregistration counts as already gone, and
//! a server bound to `0.0.0.0`/`::` needs an advertised address.

mod address;
mod agent;
mod check;
mod discovery;
mod http;
mod json;
mod runtime;
mod transport;

use core::time::Duration;

pub use address::AgentAddress;
pub use agent::ConsulAgent;
pub use check::HealthCheck;
pub use discovery::ConsulDiscovery;
pub use http::{Request, Response, ResponseError};
pub use runtime::ConsulTransport;
pub use transport::{ExchangeError, ExchangeFuture, StdTransport, Transport};

/// Python's default service name.
pub const DEFAULT_NAME: &str = "app-metrics";
/// Consul's default agent address, the one Python hard-codes.
pub const DEFAULT_AGENT: &str = "http://127.0.0.1:8500";
/// The environment variable Consul's tools read the agent address from.
pub const ADDR_ENV: &str = "CONSUL_HTTP_ADDR";
/// The environment variable Consul's tools read the ACL token from.
pub const TOKEN_ENV: &str = "CONSUL_HTTP_TOKEN";
/// How long one request to the agent may take by default. A local agent answers in
/// milliseconds; 5 s leaves room for a loaded one without making a dead one hang a
/// server's start for long (Python has no bound of its own: aiohttp's 300 s).
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// What the `User-Agent` header of every request to the agent says.
const USER_AGENT: &str = concat!("torchlight/", env!("CARGO_PKG_VERSION"));
const REGISTRATION: &str = "registration";
const DEREGISTRATION: &str = "deregistration";
/// How much of an error body goes into a [`DiscoveryError::Rejected`]: Consul's messages
/// are one line; a proxy's HTML error page is cut.
const BODY_QUOTE_LIMIT: usize = 1024;
