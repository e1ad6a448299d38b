//! Where an exemplar lives: a slot of atomics, written by one observer at a time
//! (others drop theirs rather than wait) and read whole by a scrape. The protocol is
//! described at the top of `exemplar.rs`.

use core::fmt;

use crate::sample::exemplar::{CAPACITY, PackSink, pack, pack_checked};
use crate::sample::{EncodeLabels, Exemplar, ExemplarError};
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
        let written = self.write(value, timestamp, |words| {
            words.put(packed.get(..CAPACITY).unwrap_or(packed));
            Ok(())
        });
        written == Written::Stored
    }

    /// Replaces the exemplar with `labels`, checked (unless `checked`: they passed
    /// before) and packed straight into the slot, `value` and the timestamp
    /// `timestamp` returns, unless the slot is busy (then as
    /// [`store_with`](Self::store_with): [`Written::Busy`]). Labels refused while
    /// being written leave the slot empty.
    #[inline]
    pub(crate) fn store_labels(
        &self,
        labels: &dyn EncodeLabels,
        checked: bool,
        value: f64,
        timestamp: impl FnOnce() -> Option<f64>,
    ) -> Written {
        self.write(value, timestamp, |words| {
            if checked {
                pack_checked(labels, words)
            } else {
                pack(labels, words)
            }
        })
    }

    /// Takes the slot, has `fill` write the packed labels, then writes `value` and the
    /// timestamp and gives the slot back holding the new exemplar, or none if `fill`
    /// failed.
    #[inline]
    fn write(
        &self,
        value: f64,
        timestamp: impl FnOnce() -> Option<f64>,
        fill: impl FnOnce(&mut Words<'_>) -> Result<(), ExemplarError>,
    ) -> Written {
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
            return Written::Busy;
        }
        let mut words = Words {
            words: &self.words,
            len: 0,
            word: 0,
        };
        let filled = fill(&mut words);
        let len = words.finish();
        if let Err(error) = filled {
            // ORDERING: Release, as below: the words half-written are no exemplar.
            self.state.store(0, Ordering::Release);
            return Written::Refused(error);
        }
        let timestamp = timestamp().filter(|t| t.is_finite());
        // ORDERING: Relaxed, all of them: the slot is ours; the Release store below
        // publishes them.
        self.value.store(value.to_bits(), Ordering::Relaxed);
        self.timestamp
            .store(timestamp.unwrap_or(0.0).to_bits(), Ordering::Relaxed);
        self.len.store(len as u64, Ordering::Relaxed);
        let stamped = if timestamp.is_some() { STAMPED } else { 0 };
        // ORDERING: Release pairs with the Acquire that takes the slot next (a writer's
        // or a scrape's): it sees every word written above. It also publishes the
        // observation counted before this call to a scrape that reads this exemplar.
        self.state.store(PRESENT | stamped, Ordering::Release);
        Written::Stored
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

/// What [`Slot::store_labels`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Written {
    /// The slot holds the new exemplar.
    Stored,
    /// Another writer or a scrape held the slot: nothing was written or read.
    Busy,
    /// The labels broke a rule while being written: the slot now holds no exemplar.
    Refused(ExemplarError),
}

/// Packed labels written into a slot's words as they come, eight bytes a word,
/// little-endian; the slot is held by the writer.
pub(crate) struct Words<'s> {
    words: &'s [AtomicU64; WORDS],
    /// Bytes written so far.
    len: usize,
    /// The bytes of the word not yet full.
    word: u64,
}

impl Words<'_> {
    /// Stores the last, partly filled word; the bytes written.
    fn finish(self) -> usize {
        if self.len % 8 != 0 {
            if let Some(word) = self.words.get(self.len / 8) {
                // ORDERING: Relaxed: the holder's Release store publishes it.
                word.store(self.word, Ordering::Relaxed);
            }
        }
        self.len
    }
}

