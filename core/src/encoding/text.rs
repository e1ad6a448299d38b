//! The text encoder: Prometheus text 0.0.4 and OpenMetrics 1.0 from the sample model,
//! written into a [`ByteSink`].
//!
//! One `Text` per family, generic over the sink, so every byte goes through static
//! calls into the concrete buffer; the metric reaches it through one dynamic call per
//! series (`Samples`) and one per label pair (`LabelSink`).

use core::fmt::{self, Write};
use core::time::Duration;

use super::escape::{escape, needs_escaping};
use super::float::{StackBuf, write_f64};
use super::{ByteSink, Chunked, EncodeError, Exposition, FamilyHead, Format};
use crate::name::{Escaping, escaped, is_label_name, is_metric_name};
use crate::sample::{
    Buckets, EncodeLabels, Encoder, Exemplar, LabelEncoder, LabelSink, Number, Quantiles, Samples,
};

/// Writes one family: its metadata lines, then the series `collect` reports.
///
/// # Errors
///
/// The sink's error, or [`EncodeError::Collect`] when `collect` failed on its own.
pub(crate) fn encode_family<B: ByteSink + ?Sized>(
    out: &mut Chunked<'_, B>,
    exposition: Exposition,
    family: &FamilyHead<'_>,
    collect: impl FnOnce(&mut Encoder<'_>) -> fmt::Result,
) -> Result<(), EncodeError> {
    let mut text = Text {
        out,
        format: exposition.format(),
        escaping: exposition.escaping(),
        created_samples: exposition.created_samples(),
        family: family.name,
        legacy_family: is_metric_name(family.name),
        legacy_labels: family.legacy_labels,
        error: None,
    };
    let result = text
        .head(family)
        .and_then(|()| collect(&mut Encoder::new(&mut text)));
    match (result, text.error) {
        (Ok(()), None) => Ok(()),
        (_, Some(error)) => Err(error),
        (Err(fmt::Error), None) => Err(EncodeError::Collect),
    }
}

/// The encoder of one family's lines.
struct Text<'o, 'c, B: ?Sized> {
    out: &'o mut Chunked<'c, B>,
    format: Format,
    escaping: Escaping,
    /// Whether OpenMetrics writes `_created` samples.
    created_samples: bool,
    /// The family name, without any type suffix.
    family: &'o str,
    /// Whether `family` is a legacy metric name: written as it is under every scheme.
    legacy_family: bool,
    /// Whether the family declared only legacy label names: written as they are.
    legacy_labels: bool,
    /// Invariant: set when the sink failed; every method then returns `fmt::Error`.
    error: Option<EncodeError>,
}

/// What follows a series' own labels on a line.
enum Extra<'a> {
    None,
    /// `le` or `quantile` with a float value.
    Float(&'static str, f64),
    /// A state set's `<family>="state"`.
    Str(&'a str, &'a str),
}

/// A sample's value.
#[derive(Clone, Copy)]
enum Value {
    /// A counter's or gauge's value, written as Go writes the float.
    Number(Number),
    Float(f64),
    /// Bucket counts and `_count`: integers in OpenMetrics, Go floats in text 0.0.4.
    Count(u64),
}

impl<B: ByteSink + ?Sized> Text<'_, '_, B> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> fmt::Result {
        self.out.write(bytes).map_err(|error| self.fail(error))
    }

    #[inline]
    fn put_str(&mut self, text: &str) -> fmt::Result {
        self.out.write_str(text).map_err(|error| self.fail(error))
    }

    #[cold]
    fn fail(&mut self, error: EncodeError) -> fmt::Error {
        self.error = Some(error);
        fmt::Error
    }

    fn open_metrics(&self) -> bool {
        self.format == Format::OpenMetrics
    }

    #[inline]
    fn escaped(&mut self, text: &str, quote: bool) -> fmt::Result {
        if !needs_escaping(text, quote) {
            return self.put_str(text);
        }
        escape(text, quote, |piece| self.put_str(piece))
    }

    fn float(&mut self, value: f64) -> fmt::Result {
        let mut number = StackBuf::new();
        write_f64(&mut number, value, self.open_metrics())?;
        self.put(number.as_bytes())
    }

    /// `# HELP`, `# TYPE` and (OpenMetrics) `# UNIT`.
    fn head(&mut self, family: &FamilyHead<'_>) -> fmt::Result {
        let suffix = match self.format {
            Format::Text | Format::Protobuf => family.metric_type.family_suffix(),
            Format::OpenMetrics => "",
        };
        if !family.help.is_empty() {
            self.put(b"# HELP ")?;
            self.metric_name(suffix)?;
            self.put(b" ")?;
            self.escaped(family.help, self.open_metrics())?;
            self.put(b"\n")?;
        }
        self.put(b"# TYPE ")?;
        self.metric_name(suffix)?;
        self.put(b" ")?;
        self.put_str(family.metric_type.keyword(self.format))?;
        self.put(b"\n")?;
        if let (Format::OpenMetrics, Some(unit)) = (self.format, family.unit) {
            self.put(b"# UNIT ")?;
            self.metric_name("")?;
            self.put(b" ")?;
            self.put_str(unit)?;
            self.put(b"\n")?;
        }
        Ok(())
    }

    /// The family name and `suffix` where a name stands alone (`# TYPE`): as they are
    /// when the name is legacy, else escaped, or quoted under `allow-utf-8`.
    fn metric_name(&mut self, suffix: &str) -> fmt::Result {
        if self.legacy_family {
            self.put_str(self.family)?;
        } else if self.escaping == Escaping::AllowUtf8 {
            self.put(b"\"")?;
            self.escaped(self.family, true)?;
            self.put_str(suffix)?;
            return self.put(b"\"");
        } else {
            self.escaped_name(self.family, false)?;
        }
        self.put_str(suffix)
    }

    /// `name` as the scheme writes it outside quotes (its bytes are ASCII then).
    #[cold]
    fn escaped_name(&mut self, name: &str, label: bool) -> fmt::Result {
        let mut buf = [0u8; 32];
        let mut len = 0;
        for byte in escaped(name, self.escaping, label) {
            if len == buf.len() {
                self.put(&buf)?;
                len = 0;
            }
            buf[len] = byte;
            len += 1;
        }
        self.put(&buf[..len])
    }

    /// A label name: as it is when legacy, else escaped, or quoted under
    /// `allow-utf-8`.
    #[inline]
    fn label_name(&mut self, name: &str) -> fmt::Result {
        if self.legacy_labels || is_label_name(name) {
            return self.put_str(name);
        }
        if self.escaping == Escaping::AllowUtf8 {
            self.put(b"\"")?;
            self.escaped(name, true)?;
            return self.put(b"\"");
        }
        self.escaped_name(name, true)
    }

    /// One sample line: `<family><suffix>{labels,extra} value\n`.
    #[inline]
    fn line(
        &mut self,
        suffix: &str,
        labels: &dyn EncodeLabels,
        extra: Extra<'_>,
        value: Value,
    ) -> fmt::Result {
        self.line_with(suffix, labels, extra, value, None)
    }

    /// One sample line with, in OpenMetrics, an exemplar:
    /// `<family><suffix>{labels,extra} value # {exemplar labels} value [timestamp]\n`.
    #[inline]
    fn line_with(
        &mut self,
        suffix: &str,
        labels: &dyn EncodeLabels,
        extra: Extra<'_>,
        value: Value,
        exemplar: Option<&Exemplar>,
    ) -> fmt::Result {
        // Under `allow-utf-8` a name outside the legacy grammar goes inside the braces,
        // quoted, as the first of the line's labels (text format 1.0.0, OpenMetrics).
        let quoted = !self.legacy_family && self.escaping == Escaping::AllowUtf8;
        if quoted {
            self.put(b"{")?;
        }
        self.metric_name(suffix)?;
        let mut line = Line {
            text: self,
            open: quoted,
        };
        labels.encode(&mut LabelEncoder::new(&mut line))?;
        match extra {
            Extra::None => {}
            Extra::Float(name, bound) => {
                line.name(name)?;
                line.text.float(bound)?;
                line.text.put(b"\"")?;
            }
            Extra::Str(name, state) => line.label(name, state)?,
        }
        let open = line.open;
        // Each piece written on its own: assembling them in a stack buffer first and
        // copying that out in words stalls on store forwarding.
        self.put(if open { b"} " } else { b" " })?;
        self.value(value)?;
        if let (Some(exemplar), true) = (exemplar, self.open_metrics()) {
            self.exemplar(exemplar)?;
        }
        self.put(b"\n")
    }

    /// ` # {labels} value [timestamp]`, as Go's `expfmt` writes an exemplar
    /// (`openmetrics_create.go`, `writeExemplar`): the value as an OpenMetrics float,
    /// label values escaped as a series' are. One difference: the timestamp is written
    /// in positional decimal (`1700000000.5`), where Go writes its float form
    /// (`1.7000000005e+09`). Both are OpenMetrics `realnumber`s and Prometheus reads
    /// either, but `prometheus_client`'s parser (0.26, `_parse_timestamp`) splits the
    /// exponent form at the `.` and reads 1.7 s.
    fn exemplar(&mut self, exemplar: &Exemplar) -> fmt::Result {
        self.put(b" # {")?;
        for (i, (name, value)) in exemplar.labels().enumerate() {
            if i > 0 {
                self.put(b",")?;
            }
            self.put_str(name)?;
            self.put(b"=\"")?;
            self.escaped(value, true)?;
            self.put(b"\"")?;
        }
        self.put(b"} ")?;
        self.float(exemplar.value())?;
        if let Some(timestamp) = exemplar.timestamp() {
            /// Writes what `Display` formats straight to the line.
            struct Raw<'t, 'o, 'c, B: ?Sized>(&'t mut Text<'o, 'c, B>);

            impl<B: ByteSink + ?Sized> Write for Raw<'_, '_, '_, B> {
                fn write_str(&mut self, text: &str) -> fmt::Result {
                    self.0.put_str(text)
                }
            }

            self.put(b" ")?;
            // `f64`'s `Display` is positional, never an exponent, and the shortest
            // digits that read back as the same number; the timestamp is finite.
            write!(Raw(self), "{timestamp}")?;
        }
        Ok(())
    }

    /// A sample's value as Go's `expfmt` writes it. Integers below 10^6, and floats
    /// that are such integers (the commonest values: counts), go straight into the
    /// chunk as their digits, which is what Go's shortest float form of them is; other
    /// numbers go through the float formatter.
    #[inline]
    fn value(&mut self, value: Value) -> fmt::Result {
        let open_metrics = self.open_metrics();
        let (negative, magnitude) = match value {
            Value::Count(count) if open_metrics => {
                return self
                    .out
                    .write_decimal(count)
                    .map_err(|error| self.fail(error));
            }
            Value::Count(n) | Value::Number(Number::Unsigned(n)) => (false, n),
            Value::Number(Number::Signed(n)) => (n < 0, n.unsigned_abs()),
            Value::Float(value) | Value::Number(Number::Float(value)) => {
                // In range and whole: the casts are exact.
                #[allow(
                    clippy::cast_possible_truncation,
                    clippy::cast_precision_loss,
                    clippy::cast_sign_loss
                )]
                if (1.0..1e6).contains(&value) && (value as u64) as f64 == value {
                    (false, value as u64)
                } else {
                    let mut number = StackBuf::new();
                    write_f64(&mut number, value, open_metrics)?;
                    return self.put(number.as_bytes());
                }
            }
        };
        if magnitude >= 1_000_000 {
            // `1e+06` and up: the float's exponent form (the conversion is exact below
            // 2^53, and past it what Go's conversion of the integer prints).
            #[allow(clippy::cast_precision_loss)]
            let value = magnitude as f64;
            let mut number = StackBuf::new();
            write_f64(
                &mut number,
                if negative { -value } else { value },
                open_metrics,
            )?;
            return self.put(number.as_bytes());
        }
        if negative && magnitude != 0 {
            self.put(b"-")?;
        }
        self.out
            .write_decimal(magnitude)
            .map_err(|error| self.fail(error))?;
        if open_metrics {
            self.put(b".0")?;
        }
        Ok(())
    }
}

