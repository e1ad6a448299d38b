//! [`OtlpPush`]: OTLP/HTTP with protobuf bodies as a [`Push`] protocol, configured as the
//! OpenTelemetry "OTLP Exporter Configuration" and "Environment Variable Specification"
//! say; the body is the core's (`Registry::encode_otlp`).
//!
//! Settings come from the environment when the push is made ([`OtlpPush::new`], or
//! [`OtlpPush::with_environment`] with a source of its own), and a setting made in code
//! afterwards wins over the environment's:
//!
//! | variable | setting | default |
//! |---|---|---|
//! | `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` (as is), `OTEL_EXPORTER_OTLP_ENDPOINT` (`/v1/metrics` appended) | [`with_metrics_endpoint`](OtlpPush::with_metrics_endpoint), [`with_endpoint`](OtlpPush::with_endpoint) | `http://localhost:4318/v1/metrics` |
//! | `OTEL_EXPORTER_OTLP_[METRICS_]HEADERS` (`k=v,k2=v2`, values URL-decoded) | [`with_header`](OtlpPush::with_header) | none |
//! | `OTEL_EXPORTER_OTLP_[METRICS_]TIMEOUT` (ms) | [`with_timeout`](OtlpPush::with_timeout) | 10 s |
//! | `OTEL_EXPORTER_OTLP_[METRICS_]COMPRESSION` (`gzip`, `none`) | [`with_gzip`](OtlpPush::with_gzip) | none |
//! | `OTEL_METRIC_EXPORT_INTERVAL` (ms) | [`with_interval`](OtlpPush::with_interval) | 60 s |
//! | `OTEL_SERVICE_NAME` | [`with_service_name`](OtlpPush::with_service_name) | `unknown_service:<executable>` |
//! | `OTEL_RESOURCE_ATTRIBUTES` (`k=v,k2=v2`, values URL-decoded) | [`with_resource_attribute`](OtlpPush::with_resource_attribute) | none |
//!
//! A signal-specific variable (`…_METRICS_…`) wins over the general one. A value that
//! cannot be parsed (a timeout that is not a number, an unknown compression) is ignored,
//! as the environment specification asks. `OTEL_SERVICE_NAME` wins over a
//! `service.name` in `OTEL_RESOURCE_ATTRIBUTES`.
//!
//! The answer is judged as the OTLP specification's "OTLP/HTTP Response" says: 2xx is a
//! success, unless its `ExportMetricsServiceResponse` carries a `partial_success`
//! ([`PushError::PartiallyRejected`], reported and not retried); 429, 502, 503 and 504
//! are retried (after `Retry-After` when given); any other status is not, and its
//! `google.rpc.Status` message (or the first line of a text body) is quoted.

use std::fmt;
use std::io::Write as _;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flate2::Compression;
use flate2::write::GzEncoder;
use torchlight::{EncodeError, Otlp, Registry};

use super::error::PushError;
use super::pusher::{Push, PushOptions};

/// The OTLP/HTTP path of metrics, appended to a base endpoint.
const METRICS_PATH: &str = "/v1/metrics";
/// The OTLP exporter configuration's default endpoint for OTLP/HTTP, with the path.
const DEFAULT_ENDPOINT: &str = "http://localhost:4318/v1/metrics";
/// `OTEL_EXPORTER_OTLP_TIMEOUT`'s default.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// `OTEL_METRIC_EXPORT_INTERVAL`'s default.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(60);

const PLAIN: &[(&str, &str)] = &Otlp::HEADERS;
const GZIP: &[(&str, &str)] = &[
    ("content-type", "application/x-protobuf"),
    ("content-encoding", "gzip"),
];

