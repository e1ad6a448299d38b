//! The duration series a finished request records into, cached per label set so the
//! common case skips the family: a hit hashes two words (the route template's address
//! and the packed small attributes), reads one slot with one `Acquire` load, compares
//! the key (integers, then the route's bytes) and borrows the child. No lock, no
//! reference count, no allocation.
//!
//! The protocol: [`SLOTS`] write-once slots (`OnceLock`s), open-addressed over
//! [`PROBES`] neighbours. A miss asks the family (one hash of the label values and a
//! shard read lock, as before the cache) and stores the child in the first empty slot
//! it probed; when all were taken, it records through the family's answer without
//! caching it. Slots are never emptied: that is correct because the layer never
//! removes a child from a family that has a cache (a full family's answer for a new
//! label set is its overflow child, for good; with an idle timeout, where children do
//! go, the layer has no cache: see `metrics.rs`), and bounded because the label sets
//! a request can produce are bounded by the family's limit. The cache is an index over the family,
//! never a second store: every child it holds is the family's, so what is exposed
//! does not change. Tested through the layer (`tower/tests/layer.rs`: exact counts
//! under concurrency, the overflow series; `tower/tests/alloc.rs`: a hit allocates
//! nothing) and by the unit tests below (collisions, a full neighbourhood).

use std::sync::OnceLock;

use crate::attributes::{ErrorType, Head, Labels as Key};
use crate::route::Route;

/// Slots per layer: 256, a power of two (the probe wraps with a mask). A service has a
/// few dozen routes × a handful of statuses in use; 256 keeps the table under a
/// quarter full for those, at 48 bytes a slot (12 KiB per layer).
const SLOTS: usize = 256;

/// Neighbours probed before a miss gives up on caching: 4, one 64-byte cache line of
/// slots and a bit. At a quarter full, linear probing finds an empty one among four
/// neighbours all but always (Knuth, TAOCP vol. 3, 6.4: expected probes for an
/// unsuccessful search ≈ (1 + 1/(1-α)²)/2 ≈ 1.4 at α = ¼).
const PROBES: usize = 4;

/// Mixes the key's words into a slot index: the route's address (templates are
/// the router's, so equal routes share it; a route that does not merely lands in
/// another slot) and the packed integers, through a multiplicative hash (Knuth's
/// golden-ratio constant, the top bits kept). Nobody outside the process chooses
/// these words, so the hash needs no key.
fn slot(key: &Key<'_>) -> usize {
    let words = (key.route.address() as u64)
        ^ (u64::from(key.head.packed()) << 48)
        ^ (u64::from(key.status) << 32)
        ^ ((key.error as u64) << 30);
    let mixed = words.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    // The top bits are the well-mixed ones; `SLOTS` is a power of two.
    (mixed >> (64 - SLOTS.trailing_zeros())) as usize
}

/// A slot's content: the key, its route owned, and its value.
struct Entry<V> {
    head: Head,
    status: u16,
    error: ErrorType,
    route: Route,
    value: V,
}

impl<V> Entry<V> {
    fn matches(&self, key: &Key<'_>) -> bool {
        self.head == key.head
            && self.status == key.status
            && self.error == key.error
            && self.route == *key.route
    }
}

/// The cache; see the module docs.
pub(crate) struct Cache<V> {
    /// Invariant: an entry lives in one of the [`PROBES`] slots following
    /// `key.slot()`, and is never replaced.
    slots: Box<[OnceLock<Entry<V>>]>,
}

impl<V: Clone> Cache<V> {
    pub(crate) fn new() -> Self {
        Self {
            slots: (0..SLOTS).map(|_| OnceLock::new()).collect(),
        }
    }

    /// Calls `use_value` with the value for `key`, from the cache, or else from `make`
    /// (then cached when one of its slots is free: a miss costs `make` and a clone).
    pub(crate) fn with<R>(
        &self,
        key: &Key<'_>,
        make: impl FnOnce() -> V,
        use_value: impl FnOnce(&V) -> R,
    ) -> R {
        let first = slot(key);
        let mut free = None;
        for probe in 0..PROBES {
            let slot = &self.slots[(first + probe) & (SLOTS - 1)];
            match slot.get() {
                Some(entry) if entry.matches(key) => return use_value(&entry.value),
                Some(_) => {}
                None => {
                    free = Some(slot);
                    break;
                }
            }
        }
        let value = make();
        let Some(slot) = free else {
            return use_value(&value);
        };
        // Another thread may fill the slot first (with this key or another): then
        // this value goes uncached; it is the family's child either way.
        let _ = slot.set(Entry {
            head: key.head,
            status: key.status,
            error: key.error,
            route: key.route.clone(),
            value: value.clone(),
        });
        use_value(&value)
    }
}

#[cfg(test)]
mod tests {
    use http::{Method, Version};

    use super::*;

    static ROUTE: Route = Route::Template("/users/{id}");

    fn key(status: u16) -> Key<'static> {
        Key {
            head: Head::new(&Method::GET, Version::HTTP_11, false),
            status,
            error: ErrorType::None,
            route: &ROUTE,
        }
    }

    #[test]
    fn a_key_is_made_once_then_found() {
        let cache = Cache::new();
        let mut made = 0;
        for _ in 0..3 {
            let value = cache.with(
                &key(200),
                || {
                    made += 1;
                    7
                },
                |&value| value,
            );
            assert_eq!(value, 7);
        }
        assert_eq!(made, 1);
        assert_eq!(cache.with(&key(404), || 8, |&value| value), 8);
        assert_eq!(cache.with(&key(200), || 0, |&value| value), 7);
    }

    #[test]
    fn equal_keys_with_other_addresses_are_equal() {
        let cache = Cache::new();
        let owned = String::from("/users/{id}");
        let leaked: &'static str = Box::leak(owned.into_boxed_str());
        let route = Route::Template(leaked);
        let other = Key {
            route: &route,
            ..key(200)
        };
        assert!(*other.route == ROUTE && other.route.address() != ROUTE.address());
        cache.with(&key(200), || 1, |_| ());
        // Another address hashes elsewhere: a miss, answered by `make` (the family,
        // which returns the same child), never a wrong value.
        assert_eq!(cache.with(&other, || 1, |&value| value), 1);
    }

    #[test]
    fn a_full_neighbourhood_still_answers() {
        let cache = Cache::new();
        // Far more keys than slots: every one answers its own value, cached or not.
        for status in 100..1000 {
            assert_eq!(cache.with(&key(status), || status, |&value| value), status);
        }
        for status in 100..1000 {
            assert_eq!(cache.with(&key(status), || status, |&value| value), status);
        }
    }

    #[test]
    fn threads_racing_for_slots_each_get_their_own_value() {
        let cache = Cache::new();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..3 {
                        for status in 100..600 {
                            let value = cache.with(&key(status), || status, |&value| value);
                            assert_eq!(value, status, "round {round}");
                        }
                    }
                });
            }
        });
    }
}