impl<B: ByteSink + ?Sized> Text<'_, '_, B> {
    /// The `_sum`, `_count` and `_created` lines of a histogram or summary.
    fn sum_and_count(
        &mut self,
        labels: &dyn EncodeLabels,
        sum: f64,
        count: u64,
        created: Option<Duration>,
    ) -> fmt::Result {
        self.line("_sum", labels, Extra::None, Value::Float(sum))?;
        self.line("_count", labels, Extra::None, Value::Count(count))?;
        self.created(labels, created)
    }

    /// OpenMetrics' `<family>_created{labels} <Unix seconds>`, the last sample of a
    /// series, when the exposition asks for it and the series has a timestamp; as Go's
    /// `expfmt` writes it (`writeOpenMetricsCreated`): the value is the nanoseconds
    /// divided by 10^9, an OpenMetrics float.
    fn created(&mut self, labels: &dyn EncodeLabels, created: Option<Duration>) -> fmt::Result {
        match created {
            Some(created) if self.created_samples && self.open_metrics() => {
                // Go's `float64(UnixNano()) / 1e9`, rounded alike.
                #[allow(clippy::cast_precision_loss)]
                let seconds = created.as_nanos() as f64 / 1e9;
                self.line("_created", labels, Extra::None, Value::Float(seconds))
            }
            _ => Ok(()),
        }
    }
}

