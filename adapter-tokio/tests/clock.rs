//! `RuntimeClock` follows tokio's clock, so paused test time is measured exactly.
#![forbid(unsafe_code)]

use std::time::Duration;

use torchlight::{Histogram, Instrument};
use torchlight_tokio::RuntimeClock;

#[tokio::test(start_paused = true)]
async fn paused_time_is_observed_exactly() {
    static LATENCY: Histogram = Histogram::new();
    async { tokio::time::sleep(Duration::from_secs(1)).await }
        .time_with(&LATENCY, RuntimeClock)
        .await;
    async { tokio::time::sleep(Duration::from_millis(250)).await }
        .time_with(&LATENCY, RuntimeClock)
        .await;
    let snapshot = LATENCY.snapshot();
    assert_eq!(snapshot.count(), 2);
    assert_eq!(snapshot.sum(), 1.25);
}
