//! The exposition formats: the Prometheus text format 0.0.4 and OpenMetrics 1.0
//! (`encoding/text.rs`), written as bytes into a [`ByteSink`] (a growable `Vec<u8>` with
//! `std`, a caller's fixed buffer through [`SliceSink`] without) or, for convenience,
//! into any [`core::fmt::Write`]; and the Prometheus protobuf format
//! (`encoding/protobuf.rs`, whose header says how it writes lengths), into a sink that
//! keeps what it wrote. This file holds what the formats share: [`Format`], the family
//! header (`FamilyHead`) and the two steps the registry calls (`encode_family`, one
//! `match` on the format, and `encode_end`), [`EncodeError`], the sinks and the chunk.
//! The three protobuf encoders (`encoding/protobuf.rs`, `encoding/remote_write.rs`,
//! `encoding/otlp.rs`) write only their messages' fields; the wire format they share
//! (varints, tags, scalar and length-delimited fields, messages whose length is filled
//! in afterwards) is `encoding/wire.rs`.
//!
//! The bytes follow Go's `expfmt`, the ecosystem's reference encoder
//! (`github.com/prometheus/common`, `expfmt/text_create.go` and
//! `expfmt/openmetrics_create.go`; the formats are specified in Prometheus'
//! "Exposition formats" page and the OpenMetrics 1.0 specification):
//!
//! | | text 0.0.4 | OpenMetrics 1.0 |
//! |---|---|---|
//! | metadata order | `# HELP`, `# TYPE` | `# HELP`, `# TYPE`, `# UNIT` |
//! | counter family `foo` | `# TYPE foo_total counter`, `foo_total 1` | `# TYPE foo counter`, `foo_total 1.0` |
//! | floats | `1`, `1e+06`, `+Inf` | `1.0`, `1e+06`, `+Inf` |
//! | bucket counts, `_count` | as floats | integers |
//! | HELP escapes | `\\`, `\n` | `\\`, `\n`, `\"` |
//! | end | — | `# EOF` |
//!
//! A metric describes its series to an [`Encoder`](crate::Encoder) through
//! [`Collect`](crate::Collect), in the format-neutral sample model of `sample.rs`; the
//! format's encoder (`encoding/text.rs` or `encoding/protobuf.rs`) owns every
//! formatting rule, so a metric type cannot get one wrong.
//!
//! # Writing bytes
//!
//! The encoder writes each sample line with static calls into a small chunk on the
//! stack (256 bytes with `std`, 64 without): the family name, the labels (a value is
//! scanned once for the three bytes that need escaping, and copied whole when it has
//! none), the value and the line end; short pieces are copied without a call to
//! `memcpy`. The sink gets the chunk when it is full, so a `Vec` grows, or a
//! `fmt::Write` is called, once per chunk rather than once per piece. Integers (and
//! floats that are integers below 10^6) are written from their digits, never through
//! `core::fmt`; other floats keep the Go-compatible formatter of `encoding/float.rs`.
//! A full fixed buffer is [`EncodeError::Full`], never a panic; what was written then
//! is an incomplete exposition and must not be sent.

mod escape;
mod float;
pub(crate) mod otlp;
mod protobuf;
mod remote_write;
mod snappy;
mod text;
mod wire;

pub use otlp::Otlp;
pub(crate) use remote_write::encode_family as encode_remote_write_family;
pub use remote_write::{ExternalLabelError, RemoteWrite};
pub use snappy::snappy_compress;

use core::fmt;

use crate::collect::MetricType;
use crate::name::Escaping;

/// A family's metadata, as every format's family header needs it (text's
/// `# HELP`, `# TYPE` and `# UNIT` lines, protobuf's `MetricFamily` fields).
pub(crate) struct FamilyHead<'a> {
    /// The family name, without any type suffix.
    pub(crate) name: &'a str,
    pub(crate) metric_type: MetricType,
    pub(crate) help: &'a str,
    pub(crate) unit: Option<&'a str>,
    /// Whether the family declares its label names and every one is a legacy label
    /// name, so the formats write label names without looking at them (the common
    /// case; a family without labels looks at none either way).
    pub(crate) legacy_labels: bool,
}

