//! Pushing on this runtime: the server crate's generic pushers named for `AsyncStd`.

use crate::push::{OtlpPush, PushError, PushOptions, RemoteWritePush, ThreadedPusher};
use crate::runtime::AsyncStd;

/// A periodic pusher on this runtime (see `torchlight_server::push::Pusher`).
pub type Pusher = torchlight_server::push::Pusher<AsyncStd>;

/// A Pushgateway group reached on this runtime (see
/// `torchlight_server::push::Pushgateway`); its `*_blocking` methods run it without one.
pub type Pushgateway = torchlight_server::push::Pushgateway<AsyncStd>;

/// Starts pushing the registry with Prometheus remote write every interval, on this
/// runtime (call it inside the runtime); `close().await` sends a last push.
#[must_use]
pub fn start_remote_write(options: PushOptions, push: RemoteWritePush) -> Pusher {
    Pusher::start(options, push)
}

/// Starts pushing with Prometheus remote write in a thread of its own running this
/// runtime, for programs without one; `close()` sends a last push and joins it.
///
/// # Errors
///
/// [`PushError::Thread`] when the thread cannot be started.
pub fn start_remote_write_in_thread(
    options: PushOptions,
    push: RemoteWritePush,
) -> Result<ThreadedPusher, PushError> {
    torchlight_server::push::start_in_thread::<AsyncStd, _>(options, push)
}

/// Starts exporting the registry to an OpenTelemetry collector or backend (OTLP/HTTP)
/// every interval, on this runtime (call it inside the runtime); `close().await` sends a
/// last export. `options` come from [`OtlpPush::options`].
#[must_use]
pub fn start_otlp(options: PushOptions, push: OtlpPush) -> Pusher {
    Pusher::start(options, push)
}

/// Starts exporting OTLP in a thread of its own running this runtime, for programs
/// without one; `close()` sends a last export and joins it.
///
/// # Errors
///
/// [`PushError::Thread`] when the thread cannot be started.
pub fn start_otlp_in_thread(
    options: PushOptions,
    push: OtlpPush,
) -> Result<ThreadedPusher, PushError> {
    torchlight_server::push::start_in_thread::<AsyncStd, _>(options, push)
}
