//! One request in flight: what the layer read from its head, when it started, and the
//! gauge it counts in. It ends exactly once, from whichever comes first: the response
//! body's end, the service's error, or a drop (of the response future before the
//! response, or of the body before its end: a client that went away, a timeout). A
//! drop that was not an end records the request as cancelled, so the active-requests
//! gauge always comes back down.
//!
//! Nothing here allocates: the labels are `&'static str`s, the route an `Arc` clone,
//! a gRPC path and a trace context fixed-size copies, and the children of existing
//! label sets are found without allocating.

use std::sync::Arc;

use http::{HeaderMap, Request, StatusCode};
use torchlight::Clock;

use crate::attributes::{
    ErrorType, GRPC_CANCELLED, GRPC_CODES, GRPC_UNIMPLEMENTED, GRPC_UNKNOWN, Head, Labels, OTHER,
};
use crate::grpc;
use crate::metrics::Metrics;
use crate::route::Route;
use crate::traceparent::TraceContext;

/// How a request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum End {
    /// The response was sent whole.
    Complete,
    /// The service failed before a response, or the body failed mid-stream.
    Failed,
    /// Dropped before its end.
    Cancelled,
}

/// The longest gRPC path (`/package.Service/Method`) kept as labels; a longer one is
/// recorded as `_OTHER` (fully qualified names are far shorter in practice).
const GRPC_PATH: usize = 160;

/// A gRPC call's path, copied so it outlives the request.
struct GrpcPath {
    /// Invariant: `bytes[..len]` is UTF-8 (copied from a `&str`).
    bytes: [u8; GRPC_PATH],
    len: usize,
}

impl GrpcPath {
    fn new(path: &str) -> Option<Self> {
        let mut bytes = [0; GRPC_PATH];
        bytes
            .get_mut(..path.len())?
            .copy_from_slice(path.as_bytes());
        Some(Self {
            bytes,
            len: path.len(),
        })
    }

    fn as_str(&self) -> &str {
        self.bytes
            .get(..self.len)
            .and_then(|bytes| core::str::from_utf8(bytes).ok())
            .unwrap_or("")
    }
}

/// What kind of call the request is.
enum Kind {
    Http,
    /// A gRPC call; `path` is `None` when it was too long to keep.
    Grpc {
        path: Option<GrpcPath>,
        status: Option<u8>,
    },
}

/// A request in flight; see the module docs.
pub(crate) struct Measurement<C: Clock> {
    metrics: Arc<Metrics>,
    clock: C,
    start: C::Instant,
    /// The method, protocol version and scheme; also where the request's
    /// `http_server_active_requests` child is, which it incremented.
    head: Head,
    route: Route,
    kind: Kind,
    trace: Option<TraceContext>,
    /// `Content-Length` of the request, when it had one.
    request_size: Option<u64>,
    /// The response's status, once the service answered.
    status: Option<StatusCode>,
    /// Whether the answer has no body to send (a `HEAD` request, a 204 or 304, a 1xx):
    /// dropping its body unread is its end, not a cancellation.
    bodiless: bool,
    response_bytes: u64,
    /// Invariant: `true` once recorded; nothing is recorded twice.
    ended: bool,
}

impl<C: Clock> Measurement<C> {
    /// Starts measuring `request`: reads its attributes and counts it as active.
    pub(crate) fn start<B>(metrics: &Arc<Metrics>, clock: C, request: &Request<B>) -> Self {
        let start = clock.now();
        let https = match request.uri().scheme() {
            Some(scheme) if *scheme == http::uri::Scheme::HTTPS => true,
            Some(scheme) if *scheme == http::uri::Scheme::HTTP => false,
            _ => metrics.https,
        };
        let head = Head::new(request.method(), request.version(), https);
        let kind = if grpc::is_grpc(request.headers()) {
            Kind::Grpc {
                path: GrpcPath::new(request.uri().path()),
                status: None,
            }
        } else {
            Kind::Http
        };
        metrics.active(head).inc();
        Self {
            metrics: Arc::clone(metrics),
            clock,
            start,
            head,
            route: Route::from_extensions(request.extensions()),
            kind,
            trace: TraceContext::from_headers(request.headers()),
            request_size: content_length(request.headers()),
            status: None,
            bodiless: request.method() == http::Method::HEAD,
            response_bytes: 0,
            ended: false,
        }
    }

