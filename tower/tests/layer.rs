//! The layer's semantics, one test each, driven in-process through
//! `tower::ServiceExt` with a `ManualClock`, so every duration is exact. Hyper servers
//! on tokio and smol are `tests/tests/suite/tower_layer.rs`'s.
#![forbid(unsafe_code)]
// The helpers below are test code too: a failed step is a failed test.
#![allow(clippy::unwrap_used)]

use std::collections::VecDeque;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_lite::future::{self, block_on};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body::{Body as _, Frame};
use http_body_util::{BodyExt as _, Empty, Full};
use torchlight::{Format, ManualClock, Registry};
use torchlight_tower::{MetricsLayer, ResponseBody, RouteTemplate};
use tower::{Layer as _, Service as _, ServiceExt as _, service_fn};

/// A body of frames; the clock moves one second before each is handed out.
struct Frames {
    frames: VecDeque<Frame<Bytes>>,
    clock: &'static ManualClock,
}

impl Frames {
    fn new(clock: &'static ManualClock, frames: impl IntoIterator<Item = Frame<Bytes>>) -> Self {
        Self {
            frames: frames.into_iter().collect(),
            clock,
        }
    }
}

impl http_body::Body for Frames {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let frame = self.frames.pop_front();
        if frame.is_some() {
            self.clock.advance(Duration::from_secs(1));
        }
        Poll::Ready(frame.map(Ok))
    }

    fn is_end_stream(&self) -> bool {
        self.frames.is_empty()
    }
}

fn clock() -> &'static ManualClock {
    Box::leak(Box::new(ManualClock::new()))
}

fn text(registry: &Registry, format: Format) -> String {
    let mut text = String::new();
    registry.encode(&mut text, format).unwrap();
    text
}

fn request(method: Method, path: &str) -> Request<Empty<Bytes>> {
    Request::builder()
        .method(method)
        .uri(path)
        .body(Empty::new())
        .unwrap()
}

/// `/users/{id}` and `/` matched by a toy router (a `RouteTemplate` in the
/// extensions), anything else unmatched; each answers `hello` with the status in its
/// `x-status` header (200 by default).
fn app(
    registry: &Registry,
    clock: &'static ManualClock,
) -> impl tower::Service<
    Request<Empty<Bytes>>,
    Response = Response<ResponseBody<Full<Bytes>, &'static ManualClock>>,
    Error = Infallible,
    Future: Send,
> + Clone
+ use<> {
    let layer = MetricsLayer::builder()
        .with_clock(clock)
        .build(registry)
        .unwrap();
    tower::ServiceBuilder::new()
        .map_request(|mut request: Request<Empty<Bytes>>| {
            let path = request.uri().path();
            let template = if path == "/" {
                Some("/")
            } else if path.starts_with("/users/") {
                Some("/users/{id}")
            } else {
                None
            };
            if let Some(template) = template {
                request
                    .extensions_mut()
                    .insert(RouteTemplate::new(template));
            }
            request
        })
        .layer(layer)
        .service(service_fn(|request: Request<Empty<Bytes>>| async move {
            let status = request
                .headers()
                .get("x-status")
                .map_or(200, |value| value.to_str().unwrap().parse().unwrap());
            Ok::<_, Infallible>(
                Response::builder()
                    .status(status)
                    .body(Full::new(Bytes::from_static(b"hello")))
                    .unwrap(),
            )
        }))
}

fn call<S, B>(service: &S, request: Request<Empty<Bytes>>) -> Bytes
where
    S: tower::Service<Request<Empty<Bytes>>, Response = Response<B>, Error = Infallible> + Clone,
    B: http_body::Body<Data = Bytes, Error = Infallible>,
{
    block_on(async {
        let response = service.clone().oneshot(request).await.unwrap();
        response.into_body().collect().await.unwrap().to_bytes()
    })
}

const LABELS: &str = "network_protocol_version=\"1.1\",url_scheme=\"http\"";

