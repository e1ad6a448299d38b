//! [`MetricsService`]: the inner service, each call measured from the moment the
//! request arrives until its response has been sent.

use std::sync::Arc;

use core::task::{Context, Poll};

use http::{Request, Response};
use torchlight::{Clock, StdClock};
use tower_service::Service;

use crate::body::ResponseBody;
use crate::future::ResponseFuture;
use crate::measurement::Measurement;
use crate::metrics::Metrics;

/// A service whose requests are recorded by the [`MetricsLayer`](crate::MetricsLayer)
/// that made it. Its responses carry a [`ResponseBody`]; its errors are the inner
/// service's.
pub struct MetricsService<S, C = StdClock> {
    inner: S,
    metrics: Arc<Metrics>,
    clock: C,
}

impl<S, C> MetricsService<S, C> {
    pub(crate) fn new(inner: S, metrics: Arc<Metrics>, clock: C) -> Self {
        Self {
            inner,
            metrics,
            clock,
        }
    }

    /// The wrapped service.
    #[must_use]
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The wrapped service, unwrapped.
    #[must_use]
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S: Clone, C: Clone> Clone for MetricsService<S, C> {
    fn clone(&self) -> Self {
        Self {
            inner: self.inner.clone(),
            metrics: Arc::clone(&self.metrics),
            clock: self.clock.clone(),
        }
    }
}

impl<S: core::fmt::Debug, C> core::fmt::Debug for MetricsService<S, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("MetricsService")
            .field("inner", &self.inner)
            .finish_non_exhaustive()
    }
}

impl<S, C, RequestBody, Body> Service<Request<RequestBody>> for MetricsService<S, C>
where
    S: Service<Request<RequestBody>, Response = Response<Body>>,
    Body: http_body::Body,
    C: Clock + Clone,
{
    type Response = Response<ResponseBody<Body, C>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future, C>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<RequestBody>) -> Self::Future {
        let measurement = Measurement::start(&self.metrics, self.clock.clone(), &request);
        ResponseFuture::new(self.inner.call(request), measurement)
    }
}