/// The label part of one line being written.
struct Line<'t, 'o, 'c, B: ?Sized> {
    text: &'t mut Text<'o, 'c, B>,
    /// Invariant: `true` once `{` has been written.
    open: bool,
}

impl<B: ByteSink + ?Sized> Line<'_, '_, '_, B> {
    /// `{name="` or `,name="`.
    #[inline]
    fn name(&mut self, name: &str) -> fmt::Result {
        self.text.put(if self.open { b"," } else { b"{" })?;
        self.open = true;
        self.text.label_name(name)?;
        self.text.put(b"=\"")
    }
}

impl<B: ByteSink + ?Sized> LabelSink for Line<'_, '_, '_, B> {
    #[inline]
    fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        self.name(name)?;
        self.text.escaped(value, true)?;
        self.text.put(b"\"")
    }

    fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        /// Escapes what `Display` writes on its way to the line.
        struct Escaped<'l, 't, 'o, 'c, B: ?Sized>(&'l mut Line<'t, 'o, 'c, B>);

        impl<B: ByteSink + ?Sized> Write for Escaped<'_, '_, '_, '_, B> {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                self.0.text.escaped(text, true)
            }
        }

        self.name(name)?;
        write!(Escaped(self), "{value}")?;
        self.text.put(b"\"")
    }
}