/// Writes one family in `format`: its metadata, then the series `collect` reports.
///
/// # Errors
///
/// The sink's error, or [`EncodeError::Collect`] when `collect` failed on its own.
pub(crate) fn encode_family<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    exposition: Exposition,
    family: &FamilyHead<'_>,
    collect: impl FnOnce(&mut crate::sample::Encoder<'_>) -> fmt::Result,
) -> Result<(), EncodeError> {
    match exposition.format {
        Format::Protobuf => protobuf::encode_family(out, exposition.escaping(), family, collect),
        Format::Text | Format::OpenMetrics => text::encode_family(out, exposition, family, collect),
    }
}

/// Ends an exposition: the OpenMetrics terminator; nothing for the other formats.
///
/// # Errors
///
/// The sink's.
pub(crate) fn encode_end<B: ByteSink + ?Sized>(
    out: &mut B,
    format: Format,
) -> Result<(), EncodeError> {
    match format {
        Format::OpenMetrics => out.write(b"# EOF\n"),
        Format::Text | Format::Protobuf => Ok(()),
    }
}

/// An exposition format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// The Prometheus text format, version 0.0.4.
    Text,
    /// OpenMetrics 1.0 text, what Prometheus asks for first by default.
    OpenMetrics,
    /// The Prometheus protobuf exposition: length-delimited `io.prometheus.client.MetricFamily`
    /// messages (client_model's `metrics.proto`), what Prometheus asks for first with
    /// native histograms enabled, and the only format that carries them.
    ///
    /// Each message is written with its length before it, which is filled in once the
    /// message is written (see `encoding/protobuf.rs`), so the sink must keep what it
    /// wrote: a `Vec<u8>`, a [`SliceSink`], or a [`ByteSink`] implementing
    /// [`written_mut`](ByteSink::written_mut). Any other sink, and
    /// [`Registry::encode`](crate::Registry::encode) into a [`fmt::Write`], fail with
    /// [`EncodeError::Unsupported`].
    Protobuf,
}

impl Format {
    /// This format with names escaped by `escaping`, as a scraper negotiated it: see
    /// [`Exposition`].
    #[must_use]
    pub const fn with_escaping(self, escaping: Escaping) -> Exposition {
        Exposition::new(self).with_escaping(escaping)
    }

    /// This format, writing OpenMetrics `_created` samples if `created_samples`: see
    /// [`Exposition::with_created_samples`].
    #[must_use]
    pub const fn with_created_samples(self, created_samples: bool) -> Exposition {
        Exposition::new(self).with_created_samples(created_samples)
    }

    /// The exact `Content-Type` to send with a body in this format.
    #[must_use]
    pub const fn content_type(self) -> &'static str {
        match self {
            Self::Text => "text/plain; version=0.0.4; charset=utf-8",
            Self::OpenMetrics => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            // client_golang's `expfmt.FmtProtoDelim`.
            Self::Protobuf => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
            }
        }
    }
}

/// What an encode writes: a [`Format`] and how names outside the legacy grammar are
/// escaped in it ([`Escaping`]). A [`Format`] converts into one with today's choices:
/// names escaped with `underscores`, the format's own `Content-Type`.
///
/// A scheme set with [`with_escaping`](Self::with_escaping) is one the scraper named
/// (`escaping=` in its `Accept` header), and the [`content_type`](Self::content_type)
/// names it back; for [`Format::Text`] it also means the text format 1.0.0, which is
/// 0.0.4 with quoted names under [`Escaping::AllowUtf8`].
///
/// It also says whether OpenMetrics writes `<name>_created` samples
/// ([`with_created_samples`](Self::with_created_samples)); by default it does not, as
/// Go's `expfmt` does not without `WithCreatedLines`.
///
/// ```
/// use torchlight::{Escaping, Format};
///
/// let prometheus_3 = Format::Text.with_escaping(Escaping::AllowUtf8);
/// assert_eq!(
///     prometheus_3.content_type(),
///     "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
/// );
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Exposition {
    format: Format,
    /// Invariant: `Some` only when a scraper named the scheme (or the caller chose
    /// one); `None` writes `underscores` under the format's own `Content-Type`.
    escaping: Option<Escaping>,
    /// Whether OpenMetrics writes `_created` samples.
    created_samples: bool,
}

