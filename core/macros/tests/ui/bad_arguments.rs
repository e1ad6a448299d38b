use torchlight::{Counter, Gauge};

static ERRORS: Counter = Counter::new();
static IN_FLIGHT: Gauge = Gauge::new();

#[torchlight::timed]
async fn no_metric() {}

#[torchlight::count_errors(ERRORS, clock = 1)]
async fn wrong_option() -> Result<(), ()> {
    Ok(())
}

#[torchlight::track_in_progress(IN_FLIGHT, filter = 1)]
async fn no_options() {}

fn main() {}
