//! The periodic pusher, written once for every runtime and every push protocol:
//! [`Push`] (what a protocol decides: the body, its headers, how to judge an answer),
//! [`PushOptions`], [`Pusher`] on a runtime and [`ThreadedPusher`] in a thread of its own.
//!
//! One task per pusher does everything in turn (encode, send, wait), so two pushes of
//! one pusher are never in flight. Each attempt encodes a fresh snapshot of the registry
//! into the one body buffer the task owns: while the receiver is down nothing queues,
//! memory stays that one body, and since counters are cumulative the next push that
//! arrives carries everything. Observation never waits: encoding reads the metrics as
//! a scrape does, on the runtime's blocking pool.
//!
//! Retries follow the remote-write specification: a 5xx, a 429, an unreachable or slow
//! receiver are retried with exponential backoff (Prometheus' `min_backoff` 30 ms to
//! `max_backoff` 5 s, each wait drawn in its upper half) or after the answer's
//! `Retry-After`; any other 4xx is not retried. A cycle ends at the first success or
//! refusal, and the next starts one interval later.

use std::hash::{BuildHasher as _, RandomState};
use std::marker::PhantomData;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime};

use async_channel::{Receiver, Sender};
use bytes::Bytes;
use futures_lite::FutureExt as _;
use torchlight::{EncodeError, Registry};

use super::client::{Client, send};
use super::endpoint::Endpoint;
use super::error::PushError;
use crate::registry::ServedRegistry;
use crate::runtime::{Runtime, sleep};

/// A push protocol: what the [`Pusher`] sends and how it reads the answer. Remote write
/// ([`RemoteWritePush`](super::RemoteWritePush)) and OTLP ([`OtlpPush`](super::OtlpPush))
/// implement it.
pub trait Push: Send + 'static {
    /// Encodes `registry` as one request body into `body` (cleared before), with
    /// `now` as the samples' time.
    ///
    /// # Errors
    ///
    /// When the registry cannot be encoded.
    fn encode(
        &mut self,
        registry: &Registry,
        now: SystemTime,
        body: &mut Vec<u8>,
    ) -> Result<(), EncodeError>;

    /// The headers that describe the body (`Content-Type`, `Content-Encoding`, …).
    fn headers(&self) -> &'static [(&'static str, &'static str)];

    /// Judges the answer: `Ok` for a success; the default takes 2xx as success, 5xx
    /// and 429 as [`PushError::Unavailable`] (retried) and anything else as
    /// [`PushError::Rejected`].
    ///
    /// # Errors
    ///
    /// What the answer means as an error.
    fn judge(&self, url: &str, status: u16, body: &[u8]) -> Result<(), PushError> {
        judge_status(url, status, body, None)
    }
}

/// The default judgement of an answer (see [`Push::judge`]).
pub(crate) fn judge_status(
    url: &str,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> Result<(), PushError> {
    if (200..300).contains(&status) {
        return Ok(());
    }
    let text = String::from_utf8_lossy(body);
    let message = text.lines().next().unwrap_or("").trim().to_owned();
    let url = url.to_owned();
    if status == 429 || status >= 500 {
        Err(PushError::Unavailable {
            url,
            status,
            message,
            retry_after,
        })
    } else {
        Err(PushError::Rejected {
            url,
            status,
            message,
        })
    }
}

/// What a pusher reports after each attempt: `Ok` or the attempt's error.
pub type PushReport = Arc<dyn Fn(Result<(), &PushError>) + Send + Sync>;

/// The settings of a [`Pusher`]: where, what, how often, and how patiently.
///
/// ```
/// use std::time::Duration;
/// use torchlight_smol::push::PushOptions;
///
/// let options = PushOptions::new("http://127.0.0.1:9090/api/v1/write")?
///     .with_interval(Duration::from_secs(15))
///     .with_basic_auth("user", "secret");
/// assert_eq!(options.interval(), Duration::from_secs(15));
/// # Ok::<(), torchlight_smol::push::PushError>(())
/// ```
#[derive(Clone)]
pub struct PushOptions {
    endpoint: Endpoint,
    registry: ServedRegistry,
    interval: Duration,
    min_backoff: Duration,
    max_backoff: Duration,
    close_timeout: Duration,
    client: Client,
    report: Option<PushReport>,
}

impl PushOptions {
    /// Pushes torchlight's default registry to `url` every 15 s, each push within 10 s,
    /// a last push on close within 5 s.
    ///
    /// # Errors
    ///
    /// [`PushError::Url`] when `url` is not an `http://` or `https://` URL.
    pub fn new(url: &str) -> Result<Self, PushError> {
        Ok(Self {
            endpoint: Endpoint::parse(url)?,
            registry: ServedRegistry::from(&torchlight::REGISTRY),
            interval: Duration::from_secs(15),
            // Prometheus' remote-write queue defaults.
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            close_timeout: Duration::from_secs(5),
            client: Client::new(Duration::from_secs(10)),
            report: None,
        })
    }

    /// Pushes `registry` instead of the default one.
    #[must_use]
    pub fn with_registry(mut self, registry: impl Into<ServedRegistry>) -> Self {
        self.registry = registry.into();
        self
    }

    /// How long from one push's end to the next push (default 15 s).
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// How long one attempt (connection, request, answer) may take (default 10 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.client.timeout = timeout;
        self
    }

    /// The first and the longest wait between retries (default 30 ms and 5 s).
    #[must_use]
    pub fn with_backoff(mut self, min: Duration, max: Duration) -> Self {
        self.min_backoff = min;
        self.max_backoff = max.max(min);
        self
    }

    /// How long `close()` tries to deliver its last push (default 5 s).
    #[must_use]
    pub fn with_close_timeout(mut self, timeout: Duration) -> Self {
        self.close_timeout = timeout;
        self
    }

    /// Sends header `name: value` with every push (an API key, a tenant such as Mimir's
    /// `X-Scope-OrgID`), after the protocol's own headers; a second call with the same
    /// name replaces the value.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        let headers = &mut self.client.headers;
        match headers
            .iter_mut()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            Some(header) => value.clone_into(&mut header.1),
            None => headers.push((name.to_owned(), value.to_owned())),
        }
        self
    }

    /// Sends HTTP basic authentication.
    #[must_use]
    pub fn with_basic_auth(mut self, user: &str, password: &str) -> Self {
        self.client.set_basic_auth(user, password);
        self
    }

    /// The TLS client settings for an `https://` URL (roots, client certificate).
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn with_tls(mut self, config: Arc<rustls::ClientConfig>) -> Self {
        self.client.tls = Some(config);
        self
    }

    /// Calls `report` after every attempt with its outcome (to log an outage once).
    #[must_use]
    pub fn with_report(
        mut self,
        report: impl Fn(Result<(), &PushError>) + Send + Sync + 'static,
    ) -> Self {
        self.report = Some(Arc::new(report));
        self
    }

    /// The receiver.
    #[must_use]
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The interval.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }
}

