//! Encoding into a caller's fixed byte array, as a `no_std` program without an allocator
//! would (a UART frame, a USB packet): golden bytes in both formats, and a buffer that is
//! too small is an error at every size, never a panic. Runs with and without the `std`
//! feature (`cargo test -p torchlight --no-default-features` builds the core without
//! `std`, so this is the `no_std` path).
#![cfg(not(loom))]

use torchlight::{
    Buckets, Counter, EncodeError, Format, Gauge, Histogram, Info, Labelled, Metric, Registry,
    SliceSink, Summary,
};

torchlight::label_value! { enum Port { Uart = "uart", Usb = "usb" } }
torchlight::label_set! { struct ByPort { port: Port } }

static BOUNDS: Buckets<2> = Buckets::new([0.5, 1.0]);
static FRAMES: Metric<Labelled<ByPort, Counter, 2>> = Metric::new(
    "frames",
    "Frames sent, with \"quotes\" and a \\.",
    Labelled::new([const { Counter::new() }; 2]),
);
static LEVEL: Metric<Gauge> = Metric::new("battery_level", "", Gauge::new());
static LOOP: Metric<Histogram<2>> = Metric::new(
    "loop_seconds",
    "Main loop time.",
    Histogram::with_buckets(&BOUNDS),
)
.with_unit("seconds");
static PAYLOAD: Metric<Summary> = Metric::new("payload_bytes", "", Summary::new());
static BUILD: Metric<Info<1>> = Metric::new("build", "", Info::new([("version", "1.0")]));
static REGISTRY: Registry = Registry::new();

const TEXT: &str = "\
# HELP frames_total Frames sent, with \"quotes\" and a \\\\.
# TYPE frames_total counter
frames_total{port=\"uart\"} 3
frames_total{port=\"usb\"} 0
# TYPE battery_level gauge
battery_level -7
# HELP loop_seconds Main loop time.
# TYPE loop_seconds histogram
loop_seconds_bucket{le=\"0.5\"} 1
loop_seconds_bucket{le=\"1\"} 1
loop_seconds_bucket{le=\"+Inf\"} 2
loop_seconds_sum 2.25
loop_seconds_count 2
# TYPE payload_bytes summary
payload_bytes_sum 1e+06
payload_bytes_count 1
# TYPE build_info gauge
build_info{version=\"1.0\"} 1
";

const OPEN_METRICS: &str = "\
# HELP frames Frames sent, with \\\"quotes\\\" and a \\\\.
# TYPE frames counter
frames_total{port=\"uart\"} 3.0
frames_total{port=\"usb\"} 0.0
# TYPE battery_level gauge
battery_level -7.0
# HELP loop_seconds Main loop time.
# TYPE loop_seconds histogram
# UNIT loop_seconds seconds
loop_seconds_bucket{le=\"0.5\"} 1
loop_seconds_bucket{le=\"1.0\"} 1
loop_seconds_bucket{le=\"+Inf\"} 2
loop_seconds_sum 2.25
loop_seconds_count 2
# TYPE payload_bytes summary
payload_bytes_sum 1e+06
payload_bytes_count 1
# TYPE build info
build_info{version=\"1.0\"} 1.0
# EOF
";

fn registry() -> &'static Registry {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        REGISTRY.register(&FRAMES).expect("valid");
        REGISTRY.register(&LEVEL).expect("valid");
        REGISTRY.register(&LOOP).expect("valid");
        REGISTRY.register(&PAYLOAD).expect("valid");
        REGISTRY.register(&BUILD).expect("valid");
        FRAMES.get(ByPort { port: Port::Uart }).inc_by(3);
        LEVEL.set(-7);
        LOOP.observe(0.25);
        LOOP.observe(2.0);
        PAYLOAD.observe(1e6);
    });
    &REGISTRY
}

#[test]
fn a_registry_encodes_into_a_fixed_array() {
    for (format, expected) in [(Format::Text, TEXT), (Format::OpenMetrics, OPEN_METRICS)] {
        let mut frame = [0u8; 1024];
        let mut sink = SliceSink::new(&mut frame);
        registry()
            .encode_to(&mut sink, format)
            .expect("1 KiB is enough");
        assert_eq!(
            core::str::from_utf8(sink.filled()),
            Ok(expected),
            "{format:?}"
        );
        // Exactly the exposition's size is enough.
        let mut exact = [0u8; 1024];
        let exact = &mut exact[..expected.len()];
        let mut sink = SliceSink::new(exact);
        registry()
            .encode_to(&mut sink, format)
            .expect("exactly the size fits");
        assert_eq!(sink.len(), expected.len());
    }
}

#[test]
fn a_buffer_too_small_is_an_error_at_every_size() {
    for (format, expected) in [(Format::Text, TEXT), (Format::OpenMetrics, OPEN_METRICS)] {
        let mut frame = [0u8; 1024];
        for size in 0..expected.len() {
            let mut sink = SliceSink::new(&mut frame[..size]);
            assert_eq!(
                registry().encode_to(&mut sink, format),
                Err(EncodeError::Full),
                "{format:?} into {size} bytes"
            );
            // What was written is a prefix of the exposition, never past the buffer.
            assert!(sink.len() <= size);
            assert!(expected.as_bytes().starts_with(sink.filled()));
        }
    }
}
