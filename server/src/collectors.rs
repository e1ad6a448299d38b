//! The collector hook: what runs once per encoding before it, on the server's runtime.
//!
//! The registry's asynchronous collectors (`torchlight::AsyncCollector`) run here, each
//! raced against a sleep on `R`'s timer for its timeout; the protocol (concurrency,
//! failure counting, cancellation) is the core's `Registry::collect_async`. The
//! server calls this inside a coalesced flight, so concurrent scrapes that share an
//! encoding run the collectors once; `MetricsService` calls it per request.

use torchlight::Registry;

use crate::runtime::{Runtime, sleep};

/// Runs `registry`'s asynchronous collectors once, under their deadlines.
pub(crate) async fn collect<R: Runtime>(registry: &Registry) {
    registry.collect_async(sleep::<R>).await;
}
