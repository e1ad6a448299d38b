//! The settings and the agent protocol as data: [`ConsulAgent`] builds the exact
//! requests and judges the answers.

use std::collections::BTreeMap;
use std::time::Duration;

use super::json::{go_duration, json_string, percent_encode};
use super::{
    ADDR_ENV, AgentAddress, BODY_QUOTE_LIMIT, DEFAULT_AGENT, DEFAULT_NAME, DEFAULT_REQUEST_TIMEOUT,
    DEREGISTRATION, ExchangeError, HealthCheck, REGISTRATION, Request, Response, TOKEN_ENV,
    USER_AGENT,
};
use crate::discovery::{DiscoveryError, ServerInfo};

/// Registration of a metrics server with a Consul agent: the settings and the protocol.
///
/// Python's options (`name`, `service_id`, `tags`, `token`, `deregister`) keep their
/// defaults; the agent address, health check, service meta and request timeout are
/// additions. See the [module docs](crate::consul) for an example.
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
        json_string(&mut out, &go_duration(self.check.interval()));
        if let Some(timeout) = self.check.timeout() {
            out.push_str(",\"Timeout\":");
            json_string(&mut out, &go_duration(timeout));
        }
        if let Some(after) = self.check.deregister_critical_after() {
            out.push_str(",\"DeregisterCriticalServiceAfter\":");
            json_string(&mut out, &go_duration(after));
        }
        if self.check.tls_skip_verify() {
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

    pub(super) fn exchange_error(
        &self,
        operation: &'static str,
        error: ExchangeError,
    ) -> DiscoveryError {
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
