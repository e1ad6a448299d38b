//! The one place that names atomic types.
//!
//! Everything else in the crate imports atomics from here, so the backing implementation
//! can be switched in one spot:
//!
//! - targets with native 64-bit and pointer-sized atomics use `core::sync::atomic`;
//! - targets without them (`thumbv7m-none-eabi` lacks 64-bit atomics, `thumbv6m-none-eabi`
//!   lacks compare-and-swap altogether) use `portable-atomic`, which Cargo pulls in only
//!   for those targets (see `core/Cargo.toml`);
//! - `--cfg loom` swaps in loom's model-checked atomics for `core/tests/loom.rs`.
//!
//! Loom's atomics have no `const fn new`, so constructors that must stay `const` for
//! `static` metrics are declared with [`const_fn!`], which drops the `const` under loom.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicBool, AtomicI64, AtomicPtr, AtomicU64};

#[cfg(all(not(loom), target_has_atomic = "64"))]
pub(crate) use core::sync::atomic::{AtomicI64, AtomicU64};
#[cfg(all(not(loom), not(target_has_atomic = "64")))]
pub(crate) use portable_atomic::{AtomicI64, AtomicU64};

#[cfg(all(not(loom), target_has_atomic = "ptr"))]
pub(crate) use core::sync::atomic::{AtomicBool, AtomicPtr};
#[cfg(all(not(loom), not(target_has_atomic = "ptr")))]
pub(crate) use portable_atomic::{AtomicBool, AtomicPtr};
// Label families (`std` only) count their children in a pointer-sized word.
#[cfg(all(not(loom), feature = "std", target_has_atomic = "ptr"))]
pub(crate) use core::sync::atomic::AtomicUsize;
#[cfg(all(not(loom), feature = "std", not(target_has_atomic = "ptr")))]
pub(crate) use portable_atomic::AtomicUsize;

pub(crate) use core::sync::atomic::Ordering;
#[cfg(not(loom))]
pub(crate) use core::sync::atomic::fence;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::fence;

/// A cell written without synchronisation of its own: `core::cell::UnsafeCell`, or
/// under loom loom's, which reports an access that races with another (the registry's
/// publication of a node's entry is checked that way). Accessed through closures, as
/// loom requires.
#[cfg(not(loom))]
pub(crate) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(loom))]
impl<T> UnsafeCell<T> {
    pub(crate) const fn new(value: T) -> Self {
        Self(core::cell::UnsafeCell::new(value))
    }