impl Words<'_> {
    /// Appends the low `n` (1 to 8) bytes of `bytes`, whose other bytes are zero: the
    /// word being filled takes what fits and is stored when full, the rest starts the
    /// next one.
    #[inline]
    fn append(&mut self, bytes: u64, n: usize) {
        let index = self.len / 8;
        let offset = self.len % 8;
        self.word |= bytes << (8 * offset);
        self.len += n;
        if offset + n >= 8 {
            if let Some(word) = self.words.get(index) {
                // ORDERING: Relaxed: the holder's Release store publishes it.
                word.store(self.word, Ordering::Relaxed);
            }
            // The bytes that did not fit (none when `offset` is 0: all eight did).
            self.word = if offset == 0 {
                0
            } else {
                bytes >> (64 - 8 * offset)
            };
        }
    }
}

impl PackSink for Words<'_> {
    #[inline]
    fn put(&mut self, bytes: &[u8]) -> bool {
        if self.len + bytes.len() > CAPACITY {
            return false;
        }
        let mut words = bytes.chunks_exact(8);
        for word in &mut words {
            let mut le = [0u8; 8];
            le.copy_from_slice(word);
            self.append(u64::from_le_bytes(le), 8);
        }
        let rest = words.remainder();
        if !rest.is_empty() {
            let mut le = [0u8; 8];
            for (to, from) in le.iter_mut().zip(rest) {
                *to = *from;
            }
            self.append(u64::from_le_bytes(le), rest.len());
        }
        true
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

#[cfg(all(test, not(loom)))]
mod tests {
    extern crate std;
    use std::string::String;
    use std::vec::Vec;

    use super::{Slot, Written};
    use crate::sample::Exemplar;
    use crate::sample::ExemplarError;
    use crate::sample::exemplar::check;
    use crate::sync::Ordering;

    #[test]
    fn labels_packed_into_the_words_read_back_as_an_exemplar_packs_them() {
        // Names and values of every length from 1 to 20 bytes, so pairs start and end
        // at every offset within a word.
        for len in 1..=20 {
            let name: String = "a".repeat(len);
            let value: String = "v".repeat(21 - len) + "é";
            let labels = [(name.as_str(), value.as_str()), ("b", "x")];
            check(&labels).unwrap();
            let slot = Slot::new();
            assert_eq!(
                slot.store_labels(&labels, true, 0.5, || Some(2.5)),
                Written::Stored
            );
            let stored = slot.load().unwrap();
            let expected = Exemplar::new(&labels, 0.5).unwrap().with_timestamp(2.5);
            assert_eq!(stored, expected);
            assert_eq!(
                stored.labels().collect::<Vec<_>>(),
                [(name.as_str(), value.as_str()), ("b", "x")]
            );
        }
    }

    #[test]
    fn a_busy_slot_stores_nothing_and_reads_no_clock() {
        let slot = Slot::new();
        slot.store_labels(&[("a", "1")], false, 1.0, || None);
        let held = slot.load();
        assert!(held.is_some());
        // Hold the slot as a writer would, then try to store.
        let state = slot.state.load(Ordering::Relaxed);
        slot.state.store(state | super::LOCKED, Ordering::Relaxed);
        let stored = slot.store_labels(&[("a", "2")], false, 2.0, || panic!("the clock was read"));
        assert_eq!(stored, Written::Busy);
        slot.state.store(state, Ordering::Relaxed);
        assert_eq!(slot.load(), held);
    }

    #[test]
    fn labels_refused_while_written_leave_the_slot_empty() {
        let slot = Slot::new();
        let long: String = "x".repeat(300);
        for (labels, checked, error) in [
            // Checked as they are written.
            (&[("1a", "x")][..], false, ExemplarError::InvalidName),
            (&[("a", long.as_str())][..], false, ExemplarError::TooLong),
            // Passed a check before, but do not fit now.
            (&[("a", long.as_str())][..], true, ExemplarError::TooLarge),
        ] {
            slot.store_labels(&[("a", "1")], false, 1.0, || None);
            assert!(slot.load().is_some());
            let written = slot.store_labels(&labels, checked, 2.0, || None);
            assert_eq!(written, Written::Refused(error));
            assert_eq!(slot.load(), None);
        }
    }
}