    /// The service answered with this head; a gRPC status in it is a trailers-only
    /// answer's.
    pub(crate) fn respond(&mut self, status: StatusCode, headers: &HeaderMap) {
        self.status = Some(status);
        self.bodiless |= status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED;
        self.trailers(headers);
    }

    /// Trailers (or a trailers-only head) went by: keep a gRPC status.
    pub(crate) fn trailers(&mut self, fields: &HeaderMap) {
        if let Kind::Grpc { status, .. } = &mut self.kind {
            if let Some(code) = grpc::status(fields) {
                *status = Some(code);
            }
        }
    }

    /// `bytes` of the response body went by.
    pub(crate) fn sent(&mut self, bytes: usize) {
        self.response_bytes = self.response_bytes.saturating_add(bytes as u64);
    }

    /// Whether dropping the unread body ends the request rather than cancelling it.
    pub(crate) fn bodiless(&self) -> bool {
        self.bodiless
    }

    /// Records the request as `end` and gives its gauge back; once.
    pub(crate) fn end(&mut self, end: End) {
        if core::mem::replace(&mut self.ended, true) {
            return;
        }
        let seconds = C::seconds_between(self.start, self.clock.now());
        let trace = self.trace.as_ref();
        match &self.kind {
            Kind::Http => self.end_http(end, seconds, trace),
            Kind::Grpc { path, status } => {
                let code = match end {
                    End::Cancelled => GRPC_CANCELLED,
                    End::Failed => GRPC_UNKNOWN,
                    End::Complete => status.unwrap_or_else(|| match self.status {
                        Some(http) if http != StatusCode::OK => grpc::status_of_http(http),
                        _ => GRPC_UNKNOWN,
                    }),
                };
                // A method the server does not have says nothing about the server, and
                // a scanner could invent any number of them: one `_OTHER` series.
                let (service, method) = match path {
                    Some(path) if code != GRPC_UNIMPLEMENTED => {
                        grpc::service_and_method(path.as_str())
                    }
                    _ => (OTHER, OTHER),
                };
                let code = GRPC_CODES
                    .get(usize::from(code))
                    .copied()
                    .unwrap_or(GRPC_CODES[usize::from(GRPC_UNKNOWN)]);
                let child = self
                    .metrics
                    .rpc
                    .get_or_create(["grpc", service, method, code]);
                let milliseconds = seconds * 1000.0;
                match trace {
                    Some(trace) => {
                        let _ = child.observe_with_exemplar(milliseconds, &trace.labels());
                    }
                    None => child.observe(milliseconds),
                }
            }
        }
        self.metrics.active(self.head).dec();
    }

    fn end_http(&self, end: End, seconds: f64, trace: Option<&TraceContext>) {
        let error = match end {
            End::Cancelled => ErrorType::Cancelled,
            End::Failed => ErrorType::Other,
            // The conventions: a 5xx is an error, its status code the error's type.
            End::Complete if self.status.is_some_and(|s| s.is_server_error()) => ErrorType::Status,
            End::Complete => ErrorType::None,
        };
        let labels = Labels {
            head: self.head,
            status: self.status.map_or(0, |status| status.as_u16()),
            error,
            route: &self.route,
        };
        self.metrics.observe_duration(&labels, seconds, trace);
        if self.metrics.request_size.is_none() {
            return;
        }
        let values = labels.values();
        if let (Some(family), Some(size)) = (&self.metrics.request_size, self.request_size) {
            family.get_or_create(values).observe(size as f64);
        }
        if let (Some(family), Some(_)) = (&self.metrics.response_size, self.status) {
            family
                .get_or_create(values)
                .observe(self.response_bytes as f64);
        }
    }
}

impl<C: Clock> Drop for Measurement<C> {
    fn drop(&mut self) {
        self.end(End::Cancelled);
    }
}

/// The request's `Content-Length`, when it has one, well-formed.
fn content_length(headers: &HeaderMap) -> Option<u64> {
    let value = headers.get(http::header::CONTENT_LENGTH)?;
    core::str::from_utf8(value.as_bytes())
        .ok()?
        .trim()
        .parse()
        .ok()
}
