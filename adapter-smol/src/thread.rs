//! Threaded mode: [`start_http_server_in_thread`] and its handle
//! [`ThreadedMetricsServer`], for programs without an async runtime.

use std::io;
use std::net::SocketAddr;
use std::sync::mpsc;
use std::thread::{self, JoinHandle, Thread};

use smol::channel::{self, Sender};

use crate::runtime::{Runtime, Smol};
use crate::{Options, StartError, server};

/// The name of the thread the threaded server runs on.
pub const THREAD_NAME: &str = "torchlight-metrics";

/// Starts the server from its own thread named [`THREAD_NAME`] (which drives the
/// accept loop's start and shutdown with `block_on`; connections run on smol's global
/// executor), and returns once it listens, or with the reason it cannot.
///
/// Unlike Python's `start_http_server_in_thread`, a bind failure comes back as an
/// error instead of hanging the caller.
///
/// ```
/// use std::net::Ipv4Addr;
/// use torchlight_smol::{Options, start_http_server_in_thread};
///
/// let mut server = start_http_server_in_thread(Options::new().address(Ipv4Addr::LOCALHOST))?;
/// println!("metrics at {}metrics", server.url());
/// server.close();
/// # Ok::<(), torchlight_smol::StartError>(())
/// ```
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound, [`StartError::Thread`] when
/// the thread cannot be created.
pub fn start_http_server_in_thread(options: Options) -> Result<ThreadedMetricsServer, StartError> {
    start_in_thread::<Smol>(options)
}

/// [`start_http_server_in_thread`] on any [`Runtime`].
///
/// # Errors
///
/// As [`start_http_server_in_thread`].
pub fn start_in_thread<R: Runtime>(options: Options) -> Result<ThreadedMetricsServer, StartError> {
    let (ready, started) = mpsc::channel();
    let (stop, stopped) = channel::bounded::<()>(1);
    let thread = thread::Builder::new()
        .name(THREAD_NAME.to_owned())
        .spawn(move || {
            R::block_on(async move {
                match server::start::<R>(options).await {
                    Ok(mut server) => {
                        let started = (
                            server.local_addr(),
                            server.advertised_address().map(str::to_owned),
                        );
                        let _ = ready.send(Ok(started));
                        // Returns when the handle sends or is dropped.
                        let _ = stopped.recv().await;
                        server.close().await;
                    }
                    Err(error) => {
                        let _ = ready.send(Err(error));
                    }
                }
            });
        })
        .map_err(|source| StartError::Thread { source })?;
    match started.recv() {
        Ok(Ok((local_addr, advertised_address))) => Ok(ThreadedMetricsServer {
            local_addr,
            advertised_address,
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

/// A metrics server running in its own thread. Dropping it closes it.
#[derive(Debug)]
pub struct ThreadedMetricsServer {
    local_addr: SocketAddr,
    advertised_address: Option<String>,
    /// Sending or dropping it makes the thread close the server and end.
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl ThreadedMetricsServer {
    /// The bound address, with the real port when port 0 was asked for.
    #[must_use]
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://host:port/` for the bound address (IPv6 in brackets).
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}/", self.local_addr)
    }

    /// The advertised host given in [`Options::advertised_address`], if any.
    #[must_use]
    pub fn advertised_address(&self) -> Option<&str> {
        self.advertised_address.as_deref()
    }

    /// The server's thread, until [`close`](Self::close).
    #[must_use]
    pub fn thread(&self) -> Option<&Thread> {
        self.thread.as_ref().map(JoinHandle::thread)
    }

    /// Closes the server like `MetricsServer::close` and joins its thread. Closing
    /// again does nothing.
    pub fn close(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            // A panic in the server thread has already been reported by its hook.
            let _ = thread.join();
        }
    }
}

impl Drop for ThreadedMetricsServer {
    fn drop(&mut self) {
        self.close();
    }
}
