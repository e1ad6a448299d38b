//! `torchlight-tower`'s layer behind a real hyper server on tokio and on smol, read by
//! an independent client (ureq, raw sockets): per-route counts exact under concurrent
//! load, the active-requests gauge back to 0, a client that goes away (before the
//! answer, or in the middle of a streamed body) counted once as cancelled, a streamed
//! body timed to its end. Each runtime reads the core's `StdClock`.

use std::future::Future;
use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpListener};
use std::pin::Pin;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::StatusCode;
use axum::routing::{get, post};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use torchlight::{Format, Registry};
use torchlight_tests::client;
use torchlight_tower::MetricsLayer;
use tower::ServiceExt as _;

type Sleep = fn(Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// The service example's routes, plus `/stream` (three chunks, 30 ms apart, after the
/// handler returned), `/forever` (a chunk every 10 ms, never ending) and `/hang` (no
/// answer), behind the layer.
fn app(registry: &Registry, sleep: Sleep) -> Router {
    Router::new()
        .route("/", get(|| async { "hello" }))
        .route("/users/{id}", get(|| async { StatusCode::OK }))
        .route("/users", post(|| async { StatusCode::CREATED }))
        .route("/fail", get(|| async { StatusCode::INTERNAL_SERVER_ERROR }))
        .route(
            "/stream",
            get(move || async move {
                Body::from_stream(futures_lite::stream::unfold(0, move |sent| async move {
                    (sent < 3).then_some(())?;
                    sleep(Duration::from_millis(30)).await;
                    Some((
                        Ok::<_, std::io::Error>(Bytes::from_static(b"chunk")),
                        sent + 1,
                    ))
                }))
            }),
        )
        .route(
            "/forever",
            get(move || async move {
                Body::from_stream(futures_lite::stream::unfold((), move |()| async move {
                    sleep(Duration::from_millis(10)).await;
                    Some((Ok::<_, std::io::Error>(Bytes::from_static(b"tick")), ()))
                }))
            }),
        )
        .route("/hang", get(futures_lite::future::pending::<&str>))
        .layer(MetricsLayer::new(registry).expect("a fresh registry"))
}

/// A hyper server on a runtime, serving `app` until dropped.
struct Served {
    address: SocketAddr,
    /// Dropped to stop the server (a closed channel as the signal).
    stop: Option<smol::channel::Sender<()>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl Drop for Served {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread.join().expect("the server thread");
        }
    }
}

/// Serves one connection of `app` over `io` with hyper.
fn connection<I>(app: Router, io: I) -> impl Future<Output = ()> + Send
where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |request: hyper::Request<Incoming>| {
        app.clone().oneshot(request.map(Body::new))
    });
    async move {
        let _ = http1::Builder::new().serve_connection(io, service).await;
    }
}

fn on_tokio(registry: &Registry) -> Served {
    let app = app(registry, |duration| Box::pin(tokio::time::sleep(duration)));
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let thread = thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            let accept = async {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        continue;
                    };
                    let io = hyper_util::rt::TokioIo::new(stream);
                    tokio::spawn(connection(app.clone(), io));
                }
            };
            futures_lite::future::or(accept, async {
                let _ = stopped.recv().await;
            })
            .await;
        });
        runtime.shutdown_timeout(Duration::from_secs(1));
    });
    Served {
        address,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn on_smol(registry: &Registry) -> Served {
    let app = app(registry, |duration| {
        Box::pin(async move {
            smol::Timer::after(duration).await;
        })
    });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = smol::channel::bounded::<()>(1);
    let thread = thread::spawn(move || {
        let executor = Arc::new(smol::Executor::new());
        let listener = smol::Async::new(listener).expect("listener");
        let accept = async {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let io = smol_hyper::rt::FuturesIo::new(stream);
                executor.spawn(connection(app.clone(), io)).detach();
            }
        };
        smol::block_on(executor.run(futures_lite::future::or(accept, async {
            let _ = stopped.recv().await;
        })));
    });
    Served {
        address,
        stop: Some(stop),
        thread: Some(thread),
    }
}

fn exposition(registry: &Registry) -> String {
    let mut text = String::new();
    registry.encode(&mut text, Format::Text).expect("encode");
    text
}

