//! The HTTP/1.1 client framing the Consul requests travel in, sans I/O: a request
//! writer and a response parser. Adapters move the bytes over their runtime's socket.

use core::fmt;
use std::borrow::ToOwned;
use std::string::{String, ToString};
use std::vec::Vec;

use super::AgentAddress;

/// The largest response head (status line and headers) accepted, in bytes. Consul's heads
/// are a few hundred bytes; 16 KiB is Go `net/http`'s own default for request headers
/// scaled down, ample for any proxy in between.
const MAX_HEAD: usize = 16 * 1024;
/// The largest response body accepted, in bytes. Register and deregister answer with an
/// empty body or a one-line error; 1 MiB bounds the memory a misbehaving peer can take.
const MAX_BODY: usize = 1024 * 1024;

/// One HTTP/1.1 request to the agent, ready to be written with [`Request::to_bytes`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Request {
    pub(super) agent: AgentAddress,
    pub(super) method: &'static str,
    /// Invariant: starts with `/`, only URL-safe ASCII (percent-encoded).
    pub(super) path: String,
    /// Invariant: names are tokens, values have no control characters.
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: Vec<u8>,
}

impl Request {
    /// The agent the request goes to.
    pub fn agent(&self) -> &AgentAddress {
        &self.agent
    }

    /// The method, `PUT` for both Consul operations.
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The path (request target), percent-encoded.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The value of the header `name` (case-insensitive), among those the request sets
    /// itself (not `Host`, `Content-Length` and `Connection`, which framing adds).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// The request as bytes on the wire: request line, `Host`, the headers,
    /// `Content-Length`, `Connection: close` (one request per connection, so a silent or
    /// slow agent holds nothing after the exchange), a blank line and the body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(256 + self.body.len());
        let mut line = |name: &str, value: &str| {
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        };
        line("Host", &self.agent.authority());
        for (name, value) in &self.headers {
            line(name, value);
        }
        line("Content-Length", &self.body.len().to_string());
        line("Connection", "close");
        let head = out;
        let mut out = Vec::with_capacity(head.len() + self.path.len() + 16 + self.body.len());
        out.extend_from_slice(self.method.as_bytes());
        out.push(b' ');
        out.extend_from_slice(self.path.as_bytes());
        out.extend_from_slice(b" HTTP/1.1\r\n");
        out.extend_from_slice(&head);
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&self.body);
        out
    }
}