impl<B: ByteSink + ?Sized> Samples for Text<'_, '_, B> {
    fn counter(
        &mut self,
        labels: &dyn EncodeLabels,
        value: Number,
        exemplar: Option<&Exemplar>,
        created: Option<Duration>,
    ) -> fmt::Result {
        self.line_with(
            "_total",
            labels,
            Extra::None,
            Value::Number(value),
            exemplar,
        )?;
        self.created(labels, created)
    }

    fn gauge(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.line("", labels, Extra::None, Value::Number(value))
    }

    fn unknown(&mut self, labels: &dyn EncodeLabels, value: Number) -> fmt::Result {
        self.line("", labels, Extra::None, Value::Number(value))
    }

    fn histogram(&mut self, labels: &dyn EncodeLabels, histogram: &Buckets<'_>) -> fmt::Result {
        for (i, (bound, n)) in histogram
            .bounds
            .iter()
            .zip(histogram.cumulative)
            .enumerate()
        {
            self.line_with(
                "_bucket",
                labels,
                Extra::Float("le", *bound),
                Value::Count(*n),
                histogram.exemplars.get(i).and_then(Option::as_ref),
            )?;
        }
        self.line_with(
            "_bucket",
            labels,
            Extra::Float("le", f64::INFINITY),
            Value::Count(histogram.count),
            histogram.inf_exemplar,
        )?;
        self.sum_and_count(labels, histogram.sum, histogram.count, histogram.created)
    }