impl Exposition {
    /// `format` with today's choices (see the type's docs).
    #[must_use]
    pub const fn new(format: Format) -> Self {
        Self {
            format,
            escaping: None,
            created_samples: false,
        }
    }

    /// Escapes names with `escaping`, and names it in the `Content-Type`.
    ///
    /// An OpenTelemetry-style name, served to a Prometheus 3 scraper (its `Accept`
    /// header asks for `escaping=allow-utf-8`: names are quoted as written) and to a
    /// Prometheus 2 (no scheme named: `underscores`); a server negotiates this from
    /// the `Accept` header by itself:
    ///
    /// ```
    /// # #[cfg(feature = "std")] {
    /// use torchlight::{Buckets, Escaping, Family, Format, Histogram, Metric, Registry};
    ///
    /// static BOUNDS: Buckets<1> = Buckets::new([0.25]);
    /// fn histogram() -> Histogram<1> {
    ///     Histogram::with_buckets(&BOUNDS)
    /// }
    /// static DURATION: Metric<Family<Histogram<1>, 1>> = Metric::new(
    ///     "http.server.request.duration",
    ///     "Duration of HTTP server requests.",
    ///     Family::new(["http.request.method"], histogram),
    /// );
    ///
    /// let registry = Registry::new();
    /// registry.register(&DURATION)?;
    /// DURATION.get_or_create(["GET"]).observe(0.1);
    ///
    /// let mut prometheus_3 = String::new();
    /// let utf8 = Format::OpenMetrics.with_escaping(Escaping::AllowUtf8);
    /// registry.encode(&mut prometheus_3, utf8)?;
    /// assert_eq!(
    ///     prometheus_3.lines().collect::<Vec<_>>(),
    ///     [
    ///         r#"# HELP "http.server.request.duration" Duration of HTTP server requests."#,
    ///         r#"# TYPE "http.server.request.duration" histogram"#,
    ///         r#"{"http.server.request.duration_bucket","http.request.method"="GET",le="0.25"} 1"#,
    ///         r#"{"http.server.request.duration_bucket","http.request.method"="GET",le="+Inf"} 1"#,
    ///         r#"{"http.server.request.duration_sum","http.request.method"="GET"} 0.1"#,
    ///         r#"{"http.server.request.duration_count","http.request.method"="GET"} 1"#,
    ///         "# EOF",
    ///     ]
    /// );
    ///
    /// let mut prometheus_2 = String::new();
    /// registry.encode(&mut prometheus_2, Format::OpenMetrics)?;
    /// assert_eq!(
    ///     prometheus_2.lines().collect::<Vec<_>>(),
    ///     [
    ///         "# HELP http_server_request_duration Duration of HTTP server requests.",
    ///         "# TYPE http_server_request_duration histogram",
    ///         r#"http_server_request_duration_bucket{http_request_method="GET",le="0.25"} 1"#,
    ///         r#"http_server_request_duration_bucket{http_request_method="GET",le="+Inf"} 1"#,
    ///         r#"http_server_request_duration_sum{http_request_method="GET"} 0.1"#,
    ///         r#"http_server_request_duration_count{http_request_method="GET"} 1"#,
    ///         "# EOF",
    ///     ]
    /// );
    /// # }
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn with_escaping(mut self, escaping: Escaping) -> Self {
        self.escaping = Some(escaping);
        self
    }