#[test]
fn http_route_is_the_template_and_absent_when_unmatched() {
    let registry = Registry::new();
    let service = app(&registry, clock());
    call(&service, request(Method::GET, "/users/1"));
    call(&service, request(Method::GET, "/users/2"));
    call(&service, request(Method::GET, "/nowhere"));
    let text = text(&registry, Format::Text);
    assert!(
        text.contains(&format!(
            "http_server_request_duration_seconds_count{{http_request_method=\"GET\",http_route=\"/users/{{id}}\",http_response_status_code=\"200\",{LABELS},error_type=\"\"}} 2\n"
        )),
        "{text}"
    );
    assert!(text.contains(&format!(
        "http_server_request_duration_seconds_count{{http_request_method=\"GET\",http_route=\"\",http_response_status_code=\"200\",{LABELS},error_type=\"\"}} 1\n"
    )));
    assert!(!text.contains("/users/1"), "paths never become labels");
}

#[test]
fn unknown_methods_are_one_other_series() {
    let registry = Registry::new();
    let service = app(&registry, clock());
    for i in 0..50 {
        let method = Method::from_bytes(format!("SCAN{i}").as_bytes()).unwrap();
        call(&service, request(method, "/"));
    }
    let text = text(&registry, Format::Text);
    assert!(text.contains(&format!(
        "http_server_request_duration_seconds_count{{http_request_method=\"_OTHER\",http_route=\"/\",http_response_status_code=\"200\",{LABELS},error_type=\"\"}} 50\n"
    )));
    assert!(!text.contains("SCAN"));
}

#[test]
fn the_cardinality_limit_holds_with_an_overflow_series() {
    let registry = Registry::new();
    let service = tower::ServiceBuilder::new()
        .map_request(|mut request: Request<Empty<Bytes>>| {
            // A router that (wrongly) reports every path as its own route.
            let path: &'static str = request.uri().path().to_owned().leak();
            request.extensions_mut().insert(RouteTemplate::new(path));
            request
        })
        .layer(
            MetricsLayer::builder()
                .with_limit(3)
                .build(&registry)
                .unwrap(),
        )
        .service(service_fn(|_| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        }));
    for i in 0..20 {
        call(&service, request(Method::GET, &format!("/p{i}")));
    }
    let text = text(&registry, Format::Text);
    let counts: Vec<&str> = text
        .lines()
        .filter(|line| line.starts_with("http_server_request_duration_seconds_count"))
        .collect();
    assert_eq!(counts.len(), 4, "{counts:#?}");
    assert!(
        counts[3].ends_with("{otel_metric_overflow=\"true\"} 17"),
        "{counts:#?}"
    );
}

#[test]
fn with_an_idle_timeout_series_expire_after_a_scrape_and_requests_never_go_unseen() {
    let registry = Registry::new();
    let layer = MetricsLayer::builder()
        .with_clock(clock())
        .with_body_sizes()
        .with_idle_timeout(Duration::ZERO)
        .build(&registry)
        .unwrap();
    let service = tower::ServiceBuilder::new()
        .map_request(|mut request: Request<Empty<Bytes>>| {
            request
                .extensions_mut()
                .insert(RouteTemplate::new("/users/{id}"));
            request
        })
        .layer(layer)
        .service(service_fn(|_| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hi"))))
        }));
    let count = |text: &str| {
        let prefix = format!(
            "http_server_request_duration_seconds_count{{http_request_method=\"GET\",http_route=\"/users/{{id}}\",http_response_status_code=\"200\",{LABELS},error_type=\"\"}} "
        );
        text.lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .map(|count| count.parse::<u64>().unwrap())
    };
    for round in 0..3 {
        call(&service, request(Method::GET, "/users/1"));
        assert_eq!(
            count(&text(&registry, Format::Text)),
            Some(1),
            "round {round}"
        );
        // The last request before the series goes: shown by the next scrape.
        call(&service, request(Method::GET, "/users/2"));
        let shown = text(&registry, Format::Text);
        assert_eq!(count(&shown), Some(2), "round {round}: {shown}");
        assert!(shown.contains("http_server_response_body_size_bytes_count{"));
        // Unused since: gone, every family keyed by route with it.
        let gone = text(&registry, Format::Text);
        assert_eq!(count(&gone), None, "round {round}: {gone}");
        assert!(
            !gone.contains("http_server_response_body_size_bytes_count{"),
            "{gone}"
        );
        // The next request starts a new series: recorded where a scrape sees it, not
        // into a handle the layer kept from before.
    }
    // Active requests are a closed set of label sets, never expired.
    assert!(text(&registry, Format::Text).contains("http_server_active_requests{"));
}

