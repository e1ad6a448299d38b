//! The HTTP exposure protocol, sans I/O: from a request head to a response.
//!
//! Every adapter (`torchlight-tokio`, `torchlight-smol`, `torchlight-async-std`) serves
//! metrics with the same rules because they all call this module; an adapter only
//! accepts connections, parses HTTP with hyper and moves bytes.
//!
//! | request | response |
//! |---|---|
//! | `GET`/`HEAD /metrics` | 200, the exposition in the negotiated [`Format`], gzip if asked for |
//! | `GET`/`HEAD /` | 200, `text/html`: a link to `/metrics` (the cheap health-check target) |
//! | another method on those paths | 405 with `Allow: GET, HEAD` |
//! | any other path | 404 |
//!
//! A `HEAD` response has the headers (and `Content-Length`) of the `GET` response and no
//! body.
//!
//! Answering is split in two so that an adapter can keep its async runtime responsive:
//! [`Request::route`] is cheap (header parsing only); [`Route::respond`] encodes the
//! registry, which is CPU work proportional to the number of series
//! ([`Route::encodes`] says whether it will), so adapters run it on a blocking-friendly
//! thread. [`Limits`] holds the resource limits every adapter applies.
//!
//! ```
//! use torchlight::exposure::Request;
//! use torchlight::{Counter, Metric, Registry};
//!
//! static HITS: Metric<Counter> = Metric::new("hits", "Hits.", Counter::new());
//! let registry = Registry::new();
//! registry.register(&HITS)?;
//!
//! // What Prometheus 2.x sends by default.
//! let accept = "application/openmetrics-text;version=1.0.0,\
//!     application/openmetrics-text;version=0.0.1;q=0.75,\
//!     text/plain;version=0.0.4;q=0.5,*/*;q=0.1";
//! let route = Request::new("GET", "/metrics").with_accept(Some(accept)).route();
//! assert!(route.encodes());
//! let response = route.respond(&registry);
//! assert_eq!(response.status(), 200);
//! assert_eq!(
//!     response.header("content-type"),
//!     Some("application/openmetrics-text; version=1.0.0; charset=utf-8")
//! );
//! assert_eq!(response.body(), b"# HELP hits Hits.\n# TYPE hits counter\nhits_total 0.0\n# EOF\n");
//!
//! let response = Request::new("POST", "/metrics").route().respond(&registry);
//! assert_eq!((response.status(), response.header("allow")), (405, Some("GET, HEAD")));
//! # Ok::<(), torchlight::RegisterError>(())
//! ```

use core::time::Duration;
use std::io::Write as _;
use std::vec::Vec;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::encoding::Format;
use crate::registry::Registry;

mod error;
mod options;

pub use error::StartError;
pub use options::Options;

/// The HTML of `GET /`, byte for byte what Python's `prometheus_async` serves (its
/// `_cheap` handler): a page a health check can fetch without encoding any metric.
pub const PAGE: &str = r#"<html><body><a href="/metrics">Metrics</a></body></html>"#;

/// The methods the two routes allow, as sent in `Allow` on a 405.
pub const ALLOW: &str = "GET, HEAD";

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const TEXT_HTML: &str = "text/html; charset=utf-8";
/// Both negotiated headers change the body of `/metrics`, so caches must key on them.
const VARY: &str = "Accept, Accept-Encoding";

