//! Registering a metrics server with a local Consul agent, sans I/O.
//!
//! [`ConsulAgent`] holds the settings (Python `prometheus_async`'s `ConsulAgent` options
//! and what deployments add: agent address, health-check timing, service meta, request
//! timeout) and turns them into the exact [`Request`]s of Consul's agent HTTP API
//! (`PUT /v1/agent/service/register`, `PUT /v1/agent/service/deregister/:id`), then judges
//! the agent's [`Response`]. A [`Transport`] moves the bytes; [`ConsulDiscovery`] combines
//! both into a [`ServiceDiscovery`]. Adapters only implement [`Transport`] on their
//! runtime; [`StdTransport`] is a blocking one.
//!
//! ```
//! use std::net::SocketAddr;
//! use torchlight::consul::ConsulAgent;
//! use torchlight::discovery::ServerInfo;
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

mod http;
mod transport;

use core::fmt::Write as _;
use core::time::Duration;
use std::borrow::ToOwned;
use std::boxed::Box;
use std::collections::BTreeMap;
use std::string::{String, ToString};
use std::sync::Arc;
use std::vec::Vec;

pub use http::{Request, Response, ResponseError};
pub use transport::{ExchangeError, ExchangeFuture, StdTransport, Transport};

use crate::discovery::{
    DiscoveryError, DiscoveryFuture, Registration, ServerInfo, ServiceDiscovery,
};

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

const REGISTRATION: &str = "registration";
const DEREGISTRATION: &str = "deregistration";
/// How much of an error body goes into a [`DiscoveryError::Rejected`]: Consul's messages
/// are one line; a proxy's HTML error page is cut.
const BODY_QUOTE_LIMIT: usize = 1024;

/// The address of a Consul agent's HTTP API: `http://host:port`.
///
/// Parsed from `http://host:port`, `host:port`, `host` (port 8500) or an IPv6 literal in
/// brackets; `https://` and `unix://` are refused (this client speaks plain HTTP only).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AgentAddress {
    /// Invariant: not empty, no whitespace, `/`, `@`, or control character; an IPv6
    /// literal without brackets.
    host: String,
    port: u16,
}

impl AgentAddress {
    /// Parses an address given by the user (`origin` names where it came from, for the
    /// error message).
    ///
    /// ```
    /// use torchlight::consul::AgentAddress;
    ///
    /// let agent = AgentAddress::parse("[::1]:18500", "the configuration")?;
    /// assert_eq!((agent.host(), agent.port()), ("::1", 18500));
    /// assert_eq!(agent.to_string(), "http://[::1]:18500");
    /// assert_eq!(AgentAddress::parse("consul", "")?.to_string(), "http://consul:8500");
    /// assert!(AgentAddress::parse("https://consul:8501", "CONSUL_HTTP_ADDR").is_err());
    /// # Ok::<(), torchlight::discovery::DiscoveryError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidAgentAddress`], saying why.
    pub fn parse(address: &str, origin: &'static str) -> Result<AgentAddress, DiscoveryError> {
        let invalid = |reason| DiscoveryError::InvalidAgentAddress {
            address: address.to_owned(),
            origin,
            reason,
        };
        let trimmed = address.trim();
        let rest = match trimmed.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                return Err(invalid(
                    "HTTPS is not supported; reach the agent over plain HTTP (a local agent)",
                ));
            }
            Some(_) => return Err(invalid("only the `http` scheme is supported")),
            None => trimmed,
        };
        let authority = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, after) = v6
                .split_once(']')
                .ok_or_else(|| invalid("`[` without `]`"))?;
            if host.parse::<core::net::Ipv6Addr>().is_err() {
                return Err(invalid("the bracketed host is not an IPv6 address"));
            }
            match after.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if after.is_empty() => (host, None),
                None => return Err(invalid("unexpected characters after `]`")),
            }
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        if host.contains(':') && authority.starts_with('[') {
            // An IPv6 literal, checked above.
        } else if host
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control() || b"/@?#[]:".contains(&b))
        {
            return Err(invalid(
                "the host contains a character a host name cannot have (a path?)",
            ));
        }
        let port = match port {
            None => 8500,
            Some(port) => match port.parse::<u16>() {
                Ok(port) if port != 0 => port,
                _ => return Err(invalid("the port is not a number from 1 to 65535")),
            },
        };
        Ok(AgentAddress {
            host: host.to_owned(),
            port,
        })
    }

    /// The host: a name, an IPv4 address, or an IPv6 address without brackets.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `host:port`, IPv6 in brackets: the `Host` header and what to connect to.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            std::format!("[{}]:{}", self.host, self.port)
        } else {
            std::format!("{}:{}", self.host, self.port)
        }
    }
}

