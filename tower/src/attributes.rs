//! The label values a request's attributes take, each a `&'static str`, so recording a
//! request formats nothing: methods, status codes, protocol versions, schemes and gRPC
//! status codes, as OpenTelemetry's semantic conventions (v1.37.0) spell them.

use http::{Method, Version};

use crate::route::Route;

/// `http.request.method` for a method outside the conventions' list, so a scanner
/// sending made-up methods adds one series, not one per method.
pub const OTHER: &str = "_OTHER";

/// `error.type` of a request that ended before its response did: the client went away,
/// or a timeout dropped it.
pub const CANCELLED: &str = "cancelled";

/// `http.request.method` values: the RFC 9110 methods and PATCH (RFC 5789), then
/// [`OTHER`]; [`Head`] holds an index into it.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", OTHER,
];

/// `network.protocol.version` values (the conventions' spelling), then empty for a
/// version `http` may add; [`Head`] holds an index into it.
const VERSIONS: [&str; 6] = ["0.9", "1.0", "1.1", "2", "3", ""];

/// `url.scheme` values; [`Head`] holds an index into it.
const SCHEMES: [&str; 2] = ["http", "https"];

/// The number of distinct `(http.request.method, url.scheme)` pairs:
/// [`Head::active_index`] is below it.
pub(crate) const ACTIVE_PAIRS: usize = METHODS.len() * SCHEMES.len();

/// What the layer keeps of a request's head: its method, protocol version and scheme,
/// as indices into the tables above, so it is three bytes, compared and hashed as
/// integers, and formats nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    /// Invariant: `< METHODS.len()`.
    method: u8,
    /// Invariant: `< VERSIONS.len()`.
    version: u8,
    https: bool,
}

impl Head {
    /// The head of a request with `method` and `version`, over HTTPS when `https`.
    pub(crate) fn new(method: &Method, version: Version, https: bool) -> Self {
        let method = match *method {
            Method::GET => 0,
            Method::HEAD => 1,
            Method::POST => 2,
            Method::PUT => 3,
            Method::DELETE => 4,
            Method::CONNECT => 5,
            Method::OPTIONS => 6,
            Method::TRACE => 7,
            Method::PATCH => 8,
            _ => 9,
        };
        let version = match version {
            Version::HTTP_09 => 0,
            Version::HTTP_10 => 1,
            Version::HTTP_11 => 2,
            Version::HTTP_2 => 3,
            Version::HTTP_3 => 4,
            _ => 5,
        };
        Self {
            method,
            version,
            https,
        }
    }

    /// `http.request.method`: as it is, or [`OTHER`] outside the conventions' list.
    pub(crate) fn method(self) -> &'static str {
        METHODS
            .get(usize::from(self.method))
            .copied()
            .unwrap_or(OTHER)
    }

    /// `network.protocol.version`: `1.1`, `2`, …
    pub(crate) fn version(self) -> &'static str {
        VERSIONS
            .get(usize::from(self.version))
            .copied()
            .unwrap_or("")
    }

    /// `url.scheme`.
    pub(crate) fn scheme(self) -> &'static str {
        SCHEMES[usize::from(self.https)]
    }

    /// A dense index of the `(method, scheme)` pair, below [`ACTIVE_PAIRS`]: where
    /// its `http_server_active_requests` child is kept.
    pub(crate) fn active_index(self) -> usize {
        usize::from(self.method) * SCHEMES.len() + usize::from(self.https)
    }

    /// The head packed into the low 16 bits of an integer, for hashing.
    pub(crate) fn packed(self) -> u16 {
        u16::from(self.method) << 8 | u16::from(self.version) << 1 | u16::from(self.https)
    }
}

/// The labels of a finished HTTP request, in a compact form that formats nothing:
/// its attributes other than the route as small integers, and the route.
#[derive(Clone, Copy)]
pub(crate) struct Labels<'a> {
    pub(crate) head: Head,
    /// `0` when the service never answered.
    /// `0` when the service never answered.
    pub(crate) status: u16,
    pub(crate) error: ErrorType,
    pub(crate) route: &'a Route,
}

/// `error.type`, by kind: its value follows from the kind and the status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ErrorType {
    /// No error: empty.
    None,
    /// A 5xx answer: its status code.
    Status,
    /// The service or the body failed: `_OTHER`.
    Other,
    /// Dropped before its end: `cancelled`.
    Cancelled,
}

impl Labels<'_> {
    /// The label values, in [`HTTP_LABELS`](crate::metrics::HTTP_LABELS)' order.
    pub(crate) fn values(&self) -> [&str; 6] {
        let status = status_code(self.status);
        let error = match self.error {
            ErrorType::None => "",
            ErrorType::Status => status,
            ErrorType::Other => OTHER,
            ErrorType::Cancelled => CANCELLED,
        };
        [
            self.head.method(),
            self.route.as_str(),
            status,
            self.head.version(),
            self.head.scheme(),
            error,
        ]
    }
}

/// The status codes `100..=999` (all `http::StatusCode` allows), three ASCII digits
/// each, built at compile time: `status_code` slices them instead of formatting.
static STATUS_DIGITS: [u8; 2700] = {
    let mut digits = [0u8; 2700];
    let mut code = 100;
    while code < 1000 {
        let at = (code - 100) * 3;
        digits[at] = b'0' + (code / 100) as u8;
        digits[at + 1] = b'0' + (code / 10 % 10) as u8;
        digits[at + 2] = b'0' + (code % 10) as u8;
        code += 1;
    }
    digits
};

/// `http.response.status_code` as text, without formatting.
pub(crate) fn status_code(code: u16) -> &'static str {
    let code = usize::from(code);
    if !(100..1000).contains(&code) {
        return "";
    }
    let at = (code - 100) * 3;
    STATUS_DIGITS
        .get(at..at + 3)
        .and_then(|digits| core::str::from_utf8(digits).ok())
        .unwrap_or("")
}

/// `rpc.grpc.status_code` as text: gRPC's codes `0..=16`.
pub(crate) const GRPC_CODES: [&str; 17] = [
    "0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15", "16",
];

/// gRPC's `CANCELLED`.
pub(crate) const GRPC_CANCELLED: u8 = 1;
/// gRPC's `UNKNOWN`.
pub(crate) const GRPC_UNKNOWN: u8 = 2;
/// gRPC's `UNIMPLEMENTED`.
pub(crate) const GRPC_UNIMPLEMENTED: u8 = 12;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_code_is_its_digits() {
        for code in 100..1000u16 {
            assert_eq!(status_code(code), code.to_string());
        }
        assert_eq!(status_code(99), "");
    }

    #[test]
    fn unknown_methods_are_other() {
        let method = |method| Head::new(&method, Version::HTTP_11, false).method();
        assert_eq!(method(Method::GET), "GET");
        assert_eq!(method(Method::PATCH), "PATCH");
        assert_eq!(method(Method::from_bytes(b"BREW").unwrap()), OTHER);
    }

    #[test]
    fn heads_index_their_tables() {
        let head = Head::new(&Method::DELETE, Version::HTTP_2, true);
        assert_eq!(
            (head.method(), head.version(), head.scheme()),
            ("DELETE", "2", "https")
        );
        let last = Head::new(
            &Method::from_bytes(b"BREW").unwrap(),
            Version::HTTP_11,
            true,
        );
        assert_eq!(last.active_index(), ACTIVE_PAIRS - 1);
    }
}
