//! Request metrics for any HTTP service in one line: a tower [`Layer`](tower_layer::Layer)
//! that records OpenTelemetry's HTTP server metrics into a torchlight
//! [`Registry`](torchlight::Registry), on any runtime.
//!
//! ```
//! # use axum_routing as axum;
//! use torchlight_tower::MetricsLayer;
//!
//! async fn user() -> &'static str {
//!     "a user"
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let app = axum::Router::new()
//!     .route("/users/{id}", axum::routing::get(user))
//!     .layer(MetricsLayer::new(&torchlight::REGISTRY)?);
//! # // One request through the app, its body read to the end, is recorded.
//! # use http_body_util::BodyExt as _;
//! # use tower::ServiceExt as _;
//! # futures_lite::future::block_on(async {
//! #     let request = http::Request::get("/users/7").body(axum::body::Body::empty())?;
//! #     app.oneshot(request).await?.into_body().collect().await?;
//! #     Ok::<_, Box<dyn std::error::Error>>(())
//! # })?;
//! # let mut text = String::new();
//! # torchlight::REGISTRY.encode(&mut text, torchlight::Format::Text)?;
//! # assert!(text.contains("http_server_request_duration_seconds_count{http_request_method=\"GET\","), "{text}");
//! # Ok(()) }
//! ```
//!
//! (`axum::Router::layer` runs the layer after routing, so with the feature `axum` it
//! records each route's template; `MetricsLayer::new` fails if a layer already
//! registered its metrics on that registry: clone that one instead.)
//!
//! # What it records
//!
//! Names and attributes follow OpenTelemetry's semantic conventions v1.37.0
//! ("Semantic conventions for HTTP metrics", stable since v1.23.0), as the
//! OpenTelemetry-to-Prometheus translation names them (dots become underscores, the
//! unit becomes a suffix):
//!
//! | metric | type | labels |
//! |---|---|---|
//! | `http_server_request_duration_seconds` | histogram, the conventions' advisory bounds 0.005 … 10 s; exemplars; optionally native | `http_request_method`, `http_route`, `http_response_status_code`, `network_protocol_version`, `url_scheme`, `error_type` |
//! | `http_server_active_requests` | gauge | `http_request_method`, `url_scheme` |
//! | `http_server_request_body_size_bytes`, `http_server_response_body_size_bytes` (with [`Builder::with_body_sizes`]) | histogram, 64 B … 16 MiB | as the duration |
//! | `rpc_server_duration_milliseconds` (gRPC calls) | histogram, the SDK's default bounds 0 … 10 000 ms; exemplars | `rpc_system`, `rpc_service`, `rpc_method`, `rpc_grpc_status_code` |
//!
//! - **Route templates, not paths.** `http_route` is the template of the route the
//!   request matched, `/users/{id}`: axum's `MatchedPath` (feature `axum`; add the
//!   layer with `Router::layer` so it runs after routing), or a [`RouteTemplate`] your
//!   router inserts into the request's extensions. A request no route matched carries
//!   an empty `http_route`, which Prometheus stores as no label at all. A method
//!   outside RFC 9110's list and PATCH is `_OTHER`. Every family keeps the core's
//!   cardinality limit (past it, one `otel_metric_overflow="true"` series).
//! - **Timing ends when the response does:** when the response body's last frame has
//!   been handed to the server (streamed bodies included), not when the handler
//!   returned. A request whose future or body is dropped first (the client went away,
//!   a timeout layer gave up) is recorded once, with `error_type="cancelled"`
//!   ([`CANCELLED`]); a service error is `error_type="_OTHER"`; a 5xx answer's
//!   `error_type` is its status code, as the conventions say. Whatever happens,
//!   `http_server_active_requests` comes back down.
//! - **Exemplars** from the request's W3C `traceparent` header, when its trace is
//!   sampled: `trace_id` and `span_id`, on the bucket the request went to (one per
//!   bucket, the latest). No tracing dependency. Reading the current OpenTelemetry
//!   span instead is left out for now: put a `traceparent` on the request (an
//!   OpenTelemetry propagator does) and the layer finds it.
//! - **gRPC** through the same layer: a request with `content-type: application/grpc`
//!   is a call, recorded under the RPC conventions (v1.37.0, `rpc.server.duration`,
//!   unit `ms`) instead of the HTTP histogram, its status from the `grpc-status`
//!   field of the trailers or, for a trailers-only answer, of the head. A call of a
//!   method the server does not have (`UNIMPLEMENTED`) is recorded with
//!   `rpc_service` and `rpc_method` `_OTHER`, so a scanner cannot invent series.
//!   This reads the gRPC wire format over plain `http` types: it is tested with
//!   gRPC-shaped responses made by hand, not with tonic.
//! - **Any runtime.** The layer depends on tower's traits and `http` only, and reads
//!   time from a torchlight [`Clock`](torchlight::Clock) ([`StdClock`](torchlight::StdClock)
//!   by default; [`Builder::with_clock`] takes a runtime's).
//! - **Allocation-free per request** once a label set exists: labels are
//!   `&'static str`s (status codes from a table, not formatted), the route an `Arc`
//!   clone, the trace context a fixed-size copy. A request whose label set was seen
//!   before finds its duration series in the layer's own cache (no hash of the label
//!   values, no lock) and its active-requests gauge by index; the benchmark (case 13
//!   in BENCHMARKS.md) puts the layer at about a quarter of what `axum-prometheus`
//!   adds to a request.
//!
//! # Features
//!
//! | feature | enables | costs |
//! |---|---|---|
//! | `axum` | `http_route` from axum's `MatchedPath` | axum without its runtime features (no tokio) |
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod attributes;
mod body;
mod cache;
mod future;
mod grpc;
mod layer;
mod measurement;
mod metrics;
mod route;
mod service;
mod traceparent;

pub use attributes::{CANCELLED, OTHER};
pub use body::ResponseBody;
pub use future::ResponseFuture;
pub use layer::{Builder, MetricsLayer};
pub use route::RouteTemplate;
pub use service::MetricsService;