    /// Whether [`Format::OpenMetrics`] writes a `<name>_created` sample after the last
    /// sample of each series that has a created timestamp (counters after `_total`,
    /// histograms and summaries after `_count`), its value the Unix time in seconds, as
    /// Go's `expfmt` does with `WithCreatedLines()` and Python's `prometheus_client`
    /// always does. Off by default, so the bytes stay Go's default. The other formats
    /// ignore it: text 0.0.4 has no `_created` samples (a line there would be a new
    /// untyped series), and [`Format::Protobuf`] always carries the timestamp, in each
    /// message's `created_timestamp` field.
    ///
    /// ```
    /// use core::time::Duration;
    /// use torchlight::{Counter, Format, ManualClock, Metric, Registry};
    ///
    /// static WALL: ManualClock = ManualClock::new();
    /// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
    /// let registry = Registry::new().with_created_clock(Some(&WALL));
    /// WALL.set(Duration::from_millis(1_700_000_000_500));
    /// registry.register(&JOBS)?;
    ///
    /// let mut text = String::new();
    /// registry.encode(&mut text, Format::OpenMetrics.with_created_samples(true))?;
    /// assert_eq!(
    ///     text,
    ///     "# HELP jobs Jobs run.\n# TYPE jobs counter\n\
    ///      jobs_total 0.0\njobs_created 1.7000000005e+09\n# EOF\n"
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub const fn with_created_samples(mut self, created_samples: bool) -> Self {
        self.created_samples = created_samples;
        self
    }

    /// Whether OpenMetrics writes `_created` samples (see
    /// [`with_created_samples`](Self::with_created_samples)).
    #[must_use]
    pub const fn created_samples(&self) -> bool {
        self.created_samples
    }

    /// The format.
    #[must_use]
    pub const fn format(&self) -> Format {
        self.format
    }

    /// The scheme names are escaped with: the one set, else `underscores`.
    #[must_use]
    pub const fn escaping(&self) -> Escaping {
        match self.escaping {
            Some(escaping) => escaping,
            None => Escaping::Underscores,
        }
    }

    /// The exact `Content-Type` to send: the format's own when no scheme was set
    /// (byte for byte what a Prometheus 2 scraper got before UTF-8 names), else with
    /// `; escaping=<scheme>` appended, and text as version 1.0.0
    /// (`prometheus_client` 0.26's `choose_encoder` answers the same).
    #[must_use]
    pub const fn content_type(&self) -> &'static str {
        use Escaping::{AllowUtf8, Dots, Underscores, Values};
        match (self.format, self.escaping) {
            (format, None) => format.content_type(),
            (Format::Text, Some(AllowUtf8)) => {
                "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
            }
            (Format::Text, Some(Underscores)) => {
                "text/plain; version=1.0.0; charset=utf-8; escaping=underscores"
            }
            (Format::Text, Some(Dots)) => "text/plain; version=1.0.0; charset=utf-8; escaping=dots",
            (Format::Text, Some(Values)) => {
                "text/plain; version=1.0.0; charset=utf-8; escaping=values"
            }
            (Format::OpenMetrics, Some(AllowUtf8)) => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
            }
            (Format::OpenMetrics, Some(Underscores)) => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores"
            }
            (Format::OpenMetrics, Some(Dots)) => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=dots"
            }
            (Format::OpenMetrics, Some(Values)) => {
                "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=values"
            }
            // client_golang's `expfmt.FmtProtoDelim` with its escaping term.
            (Format::Protobuf, Some(AllowUtf8)) => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=allow-utf-8"
            }
            (Format::Protobuf, Some(Underscores)) => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores"
            }
            (Format::Protobuf, Some(Dots)) => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=dots"
            }
            (Format::Protobuf, Some(Values)) => {
                "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=values"
            }
        }
    }
}

