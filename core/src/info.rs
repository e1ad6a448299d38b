//! Constant facts about the program carried as labels: [`Info`], Python's
//! `prometheus_client.Info` (`build_info{version="1.2.3"} 1`).

use core::fmt;

use crate::collect::{Collect, MetricType};
use crate::name::is_utf8_label_name;
use crate::sample::{EncodeLabels, Encoder, LabelEncoder};

/// A fixed set of label pairs exposed with the value 1, such as a build's version and
/// commit.
///
/// OpenMetrics writes it as an `info` family (`# TYPE build info`, sample
/// `build_info{…} 1.0`); the text format 0.0.4, which has no such type, as the gauge
/// `build_info` (what `prometheus_client` does). Name the metric `build` or
/// `build_info`: both expose the same bytes.
///
/// The label names are checked when the `Info` is built (in a `static` a bad name is a
/// compile error) and again at registration. An `Info` is a whole family on its own
/// (it implements [`Collect`], not [`Series`](crate::Series)): inside a labelled
/// family its label names could collide with the family's, which nothing could check.
///
/// ```
/// use torchlight::{Format, Info, Metric, Registry};
///
/// static BUILD: Metric<Info<2>> = Metric::new(
///     "build",
///     "Build information.",
///     Info::new([("version", "1.2.3"), ("profile", "release")]),
/// );
///
/// let registry = Registry::new();
/// registry.register(&BUILD)?;
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// assert_eq!(
///     text,
///     "# HELP build_info Build information.\n# TYPE build_info gauge\n\
///      build_info{version=\"1.2.3\",profile=\"release\"} 1\n"
/// );
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Info<const N: usize> {
    /// Invariant: every name is a valid label name and no name repeats.
    names: [&'static str; N],
    /// `values[i]` goes with `names[i]`.
    values: [&'static str; N],
}

/// Why an [`Info`]'s label pairs were rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InfoError {
    /// The name of the pair at `index` is empty or starts with `__` (a legacy
    /// [`Registry`](crate::Registry) refuses names outside `[a-zA-Z_][a-zA-Z0-9_]*`
    /// at registration).
    InvalidLabelName {
        /// Position of the offending pair.
        index: usize,
    },
    /// The name of the pair at `index` was already used by an earlier pair.
    DuplicateLabelName {
        /// Position of the offending pair.
        index: usize,
    },
}

impl fmt::Display for InfoError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidLabelName { index } => write!(
                f,
                "info label #{index} has an invalid name: it must not be empty or start with \"__\""
            ),
            Self::DuplicateLabelName { index } => write!(
                f,
                "info label #{index} repeats an earlier label name; give each label once"
            ),
        }
    }
}

impl core::error::Error for InfoError {}

impl<const N: usize> Info<N> {
    /// Checks the label names, returning why they are unusable.
    pub const fn try_new(labels: [(&'static str, &'static str); N]) -> Result<Self, InfoError> {
        let mut i = 0;
        while i < N {
            if !is_utf8_label_name(labels[i].0) {
                return Err(InfoError::InvalidLabelName { index: i });
            }
            let mut j = 0;
            while j < i {
                if str_eq(labels[i].0, labels[j].0) {
                    return Err(InfoError::DuplicateLabelName { index: i });
                }
                j += 1;
            }
            i += 1;
        }
        let mut names = [""; N];
        let mut values = [""; N];
        let mut i = 0;
        while i < N {
            names[i] = labels[i].0;
            values[i] = labels[i].1;
            i += 1;
        }
        Ok(Self { names, values })
    }

    /// Like [`try_new`](Self::try_new), for constants and statics.
    ///
    /// # Panics
    ///
    /// On an invalid or repeated label name; in a `static` that is a compile error.
    #[must_use]
    pub const fn new(labels: [(&'static str, &'static str); N]) -> Self {
        match Self::try_new(labels) {
            Ok(info) => info,
            Err(InfoError::InvalidLabelName { .. }) => {
                panic!("info label names must match [a-zA-Z_][a-zA-Z0-9_]* and not start with __")
            }
            Err(_) => panic!("info label names must be distinct"),
        }
    }

    /// The label pairs, in exposition order.
    pub fn labels(&self) -> impl Iterator<Item = (&'static str, &'static str)> + '_ {
        self.names.iter().copied().zip(self.values.iter().copied())
    }
}

/// `a == b` in a `const fn`.
pub(crate) const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

impl<const N: usize> Collect for Info<N> {
    fn metric_type(&self) -> MetricType {
        MetricType::Info
    }

    fn label_names(&self) -> &[&'static str] {
        &self.names
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        encoder.info(self)
    }
}

impl<const N: usize> EncodeLabels for Info<N> {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        self.labels()
            .try_for_each(|(name, value)| labels.label(name, value))
    }
}

/// A `&'static` [`Metric`](crate::Metric)`<`[`Info`]`>` named `<name>_build_info`, the
/// Go exporters' convention (prometheus/common's `version` collector): the value 1,
/// labelled by the calling crate's `version` (`CARGO_PKG_VERSION`) and, if given, a
/// `revision` (a commit). Register it in one line:
///
/// ```
/// use torchlight::{Format, Registry, build_info};
///
/// let registry = Registry::new();
/// registry.register(build_info!("billing", revision = "4f2a9c1"))?;
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// let version = env!("CARGO_PKG_VERSION");
/// assert!(text.ends_with(&format!(
///     "billing_build_info{{version=\"{version}\",revision=\"4f2a9c1\"}} 1\n"
/// )));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// `name` is a string literal; `revision` any `&'static str` constant, such as
/// `env!("GIT_COMMIT")` set by a build script. Each use declares its own `static`, so
/// the same use registered twice is `RegisterError::AlreadyRegistered`.
#[macro_export]
macro_rules! build_info {
    ($name:literal) => {{
        static BUILD_INFO: $crate::Metric<$crate::Info<1>> = $crate::Metric::new(
            ::core::concat!($name, "_build_info"),
            ::core::concat!(
                "A metric with a constant '1' value labeled by version from which ",
                $name,
                " was built."
            ),
            $crate::Info::new([("version", ::core::env!("CARGO_PKG_VERSION"))]),
        );
        &BUILD_INFO
    }};
    ($name:literal, revision = $revision:expr) => {{
        static BUILD_INFO: $crate::Metric<$crate::Info<2>> = $crate::Metric::new(
            ::core::concat!($name, "_build_info"),
            ::core::concat!(
                "A metric with a constant '1' value labeled by version and revision from which ",
                $name,
                " was built."
            ),
            $crate::Info::new([
                ("version", ::core::env!("CARGO_PKG_VERSION")),
                ("revision", $revision),
            ]),
        );
        &BUILD_INFO
    }};
}