/// How much an exposure server lets one client take, identical on every adapter.
///
/// Every limit bounds the time or memory a misbehaving client can hold while other
/// scrapes keep being served. Start from [`Limits::DEFAULT`] and change fields:
///
/// ```
/// use std::time::Duration;
/// use torchlight::exposure::Limits;
///
/// let mut limits = Limits::DEFAULT;
/// limits.header_read_timeout = Duration::from_secs(5);
/// assert_eq!(limits.max_connections, 128);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Limits {
    /// How long a client may take to send a request head, from its first byte or
    /// from the end of the previous response on a kept-alive connection; then the
    /// connection is closed. This also closes idle kept-alive connections.
    /// Default 30 s, hyper's own default, well above Prometheus' scrape intervals'
    /// needs (a scraper sends its whole head at once).
    pub header_read_timeout: Duration,
    /// The largest request head (request line and headers) in bytes; a larger one gets
    /// `431 Request Header Fields Too Large` and the connection is closed. Default 32 KiB,
    /// nginx's `large_client_header_buffers 4 8k`; Prometheus sends about 300 bytes.
    pub max_header_bytes: usize,
    /// Connections served at once. Further connections wait in the kernel's listen
    /// backlog (backpressure) until one finishes, so a flood delays scrapes by at most
    /// `header_read_timeout` rather than exhausting memory or file descriptors.
    /// Default 128: a few Prometheus replicas and health checkers need a handful.
    pub max_connections: usize,
    /// How long `close()` lets in-flight scrapes finish before dropping their
    /// connections. Default 5 s, half of Prometheus' default 10 s `scrape_timeout`.
    pub shutdown_grace: Duration,
}

impl Limits {
    /// The defaults described on each field.
    pub const DEFAULT: Self = Self {
        header_read_timeout: Duration::from_secs(30),
        max_header_bytes: 32 * 1024,
        max_connections: 128,
        shutdown_grace: Duration::from_secs(5),
    };
}

impl Default for Limits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// The head of an HTTP request, as far as the exposure protocol reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    method: &'a str,
    path: &'a str,
    accept: Option<&'a str>,
    accept_encoding: Option<&'a str>,
}

impl<'a> Request<'a> {
    /// A request for `path` (a query string, if still attached, is ignored) with
    /// `method` (case-sensitive, as HTTP defines methods: `GET`, `HEAD`, …).
    #[must_use]
    pub const fn new(method: &'a str, path: &'a str) -> Self {
        Self {
            method,
            path,
            accept: None,
            accept_encoding: None,
        }
    }

    /// Sets the `Accept` header's value (several header lines joined with `,`).
    #[must_use]
    pub const fn with_accept(mut self, accept: Option<&'a str>) -> Self {
        self.accept = accept;
        self
    }

    /// Sets the `Accept-Encoding` header's value (several lines joined with `,`).
    #[must_use]
    pub const fn with_accept_encoding(mut self, accept_encoding: Option<&'a str>) -> Self {
        self.accept_encoding = accept_encoding;
        self
    }

    /// Decides what to answer: routing and content negotiation, no encoding yet.
    #[must_use]
    pub fn route(&self) -> Route {
        let path = self.path.split('?').next().unwrap_or_default();
        let head = self.method == "HEAD";
        let allowed = head || self.method == "GET";
        let target = match (path, allowed) {
            ("/metrics", true) => Target::Exposition {
                format: negotiate(self.accept),
                gzip: accepts_gzip(self.accept_encoding),
            },
            ("/", true) => Target::Page,
            ("/metrics" | "/", false) => Target::MethodNotAllowed,
            _ => Target::NotFound,
        };
        Route { target, head }
    }
}

/// What a request asked for, once routed and negotiated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// The metrics, in `format`, gzip-compressed if `gzip`.
    Exposition {
        /// The negotiated exposition format.
        format: Format,
        /// Whether the body is sent with `Content-Encoding: gzip`.
        gzip: bool,
    },
    /// The small HTML page at `/`.
    Page,
    /// A path that does not exist: 404.
    NotFound,
    /// A method other than `GET` or `HEAD` on an existing path: 405.
    MethodNotAllowed,
}

/// A routed request: what to answer, and whether without a body (`HEAD`).
///
/// `Route` is `Copy + Send + 'static`, so it can be moved to a blocking thread for
/// [`respond`](Self::respond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    target: Target,
    head: bool,
}

