//! Threaded mode on any [`Runtime`]: [`start_in_thread`] and its handle
//! [`ThreadedMetricsServer`], for programs without an async runtime.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::{self, JoinHandle, Thread};

use crate::discovery::{DiscoveryError, ServerInfo};
use crate::error::StartError;
use crate::options::Options;
use crate::runtime::Runtime;
use crate::server;
use async_channel::Sender;

/// The name of the thread the threaded server runs on.
pub const THREAD_NAME: &str = "torchlight-metrics";

/// Starts the server in its own thread named [`THREAD_NAME`], which runs `R` with
/// [`Runtime::block_on`] until the handle is closed, and returns once it listens, or
/// with the reason it cannot. Each adapter's `start_http_server_in_thread` is this on
/// its runtime.
///
/// ```
/// use std::net::Ipv4Addr;
/// use torchlight_server::start_in_thread;
/// use torchlight_smol::{Options, Smol, THREAD_NAME};
///
/// let mut server = start_in_thread::<Smol>(Options::new().with_address(Ipv4Addr::LOCALHOST))?;
/// assert_eq!(server.thread().and_then(|thread| thread.name()), Some(THREAD_NAME));
/// server.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Unlike Python's `start_http_server_in_thread`, a bind or registration failure comes
/// back as an error instead of hanging the caller. Registration and deregistration run
/// in the server's thread, on its runtime.
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound, [`StartError::Register`] when
/// the service discovery fails (the port is released), [`StartError::Thread`] when the
/// thread or its runtime cannot be created.
pub fn start_in_thread<R: Runtime>(options: Options) -> Result<ThreadedMetricsServer, StartError> {
    let (ready, started) = mpsc::channel();
    let (stop, stopped) = async_channel::bounded::<()>(1);
    let thread = thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || {
            let runtime_failed = ready.clone();
            let ran = R::block_on(async {
                match server::start::<R>(options).await {
                    Ok(mut server) => {
                        let started = (server.server_info().clone(), server.is_registered());
                        let _ = ready.send(Ok(started));
                        // Returns when the handle sends or is dropped.
                        let _ = stopped.recv().await;
                        server.close().await
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                        Ok(())
                    }
                }
            });
            ran.unwrap_or_else(|source| {
                let _ = runtime_failed.send(Err(StartError::Thread { source }));
                Ok(())
            })
        })
        .map_err(|source| StartError::Thread { source })?;
    match started.recv() {
        Ok(Ok((info, registered))) => Ok(ThreadedMetricsServer {
            info,
            registered,
            stop: Some(stop),
            thread: Some(thread),
        }),
        Ok(Err(error)) => {
            let _ = thread.join();
            Err(error)
        }
        Err(_) => {
            let _ = thread.join();
            Err(StartError::Thread {
                source: io::Error::other("the metrics server thread panicked while starting"),
            })
        }
    }
}

/// A metrics server running in its own thread. Dropping it closes it, deregistration
/// included (its error is lost; call [`close`](Self::close) to see it).
///
/// How long it serves is the handle's life: keep it while the program works and
/// [`close`](Self::close) it at the end, or block the calling thread with
/// [`serve_until`](Self::serve_until) (until a function returns: a channel's `recv`, a
/// Ctrl-C handler's signal) or [`serve_forever`](Self::serve_forever), or
/// [`detach`](Self::detach) it to serve until the process exits.
#[must_use = "dropping a `ThreadedMetricsServer` stops the server: keep the handle, or \
              call `serve_until`, `serve_forever` or `detach`"]
#[derive(Debug)]
pub struct ThreadedMetricsServer {
    info: ServerInfo,
    registered: bool,
    /// Sending or dropping it makes the thread close the server and end.
    stop: Option<Sender<()>>,
    /// Ends with the deregistration's result.
    thread: Option<JoinHandle<Result<(), DiscoveryError>>>,
}

impl ThreadedMetricsServer {
    server::started_accessors!();

    /// The server's thread, until [`close`](Self::close).
    #[must_use]
    pub fn thread(&self) -> Option<&Thread> {
        self.thread.as_ref().map(JoinHandle::thread)
    }

    /// Closes the server like `MetricsServer::close` (deregistration first, in the
    /// server's thread) and joins its thread.
    ///
    /// # Errors
    ///
    /// The deregistration's error; the server has stopped and released its port all
    /// the same. Closing again does nothing and returns `Ok(())`.
    pub fn close(&mut self) -> Result<(), DiscoveryError> {
        drop(self.stop.take());
        match self.thread.take().map(JoinHandle::join) {
            Some(Ok(result)) => result,
            // A panic in the server thread has already been reported by its hook.
            Some(Err(_)) if self.registered => Err(DiscoveryError::other(
                "the metrics server thread panicked before it could deregister",
            )),
            _ => Ok(()),
        }
    }

    /// Blocks the calling thread until `signal` returns (whatever it returns), then
    /// closes the server like [`close`](Self::close).
    ///
    /// ```
    /// use std::net::Ipv4Addr;
    /// use std::sync::mpsc;
    /// use torchlight_server::start_in_thread;
    /// use torchlight_smol::{Options, Smol};
    ///
    /// let server = start_in_thread::<Smol>(Options::new().with_address(Ipv4Addr::LOCALHOST))?;
    /// let (stop, stopped) = mpsc::channel::<()>();
    /// // A Ctrl-C handler (the `ctrlc` crate) or another thread sends when it is time.
    /// stop.send(())?;
    /// server.serve_until(move || stopped.recv())?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// The deregistration's error; the server has stopped all the same.
    pub fn serve_until<T>(mut self, signal: impl FnOnce() -> T) -> Result<(), DiscoveryError> {
        signal();
        self.close()
    }

    /// Blocks the calling thread while the server serves, until the process exits: the
    /// end of a `main` with nothing else to do.
    pub fn serve_forever(self) -> ! {
        let _serving = self;
        loop {
            // Spurious wake-ups (and `unpark`s) only go round the loop.
            thread::park();
        }
    }

    /// Lets the server run on in its thread without a handle until the process exits;
    /// it is never closed, so a service discovery registration is not withdrawn. For
    /// programs that start the server once and never stop it, as Python's
    /// `start_http_server` does.
    pub fn detach(mut self) {
        // The server thread stops when the last stop sender is dropped: never dropping
        // it, the server serves until the process exits (one small channel leaks).
        std::mem::forget(self.stop.take());
        // Dropping the join handle detaches the thread.
        drop(self.thread.take());
    }
}

impl Drop for ThreadedMetricsServer {
    fn drop(&mut self) {
        let _ = self.close();
    }
}
