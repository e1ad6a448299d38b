use torchlight::{Counter, Gauge, Histogram, ManualClock, Metric};

static LATENCY: Metric<Histogram> =
    Metric::new("latency_seconds", "Time to serve.", Histogram::new());
static ERRORS: Metric<Counter> = Metric::new("errors", "Failed calls.", Counter::new());
static IN_FLIGHT: Metric<Gauge> = Metric::new("in_flight", "Calls in flight.", Gauge::new());
static CLOCK: ManualClock = ManualClock::new();

#[torchlight::timed(LATENCY, clock = &CLOCK)]
#[torchlight::count_errors(ERRORS, cancellation = true)]
#[torchlight::track_in_progress(IN_FLIGHT)]
async fn serve() -> Result<(), ()> {
    Ok(())
}

fn main() {
    drop(serve());
}
