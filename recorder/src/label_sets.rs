//! One exposed family per metric name: [`LabelSets`], the torchlight
//! [`DynFamily`]s recorded under that name, one per set of label keys.
//!
//! The facade lets every call site pass any labels; a torchlight family has fixed
//! label names. So a name holds one [`DynFamily`] (the family whose names are chosen at
//! run time) per *set* of label keys (matched as a
//! set: `a, b` and `b, a` are the same family, labelled in the order first seen), at
//! most [`MAX_LABEL_SETS`] of them, each bounded by the builder's cardinality limit.
//! All of them are exposed as one family (one `# HELP` / `# TYPE`), in the order the
//! sets were first used; within each set, children are sorted by their values.

use core::fmt;
use std::sync::{Arc, OnceLock, PoisonError, RwLock};
use std::time::Duration;

use metrics::Label;
use torchlight::{Collect, DynFamily, Encoder, LabelNamesError, MetricType, Series};

use crate::error::RecordError;
use crate::names::{self, Spelling};

/// The most sets of label keys one metric name can be recorded with.
///
/// Each set is a [`DynFamily`] of its own (its label names are leaked once, as `'static`
/// names), so the bound keeps a program that builds label *keys* from data from
/// growing memory without limit. 16 is far more than a metric normally has (one).
pub const MAX_LABEL_SETS: usize = 16;

/// Builds a child series.
pub(crate) type Make<M> = Arc<dyn Fn() -> M + Send + Sync>;

/// What every [`LabelSets`] needs to know from the recorder's configuration.
pub(crate) struct Settings {
    /// Labels added to every series (name as spelled for the registry, value), unless
    /// the call sets a label of the same sanitised name.
    pub(crate) globals: Vec<(String, String)>,
    /// The cardinality limit of each family.
    pub(crate) limit: usize,
    /// Each family's idle timeout (expiry that waits for a scrape), if any.
    pub(crate) idle_timeout: Option<Duration>,
    /// How names are spelled for the registry.
    pub(crate) spelling: Spelling,
    /// Where a [`RecordError`] goes.
    pub(crate) report: Box<dyn Fn(&RecordError) + Send + Sync>,
}

/// The families recorded under one metric name (as spelled for the registry).
pub(crate) struct LabelSets<M> {
    /// The name, as spelled for the registry.
    name: &'static str,
    make: Make<M>,
    /// Invariant: at most [`MAX_LABEL_SETS`] sets, no two with the same keys as sets.
    sets: RwLock<Vec<Arc<LabelSet<M>>>>,
    /// Set when [`RecordError::TooManyLabelSets`] has been reported.
    too_many: OnceLock<()>,
}

/// One set of label keys and its family.
struct LabelSet<M> {
    /// The keys, sanitised, in the order first recorded. Matched against sanitised
    /// keys, so `http.method` and `http_method` are one label (spelled, in a UTF-8
    /// registry, as first recorded), never two families writing series a scraper
    /// reads alike.
    keys: Box<[String]>,
    /// The values of the global labels this set keeps (those no key overrides); the
    /// family's first label names are theirs.
    globals: Box<[String]>,
    /// `None` when the label names were refused (and reported).
    family: Option<DynFamily<M, Box<dyn Fn() -> M + Send + Sync>>>,
}

