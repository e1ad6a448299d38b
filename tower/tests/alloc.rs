//! The layer allocates nothing per request once the request's label set exists: a
//! counting global allocator around calls through the layer, a traced request and a
//! gRPC call included, compared with the same calls to the bare service.
//!
//! This file uses `unsafe` because `GlobalAlloc` is an unsafe trait; each method only
//! forwards to `System` with the caller's own arguments.
#![allow(unsafe_code, clippy::unwrap_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::convert::Infallible;

use bytes::Bytes;
use futures_lite::future::block_on;
use http::{Request, Response};
use http_body_util::{BodyExt as _, Empty, Full};
use torchlight::Registry;
use torchlight_tower::{MetricsLayer, RouteTemplate};
use tower::{Layer as _, ServiceExt as _, service_fn};

thread_local! {
    /// Allocations so far on this thread: the tests of this file run in parallel, and
    /// each serves its requests on its own thread (`block_on`).
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Counts one allocation on this thread (none while the thread is being torn down).
fn count() {
    let _ = ALLOCATIONS.try_with(|count| count.set(count.get() + 1));
}

struct Counting;

// SAFETY: every method forwards to `System`, which upholds `GlobalAlloc`'s contract,
// with the arguments it was given; the counter does not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        // SAFETY: the caller's obligations for `alloc` are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's obligations for `dealloc` are passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        // SAFETY: the caller's obligations for `realloc` are passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The requests of one round, built before counting (building them allocates).
fn requests() -> Vec<Request<Empty<Bytes>>> {
    let plain = Request::get("/users/7").body(Empty::new()).unwrap();
    let mut routed = Request::get("/users/7").body(Empty::new()).unwrap();
    routed
        .extensions_mut()
        .insert(RouteTemplate::new("/users/{id}"));
    let traced = Request::get("/")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .body(Empty::new())
        .unwrap();
    let grpc = Request::post("/helloworld.Greeter/SayHello")
        .header("content-type", "application/grpc")
        .body(Empty::new())
        .unwrap();
    vec![plain, routed, traced, grpc]
}

/// Allocations made by serving `requests` with `serve`.
fn allocations<F: Fn(Request<Empty<Bytes>>)>(
    requests: Vec<Request<Empty<Bytes>>>,
    serve: F,
) -> u64 {
    let before = ALLOCATIONS.with(Cell::get);
    for request in requests {
        serve(request);
    }
    ALLOCATIONS.with(Cell::get) - before
}

#[test]
fn a_request_of_an_existing_label_set_allocates_nothing() {
    existing_label_sets_allocate_nothing(MetricsLayer::builder());
}

#[test]
fn with_an_idle_timeout_too() {
    // No cache then: each request finds its series in the families.
    existing_label_sets_allocate_nothing(
        MetricsLayer::builder().with_idle_timeout(std::time::Duration::from_secs(3600)),
    );
}

fn existing_label_sets_allocate_nothing(builder: torchlight_tower::Builder) {
    let inner = service_fn(|_: Request<Empty<Bytes>>| async {
        Ok::<_, Infallible>(Response::new(Full::new(Bytes::from_static(b"hello"))))
    });
    let registry = Registry::new();
    let layered = builder
        .with_body_sizes()
        .build(&registry)
        .unwrap()
        .layer(inner);
    let serve_layered = |request| {
        block_on(async {
            let response = layered.clone().oneshot(request).await.unwrap();
            let _ = response.into_body().collect().await.unwrap();
        });
    };
    let serve_bare = |request| {
        block_on(async {
            let response = inner.oneshot(request).await.unwrap();
            let _ = response.into_body().collect().await.unwrap();
        });
    };
    // The first round creates the label sets' children.
    let first = allocations(requests(), serve_layered);
    let bare = allocations(requests(), serve_bare);
    // The check can see allocations: creating the children made some.
    assert!(first > bare, "{first} {bare}");
    for _ in 0..10 {
        assert_eq!(allocations(requests(), serve_layered), bare);
    }
}