#[test]
fn a_streamed_body_is_timed_to_its_end() {
    let registry = Registry::new();
    let clock = clock();
    let service = MetricsLayer::builder()
        .with_clock(clock)
        .with_body_sizes()
        .build(&registry)
        .unwrap()
        .layer(service_fn(move |_: Request<Empty<Bytes>>| async move {
            let frames = (0..3).map(|_| Frame::data(Bytes::from_static(b"chunk")));
            Ok::<_, Infallible>(Response::new(Frames::new(clock, frames)))
        }));
    let body = call(&service, request(Method::GET, "/"));
    assert_eq!(body, "chunkchunkchunk");
    let text = text(&registry, Format::Text);
    // Three frames, a second each: the handler returned at 0 s, the body ended at 3.
    assert!(text.contains("_seconds_sum{http_request_method=\"GET\",http_route=\"\",http_response_status_code=\"200\",network_protocol_version=\"1.1\",url_scheme=\"http\",error_type=\"\"} 3\n"), "{text}");
    assert!(
        text.contains("http_server_response_body_size_bytes_sum{"),
        "{text}"
    );
    assert!(
        text.contains("error_type=\"\"} 15\n"),
        "15 bytes sent: {text}"
    );
}

#[test]
fn a_request_dropped_before_its_response_is_cancelled_once() {
    let registry = Registry::new();
    let mut service =
        MetricsLayer::new(&registry)
            .unwrap()
            .layer(service_fn(|_: Request<Empty<Bytes>>| async {
                future::pending::<()>().await;
                Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
            }));
    let mut response = Box::pin(service.call(request(Method::GET, "/")));
    assert!(future::block_on(future::poll_once(&mut response)).is_none());
    assert!(text(&registry, Format::Text).contains(
        "http_server_active_requests{http_request_method=\"GET\",url_scheme=\"http\"} 1\n"
    ));
    drop(response);
    let text = text(&registry, Format::Text);
    assert!(text.contains(&format!(
        "http_server_request_duration_seconds_count{{http_request_method=\"GET\",http_route=\"\",http_response_status_code=\"\",{LABELS},error_type=\"cancelled\"}} 1\n"
    )), "{text}");
    assert!(text.contains(
        "http_server_active_requests{http_request_method=\"GET\",url_scheme=\"http\"} 0\n"
    ));
    assert_eq!(text.matches("_count{").count(), 1, "recorded once: {text}");
}

#[test]
fn a_body_dropped_before_its_end_is_cancelled_once() {
    let registry = Registry::new();
    let clock = clock();
    let service = MetricsLayer::builder()
        .with_clock(clock)
        .build(&registry)
        .unwrap()
        .layer(service_fn(move |_: Request<Empty<Bytes>>| async move {
            let frames = (0..3).map(|_| Frame::data(Bytes::from_static(b"chunk")));
            Ok::<_, Infallible>(Response::new(Frames::new(clock, frames)))
        }));
    block_on(async {
        let response = service.oneshot(request(Method::GET, "/")).await.unwrap();
        let mut body = response.into_body();
        // The client reads one chunk and goes away.
        body.frame().await.unwrap().unwrap();
        drop(body);
    });
    let text = text(&registry, Format::Text);
    assert!(text.contains(&format!(
        "http_server_request_duration_seconds_count{{http_request_method=\"GET\",http_route=\"\",http_response_status_code=\"200\",{LABELS},error_type=\"cancelled\"}} 1\n"
    )), "{text}");
    assert_eq!(text.matches("_count{").count(), 1, "recorded once: {text}");
    assert!(text.contains("url_scheme=\"http\"} 0\n"), "gauge back to 0");
}