    fn summary(&mut self, labels: &dyn EncodeLabels, summary: &Quantiles<'_>) -> fmt::Result {
        for (quantile, value) in summary.quantiles {
            self.line(
                "",
                labels,
                Extra::Float("quantile", *quantile),
                Value::Float(*value),
            )?;
        }
        self.sum_and_count(labels, summary.sum, summary.count, summary.created)
    }

    fn info(&mut self, labels: &dyn EncodeLabels) -> fmt::Result {
        self.line("_info", labels, Extra::None, Value::Float(1.0))
    }

    fn state_set(&mut self, labels: &dyn EncodeLabels, states: &[(&str, bool)]) -> fmt::Result {
        let family = self.family;
        for (state, on) in states {
            let value = if *on { 1.0 } else { 0.0 };
            self.line("", labels, Extra::Str(family, state), Value::Float(value))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;
    use crate::collect::MetricType;
    use crate::encoding::SliceSink;

    /// The whole exposition of one unlabelled gauge family reporting `report`.
    fn gauge(format: Format, report: impl FnOnce(&mut Encoder<'_>) -> fmt::Result) -> String {
        let mut buf = [0u8; 128];
        let mut out = SliceSink::new(&mut buf);
        let mut chunked = Chunked::new(&mut out);
        let head = FamilyHead {
            name: "g",
            metric_type: MetricType::Gauge,
            help: "",
            unit: None,
            legacy_labels: true,
        };
        encode_family(&mut chunked, format.into(), &head, report).unwrap();
        chunked.flush().unwrap();
        String::from(core::str::from_utf8(out.filled()).unwrap())
    }

    proptest::proptest! {
        /// Integers, and floats that are integers, written from their digits match the
        /// float formatter's bytes for the same value, in both formats.
        #[test]
        fn integer_values_match_the_float_formatter(
            any in proptest::num::i64::ANY,
            small in -2_000_000i64..2_000_000,
            bits in proptest::num::u64::ANY,
        ) {
            for format in [Format::Text, Format::OpenMetrics] {
                for n in [any, small] {
                    #[allow(clippy::cast_precision_loss)]
                    let float = n as f64;
                    let mut expected = String::from("# TYPE g gauge\ng ");
                    write_f64(&mut expected, float, format == Format::OpenMetrics).unwrap();
                    expected.push('\n');
                    proptest::prop_assert_eq!(&gauge(format, |e| e.gauge_i64(&(), n)), &expected);
                    proptest::prop_assert_eq!(&gauge(format, |e| e.gauge(&(), float)), &expected);
                }
                let float = f64::from_bits(bits);
                let mut expected = String::from("# TYPE g gauge\ng ");
                write_f64(&mut expected, float, format == Format::OpenMetrics).unwrap();
                expected.push('\n');
                proptest::prop_assert_eq!(&gauge(format, |e| e.gauge(&(), float)), &expected);
            }
        }
    }
}
