//! tokio as the shared server's [`Runtime`]: [`Tokio`].

use std::future::Future;
use std::io;
use std::net::TcpListener as StdTcpListener;

use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;
use torchlight_server::Runtime;

/// tokio: its sockets (through hyper-util's `TokioIo`), `TokioTimer`, `tokio::spawn`
/// and `spawn_blocking` on the ambient runtime, and a current-thread runtime for the
/// threaded mode.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tokio;

impl Runtime for Tokio {
    type Listener = TcpListener;
    type Stream = TokioIo<TcpStream>;
    type Timer = TokioTimer;
    type Task = JoinHandle<()>;

    fn listen(listener: StdTcpListener) -> io::Result<TcpListener> {
        TcpListener::from_std(listener)
    }

    async fn accept(listener: &TcpListener) -> io::Result<Self::Stream> {
        let (stream, _peer) = listener.accept().await?;
        stream.set_nodelay(true)?;
        Ok(TokioIo::new(stream))
    }

    async fn connect(authority: &str) -> io::Result<Self::Stream> {
        let stream = TcpStream::connect(authority).await?;
        stream.set_nodelay(true)?;
        Ok(TokioIo::new(stream))
    }

    fn timer() -> TokioTimer {
        TokioTimer::new()
    }

    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> JoinHandle<()> {
        tokio::spawn(future)
    }

    fn detach(task: JoinHandle<()>) {
        // Dropping a tokio `JoinHandle` detaches the task.
        drop(task);
    }

    fn unblock<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        let task = tokio::task::spawn_blocking(work);
        async move {
            match task.await {
                Ok(done) => done,
                Err(error) if error.is_panic() => std::panic::resume_unwind(error.into_panic()),
                // Cancelled: the runtime is shutting down and drops this task too.
                Err(_) => std::future::pending().await,
            }
        }
    }

    fn block_on<T>(future: impl Future<Output = T>) -> io::Result<T> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()?;
        Ok(runtime.block_on(future))
    }
}