#[test]
fn a_finished_body_dropped_unpolled_and_a_head_answer_are_complete() {
    // hyper drops a body whose `is_end_stream` is true without polling it, and never
    // reads the body of an answer to HEAD.
    let registry = Registry::new();
    let service = app(&registry, clock());
    block_on(async {
        let empty = tower::ServiceBuilder::new()
            .layer(MetricsLayer::new(&Registry::new()).unwrap())
            .service(service_fn(|_: Request<Empty<Bytes>>| async {
                Ok::<_, Infallible>(Response::new(Empty::<Bytes>::new()))
            }));
        let response = empty.oneshot(request(Method::GET, "/")).await.unwrap();
        assert!(response.body().is_end_stream());
        drop(response);
        drop(
            service
                .clone()
                .oneshot(request(Method::HEAD, "/"))
                .await
                .unwrap(),
        );
    });
    let text = text(&registry, Format::Text);
    assert!(text.contains("http_request_method=\"HEAD\",http_route=\"/\",http_response_status_code=\"200\",network_protocol_version=\"1.1\",url_scheme=\"http\",error_type=\"\"} 1\n"), "{text}");
    assert!(!text.contains("cancelled"));
}

#[test]
fn errors_have_their_type() {
    let registry = Registry::new();
    let service = app(&registry, clock());
    let mut failing = request(Method::GET, "/");
    failing
        .headers_mut()
        .insert("x-status", "503".parse().unwrap());
    call(&service, failing);
    let mut missing = request(Method::GET, "/");
    missing
        .headers_mut()
        .insert("x-status", "404".parse().unwrap());
    call(&service, missing);
    let text = text(&registry, Format::Text);
    assert!(text.contains("http_response_status_code=\"503\",network_protocol_version=\"1.1\",url_scheme=\"http\",error_type=\"503\"} 1\n"), "{text}");
    assert!(text.contains("http_response_status_code=\"404\",network_protocol_version=\"1.1\",url_scheme=\"http\",error_type=\"\"} 1\n"), "a 4xx is the client's");

    let registry = Registry::new();
    let service =
        MetricsLayer::new(&registry)
            .unwrap()
            .layer(service_fn(|_: Request<Empty<Bytes>>| async {
                Err::<Response<Empty<Bytes>>, _>(std::io::Error::other("down"))
            }));
    assert!(block_on(service.oneshot(request(Method::POST, "/"))).is_err());
    let text = self::text(&registry, Format::Text);
    assert!(text.contains("http_response_status_code=\"\",network_protocol_version=\"1.1\",url_scheme=\"http\",error_type=\"_OTHER\"} 1\n"), "{text}");
    assert!(text.contains("url_scheme=\"http\"} 0\n"), "gauge back to 0");
}

#[test]
fn a_sampled_traceparent_is_the_exemplar() {
    let registry = Registry::new();
    let service = app(&registry, clock());
    let mut traced = request(Method::GET, "/");
    traced.headers_mut().insert(
        "traceparent",
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .unwrap(),
    );
    call(&service, traced);
    let text = text(&registry, Format::OpenMetrics);
    assert!(text.contains(
        "le=\"0.005\"} 1 # {trace_id=\"4bf92f3577b34da6a3ce929d0e0e4736\",span_id=\"00f067aa0ba902b7\"} 0.0"
    ), "{text}");
}

