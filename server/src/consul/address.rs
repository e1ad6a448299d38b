//! Where the agent is: [`AgentAddress`], parsed from what a user or `CONSUL_HTTP_ADDR` gives.

use crate::discovery::DiscoveryError;

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
    /// use torchlight_smol::consul::AgentAddress;
    ///
    /// let agent = AgentAddress::parse("[::1]:18500", "the configuration")?;
    /// assert_eq!((agent.host(), agent.port()), ("::1", 18500));
    /// assert_eq!(agent.to_string(), "http://[::1]:18500");
    /// assert_eq!(AgentAddress::parse("consul", "")?.to_string(), "http://consul:8500");
    /// assert!(AgentAddress::parse("https://consul:8501", "CONSUL_HTTP_ADDR").is_err());
    /// # Ok::<(), torchlight_smol::discovery::DiscoveryError>(())
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