impl From<Format> for Exposition {
    fn from(format: Format) -> Self {
        Self::new(format)
    }
}

/// The format-dependent part of [`MetricType`] lives with the formats, so the
/// metric vocabulary in `collect.rs` names no format.
impl MetricType {
    /// The `# TYPE` keyword in `format`; for [`Format::Protobuf`], the name (lowercase)
    /// of the `io.prometheus.client.MetricType` the family is sent as, which is text
    /// 0.0.4's keyword.
    #[must_use]
    pub const fn keyword(self, format: Format) -> &'static str {
        match (self, format) {
            (Self::Counter, _) => "counter",
            (Self::Gauge, _) => "gauge",
            (Self::Histogram, _) => "histogram",
            (Self::Summary, _) => "summary",
            (Self::Info | Self::StateSet, Format::Text | Format::Protobuf) => "gauge",
            (Self::Info, Format::OpenMetrics) => "info",
            (Self::StateSet, Format::OpenMetrics) => "stateset",
            (Self::Unknown, Format::Text | Format::Protobuf) => "untyped",
            (Self::Unknown, Format::OpenMetrics) => "unknown",
        }
    }
}

/// Why an exposition could not be written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum EncodeError {
    /// The buffer has no room for the whole exposition: give a larger one. What was
    /// written is an incomplete exposition; do not send it.
    Full,
    /// The writer failed (a [`fmt::Write`] or a [`ByteSink`]'s own error).
    Write,
    /// A [`Collect`](crate::Collect) implementation returned an error of its own.
    Collect,
    /// The sink cannot take [`Format::Protobuf`]: that format writes each message's
    /// length before the message and fills it in afterwards, so it needs a sink that
    /// keeps what it wrote (a `Vec<u8>`, a [`SliceSink`]).
    Unsupported,
}

impl fmt::Display for EncodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Full => {
                "the exposition does not fit in the buffer; encode into a larger one \
                 (the partial output is not a valid exposition)"
            }
            Self::Write => "the writer failed while the exposition was written",
            Self::Collect => "a metric's `Collect` implementation returned an error",
            Self::Unsupported => {
                "this sink cannot take the protobuf format, which fills in each message's \
                 length after writing it; encode into a `Vec<u8>` or a `SliceSink`"
            }
        })
    }
}

impl core::error::Error for EncodeError {}

impl From<EncodeError> for fmt::Error {
    fn from(_: EncodeError) -> Self {
        Self
    }
}

/// Where an encoder writes bytes: a growable `Vec<u8>` (`std`), a fixed buffer
/// ([`SliceSink`]), or your own (a UART frame, a network buffer).
///
/// The text formats only ever write whole UTF-8 strings: the concatenation of
/// everything written is the exposition text. [`Format::Protobuf`] writes binary
/// messages and fills in their lengths afterwards through
/// [`written_mut`](Self::written_mut).
pub trait ByteSink {
    /// Appends `bytes`.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Full`] when there is no room for all of them (the exposition
    /// stops there), or [`EncodeError::Write`] for a failure of the sink's own.
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError>;

    /// Appends `text`; the default writes its bytes.
    ///
    /// # Errors
    ///
    /// As [`write`](Self::write).
    #[inline]
    fn write_str(&mut self, text: &str) -> Result<(), EncodeError> {
        self.write(text.as_bytes())
    }

    /// The bytes this sink still holds, ending with the last byte written, for
    /// [`Format::Protobuf`], which writes a placeholder where a message's length goes
    /// and fills it in once the message is written. `None` (the default) for a sink
    /// that passes its bytes on (a socket, a [`fmt::Write`]): such a sink cannot take
    /// that format ([`EncodeError::Unsupported`]). Text formats never call it.
    fn written_mut(&mut self) -> Option<&mut [u8]> {
        None
    }
}

