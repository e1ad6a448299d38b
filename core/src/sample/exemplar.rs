//! An exemplar as a value: [`Exemplar`], its label set checked and packed into a fixed
//! buffer when it is built (label names as OpenMetrics 1.0 requires them, at most
//! [`Exemplar::MAX_CHARS`] characters of names and values), its observed value and an
//! optional Unix timestamp; [`ExemplarLabels`] reads the pairs back, [`ExemplarError`]
//! says why a set was refused. It is part of the sample model: a metric hands it to an
//! [`Encoder`](super::Encoder) beside a counter or a histogram bucket, and the formats
//! write it without knowing which metric kept it. The metrics that keep exemplars, and
//! the slot that holds one between an observation and a scrape, are in `exemplar/`.

use core::fmt::{self, Write};

use super::{EncodeLabels, LabelEncoder, LabelSink};
use crate::name::is_label_name;

/// Bytes of an exemplar's packed label set: each pair as its name, a `0xFF` byte, its
/// value and a `0xFE` byte (neither byte occurs in UTF-8, so no escaping is needed).
/// 256 holds every set of up to 128 ASCII characters in up to 64 pairs, the common
/// `trace_id` (40 characters) and `span_id` (23) many times over.
pub(crate) const CAPACITY: usize = 256;

/// Separates a name from its value in the packed labels.
const NAME_END: u8 = 0xFF;
/// Ends a pair in the packed labels.
const PAIR_END: u8 = 0xFE;

/// One exemplar: a label set (usually a trace id), the value it was observed with and,
/// optionally, when (Unix seconds).
///
/// Building one checks the labels as OpenMetrics 1.0 does: valid label names, and at
/// most [`MAX_CHARS`](Self::MAX_CHARS) characters of names and values together. A set
/// that breaks a rule is rejected with an [`ExemplarError`], never truncated.
///
/// ```
/// use torchlight::Exemplar;
///
/// let exemplar = Exemplar::new(&[("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")], 0.27)?
///     .with_timestamp(1_700_000_000.5);
/// assert_eq!(exemplar.value(), 0.27);
/// assert_eq!(exemplar.timestamp(), Some(1_700_000_000.5));
/// assert_eq!(
///     exemplar.labels().collect::<Vec<_>>(),
///     [("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736")]
/// );
/// # Ok::<(), torchlight::ExemplarError>(())
/// ```
#[derive(Clone, Copy)]
pub struct Exemplar {
    labels: PackedLabels,
    value: f64,
    /// Invariant: finite when present.
    timestamp: Option<f64>,
}

/// Why an exemplar's label set was rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ExemplarError {
    /// Names and values together have more than [`Exemplar::MAX_CHARS`] characters
    /// (OpenMetrics 1.0: "the combined length of the label names and values of an
    /// Exemplar's LabelSet MUST NOT exceed 128 UTF-8 character code points").
    TooLong,
    /// The packed set does not fit the slot's 256 bytes (names and values in UTF-8
    /// plus two bytes per pair): possible within the character limit only with many
    /// pairs or many non-ASCII characters.
    TooLarge,
    /// A label name is not `[a-zA-Z_][a-zA-Z0-9_]*`, or starts with the reserved `__`.
    InvalidName,
}

impl fmt::Display for ExemplarError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooLong => {
                "exemplar labels have more than 128 characters (names and values together, \
                 the OpenMetrics limit); keep only the trace id"
            }
            Self::TooLarge => {
                "exemplar labels need more than 256 bytes packed; use fewer pairs or \
                 shorter values"
            }
            Self::InvalidName => {
                "an exemplar label name is not [a-zA-Z_][a-zA-Z0-9_]* or starts with `__`"
            }
        })
    }
}

impl core::error::Error for ExemplarError {}

impl Exemplar {
    /// The most characters (Unicode code points) of label names and values an exemplar
    /// may carry: OpenMetrics 1.0's limit.
    pub const MAX_CHARS: usize = 128;

    /// An exemplar with the labels `labels` reports, observed with `value`, without a
    /// timestamp.
    ///
    /// # Errors
    ///
    /// [`ExemplarError`] when the labels break an OpenMetrics rule or do not fit; an
    /// `EncodeLabels` that fails on its own reports [`ExemplarError::InvalidName`].
    pub fn new(labels: &dyn EncodeLabels, value: f64) -> Result<Self, ExemplarError> {
        let mut exemplar = Self {
            labels: PackedLabels::EMPTY,
            value,
            timestamp: None,
        };
        exemplar.labels.pack(labels)?;
        Ok(exemplar)
    }