impl core::fmt::Display for AgentAddress {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "http://{}", self.authority())
    }
}

/// The HTTP health check Consul runs against the server's root URL (`GET /`, the cheap
/// page that encodes no metric).
///
/// ```
/// use std::time::Duration;
/// use torchlight::consul::HealthCheck;
///
/// let check = HealthCheck::new()
///     .with_interval(Duration::from_secs(30))
///     .with_timeout(Duration::from_millis(1500))
///     .with_deregister_critical_after(Duration::from_secs(90 * 60));
/// assert_eq!(check.interval(), Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    interval: Duration,
    timeout: Option<Duration>,
    deregister_critical_after: Option<Duration>,
    tls_skip_verify: bool,
}

impl HealthCheck {
    /// Every 10 s (Python's interval), the agent's default timeout (10 s), never
    /// deregistered for being critical.
    pub const fn new() -> Self {
        HealthCheck {
            interval: Duration::from_secs(10),
            timeout: None,
            deregister_critical_after: None,
            tls_skip_verify: false,
        }
    }

    /// How often the agent checks (`Interval`). It must be positive: the agent answers
    /// 400 to a zero interval.
    pub const fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// How long one check may take before it fails (`Timeout`; the agent's default is
    /// 10 s).
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Removes the service after its check stayed critical this long
    /// (`DeregisterCriticalServiceAfter`; the agent applies at least one minute and reaps
    /// every 30 s), for processes that die without deregistering.
    pub const fn with_deregister_critical_after(mut self, after: Duration) -> Self {
        self.deregister_critical_after = Some(after);
        self
    }

    /// Lets the agent accept the server's certificate without verifying it
    /// (`TLSSkipVerify`), for an HTTPS server whose certificate the agent cannot check
    /// (self-signed, or issued by a CA the agent does not trust). Only HTTPS servers'
    /// checks use it; the agent verifies by default.
    pub const fn with_tls_skip_verify(mut self, skip: bool) -> Self {
        self.tls_skip_verify = skip;
        self
    }

    /// Whether the agent skips verifying the server's certificate.
    pub const fn tls_skip_verify(&self) -> bool {
        self.tls_skip_verify
    }

    /// The interval.
    pub const fn interval(&self) -> Duration {
        self.interval
    }

    /// The timeout, if set.
    pub const fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The critical-deregistration delay, if set.
    pub const fn deregister_critical_after(&self) -> Option<Duration> {
        self.deregister_critical_after
    }
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck::new()
    }
}

/// Registration of a metrics server with a Consul agent: the settings and the protocol.
///
/// Python's options (`name`, `service_id`, `tags`, `token`, `deregister`) keep their
/// defaults; the agent address, health check, service meta and request timeout are
/// additions. See the [module docs](self) for an example.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsulAgent {
    name: String,
    /// Invariant: `None` or not empty (an empty id falls back to the name, as in Python).
    service_id: Option<String>,
    tags: Vec<String>,
    /// Invariant: `None` or not empty.
    token: Option<String>,
    deregister: bool,
    agent: String,
    agent_origin: &'static str,
    check: HealthCheck,
    meta: BTreeMap<String, String>,
    request_timeout: Duration,
}

impl ConsulAgent {
    /// The defaults, with the agent address and token taken from `CONSUL_HTTP_ADDR` and
    /// `CONSUL_HTTP_TOKEN` when they are set (as Consul's own tools do).
    pub fn new() -> Self {
        ConsulAgent::with_environment(|name| std::env::var(name).ok())
    }

    /// The defaults, with the environment read through `var` (for tests and for programs
    /// that keep their configuration elsewhere; `|_| None` ignores the environment).
    pub fn with_environment(var: impl Fn(&str) -> Option<String>) -> Self {
        let (agent, agent_origin) = match var(ADDR_ENV).filter(|a| !a.trim().is_empty()) {
            Some(address) => (address, ADDR_ENV),
            None => (DEFAULT_AGENT.to_owned(), "the default"),
        };
        ConsulAgent {
            name: DEFAULT_NAME.to_owned(),
            service_id: None,
            tags: Vec::new(),
            token: var(TOKEN_ENV).filter(|t| !t.is_empty()),
            deregister: true,
            agent,
            agent_origin,
            check: HealthCheck::new(),
            meta: BTreeMap::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// The service name (`Name`; default `app-metrics`).
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// The service id (`ID`), unique on the agent; default (and when empty): the name.
    pub fn with_service_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.service_id = if id.is_empty() { None } else { Some(id) };
        self
    }

    /// The tags (`Tags`), sent in this order; none is sent as `null`, as Python does.
    pub fn with_tags<I>(mut self, tags: I) -> Self
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        self.tags = tags.into_iter().map(Into::into).collect();
        self
    }

