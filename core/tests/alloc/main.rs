//! Allocation accounting: the core's hot paths, label families and instrumented
//! futures, measured by one counting global allocator. A binary of its own because
//! the allocator is process-wide (it slows no other test); the counts are per thread,
//! so the tests here, running in parallel, do not disturb each other, and the test
//! harness's own threads (output capture, timing) do not count.
//!
//! This binary opts into `unsafe` for exactly one thing, implementing `GlobalAlloc`
//! by forwarding to the system allocator.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

mod family;
mod instrument;
mod metrics;
mod otlp;
mod remote_write;

struct Counting;

thread_local! {
    /// Allocation calls (`alloc`, `alloc_zeroed`, `realloc`) made by this thread.
    static CALLS: Cell<u64> = const { Cell::new(0) };
    /// Bytes this thread allocated minus bytes it freed.
    static LIVE: Cell<i64> = const { Cell::new(0) };
}

fn track(calls: u64, bytes: i64) {
    // `try_with`: during thread teardown the cells may be gone; such calls are not ours.
    let _ = CALLS.try_with(|c| c.set(c.get() + calls));
    let _ = LIVE.try_with(|l| l.set(l.get() + bytes));
}

fn size(layout: Layout) -> i64 {
    i64::try_from(layout.size()).unwrap_or(i64::MAX)
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged, so
// `System`'s guarantees carry over; the bookkeeping touches only `const`-initialised
// thread-locals without destructors, which never allocate.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        track(1, size(layout));
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        track(0, -size(layout));
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        track(1, size(layout));
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        track(
            1,
            i64::try_from(new_size).unwrap_or(i64::MAX) - size(layout),
        );
        // SAFETY: forwarded unchanged (see the impl).
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocation calls this thread has made so far.
fn allocations() -> u64 {
    CALLS.with(Cell::get)
}

/// `(f's output, allocation calls, net bytes)` of this thread while running `f`.
#[cfg(feature = "std")]
fn measure<T>(f: impl FnOnce() -> T) -> (T, u64, i64) {
    let (calls, live) = (CALLS.with(Cell::get), LIVE.with(Cell::get));
    let out = f();
    (
        out,
        CALLS.with(Cell::get) - calls,
        LIVE.with(Cell::get) - live,
    )
}

/// Allocation calls this thread makes while `f` runs.
#[cfg(all(feature = "std", not(loom)))]
fn allocations_during(f: impl FnOnce()) -> u64 {
    measure(f).1
}
