//! async-std's executor as a [`Runtime`] for the shared `async-io` server.

use std::future::Future;

use torchlight_smol::runtime::Runtime;

/// async-std's global executor and its blocking pool.
#[derive(Clone, Copy, Debug)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    type Task = async_std::task::JoinHandle<()>;

    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> Self::Task {
        async_std::task::spawn(future)
    }

    fn detach(task: Self::Task) {
        // Dropping an async-std `JoinHandle` detaches the task.
        drop(task);
    }

    fn unblock<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        async_std::task::spawn_blocking(work)
    }

    fn block_on<T>(future: impl Future<Output = T>) -> T {
        async_std::task::block_on(future)
    }
}
