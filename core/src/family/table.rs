//! The children of a family, whatever holds its label names: [`Table`], the sharded
//! maps, the cardinality limit, the overflow child and the cached exposition order.
//! [`Family`](super::Family) (a fixed number of labels) and
//! [`DynFamily`](super::DynFamily) (a number known at run time) are its two fronts; both
//! hand it exactly one value per label name.
//!
//! Built in a `const fn`: the only part that cannot be (the hash keys, random per
//! family) is drawn on the first lookup, behind a [`OnceLock`], so a hit costs one
//! more `Acquire` load and still allocates nothing.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};
use std::sync::{Arc, OnceLock, RwLock};

use super::key::Key;
use super::shard::{Probe, SHARDS, Shard, Slot, find, read, read_lock, write, write_lock};
use super::sorted::Sorted;
use crate::collect::Series;
use crate::sample::{EncodeLabels, Encoder, LabelEncoder};
use crate::sync::{AtomicU64, AtomicUsize, Ordering};

/// The most children a family holds unless told otherwise: 2000, the OpenTelemetry
/// SDK's default cardinality limit.
pub(super) const DEFAULT_LIMIT: usize = 2000;

/// The label that marks the overflow child, as the OpenTelemetry SDK writes it; the
/// registry refuses it as a label name.
pub(super) use crate::registry::OVERFLOW_LABEL;

/// A family's children, looked up by exactly one value per label name.
pub(super) struct Table<M, F> {
    make: F,
    limit: usize,
    /// Keys the hash of the label values; random per family, drawn on first use
    /// (`RandomState::new` is not `const`).
    hasher: OnceLock<RandomState>,
    /// Invariant: a key lives only in the shard [`Probe::shard`] names for its hash.
    shards: [RwLock<Shard<M>>; SHARDS],
    /// Invariant: the number of children in all shards, `<= limit`; changed only under
    /// the write lock of the shard that gains or loses the child.
    len: AtomicUsize,
    /// Counts changes to the set of children. Invariant: incremented under the write
    /// lock of the shard that changes, so a reader holding every shard's read lock
    /// sees the latest value.
    generation: AtomicU64,
    /// The children in exposition order, as of some generation.
    sorted: Sorted<M>,
    /// The child that stands in for every combination refused by the limit; created
    /// the first time the limit refuses one.
    overflow: RwLock<Option<Arc<M>>>,
}

impl<M, F> Table<M, F> {
    /// An empty table; nothing is allocated until the first child.
    pub(super) const fn new(make: F) -> Self {
        Self {
            make,
            limit: DEFAULT_LIMIT,
            hasher: OnceLock::new(),
            shards: [const { RwLock::new(HashMap::with_hasher(BuildHasherDefault::new())) };
                SHARDS],
            len: AtomicUsize::new(0),
            generation: AtomicU64::new(0),
            sorted: Sorted::new(),
            overflow: RwLock::new(None),
        }
    }

    pub(super) const fn set_limit(&mut self, limit: usize) {
        self.limit = limit;
    }

    pub(super) fn limit(&self) -> usize {
        self.limit
    }

    pub(super) fn len(&self) -> usize {
        // ORDERING: Relaxed: a count, read on its own.
        self.len.load(Ordering::Relaxed)
    }
}

