//! What can go wrong: configuring the recorder ([`BuildError`]), installing it
//! ([`InstallError`]) and recording through it ([`RecordError`]).

use core::fmt;

use torchlight::{LabelNamesError, RegisterError};

use crate::child::BoundsError;

/// Why [`Builder::build`](crate::Builder::build) refused the options.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum BuildError {
    /// A list of histogram bucket bounds is empty, longer than
    /// [`MAX_BUCKETS`](crate::MAX_BUCKETS), not finite or not strictly increasing; or
    /// a native histogram's bucket factor is not above 1.
    Buckets {
        /// The metric name, prefix or suffix the bounds (or factor) were given for
        /// (`""` for the default).
        matcher: String,
        /// What is wrong with them.
        reason: String,
    },
}

impl BuildError {
    pub(crate) fn buckets(matcher: &str, error: &BoundsError) -> Self {
        Self::Buckets {
            matcher: matcher.to_owned(),
            reason: error.to_string(),
        }
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Buckets { matcher, reason } if matcher.is_empty() => {
                write!(f, "default histogram buckets: {reason}")
            }
            Self::Buckets { matcher, reason } => {
                write!(f, "histogram buckets for {matcher:?}: {reason}")
            }
        }
    }
}

impl std::error::Error for BuildError {}

/// Why the recorder could not become the process's `metrics` recorder.
#[derive(Debug)]
#[non_exhaustive]
pub enum InstallError {
    /// The options are not valid: [`Builder::build`](crate::Builder::build) refused
    /// them.
    Build(BuildError),
    /// Another recorder (or this one, earlier) is already installed: the `metrics`
    /// facade takes one global recorder per process, once.
    AlreadyInstalled,
}

impl fmt::Display for InstallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Build(error) => write!(f, "the recorder's options are not valid: {error}"),
            Self::AlreadyInstalled => f.write_str(
                "a metrics recorder is already installed in this process; install one \
                 recorder once, at start-up (or use metrics::with_local_recorder in tests)",
            ),
        }
    }
}

impl std::error::Error for InstallError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Build(error) => Some(error),
            Self::AlreadyInstalled => None,
        }
    }
}

/// A metric recorded through `metrics` that torchlight cannot expose.
///
/// Each is reported once, to the hook set with
/// [`Builder::with_error_hook`](crate::Builder::with_error_hook), the first time a name (or a name
/// with a given set of label keys) is used; from then on that use records into a
/// no-op handle, so the exposition never carries a broken or duplicated family.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum RecordError {
    /// The registry refused the family: most often its name clashes with a metric
    /// registered there directly (a native torchlight metric of the same family
    /// name), or the sanitised name is empty.
    Register {
        /// The metric name as recorded.
        name: String,
        /// What the registry said.
        source: RegisterError,
    },
    /// The name was first used as one kind of metric and is now used as another.
    KindMismatch {
        /// The (sanitised) metric name.
        name: String,
        /// The kind it was first used as: `counter`, `gauge` or `histogram`.
        first: &'static str,
        /// The kind of the refused use.
        now: &'static str,
    },
    /// The label names (after sanitising) cannot label a family: repeated, reserved
    /// (`le` on a histogram) or starting with `__`.
    Labels {
        /// The (sanitised) metric name.
        name: String,
        /// The sanitised label names.
        labels: Vec<String>,
        /// What is wrong with them.
        source: LabelNamesError,
    },
    /// The name is already used with [`MAX_LABEL_SETS`](crate::MAX_LABEL_SETS)
    /// different sets of label keys; a further set is refused so that the keys a
    /// program invents cannot grow memory without bound.
    TooManyLabelSets {
        /// The (sanitised) metric name.
        name: String,
        /// The most sets of label keys a name may have: [`MAX_LABEL_SETS`](crate::MAX_LABEL_SETS).
        limit: usize,
    },
}

impl fmt::Display for RecordError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Register { name, source } => {
                write!(f, "metrics name {name:?} is not recorded: {source}")
            }
            Self::KindMismatch { name, first, now } => write!(
                f,
                "metrics name {name:?} is a {first}, so it cannot also be recorded as a {now}; \
                 this use is not recorded: give it another name"
            ),
            Self::Labels {
                name,
                labels,
                source,
            } => write!(
                f,
                "metrics name {name:?} with labels {labels:?} is not recorded: {source}"
            ),
            Self::TooManyLabelSets { name, limit } => write!(
                f,
                "metrics name {name:?} is used with more than {limit} sets of label keys; \
                 this set is not recorded: use the same label keys each time"
            ),
        }
    }
}

impl std::error::Error for RecordError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Register { source, .. } => Some(source),
            Self::Labels { source, .. } => Some(source),
            Self::KindMismatch { .. } | Self::TooManyLabelSets { .. } => None,
        }
    }
}
