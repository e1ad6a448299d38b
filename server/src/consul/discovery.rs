//! [`ConsulAgent`] over a [`Transport`] as a [`ServiceDiscovery`]: [`ConsulDiscovery`].

use std::sync::Arc;

use super::{ConsulAgent, DEREGISTRATION, REGISTRATION, Transport};
use crate::discovery::{DiscoveryFuture, Registration, ServerInfo, ServiceDiscovery};

impl ConsulAgent {
    /// A [`ServiceDiscovery`] that sends this agent's requests over `transport`.
    pub fn discovery<T: Transport>(self, transport: T) -> ConsulDiscovery<T> {
        ConsulDiscovery {
            inner: Arc::new((self, transport)),
        }
    }
}

/// [`ConsulAgent`] as a [`ServiceDiscovery`], sending its requests over a [`Transport`].
///
/// ```no_run
/// use std::net::SocketAddr;
/// use torchlight_smol::consul::{ConsulAgent, StdTransport};
/// use torchlight_smol::discovery::{ServerInfo, ServiceDiscovery};
///
/// # fn block_on<F: std::future::Future>(future: F) -> F::Output {
/// #     use std::task::{Context, Poll, Waker};
/// #     let mut future = std::pin::pin!(future);
/// #     loop {
/// #         if let Poll::Ready(output) = future.as_mut().poll(&mut Context::from_waker(Waker::noop())) {
/// #             return output;
/// #         }
/// #     }
/// # }
/// let consul = ConsulAgent::new().with_name("billing-metrics").discovery(StdTransport);
/// let server = ServerInfo::new(SocketAddr::from(([10, 0, 0, 7], 9464)));
/// let registration = block_on(consul.register(&server))?;
/// // ... serve ...
/// if let Some(registration) = registration {
///     block_on(registration.deregister())?;
/// }
/// # Ok::<(), torchlight_smol::discovery::DiscoveryError>(())
/// ```
#[derive(Debug)]
pub struct ConsulDiscovery<T> {
    inner: Arc<(ConsulAgent, T)>,
}

impl<T> Clone for ConsulDiscovery<T> {
    fn clone(&self) -> Self {
        ConsulDiscovery {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<T> ConsulDiscovery<T> {
    /// The settings.
    pub fn agent(&self) -> &ConsulAgent {
        &self.inner.0
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.inner.1
    }
}

impl<T: Transport> ServiceDiscovery for ConsulDiscovery<T> {
    fn register<'a>(&'a self, server: &'a ServerInfo) -> DiscoveryFuture<'a, Option<Registration>> {
        Box::pin(async move {
            let (agent, transport) = &*self.inner;
            let request = agent.register_request(server)?;
            // Built before registering, so that a bad token or address cannot leave a
            // registration that close() is unable to undo.
            let deregister_request = agent.deregister_request()?;
            let response = transport
                .exchange(&request, agent.request_timeout())
                .await
                .map_err(|error| agent.exchange_error(REGISTRATION, error))?;
            agent.check_register_response(&response)?;
            if !agent.deregisters() {
                return Ok(Some(Registration::kept()));
            }
            let inner = Arc::clone(&self.inner);
            Ok(Some(Registration::new(move || async move {
                let (agent, transport) = &*inner;
                let response = transport
                    .exchange(&deregister_request, agent.request_timeout())
                    .await
                    .map_err(|error| agent.exchange_error(DEREGISTRATION, error))?;
                agent.check_deregister_response(&response)
            })))
        })
    }
}
