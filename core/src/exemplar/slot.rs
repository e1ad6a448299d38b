//! Where an exemplar lives: a slot of atomics, written by one observer at a time
//! (others drop theirs rather than wait) and read whole by a scrape. The protocol is
//! described at the top of `exemplar.rs`.

use core::fmt;

use crate::sample::Exemplar;
use crate::sample::exemplar::CAPACITY;
use crate::sync::{AtomicU64, Ordering, const_fn, zeroed};

/// Words of packed labels a slot holds.
const WORDS: usize = CAPACITY / 8;

/// `state`: a writer or a scrape holds the slot.
const LOCKED: u64 = 1;
/// `state`: the slot holds an exemplar.
const PRESENT: u64 = 2;
/// `state`: the exemplar has a timestamp.
const STAMPED: u64 = 4;

/// One exemplar's storage.
pub(crate) struct Slot {
    /// `LOCKED | PRESENT | STAMPED` bits. Invariant: the other fields are read and
    /// written only by the holder of `LOCKED`, which it takes with an `Acquire`
    /// read-modify-write and gives back with a `Release` store.
    state: AtomicU64,
    /// Bits of the observed `f64`.
    value: AtomicU64,
    /// Bits of the `f64` timestamp, meaningful under `STAMPED`.
    timestamp: AtomicU64,
    /// Bytes of packed labels in `words`; at most [`CAPACITY`].
    len: AtomicU64,
    /// The packed labels, eight bytes a word, little-endian.
    words: [AtomicU64; WORDS],
}

impl Slot {
    const_fn! {
        pub(crate) const fn new() -> Self {
            Self {
                state: AtomicU64::new(0),
                value: AtomicU64::new(0),
                timestamp: AtomicU64::new(0),
                len: AtomicU64::new(0),
                words: zeroed(),
            }
        }
    }

    /// Replaces the exemplar, unless the slot is busy (another writer, or a scrape
    /// reading it): then `exemplar` is dropped and `false` returned. Never waits.
    #[inline]
    pub(crate) fn store(&self, exemplar: &Exemplar) -> bool {
        self.store_with(exemplar.packed(), exemplar.value(), || exemplar.timestamp())
    }

    /// Replaces the exemplar with `packed` labels (as [`Exemplar::packed`] returns
    /// them), `value` and the timestamp `timestamp` returns (a finite one, or none),
    /// unless the slot is busy: then nothing is stored, `timestamp` is not called and
    /// `false` is returned. Never waits.
    #[inline]
    pub(crate) fn store_with(
        &self,
        packed: &[u8],
        value: f64,
        timestamp: impl FnOnce() -> Option<f64>,
    ) -> bool {
        // ORDERING: Relaxed: only seeds the exchange below, which rechecks it.
        let state = self.state.load(Ordering::Relaxed);
        // ORDERING: Acquire pairs with the Release stores that give the slot back (here
        // and in `load`): the previous holder's reads and writes of the words happen
        // before ours. Relaxed on failure: the slot is busy and nothing was read.
        if state & LOCKED != 0
            || self
                .state
                .compare_exchange(state, state | LOCKED, Ordering::Acquire, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        let timestamp = timestamp().filter(|t| t.is_finite());
        // ORDERING: Relaxed, all of them: the slot is ours; the Release store below
        // publishes them.
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.timestamp
            .store(timestamp.unwrap_or(0.0).to_bits(), Ordering::Relaxed);
        let packed = packed.get(..CAPACITY).unwrap_or(packed);
        self.len.store(packed.len() as u64, Ordering::Relaxed);
        for (word, bytes) in self.words.iter().zip(packed.chunks(8)) {
            let mut le = [0u8; 8];
            le[..bytes.len()].copy_from_slice(bytes);
            word.store(u64::from_le_bytes(le), Ordering::Relaxed);
        }
        let stamped = if timestamp.is_some() { STAMPED } else { 0 };
        // ORDERING: Release pairs with the Acquire that takes the slot next (a writer's
        // or a scrape's): it sees every word written above. It also publishes the
        // observation counted before this call to a scrape that reads this exemplar.
        self.state.store(PRESENT | stamped, Ordering::Release);
        true
    }

    /// The exemplar, read whole, or `None` if there is none or a writer is replacing
    /// it at this instant (the next read shows the new one). Never waits.
    pub(crate) fn load(&self) -> Option<Exemplar> {
        // ORDERING: Relaxed: only seeds the exchange below, which rechecks it; a slot
        // never written needs no lock to say so, and one being written is read next
        // scrape.
        let state = self.state.load(Ordering::Relaxed);
        if state & PRESENT == 0 || state & LOCKED != 0 {
            return None;
        }
        // ORDERING: Acquire pairs with the Release store that gave the slot back: the
        // last writer's words are visible. Relaxed on failure: nothing was read.
        if self
            .state
            .compare_exchange(state, state | LOCKED, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            return None;
        }
        let exemplar = (state & PRESENT != 0).then(|| self.read(state & STAMPED != 0));
        // ORDERING: Release pairs with the next holder's Acquire: our reads happen
        // before its writes.
        self.state.store(state, Ordering::Release);
        exemplar
    }

    /// The timestamp of the exemplar last stored, read without taking the slot: a hint
    /// for sampling, which a concurrent writer may make stale at once.
    #[cfg(all(feature = "std", not(loom)))]
    pub(crate) fn last_timestamp(&self) -> Option<f64> {
        // ORDERING: Relaxed, both: only a sampling decision depends on them, and a
        // stale or mismatched pair only stores one exemplar more or fewer.
        let state = self.state.load(Ordering::Relaxed);
        (state & STAMPED != 0).then(|| f64::from_bits(self.timestamp.load(Ordering::Relaxed)))
    }

    /// Copies the words out; the caller holds the slot.
    fn read(&self, stamped: bool) -> Exemplar {
        // ORDERING: Relaxed, all of them: the Acquire that took the slot ordered them
        // after the last writer's.
        let value = f64::from_bits(self.value.load(Ordering::Relaxed));
        let timestamp = f64::from_bits(self.timestamp.load(Ordering::Relaxed));
        let len = usize::try_from(self.len.load(Ordering::Relaxed))
            .unwrap_or(CAPACITY)
            .min(CAPACITY);
        let mut packed = [0u8; CAPACITY];
        for (bytes, word) in packed[..len].chunks_mut(8).zip(&self.words) {
            let le = word.load(Ordering::Relaxed).to_le_bytes();
            bytes.copy_from_slice(&le[..bytes.len()]);
        }
        Exemplar::from_packed(packed, len, value, stamped.then_some(timestamp))
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Slot").finish_non_exhaustive()
    }
}

const_fn! {
    /// An array of empty slots.
    pub(crate) const fn slots<const N: usize>() -> [Slot; N] {
        #[cfg(not(loom))]
        return [const { Slot::new() }; N];
        #[cfg(loom)]
        return core::array::from_fn(|_| Slot::new());
    }
}