impl<M: Series, F: Fn() -> M> Table<M, F> {
    /// The child for `values`, one per label name (the caller's type or check sees
    /// to that), created if missing; the overflow child when the table is full.
    pub(super) fn get_or_create(&self, values: &[&str]) -> Arc<M> {
        let probe = self.probe(values);
        let shard = &self.shards[probe.shard()];
        // Read before the lookup. ORDERING: Relaxed is enough: if this load sees the
        // family full because a racing thread just created this very child (its
        // increment of `len` happens under the shard's write lock), then this thread's
        // read lock below cannot come before that write lock (the load would then
        // precede the increment), so it comes after its release and the lookup finds
        // the child instead of sending it to the overflow.
        let full = self.len() >= self.limit;
        if let Some(child) = find(&read(shard), &probe) {
            return Arc::clone(child);
        }
        if full {
            return self.overflow_child();
        }
        // Built before locking: `make` is user code and must not run under a lock. A
        // child starts as a series now: its created timestamp.
        let child = Arc::new((self.make)());
        child.set_created(crate::created::system_time());
        let key = Key::new(probe.values);
        let mut map = write(shard);
        if let Some(existing) = find(&map, &probe) {
            return Arc::clone(existing);
        }
        // ORDERING: Relaxed: the count only has to be exact, which the atomic
        // read-modify-write guarantees; it publishes nothing.
        let reserved = self
            .len
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| {
                (n < self.limit).then_some(n + 1)
            })
            .is_ok();
        if !reserved {
            drop(map);
            return self.overflow_child();
        }
        match map.entry(probe.hash) {
            Entry::Vacant(slot) => {
                slot.insert(Slot::One(key, Arc::clone(&child)));
            }
            Entry::Occupied(mut slot) => slot.get_mut().push(key, Arc::clone(&child)),
        }
        self.changed();
        child
    }

    /// The child for `values`, if it exists (never the overflow child).
    pub(super) fn get(&self, values: &[&str]) -> Option<Arc<M>> {
        let probe = self.probe(values);
        find(&read(&self.shards[probe.shard()]), &probe).cloned()
    }

    /// Removes the child for `values` and returns it.
    pub(super) fn remove(&self, values: &[&str]) -> Option<Arc<M>> {
        let probe = self.probe(values);
        let mut map = write(&self.shards[probe.shard()]);
        let removed = match map.entry(probe.hash) {
            Entry::Vacant(_) => None,
            Entry::Occupied(mut slot) => {
                let removed = slot.get_mut().remove(probe.values);
                if slot.get().len() == 0 {
                    slot.remove();
                }
                removed
            }
        };
        if removed.is_some() {
            // ORDERING: Relaxed: see `get_or_create`.
            self.len.fetch_sub(1, Ordering::Relaxed);
            self.changed();
        }
        drop(map);
        // The child is dropped, if this was its last handle, after the lock is released.
        removed
    }

    /// Removes every child and the overflow child.
    pub(super) fn clear(&self) {
        for shard in &self.shards {
            let mut map = write(shard);
            let removed = core::mem::take(&mut *map);
            let count = removed.values().map(Slot::len).sum();
            // ORDERING: Relaxed: see `get_or_create`.
            self.len.fetch_sub(count, Ordering::Relaxed);
            if count > 0 {
                self.changed();
            }
            drop(map);
            // `removed` drops here, after the lock is released.
        }
        let overflow = write_lock(&self.overflow).take();
        drop(overflow);
    }

    /// Reports every child, labelled with `names` (one per value), sorted by values,
    /// then the overflow child.
    pub(super) fn encode(&self, names: &[&'static str], encoder: &mut Encoder<'_>) -> fmt::Result {
        // The cached sorted list, or a fresh one if children changed; written from this
        // scrape's own handle on it, with no lock held.
        let children = self.sorted.get(&self.shards, || {
            // ORDERING: Relaxed: called with every shard read-locked (see `changed`).
            self.generation.load(Ordering::Relaxed)
        });
        for (key, child) in children.iter().flatten() {
            let labels = ChildLabels { names, key };
            child.encode_series(&labels, encoder)?;
        }
        let overflow = read_lock(&self.overflow).clone();
        if let Some(child) = overflow {
            child.encode_series(&[(OVERFLOW_LABEL, "true")], encoder)?;
        }
        Ok(())
    }

    fn probe<'a>(&self, values: &'a [&'a str]) -> Probe<'a> {
        // The hasher sees the values' bytes with `0xFF`, a byte UTF-8 never uses,
        // between them: with the number of values fixed, different values give
        // different input, so the last value needs no terminator (as `str::hash` would
        // write) and a lookup makes one `write` call fewer.
        let mut hasher = self.hasher.get_or_init(RandomState::new).build_hasher();
        if let Some((last, rest)) = values.split_last() {
            for value in rest {
                hasher.write(value.as_bytes());
                hasher.write_u8(0xFF);
            }
            hasher.write(last.as_bytes());
        }
        Probe {
            hash: hasher.finish(),
            values,
        }
    }

    /// Records a change to the set of children; called under the changed shard's
    /// write lock.
    fn changed(&self) {
        // ORDERING: Relaxed: read only under every shard's read lock, which orders it
        // after this write lock's release (see `sorted.rs`).
        self.generation.fetch_add(1, Ordering::Relaxed);
    }

    fn overflow_child(&self) -> Arc<M> {
        if let Some(child) = read_lock(&self.overflow).as_ref() {
            return Arc::clone(child);
        }
        // Built before locking, and dropped after, if another thread won the race.
        let fresh = Arc::new((self.make)());
        fresh.set_created(crate::created::system_time());
        let mut slot = write_lock(&self.overflow);
        let child = Arc::clone(slot.get_or_insert_with(|| Arc::clone(&fresh)));
        drop(slot);
        child
    }
}

/// A child's label pairs: the family's names with the values of its packed key, read
/// as they are written.
struct ChildLabels<'a> {
    names: &'a [&'static str],
    /// Invariant: one value per name.
    key: &'a Key,
}

impl EncodeLabels for ChildLabels<'_> {
    fn encode(&self, labels: &mut LabelEncoder<'_>) -> fmt::Result {
        self.names
            .iter()
            .zip(self.key.values())
            .try_for_each(|(name, value)| labels.label(name, value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_of_the_same_bytes_hash_apart() {
        // Not needed for correctness (slots compare full values), but for the hash's
        // resistance to chosen collisions: the hashed input must differ.
        let table = Table::new(crate::Counter::new);
        let hash = |values: &[&str]| table.probe(values).hash;
        assert_ne!(hash(&["ab", "c"]), hash(&["a", "bc"]));
        assert_ne!(hash(&["", "a"]), hash(&["a", ""]));
        assert_eq!(hash(&["a", "bc"]), hash(&["a", "bc"]));
    }
}
