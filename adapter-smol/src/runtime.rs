//! What the server needs from an executor: [`Runtime`], implemented by [`Smol`].
//!
//! Everything else (the listener, timers, hyper's I/O adapter) is `async-io`, whose
//! reactor smol and async-std share, so `torchlight-async-std` reuses this crate's
//! server by implementing this trait with async-std's executor.

use std::future::Future;

/// Spawning, blocking work and `block_on` on one executor.
pub trait Runtime: Send + Sync + 'static {
    /// A spawned task; awaiting it waits for its end.
    type Task: Future<Output = ()> + Send + 'static;

    /// Runs `future` in the background.
    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> Self::Task;

    /// Lets `task` run on after its handle is dropped.
    fn detach(task: Self::Task);

    /// Runs CPU-heavy `work` on a thread where blocking is allowed.
    fn unblock<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static;

    /// Runs `future` to completion on the current thread.
    fn block_on<T>(future: impl Future<Output = T>) -> T;
}

/// smol's global executor and its blocking pool.
#[derive(Clone, Copy, Debug)]
pub struct Smol;

impl Runtime for Smol {
    type Task = smol::Task<()>;

    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> Self::Task {
        smol::spawn(future)
    }

    fn detach(task: Self::Task) {
        task.detach();
    }

    fn unblock<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        smol::unblock(work)
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        smol::block_on(future)
    }
}
