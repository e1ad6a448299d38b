//! Pushing on this runtime: the server crate's generic pushers named for `Tokio`.

use crate::push::{OtlpPush, PushError, PushOptions, RemoteWritePush, ThreadedPusher};
use crate::runtime::Tokio;

/// A periodic pusher on this runtime (see `torchlight_server::push::Pusher`).
pub type Pusher = torchlight_server::push::Pusher<Tokio>;

/// A Pushgateway group reached on this runtime (see
/// `torchlight_server::push::Pushgateway`); its `*_blocking` methods run it without one.
///
/// A batch job pushes its metrics once, at its end (README, "Pushing"):
///
/// ```no_run
/// use torchlight_tokio::Pushgateway;
///
/// let gateway = Pushgateway::new("http://pushgateway:9091", "nightly_import")?;
/// // … the job's work, recorded in metrics registered with torchlight::REGISTRY …
/// gateway.push_blocking(&torchlight::REGISTRY)?;
/// # Ok::<(), torchlight_tokio::push::PushError>(())
/// ```
pub type Pushgateway = torchlight_server::push::Pushgateway<Tokio>;

/// Starts pushing the registry with Prometheus remote write every interval, on this
/// runtime (call it inside the runtime); `close().await` sends a last push.
///
/// Beside `/metrics`, or instead of it (README, "Pushing"):
///
/// ```no_run
/// use torchlight_tokio::push::{PushOptions, RemoteWritePush};
///
/// # async fn run() -> Result<(), torchlight_tokio::push::PushError> {
/// let options = PushOptions::new("http://prometheus:9090/api/v1/write")?;
/// let pusher = torchlight_tokio::start_remote_write(options, RemoteWritePush::new());
/// // … the program runs; the registry is pushed every 15 s …
/// pusher.close().await?; // one last push
/// # Ok(()) }
/// ```
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
    torchlight_server::push::start_in_thread::<Tokio, _>(options, push)
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
    torchlight_server::push::start_in_thread::<Tokio, _>(options, push)
}