impl Route {
    /// What the request asked for.
    #[must_use]
    pub const fn target(&self) -> Target {
        self.target
    }

    /// Whether the request was a `HEAD`: the response has headers and no body.
    #[must_use]
    pub const fn is_head(&self) -> bool {
        self.head
    }

    /// Whether [`respond`](Self::respond) will encode the registry (work that grows with
    /// the number of series; run it where blocking is allowed).
    #[must_use]
    pub const fn encodes(&self) -> bool {
        matches!(self.target, Target::Exposition { .. })
    }

    /// Builds the response, encoding `registry` if the route is the exposition.
    ///
    /// Never fails: a metric whose [`Collect`](crate::Collect) impl returns an error
    /// gives a 500 response.
    #[must_use]
    pub fn respond(self, registry: &Registry) -> Response {
        let mut response = match self.target {
            Target::Exposition { format, gzip } => match exposition(registry, format, gzip) {
                Some(body) => {
                    let mut headers = Vec::with_capacity(3);
                    headers.push(("content-type", format.content_type()));
                    if gzip {
                        headers.push(("content-encoding", "gzip"));
                    }
                    headers.push(("vary", VARY));
                    Response::new(200, headers, body)
                }
                None => Response::plain(500, "500: Internal Server Error"),
            },
            Target::Page => Response::new(
                200,
                std::vec![("content-type", TEXT_HTML)],
                PAGE.as_bytes().to_vec(),
            ),
            Target::NotFound => Response::plain(404, "404: Not Found"),
            Target::MethodNotAllowed => {
                let mut response = Response::plain(405, "405: Method Not Allowed");
                response.headers.push(("allow", ALLOW));
                response
            }
        };
        if self.head {
            response.body = Vec::new();
        }
        response
    }
}

/// An HTTP response to send: status, headers, body.
///
/// Header names are lowercase. `Content-Length` is not among the headers: send
/// [`content_length`](Self::content_length), which for a `HEAD` response is the length
/// the `GET` body would have.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Vec<u8>,
    /// Invariant: the length of the body a `GET` gets (the body's own length unless the
    /// body was dropped for `HEAD`).
    content_length: usize,
}

impl Response {
    fn new(status: u16, headers: Vec<(&'static str, &'static str)>, body: Vec<u8>) -> Self {
        Self {
            status,
            headers,
            content_length: body.len(),
            body,
        }
    }

    fn plain(status: u16, body: &str) -> Self {
        Self::new(
            status,
            std::vec![("content-type", TEXT_PLAIN)],
            body.as_bytes().to_vec(),
        )
    }

    /// The status code.
    #[must_use]
    pub const fn status(&self) -> u16 {
        self.status
    }

    /// The headers, lowercase names, in the order to send them.
    #[must_use]
    pub fn headers(&self) -> &[(&'static str, &'static str)] {
        &self.headers
    }

    /// The value of header `name` (lowercase), if set.
    #[must_use]
    pub fn header(&self, name: &str) -> Option<&'static str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| *value)
    }

    /// The value for `Content-Length`.
    #[must_use]
    pub const fn content_length(&self) -> usize {
        self.content_length
    }

    /// The body (empty for `HEAD`).
    #[must_use]
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// Takes the body.
    #[must_use]
    pub fn into_body(self) -> Vec<u8> {
        self.body
    }
}

/// Encodes `registry`, compressed if `gzip`; `None` if a collector failed.
fn exposition(registry: &Registry, format: Format, gzip: bool) -> Option<Vec<u8>> {
    let mut body = Vec::new();
    registry.encode_to(&mut body, format).ok()?;
    if !gzip {
        return Some(body);
    }
    // Level 1: exposition text is repetitive, so the fastest level already shrinks it
    // several times, at a fraction of the default level's CPU time per scrape.
    let mut encoder = GzEncoder::new(Vec::with_capacity(body.len() / 4), Compression::fast());
    // Writing into a `Vec` cannot fail; `ok()?` keeps that an error path, not a panic.
    encoder.write_all(&body).ok()?;
    encoder.finish().ok()
}