impl<B: ByteSink + ?Sized> ByteSink for &mut B {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        (**self).write(bytes)
    }

    #[inline]
    fn write_str(&mut self, text: &str) -> Result<(), EncodeError> {
        (**self).write_str(text)
    }

    fn written_mut(&mut self) -> Option<&mut [u8]> {
        (**self).written_mut()
    }
}

/// Grows as needed: never [`EncodeError::Full`].
#[cfg(feature = "std")]
impl ByteSink for std::vec::Vec<u8> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.extend_from_slice(bytes);
        Ok(())
    }

    fn written_mut(&mut self) -> Option<&mut [u8]> {
        Some(self)
    }
}

/// A caller's fixed buffer, filled from the start, for encoding without an allocator.
///
/// ```
/// use torchlight::{Counter, Format, Metric, Registry, SliceSink};
///
/// static JOBS: Metric<Counter> = Metric::new("jobs", "Jobs run.", Counter::new());
/// let registry = Registry::new();
/// registry.register(&JOBS)?;
/// JOBS.inc();
///
/// let mut frame = [0u8; 128];
/// let mut sink = SliceSink::new(&mut frame);
/// registry.encode_to(&mut sink, Format::Text)?;
/// assert_eq!(sink.filled(), b"# HELP jobs_total Jobs run.\n# TYPE jobs_total counter\njobs_total 1\n");
///
/// // Too small is an error, never a panic or a cut-off exposition passed off as whole.
/// let mut tiny = [0u8; 16];
/// assert!(registry.encode_to(&mut SliceSink::new(&mut tiny), Format::Text).is_err());
/// # Ok::<(), Box<dyn core::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct SliceSink<'a> {
    buf: &'a mut [u8],
    /// Invariant: `len <= buf.len()`; `buf[..len]` is what was written.
    len: usize,
}

impl<'a> SliceSink<'a> {
    /// An empty sink writing into `buf` from its start.
    #[must_use]
    pub fn new(buf: &'a mut [u8]) -> Self {
        Self { buf, len: 0 }
    }

    /// The bytes written so far.
    #[must_use]
    pub fn filled(&self) -> &[u8] {
        &self.buf[..self.len]
    }

    /// How many bytes were written.
    #[must_use]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing was written yet.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Forgets what was written, to encode again from the start.
    pub fn clear(&mut self) {
        self.len = 0;
    }
}

impl ByteSink for SliceSink<'_> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.len = append(self.buf, self.len, bytes).ok_or(EncodeError::Full)?;
        Ok(())
    }

    fn written_mut(&mut self) -> Option<&mut [u8]> {
        Some(&mut self.buf[..self.len])
    }
}

/// Copies `bytes` into `buf` after its first `len` bytes and returns the new length;
/// `None`, copying nothing, when they do not fit.
#[inline]
pub(crate) fn append(buf: &mut [u8], len: usize, bytes: &[u8]) -> Option<usize> {
    let end = len.checked_add(bytes.len())?;
    copy(buf.get_mut(len..end)?, bytes);
    Some(end)
}

/// `to.copy_from_slice(from)` (same lengths), with the short copies that make up most
/// of an exposition (names, label values, numbers) done as two overlapping fixed-size
/// moves instead of a call to `memcpy`.
#[inline(always)]
fn copy(to: &mut [u8], from: &[u8]) {
    let n = from.len();
    match n {
        8..=16 => {
            to[..8].copy_from_slice(&from[..8]);
            to[n - 8..].copy_from_slice(&from[n - 8..]);
        }
        4..=7 => {
            to[..4].copy_from_slice(&from[..4]);
            to[n - 4..].copy_from_slice(&from[n - 4..]);
        }
        1..=3 => {
            to[0] = from[0];
            to[n / 2] = from[n / 2];
            to[n - 1] = from[n - 1];
        }
        0 => {}
        _ => to.copy_from_slice(from),
    }
}