    /// The ACL token, sent as `X-Consul-Token` on every request; overrides
    /// `CONSUL_HTTP_TOKEN`. An empty token sends none.
    pub fn with_token(mut self, token: impl Into<String>) -> Self {
        let token = token.into();
        self.token = if token.is_empty() { None } else { Some(token) };
        self
    }

    /// Whether closing the server deregisters the service (default: yes).
    pub fn with_deregister(mut self, deregister: bool) -> Self {
        self.deregister = deregister;
        self
    }

    /// The agent's address (`http://host:port`, `host:port` or `host`); overrides
    /// `CONSUL_HTTP_ADDR`. Checked when a request is built.
    pub fn with_agent_address(mut self, address: impl Into<String>) -> Self {
        self.agent = address.into();
        self.agent_origin = "the configuration";
        self
    }

    /// The health check's timing.
    pub fn with_health_check(mut self, check: HealthCheck) -> Self {
        self.check = check;
        self
    }

    /// Adds a service meta entry (`Meta`; Prometheus's Consul discovery exposes it as
    /// `__meta_consul_service_metadata_<key>`).
    pub fn with_meta(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.meta.insert(key.into(), value.into());
        self
    }

    /// The bound on each request to the agent, connection included (default 5 s).
    pub fn with_request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The service name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The service id: the one set, else the name.
    pub fn service_id(&self) -> &str {
        self.service_id.as_deref().unwrap_or(&self.name)
    }

    /// The tags.
    pub fn tags(&self) -> &[String] {
        &self.tags
    }

    /// The token, if any.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// Whether closing the server deregisters the service.
    pub fn deregisters(&self) -> bool {
        self.deregister
    }

    /// The health check.
    pub fn health_check(&self) -> &HealthCheck {
        &self.check
    }

    /// The service meta.
    pub fn meta(&self) -> &BTreeMap<String, String> {
        &self.meta
    }

    /// The request timeout.
    pub fn request_timeout(&self) -> Duration {
        self.request_timeout
    }

    /// The agent's address.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::InvalidAgentAddress`] naming where the address came from.
    pub fn agent_address(&self) -> Result<AgentAddress, DiscoveryError> {
        AgentAddress::parse(&self.agent, self.agent_origin)
    }

