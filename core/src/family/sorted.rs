//! A family's children in exposition order, cached between scrapes.
//!
//! Protocol: every change to the set of children (a creation, a removal, a clear)
//! increments the family's *generation* under the write lock of the shard it changes.
//! A scrape locks the cache, takes every shard's *read* lock (so no change is under
//! way, and it sees the latest generation) and compares generations: equal, the cached
//! list is still exact and the scrape takes it (an `Arc` clone, no allocation);
//! different, it copies the children's keys and *weak* handles into one new
//! exactly-sized slice (one allocation), releases the shard locks, sorts the slice by
//! label values and caches it. Either way the scrape then writes from its own `Arc` of
//! the list, so no lock is held while the writer runs. The list holds `Weak`s so that
//! a child's strong count says whether a handle exists outside the family (expiry
//! needs that); a scrape upgrades each while it writes it, and skips a child removed
//! and dropped since. A removed child's memory goes with the last list that holds it,
//! outside every lock.
//!
//! Cost: a scrape of an unchanged family allocates nothing, sorts nothing and decodes
//! nothing (label values are read straight from the packed keys as they are written);
//! a changed one allocates once and sorts once. Lookups never touch the cache; a
//! creation or removal waits, at most, for a scrape's copy of the handles.

use std::sync::{Arc, Mutex, PoisonError, RwLock, Weak};

use super::key::Key;
use super::shard::{SHARDS, Shard, Slot, read};

/// One child in the list: its packed values and a weak handle.
pub(super) type Child<M> = (Key, Weak<M>);

/// The list a scrape walks. `None` only while it is being filled.
pub(super) type Children<M> = Arc<[Option<Child<M>>]>;

/// The cached exposition order of a family's children.
pub(super) struct Sorted<M> {
    cache: Mutex<Cache<M>>,
}

struct Cache<M> {
    /// The list and the generation it was built at; `None` before the first scrape.
    /// Invariant: when that generation equals the family's, the list holds every child
    /// of the family, once, sorted by [`Key::cmp_values`].
    built: Option<(u64, Children<M>)>,
}

impl<M> Sorted<M> {
    /// An empty cache; `const` so that a family can be a `static`, and allocating
    /// nothing before the first scrape.
    pub(super) const fn new() -> Self {
        Self {
            cache: Mutex::new(Cache { built: None }),
        }
    }

    /// The children of `shards` in exposition order; `generation` reads the family's
    /// generation (called with every shard read-locked).
    pub(super) fn get(
        &self,
        shards: &[RwLock<Shard<M>>; SHARDS],
        generation: impl FnOnce() -> u64,
    ) -> Children<M> {
        // A poisoned cache only means a scrape panicked while holding it; the cache is
        // replaced whole, never left half-written.
        let mut cache = self.cache.lock().unwrap_or_else(PoisonError::into_inner);
        let maps: [_; SHARDS] = core::array::from_fn(|index| read(&shards[index]));
        let now = generation();
        if let Some((_, children)) = cache.built.as_ref().filter(|(built, _)| *built == now) {
            return Arc::clone(children);
        }
        let count = maps
            .iter()
            .map(|map| map.values().map(Slot::len).sum::<usize>())
            .sum();
        // Collected from an exact-length iterator: one allocation for the whole list.
        let mut fresh: Children<M> = (0..count).map(|_| None).collect();
        if let Some(slots) = Arc::get_mut(&mut fresh) {
            let children = maps
                .iter()
                .flat_map(|map| map.values().flat_map(Slot::iter));
            for (slot, entry) in slots.iter_mut().zip(children) {
                *slot = Some((entry.key.clone(), Arc::downgrade(&entry.child)));
            }
            drop(maps);
            // Keys are distinct, so an unstable sort gives the one order; it sorts in
            // place, allocating nothing.
            slots.sort_unstable_by(|a, b| match (a, b) {
                (Some((a, _)), Some((b, _))) => a.cmp_values(b),
                _ => core::cmp::Ordering::Equal,
            });
        }
        let stale = cache.built.replace((now, Arc::clone(&fresh)));
        drop(cache);
        // Children removed since the last scrape may drop here, with no lock held.
        drop(stale);
        fresh
    }
}