    /// Runs `f` with a pointer for reading the value.
    pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing the value.
    pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

#[cfg(loom)]
pub(crate) use loom::cell::UnsafeCell;

/// Declares a `const fn` that loses its `const` under `--cfg loom`, whose atomics cannot be
/// built in a constant context.
macro_rules! const_fn {
    ($(#[$attr:meta])* $vis:vis const fn $($rest:tt)*) => {
        #[cfg(not(loom))]
        $(#[$attr])* $vis const fn $($rest)*
        #[cfg(loom)]
        $(#[$attr])* $vis fn $($rest)*
    };
}
pub(crate) use const_fn;

const_fn! {
    /// An array of zeroed counters.
    pub(crate) const fn zeroed<const N: usize>() -> [AtomicU64; N] {
        #[cfg(not(loom))]
        return [const { AtomicU64::new(0) }; N];
        #[cfg(loom)]
        return core::array::from_fn(|_| AtomicU64::new(0));
    }
}

const_fn! {
    /// `K` rows of `N` zeroed counters.
    pub(crate) const fn zeroed_rows<const N: usize, const K: usize>() -> [[AtomicU64; N]; K] {
        #[cfg(not(loom))]
        return [const { zeroed() }; K];
        #[cfg(loom)]
        return core::array::from_fn(|_| zeroed());
    }
}

/// Adds `delta` to an `f64` stored as bits in `cell`.
///
/// A compare-and-swap loop: no target has a native floating-point fetch-add in
/// `core` (client_golang's `atomicAddFloat` does the same).
#[inline]
pub(crate) fn add_f64(cell: &AtomicU64, delta: f64) {
    // ORDERING: Relaxed: the cell is a standalone value with nothing to publish.
    add_f64_with(cell, delta, Ordering::Relaxed);
}

/// [`add_f64`] whose successful exchange has the ordering `success` (the caller says
/// what it publishes); failed attempts only reload the value, so they are `Relaxed`.
#[inline]
pub(crate) fn add_f64_with(cell: &AtomicU64, delta: f64, success: Ordering) {
    // ORDERING: Relaxed: the first read only seeds the exchange, which rereads the cell.
    let mut current = cell.load(Ordering::Relaxed);
    loop {
        let new = (f64::from_bits(current) + delta).to_bits();
        match cell.compare_exchange_weak(current, new, success, Ordering::Relaxed) {
            Ok(_) => return,
            Err(actual) => current = actual,
        }
    }
}

/// A tiny spin lock for rare, short critical sections (registration, histogram
/// collection). Observers never take it.
///
/// Under loom it is loom's `Mutex`, which the model checker schedules natively instead
/// of exploring every spin.
pub(crate) struct SpinLock {
    /// Invariant: `true` while a [`SpinGuard`] exists.
    #[cfg(not(loom))]
    locked: AtomicBool,
    #[cfg(loom)]
    mutex: loom::sync::Mutex<()>,
}

impl SpinLock {
    const_fn! {
        pub(crate) const fn new() -> Self {
            #[cfg(not(loom))]
            return Self { locked: AtomicBool::new(false) };
            #[cfg(loom)]
            return Self { mutex: loom::sync::Mutex::new(()) };
        }
    }

    #[cfg(not(loom))]
    pub(crate) fn lock(&self) -> SpinGuard<'_> {
        let mut spins = 0u32;
        // ORDERING: Acquire pairs with the Release store in `SpinGuard::drop`, so the
        // previous holder's writes are visible to the next one.
        while self
            .locked
            .compare_exchange_weak(false, true, Ordering::Acquire, Ordering::Relaxed)
            .is_err()
        {
            spins = spins.wrapping_add(1);
            backoff(spins);
        }
        SpinGuard { lock: self }
    }

    #[cfg(loom)]
    pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, ()> {
        self.mutex
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(not(loom))]
pub(crate) struct SpinGuard<'a> {
    lock: &'a SpinLock,
}

#[cfg(not(loom))]
impl Drop for SpinGuard<'_> {
    fn drop(&mut self) {
        // ORDERING: Release pairs with the Acquire in `SpinLock::lock`.
        self.lock.locked.store(false, Ordering::Release);
    }
}

/// Where a histogram collector sleeps while observations it must include are in
/// flight, and how the observer that completes one wakes it (`histogram.rs` has the
/// protocol).
///
/// With `std` the collector parks its thread and leaves a handle here; an observer takes
/// it with a *try*-read, so an observer never waits for anyone: the read can only fail
/// while a collector is writing its handle, which it does before raising the flag
/// observers look at, or while it removes it, after it stopped waiting. Under loom the
/// same with loom's lock and threads. Without `std` there is no thread to park: the
/// collector spins, and waking is a no-op.
pub(crate) struct Waiter {
    /// The parked collector, if any. Invariant: written only by the collector holding
    /// the histogram's collection lock.
    #[cfg(all(feature = "std", not(loom)))]
    collector: std::sync::RwLock<Option<std::thread::Thread>>,
    #[cfg(loom)]
    collector: loom::sync::RwLock<Option<loom::thread::Thread>>,
}

impl Waiter {
    const_fn! {
        pub(crate) const fn new() -> Self {
            #[cfg(all(feature = "std", not(loom)))]
            return Self { collector: std::sync::RwLock::new(None) };
            #[cfg(loom)]
            return Self { collector: loom::sync::RwLock::new(None) };
            #[cfg(all(not(feature = "std"), not(loom)))]
            return Self {};
        }
    }

    /// Leaves the calling thread's handle for [`wake`](Self::wake) (or, on `None`,
    /// removes it).
    #[cfg(any(feature = "std", loom))]
    fn set(&self, collector: Option<Thread>) {
        // A poisoned lock only means a thread panicked holding it; the slot is whole.
        match self.collector.write() {
            Ok(mut slot) => *slot = collector,
            Err(poisoned) => *poisoned.into_inner() = collector,
        }
    }

    /// Called by the collector before it raises the waiting flag.
    pub(crate) fn register(&self) {
        #[cfg(any(feature = "std", loom))]
        self.set(Some(current_thread()));
    }

    /// Called by the collector after it lowered the waiting flag.
    pub(crate) fn unregister(&self) {
        #[cfg(any(feature = "std", loom))]
        self.set(None);
    }

    /// Sleeps until [`wake`](Self::wake) (or spuriously: callers recheck).
    pub(crate) fn wait(&self) {
        #[cfg(any(feature = "std", loom))]
        park();
        #[cfg(all(not(feature = "std"), not(loom)))]
        core::hint::spin_loop();
    }

    /// Wakes the registered collector, if any; never blocks.
    #[cold]
    pub(crate) fn wake(&self) {
        #[cfg(any(feature = "std", loom))]
        {
            let slot = match self.collector.try_read() {
                Ok(slot) => slot,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                // Only a collector writing its handle holds the lock, and then it has
                // not started waiting or has finished (see the type's doc).
                Err(TryLockError::WouldBlock) => return,
            };
            if let Some(collector) = &*slot {
                collector.unpark();
            }
        }
    }
}

#[cfg(any(feature = "std", loom))]
use std::sync::TryLockError;
#[cfg(all(feature = "std", not(loom)))]
use std::thread::{Thread, current as current_thread, park};

#[cfg(loom)]
use loom::thread::{Thread, current as current_thread, park};

/// Waits a little in a spin loop: a CPU hint at first, then (with `std`) a yield so a
/// preempted thread we wait for can run.
#[inline]
pub(crate) fn backoff(spins: u32) {
    #[cfg(loom)]
    {
        let _ = spins;
        loom::thread::yield_now();
    }
    #[cfg(not(loom))]
    {
        #[cfg(feature = "std")]
        if spins > 64 {
            std::thread::yield_now();
            return;
        }
        let _ = spins;
        core::hint::spin_loop();
    }
}