/// The chunk the encoder fills before handing bytes to the sink: a sample line is a
/// few dozen bytes, so with `std` a flush carries several lines (512 and 2048 bytes
/// measured no faster on case 6). Without `std` the sink is usually a fixed buffer,
/// for which a flush is one copy anyway, and the stack is scarce: the firmware
/// harness (QEMU, Cortex-M3 and M0) measured the encode stack 330 to 560 bytes above
/// the `fmt::Write` encoder's with a 256-byte chunk, 200 to 330 with this one.
const CHUNK: usize = if cfg!(feature = "std") { 256 } else { 64 };

// `Chunked::write_decimal` needs room for the 20 digits of `u64::MAX`.
const _: () = assert!(CHUNK >= 20);

/// The buffer an exposition is written into first: small writes are copies into a
/// stack array, and the sink (a `Vec`, a fixed slice, a `fmt::Write`, a user's sink)
/// sees one write per [`CHUNK`] bytes. Every write it passes on is a run of whole
/// writes, so whole UTF-8 strings stay whole.
pub(crate) struct Chunked<'o, B: ?Sized> {
    out: &'o mut B,
    buf: [u8; CHUNK],
    /// Invariant: `buf[..len]` is written and not yet passed on.
    len: usize,
    /// How many bytes were passed on to `out` so far.
    passed: usize,
}

impl<'o, B: ByteSink + ?Sized> Chunked<'o, B> {
    pub(crate) fn new(out: &'o mut B) -> Self {
        Self {
            out,
            buf: [0; CHUNK],
            len: 0,
            passed: 0,
        }
    }

    /// Whether the sink can rewrite what it holds ([`ByteSink::written_mut`]).
    pub(crate) fn rewritable(&mut self) -> bool {
        self.out.written_mut().is_some()
    }

    /// How many bytes were written through this chunk so far.
    #[inline]
    pub(crate) fn position(&self) -> usize {
        self.passed + self.len
    }

    /// Fills in the length of the message written since `mark` as a varint at
    /// `mark - 1`, where one placeholder byte was written: the message is moved right
    /// when its length needs more than that byte. Patched in the chunk when the
    /// message is still there, in the sink ([`ByteSink::written_mut`]) otherwise.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Unsupported`] when the sink cannot rewrite what it holds, or the
    /// sink's error.
    pub(crate) fn fill_length(&mut self, mark: usize) -> Result<(), EncodeError> {
        let body = self.position() - mark;
        let mut varint = [0u8; 10];
        let width = wire::varint(&mut varint, body as u64);
        // The room the longer length takes: written at the end, then the body moves.
        let extra = width - 1;
        if mark > self.passed && self.len + extra <= CHUNK {
            let start = mark - self.passed;
            self.buf.copy_within(start..self.len, start + extra);
            self.buf[start - 1..start - 1 + width].copy_from_slice(&varint[..width]);
            self.len += extra;
            return Ok(());
        }
        self.write(&[0; 9][..extra])?;
        self.flush()?;
        let written = self.out.written_mut().ok_or(EncodeError::Unsupported)?;
        let end = written.len();
        let start = end
            .checked_sub(body + extra)
            .filter(|start| *start >= 1)
            .ok_or(EncodeError::Unsupported)?;
        written.copy_within(start..end - extra, start + extra);
        written[start - 1..start - 1 + width].copy_from_slice(&varint[..width]);
        Ok(())
    }

    /// The bytes written since position `mark`, to rewrite in place (remote write
    /// sorts a series' labels there): in the chunk when they all still are, else in the
    /// sink after a flush.
    ///
    /// # Errors
    ///
    /// [`EncodeError::Unsupported`] when the sink cannot rewrite what it holds, or the
    /// sink's error.
    pub(crate) fn since_mut(&mut self, mark: usize) -> Result<&mut [u8], EncodeError> {
        if mark >= self.passed {
            let start = mark - self.passed;
            return Ok(&mut self.buf[start..self.len]);
        }
        let len = self.position() - mark;
        self.flush()?;
        let written = self.out.written_mut().ok_or(EncodeError::Unsupported)?;
        let start = written
            .len()
            .checked_sub(len)
            .ok_or(EncodeError::Unsupported)?;
        Ok(&mut written[start..])
    }

