//! Content negotiation: which exposition [`Format`] an `Accept` header asks for
//! ([`negotiate`]), with the name escaping scheme it names ([`negotiate_exposition`]),
//! and whether `Accept-Encoding` allows gzip ([`accepts_gzip`]), parsed as RFC 9110
//! §12 says (q-values, parameters, quoted values, case rules).

use torchlight::{Escaping, Exposition, Format};

/// The exposition format to serve for an `Accept` header value.
///
/// Parses media ranges with their parameters and q-values (media types and parameter
/// names case-insensitively, quoted values unquoted) and picks the format with the
/// highest quality, each format taking the quality of the most specific range that
/// matches it (RFC 9110 §12.5.1):
///
/// - protobuf matches only `application/vnd.google.protobuf` with
///   `proto=io.prometheus.client.MetricFamily` and `encoding=delimited` (what
///   Prometheus asks for with native histograms enabled; client_golang's
///   `expfmt.Negotiate` reads the same parameters), never a wildcard: a binary format
///   goes only to a client that names it;
/// - OpenMetrics matches `application/openmetrics-text` with no `version` or with
///   `version` `1.0.0` or `0.0.1` (what Prometheus asks for), `application/*`, `*/*`;
/// - text matches `text/plain` with no `version`, `version=0.0.4` or
///   `version=1.0.0`, `text/*`, `*/*`.
///
/// Equal qualities go to a format its deciding range names over one a wildcard
/// matched (`*/*, text/plain` gives text: a wildcard does not outrank a format named
/// after it), then to the one whose range comes first in the header; one range matching
/// both text formats (`*/*`) gives text. Text 0.0.4 is also the answer when
/// nothing is acceptable (`q=0` everywhere, an unsupported type, no header):
/// Prometheus reads it whatever it asked for.
#[must_use]
pub fn negotiate(accept: Option<&str>) -> Format {
    choose(accept).0
}

/// The format [`negotiate`] picks, with the name escaping scheme the chosen range
/// names, as Prometheus' "Content negotiation" and "UTF-8 metric and label name
/// escaping schemes" documents define the `escaping` parameter:
///
/// - `text/plain; version=1.0.0` (what Prometheus 3 asks for) is the text format
///   1.0.0: its `escaping` (`underscores` when absent or unknown, as
///   `prometheus_client` 0.26's `choose_encoder` reads it), named back in the
///   `Content-Type`;
/// - OpenMetrics and protobuf ranges: the `escaping` they name, if a known one;
/// - anything else (no `escaping`, text 0.0.4, a wildcard): no scheme, so names are
///   escaped with `underscores` and the `Content-Type` is the one a Prometheus 2
///   scraper always got, byte for byte (client_golang appends `; escaping=underscores`
///   even then).
///
/// ```
/// use torchlight_smol::exposure::negotiate_exposition;
/// use torchlight::{Escaping, Format};
///
/// // Prometheus 3's default `Accept`.
/// let prometheus_3 = "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,\
///     application/openmetrics-text;version=0.0.1;q=0.4,\
///     text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,\
///     text/plain;version=0.0.4;q=0.2,*/*;q=0.1";
/// assert_eq!(
///     negotiate_exposition(Some(prometheus_3)),
///     Format::OpenMetrics.with_escaping(Escaping::AllowUtf8)
/// );
/// assert_eq!(negotiate_exposition(None), Format::Text.into());
/// ```
#[must_use]
pub fn negotiate_exposition(accept: Option<&str>) -> Exposition {
    let (format, position) = choose(accept);
    let exposition = Exposition::new(format);
    let Some(range) = position
        .and_then(|position| elements(accept.unwrap_or_default()).nth(position))
        .and_then(MediaRange::parse)
    else {
        return exposition;
    };
    if range.kind == "*" || range.subtype == "*" {
        return exposition;
    }
    let named = range.escaping.and_then(Escaping::from_param);
    match (format, named) {
        (Format::Text, _) if range.version == Some("1.0.0") => {
            exposition.with_escaping(named.unwrap_or_default())
        }
        (Format::OpenMetrics | Format::Protobuf, Some(escaping)) => {
            exposition.with_escaping(escaping)
        }
        _ => exposition,
    }
}

