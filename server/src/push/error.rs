//! [`PushError`]: why a push failed, naming the URL and the receiver's answer.

use std::fmt;
use std::io;
use std::time::Duration;

use torchlight::EncodeError;

/// Why a push (remote write, OTLP, Pushgateway) failed. Every variant names the URL; an
/// answer's error quotes the first line of the receiver's body.
#[derive(Debug)]
#[non_exhaustive]
pub enum PushError {
    /// The URL or a setting cannot make a request.
    Url {
        /// The URL.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// The receiver could not be reached (name resolution, connection, TLS handshake).
    Connect {
        /// The URL.
        url: String,
        /// The socket's error.
        source: io::Error,
    },
    /// The exchange broke off (the connection closed mid-request, a malformed answer).
    Http {
        /// The URL.
        url: String,
        /// hyper's error.
        source: hyper::Error,
    },
    /// No complete answer within the timeout.
    Timeout {
        /// The URL.
        url: String,
        /// The timeout.
        after: Duration,
    },
    /// The receiver refused the request with a status that a retry would not change
    /// (a 4xx other than 429): fix the request or the receiver's settings.
    Rejected {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The first line of the answer's body.
        message: String,
    },
    /// The receiver failed or asked to slow down (5xx, 429); the pusher retries.
    Unavailable {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The first line of the answer's body.
        message: String,
        /// The answer's `Retry-After`, in seconds.
        retry_after: Option<Duration>,
    },
    /// The receiver accepted the push but rejected some of its points, or warned about
    /// it (OTLP's `partial_success`): not retried, since a retry would be rejected alike.
    PartiallyRejected {
        /// The URL.
        url: String,
        /// How many data points were rejected (0 for a warning).
        rejected: i64,
        /// The receiver's message.
        message: String,
    },
    /// The registry could not be encoded (a failing collector).
    Encode(EncodeError),
    /// What the Pushgateway would reject, refused before sending.
    Grouping {
        /// The URL.
        url: String,
        /// What is wrong.
        why: String,
    },
    /// A label of the pusher's settings (an external label, a grouping label) that no
    /// receiver would accept.
    Label {
        /// The label's name.
        name: String,
        /// What is wrong.
        why: &'static str,
    },
    /// The pusher's thread or its runtime could not be started.
    Thread(io::Error),
}

impl PushError {
    /// Whether another attempt may succeed: the receiver was unreachable, slow, or
    /// answered 5xx or 429 (the remote-write specification's retry rule).
    #[must_use]
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            Self::Connect { .. }
                | Self::Http { .. }
                | Self::Timeout { .. }
                | Self::Unavailable { .. }
        )
    }
}

impl fmt::Display for PushError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Url { url, why } => write!(f, "cannot push to {url}: {why}"),
            Self::Connect { url, source } => write!(f, "cannot connect to {url}: {source}"),
            Self::Http { url, source } => write!(f, "the request to {url} failed: {source}"),
            Self::Timeout { url, after } => {
                write!(f, "{url} did not answer within {after:?}")
            }
            Self::Rejected {
                url,
                status,
                message,
            } => write!(f, "{url} refused the push with {status}: {message}"),
            Self::Unavailable {
                url,
                status,
                message,
                ..
            } => write!(f, "{url} answered {status} (will retry): {message}"),
            Self::PartiallyRejected {
                url,
                rejected,
                message,
            } => write!(
                f,
                "{url} rejected {rejected} data points of the push: {message}"
            ),
            Self::Encode(error) => write!(f, "cannot encode the registry: {error}"),
            Self::Grouping { url, why } => write!(f, "not pushed to {url}: {why}"),
            Self::Label { name, why } => write!(f, "label {name:?}: {why}"),
            Self::Thread(source) => write!(f, "cannot start the pusher's thread: {source}"),
        }
    }
}

impl std::error::Error for PushError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Connect { source, .. } | Self::Thread(source) => Some(source),
            Self::Http { source, .. } => Some(source),
            Self::Encode(error) => Some(error),
            _ => None,
        }
    }
}
