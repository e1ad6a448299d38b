//! The sharded maps that find a family's children: [`Shard`]s of hash → [`Slot`], the
//! slot comparing full label values, and the lock helpers every family path uses.

use std::boxed::Box;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::vec::Vec;

use super::expiry::Life;
use super::key::Key;

/// Children by the hash of their values. The map compares hashes only; the [`Slot`]
/// under a hash compares the full values.
pub(super) type Shard<M> = HashMap<u64, Slot<M>, BuildHasherDefault<PassThrough>>;

/// 16 shards: enough that threads working on different children rarely share a lock
/// word (a read lock is still one atomic read-modify-write on it), few enough that a
/// family costs about a kilobyte empty. dashmap makes the same trade with
/// `4 × cores` rounded to a power of two; a fixed count keeps the type simple.
pub(super) const SHARDS: usize = 16;

pub(super) fn read<M>(shard: &RwLock<Shard<M>>) -> RwLockReadGuard<'_, Shard<M>> {
    read_lock(shard)
}

pub(super) fn write<M>(shard: &RwLock<Shard<M>>) -> RwLockWriteGuard<'_, Shard<M>> {
    write_lock(shard)
}

// A poisoned lock only means a thread panicked while holding it; no code here can
// leave a map half-updated (inserts and removals are single calls), so carry on.
pub(super) fn read_lock<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

pub(super) fn write_lock<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

/// The child for `probe` in `map`, if there is one.
#[inline]
pub(super) fn find<'m, M>(map: &'m Shard<M>, probe: &Probe<'_>) -> Option<&'m Entry<M>> {
    map.get(&probe.hash)?.get(probe.values)
}

/// Frees most of a map's room after removals: all of it once empty, and down to twice
/// its children once they fill under a quarter of it (the gap keeps a family whose
/// children come and go from reallocating at every scrape). So a family's memory
/// returns when its children expire.
pub(super) fn release<M>(map: &mut Shard<M>) {
    if map.len() < map.capacity() / 4 {
        map.shrink_to(map.len() * 2);
    }
}

/// One child in its shard: its packed values, its handle and its activity.
pub(super) struct Entry<M> {
    pub(super) key: Key,
    pub(super) child: Arc<M>,
    /// Read and written only when the family expires idle children.
    pub(super) life: Life,
}

impl<M> Entry<M> {
    pub(super) fn new(key: Key, child: Arc<M>) -> Self {
        Self {
            key,
            child,
            life: Life::new(),
        }
    }

    /// Whether a handle to the child exists outside the family (the shard's is the
    /// family's only strong one: scrapes hold `Weak`s). Exact under the shard's write
    /// lock, where no lookup is cloning it; a scrape upgrading its `Weak` at that
    /// instant counts too, which only delays expiry.
    pub(super) fn held(&self) -> bool {
        let held = Arc::strong_count(&self.child) > 1;
        // ORDERING: Acquire: a handle dropped outside the lock released its updates
        // (`Arc`'s drop is a `Release` decrement); this fence, after the load that saw
        // the count fall, makes them visible to the scrape that writes the value next.
        crate::sync::fence(crate::sync::Ordering::Acquire);
        held
    }
}

/// The children whose values have the same hash: one, unless 64-bit hashes collide.
pub(super) enum Slot<M> {
    One(Entry<M>),
    /// Invariant: at least two children, with different keys, except for the empty
    /// slot [`remove`](Self::remove) and [`retain`](Self::retain) leave for the map
    /// to drop. Boxed, not a `Vec`, so that it fits beside `One`'s niche and a slot
    /// takes no more room than `One`.
    Many(Box<[Entry<M>]>),
}