/// The exposition format to serve for an `Accept` header value.
///
/// Parses media ranges with their parameters and q-values (media types and parameter
/// names case-insensitively, quoted values unquoted) and picks the format with the
/// highest quality, each format taking the quality of the most specific range that
/// matches it (RFC 9110 §12.5.1):
///
/// - OpenMetrics matches `application/openmetrics-text` with no `version` or with
///   `version` `1.0.0` or `0.0.1` (what Prometheus asks for), `application/*`, `*/*`;
/// - text 0.0.4 matches `text/plain` with no `version` or `version=0.0.4`, `text/*`,
///   `*/*`.
///
/// Equal qualities go to the format whose range comes first in the header; one range
/// matching both (`*/*`) gives text. Text 0.0.4 is also the answer when nothing is
/// acceptable (`q=0` everywhere, an unsupported type, no header): Prometheus reads it
/// whatever it asked for.
#[must_use]
pub fn negotiate(accept: Option<&str>) -> Format {
    let (mut open_metrics, mut text) = (Quality::NONE, Quality::NONE);
    for (position, element) in elements(accept.unwrap_or_default()).enumerate() {
        let Some(range) = MediaRange::parse(element) else {
            continue;
        };
        open_metrics.consider(range.specificity(Format::OpenMetrics), range.q, position);
        text.consider(range.specificity(Format::Text), range.q, position);
    }
    let prefer_open_metrics = open_metrics.q > 0
        && (open_metrics.q > text.q
            || (open_metrics.q == text.q && open_metrics.position < text.position));
    if prefer_open_metrics {
        Format::OpenMetrics
    } else {
        Format::Text
    }
}

/// Whether to gzip for an `Accept-Encoding` header value.
///
/// gzip (or `x-gzip`, or `*` when neither is listed) must have a quality above 0 and
/// at least that of `identity` when `identity` (or `*`) is listed; an unlisted
/// `identity` is acceptable but not preferred. When nothing is acceptable
/// (`identity;q=0` alone) the body is sent uncompressed rather than refused.
#[must_use]
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let (mut gzip, mut identity, mut any) = (None, None, None);
    for element in elements(accept_encoding.unwrap_or_default()) {
        let mut parts = element.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let Some(q) = parts.find_map(q_param).unwrap_or(Some(1000)) else {
            continue;
        };
        let slot = if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if coding == "*" {
            &mut any
        } else {
            continue;
        };
        *slot = Some(slot.map_or(q, |old: u16| old.max(q)));
    }
    let gzip = gzip.or(any).unwrap_or(0);
    gzip > 0 && identity.or(any).is_none_or(|identity| gzip >= identity)
}

/// The comma-separated elements of a header value, skipping commas inside quotes.
fn elements(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = value;
    core::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let (mut quoted, mut escaped, mut end) = (false, false, rest.len());
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' if quoted => escaped = true,
                    '"' => quoted = !quoted,
                    ',' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let element = rest[..end].trim();
            rest = rest.get(end + 1..).unwrap_or_default();
            if !element.is_empty() {
                return Some(element);
            }
        }
    })
}

/// A `q=` parameter's value in thousandths: `None` if `param` is another parameter,
/// `Some(None)` if it is a malformed q-value.
fn q_param(param: &str) -> Option<Option<u16>> {
    let (name, value) = param.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("q") {
        return None;
    }
    Some(parse_q(unquote(value.trim())))
}

/// Parses a qvalue (`0`, `0.5`, `1.000`; RFC 9110 §12.4.2) into thousandths.
fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let frac = frac
        .bytes()
        .chain(core::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    let q = int + frac;
    (q <= 1000).then_some(q)
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// One element of an `Accept` header.
struct MediaRange<'a> {
    kind: &'a str,
    subtype: &'a str,
    /// The `version` media-type parameter, unquoted.
    version: Option<&'a str>,
    /// Quality in thousandths.
    q: u16,
}