/// A pusher running on runtime `R`: pushes its registry every interval until
/// [`close`](Self::close)d (a last push) or dropped (a last push too, not awaited).
pub struct Pusher<R: Runtime> {
    stop: Option<Sender<()>>,
    done: Receiver<Result<(), PushError>>,
    url: String,
    _runtime: PhantomData<fn() -> R>,
}

impl<R: Runtime> Pusher<R> {
    /// Starts pushing with `push` on `R` (first push now). Call it where `R`'s tasks
    /// can be spawned (on tokio, inside the runtime).
    pub fn start<P: Push>(options: PushOptions, push: P) -> Self {
        let (stop, stopped) = async_channel::bounded(1);
        let (finished, done) = async_channel::bounded(1);
        let url = options.endpoint.url().to_owned();
        R::detach(R::spawn(async move {
            let result = run::<R, P>(push, options, stopped).await;
            let _ = finished.send(result).await;
        }));
        Self {
            stop: Some(stop),
            done,
            url,
            _runtime: PhantomData,
        }
    }

    /// The receiver's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops pushing after one last push (within the close timeout), so a process
    /// that exits delivers its final values.
    ///
    /// # Errors
    ///
    /// The last push's error.
    pub async fn close(mut self) -> Result<(), PushError> {
        self.stop.take();
        self.done.recv().await.unwrap_or(Ok(()))
    }
}

/// A pusher in a thread of its own running `R` (for programs without an async runtime).
pub struct ThreadedPusher {
    stop: Option<Sender<()>>,
    done: Receiver<Result<(), PushError>>,
    thread: Option<JoinHandle<()>>,
    url: String,
}

/// The name of a threaded pusher's thread.
pub const PUSH_THREAD_NAME: &str = "torchlight-push";

/// Starts `push` in a thread named [`PUSH_THREAD_NAME`] that runs `R`.
///
/// # Errors
///
/// [`PushError::Thread`] when the thread cannot be spawned.
pub fn start_in_thread<R: Runtime, P: Push>(
    options: PushOptions,
    push: P,
) -> Result<ThreadedPusher, PushError> {
    let (stop, stopped) = async_channel::bounded(1);
    let (finished, done) = async_channel::bounded(1);
    let url = options.endpoint.url().to_owned();
    let thread = thread::Builder::new()
        .name(PUSH_THREAD_NAME.to_owned())
        .spawn(move || {
            let result = R::block_on(run::<R, P>(push, options, stopped))
                .unwrap_or_else(|source| Err(PushError::Thread(source)));
            let _ = finished.send_blocking(result);
        })
        .map_err(PushError::Thread)?;
    Ok(ThreadedPusher {
        stop: Some(stop),
        done,
        thread: Some(thread),
        url,
    })
}

impl ThreadedPusher {
    /// The receiver's URL.
    #[must_use]
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Stops pushing after one last push (within the close timeout) and joins the
    /// thread.
    ///
    /// # Errors
    ///
    /// The last push's error.
    pub fn close(mut self) -> Result<(), PushError> {
        self.stop.take();
        let result = self.done.recv_blocking().unwrap_or(Ok(()));
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        result
    }
}

