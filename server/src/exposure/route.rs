//! Step 1 of a request: its head → a [`Route`] (routing and content negotiation, no
//! encoding yet).

use super::negotiation::{accepts_gzip, negotiate_exposition};
use torchlight::Exposition;

/// The HTML of `GET /`, byte for byte what Python's `prometheus_async` serves (its
/// `_cheap` handler): a page a health check can fetch without encoding any metric.
pub const PAGE: &str = r#"<html><body><a href="/metrics">Metrics</a></body></html>"#;

/// The methods the two routes allow, as sent in `Allow` on a 405.
pub const ALLOW: &str = "GET, HEAD";

/// The head of an HTTP request, as far as the exposure protocol reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request<'a> {
    method: &'a str,
    path: &'a str,
    accept: Option<&'a str>,
    accept_encoding: Option<&'a str>,
    created_samples: bool,
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
            created_samples: false,
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

    /// Whether an OpenMetrics answer carries `_created` samples (the server's setting,
    /// [`Options::with_created_samples`](crate::Options::with_created_samples)); off
    /// unless set.
    #[must_use]
    pub const fn with_created_samples(mut self, created_samples: bool) -> Self {
        self.created_samples = created_samples;
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
                format: negotiate_exposition(self.accept)
                    .with_created_samples(self.created_samples),
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
        /// The negotiated exposition format, with its name escaping scheme.
        format: Exposition,
        /// Whether the body is sent with `Content-Encoding: gzip`.
        gzip: bool,
    },
    /// The small HTML page at `/`.
    Page,
    /// A path that does not exist: 404.
    NotFound,
    /// A method other than `GET` or `HEAD` on an existing path: 405.
    MethodNotAllowed,
    /// Missing or wrong credentials where basic authentication is required: 401 with
    /// `WWW-Authenticate: `[`CHALLENGE`](super::CHALLENGE) (see [`Route::authorize`]).
    Unauthorized,
}

/// A routed request: what to answer, and whether without a body (`HEAD`).
///
/// `Route` is `Copy + Send + 'static`, so it can be moved to a blocking thread for
/// [`respond`](Self::respond).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Route {
    pub(super) target: Target,
    pub(super) head: bool,
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
}
