//! [`Buckets`]: the histogram layouts (classic bounds, or a native histogram) a
//! recorder picks by metric name, checked once, when the recorder is built.

use torchlight::DEFAULT_BUCKETS;

use crate::child::Layout;
use crate::error::BuildError;
use crate::names::Spelling;

/// Which histograms a list of bounds given to the builder is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Matcher {
    /// Every histogram no other matcher picks.
    Default,
    /// The histogram of this (sanitised) name.
    Name,
    /// Histograms whose (sanitised) name starts with the pattern.
    Prefix,
    /// Histograms whose (sanitised) name ends with the pattern.
    Suffix,
}

/// A layout as the builder was given it, unchecked.
#[derive(Clone, Debug)]
pub(crate) struct Spec {
    pub(crate) matcher: Matcher,
    /// The name, prefix or suffix as given (`""` for the default).
    pub(crate) pattern: String,
    pub(crate) request: Request,
}

/// What a [`Spec`] asks for.
#[derive(Clone, Debug)]
pub(crate) enum Request {
    /// Classic buckets with these bounds.
    Bounds(Vec<f64>),
    /// A native histogram with this bucket factor.
    Native(f64),
}

/// Histogram layouts: the default and those chosen per name, prefix, suffix. A native
/// setting is a layout like any other: the most specific match wins, whatever its
/// kind.
#[derive(Debug)]
pub(crate) struct Buckets {
    default: Layout,
    names: Vec<(String, Layout)>,
    prefixes: Vec<(String, Layout)>,
    suffixes: Vec<(String, Layout)>,
}

impl Buckets {
    /// The layouts of `specs`, in the order given (a later default replaces an
    /// earlier one).
    ///
    /// # Errors
    ///
    /// [`BuildError::Buckets`] for the first bounds that are empty, longer than
    /// [`MAX_BUCKETS`](crate::MAX_BUCKETS), or not finite and strictly increasing, or
    /// the first native factor not above 1.
    pub(crate) fn new(specs: &[Spec], spelling: Spelling) -> Result<Self, BuildError> {
        let mut buckets = Self {
            default: Layout::classic(DEFAULT_BUCKETS.bounds())
                .expect("DEFAULT_BUCKETS are valid and fewer than MAX_BUCKETS"),
            names: Vec::new(),
            prefixes: Vec::new(),
            suffixes: Vec::new(),
        };
        for spec in specs {
            let layout = match &spec.request {
                Request::Bounds(bounds) => Layout::classic(bounds),
                Request::Native(factor) => Layout::native(*factor),
            }
            .map_err(|error| BuildError::buckets(&spec.pattern, &error))?;
            let pattern = || spelling.metric_name(&spec.pattern).into_owned();
            match spec.matcher {
                Matcher::Default => buckets.default = layout,
                Matcher::Name => buckets.names.push((pattern(), layout)),
                Matcher::Prefix => buckets.prefixes.push((pattern(), layout)),
                Matcher::Suffix => buckets.suffixes.push((pattern(), layout)),
            }
        }
        Ok(buckets)
    }

    /// The layout for the histogram named `name` (as exposed): the last one given for
    /// the full name, else the longest matching prefix, else the longest matching
    /// suffix (the last one given among equally long ones), else the default.
    pub(crate) fn layout(&self, name: &str) -> Layout {
        if let Some((_, layout)) = self.names.iter().rev().find(|(full, _)| full == name) {
            return *layout;
        }
        let longest = |list: &[(String, Layout)], matches: &dyn Fn(&str) -> bool| {
            list.iter()
                .filter(|(pattern, _)| matches(pattern))
                .max_by_key(|(pattern, _)| pattern.len())
                .map(|(_, layout)| *layout)
        };
        longest(&self.prefixes, &|prefix| name.starts_with(prefix))
            .or_else(|| longest(&self.suffixes, &|suffix| name.ends_with(suffix)))
            .unwrap_or(self.default)
    }
}