    /// This exemplar stamped with `unix_seconds` (seconds since 1970-01-01 UTC, as
    /// OpenMetrics writes them); a NaN or infinite timestamp removes it instead.
    #[must_use]
    pub fn with_timestamp(mut self, unix_seconds: f64) -> Self {
        self.timestamp = unix_seconds.is_finite().then_some(unix_seconds);
        self
    }

    /// This exemplar stamped with the system's wall clock, to the millisecond (what
    /// Prometheus stores), or unchanged if the clock is before 1970.
    #[cfg(all(feature = "std", not(loom)))]
    #[must_use]
    pub fn stamped_now(self) -> Self {
        match unix_millis() {
            Some(now) => self.with_timestamp(now),
            None => self,
        }
    }

    /// The value observed with these labels.
    #[must_use]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// When it was observed, in Unix seconds, if stamped.
    #[must_use]
    pub fn timestamp(&self) -> Option<f64> {
        self.timestamp
    }

    /// The `(name, value)` label pairs, in the order they were reported.
    pub fn labels(&self) -> ExemplarLabels<'_> {
        ExemplarLabels {
            rest: self.labels.as_bytes(),
        }
    }

    /// The packed labels, for a slot to store.
    pub(crate) fn packed(&self) -> &[u8] {
        self.labels.as_bytes()
    }

    /// An exemplar from what a slot stored: `packed[..len]` as [`packed`](Self::packed)
    /// returned it for a valid exemplar, `value`, and a finite `timestamp` if any.
    pub(crate) fn from_packed(
        packed: [u8; CAPACITY],
        len: usize,
        value: f64,
        timestamp: Option<f64>,
    ) -> Self {
        Self {
            labels: PackedLabels {
                bytes: packed,
                len: len.min(CAPACITY),
            },
            value,
            timestamp,
        }
    }
}

/// A label set checked against OpenMetrics' rules for exemplars and packed as a slot
/// stores it: each pair as its name, a `0xFF` byte, its value and a `0xFE` byte.
///
/// An [`Exemplar`] keeps its labels in one; an observation with an exemplar packs
/// them straight into its slot instead ([`check`], then [`pack`]).
#[derive(Clone, Copy)]
pub(crate) struct PackedLabels {
    /// Invariant: `bytes[..len]` is a sequence of `name NAME_END value PAIR_END`, each
    /// name a valid label name and each value UTF-8.
    bytes: [u8; CAPACITY],
    len: usize,
}

impl PackedLabels {
    /// No labels.
    pub(crate) const EMPTY: Self = Self {
        bytes: [0; CAPACITY],
        len: 0,
    };

    /// Replaces these labels with `labels`, checked as [`Exemplar::new`] checks them;
    /// on an error they are left empty.
    ///
    /// # Errors
    ///
    /// As [`Exemplar::new`].
    #[inline]
    pub(crate) fn pack(&mut self, labels: &dyn EncodeLabels) -> Result<(), ExemplarError> {
        self.len = 0;
        let result = pack(labels, self);
        if result.is_err() {
            self.len = 0;
        }
        result
    }

    /// The packed pairs.
    pub(crate) fn as_bytes(&self) -> &[u8] {
        self.bytes.get(..self.len).unwrap_or_default()
    }
}

impl fmt::Debug for Exemplar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exemplar")
            .field("labels", &DebugLabels(self))
            .field("value", &self.value)
            .field("timestamp", &self.timestamp)
            .finish()
    }
}

/// The labels of an exemplar as a `{name: value}` map in `Debug`.
struct DebugLabels<'a>(&'a Exemplar);

impl fmt::Debug for DebugLabels<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.0.labels()).finish()
    }
}

impl PartialEq for Exemplar {
    fn eq(&self, other: &Self) -> bool {
        self.packed() == other.packed()
            && self.value.to_bits() == other.value.to_bits()
            && self.timestamp.map(f64::to_bits) == other.timestamp.map(f64::to_bits)
    }
}