/// The value of the sample whose line starts with `series` followed by a space.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("a number"))
}

fn count(method: &str, route: &str, status: &str, error: &str) -> String {
    format!(
        "http_server_request_duration_seconds_count{{http_request_method=\"{method}\",http_route=\"{route}\",http_response_status_code=\"{status}\",network_protocol_version=\"1.1\",url_scheme=\"http\",error_type=\"{error}\"}}"
    )
}

/// Waits, within a deadline, until `check` holds for the registry's exposition.
fn eventually(registry: &Registry, what: &str, check: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = exposition(registry);
        if check(&text) {
            return text;
        }
        assert!(Instant::now() < deadline, "{what} never happened:\n{text}");
        thread::sleep(Duration::from_millis(5));
    }
}

const ACTIVE: &str = "http_server_active_requests{http_request_method=\"GET\",url_scheme=\"http\"}";

fn the_layer_records_a_real_server(serve: fn(&Registry) -> Served) {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let server = serve(registry);
    let base = format!("http://{}", server.address);

    // Concurrent load: 8 clients, 40 requests each, over five routes.
    let routes: [(&str, &str, &str, &str, &str); 5] = [
        ("GET", "/", "/", "200", ""),
        ("GET", "/users/7", "/users/{id}", "200", ""),
        ("POST", "/users", "/users", "201", ""),
        ("GET", "/fail", "/fail", "500", "500"),
        ("GET", "/nowhere", "", "404", ""),
    ];
    let clients: Vec<_> = (0..8)
        .map(|client| {
            let base = base.clone();
            thread::spawn(move || {
                for i in 0..40 {
                    let (method, path, _, status, _) = routes[(client + i) % routes.len()];
                    let reply = client::request(method, &format!("{base}{path}"), &[]);
                    assert_eq!(reply.status.to_string(), status, "{method} {path}");
                }
            })
        })
        .collect();
    for client in clients {
        client.join().expect("a client");
    }
    let streamed = client::get(&format!("{base}/stream"), &[]);
    assert_eq!(streamed.text(), "chunkchunkchunk");
    let text = eventually(registry, "every request recorded", |text| {
        sample(text, ACTIVE) == Some(0.0)
    });
    for (method, _, route, status, error) in routes {
        assert_eq!(
            sample(&text, &count(method, route, status, error)),
            Some(64.0),
            "{method} {route}:\n{text}"
        );
    }
    // The handler returned at once; the body took three 30 ms waits.
    let streamed = count("GET", "/stream", "200", "").replace("_count", "_sum");
    assert!(
        sample(&text, &streamed).expect("the stream's sum") >= 0.09,
        "{text}"
    );

    // A client that goes away before the answer...
    let mut hanging = client::connect(server.address);
    hanging
        .write_all(b"GET /hang HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("write");
    eventually(registry, "the hanging request in flight", |text| {
        sample(text, ACTIVE) == Some(1.0)
    });
    drop(hanging);
    let cancelled = count("GET", "/hang", "", "cancelled");
    eventually(registry, "the hanging request cancelled", |text| {
        sample(text, &cancelled) == Some(1.0) && sample(text, ACTIVE) == Some(0.0)
    });

    // ...and one that goes away in the middle of an endless body.
    let mut streaming = client::connect(server.address);
    streaming
        .write_all(b"GET /forever HTTP/1.1\r\nhost: x\r\n\r\n")
        .expect("write");
    let mut first = [0; 64];
    let _ = streaming
        .read(&mut first)
        .expect("the head and a first chunk");
    drop(streaming);
    let cut = count("GET", "/forever", "200", "cancelled");
    let text = eventually(registry, "the endless body cancelled", |text| {
        sample(text, &cut) == Some(1.0) && sample(text, ACTIVE) == Some(0.0)
    });
    assert_eq!(sample(&text, &cancelled), Some(1.0), "counted once");
    drop(server);
}

#[test]
fn on_tokio_the_layer_records_a_real_server() {
    the_layer_records_a_real_server(on_tokio);
}

#[test]
fn on_smol_the_layer_records_a_real_server() {
    the_layer_records_a_real_server(on_smol);
}