    /// The JSON body of the registration: `Name`, `ID`, `Tags`, `Address`, `Port`, `Meta`
    /// (only when set) and `Check` (`HTTP` on the server's root URL, `https://` for an
    /// HTTPS server, `Interval`, and `Timeout` / `DeregisterCriticalServiceAfter` /
    /// `TLSSkipVerify` when set), in that order.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::UnspecifiedAddress`] when the server is bound to `0.0.0.0`/`::`
    /// without an advertised address: Consul answers 400 "Invalid service address".
    pub fn register_body(&self, server: &ServerInfo) -> Result<String, DiscoveryError> {
        let address = server.host()?;
        let url = server.url()?;
        let mut out = String::with_capacity(256);
        out.push_str("{\"Name\":");
        json_string(&mut out, &self.name);
        out.push_str(",\"ID\":");
        json_string(&mut out, self.service_id());
        out.push_str(",\"Tags\":");
        if self.tags.is_empty() {
            out.push_str("null");
        } else {
            out.push('[');
            for (i, tag) in self.tags.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(&mut out, tag);
            }
            out.push(']');
        }
        out.push_str(",\"Address\":");
        json_string(&mut out, &address);
        out.push_str(",\"Port\":");
        out.push_str(&server.port().to_string());
        if !self.meta.is_empty() {
            out.push_str(",\"Meta\":{");
            for (i, (key, value)) in self.meta.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_string(&mut out, key);
                out.push(':');
                json_string(&mut out, value);
            }
            out.push('}');
        }
        out.push_str(",\"Check\":{\"HTTP\":");
        json_string(&mut out, &url);
        out.push_str(",\"Interval\":");
        json_string(&mut out, &go_duration(self.check.interval));
        if let Some(timeout) = self.check.timeout {
            out.push_str(",\"Timeout\":");
            json_string(&mut out, &go_duration(timeout));
        }
        if let Some(after) = self.check.deregister_critical_after {
            out.push_str(",\"DeregisterCriticalServiceAfter\":");
            json_string(&mut out, &go_duration(after));
        }
        if self.check.tls_skip_verify {
            out.push_str(",\"TLSSkipVerify\":true");
        }
        out.push_str("}}");
        Ok(out)
    }

    /// `PUT /v1/agent/service/register` with the [`ConsulAgent::register_body`], the
    /// token and `Content-Type: application/json`.
    ///
    /// # Errors
    ///
    /// An unusable agent address or token, or an unspecified server address.
    pub fn register_request(&self, server: &ServerInfo) -> Result<Request, DiscoveryError> {
        let body = self.register_body(server)?;
        let mut headers = self.common_headers()?;
        headers.push(("Content-Type", "application/json".to_owned()));
        Ok(Request {
            agent: self.agent_address()?,
            method: "PUT",
            path: "/v1/agent/service/register".to_owned(),
            headers,
            body: body.into_bytes(),
        })
    }

    /// `PUT /v1/agent/service/deregister/<id>` with the id percent-encoded (every byte
    /// but RFC 3986's unreserved ones, `/` included) and the token.
    ///
    /// # Errors
    ///
    /// An unusable agent address or token.
    pub fn deregister_request(&self) -> Result<Request, DiscoveryError> {
        let mut path = "/v1/agent/service/deregister/".to_owned();
        percent_encode(&mut path, self.service_id());
        Ok(Request {
            agent: self.agent_address()?,
            method: "PUT",
            path,
            headers: self.common_headers()?,
            body: Vec::new(),
        })
    }

    /// Judges the agent's answer to the registration: 2xx is success.
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Rejected`] naming the agent and quoting status and body.
    pub fn check_register_response(&self, response: &Response) -> Result<(), DiscoveryError> {
        self.judge(response, REGISTRATION, false)
    }

    /// Judges the agent's answer to the deregistration: 2xx is success, and so is 404
    /// (the service is already gone: Consul's answer to an unknown id).
    ///
    /// # Errors
    ///
    /// [`DiscoveryError::Rejected`] naming the agent and quoting status and body.
    pub fn check_deregister_response(&self, response: &Response) -> Result<(), DiscoveryError> {
        self.judge(response, DEREGISTRATION, true)
    }

    /// A [`ServiceDiscovery`] that sends this agent's requests over `transport`.
    pub fn discovery<T: Transport>(self, transport: T) -> ConsulDiscovery<T> {
        ConsulDiscovery {
            inner: Arc::new((self, transport)),
        }
    }

    fn judge(
        &self,
        response: &Response,
        operation: &'static str,
        gone_is_ok: bool,
    ) -> Result<(), DiscoveryError> {
        let status = response.status();
        if (200..300).contains(&status) || (gone_is_ok && status == 404) {
            return Ok(());
        }
        let body = response.body();
        let quoted = &body[..body.len().min(BODY_QUOTE_LIMIT)];
        let mut body = String::from_utf8_lossy(quoted).trim().to_owned();
        if quoted.len() < response.body().len() {
            body.push('…');
        }
        Err(DiscoveryError::Rejected {
            agent: self.agent_label(),
            operation,
            status,
            body,
        })
    }

    fn common_headers(&self) -> Result<Vec<(&'static str, String)>, DiscoveryError> {
        let mut headers = Vec::with_capacity(3);
        headers.push(("User-Agent", USER_AGENT.to_owned()));
        if let Some(token) = &self.token {
            if token.bytes().any(|b| b.is_ascii_control()) {
                return Err(DiscoveryError::InvalidSetting {
                    setting: "token",
                    reason: "it contains a control character (a trailing newline from a file?)",
                });
            }
            headers.push(("X-Consul-Token", token.clone()));
        }
        Ok(headers)
    }

    /// The agent as error messages name it, even when its address does not parse.
    fn agent_label(&self) -> String {
        match self.agent_address() {
            Ok(agent) => agent.to_string(),
            Err(_) => self.agent.clone(),
        }
    }

    fn exchange_error(&self, operation: &'static str, error: ExchangeError) -> DiscoveryError {
        let agent = self.agent_label();
        match error {
            ExchangeError::Io(source) => DiscoveryError::Unreachable {
                agent,
                operation,
                source,
            },
            ExchangeError::Timeout => DiscoveryError::Timeout {
                agent,
                operation,
                after: self.request_timeout,
            },
            ExchangeError::Response(error) => DiscoveryError::MalformedResponse {
                agent,
                operation,
                reason: error.to_string(),
            },
        }
    }
}

impl Default for ConsulAgent {
    fn default() -> Self {
        ConsulAgent::new()
    }
}

const USER_AGENT: &str = concat!("torchlight/", env!("CARGO_PKG_VERSION"));

/// [`ConsulAgent`] as a [`ServiceDiscovery`], sending its requests over a [`Transport`].
///
/// ```no_run
/// use std::net::SocketAddr;
/// use torchlight::consul::{ConsulAgent, StdTransport};
/// use torchlight::discovery::{ServerInfo, ServiceDiscovery};
///
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::task::{Context, Poll, Waker};
/// #     let mut future = std::pin::pin!(future);
/// #     loop {
/// #         if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
/// #             return output;
/// #         }
/// #     }
/// # }
/// let consul = ConsulAgent::new().with_name("billing-metrics").discovery(StdTransport);
/// let server = ServerInfo::new(SocketAddr::from(([10, 0, 0, 7], 9464)));
/// let registration = block_on(consul.register(&server))?;
/// // ... serve ...
/// if let Some(registration) = registration {
///     block_on(registration.deregister())?;
/// }
/// # Ok::<(), torchlight::discovery::DiscoveryError>(())
/// ```
#[derive(Debug)]
pub struct ConsulDiscovery<T> {
    inner: Arc<(ConsulAgent, T)>,
}