impl<M: Series + Send + Sync + 'static> LabelSets<M> {
    pub(crate) fn new(name: &'static str, make: Make<M>) -> Self {
        Self {
            name,
            make,
            sets: RwLock::new(Vec::new()),
            too_many: OnceLock::new(),
        }
    }

    /// The child for `labels`, creating its family or child on first use; `None` if
    /// this set of keys is refused (reported once).
    pub(crate) fn child<'a>(
        &self,
        labels: impl Iterator<Item = &'a Label> + Clone,
        settings: &Settings,
    ) -> Option<Arc<M>> {
        {
            let sets = self.sets.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(set) = sets.iter().find(|set| set.matches(labels.clone())) {
                return set.child(labels);
            }
        }
        let (set, refusal) = {
            let mut sets = self.sets.write().unwrap_or_else(PoisonError::into_inner);
            // Another thread may have added it between the two locks.
            if let Some(set) = sets.iter().find(|set| set.matches(labels.clone())) {
                (Arc::clone(set), None)
            } else if sets.len() >= MAX_LABEL_SETS {
                drop(sets);
                if self.too_many.set(()).is_ok() {
                    (settings.report)(&RecordError::TooManyLabelSets {
                        name: self.name.to_owned(),
                        limit: MAX_LABEL_SETS,
                    });
                }
                return None;
            } else {
                let (set, refusal) = self.new_set(labels.clone(), settings);
                let set = Arc::new(set);
                sets.push(Arc::clone(&set));
                (set, refusal)
            }
        };
        // Reported with no lock held: the hook is user code, and may record.
        if let Some(error) = refusal {
            (settings.report)(&error);
        }
        set.child(labels)
    }

    /// A set for the keys of `labels`: its family, or the reason it has none.
    fn new_set<'a>(
        &self,
        labels: impl Iterator<Item = &'a Label>,
        settings: &Settings,
    ) -> (LabelSet<M>, Option<RecordError>) {
        let (keys, spelled): (Vec<String>, Vec<String>) = labels
            .map(|label| {
                let key = label.key();
                (
                    names::label_name(key).into_owned(),
                    settings.spelling.label_name(key).into_owned(),
                )
            })
            .unzip();
        let keys: Box<[String]> = keys.into();
        let kept: Vec<&(String, String)> = settings
            .globals
            .iter()
            .filter(|(name, _)| !keys.iter().any(|key| *key == names::label_name(name)))
            .collect();
        let label_names: Vec<String> = kept
            .iter()
            .map(|(name, _)| name.clone())
            .chain(spelled)
            .collect();
        // The family keeps its label names for the life of the program, as `'static`
        // names; this leaks them once per set, bounded by `MAX_LABEL_SETS` per name.
        let leaked: Vec<&'static str> = label_names
            .iter()
            .map(|name| &*Box::leak(name.clone().into_boxed_str()))
            .collect();
        let make = Arc::clone(&self.make);
        let make: Box<dyn Fn() -> M + Send + Sync> = Box::new(move || make());
        // Two keys given that are one label (`a.b` and `a_b`): refused as a repeated
        // name, as a legacy registry's sanitising makes it.
        let repeated = keys
            .iter()
            .enumerate()
            .find(|(i, key)| keys[..*i].contains(key))
            .map(|(i, _)| LabelNamesError::Duplicate {
                label: leaked[kept.len() + i],
            });
        let built = match repeated {
            Some(error) => Err(error),
            None => DynFamily::with_constructor(leaked, make),
        };
        let (family, refusal) = match built {
            Ok(family) => {
                let family = family.with_limit(settings.limit);
                let family = match settings.idle_timeout {
                    Some(timeout) => family.with_idle_timeout(timeout),
                    None => family,
                };
                (Some(family), None)
            }
            Err(source) => (
                None,
                Some(RecordError::Labels {
                    name: self.name.to_owned(),
                    labels: label_names,
                    source,
                }),
            ),
        };
        let set = LabelSet {
            keys,
            globals: kept.into_iter().map(|(_, value)| value.clone()).collect(),
            family,
        };
        (set, refusal)
    }
}

impl<M: Series + Send + Sync + 'static> LabelSet<M> {
    /// Whether `labels` has exactly this set's keys, in any order.
    fn matches<'a>(&self, mut labels: impl Iterator<Item = &'a Label> + Clone) -> bool {
        labels.clone().count() == self.keys.len()
            && self
                .keys
                .iter()
                .all(|key| labels.clone().any(|label| is_key(label, key)))
            && labels.all(|label| self.keys.iter().any(|key| is_key(label, key)))
    }

    /// The child for the values of `labels` (which [`matches`](Self::matches)).
    fn child<'a>(&self, labels: impl Iterator<Item = &'a Label> + Clone) -> Option<Arc<M>> {
        let family = self.family.as_ref()?;
        // The values in the family's label order: the kept globals, then the keys in
        // this set's order. On the stack for up to 16 labels.
        let width = self.globals.len() + self.keys.len();
        let value = |key: &str| {
            labels
                .clone()
                .find(|label| is_key(label, key))
                .map_or("", Label::value)
        };
        let ordered = self
            .globals
            .iter()
            .map(String::as_str)
            .chain(self.keys.iter().map(|key| value(key)));
        let mut stack = [""; 16];
        let child = if width <= stack.len() {
            for (slot, value) in stack.iter_mut().zip(ordered) {
                *slot = value;
            }
            family.get_or_create(&stack[..width])
        } else {
            family.get_or_create(&ordered.collect::<Vec<_>>())
        };
        // The count always matches: both come from this set's keys.
        child.ok()
    }
}

/// Whether `label`'s key sanitises to `key` (no allocation when the key is valid).
fn is_key(label: &Label, key: &str) -> bool {
    names::label_name(label.key()) == key
}

/// A [`LabelSets`] as the registry sees it: one family of `M`'s type.
pub(crate) struct Exposed<M>(pub(crate) Arc<LabelSets<M>>);

impl<M: Series + Send + Sync + 'static> Collect for Exposed<M> {
    fn metric_type(&self) -> MetricType {
        M::TYPE
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        // Copy the handles out: no lock of ours is held while the writer runs.
        let sets: Vec<Arc<LabelSet<M>>> = self
            .0
            .sets
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        for family in sets.iter().filter_map(|set| set.family.as_ref()) {
            family.encode(encoder)?;
        }
        Ok(())
    }
}
