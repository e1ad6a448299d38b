//! The Pushgateway client ([`Pushgateway`]): a scrape in reverse. The registry's text
//! exposition goes to `/metrics/job/<job>{/<label>/<value>}` (the Pushgateway's README,
//! "API"): `PUT` replaces the group, `POST` replaces the metrics of the same names,
//! `DELETE` deletes the group. A value holding `/` or empty is sent as
//! `<label>@base64/<url-safe base64>`. What the gateway would refuse (an invalid
//! grouping key; a pushed series whose `job`, `instance` or other grouping label
//! differs from the key's) is refused here before sending, with the reason.

use std::marker::PhantomData;

use std::time::Duration;

use bytes::Bytes;
use torchlight::{Format, Registry};

use super::client::{Client, send};
use super::endpoint::{Endpoint, base64};
use super::error::PushError;
use super::pusher::judge_status;
use crate::runtime::Runtime;

/// A Pushgateway group on runtime `R`: its URL, job and grouping labels, and how to
/// reach it. Each adapter names it `Pushgateway`.
pub struct Pushgateway<R> {
    endpoint: Endpoint,
    /// `("job", job)` first, then the grouping labels in the order given.
    grouping: Vec<(String, String)>,
    client: Client,
    _runtime: PhantomData<fn() -> R>,
}

impl<R> Clone for Pushgateway<R> {
    fn clone(&self) -> Self {
        Self {
            endpoint: self.endpoint.clone(),
            grouping: self.grouping.clone(),
            client: self.client.clone(),
            _runtime: PhantomData,
        }
    }
}

impl<R: Runtime> Pushgateway<R> {
    /// The group of `job` on the gateway at `url` (`http://host:9091`), with a 10 s
    /// timeout.
    ///
    /// # Errors
    ///
    /// [`PushError::Url`] for a URL that is not `http://` or `https://`,
    /// [`PushError::Label`] for an empty job.
    pub fn new(url: &str, job: &str) -> Result<Self, PushError> {
        if job.is_empty() {
            return Err(PushError::Label {
                name: "job".to_owned(),
                why: "the Pushgateway needs a non-empty job name",
            });
        }
        Ok(Self {
            endpoint: Endpoint::parse(url)?,
            grouping: vec![("job".to_owned(), job.to_owned())],
            client: Client::new(Duration::from_secs(10)),
            _runtime: PhantomData,
        })
    }

    /// Adds a grouping label (`instance`, …).
    ///
    /// # Errors
    ///
    /// [`PushError::Label`] when `name` is not a label name, is `job`, or was given.
    pub fn with_grouping_label(mut self, name: &str, value: &str) -> Result<Self, PushError> {
        let valid = !name.is_empty()
            && !name.starts_with("__")
            && name.bytes().enumerate().all(|(i, b)| {
                b == b'_' || b.is_ascii_alphabetic() || (i > 0 && b.is_ascii_digit())
            });
        if !valid || self.grouping.iter().any(|(n, _)| n == name) {
            return Err(PushError::Label {
                name: name.to_owned(),
                why: "a grouping label needs a label name ([a-zA-Z_][a-zA-Z0-9_]*, not \
                      starting with \"__\"), other than `job`, given once",
            });
        }
        self.grouping.push((name.to_owned(), value.to_owned()));
        Ok(self)
    }