/// An HTTP/1.x response from the agent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    reason: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    /// A response with the given status and body and no headers (for transports that
    /// do not speak HTTP/1.1 themselves, and for tests).
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Self {
        Response {
            status,
            reason: String::new(),
            headers: Vec::new(),
            body: body.into(),
        }
    }

    /// Parses the bytes received so far.
    ///
    /// `Ok(None)`: incomplete, read more (only while `eof` is false). `eof` says that the
    /// peer closed the connection: the bytes are all there is, so a response without
    /// `Content-Length` ends there, and an incomplete one is an error.
    ///
    /// ```
    /// use torchlight_smol::consul::Response;
    ///
    /// let bytes = b"HTTP/1.1 404 Not Found\r\nContent-Length: 7\r\n\r\nUnknown";
    /// assert_eq!(Response::parse(&bytes[..20], false)?, None);
    /// let response = Response::parse(bytes, false)?.expect("complete");
    /// assert_eq!((response.status(), response.body()), (404, &b"Unknown"[..]));
    /// assert!(Response::parse(&bytes[..50], true).is_err()); // truncated
    /// # Ok::<(), torchlight_smol::consul::ResponseError>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ResponseError`] when the bytes are not an HTTP/1.x response, are truncated at
    /// `eof`, exceed the size limits, or use a transfer coding other than identity.
    pub fn parse(bytes: &[u8], eof: bool) -> Result<Option<Response>, ResponseError> {
        let Some(head_end) = find(bytes, b"\r\n\r\n") else {
            if bytes.len() > MAX_HEAD {
                return Err(ResponseError::TooLarge { limit: MAX_HEAD });
            }
            if !bytes.is_empty() && !bytes.starts_with(&b"HTTP/1."[..bytes.len().min(7)]) {
                return Err(ResponseError::Malformed(
                    "the status line does not start with `HTTP/1.`".to_owned(),
                ));
            }
            return if eof {
                Err(ResponseError::Truncated {
                    received: bytes.len(),
                })
            } else {
                Ok(None)
            };
        };
        if head_end > MAX_HEAD {
            return Err(ResponseError::TooLarge { limit: MAX_HEAD });
        }
        let head = core::str::from_utf8(&bytes[..head_end])
            .map_err(|_| ResponseError::Malformed("the head is not UTF-8".to_owned()))?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let (status, reason) = parse_status_line(status_line)?;
        let mut headers = Vec::new();
        for line in lines {
            let Some((name, value)) = line.split_once(':') else {
                return Err(ResponseError::Malformed(std::format!(
                    "header line {line:?} has no `:`"
                )));
            };
            if name.is_empty() || !name.bytes().all(is_token) {
                return Err(ResponseError::Malformed(std::format!(
                    "header name {name:?} is not a token"
                )));
            }
            headers.push((name.to_owned(), value.trim_matches([' ', '\t']).to_owned()));
        }
        let mut response = Response {
            status,
            reason,
            headers,
            body: Vec::new(),
        };
        if let Some(coding) = response.header("transfer-encoding") {
            if !coding.eq_ignore_ascii_case("identity") {
                return Err(ResponseError::Malformed(std::format!(
                    "transfer coding {coding:?} is not supported"
                )));
            }
        }
        let rest = &bytes[head_end + 4..];
        // RFC 9112 §6.3: 1xx, 204 and 304 responses have no body.
        let no_body = status < 200 || status == 204 || status == 304;
        let length = match response.header("content-length") {
            _ if no_body => Some(0),
            Some(value) => Some(value.parse::<usize>().map_err(|_| {
                ResponseError::Malformed(std::format!("Content-Length {value:?} is not a number"))
            })?),
            None => None,
        };
        match length {
            Some(length) if length > MAX_BODY => Err(ResponseError::TooLarge { limit: MAX_BODY }),
            Some(length) if rest.len() >= length => {
                response.body = rest[..length].to_vec();
                Ok(Some(response))
            }
            Some(_) if eof => Err(ResponseError::Truncated {
                received: bytes.len(),
            }),
            Some(_) => Ok(None),
            None if rest.len() > MAX_BODY => Err(ResponseError::TooLarge { limit: MAX_BODY }),
            None if eof => {
                response.body = rest.to_vec();
                Ok(Some(response))
            }
            None => Ok(None),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The reason phrase (may be empty).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// The value of the first header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }
}

fn parse_status_line(line: &str) -> Result<(u16, String), ResponseError> {
    let malformed = || ResponseError::Malformed(std::format!("bad status line {line:?}"));
    let (version, rest) = line.split_once(' ').ok_or_else(malformed)?;
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        return Err(malformed());
    }
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let status = code.parse::<u16>().map_err(|_| malformed())?;
    if status < 100 {
        return Err(malformed());
    }
    Ok((status, reason.to_owned()))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// RFC 9110 `tchar`.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Why bytes from the agent are not a usable HTTP/1.x response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseError {
    /// The connection closed before the response was complete.
    Truncated {
        /// How many bytes had arrived.
        received: usize,
    },
    /// The bytes break HTTP/1.x syntax.
    Malformed(String),
    /// The head or the body is larger than this client accepts.
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
}

impl fmt::Display for ResponseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResponseError::Truncated { received: 0 } => {
                f.write_str("the connection closed without an answer")
            }
            ResponseError::Truncated { received } => write!(
                f,
                "the connection closed after {received} bytes, in the middle of the response"
            ),
            ResponseError::Malformed(reason) => f.write_str(reason),
            ResponseError::TooLarge { limit } => {
                write!(f, "the response exceeds {limit} bytes")
            }
        }
    }
}