impl<T> Clone for ConsulDiscovery<T> {
    fn clone(&self) -> Self {
        ConsulDiscovery {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> ConsulDiscovery<T> {
    /// The settings.
    pub fn agent(&self) -> &ConsulAgent {
        &self.inner.0
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.1
    }
}

impl<T: Transport> ServiceDiscovery for ConsulDiscovery<T> {
    fn register<'a>(&'a self, server: &'a ServerInfo) -> DiscoveryFuture<'a, Option<Registration>> {
        Box::pin(async move {
            let (agent, transport) = &*self.inner;
            let request = agent.register_request(server)?;
            // Built before registering, so that a bad token or address cannot leave a
            // registration that close() is unable to undo.
            let deregister_request = agent.deregister_request()?;
            let response = transport
                .exchange(&request, agent.request_timeout)
                .await
                .map_err(|error| agent.exchange_error(REGISTRATION, error))?;
            agent.check_register_response(&response)?;
            if !agent.deregister {
                return Ok(Some(Registration::kept()));
            }
            let inner = Arc::clone(&self.inner);
            Ok(Some(Registration::new(move || async move {
                let (agent, transport) = &*inner;
                let response = transport
                    .exchange(&deregister_request, agent.request_timeout)
                    .await
                    .map_err(|error| agent.exchange_error(DEREGISTRATION, error))?;
                agent.check_deregister_response(&response)
            })))
        })
    }
}

/// Writes `s` as a JSON string (RFC 8259 §7): `"` and `\` escaped, control characters
/// as their short escapes or `\u00XX`, everything else verbatim (UTF-8).
fn json_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if c < ' ' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A duration in Go's `time.ParseDuration` syntax, as Consul reads `Interval` and
/// friends: the largest of `h`, `m`, `s`, `ms`, `us`, `ns` that divides it exactly.
fn go_duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    const UNITS: [(u128, &str); 6] = [
        (3_600_000_000_000, "h"),
        (60_000_000_000, "m"),
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "us"),
        (1, "ns"),
    ];
    if nanos == 0 {
        return "0s".to_owned();
    }
    for (unit, suffix) in UNITS {
        if nanos % unit == 0 {
            return std::format!("{}{suffix}", nanos / unit);
        }
    }
    std::format!("{nanos}ns")
}

/// Percent-encodes every byte of `s` but RFC 3986's unreserved characters.
fn percent_encode(out: &mut String, s: &str) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_durations() {
        for (d, s) in [
            (Duration::from_secs(10), "10s"),
            (Duration::from_secs(90 * 60), "90m"),
            (Duration::from_secs(7200), "2h"),
            (Duration::from_secs(90), "90s"),
            (Duration::from_millis(1500), "1500ms"),
            (Duration::from_micros(3), "3us"),
            (Duration::from_nanos(7), "7ns"),
            (Duration::ZERO, "0s"),
        ] {
            assert_eq!(go_duration(d), s);
        }
    }

    #[test]
    fn json_escapes() {
        let mut out = String::new();
        json_string(&mut out, "a\"b\\c\nd\re\tf\u{8}\u{c}\u{1}\u{1f}é\u{7f}");
        assert_eq!(
            out,
            r#""a\"b\\c\nd\re\tf\b\f\u0001\u001fé"#.to_owned() + "\u{7f}\""
        );
    }

    #[test]
    fn percent_encoding_keeps_only_unreserved() {
        let mut out = String::new();
        percent_encode(&mut out, "id/with space?#%é-._~Az9");
        assert_eq!(out, "id%2Fwith%20space%3F%23%25%C3%A9-._~Az9");
    }
}
