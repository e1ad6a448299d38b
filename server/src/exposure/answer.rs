//! Step 4 of a request: the [`Response`] to a [`Route`], from the encoded body when the
//! route is the exposition, and its hyper form.

use bytes::Bytes;
use http_body_util::Full;
use hyper::StatusCode;
use hyper::header::{CONTENT_LENGTH, HeaderName, HeaderValue};
use torchlight::Registry;

use super::authorize::CHALLENGE;
use super::encode::{Encoded, encode};
use super::route::{ALLOW, PAGE, Route, Target};

const TEXT_PLAIN: &str = "text/plain; charset=utf-8";
const TEXT_HTML: &str = "text/html; charset=utf-8";
/// The body of every 500: short, and the same whatever failed.
const INTERNAL_SERVER_ERROR: &str = "500: Internal Server Error";
/// Both negotiated headers change the body of `/metrics`, so caches must key on them.
const VARY: &str = "Accept, Accept-Encoding";

impl Route {
    /// Builds the response, encoding `registry` if the route is the exposition (CPU
    /// work that grows with the number of series: see [`encodes`](Self::encodes)).
    ///
    /// Never fails: a metric whose [`Collect`](torchlight::Collect) impl returns an
    /// error, or panics, gives a 500 response.
    #[must_use]
    pub fn respond(self, registry: &Registry) -> Response {
        let encoded = match self.target {
            Target::Exposition { format, gzip } => encode(registry, format, gzip),
            _ => None,
        };
        self.answer(encoded)
    }

    /// The response to this route given its encoded exposition (`None` when the route
    /// does not encode, or when encoding failed).
    pub(crate) fn answer(self, encoded: Encoded) -> Response {
        let mut response = match self.target {
            Target::Exposition { format, gzip } => match encoded {
                Some(body) => {
                    let mut headers = Vec::with_capacity(3);
                    headers.push(("content-type", format.content_type()));
                    if gzip {
                        headers.push(("content-encoding", "gzip"));
                    }
                    headers.push(("vary", VARY));
                    Response::new(200, headers, body)
                }
                None => Response::plain(500, INTERNAL_SERVER_ERROR),
            },
            Target::Page => Response::new(
                200,
                vec![("content-type", TEXT_HTML)],
                Bytes::from_static(PAGE.as_bytes()),
            ),
            Target::NotFound => Response::plain(404, "404: Not Found"),
            Target::MethodNotAllowed => {
                let mut response = Response::plain(405, "405: Method Not Allowed");
                response.headers.push(("allow", ALLOW));
                response
            }
            Target::Unauthorized => {
                let mut response = Response::plain(401, "401: Unauthorized");
                response.headers.push(("www-authenticate", CHALLENGE));
                response
            }
        };
        if self.head {
            response.body = Bytes::new();
        }
        response
    }
}

/// An HTTP response to send: status, headers, body.
///
/// Header names are lowercase. `Content-Length` is not among the headers: send
/// [`content_length`](Self::content_length), which for a `HEAD` response is the length
/// the `GET` body would have. Cloning is cheap: the body is shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    status: u16,
    headers: Vec<(&'static str, &'static str)>,
    body: Bytes,
    /// Invariant: the length of the body a `GET` gets (the body's own length unless the
    /// body was dropped for `HEAD`).
    content_length: usize,
}

impl Response {
    fn new(status: u16, headers: Vec<(&'static str, &'static str)>, body: Bytes) -> Self {
        Self {
            status,
            headers,
            content_length: body.len(),
            body,
        }
    }

    fn plain(status: u16, body: &'static str) -> Self {
        Self::new(
            status,
            vec![("content-type", TEXT_PLAIN)],
            Bytes::from_static(body.as_bytes()),
        )
    }

    /// The answer to `route` when building its response failed outside the protocol
    /// (a collector panicked instead of returning an error): the same 500, with the
    /// same short body, that a failing collector gives.
    ///
    /// ```
    /// use torchlight_smol::exposure::{Request, Response};
    ///
    /// let response = Response::internal_server_error(Request::new("GET", "/metrics").route());
    /// assert_eq!((response.status(), response.body()), (500, &b"500: Internal Server Error"[..]));
    /// let head = Response::internal_server_error(Request::new("HEAD", "/metrics").route());
    /// assert_eq!((head.body(), head.content_length()), (&b""[..], 26));
    /// ```
    #[must_use]
    pub fn internal_server_error(route: Route) -> Self {
        let mut response = Self::plain(500, INTERNAL_SERVER_ERROR);
        if route.head {
            response.body = Bytes::new();
        }
        response
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
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The hyper response (the body is shared, not copied).
    pub(crate) fn to_hyper(&self) -> hyper::Response<Full<Bytes>> {
        let mut response = hyper::Response::new(Full::new(self.body.clone()));
        *response.status_mut() =
            StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let headers = response.headers_mut();
        for &(name, value) in &self.headers {
            // The protocol's header names are lowercase tokens and its values visible
            // ASCII.
            headers.insert(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            );
        }
        headers.insert(CONTENT_LENGTH, HeaderValue::from(self.content_length));
        response
    }
}
