use torchlight::{Histogram, Metric};

static LATENCY: Metric<Histogram> =
    Metric::new("latency_seconds", "Time to serve.", Histogram::new());

#[torchlight::timed(LATENCY)]
async fn serve() {}

fn main() {
    drop(serve());
}