/// A source of environment variables.
type Environment = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// OTLP/HTTP (protobuf) export of a registry: where to, with which resource, how often.
/// Make the pusher's options with [`options`](Self::options), then start it with the
/// adapter's `start_otlp`.
///
/// ```
/// use std::time::Duration;
/// use torchlight_smol::push::OtlpPush;
///
/// let push = OtlpPush::with_environment(|_| None) // `new()` reads OTEL_*
///     .with_endpoint("http://collector:4318")
///     .with_service_name("checkout")
///     .with_resource_attribute("deployment.environment.name", "prod")
///     .with_header("api-key", "secret")
///     .with_interval(Duration::from_secs(15));
/// assert_eq!(push.endpoint(), "http://collector:4318/v1/metrics");
/// let options = push.options()?;
/// assert_eq!(options.interval(), Duration::from_secs(15));
/// # Ok::<(), torchlight_smol::push::PushError>(())
/// ```
#[derive(Clone)]
pub struct OtlpPush {
    endpoint: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
    interval: Duration,
    gzip: bool,
    service_name: Option<String>,
    /// Without `service.name`, which `service_name` holds; a key at most once.
    resource: Vec<(String, String)>,
    start_time: SystemTime,
    /// The uncompressed request, kept between pushes when compressing.
    proto: Vec<u8>,
    /// The resource as it is sent, made at the first push.
    attributes: Option<Vec<(String, String)>>,
}

impl fmt::Debug for OtlpPush {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Header values are often credentials: their names only.
        let headers: Vec<&str> = self.headers.iter().map(|(n, _)| n.as_str()).collect();
        f.debug_struct("OtlpPush")
            .field("endpoint", &self.endpoint)
            .field("headers", &headers)
            .field("timeout", &self.timeout)
            .field("interval", &self.interval)
            .field("gzip", &self.gzip)
            .field("service_name", &self.service_name)
            .field("resource", &self.resource)
            .field("start_time", &self.start_time)
            .finish_non_exhaustive()
    }
}

impl Default for OtlpPush {
    fn default() -> Self {
        Self::new()
    }
}

impl OtlpPush {
    /// The settings of the process's `OTEL_*` environment variables (the table in the
    /// module docs), the defaults for the others; cumulative points count from now.
    #[must_use]
    pub fn new() -> Self {
        Self::with_environment(|name| std::env::var(name).ok())
    }

    /// As [`new`](Self::new), with the environment read through `var` (for tests and for
    /// programs that keep their configuration elsewhere; `|_| None` ignores it).
    #[must_use]
    pub fn with_environment(var: impl Fn(&str) -> Option<String> + Send + Sync + 'static) -> Self {
        let var: Environment = Arc::new(var);
        let setting = |name: &str| {
            var(&format!("OTEL_EXPORTER_OTLP_METRICS_{name}"))
                .or_else(|| var(&format!("OTEL_EXPORTER_OTLP_{name}")))
                .filter(|value| !value.trim().is_empty())
        };
        let endpoint = match var("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT")
            .filter(|value| !value.trim().is_empty())
        {
            Some(url) => url.trim().to_owned(),
            None => var("OTEL_EXPORTER_OTLP_ENDPOINT")
                .filter(|value| !value.trim().is_empty())
                .map_or_else(|| DEFAULT_ENDPOINT.to_owned(), |base| metrics_url(&base)),
        };
        let millis = |value: Option<String>| {
            value
                .and_then(|v| v.trim().parse::<u64>().ok())
                .map(Duration::from_millis)
        };
        let mut resource = Vec::new();
        for (key, value) in pairs(&var("OTEL_RESOURCE_ATTRIBUTES").unwrap_or_default()) {
            upsert(&mut resource, key, value);
        }
        let service_name = var("OTEL_SERVICE_NAME")
            .filter(|name| !name.trim().is_empty())
            .or_else(|| take(&mut resource, "service.name"));
        Self {
            endpoint,
            headers: pairs(&setting("HEADERS").unwrap_or_default()),
            timeout: millis(setting("TIMEOUT")).unwrap_or(DEFAULT_TIMEOUT),
            interval: millis(var("OTEL_METRIC_EXPORT_INTERVAL"))
                .filter(|interval| !interval.is_zero())
                .unwrap_or(DEFAULT_INTERVAL),
            gzip: setting("COMPRESSION").is_some_and(|c| c.trim().eq_ignore_ascii_case("gzip")),
            service_name,
            resource,
            start_time: SystemTime::now(),
            proto: Vec::new(),
            attributes: None,
        }
    }

