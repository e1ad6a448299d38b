//! async-std as the shared server's [`Runtime`]: [`AsyncStd`].

use std::future::Future;
use std::io;
use std::net::TcpListener as StdTcpListener;

use async_std::net::{TcpListener, TcpStream};
use smol_hyper::rt::{FuturesIo, SmolTimer};
use torchlight_server::Runtime;

/// async-std: its sockets (through smol-hyper's `FuturesIo`), executor
/// (`async_std::task::spawn`), blocking pool (`spawn_blocking`) and `block_on` for the
/// threaded mode, and `async-io`'s timer (`SmolTimer`), the reactor async-std itself
/// runs on.
#[derive(Clone, Copy, Debug, Default)]
pub struct AsyncStd;

impl Runtime for AsyncStd {
    type Listener = TcpListener;
    type Stream = FuturesIo<TcpStream>;
    type Timer = SmolTimer;
    type Task = async_std::task::JoinHandle<()>;

    fn listen(listener: StdTcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener::from(listener))
    }

    async fn accept(listener: &TcpListener) -> io::Result<Self::Stream> {
        let (stream, _peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(FuturesIo::new(stream))
    }

    async fn connect(authority: &str) -> io::Result<Self::Stream> {
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        Ok(FuturesIo::new(stream))
    }

    fn timer() -> SmolTimer {
        SmolTimer::new()
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
