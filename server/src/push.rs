//! Pushing metrics instead of being scraped, written once for every runtime.
//!
//! - [`Pusher`] / [`start_in_thread`]: a periodic pusher over the [`Runtime`](crate::Runtime)
//!   seam, generic over the protocol ([`Push`]); [`RemoteWritePush`] is Prometheus
//!   remote write 1.0 (a snappy-compressed `WriteRequest` the core encodes), [`OtlpPush`]
//!   OTLP/HTTP with protobuf (an `ExportMetricsServiceRequest` the core encodes, its
//!   settings from `OTEL_*` variables or code). The
//!   pusher's rules (one push in flight, timeouts, retries with backoff and jitter,
//!   `Retry-After`, the last push on close, bounded memory during an outage) are in
//!   `push/pusher.rs`.
//! - [`Pushgateway`]: the Pushgateway's API (`push`, `push_add`, `delete`, and their
//!   blocking forms for programs without an async runtime).
//! - Both send through one HTTP/1.1 client (`push/client.rs`: hyper's client over the
//!   runtime's `connect`, rustls with the feature `tls`, basic auth), and fail with a
//!   [`PushError`] that names the URL and quotes the receiver.
//!
//! ```no_run
//! use torchlight_smol::push::{PushOptions, RemoteWritePush};
//! use torchlight_smol::start_remote_write;
//!
//! smol::block_on(async {
//!     let options = PushOptions::new("http://127.0.0.1:9090/api/v1/write")?;
//!     let pusher = start_remote_write(options, RemoteWritePush::new());
//!     // … the program runs …
//!     pusher.close().await
//! })?;
//! # Ok::<(), torchlight_smol::push::PushError>(())
//! ```

mod client;
mod endpoint;
mod error;
mod gateway;
mod otlp;
mod pusher;
mod remote_write;

pub use endpoint::Endpoint;
pub use error::PushError;
pub use gateway::Pushgateway;
pub use otlp::OtlpPush;
pub use pusher::{
    PUSH_THREAD_NAME, Push, PushOptions, PushReport, Pusher, ThreadedPusher, start_in_thread,
};
pub use remote_write::RemoteWritePush;
