//! Where a push goes: an `http://` or `https://` URL taken apart once, and the
//! credentials it is sent with.

use std::fmt;

/// A receiver's URL: scheme, authority and path, checked once.
///
/// ```
/// use torchlight_smol::push::Endpoint;
///
/// let endpoint = Endpoint::parse("http://127.0.0.1:9090/api/v1/write")?;
/// assert_eq!(endpoint.authority(), "127.0.0.1:9090");
/// assert_eq!(endpoint.path(), "/api/v1/write");
/// # Ok::<(), torchlight_smol::push::PushError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    url: String,
    tls: bool,
    /// Invariant: `host:port`, the port explicit.
    authority: String,
    /// The host without brackets or port: the TLS server name.
    host: String,
    /// Invariant: starts with `/`.
    path: String,
}

impl Endpoint {
    /// Parses `url`: `http://` or `https://`, a host, an optional port (default 80 or
    /// 443) and an optional path with query (default `/`). Credentials in the URL
    /// (`user:password@`) are refused: give them to the pusher's basic auth.
    ///
    /// # Errors
    ///
    /// [`PushError::Url`](super::PushError::Url) saying what is wrong.
    pub fn parse(url: &str) -> Result<Self, super::PushError> {
        let invalid = |why: &'static str| super::PushError::Url {
            url: url.to_owned(),
            why,
        };
        let (tls, rest) = if let Some(rest) = url.strip_prefix("http://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("https://") {
            (true, rest)
        } else {
            return Err(invalid("it must start with http:// or https://"));
        };
        let (authority, path) = match rest.find(['/', '?']) {
            Some(at) => (&rest[..at], &rest[at..]),
            None => (rest, "/"),
        };
        if authority.contains('@') {
            return Err(invalid(
                "credentials in the URL are not sent; set basic auth on the pusher instead",
            ));
        }
        if path.contains('#') || path.bytes().any(|b| b <= b' ' || b == 0x7f) {
            return Err(invalid(
                "its path has a fragment, spaces or control characters",
            ));
        }
        let path = if path.starts_with('?') {
            format!("/{path}")
        } else {
            path.to_owned()
        };
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| invalid("an IPv6 host needs its closing ']'"))?;
            (host, after.strip_prefix(':'))
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(invalid("it has no host"));
        }
        let port = match port {
            None => {
                if tls {
                    443
                } else {
                    80
                }
            }
            Some(port) => port
                .parse::<u16>()
                .map_err(|_| invalid("its port is not a number from 0 to 65535"))?,
        };
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        Ok(Self {
            url: url.to_owned(),
            tls,
            authority,
            host: host.to_owned(),
            path,
        })
    }

    /// The URL as given.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is `https://`.
    #[must_use]
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// `host:port`, the port explicit.
    #[must_use]
    pub fn authority(&self) -> &str {
        &self.authority
    }

    /// The host (an IPv6 address without brackets).
    #[must_use]
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The path and query, starting with `/`.
    #[must_use]
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The same receiver with another path (the Pushgateway's grouping key).
    pub(crate) fn with_path(&self, path: String) -> Self {
        Self {
            url: format!(
                "{}://{}{path}",
                if self.tls { "https" } else { "http" },
                self.authority
            ),
            path,
            ..self.clone()
        }
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url)
    }
}

/// RFC 4648 base64 with padding, in the standard alphabet (basic auth, RFC 7617) or the
/// URL-safe one (the Pushgateway's `@base64` label values).
pub(crate) fn base64(bytes: &[u8], url_safe: bool) -> String {
    const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let alphabet = if url_safe { URL_SAFE } else { STANDARD };
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= group.len() {
                out.push(char::from(alphabet[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_taken_apart() {
        let cases = [
            ("http://host/x?y=1", false, "host:80", "host", "/x?y=1"),
            ("https://host", true, "host:443", "host", "/"),
            ("http://[::1]:9/a", false, "[::1]:9", "::1", "/a"),
            ("http://h:8?q", false, "h:8", "h", "/?q"),
        ];
        for (url, tls, authority, host, path) in cases {
            let endpoint = Endpoint::parse(url).unwrap();
            assert_eq!(
                (
                    endpoint.is_tls(),
                    endpoint.authority(),
                    endpoint.host(),
                    endpoint.path()
                ),
                (tls, authority, host, path),
                "{url}"
            );
        }
        for bad in [
            "ftp://x",
            "http://",
            "http://u:p@h/",
            "http://h:99999/",
            "http://h/a b",
        ] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base64_matches_rfc_4648() {
        // RFC 4648 section 10.
        for (input, output) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(base64(input.as_bytes(), false), output);
        }
        assert_eq!(base64(&[0xfb, 0xff], true), "-_8=");
        assert_eq!(base64(&[0xfb, 0xff], false), "+/8=");
    }
}
