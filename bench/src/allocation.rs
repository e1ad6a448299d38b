//! A counting global allocator, for allocations per scrape (case 6) and per new label
//! child and bytes per series (case 8).
//!
//! Bench programs install it with `#[global_allocator]`; [`totals`] then reads how many
//! allocations were made and how many bytes were allocated and freed so far, from every
//! thread. It wraps [`System`] and only adds three relaxed counters.
//!
//! This module uses `unsafe` because `GlobalAlloc` is an unsafe trait; each method only
//! forwards to `System` with the caller's own arguments.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

// Relaxed throughout: the counters are totals read after the measured code finished on
// the same thread (or after joining), and they publish nothing else.
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);
static ALLOCATED_BYTES: AtomicU64 = AtomicU64::new(0);
static FREED_BYTES: AtomicU64 = AtomicU64::new(0);

/// The system allocator, counting. A `realloc` counts as one allocation of the new
/// size and a free of the old one.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counting;

fn count_allocation(bytes: usize) {
    ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
    ALLOCATED_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

fn count_free(bytes: usize) {
    FREED_BYTES.fetch_add(bytes as u64, Ordering::Relaxed);
}

// SAFETY: every method forwards to `System`, which upholds `GlobalAlloc`'s contract,
// with the arguments it was given; the counters do not touch the memory.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: the caller's obligations for `alloc` are passed on unchanged.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count_allocation(layout.size());
        // SAFETY: the caller's obligations for `alloc_zeroed` are passed on unchanged.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count_free(layout.size());
        // SAFETY: the caller's obligations for `dealloc` are passed on unchanged.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_free(layout.size());
        count_allocation(new_size);
        // SAFETY: the caller's obligations for `realloc` are passed on unchanged.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocation totals since the program started (all zero unless [`Counting`] is the
/// global allocator).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Totals {
    /// Allocations (including reallocations) made.
    pub allocations: u64,
    /// Bytes requested by those allocations.
    pub allocated_bytes: u64,
    /// Bytes freed (including the old blocks of reallocations).
    pub freed_bytes: u64,
}

impl Totals {
    /// What happened between `earlier` and `self`.
    #[must_use]
    pub fn since(self, earlier: Self) -> Self {
        Self {
            allocations: self.allocations - earlier.allocations,
            allocated_bytes: self.allocated_bytes - earlier.allocated_bytes,
            freed_bytes: self.freed_bytes - earlier.freed_bytes,
        }
    }

    /// Bytes still allocated out of those counted (allocated minus freed), which can be
    /// negative over an interval that freed older memory.
    #[must_use]
    pub fn retained_bytes(self) -> i64 {
        self.allocated_bytes as i64 - self.freed_bytes as i64
    }
}

/// The totals so far.
#[must_use]
pub fn totals() -> Totals {
    Totals {
        allocations: ALLOCATIONS.load(Ordering::Relaxed),
        allocated_bytes: ALLOCATED_BYTES.load(Ordering::Relaxed),
        freed_bytes: FREED_BYTES.load(Ordering::Relaxed),
    }
}

#[cfg(test)]
mod tests {
    use super::{Counting, totals};

    #[global_allocator]
    static ALLOCATOR: Counting = Counting;

    #[test]
    fn counts_this_threads_allocations() {
        // Other test threads allocate too, so check lower bounds only.
        let before = totals();
        let buffer: Vec<u8> = Vec::with_capacity(4096);
        let during = totals().since(before);
        drop(buffer);
        let after = totals().since(before);
        assert!(during.allocations >= 1);
        assert!(during.allocated_bytes >= 4096);
        assert!(after.freed_bytes >= 4096);
    }
}
