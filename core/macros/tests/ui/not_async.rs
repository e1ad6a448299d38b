use torchlight::{Counter, Gauge, Histogram};

static TIME: Histogram = Histogram::new();
static ERRORS: Counter = Counter::new();
static IN_FLIGHT: Gauge = Gauge::new();

#[torchlight::timed(TIME)]
fn timed() -> u32 {
    1
}

#[torchlight::count_errors(ERRORS)]
fn count_errors() -> Result<(), ()> {
    Ok(())
}

#[torchlight::track_in_progress(IN_FLIGHT)]
fn track_in_progress() {}

fn main() {}
