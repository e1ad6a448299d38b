//! smol as the shared server's [`Runtime`]: [`Smol`].

use std::future::Future;
use std::io;
use std::net::TcpListener as StdTcpListener;

use smol::net::{TcpListener, TcpStream};
use smol_hyper::rt::{FuturesIo, SmolTimer};
use torchlight_server::Runtime;

/// smol: `async-io`'s sockets (through smol-hyper's `FuturesIo`) and `SmolTimer`,
/// smol's global executor and its blocking pool (`smol::unblock`), and `smol::block_on`
/// for the threaded mode. `async-io` drives sockets and timers from its own thread, so
/// they work on any executor.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

impl Runtime for Smol {
    type Listener = TcpListener;
    type Stream = FuturesIo<TcpStream>;
    type Timer = SmolTimer;
    type Task = smol::Task<()>;

    fn listen(listener: StdTcpListener) -> io::Result<TcpListener> {
        TcpListener::try_from(listener)
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

    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> smol::Task<()> {
        smol::spawn(future)
    }

    fn detach(task: smol::Task<()>) {
        task.detach();
    }

    fn unblock<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static {
        smol::unblock(work)
    }

    fn block_on<T>(future: impl Future<Output = T>) -> io::Result<T> {
        Ok(smol::block_on(future))
    }
}