impl<M> Slot<M> {
    #[inline]
    pub(super) fn get(&self, values: &[&str]) -> Option<&Entry<M>> {
        match self {
            Self::One(entry) => entry.key.holds(values).then_some(entry),
            Self::Many(children) => children.iter().find(|entry| entry.key.holds(values)),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Self::One(..) => 1,
            Self::Many(children) => children.len(),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = &Entry<M>> {
        let (one, many) = match self {
            Self::One(entry) => (Some(entry), &[][..]),
            Self::Many(children) => (None, &children[..]),
        };
        one.into_iter().chain(many.iter())
    }

    /// Adds a child whose values are not in the slot yet.
    pub(super) fn push(&mut self, entry: Entry<M>) {
        let children = match core::mem::replace(self, Self::Many(Box::default())) {
            Self::One(first) => Box::from([first, entry]),
            Self::Many(children) => {
                let mut children = Vec::from(children);
                children.push(entry);
                children.into_boxed_slice()
            }
        };
        *self = Self::Many(children);
    }

    /// Removes the child for `values`, if the slot has it. Removing the only child
    /// leaves the slot empty (`len() == 0`): the caller removes it from the map.
    pub(super) fn remove(&mut self, values: &[&str]) -> Option<Arc<M>> {
        let mut removed = None;
        self.retain(
            |entry| !entry.key.holds(values),
            |entry| removed = Some(entry.child),
        );
        removed
    }

    /// Keeps the children `keep` accepts and hands each other one to `removed`.
    /// Removing every child leaves the slot empty (`len() == 0`): the caller removes
    /// it from the map. Allocates only when a slot of several children loses one.
    pub(super) fn retain(
        &mut self,
        mut keep: impl FnMut(&Entry<M>) -> bool,
        mut removed: impl FnMut(Entry<M>),
    ) {
        if self.iter().all(&mut keep) {
            return;
        }
        // Asked again below: `keep` says the same for the same child (its callers
        // decide under the shard's write lock, or by key identity).
        let children = match core::mem::replace(self, Self::Many(Box::default())) {
            Self::One(entry) => {
                removed(entry);
                return;
            }
            Self::Many(children) => children,
        };
        let mut kept = Vec::with_capacity(children.len());
        for entry in children {
            if keep(&entry) {
                kept.push(entry);
            } else {
                removed(entry);
            }
        }
        *self = if kept.len() == 1 {
            Self::One(kept.swap_remove(0))
        } else {
            // An empty `Many` does not allocate.
            Self::Many(kept.into_boxed_slice())
        };
    }
}

/// Label values being looked up, borrowed from the caller.
pub(super) struct Probe<'a> {
    pub(super) hash: u64,
    pub(super) values: &'a [&'a str],
}

impl Probe<'_> {
    /// Bits 32..36 of the hash pick the shard: the map inside uses the low bits for the
    /// bucket and the top seven for its tags, so these stay independent of both.
    pub(super) fn shard(&self) -> usize {
        Self::shard_of(self.hash)
    }

    /// The shard for values of this hash.
    pub(super) fn shard_of(hash: u64) -> usize {
        // Masked to 0..16: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let index = ((hash >> 32) as usize) % SHARDS;
        index
    }
}

/// The map's hasher: passes through the hash the family already computed, so values
/// are hashed once per lookup.
#[derive(Default)]
pub(super) struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is ever called (the map's keys are `u64`s); fold anything
        // else in rather than lose it.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, hash: u64) {
        self.0 = hash;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(value: &str, child: &Arc<i32>) -> Entry<i32> {
        Entry::new(Key::new(&[value]), Arc::clone(child))
    }

    #[test]
    fn a_slot_keeps_children_whose_hashes_collide_apart() {
        let (a, b, c) = (Arc::new(1), Arc::new(2), Arc::new(3));
        let mut slot = Slot::One(entry("a", &a));
        slot.push(entry("b", &b));
        slot.push(entry("c", &c));
        assert_eq!(slot.len(), 3);
        assert_eq!(slot.iter().count(), 3);
        assert!(slot.get(&["b"]).is_some_and(|e| Arc::ptr_eq(&e.child, &b)));
        assert!(slot.get(&["d"]).is_none());
        assert!(slot.remove(&["d"]).is_none());
        assert!(
            slot.remove(&["b"])
                .is_some_and(|child| Arc::ptr_eq(&child, &b))
        );
        assert!(
            slot.remove(&["a"])
                .is_some_and(|child| Arc::ptr_eq(&child, &a))
        );
        // Back to one child: removing it empties the slot.
        assert!(matches!(slot, Slot::One(..)));
        assert!(slot.get(&["c"]).is_some_and(|e| Arc::ptr_eq(&e.child, &c)));
        assert!(slot.remove(&["a"]).is_none());
        assert!(
            slot.remove(&["c"])
                .is_some_and(|child| Arc::ptr_eq(&child, &c))
        );
        assert_eq!(slot.len(), 0);
        assert!(slot.get(&["c"]).is_none());
    }

    #[test]
    fn retain_keeps_what_it_is_told_to() {
        let children: Vec<_> = (0..4).map(Arc::new).collect();
        let mut slot = Slot::One(entry("0", &children[0]));
        for (i, child) in children.iter().enumerate().skip(1) {
            slot.push(entry(&std::format!("{i}"), child));
        }
        let mut removed = Vec::new();
        slot.retain(|e| *e.child % 2 == 0, |e| removed.push(*e.child));
        assert_eq!(removed, [1, 3]);
        assert_eq!(slot.len(), 2);
        slot.retain(|e| *e.child == 2, |e| removed.push(*e.child));
        assert!(matches!(slot, Slot::One(..)));
        slot.retain(|_| false, |e| removed.push(*e.child));
        assert_eq!(slot.len(), 0);
        assert_eq!(removed, [1, 3, 0, 2]);
    }

    #[test]
    fn a_slot_is_no_larger_than_its_entry() {
        // The `Many` case lives in the niche of `One`'s key pointer: a map entry
        // (hash, slot) is 48 bytes on 64-bit targets (key, handle, two words of
        // activity).
        assert_eq!(size_of::<Slot<u64>>(), size_of::<Entry<u64>>());
    }
}
