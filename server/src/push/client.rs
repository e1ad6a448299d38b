//! One HTTP/1.1 request to a receiver over a [`Runtime`]'s sockets: hyper's client
//! connection over `R::connect` (and rustls with the feature `tls`), the whole exchange
//! bounded by a timeout on `R`'s timer. A push opens a connection per request: pushes
//! are seconds apart, and a fresh connection never finds one the receiver half-closed.

use std::future::pending;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_lite::FutureExt as _;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::client::conn::http1;
use hyper::rt::{Read, Write};

use super::endpoint::{Endpoint, base64};
use super::error::PushError;
use crate::runtime::{Runtime, sleep};

/// The most of an answer's body kept, for the error that quotes it.
const MAX_ANSWER: usize = 64 * 1024;

/// How a request is sent: its timeout, credentials and TLS settings.
#[derive(Clone)]
pub(crate) struct Client {
    pub(crate) timeout: Duration,
    /// The `Authorization` header's value, made once.
    pub(crate) authorization: Option<String>,
    #[cfg(feature = "tls")]
    pub(crate) tls: Option<Arc<rustls::ClientConfig>>,
    pub(crate) user_agent: Arc<str>,
    /// Headers of the user's, sent with every request (an API key, a tenant).
    pub(crate) headers: Vec<(String, String)>,
}

impl Client {
    pub(crate) fn new(timeout: Duration) -> Self {
        Self {
            timeout,
            authorization: None,
            #[cfg(feature = "tls")]
            tls: None,
            user_agent: concat!("torchlight/", env!("CARGO_PKG_VERSION")).into(),
            headers: Vec::new(),
        }
    }

    pub(crate) fn set_basic_auth(&mut self, user: &str, password: &str) {
        let credentials = base64(format!("{user}:{password}").as_bytes(), false);
        self.authorization = Some(format!("Basic {credentials}"));
    }
}

/// What a receiver answered.
#[derive(Clone, Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    /// `Retry-After` in seconds (the HTTP-date form is not honoured).
    pub(crate) retry_after: Option<Duration>,
    pub(crate) body: Bytes,
}

/// Sends one request and reads the answer, within the client's timeout.
pub(crate) async fn send<R: Runtime>(
    client: &Client,
    endpoint: &Endpoint,
    method: &'static str,
    headers: &[(&'static str, &'static str)],
    body: Bytes,
) -> Result<Answer, PushError> {
    let timeout = client.timeout;
    exchange::<R>(client, endpoint, method, headers, body)
        .or(async {
            sleep::<R>(timeout).await;
            Err(PushError::Timeout {
                url: endpoint.url().to_owned(),
                after: timeout,
            })
        })
        .await
}

async fn exchange<R: Runtime>(
    client: &Client,
    endpoint: &Endpoint,
    method: &'static str,
    headers: &[(&'static str, &'static str)],
    body: Bytes,
) -> Result<Answer, PushError> {
    let connect = |source| PushError::Connect {
        url: endpoint.url().to_owned(),
        source,
    };
    let stream = R::connect(endpoint.authority()).await.map_err(connect)?;
    if endpoint.is_tls() {
        #[cfg(feature = "tls")]
        {
            let config = client.tls.clone().ok_or_else(|| PushError::Url {
                url: endpoint.url().to_owned(),
                why: "an https:// URL needs a TLS client configuration (with_tls)",
            })?;
            let name = rustls::pki_types::ServerName::try_from(endpoint.host().to_owned())
                .map_err(|_| PushError::Url {
                    url: endpoint.url().to_owned(),
                    why: "its host is not a valid TLS server name",
                })?;
            let tls = futures_rustls::TlsConnector::from(config)
                .connect(name, crate::tls::Io(stream))
                .await
                .map_err(connect)?;
            return request(client, endpoint, crate::tls::Io(tls), method, headers, body).await;
        }
        #[cfg(not(feature = "tls"))]
        return Err(PushError::Url {
            url: endpoint.url().to_owned(),
            why: "https:// needs torchlight-server's feature `tls`",
        });
    }
    request(client, endpoint, stream, method, headers, body).await
}

/// The HTTP exchange on a connected stream.
async fn request<S>(
    client: &Client,
    endpoint: &Endpoint,
    stream: S,
    method: &'static str,
    headers: &[(&'static str, &'static str)],
    body: Bytes,
) -> Result<Answer, PushError>
where
    S: Read + Write + Unpin + Send + 'static,
{
    let http = |source| PushError::Http {
        url: endpoint.url().to_owned(),
        source,
    };
    let (mut sender, connection) = http1::handshake(stream).await.map_err(http)?;
    let mut builder = hyper::Request::builder()
        .method(method)
        .uri(endpoint.path())
        .header(hyper::header::HOST, endpoint.authority())
        .header(hyper::header::USER_AGENT, &*client.user_agent);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    for (name, value) in &client.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if let Some(authorization) = &client.authorization {
        builder = builder.header(hyper::header::AUTHORIZATION, authorization);
    }
    let request = builder.body(Full::new(body)).map_err(|_| PushError::Url {
        url: endpoint.url().to_owned(),
        why: "it does not make a valid request",
    })?;
    let exchange = async {
        let response = sender.send_request(request).await.map_err(http)?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(hyper::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = Limited::new(response.into_body(), MAX_ANSWER)
            .collect()
            .await
            .map(http_body_util::Collected::to_bytes)
            // A body past the limit or cut short still has its status to judge by.
            .unwrap_or_default();
        Ok(Answer {
            status,
            retry_after,
            body,
        })
    };
    // The connection is driven beside the exchange; when it ends first, the exchange
    // fails with the reason.
    exchange
        .or(async {
            let _ = connection.await;
            pending().await
        })
        .await
}