#[test]
fn https_and_http2_requests_say_so() {
    let registry = Registry::new();
    let service = app(&registry, clock());
    let mut h2 = request(Method::GET, "https://example.com/");
    *h2.version_mut() = http::Version::HTTP_2;
    call(&service, h2);
    let text = text(&registry, Format::Text);
    assert!(
        text.contains("network_protocol_version=\"2\",url_scheme=\"https\""),
        "{text}"
    );
}

#[test]
fn a_second_layer_on_one_registry_is_refused_and_registers_nothing() {
    let registry = Registry::new();
    let _first = MetricsLayer::new(&registry).unwrap();
    assert!(MetricsLayer::new(&registry).is_err());
    let other = Registry::new();
    let layer = MetricsLayer::builder()
        .with_body_sizes()
        .build(&other)
        .unwrap();
    layer.unregister(&other);
    assert_eq!(text(&other, Format::Text), "");
}

#[test]
fn the_native_histogram_keeps_the_classic_buckets() {
    let registry = Registry::new();
    let service = MetricsLayer::builder()
        .with_native_histogram()
        .build(&registry)
        .unwrap()
        .layer(service_fn(|_: Request<Empty<Bytes>>| async {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"x"))))
        }));
    call(&service, request(Method::GET, "/"));
    let text = text(&registry, Format::Text);
    assert!(text.contains("le=\"10\"} 1\n"), "{text}");
    let mut protobuf = Vec::new();
    registry.encode_to(&mut protobuf, Format::Protobuf).unwrap();
    assert!(!protobuf.is_empty());
}

/// A gRPC call answered as tonic does: `Frames` of data, then the trailers.
fn grpc_app(
    registry: &Registry,
    clock: &'static ManualClock,
) -> impl tower::Service<
    Request<Empty<Bytes>>,
    Response = Response<ResponseBody<Frames, &'static ManualClock>>,
    Error = Infallible,
> + Clone
+ use<> {
    MetricsLayer::builder()
        .with_clock(clock)
        .build(registry)
        .unwrap()
        .layer(service_fn(
            move |request: Request<Empty<Bytes>>| async move {
                let mut trailers = HeaderMap::new();
                let mut response = Response::builder()
                    .status(StatusCode::OK)
                    .header("content-type", "application/grpc");
                match request.uri().path() {
                    "/helloworld.Greeter/SayHello" => {
                        trailers.insert("grpc-status", "0".parse().unwrap());
                        let frames = [
                            Frame::data(Bytes::from_static(b"\0\0\0\0\x02hi")),
                            Frame::trailers(trailers),
                        ];
                        return Ok(response.body(Frames::new(clock, frames)).unwrap());
                    }
                    "/helloworld.Greeter/Fail" => {
                        trailers.insert("grpc-status", "13".parse().unwrap());
                        return Ok(response
                            .body(Frames::new(clock, [Frame::trailers(trailers)]))
                            .unwrap());
                    }
                    // Trailers-only: the status in the head, no body.
                    _ => response = response.header("grpc-status", "12"),
                }
                Ok(response.body(Frames::new(clock, [])).unwrap())
            },
        ))
}

fn grpc_request(path: &str) -> Request<Empty<Bytes>> {
    Request::builder()
        .method(Method::POST)
        .uri(path)
        .version(http::Version::HTTP_2)
        .header("content-type", "application/grpc")
        .body(Empty::new())
        .unwrap()
}