impl Drop for ThreadedPusher {
    fn drop(&mut self) {
        self.stop.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The pusher's task: cycles until stopped, then the last push.
async fn run<R: Runtime, P: Push>(
    push: P,
    options: PushOptions,
    stopped: Receiver<()>,
) -> Result<(), PushError> {
    let mut state = State {
        push: Some(push),
        body: Vec::new(),
    };
    'cycles: loop {
        let mut backoff = options.min_backoff;
        loop {
            match attempt::<R, P>(&mut state, &options).await {
                Err(error) if error.is_retryable() => {
                    let wait = match &error {
                        PushError::Unavailable {
                            retry_after: Some(after),
                            ..
                        } => *after,
                        _ => jitter(backoff),
                    };
                    backoff = (backoff * 2).min(options.max_backoff);
                    if wait_or_stop::<R>(wait, &stopped).await {
                        break 'cycles;
                    }
                }
                _ => break,
            }
        }
        if wait_or_stop::<R>(options.interval, &stopped).await {
            break;
        }
    }
    // The last push, retried within the close timeout.
    let deadline = options.close_timeout;
    let url = options.endpoint.url().to_owned();
    async {
        let mut backoff = options.min_backoff;
        loop {
            match attempt::<R, P>(&mut state, &options).await {
                Err(error) if error.is_retryable() => {
                    sleep::<R>(jitter(backoff)).await;
                    backoff = (backoff * 2).min(options.max_backoff);
                }
                result => return result,
            }
        }
    }
    .or(async {
        sleep::<R>(deadline).await;
        Err(PushError::Timeout {
            url,
            after: deadline,
        })
    })
    .await
}

/// What the task keeps between attempts: the protocol and the one body buffer (both
/// lent to the blocking pool while encoding).
struct State<P> {
    /// Invariant: `Some` outside `attempt`.
    push: Option<P>,
    body: Vec<u8>,
}

/// One attempt: run the async collectors, encode on the blocking pool, send, judge;
/// reported to the options' callback.
async fn attempt<R: Runtime, P: Push>(
    state: &mut State<P>,
    options: &PushOptions,
) -> Result<(), PushError> {
    let result = attempt_inner::<R, P>(state, options).await;
    if let Some(report) = &options.report {
        report(result.as_ref().map(|_| ()));
    }
    result
}

async fn attempt_inner<R: Runtime, P: Push>(
    state: &mut State<P>,
    options: &PushOptions,
) -> Result<(), PushError> {
    let registry = options.registry.clone();
    registry.collect_async(sleep::<R>).await;
    let (Some(mut push), mut body) = (state.push.take(), std::mem::take(&mut state.body)) else {
        return Ok(());
    };
    let (push, body, encoded) = R::unblock(move || {
        body.clear();
        let encoded = push.encode(&registry, SystemTime::now(), &mut body);
        (push, body, encoded)
    })
    .await;
    let request = Bytes::copy_from_slice(&body);
    state.body = body;
    let headers = push.headers();
    let push = state.push.insert(push);
    encoded.map_err(PushError::Encode)?;
    let answer = send::<R>(&options.client, &options.endpoint, "POST", headers, request).await?;
    match push.judge(options.endpoint.url(), answer.status, &answer.body) {
        Err(PushError::Unavailable {
            url,
            status,
            message,
            retry_after: None,
        }) => Err(PushError::Unavailable {
            url,
            status,
            message,
            retry_after: answer.retry_after,
        }),
        result => result,
    }
}

/// Waits `duration` on `R`'s timer; `true` when stopped first.
async fn wait_or_stop<R: Runtime>(duration: Duration, stopped: &Receiver<()>) -> bool {
    async {
        // The sender only ever closes the channel: `recv` ends with an error then.
        let _ = stopped.recv().await;
        true
    }
    .or(async {
        sleep::<R>(duration).await;
        false
    })
    .await
}

/// A wait drawn from the upper half of `backoff` ("equal jitter"), so pushers that
/// failed together do not retry together.
fn jitter(backoff: Duration) -> Duration {
    // `RandomState` is seeded per instance from the OS: random enough to spread
    // retries, without a dependency.
    let random = RandomState::new().hash_one(0u8);
    #[allow(clippy::cast_precision_loss)]
    let fraction = (random >> 11) as f64 / (1u64 << 53) as f64;
    backoff / 2 + backoff.mul_f64(fraction / 2.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_in_the_upper_half() {
        let backoff = Duration::from_millis(100);
        for _ in 0..1000 {
            let wait = jitter(backoff);
            assert!(wait >= backoff / 2 && wait <= backoff, "{wait:?}");
        }
    }

    #[test]
    fn answers_are_judged_as_the_specification_says() {
        assert!(judge_status("u", 204, b"", None).is_ok());
        for status in [500, 503, 429] {
            assert!(
                judge_status("u", status, b"x", None)
                    .unwrap_err()
                    .is_retryable()
            );
        }
        let error = judge_status("http://r/", 400, b"out of order sample\nmore", None).unwrap_err();
        assert!(!error.is_retryable());
        assert_eq!(
            error.to_string(),
            "http://r/ refused the push with 400: out of order sample"
        );
    }
}
