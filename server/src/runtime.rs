//! The runtime seam: [`Runtime`], everything the server needs from an async runtime.
//!
//! The server's behaviour (start, registration, limits, shutdown, the threaded mode,
//! the hyper glue, the Consul exchange) is written once in this crate against this
//! trait. An adapter crate implements it for its runtime, in one small file, and
//! wraps the generic items under the adapter's public names. A fourth runtime needs
//! exactly this: its TCP sockets (as hyper's I/O traits), a hyper timer, spawning,
//! a blocking pool and `block_on`.

use std::future::Future;
use std::io;
use std::net::TcpListener;

/// Sockets, timers, spawning and the blocking pool of one async runtime.
///
/// Every method is an associated function: a runtime here is a type, not a value
/// (tokio's handle is found in the ambient context, smol's executor is global).
///
/// A sketch of an implementation over a runtime with hyper I/O wrappers (the real ones
/// are `Tokio` in `torchlight-tokio`, `Smol` in `torchlight-smol` and `AsyncStd` in
/// `torchlight-async-std`):
///
/// ```text
/// impl Runtime for MyRuntime {
///     type Listener = my_rt::net::TcpListener;
///     type Stream = MyIo<my_rt::net::TcpStream>;
///     type Timer = MyHyperTimer;
///     type Task = my_rt::JoinHandle<()>;
///     fn listen(listener: std::net::TcpListener) -> io::Result<Self::Listener> { … }
///     // … one or two lines each
/// }
/// ```
pub trait Runtime: Send + Sync + 'static {
    /// A listening TCP socket registered with the runtime's reactor.
    type Listener: Send + Sync + 'static;
    /// An accepted or connected TCP stream, as hyper reads and writes it.
    type Stream: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static;
    /// The runtime's timer, as hyper uses it (header read timeout) and as the server
    /// sleeps with it (backoff, shutdown grace, Consul timeout).
    type Timer: hyper::rt::Timer + Clone + Send + Sync + 'static;
    /// A spawned task; awaiting it waits for its end (its output is ignored).
    type Task: Future + Send + 'static;

    /// Registers a bound, non-blocking std listener with the runtime.
    ///
    /// # Errors
    ///
    /// What the runtime's conversion reports (no reactor, too many descriptors).
    fn listen(listener: TcpListener) -> io::Result<Self::Listener>;

    /// Accepts the next connection, with `TCP_NODELAY` set (responses are written
    /// whole; Nagle would only delay their last segment).
    fn accept(listener: &Self::Listener) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// Connects to `authority` (`host:port`, names resolved), with `TCP_NODELAY` set.
    fn connect(authority: &str) -> impl Future<Output = io::Result<Self::Stream>> + Send;

    /// A handle on the runtime's timer.
    fn timer() -> Self::Timer;

    /// Runs `future` in the background.
    fn spawn(future: impl Future<Output = ()> + Send + 'static) -> Self::Task;

    /// Lets `task` run on after its handle is dropped.
    fn detach(task: Self::Task);

    /// Runs CPU-heavy `work` on a thread where blocking is allowed. The server never
    /// lets `work` panic (it catches the panic inside), so an implementation may
    /// handle a panic in any way.
    fn unblock<T: Send + 'static>(
        work: impl FnOnce() -> T + Send + 'static,
    ) -> impl Future<Output = T> + Send + 'static;

    /// Runs `future` to completion on the current thread (the threaded mode's thread),
    /// with spawned tasks, sockets and timers working meanwhile.
    ///
    /// # Errors
    ///
    /// When the runtime cannot be created on this thread.
    fn block_on<T>(future: impl Future<Output = T>) -> io::Result<T>;
}

/// Sleeps for `duration` on `R`'s timer.
pub(crate) async fn sleep<R: Runtime>(duration: std::time::Duration) {
    hyper::rt::Timer::sleep(&R::timer(), duration).await;
}