/// The chosen format and the position of the range that chose it (`None` when no
/// range did and text is the fallback).
fn choose(accept: Option<&str>) -> (Format, Option<usize>) {
    // Text first, so that it wins ties at the same position (`*/*`).
    let mut formats = [
        (Format::Text, Quality::NONE),
        (Format::OpenMetrics, Quality::NONE),
        (Format::Protobuf, Quality::NONE),
    ];
    for (position, element) in elements(accept.unwrap_or_default()).enumerate() {
        let Some(range) = MediaRange::parse(element) else {
            continue;
        };
        for (format, quality) in &mut formats {
            quality.consider(range.specificity(*format), range.q, position);
        }
    }
    let [(_, text), rest @ ..] = &formats;
    let mut best = (Format::Text, text);
    for (format, quality) in rest {
        let better = quality.q > 0
            && (
                quality.q,
                quality.named(),
                core::cmp::Reverse(quality.position),
            ) > (
                best.1.q,
                best.1.named(),
                core::cmp::Reverse(best.1.position),
            );
        if better {
            best = (*format, quality);
        }
    }
    let position = (best.1.q > 0).then_some(best.1.position);
    (best.0, position)
}

/// Whether to gzip for an `Accept-Encoding` header value.
///
/// gzip (or `x-gzip`, or `*` when neither is listed) must have a quality above 0 and
/// at least that of `identity` when `identity` (or `*`) is listed; an unlisted
/// `identity` is acceptable but not preferred. When nothing is acceptable
/// (`identity;q=0` alone) the body is sent uncompressed rather than refused.
#[must_use]
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let (mut gzip, mut identity, mut any) = (None, None, None);
    for element in elements(accept_encoding.unwrap_or_default()) {
        let mut parts = element.split(';');
        let coding = parts.next().unwrap_or_default().trim();
        let Some(q) = parts.find_map(q_param).unwrap_or(Some(1000)) else {
            continue;
        };
        let slot = if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if coding.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if coding == "*" {
            &mut any
        } else {
            continue;
        };
        *slot = Some(slot.map_or(q, |old: u16| old.max(q)));
    }
    let gzip = gzip.or(any).unwrap_or(0);
    gzip > 0 && identity.or(any).is_none_or(|identity| gzip >= identity)
}

/// The comma-separated elements of a header value, skipping commas inside quotes.
fn elements(value: &str) -> impl Iterator<Item = &str> {
    let mut rest = value;
    core::iter::from_fn(move || {
        loop {
            if rest.is_empty() {
                return None;
            }
            let (mut quoted, mut escaped, mut end) = (false, false, rest.len());
            for (i, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' if quoted => escaped = true,
                    '"' => quoted = !quoted,
                    ',' if !quoted => {
                        end = i;
                        break;
                    }
                    _ => {}
                }
            }
            let element = rest[..end].trim();
            rest = rest.get(end + 1..).unwrap_or_default();
            if !element.is_empty() {
                return Some(element);
            }
        }
    })
}

/// A `q=` parameter's value in thousandths: `None` if `param` is another parameter,
/// `Some(None)` if it is a malformed q-value.
fn q_param(param: &str) -> Option<Option<u16>> {
    let (name, value) = param.split_once('=')?;
    if !name.trim().eq_ignore_ascii_case("q") {
        return None;
    }
    Some(parse_q(unquote(value.trim())))
}

