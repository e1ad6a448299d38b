//! Metrics owned by `Arc` that join and leave a registry at run time (`std` feature).

use std::sync::{Arc, PoisonError, RwLock};
use std::vec::Vec;

use super::{RegisterError, Registry};
use crate::collect::Collect;
use crate::metric::{Entry, Metric};
use crate::sync::Ordering;

type Handle = Arc<dyn Entry + Send + Sync>;

/// The owned half of a [`Registry`], in registration order.
pub(super) struct Owned {
    /// Invariant: the node of every metric listed here has `claimed` set, so no metric
    /// is listed twice or also registered statically; changed only under the
    /// registry's `writers` lock.
    entries: RwLock<Vec<Handle>>,
}

impl Owned {
    pub(super) const fn new() -> Self {
        Self {
            entries: RwLock::new(Vec::new()),
        }
    }

    /// Copies of the handles, so callers run metric code with no lock held. Allocates
    /// only when something is registered.
    pub(super) fn snapshot(&self) -> Vec<Handle> {
        // A poisoned lock only means a thread panicked while holding it; pushes and
        // removals are single calls that leave the list whole.
        let entries = self.entries.read().unwrap_or_else(PoisonError::into_inner);
        entries.iter().cloned().collect()
    }
}

impl Registry {
    /// Adds a metric owned by an [`Arc`], such as a [`Family`](crate::Family) created
    /// at run time, with the same checks as [`register`](Self::register) (against
    /// static and owned metrics alike). It is exposed after the static metrics, in the
    /// order owned metrics were registered, until [`unregister`](Self::unregister).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use torchlight::{Counter, Format, Metric, Registry};
    ///
    /// let registry = Registry::new();
    /// let jobs = Arc::new(Metric::new("jobs", "Jobs run.", Counter::new()));
    /// registry.register_owned(Arc::clone(&jobs))?;
    /// jobs.inc();
    ///
    /// let mut text = String::new();
    /// registry.encode(&mut text, Format::Text)?;
    /// assert!(text.ends_with("jobs_total 1\n"));
    ///
    /// assert!(registry.unregister(&jobs));
    /// text.clear();
    /// registry.encode(&mut text, Format::Text)?;
    /// assert_eq!(text, "");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`RegisterError`] says which rule was broken; nothing is registered then.
    pub fn register_owned<M>(&self, metric: Arc<Metric<M>>) -> Result<(), RegisterError>
    where
        M: Collect + Send + Sync + 'static,
    {
        let handle: Handle = Arc::<Metric<M>>::clone(&metric);
        self.register_with(&metric, || {
            self.owned
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle);
        })
    }

    /// Registers each of `metrics` with [`register_owned`](Self::register_owned), all or
    /// nothing: on the first error, those already registered are unregistered again.
    /// For collectors of several families (the process metrics, a runtime's metrics).
    ///
    /// # Errors
    ///
    /// The first [`RegisterError`]; nothing from `metrics` is registered then.
    pub fn register_owned_all<M>(
        &self,
        metrics: impl IntoIterator<Item = Arc<Metric<M>>>,
    ) -> Result<(), RegisterError>
    where
        M: Collect + Send + Sync + 'static,
    {
        let mut done: Vec<Arc<Metric<M>>> = Vec::new();
        for metric in metrics {
            if let Err(error) = self.register_owned(Arc::clone(&metric)) {
                for registered in &done {
                    self.unregister(registered);
                }
                return Err(error);
            }
            done.push(metric);
        }
        Ok(())
    }

    /// Removes a metric added with [`register_owned`](Self::register_owned); `false`
    /// if it is not registered here as an owned metric (static registrations are
    /// permanent). The metric can be registered again afterwards.
    pub fn unregister<M>(&self, metric: &Metric<M>) -> bool {
        let _writers = self.writers.lock();
        let removed = {
            let mut entries = self
                .owned
                .entries
                .write()
                .unwrap_or_else(PoisonError::into_inner);
            let position = entries
                .iter()
                .position(|entry| core::ptr::addr_eq(Arc::as_ptr(entry), metric));
            position.map(|at| entries.remove(at))
        };
        match removed {
            Some(handle) => {
                // ORDERING: Relaxed: see `register_owned`.
                metric.node.claimed.store(false, Ordering::Relaxed);
                // The registry's handle is dropped here, with no lock but `writers`
                // held; the caller still holds `metric`, so this is never the last.
                drop(handle);
                true
            }
            None => false,
        }
    }
}
