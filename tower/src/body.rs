//! [`ResponseBody`]: the service's response body, passed through frame by frame, so the
//! request's time ends when its last frame has been handed on (streamed bodies
//! included), and a body dropped before its end (the client went away) is recorded as
//! cancelled.

use core::pin::Pin;
use core::task::{Context, Poll};

use bytes::Buf;
use http_body::{Body, Frame, SizeHint};
use pin_project_lite::pin_project;
use torchlight::{Clock, StdClock};

use crate::measurement::{End, Measurement};

pin_project! {
    /// The response body of a [`MetricsService`](crate::MetricsService): the inner
    /// body, unchanged, whose end (or drop) ends the request's measurement. Counts the
    /// bytes of its data frames for `http_server_response_body_size_bytes` and reads a
    /// gRPC `grpc-status` trailer.
    pub struct ResponseBody<B: Body, C: Clock = StdClock> {
        #[pin]
        inner: B,
        measurement: Option<Measurement<C>>,
    }

    impl<B: Body, C: Clock> PinnedDrop for ResponseBody<B, C> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            if let Some(mut measurement) = this.measurement.take() {
                // A body with nothing left (hyper drops a finished one without polling
                // it for its end) or with nothing to send has ended, not been cut off.
                let end = if this.inner.is_end_stream() || measurement.bodiless() {
                    End::Complete
                } else {
                    End::Cancelled
                };
                measurement.end(end);
            }
        }
    }
}

impl<B: Body, C: Clock> ResponseBody<B, C> {
    pub(crate) fn new(inner: B, measurement: Measurement<C>) -> Self {
        Self {
            inner,
            measurement: Some(measurement),
        }
    }

    /// A body that measures nothing (its request was measured already).
    pub(crate) fn unmeasured(inner: B) -> Self {
        Self {
            inner,
            measurement: None,
        }
    }
}

impl<B: Body, C: Clock> Body for ResponseBody<B, C> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let polled = this.inner.as_mut().poll_frame(cx);
        let Some(measurement) = this.measurement.as_mut() else {
            return polled;
        };
        match &polled {
            Poll::Pending => return polled,
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    measurement.sent(data.remaining());
                } else if let Some(trailers) = frame.trailers_ref() {
                    measurement.trailers(trailers);
                }
                if !this.inner.is_end_stream() {
                    return polled;
                }
                measurement.end(End::Complete);
            }
            Poll::Ready(None) => measurement.end(End::Complete),
            Poll::Ready(Some(Err(_))) => measurement.end(End::Failed),
        }
        *this.measurement = None;
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

impl<B: Body, C: Clock> core::fmt::Debug for ResponseBody<B, C> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ResponseBody").finish_non_exhaustive()
    }
}