    /// Exports to `{base}/v1/metrics` (as `OTEL_EXPORTER_OTLP_ENDPOINT` is read): a
    /// collector's OTLP/HTTP address, `http://collector:4318`.
    #[must_use]
    pub fn with_endpoint(mut self, base: &str) -> Self {
        self.endpoint = metrics_url(base);
        self
    }

    /// Exports to `url` as it is (as `OTEL_EXPORTER_OTLP_METRICS_ENDPOINT` is read).
    #[must_use]
    pub fn with_metrics_endpoint(mut self, url: &str) -> Self {
        url.trim().clone_into(&mut self.endpoint);
        self
    }

    /// Sends header `name: value` with every export (an API key, a tenant), replacing a
    /// header of that name from the environment.
    #[must_use]
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        upsert(&mut self.headers, name.to_owned(), value.to_owned());
        self
    }

    /// How long one export may take (default 10 s).
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// How long from one export's end to the next (default 60 s).
    #[must_use]
    pub fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// Whether bodies are gzip-compressed (`Content-Encoding: gzip`; default no).
    #[must_use]
    pub fn with_gzip(mut self, gzip: bool) -> Self {
        self.gzip = gzip;
        self
    }

    /// The resource's `service.name` (default `unknown_service:` and the executable's
    /// name, as the resource semantic conventions say).
    #[must_use]
    pub fn with_service_name(mut self, name: &str) -> Self {
        self.service_name = Some(name.to_owned());
        self
    }

    /// A resource attribute (`deployment.environment.name`, `service.version`, …),
    /// replacing one of that key from the environment; `service.name` sets
    /// [`with_service_name`](Self::with_service_name).
    #[must_use]
    pub fn with_resource_attribute(self, key: &str, value: &str) -> Self {
        if key == "service.name" {
            return self.with_service_name(value);
        }
        let mut this = self;
        upsert(&mut this.resource, key.to_owned(), value.to_owned());
        this
    }

    /// Since when the cumulative points of series without a created timestamp count
    /// (default: when these options were made). A series that keeps one (counters,
    /// histograms and summaries registered in a registry with a clock, the default with
    /// `std`, and `Family` children) starts at its created timestamp instead.
    #[must_use]
    pub fn with_start_time(mut self, start: SystemTime) -> Self {
        self.start_time = start;
        self
    }

    /// The URL exports go to.
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The headers sent with every export.
    #[must_use]
    pub fn headers(&self) -> &[(String, String)] {
        &self.headers
    }

    /// How long one export may take.
    #[must_use]
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// How long from one export's end to the next.
    #[must_use]
    pub fn interval(&self) -> Duration {
        self.interval
    }

    /// Whether bodies are gzip-compressed.
    #[must_use]
    pub fn gzip(&self) -> bool {
        self.gzip
    }

    /// The resource's attributes as they are sent, `service.name` first.
    #[must_use]
    pub fn resource(&self) -> Vec<(String, String)> {
        let service = self
            .service_name
            .clone()
            .unwrap_or_else(default_service_name);
        std::iter::once(("service.name".to_owned(), service))
            .chain(self.resource.iter().cloned())
            .collect()
    }

    /// The pusher's options for these settings (endpoint, headers, timeout, interval),
    /// for torchlight's default registry; set the registry, TLS, a report callback or
    /// the close timeout on them before starting.
    ///
    /// # Errors
    ///
    /// [`PushError::Url`] when the endpoint is not an `http://` or `https://` URL.
    pub fn options(&self) -> Result<PushOptions, PushError> {
        let mut options = PushOptions::new(&self.endpoint)?
            .with_timeout(self.timeout)
            .with_interval(self.interval);
        for (name, value) in &self.headers {
            options = options.with_header(name, value);
        }
        Ok(options)
    }
}

/// `base` with the metrics path appended (one `/` between).
fn metrics_url(base: &str) -> String {
    format!("{}{METRICS_PATH}", base.trim().trim_end_matches('/'))
}