/// Parses a qvalue (`0`, `0.5`, `1.000`; RFC 9110 §12.4.2) into thousandths.
fn parse_q(value: &str) -> Option<u16> {
    let (int, frac) = value.split_once('.').unwrap_or((value, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let int = match int {
        "0" => 0,
        "1" => 1000,
        _ => return None,
    };
    let frac = frac
        .bytes()
        .chain(core::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    let q = int + frac;
    (q <= 1000).then_some(q)
}

fn unquote(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// One element of an `Accept` header.
struct MediaRange<'a> {
    kind: &'a str,
    subtype: &'a str,
    /// The `version` media-type parameter, unquoted.
    version: Option<&'a str>,
    /// The `proto` and `encoding` parameters (protobuf), unquoted.
    proto: Option<&'a str>,
    encoding: Option<&'a str>,
    /// The `escaping` parameter, unquoted.
    escaping: Option<&'a str>,
    /// Quality in thousandths.
    q: u16,
}

impl<'a> MediaRange<'a> {
    /// `None` for a malformed range or q-value: such an element is ignored.
    fn parse(element: &'a str) -> Option<Self> {
        let mut parts = element.split(';');
        let (kind, subtype) = parts.next()?.trim().split_once('/')?;
        let (kind, subtype) = (kind.trim(), subtype.trim());
        if kind.is_empty() || subtype.is_empty() || (kind == "*" && subtype != "*") {
            return None;
        }
        let (mut version, mut proto, mut encoding, mut escaping, mut q) =
            (None, None, None, None, 1000);
        for param in parts {
            if let Some(value) = q_param(param) {
                q = value?;
                // Parameters after `q` are accept-extensions, not media-type parameters.
                break;
            }
            if let Some((name, value)) = param.split_once('=') {
                let name = name.trim();
                let value = Some(unquote(value.trim()));
                if name.eq_ignore_ascii_case("version") {
                    version = value;
                } else if name.eq_ignore_ascii_case("proto") {
                    proto = value;
                } else if name.eq_ignore_ascii_case("encoding") {
                    encoding = value;
                } else if name.eq_ignore_ascii_case("escaping") {
                    escaping = value;
                }
            }
        }
        Some(Self {
            kind,
            subtype,
            version,
            proto,
            encoding,
            escaping,
            q,
        })
    }

    /// How specifically this range names `format` (higher is more specific), or `None`
    /// if it does not match it.
    fn specificity(&self, format: Format) -> Option<u8> {
        let (kind, subtype, versions): (_, _, &[&str]) = match format {
            Format::OpenMetrics => ("application", "openmetrics-text", &["1.0.0", "0.0.1"]),
            // 1.0.0 is 0.0.4 with quoted UTF-8 names (`prometheus_client` 0.26).
            Format::Text => ("text", "plain", &["0.0.4", "1.0.0"]),
            Format::Protobuf => {
                let named = self.kind.eq_ignore_ascii_case("application")
                    && self.subtype.eq_ignore_ascii_case("vnd.google.protobuf")
                    && self.proto == Some("io.prometheus.client.MetricFamily")
                    && self.encoding == Some("delimited");
                return named.then_some(3);
            }
            // A format this server does not know how to ask for is never chosen.
            _ => return None,
        };
        if self.kind == "*" {
            return Some(0);
        }
        if !self.kind.eq_ignore_ascii_case(kind) {
            return None;
        }
        if self.subtype == "*" {
            return Some(1);
        }
        if !self.subtype.eq_ignore_ascii_case(subtype) {
            return None;
        }
        match self.version {
            None => Some(2),
            Some(version) if versions.contains(&version) => Some(3),
            Some(_) => None,
        }
    }
}

/// The quality a format gets from the most specific range that matches it.
struct Quality {
    specificity: Option<u8>,
    q: u16,
    position: usize,
}

impl Quality {
    const NONE: Self = Self {
        specificity: None,
        q: 0,
        position: usize::MAX,
    };

    /// Whether the deciding range names the format's media type (not a wildcard).
    fn named(&self) -> bool {
        self.specificity.is_some_and(|specificity| specificity >= 2)
    }

    fn consider(&mut self, specificity: Option<u8>, q: u16, position: usize) {
        let Some(specificity) = specificity else {
            return;
        };
        let better = match self.specificity {
            None => true,
            Some(current) => specificity > current || (specificity == current && q > self.q),
        };
        if better {
            *self = Self {
                specificity: Some(specificity),
                q,
                position,
            };
        }
    }
}

#[cfg(test)]
mod tests {
    use std::vec::Vec;

    use super::*;

    #[test]
    fn q_values_parse_as_rfc_9110_says() {
        for (text, q) in [
            ("0", 0),
            ("1", 1000),
            ("0.5", 500),
            ("0.125", 125),
            ("1.000", 1000),
            ("1.", 1000),
            ("0.1", 100),
        ] {
            assert_eq!(parse_q(text), Some(q), "{text}");
        }
        for text in ["", "2", "1.5", "0.1234", "-1", "0.x", "abc", "1.001"] {
            assert_eq!(parse_q(text), None, "{text}");
        }
    }

    #[test]
    fn elements_split_on_commas_outside_quotes() {
        let split: Vec<&str> = elements(r#" a , b;x="1,2" ,,c;y="\"," "#).collect();
        assert_eq!(split, ["a", r#"b;x="1,2""#, r#"c;y="\",""#]);
        assert_eq!(elements("").count(), 0);
    }

    #[test]
    fn media_ranges_keep_version_and_q() {
        let range =
            MediaRange::parse(r#"Application/OpenMetrics-Text ; VERSION="1.0.0" ; Q=0.8 ; ext=1"#)
                .unwrap();
        assert_eq!(
            (range.kind, range.subtype, range.version, range.q),
            ("Application", "OpenMetrics-Text", Some("1.0.0"), 800)
        );
        assert_eq!(range.specificity(Format::OpenMetrics), Some(3));
        assert_eq!(range.specificity(Format::Text), None);
        assert!(MediaRange::parse("text").is_none());
        assert!(MediaRange::parse("*/plain").is_none());
        assert!(MediaRange::parse("text/plain;q=abc").is_none());
    }
}
