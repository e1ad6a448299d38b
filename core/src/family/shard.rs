//! The sharded maps that find a family's children: [`Shard`]s of hash → [`Slot`], the
//! slot comparing full label values, and the lock helpers every family path uses.

use std::boxed::Box;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::vec::Vec;

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
pub(super) fn find<'m, M>(map: &'m Shard<M>, probe: &Probe<'_>) -> Option<&'m Arc<M>> {
    map.get(&probe.hash)?.get(probe.values)
}

/// The children whose values have the same hash: one, unless 64-bit hashes collide.
pub(super) enum Slot<M> {
    One(Key, Arc<M>),
    /// Invariant: at least two children, with different keys, except for the empty
    /// slot [`remove`](Self::remove) leaves for the map to drop. Boxed, not a `Vec`, so
    /// that it fits beside `One`'s niche and a slot takes no more room than `One`.
    Many(Box<[(Key, Arc<M>)]>),
}

impl<M> Slot<M> {
    #[inline]
    pub(super) fn get(&self, values: &[&str]) -> Option<&Arc<M>> {
        match self {
            Self::One(key, child) => key.holds(values).then_some(child),
            Self::Many(children) => children
                .iter()
                .find_map(|(key, child)| key.holds(values).then_some(child)),
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Self::One(..) => 1,
            Self::Many(children) => children.len(),
        }
    }

    pub(super) fn iter(&self) -> impl Iterator<Item = (&Key, &Arc<M>)> {
        let (one, many) = match self {
            Self::One(key, child) => (Some((key, child)), &[][..]),
            Self::Many(children) => (None, &children[..]),
        };
        one.into_iter()
            .chain(many.iter().map(|(key, child)| (key, child)))
    }

    /// Adds a child whose values are not in the slot yet.
    pub(super) fn push(&mut self, key: Key, child: Arc<M>) {
        let children = match core::mem::replace(self, Self::Many(Box::default())) {
            Self::One(first_key, first) => Box::from([(first_key, first), (key, child)]),
            Self::Many(children) => {
                let mut children = Vec::from(children);
                children.push((key, child));
                children.into_boxed_slice()
            }
        };
        *self = Self::Many(children);
    }

    /// Removes the child for `values`, if the slot has it. Removing the only child
    /// leaves the slot empty (`len() == 0`): the caller removes it from the map.
    pub(super) fn remove(&mut self, values: &[&str]) -> Option<Arc<M>> {
        let index = self.iter().position(|(key, _)| key.holds(values))?;
        // An empty `Many` does not allocate.
        let mut children = match core::mem::replace(self, Self::Many(Box::default())) {
            Self::One(key, child) => Vec::from([(key, child)]),
            Self::Many(children) => Vec::from(children),
        };
        let (_, child) = children.swap_remove(index);
        *self = if children.len() == 1 {
            let (key, last) = children.swap_remove(0);
            Self::One(key, last)
        } else {
            Self::Many(children.into_boxed_slice())
        };
        Some(child)
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
        // Masked to 0..16: the cast cannot truncate.
        #[allow(clippy::cast_possible_truncation)]
        let index = ((self.hash >> 32) as usize) % SHARDS;
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

    fn packed(values: &[&str]) -> Key {
        Key::new(values)
    }

    #[test]
    fn a_slot_keeps_children_whose_hashes_collide_apart() {
        let (a, b, c) = (Arc::new(1), Arc::new(2), Arc::new(3));
        let mut slot = Slot::One(packed(&["a"]), Arc::clone(&a));
        slot.push(packed(&["b"]), Arc::clone(&b));
        slot.push(packed(&["c"]), Arc::clone(&c));
        assert_eq!(slot.len(), 3);
        assert_eq!(slot.iter().count(), 3);
        assert!(slot.get(&["b"]).is_some_and(|child| Arc::ptr_eq(child, &b)));
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
        assert!(slot.get(&["c"]).is_some_and(|child| Arc::ptr_eq(child, &c)));
        assert!(slot.remove(&["a"]).is_none());
        assert!(
            slot.remove(&["c"])
                .is_some_and(|child| Arc::ptr_eq(&child, &c))
        );
        assert_eq!(slot.len(), 0);
        assert!(slot.get(&["c"]).is_none());
    }

    #[test]
    fn a_slot_is_no_larger_than_a_key_and_a_handle() {
        // The `Many` case lives in the niche of `One`'s key pointer: a map entry
        // (hash, slot) stays 32 bytes on 64-bit targets.
        assert_eq!(size_of::<Slot<u64>>(), size_of::<(Key, Arc<u64>)>());
    }
}
