//! async-std as the shared server's [`Runtime`]: [`AsyncStd`].

use std::future::Future;
use std::io;
use std::net::TcpListener as StdTcpListener;

use torchlight_server::Runtime;
use torchlight_smol::Smol;

/// async-std's executor (`async_std::task::spawn`, `spawn_blocking`, `block_on`) with
/// `async-io`'s sockets and timer, the reactor async-std runs on: those are
/// [`Smol`]'s, so they are borrowed from it rather than written again.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    type Listener = <Smol as Runtime>::Listener;
    type Stream = <Smol as Runtime>::Stream;
    type Timer = <Smol as Runtime>::Timer;
    type Task = async_std::task::JoinHandle<()>;

    fn listen(listener: StdTcpListener) -> io::Result<Self::Listener> {
        Smol::listen(listener)
    }

    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        Smol::accept(listener)
    }

    fn connect(authority: &str) -> impl Future<Output = io::Result<Self::Stream>> + Send {
        Smol::connect(authority)
    }

    fn timer() -> Self::Timer {
        Smol::timer()
    }

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

    fn block_on<T>(future: impl Future<Output = T>) -> io::Result<T> {
        Ok(async_std::task::block_on(future))
    }
}
