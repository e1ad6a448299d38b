//! [`ResponseFuture`]: the service's future, whose answer gets a [`ResponseBody`] that
//! carries the measurement on; dropped before it answers, the request is cancelled.

use core::future::Future;
use core::pin::Pin;
use core::task::{Context, Poll};

use http::Response;
use pin_project_lite::pin_project;
use torchlight::{Clock, StdClock};

use crate::body::ResponseBody;
use crate::measurement::{End, Measurement};

pin_project! {
    /// The future of a [`MetricsService`](crate::MetricsService) call: the inner
    /// service's future; its response's body becomes a [`ResponseBody`]. Dropping it
    /// before it is ready records the request as cancelled (the measurement's own
    /// drop).
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F, C: Clock = StdClock> {
        #[pin]
        inner: F,
        measurement: Option<Measurement<C>>,
    }
}

impl<F, C: Clock> ResponseFuture<F, C> {
    pub(crate) fn new(inner: F, measurement: Measurement<C>) -> Self {
        Self {
            inner,
            measurement: Some(measurement),
        }
    }
}

impl<F, B, E, C> Future for ResponseFuture<F, C>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    C: Clock,
{
    type Output = Result<Response<ResponseBody<B, C>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let result = match this.inner.poll(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(result) => result,
        };
        // `None` only after this future already returned `Ready`: polled again, it
        // has nothing more to measure.
        let Some(mut measurement) = this.measurement.take() else {
            return Poll::Ready(result.map(|response| response.map(ResponseBody::unmeasured)));
        };
        Poll::Ready(match result {
            Ok(response) => {
                measurement.respond(response.status(), response.headers());
                Ok(response.map(|body| ResponseBody::new(body, measurement)))
            }
            Err(error) => {
                measurement.end(End::Failed);
                Err(error)
            }
        })
    }
}

impl<F, C: Clock> core::fmt::Debug for ResponseFuture<F, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}
