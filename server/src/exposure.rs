//! The HTTP exposure protocol, sans I/O: from a request head to a response, in four
//! steps, each in a file named for it.
//!
//! The server, in both modes, and the embeddable `MetricsService` answer every request
//! through this module, on every runtime; they only accept connections, parse HTTP
//! with hyper and move bytes. Use it directly to serve metrics from another HTTP
//! stack.
//!
//! 1. `route.rs`: [`Request::route`] reads the head (method, path, `Accept`,
//!    `Accept-Encoding`) into a [`Route`]: routing and content negotiation.
//! 2. `authorize.rs`: [`Route::authorize`] turns it into a 401 unless the
//!    [`Credentials`] pass the server's [`Authenticate`] check (basic auth only).
//! 3. `encode.rs`: the registry encoded in the negotiated format, gzip'd if asked
//!    for; the server shares one encoding between concurrent scrapes.
//! 4. `answer.rs`: the [`Response`]: status, headers, body.
//!
//! | request | response |
//! |---|---|
//! | `GET`/`HEAD /metrics` | 200, the exposition in the negotiated [`Format`](torchlight::Format), gzip if asked for |
//! | `GET`/`HEAD /` | 200, `text/html`: a link to `/metrics` (the cheap health-check target) |
//! | another method on those paths | 405 with `Allow: GET, HEAD` |
//! | any other path | 404 |
//! | anything without valid credentials, where basic authentication is required ([`Route::authorize`]) | 401 with `WWW-Authenticate` |
//!
//! A `HEAD` response has the headers (and `Content-Length`) of the `GET` response and no
//! body.
//!
//! [`Request::route`] is cheap (header parsing only); [`Route::respond`] (steps 3 and 4)
//! encodes the registry, which is CPU work proportional to the number of series
//! ([`Route::encodes`] says whether it will), so the server runs it on its runtime's
//! blocking pool.
//!
//! ```
//! use torchlight_smol::exposure::Request;
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

mod answer;
mod authorize;
pub(crate) mod encode;
mod negotiation;
mod route;

pub use answer::Response;
pub(crate) use authorize::authorize;
pub use authorize::{Authenticate, CHALLENGE, Credentials};
pub use negotiation::{accepts_gzip, negotiate, negotiate_exposition};
pub use route::{ALLOW, PAGE, Request, Route, Target};