#[test]
fn grpc_status_comes_from_the_trailers_or_a_trailers_only_head() {
    let registry = Registry::new();
    let clock = clock();
    let service = grpc_app(&registry, clock);
    call(&service, grpc_request("/helloworld.Greeter/SayHello"));
    call(&service, grpc_request("/helloworld.Greeter/SayHello"));
    call(&service, grpc_request("/helloworld.Greeter/Fail"));
    for i in 0..10 {
        call(&service, grpc_request(&format!("/scanner.S{i}/M")));
    }
    let text = text(&registry, Format::Text);
    assert!(text.contains("rpc_server_duration_milliseconds_count{rpc_system=\"grpc\",rpc_service=\"helloworld.Greeter\",rpc_method=\"SayHello\",rpc_grpc_status_code=\"0\"} 2\n"), "{text}");
    // Two frames, a second each.
    assert!(
        text.contains("rpc_grpc_status_code=\"0\"} 4000\n"),
        "{text}"
    );
    assert!(text.contains("rpc_method=\"Fail\",rpc_grpc_status_code=\"13\"} 1\n"));
    assert!(text.contains("rpc_server_duration_milliseconds_count{rpc_system=\"grpc\",rpc_service=\"_OTHER\",rpc_method=\"_OTHER\",rpc_grpc_status_code=\"12\"} 10\n"), "{text}");
    assert!(!text.contains("scanner"));
    assert!(
        !text.contains("http_server_request_duration_seconds_count"),
        "an RPC, not an HTTP request"
    );
    assert!(text.contains("url_scheme=\"http\"} 0\n"));
}

#[test]
fn a_cancelled_grpc_call_is_cancelled() {
    let registry = Registry::new();
    let service = grpc_app(&registry, clock());
    block_on(async {
        let response = service
            .oneshot(grpc_request("/helloworld.Greeter/SayHello"))
            .await
            .unwrap();
        drop(response);
    });
    let text = text(&registry, Format::Text);
    assert!(
        text.contains("rpc_method=\"SayHello\",rpc_grpc_status_code=\"1\"} 1\n"),
        "{text}"
    );
}

#[test]
fn concurrent_requests_are_counted_exactly() {
    let registry = Arc::new(Registry::new());
    let service = app(&registry, clock());
    let threads: Vec<_> = (0..4)
        .map(|t| {
            let service = service.clone();
            std::thread::spawn(move || {
                for i in 0..250 {
                    let path = if (i + t) % 2 == 0 { "/" } else { "/users/7" };
                    call(&service, request(Method::GET, path));
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let text = text(&registry, Format::Text);
    for route in ["/", "/users/{id}"] {
        assert!(text.contains(&format!(
            "http_server_request_duration_seconds_count{{http_request_method=\"GET\",http_route=\"{route}\",http_response_status_code=\"200\",{LABELS},error_type=\"\"}} 500\n"
        )), "{text}");
    }
    assert!(text.contains("url_scheme=\"http\"} 0\n"));
}

#[cfg(feature = "axum")]
#[test]
fn axum_matched_path_is_the_route() {
    use axum_routing::Router;
    use axum_routing::body::Body;
    use axum_routing::routing::{get, post};

    let registry = Registry::new();
    let app = Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route("/users", post(|| async { StatusCode::CREATED }))
        .layer(MetricsLayer::new(&registry).unwrap());
    block_on(async {
        for (method, path) in [
            (Method::GET, "/users/1"),
            (Method::GET, "/users/2"),
            (Method::POST, "/users"),
            (Method::GET, "/missing"),
        ] {
            let request = Request::builder()
                .method(method)
                .uri(path)
                .body(Body::empty())
                .unwrap();
            let response = app.clone().oneshot(request).await.unwrap();
            response.into_body().collect().await.unwrap();
        }
    });
    let text = text(&registry, Format::Text);
    assert!(text.contains(&format!("_count{{http_request_method=\"GET\",http_route=\"/users/{{id}}\",http_response_status_code=\"200\",{LABELS},error_type=\"\"}} 2\n")), "{text}");
    assert!(text.contains(&format!("_count{{http_request_method=\"POST\",http_route=\"/users\",http_response_status_code=\"201\",{LABELS},error_type=\"\"}} 1\n")), "{text}");
    assert!(text.contains(&format!("_count{{http_request_method=\"GET\",http_route=\"\",http_response_status_code=\"404\",{LABELS},error_type=\"\"}} 1\n")), "{text}");
}