/// `unknown_service:` and the executable's name.
fn default_service_name() -> String {
    let executable = std::env::current_exe()
        .ok()
        .and_then(|path| path.file_name().map(|n| n.to_string_lossy().into_owned()))
        .or_else(|| std::env::args().next())
        .unwrap_or_default();
    format!("unknown_service:{executable}")
}

/// Sets `key` to `value` in `list`, where it is, or at the end.
fn upsert(list: &mut Vec<(String, String)>, key: String, value: String) {
    match list.iter_mut().find(|(k, _)| *k == key) {
        Some(entry) => entry.1 = value,
        None => list.push((key, value)),
    }
}

/// Removes `key` from `list`, returning its value.
fn take(list: &mut Vec<(String, String)>, key: &str) -> Option<String> {
    let at = list.iter().position(|(k, _)| k == key)?;
    Some(list.remove(at).1)
}

/// The `key=value` pairs of a comma-separated list (the W3C Baggage form the OTLP
/// headers and resource attributes variables use): keys trimmed, values trimmed and
/// percent-decoded; an entry without `=`, with an empty key or with a value that does
/// not decode is skipped.
fn pairs(list: &str) -> Vec<(String, String)> {
    list.split(',')
        .filter_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            let key = key.trim();
            let value = percent_decode(value.trim())?;
            (!key.is_empty()).then(|| (key.to_owned(), value))
        })
        .collect()
}

/// `%XX` escapes decoded; `None` for a broken escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Nanoseconds since the Unix epoch (0 before it).
fn unix_nanos(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |since| {
        u64::try_from(since.as_nanos()).unwrap_or(u64::MAX)
    })
}

impl Push for OtlpPush {
    fn encode(
        &mut self,
        registry: &Registry,
        now: SystemTime,
        body: &mut Vec<u8>,
    ) -> Result<(), EncodeError> {
        let attributes = self.attributes.get_or_insert_with(|| {
            let mut attributes = self.service_name.clone().map_or_else(
                || vec![("service.name".to_owned(), default_service_name())],
                |name| vec![("service.name".to_owned(), name)],
            );
            attributes.extend(self.resource.iter().cloned());
            attributes
        });
        let resource: Vec<(&str, &str)> = attributes
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let request =
            Otlp::new(unix_nanos(now), unix_nanos(self.start_time)).with_resource(&resource);
        if !self.gzip {
            return registry.encode_otlp(body, &request);
        }
        let mut proto = std::mem::take(&mut self.proto);
        proto.clear();
        let result = registry.encode_otlp(&mut proto, &request).and_then(|()| {
            let mut gzip = GzEncoder::new(&mut *body, Compression::fast());
            gzip.write_all(&proto)
                .and_then(|()| gzip.finish().map(drop))
                .map_err(|_| EncodeError::Write)
        });
        drop(resource);
        self.proto = proto;
        result
    }

    fn headers(&self) -> &'static [(&'static str, &'static str)] {
        if self.gzip { GZIP } else { PLAIN }
    }

    fn judge(&self, url: &str, status: u16, body: &[u8]) -> Result<(), PushError> {
        judge(url, status, body)
    }
}

/// The OTLP/HTTP judgement of an answer (see the module docs).
fn judge(url: &str, status: u16, body: &[u8]) -> Result<(), PushError> {
    let url = url.to_owned();
    if (200..300).contains(&status) {
        // `ExportMetricsServiceResponse { ExportMetricsPartialSuccess partial_success = 1 }`,
        // `ExportMetricsPartialSuccess { int64 rejected_data_points = 1; string
        // error_message = 2 }`.
        let Some(partial) = fields(body).find_map(|(field, value)| match (field, value) {
            (1, Field::Bytes(partial)) => Some(partial),
            _ => None,
        }) else {
            return Ok(());
        };
        let mut rejected = 0;
        let mut message = String::new();
        for (field, value) in fields(partial) {
            match (field, value) {
                #[allow(clippy::cast_possible_wrap)]
                (1, Field::Varint(n)) => rejected = n as i64,
                (2, Field::Bytes(text)) => message = String::from_utf8_lossy(text).into_owned(),
                _ => {}
            }
        }
        if rejected == 0 && message.is_empty() {
            return Ok(());
        }
        return Err(PushError::PartiallyRejected {
            url,
            rejected,
            message,
        });
    }
    // A `google.rpc.Status { int32 code = 1; string message = 2; … }`, or text.
    let message = fields(body)
        .find_map(|(field, value)| match (field, value) {
            (2, Field::Bytes(text)) => std::str::from_utf8(text).ok().map(str::to_owned),
            _ => None,
        })
        .filter(|_| is_protobuf(body))
        .unwrap_or_else(|| {
            let text = String::from_utf8_lossy(body);
            text.lines().next().unwrap_or("").trim().to_owned()
        });
    if matches!(status, 429 | 502 | 503 | 504) {
        Err(PushError::Unavailable {
            url,
            status,
            message,
            retry_after: None,
        })
    } else {
        Err(PushError::Rejected {
            url,
            status,
            message,
        })
    }
}

