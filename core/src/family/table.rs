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
use std::time::Duration;
use std::vec::Vec;

use super::expiry::{Expiry, Scrape, Verdict};
use super::key::Key;
use super::shard::{
    Entry as Child, Probe, SHARDS, Shard, Slot, find, read, read_lock, release, write, write_lock,
};
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
    /// the first time the limit refuses one. Never expires.
    overflow: RwLock<Option<Arc<M>>>,
    /// Set when idle children expire (see `expiry.rs`).
    expiry: Option<Expiry>,
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
            expiry: None,
        }
    }

    pub(super) const fn set_idle_timeout(&mut self, timeout: Duration) {
        // `None` or a previous setting, whose drop a `const fn` cannot run: it owns
        // nothing (an unset `OnceLock<Instant>` and an integer), so forgetting it leaks
        // nothing.
        core::mem::forget(self.expiry.replace(Expiry::new(timeout)));
    }

    pub(super) fn idle_timeout(&self) -> Option<Duration> {
        self.expiry.as_ref().map(Expiry::timeout)
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
        if let Some(child) = self.hand_out(find(&read(shard), &probe)) {
            return child;
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
        if let Some(existing) = self.hand_out(find(&map, &probe)) {
            return existing;
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
        let entry = Child::new(key, Arc::clone(&child));
        match map.entry(probe.hash) {
            Entry::Vacant(slot) => {
                slot.insert(Slot::One(entry));
            }
            Entry::Occupied(mut slot) => slot.get_mut().push(entry),
        }
        self.changed();
        child
    }

    /// The child for `values`, if it exists (never the overflow child).
    pub(super) fn get(&self, values: &[&str]) -> Option<Arc<M>> {
        let probe = self.probe(values);
        self.hand_out(find(&read(&self.shards[probe.shard()]), &probe))
    }

    /// A found child's handle, its lookup recorded when the family expires children.
    /// Called under the child's shard lock (read or write).
    #[inline]
    fn hand_out(&self, found: Option<&Child<M>>) -> Option<Arc<M>> {
        let found = found?;
        if self.expiry.is_some() {
            found.life.touch();
        }
        Some(Arc::clone(&found.child))
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
            release(&mut map);
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

    /// Removes the children `keep` refuses, given their values and their metric;
    /// `keep` runs with no lock held, on a snapshot of the children (one taken like a
    /// scrape's). A child re-created while `keep` ran is a new child and stays.
    pub(super) fn retain(&self, mut keep: impl FnMut(&[&str], &M) -> bool) {
        let children = self.sorted.get(&self.shards, || {
            // ORDERING: Relaxed: as in `encode`.
            self.generation.load(Ordering::Relaxed)
        });
        let mut values = Vec::new();
        for (key, child) in children.iter().flatten() {
            let Some(child) = child.upgrade() else {
                continue;
            };
            values.clear();
            values.extend(key.values());
            if keep(&values, &child) {
                continue;
            }
            drop(child);
            let hash = self.hash(key.values());
            let mut removed = None;
            let mut map = write(&self.shards[Probe::shard_of(hash)]);
            if let Entry::Occupied(mut slot) = map.entry(hash) {
                // The same child, not merely one with the same values.
                slot.get_mut()
                    .retain(|entry| !entry.key.same(key), |entry| removed = Some(entry));
                if slot.get().len() == 0 {
                    slot.remove();
                }
            }
            if removed.is_some() {
                // ORDERING: Relaxed: see `get_or_create`.
                self.len.fetch_sub(1, Ordering::Relaxed);
                self.changed();
                release(&mut map);
            }
            drop(map);
            // The child drops here, after the lock is released.
            drop(removed);
        }
    }

    /// Reports every child, labelled with `names` (one per value), sorted by values,
    /// then the overflow child; expires idle children first if the family does.
    pub(super) fn encode(&self, names: &[&'static str], encoder: &mut Encoder<'_>) -> fmt::Result {
        let scrape = self.expiry.as_ref().map(|expiry| {
            let scrape = expiry.start();
            self.observe(scrape);
            scrape
        });
        // The cached sorted list, or a fresh one if children changed; written from this
        // scrape's own handle on it, with no lock held.
        let children = self.sorted.get(&self.shards, || {
            // ORDERING: Relaxed: called with every shard read-locked (see `changed`).
            self.generation.load(Ordering::Relaxed)
        });
        for (key, child) in children.iter().flatten() {
            // `None`: removed and dropped since the list was built.
            if let Some(child) = child.upgrade() {
                let labels = ChildLabels { names, key };
                child.encode_series(&labels, encoder)?;
            }
        }
        if let Some(scrape) = scrape {
            self.exposed_by(scrape);
        }
        let overflow = read_lock(&self.overflow).clone();
        if let Some(child) = overflow {
            child.encode_series(&[(OVERFLOW_LABEL, "true")], encoder)?;
        }
        Ok(())
    }

    /// Step 1 of expiry (see `expiry.rs`): every child observed under its shard's
    /// write lock, the expired ones removed (and dropped after the lock).
    fn observe(&self, scrape: Scrape) {
        for shard in &self.shards {
            let mut removed = Vec::new();
            let mut map = write(shard);
            map.retain(|_, slot| {
                slot.retain(
                    |entry| {
                        let verdict = entry.life.observe(
                            entry.held(),
                            scrape.number,
                            scrape.now,
                            scrape.timeout,
                        );
                        verdict == Verdict::Keep
                    },
                    |entry| removed.push(entry),
                );
                slot.len() > 0
            });
            if !removed.is_empty() {
                // ORDERING: Relaxed: see `get_or_create`.
                self.len.fetch_sub(removed.len(), Ordering::Relaxed);
                self.changed();
                release(&mut map);
            }
            drop(map);
            drop(removed);
        }
    }

    /// Step 3 of expiry: this scrape wrote every child.
    fn exposed_by(&self, scrape: Scrape) {
        for shard in &self.shards {
            let map = write(shard);
            for entry in map.values().flat_map(Slot::iter) {
                entry.life.exposed_by(scrape.number);
            }
        }
    }

    fn probe<'a>(&self, values: &'a [&'a str]) -> Probe<'a> {
        Probe {
            hash: self.hash(values.iter().copied()),
            values,
        }
    }

    fn hash<'v>(&self, values: impl Iterator<Item = &'v str>) -> u64 {
        // The hasher sees the values' bytes with `0xFF`, a byte UTF-8 never uses,
        // between them: with the number of values fixed, different values give
        // different input, so the last value needs no terminator (as `str::hash` would
        // write) and a lookup makes one `write` call fewer.
        let mut hasher = self.hasher.get_or_init(RandomState::new).build_hasher();
        let mut values = values.peekable();
        while let Some(value) = values.next() {
            hasher.write(value.as_bytes());
            if values.peek().is_some() {
                hasher.write_u8(0xFF);
            }
        }
        hasher.finish()
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