/// The label pairs of an [`Exemplar`], from [`Exemplar::labels`].
#[derive(Clone, Debug)]
pub struct ExemplarLabels<'a> {
    /// Invariant: whole pairs, as in [`Exemplar::packed`].
    rest: &'a [u8],
}

impl<'a> Iterator for ExemplarLabels<'a> {
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let name_end = self.rest.iter().position(|b| *b == NAME_END)?;
        let pair_end = self.rest.iter().position(|b| *b == PAIR_END)?;
        let name = core::str::from_utf8(self.rest.get(..name_end)?).ok()?;
        let value = core::str::from_utf8(self.rest.get(name_end + 1..pair_end)?).ok()?;
        self.rest = self.rest.get(pair_end + 1..)?;
        Some((name, value))
    }
}

/// The wall clock in Unix seconds, to the millisecond (what Prometheus stores), or
/// `None` before 1970.
#[cfg(all(feature = "std", not(loom)))]
pub(crate) fn unix_millis() -> Option<f64> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?;
    // In `u64` (`as_millis` is a `u128`, whose conversion to `f64` is a library call):
    // milliseconds since 1970 stay below 2^53 for 285 000 years, so this is exact.
    let millis = since
        .as_secs()
        .checked_mul(1000)?
        .checked_add(u64::from(since.subsec_millis()))?;
    #[allow(clippy::cast_precision_loss)]
    Some(millis as f64 / 1000.0)
}

/// Where [`pack`] writes the packed bytes.
pub(crate) trait PackSink {
    /// Appends `bytes`; `false` (and nothing appended) when they do not fit in
    /// [`CAPACITY`] bytes in all.
    fn put(&mut self, bytes: &[u8]) -> bool;
}

impl PackSink for PackedLabels {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> bool {
        let start = self.len;
        match self.bytes.get_mut(start..start + bytes.len()) {
            Some(to) => {
                to.copy_from_slice(bytes);
                self.len += bytes.len();
                true
            }
            None => false,
        }
    }
}

/// A [`PackSink`] that only counts, for [`check`].
struct Count(usize);

impl PackSink for Count {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> bool {
        self.0 += bytes.len();
        self.0 <= CAPACITY
    }
}

/// Checks `labels` as [`Exemplar::new`] does, without keeping them: a [`pack`] of the
/// same labels then succeeds.
///
/// # Errors
///
/// As [`Exemplar::new`].
#[inline]
pub(crate) fn check(labels: &dyn EncodeLabels) -> Result<(), ExemplarError> {
    run(labels, &mut Count(0), true)
}

/// Checks `labels` as [`Exemplar::new`] does and writes them, packed, into `sink`; on
/// an error `sink` holds a prefix of them.
///
/// # Errors
///
/// As [`Exemplar::new`].
#[inline]
pub(crate) fn pack<S: PackSink>(
    labels: &dyn EncodeLabels,
    sink: &mut S,
) -> Result<(), ExemplarError> {
    run(labels, sink, true)
}

/// Writes `labels`, which [`check`] accepted, packed into `sink` without checking
/// them again (only that they fit: a set that does not, because its `EncodeLabels`
/// reported other pairs this time, is [`ExemplarError::TooLarge`]).
///
/// # Errors
///
/// [`ExemplarError::TooLarge`], as above, or an `EncodeLabels` that failed.
#[inline]
pub(crate) fn pack_checked<S: PackSink>(
    labels: &dyn EncodeLabels,
    sink: &mut S,
) -> Result<(), ExemplarError> {
    run(labels, sink, false)
}

/// [`pack`] (`checking`), or [`pack_checked`].
#[inline]
fn run<S: PackSink>(
    labels: &dyn EncodeLabels,
    sink: &mut S,
    checking: bool,
) -> Result<(), ExemplarError> {
    let mut packer = Packer {
        sink,
        checking,
        chars: 0,
        error: None,
    };
    let result = labels.encode(&mut LabelEncoder::new(&mut packer));
    match (result, packer.error) {
        (_, Some(error)) => Err(error),
        // A caller's `EncodeLabels` failing on its own: nothing usable was reported.
        (Err(fmt::Error), None) => Err(ExemplarError::InvalidName),
        (Ok(()), None) => Ok(()),
    }
}

/// Packs the pairs an [`EncodeLabels`] reports into a [`PackSink`], checking them.
struct Packer<'s, S> {
    sink: &'s mut S,
    /// Whether names and lengths are checked (not for labels `check` accepted).
    checking: bool,
    /// Characters of names and values so far.
    chars: usize,
    /// Invariant: set on the first broken rule; every later call fails.
    error: Option<ExemplarError>,
}

