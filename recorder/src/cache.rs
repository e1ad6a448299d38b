//! The handle cache: a recorded `Key` (name and labels, as the call site gave them) to
//! the series it resolved to, so a repeated `counter!(…)` skips the name map, the
//! label-set match and the family lookup.
//!
//! The facade asks the recorder for a handle on every macro call; each `Key` carries
//! a hash computed once (at compile time for literal keys), so a lookup here is one
//! shard's read lock, one probe by that hash, one key comparison and an `Arc` clone.
//!
//! Entries are never invalidated: without an idle timeout a family never removes a
//! child, so a cached child is the one a fresh lookup would find. With one, the
//! recorder has no cache at all: a cached handle is a live handle, which would keep
//! its child from expiring (and a weak one would skip the lookup that tells the
//! family the child is used). The cache is
//! bounded ([`SHARDS`] × [`SHARD_CAPACITY`] keys): once a shard is full, further keys
//! are served by the full lookup, uncached, so label values beyond the families'
//! limits cannot grow it. The key hash is `metrics`' fixed-seed hash, so keys chosen
//! to collide cost at most a scan of one full shard.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};
use std::sync::{Arc, PoisonError, RwLock};

use metrics::Key;

use crate::child::{CounterChild, GaugeChild, HistogramChild};

/// Shards, so threads recording different series rarely share a lock word.
const SHARDS: usize = 16;

/// Keys per shard: 16 384 keys in all, each a clone of the recorded `Key` (its label
/// strings, when they are not `'static`) and an `Arc`: a few MB at most with short
/// labels.
const SHARD_CAPACITY: usize = 1024;

/// A resolved series.
#[derive(Clone)]
pub(crate) enum Handle {
    Counter(Arc<CounterChild>),
    Gauge(Arc<GaugeChild>),
    Histogram(Arc<HistogramChild>),
}

/// See the module docs.
pub(crate) struct Cache {
    shards: [RwLock<Shard>; SHARDS],
}

type Shard = HashMap<Key, Handle, BuildHasherDefault<KeyHash>>;

impl Cache {
    pub(crate) fn new() -> Self {
        Self {
            shards: std::array::from_fn(|_| RwLock::new(Shard::default())),
        }
    }

    /// The handle cached for `key`.
    pub(crate) fn get(&self, key: &Key) -> Option<Handle> {
        self.shard(key)
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .cloned()
    }

    /// Caches `handle` for `key`, unless the shard is full.
    pub(crate) fn insert(&self, key: &Key, handle: Handle) {
        let mut shard = self
            .shard(key)
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if shard.len() < SHARD_CAPACITY {
            shard.entry(key.clone()).or_insert(handle);
        }
    }

    fn shard(&self, key: &Key) -> &RwLock<Shard> {
        // The top bits: the map uses the low ones.
        #[allow(clippy::cast_possible_truncation)]
        let index = (key.get_hash() >> 60) as usize % SHARDS;
        &self.shards[index]
    }
}

/// Passes `Key`'s own precomputed hash through (its `Hash` writes exactly one `u64`).
#[derive(Default)]
pub(crate) struct KeyHash(u64);

impl Hasher for KeyHash {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Not reached with `Key`; folds bytes in so the hasher stays correct anyway.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}
