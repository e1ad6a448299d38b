//! Threaded mode: [`start_http_server_in_thread`], for programs without an async
//! runtime.

use crate::runtime::AsyncStd;
use crate::{Options, StartError, ThreadedMetricsServer};

/// Starts the server from its own thread named [`THREAD_NAME`](crate::THREAD_NAME)
/// (connections run on async-std's executor) and returns once it listens, or with the
/// reason it cannot — a bind or registration failure is an error, not a hang.
/// Registration and deregistration run in the server's thread.
///
/// ```
/// use std::net::Ipv4Addr;
/// use torchlight_async_std::{Options, start_http_server_in_thread};
///
/// let mut server = start_http_server_in_thread(Options::new().address(Ipv4Addr::LOCALHOST))?;
/// println!("metrics at {}metrics", server.url());
/// server.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`StartError::Bind`] when the address cannot be bound, [`StartError::Register`] when
/// the service discovery fails (the port is released), [`StartError::Thread`] when the
/// thread cannot be created.
pub fn start_http_server_in_thread(options: Options) -> Result<ThreadedMetricsServer, StartError> {
    torchlight_smol::start_in_thread::<AsyncStd>(options)
}