    /// Passes on what is buffered. Call it once at the end: bytes not flushed are lost.
    pub(crate) fn flush(&mut self) -> Result<(), EncodeError> {
        let len = core::mem::take(&mut self.len);
        if len == 0 {
            return Ok(());
        }
        self.passed += len;
        self.out.write(&self.buf[..len])
    }

    /// Writes `n` in decimal, straight into the chunk.
    #[inline]
    pub(crate) fn write_decimal(&mut self, mut n: u64) -> Result<(), EncodeError> {
        // u64::MAX has 20 digits.
        if CHUNK - self.len < 20 {
            self.flush()?;
        }
        let mut len = 1;
        let mut rest = n / 10;
        while rest != 0 {
            rest /= 10;
            len += 1;
        }
        let end = self.len + len;
        for slot in self.buf[self.len..end].iter_mut().rev() {
            // A remainder of 10: the cast cannot truncate.
            #[allow(clippy::cast_possible_truncation)]
            let digit = (n % 10) as u8;
            *slot = b'0' + digit;
            n /= 10;
        }
        self.len = end;
        Ok(())
    }

    /// Writes the byte `tag`, `n` as a varint, then `bytes` (a protobuf field: its
    /// one-byte tag, then a varint value or a length and the bytes it counts),
    /// straight into the chunk when they fit after a flush at most; through
    /// [`write`](ByteSink::write) when `bytes` are longer than a chunk.
    #[inline]
    pub(crate) fn write_field(&mut self, tag: u8, n: u64, bytes: &[u8]) -> Result<(), EncodeError> {
        // The tag, at most ten bytes of varint, the bytes.
        let room = 11 + bytes.len();
        if room > CHUNK {
            let mut head = [0u8; 11];
            head[0] = tag;
            let width = wire::varint(&mut head[1..], n);
            self.write(&head[..=width])?;
            return self.write(bytes);
        }
        if CHUNK - self.len < room {
            self.flush()?;
        }
        let Some(buf) = self.buf.get_mut(self.len..self.len + room) else {
            return Err(EncodeError::Full);
        };
        buf[0] = tag;
        let i = 1 + wire::varint(&mut buf[1..], n);
        copy(&mut buf[i..i + bytes.len()], bytes);
        self.len += i + bytes.len();
        Ok(())
    }

    #[inline(never)]
    fn spill(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        self.flush()?;
        match append(&mut self.buf, 0, bytes) {
            Some(len) => {
                self.len = len;
                Ok(())
            }
            None => {
                self.passed += bytes.len();
                self.out.write(bytes)
            }
        }
    }
}

impl<B: ByteSink + ?Sized> ByteSink for Chunked<'_, B> {
    #[inline]
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        match append(&mut self.buf, self.len, bytes) {
            Some(len) => {
                self.len = len;
                Ok(())
            }
            None => self.spill(bytes),
        }
    }
}

/// A [`ByteSink`] over a [`fmt::Write`], for `Registry::encode`.
pub(crate) struct FmtSink<'w> {
    pub(crate) w: &'w mut dyn fmt::Write,
}

impl ByteSink for FmtSink<'_> {
    fn write(&mut self, bytes: &[u8]) -> Result<(), EncodeError> {
        // The encoder writes whole strings only (see `ByteSink`), so this holds.
        let text = core::str::from_utf8(bytes).map_err(|_| EncodeError::Write)?;
        self.write_str(text)
    }

    fn write_str(&mut self, text: &str) -> Result<(), EncodeError> {
        self.w.write_str(text).map_err(|_| EncodeError::Write)
    }
}