impl core::error::Error for ResponseError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete(bytes: &[u8]) -> Response {
        match Response::parse(bytes, false) {
            Ok(Some(response)) => response,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn parses_consul_success() {
        let r = complete(
            b"HTTP/1.1 200 OK\r\nVary: Accept-Encoding\r\nX-Consul-Default-Acl-Policy: allow\r\n\
              Date: Thu, 26 Nov 2026 00:00:00 GMT\r\nContent-Length: 0\r\n\r\n",
        );
        assert_eq!((r.status(), r.reason(), r.body()), (200, "OK", &b""[..]));
        assert_eq!(r.header("x-consul-default-acl-policy"), Some("allow"));
    }

    #[test]
    fn body_stops_at_content_length() {
        let r = complete(b"HTTP/1.1 400 Bad Request\r\ncontent-length:  20 \r\n\r\nMissing service name and more");
        assert_eq!(r.body(), b"Missing service name");
        assert_eq!(r.header("Content-Length"), Some("20"));
    }

    #[test]
    fn incomplete_until_all_bytes() {
        let bytes = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 13\r\n\r\nACL not found";
        for cut in 0..bytes.len() {
            assert_eq!(Response::parse(&bytes[..cut], false), Ok(None), "cut {cut}");
            assert!(
                matches!(Response::parse(&bytes[..cut], true), Err(ResponseError::Truncated { received }) if received == cut),
                "cut {cut}"
            );
        }
        assert_eq!(complete(bytes).body(), b"ACL not found");
    }

    #[test]
    fn without_length_the_body_ends_at_eof() {
        let bytes = b"HTTP/1.0 500 Internal Server Error\r\n\r\nboom";
        assert_eq!(Response::parse(bytes, false), Ok(None));
        let r = Response::parse(bytes, true)
            .ok()
            .flatten()
            .map(|r| r.body().to_vec());
        assert_eq!(r.as_deref(), Some(&b"boom"[..]));
    }

    #[test]
    fn no_body_statuses() {
        let r = complete(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n");
        assert_eq!(r.body(), b"");
    }

    #[test]
    fn malformed_answers_are_errors() {
        for bytes in [
            &b"SSH-2.0-OpenSSH_9.2\r\n"[..],
            b"HTTP/2 200\r\n\r\n",
            b"HTTP/1.1 20 OK\r\n\r\n",
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nbad name: x\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\n\xff: x\r\n\r\n",
        ] {
            let result = Response::parse(bytes, true);
            assert!(
                matches!(result, Err(ResponseError::Malformed(_))),
                "{:?} gave {result:?}",
                String::from_utf8_lossy(bytes)
            );
        }
        // Garbage is recognised before the head is complete, so nobody waits for more.
        assert!(matches!(
            Response::parse(b"<html>", false),
            Err(ResponseError::Malformed(_))
        ));
    }

    #[test]
    fn sizes_are_bounded() {
        let mut head = b"HTTP/1.1 200 OK\r\n".to_vec();
        head.resize(MAX_HEAD + 1, b'a');
        assert_eq!(
            Response::parse(&head, false),
            Err(ResponseError::TooLarge { limit: MAX_HEAD })
        );
        let big = std::format!(
            "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n",
            MAX_BODY + 1
        );
        assert_eq!(
            Response::parse(big.as_bytes(), false),
            Err(ResponseError::TooLarge { limit: MAX_BODY })
        );
    }

    #[test]
    fn errors_say_what_happened() {
        assert_eq!(
            ResponseError::Truncated { received: 0 }.to_string(),
            "the connection closed without an answer"
        );
        assert_eq!(
            ResponseError::Truncated { received: 12 }.to_string(),
            "the connection closed after 12 bytes, in the middle of the response"
        );
    }
}