/// A protobuf field's value, as far as the answers need it.
#[derive(Clone, Copy, Debug)]
enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed,
}

/// Whether `body` parses as protobuf fields to its end.
fn is_protobuf(body: &[u8]) -> bool {
    let mut rest = body;
    while !rest.is_empty() {
        match field(rest) {
            Some((_, _, after)) => rest = after,
            None => return false,
        }
    }
    true
}

/// The fields of a protobuf message, up to the first that does not parse.
fn fields(body: &[u8]) -> impl Iterator<Item = (u64, Field<'_>)> {
    let mut rest = body;
    std::iter::from_fn(move || {
        let (number, value, after) = field(rest)?;
        rest = after;
        Some((number, value))
    })
}

/// The field at `bytes`' start and what follows it.
fn field(bytes: &[u8]) -> Option<(u64, Field<'_>, &[u8])> {
    let (tag, rest) = read_varint(bytes)?;
    match tag & 7 {
        0 => {
            let (n, rest) = read_varint(rest)?;
            Some((tag >> 3, Field::Varint(n), rest))
        }
        1 => Some((tag >> 3, Field::Fixed, rest.get(8..)?)),
        2 => {
            let (len, rest) = read_varint(rest)?;
            let len = usize::try_from(len).ok()?;
            Some((tag >> 3, Field::Bytes(rest.get(..len)?), rest.get(len..)?))
        }
        5 => Some((tag >> 3, Field::Fixed, rest.get(4..)?)),
        _ => None,
    }
}