    /// How long a request may take (default 10 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.client.timeout = timeout;
        self
    }

    /// Sends HTTP basic authentication.
    #[must_use]
    pub fn with_basic_auth(mut self, user: &str, password: &str) -> Self {
        self.client.set_basic_auth(user, password);
        self
    }

    /// The TLS client settings for an `https://` URL.
    #[cfg(feature = "tls")]
    #[cfg_attr(docsrs, doc(cfg(feature = "tls")))]
    #[must_use]
    pub fn with_tls(mut self, config: std::sync::Arc<rustls::ClientConfig>) -> Self {
        self.client.tls = Some(config);
        self
    }

    /// The group's URL: `<url>/metrics/job/<job>{/<label>/<value>}`.
    #[must_use]
    pub fn url(&self) -> String {
        self.group().url().to_owned()
    }

    fn group(&self) -> Endpoint {
        let mut path = self.endpoint.path().trim_end_matches('/').to_owned();
        path.push_str("/metrics");
        for (name, value) in &self.grouping {
            path.push('/');
            path.push_str(name);
            if value.is_empty() || value.contains('/') {
                path.push_str("@base64/");
                path.push_str(&if value.is_empty() {
                    "=".to_owned()
                } else {
                    base64(value.as_bytes(), true)
                });
            } else {
                path.push('/');
                percent_encode(value, &mut path);
            }
        }
        self.endpoint.with_path(path)
    }

    /// Replaces the group with `registry`'s metrics (`PUT`).
    ///
    /// # Errors
    ///
    /// [`PushError::Grouping`] when a series conflicts with the grouping key (nothing
    /// is sent); otherwise the exchange's error or the gateway's refusal.
    pub async fn push(&self, registry: &Registry) -> Result<(), PushError> {
        self.send_registry("PUT", registry).await
    }

    /// Replaces the metrics of the same names in the group (`POST`).
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push).
    pub async fn push_add(&self, registry: &Registry) -> Result<(), PushError> {
        self.send_registry("POST", registry).await
    }

    /// Deletes the group (`DELETE`).
    ///
    /// # Errors
    ///
    /// The exchange's error or the gateway's refusal.
    pub async fn delete(&self) -> Result<(), PushError> {
        let group = self.group();
        let answer = send::<R>(&self.client, &group, "DELETE", &[], Bytes::new()).await?;
        judge_status(group.url(), answer.status, &answer.body, answer.retry_after)
    }

    /// [`push`](Self::push) from a program without an async runtime: runs it on `R`
    /// in the calling thread ([`Runtime::block_on`]).
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push), and [`PushError::Thread`] when `R` cannot run here.
    pub fn push_blocking(&self, registry: &Registry) -> Result<(), PushError> {
        R::block_on(self.push(registry)).map_err(PushError::Thread)?
    }

    /// [`push_add`](Self::push_add), blocking (see [`push_blocking`](Self::push_blocking)).
    ///
    /// # Errors
    ///
    /// As [`push_blocking`](Self::push_blocking).
    pub fn push_add_blocking(&self, registry: &Registry) -> Result<(), PushError> {
        R::block_on(self.push_add(registry)).map_err(PushError::Thread)?
    }

    /// [`delete`](Self::delete), blocking (see [`push_blocking`](Self::push_blocking)).
    ///
    /// # Errors
    ///
    /// As [`push_blocking`](Self::push_blocking).
    pub fn delete_blocking(&self) -> Result<(), PushError> {
        R::block_on(self.delete()).map_err(PushError::Thread)?
    }

    async fn send_registry(
        &self,
        method: &'static str,
        registry: &Registry,
    ) -> Result<(), PushError> {
        let group = self.group();
        let mut body = Vec::new();
        registry
            .encode_to(&mut body, Format::Text)
            .map_err(PushError::Encode)?;
        if let Some(why) = conflict(&body, &self.grouping) {
            return Err(PushError::Grouping {
                url: group.url().to_owned(),
                why,
            });
        }
        let headers = [("content-type", Format::Text.content_type())];
        let answer = send::<R>(&self.client, &group, method, &headers, Bytes::from(body)).await?;
        judge_status(group.url(), answer.status, &answer.body, answer.retry_after)
    }
}

/// Percent-encodes what is not unreserved in a path segment (RFC 3986).
fn percent_encode(value: &str, out: &mut String) {
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
}

/// The first series of a text exposition with a grouping label of another value: the
/// gateway refuses such a push (README, "About the job and instance labels").
fn conflict(text: &[u8], grouping: &[(String, String)]) -> Option<String> {
    let text = String::from_utf8_lossy(text);
    for line in text.lines().filter(|line| !line.starts_with('#')) {
        let Some(open) = line.find('{') else { continue };
        let mut rest = &line[open + 1..];
        while let Some(eq) = rest.find("=\"") {
            let name = rest[..eq].trim_start_matches(',');
            let mut value = String::new();
            let mut chars = rest[eq + 2..].char_indices();
            let mut end = rest.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some((_, 'n')) => value.push('\n'),
                        Some((_, other)) => value.push(other),
                        None => {}
                    },
                    '"' => {
                        end = eq + 2 + i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if let Some((_, expected)) = grouping.iter().find(|(n, _)| n == name) {
                if *expected != value {
                    return Some(format!(
                        "the series `{line}` has {name}=\"{value}\", but the grouping key says \
                         {name}=\"{expected}\"; the Pushgateway refuses that: drop the label \
                         or push to that group"
                    ));
                }
            }
            rest = &rest[end.min(rest.len())..];
            if rest.starts_with('}') {
                break;
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicts_are_found_with_escapes() {
        let grouping = [
            ("job".to_owned(), "batch".to_owned()),
            ("instance".to_owned(), "a".to_owned()),
        ];
        let ok = b"# HELP x_total X.\nx_total{job=\"batch\",path=\"a\\\"b\"} 1\ny 2\n";
        assert_eq!(conflict(ok, &grouping), None);
        let bad = b"x_total{path=\"a,b=\\\"c\",instance=\"b\"} 1\n";
        let why = conflict(bad, &grouping).unwrap();
        assert!(why.contains("instance=\"b\""), "{why}");
    }
}
