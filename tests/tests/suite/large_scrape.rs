//! A scrape of 100 000 series does not block the adapter's runtime: while it encodes
//! (on the blocking pool), the same server keeps answering other requests.
//!
//! The harness gives tokio one worker thread and smol its default single executor
//! thread, so an encode on the executor would stall every other request. 100 000
//! series encode in a few milliseconds in a release build (about 3 MB of text) and
//! several times that in a debug build; so that the check does not
//! depend on how fast this machine is, the collector holds the encoding open until the
//! test has been answered on `/` several times meanwhile. Were the encoding on the
//! executor, those answers would never come (the client's timeout fails the test).
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread;

use torchlight::{Collect, Encoder, Metric, MetricType, Registry};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Smol, Tokio};
use torchlight_tests::client::get;

/// How many series the large registry holds (the figure).
const SERIES: usize = 100_000;

/// How many times `/` is answered while the large encoding is held.
const PINGS: usize = 5;

/// A gauge family of [`SERIES`] series `big{id="<n>"}`, whose encoding says when it
/// starts and then waits to be released.
struct Wide {
    started: Mutex<Sender<()>>,
    release: Mutex<Receiver<()>>,
}

impl Collect for Wide {
    fn metric_type(&self) -> MetricType {
        MetricType::Gauge
    }

    fn label_names(&self) -> &[&'static str] {
        &["id"]
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> std::fmt::Result {
        let _ = self
            .started
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .send(());
        let _ = self
            .release
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .recv();
        let mut id = String::new();
        for n in 0..SERIES {
            id.clear();
            write!(id, "{n}")?;
            #[allow(clippy::cast_precision_loss)]
            encoder.gauge(&[("id", id.as_str())], n as f64)?;
        }
        Ok(())
    }
}

fn large_scrape_does_not_block<A: Adapter>() {
    let (started, encoding) = mpsc::channel();
    let (release, gate) = mpsc::channel();
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let wide: &'static Metric<Wide> = Box::leak(Box::new(Metric::new(
        "big",
        "One hundred thousand series.",
        Wide {
            started: Mutex::new(started),
            release: Mutex::new(gate),
        },
    )));
    registry.register(wide).expect("a valid family");
    let mut server = A::start(Config::loopback(registry)).unwrap_or_else(|error| panic!("{error}"));
    let url = server.url();
    let scrape = {
        let url = format!("{url}metrics");
        thread::spawn(move || get(&url, &[]))
    };
    encoding.recv().expect("the scrape starts encoding");
    for _ in 0..PINGS {
        assert_eq!(
            get(&url, &[]).status,
            200,
            "{}: `/` is answered while a large registry encodes",
            A::NAME
        );
    }
    release.send(()).expect("the encoding waits");
    let reply = scrape.join().expect("scrape thread");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text().lines().count(), SERIES + 2);
    server.close();
}

#[test]
fn tokio() {
    large_scrape_does_not_block::<Tokio>();
}

#[test]
fn smol() {
    large_scrape_does_not_block::<Smol>();
}

#[test]
fn async_std() {
    large_scrape_does_not_block::<AsyncStd>();
}