impl<S: PackSink> Packer<'_, S> {
    #[cold]
    fn fail(&mut self, error: ExemplarError) -> fmt::Error {
        self.error.get_or_insert(error);
        fmt::Error
    }

    /// Appends `bytes` (`chars` characters of a name or value) to the packed set.
    #[inline]
    fn push(&mut self, bytes: &[u8], chars: impl FnOnce() -> usize) -> fmt::Result {
        if self.checking {
            self.chars += chars();
            if self.chars > Exemplar::MAX_CHARS {
                return Err(self.fail(ExemplarError::TooLong));
            }
        }
        if !self.sink.put(bytes) {
            return Err(self.fail(ExemplarError::TooLarge));
        }
        Ok(())
    }

    #[inline]
    fn name(&mut self, name: &str) -> fmt::Result {
        if self.checking && !is_label_name(name) {
            return Err(self.fail(ExemplarError::InvalidName));
        }
        self.push(name.as_bytes(), || name.len())?;
        self.push(&[NAME_END], || 0)
    }
}

/// Characters (code points) of `text`; its length when it is ASCII, as a trace id is.
#[inline]
fn chars(text: &str) -> usize {
    if text.is_ascii() {
        text.len()
    } else {
        text.chars().count()
    }
}

impl<S: PackSink> LabelSink for Packer<'_, S> {
    fn label(&mut self, name: &str, value: &str) -> fmt::Result {
        self.name(name)?;
        self.push(value.as_bytes(), || chars(value))?;
        self.push(&[PAIR_END], || 0)
    }

    fn label_display(&mut self, name: &str, value: &dyn fmt::Display) -> fmt::Result {
        /// Packs what `Display` writes.
        struct Value<'p, 's, S>(&'p mut Packer<'s, S>);

        impl<S: PackSink> Write for Value<'_, '_, S> {
            fn write_str(&mut self, text: &str) -> fmt::Result {
                self.0.push(text.as_bytes(), || chars(text))
            }
        }

        self.name(name)?;
        write!(Value(self), "{value}")?;
        self.push(&[PAIR_END], || 0)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::*;

    #[test]
    fn the_character_limit_counts_code_points_of_names_and_values() {
        // "a" + 127 characters: 128, the limit (137 bytes).
        let value: String = "é".repeat(10) + &"x".repeat(117);
        let exemplar = Exemplar::new(&[("a", value.as_str())], 1.0).unwrap();
        assert_eq!(
            exemplar.labels().collect::<Vec<_>>(),
            [("a", value.as_str())]
        );
        let value: String = "é".repeat(10) + &"x".repeat(118);
        assert_eq!(
            Exemplar::new(&[("a", value.as_str())], 1.0),
            Err(ExemplarError::TooLong)
        );
        let four_bytes: String = "𝄞".repeat(100);
        assert_eq!(
            Exemplar::new(&[("a", four_bytes.as_str())], 1.0),
            Err(ExemplarError::TooLarge)
        );
    }

    #[test]
    fn names_are_checked_and_displayed_values_packed() {
        assert_eq!(
            Exemplar::new(&[("1a", "x")], 1.0),
            Err(ExemplarError::InvalidName)
        );
        assert_eq!(
            Exemplar::new(&[("__a", "x")], 1.0),
            Err(ExemplarError::InvalidName)
        );
        struct Code;
        impl EncodeLabels for Code {
            fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
                labels.label("a", "\u{0}\"\n")?;
                labels.label_display("code", &404)
            }
        }
        let exemplar = Exemplar::new(&Code, 2.0).unwrap();
        assert_eq!(
            exemplar.labels().collect::<Vec<_>>(),
            [("a", "\u{0}\"\n"), ("code", "404")]
        );
        assert!(Exemplar::new(&(), 1.0).unwrap().labels().next().is_none());
    }

    #[test]
    fn timestamps_are_finite_or_absent() {
        let exemplar = Exemplar::new(&(), 1.0).unwrap();
        assert_eq!(exemplar.with_timestamp(f64::NAN).timestamp(), None);
        assert_eq!(exemplar.with_timestamp(2.5).timestamp(), Some(2.5));
    }
}