impl<'a> MediaRange<'a> {
    /// `None` for a malformed range or q-value: such an element is ignored.
    fn parse(element: &'a str) -> Option<Self> {
        let mut parts = element.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let (mut version, mut q) = (None, 1000);
        for param in parts {
            if let Some(value) = q_param(param) {
                q = value?;
                // Parameters after `q` are accept-extensions, not media-type parameters.
                break;
            }
            if let Some((name, value)) = param.split_once('=') {
                if name.trim().eq_ignore_ascii_case("version") {
                    version = Some(unquote(value.trim()));
                }
            }
        }
        Some(Self {
            kind,
            subtype,
            version,
            q,
        })
    }

    /// How specifically this range names `format` (higher is more specific), or `None`
    /// if it does not match it.
    fn specificity(&self, format: Format) -> Option<u8> {
        let (kind, subtype, versions): (_, _, &[&str]) = match format {
            Format::OpenMetrics => ("application", "openmetrics-text", &["1.0.0", "0.0.1"]),
            Format::Text => ("text", "plain", &["0.0.4"]),
        };
        if self.kind == "*" {
            return Some(0);
        }
        if !self.kind.eq_ignore_ascii_case(kind) {
            return None;
        }
        if self.subtype == "*" {
            return Some(1);
        }
        if !self.subtype.eq_ignore_ascii_case(subtype) {
            return None;
        }
        match self.version {
            None => Some(2),
            Some(version) if versions.contains(&version) => Some(3),
            Some(_) => None,
        }
    }
}

/// The quality a format gets from the most specific range that matches it.
struct Quality {
    specificity: Option<u8>,
    q: u16,
    position: usize,
}

impl Quality {
    const NONE: Self = Self {
        specificity: None,
        q: 0,
        position: usize::MAX,
    };

    fn consider(&mut self, specificity: Option<u8>, q: u16, position: usize) {
        let Some(specificity) = specificity else {
            return;
        };
        let better = match self.specificity {
            None => true,
            Some(current) => specificity > current || (specificity == current && q > self.q),
        };
        if better {
            *self = Self {
                specificity: Some(specificity),
                q,
                position,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn q_values_parse_as_rfc_9110_says() {
        for (text, q) in [
            ("0", 0),
            ("1", 1000),
            ("0.5", 500),
            ("0.125", 125),
            ("1.000", 1000),
            ("1.", 1000),
            ("0.1", 100),
        ] {
            assert_eq!(parse_q(text), Some(q), "{text}");
        }
        for text in ["", "2", "1.5", "0.1234", "-1", "0.x", "abc", "1.001"] {
            assert_eq!(parse_q(text), None, "{text}");
        }
    }

    #[test]
    fn elements_split_on_commas_outside_quotes() {
        let split: Vec<&str> = elements(r#" a , b;x="1,2" ,,c;y="\"," "#).collect();
        assert_eq!(split, ["a", r#"b;x="1,2""#, r#"c;y="\",""#]);
        assert_eq!(elements("").count(), 0);
    }

    #[test]
    fn media_ranges_keep_version_and_q() {
        let range =
            MediaRange::parse(r#"Application/OpenMetrics-Text ; VERSION="1.0.0" ; Q=0.8 ; ext=1"#)
                .unwrap();
        assert_eq!(
            (range.kind, range.subtype, range.version, range.q),
            ("Application", "OpenMetrics-Text", Some("1.0.0"), 800)
        );
        assert_eq!(range.specificity(Format::OpenMetrics), Some(3));
        assert_eq!(range.specificity(Format::Text), None);
        assert!(MediaRange::parse("text").is_none());
        assert!(MediaRange::parse("*/plain").is_none());
        assert!(MediaRange::parse("text/plain;q=abc").is_none());
    }
}