fn read_varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut n = 0u64;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        n |= u64::from(byte & 0x7f) << (7 * i);
        if *byte < 0x80 {
            return Some((n, &bytes[i + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn environment(vars: &'static [(&'static str, &'static str)]) -> OtlpPush {
        OtlpPush::with_environment(move |name| {
            vars.iter()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn defaults_without_an_environment() {
        let push = environment(&[]);
        assert_eq!(push.endpoint(), "http://localhost:4318/v1/metrics");
        assert!(push.headers().is_empty());
        assert_eq!(push.timeout(), Duration::from_secs(10));
        assert_eq!(push.interval(), Duration::from_secs(60));
        assert!(!push.gzip());
        let resource = push.resource();
        assert_eq!(resource.len(), 1);
        assert_eq!(resource[0].0, "service.name");
        assert!(
            resource[0].1.starts_with("unknown_service:"),
            "{resource:?}"
        );
        assert!(resource[0].1.len() > "unknown_service:".len());
    }

    #[test]
    fn the_environment_is_read_as_the_specification_says() {
        let push = environment(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318/"),
            (
                "OTEL_EXPORTER_OTLP_HEADERS",
                "api-key=a%20b%2Cc, tenant = t1,broken",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "2500"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_METRIC_EXPORT_INTERVAL", "15000"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "service.name=from-attributes,deployment.environment.name=prod,team=a%3Db",
            ),
        ]);
        assert_eq!(push.endpoint(), "http://collector:4318/v1/metrics");
        assert_eq!(
            push.headers(),
            [
                ("api-key".to_owned(), "a b,c".to_owned()),
                ("tenant".to_owned(), "t1".to_owned())
            ]
        );
        assert_eq!(push.timeout(), Duration::from_millis(2500));
        assert_eq!(push.interval(), Duration::from_secs(15));
        assert!(push.gzip());
        assert_eq!(
            push.resource(),
            [
                ("service.name".to_owned(), "from-attributes".to_owned()),
                ("deployment.environment.name".to_owned(), "prod".to_owned()),
                ("team".to_owned(), "a=b".to_owned()),
            ]
        );
    }

    #[test]
    fn signal_specific_variables_and_service_name_win() {
        let push = environment(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://general:4318"),
            (
                "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
                "https://metrics:443/custom/path",
            ),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "1000"),
            ("OTEL_EXPORTER_OTLP_METRICS_TIMEOUT", "3000"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "gzip"),
            ("OTEL_EXPORTER_OTLP_METRICS_COMPRESSION", "none"),
            ("OTEL_SERVICE_NAME", "from-name"),
            ("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-attributes"),
        ]);
        assert_eq!(push.endpoint(), "https://metrics:443/custom/path");
        assert_eq!(push.timeout(), Duration::from_secs(3));
        assert!(!push.gzip());
        assert_eq!(push.resource()[0].1, "from-name");
    }

    #[test]
    fn code_wins_over_the_environment() {
        let push = environment(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://env:4318"),
            ("OTEL_EXPORTER_OTLP_HEADERS", "api-key=env"),
            ("OTEL_EXPORTER_OTLP_TIMEOUT", "not a number"),
            ("OTEL_EXPORTER_OTLP_COMPRESSION", "zstd"),
            ("OTEL_SERVICE_NAME", "env"),
            ("OTEL_RESOURCE_ATTRIBUTES", "team=env,region=eu"),
        ])
        .with_endpoint("http://code:4318")
        .with_header("api-key", "code")
        .with_resource_attribute("team", "code")
        .with_resource_attribute("service.name", "code");
        assert_eq!(push.endpoint(), "http://code:4318/v1/metrics");
        assert_eq!(push.headers(), [("api-key".to_owned(), "code".to_owned())]);
        // Unparsable values are ignored: the defaults.
        assert_eq!(push.timeout(), Duration::from_secs(10));
        assert!(!push.gzip());
        assert_eq!(
            push.resource(),
            [
                ("service.name".to_owned(), "code".to_owned()),
                ("team".to_owned(), "code".to_owned()),
                ("region".to_owned(), "eu".to_owned()),
            ]
        );
        let options = push
            .with_metrics_endpoint("http://exact:1/x")
            .options()
            .unwrap();
        assert_eq!(options.endpoint().url(), "http://exact:1/x");
    }

    #[test]
    fn answers_are_judged_as_otlp_http_says() {
        assert!(judge("u", 200, b"").is_ok());
        // An empty `partial_success`: a plain success.
        assert!(judge("u", 200, &[0x0a, 0x00]).is_ok());
        let partial = [
            0x0a, 0x06, 0x08, 0x03, 0x12, 0x02, b'n', b'o', // 3 rejected, "no"
        ];
        match judge("u", 200, &partial) {
            Err(PushError::PartiallyRejected {
                rejected, message, ..
            }) => assert_eq!((rejected, message.as_str()), (3, "no")),
            other => panic!("{other:?}"),
        }
        for status in [429, 502, 503, 504] {
            assert!(
                judge("u", status, b"").unwrap_err().is_retryable(),
                "{status}"
            );
        }
        for status in [400, 401, 404, 413, 500, 501] {
            assert!(
                !judge("u", status, b"").unwrap_err().is_retryable(),
                "{status}"
            );
        }
        // A `google.rpc.Status` with code 3 and a message.
        let status = [0x08, 0x03, 0x12, 0x03, b'b', b'a', b'd'];
        assert_eq!(
            judge("http://c/v1/metrics", 400, &status)
                .unwrap_err()
                .to_string(),
            "http://c/v1/metrics refused the push with 400: bad"
        );
        assert_eq!(
            judge("u", 400, b"plain text\nmore")
                .unwrap_err()
                .to_string(),
            "u refused the push with 400: plain text"
        );
    }
}
