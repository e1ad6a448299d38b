//! The firmware test harness: the core's essential behaviour, run on the microcontroller.
//!
//! Each check prints its name and its result over semihosting (see
//! `torchlight_firmware::report`); QEMU exits 0 only when every check passed.
//! `cargo xtask firmware` runs it on both boards.
//!
//! The SysTick interrupt runs from the first line of `main` to the end: it counts
//! [`TICKS`] (the time of the future checks) and observes into [`IRQ_LATENCY`], so every
//! check runs while an interrupt handler preempts it and updates metrics.
#![forbid(unsafe_code)]
#![no_std]
#![no_main]

use core::future::Future;
use core::pin::{Pin, pin};
use core::task::{Context, Poll, Waker};

use cortex_m_rt::{entry, exception};
use torchlight::{
    Buckets, Counter, FloatCounter, FloatGauge, Format, Gauge, Histogram, Instrument, Labelled,
    Metric, Registry, RemoteWrite, SliceSink, Snapshot,
};
use torchlight_firmware::buffer::{self, Buffer};
use torchlight_firmware::executor::block_on;
use torchlight_firmware::report::{Outcome, Run, line};
use torchlight_firmware::tick::{self, TICKS, TickClock};
use torchlight_firmware::{ensure, stack};

/// SysTick period in core clock cycles, less one: short, so that the interrupt lands
/// inside many snapshots of the `histogram-interrupt` check (which counts them and
/// fails below [`PREEMPTED_AT_LEAST`]).
const SYSTICK_RELOAD: u32 = 100;

/// Every check, in order.
fn checks(run: &mut Run) {
    run.check("counter", counter);
    run.check("gauge", gauge);
    run.check("histogram", histogram);
    run.check("labelled", labelled);
    run.check("encode-text", || golden(Format::Text, GOLDEN_TEXT));
    run.check("encode-openmetrics", || {
        golden(Format::OpenMetrics, GOLDEN_OPENMETRICS)
    });
    run.check("encode-overflow", encode_overflow);
    run.check("encode-remote-write", remote_write);
    run.check("future-instrumented", future_instrumented);
    run.check("future-dropped", future_dropped);
    run.check("histogram-interrupt", histogram_interrupt);
    run.check(
        "histogram-snapshot-in-interrupt",
        histogram_snapshot_in_interrupt,
    );
}

#[entry]
fn main() -> ! {
    let Some(peripherals) = cortex_m::Peripherals::take() else {
        panic!("the core peripherals were already taken");
    };
    tick::start(peripherals.SYST, SYSTICK_RELOAD);
    let mut run = Run::new();
    checks(&mut run);
    run.finish()
}

// ---- counters, gauges, histograms: 64-bit values on 32-bit cores --------------------

/// Above 32 bits: the emulated 64-bit atomics must carry into the high word.
const BIG: u64 = (1 << 32) + 5;

fn counter() -> Outcome {
    static COUNT: Counter = Counter::new();
    static SECONDS: FloatCounter = FloatCounter::new();
    COUNT.inc();
    COUNT.inc_by(u64::from(u32::MAX));
    COUNT.inc_by(5);
    ensure!(COUNT.get() == BIG, "Counter: {} != {BIG}", COUNT.get());
    SECONDS.inc_by(0.25);
    SECONDS.inc();
    ensure!(
        SECONDS.get() == 1.25,
        "FloatCounter: {} != 1.25",
        SECONDS.get()
    );
    Ok(())
}

fn gauge() -> Outcome {
    static LEVEL: Gauge = Gauge::new();
    static CELSIUS: FloatGauge = FloatGauge::new();
    LEVEL.inc();
    LEVEL.dec();
    LEVEL.dec();
    ensure!(
        LEVEL.get() == -1,
        "Gauge after inc, dec, dec: {}",
        LEVEL.get()
    );
    LEVEL.sub(i64::from(u32::MAX));
    ensure!(
        LEVEL.get() == -(1 << 32),
        "Gauge below -2^32: {}",
        LEVEL.get()
    );
    LEVEL.set(i64::MAX);
    LEVEL.add(-1);
    ensure!(
        LEVEL.get() == i64::MAX - 1,
        "Gauge near i64::MAX: {}",
        LEVEL.get()
    );
    CELSIUS.set(21.5);
    CELSIUS.sub(0.25);
    ensure!(
        CELSIUS.get() == 21.25,
        "FloatGauge: {} != 21.25",
        CELSIUS.get()
    );
    Ok(())
}

/// Powers of two, so every sum below is exact.
static SMALL: Buckets<3> = Buckets::new([0.125, 1.0, 8.0]);

fn histogram() -> Outcome {
    static SIZES: Histogram<3> = Histogram::with_buckets(&SMALL);
    for value in [0.0625, 0.5, 0.5, 4.0, 16.0] {
        SIZES.observe(value);
    }
    let first = SIZES.snapshot();
    ensure!(first.count() == 5, "count {} != 5", first.count());
    ensure!(first.sum() == 21.0625, "sum {} != 21.0625", first.sum());
    ensure!(
        first.cumulative() == &[1, 3, 4],
        "cumulative buckets {:?} != [1, 3, 4]",
        first.cumulative()
    );
    SIZES.observe(0.125);
    let second = SIZES.snapshot();
    ensure!(
        second.count() == 6 && second.cumulative() == &[2, 4, 5],
        "after one more observation: count {}, buckets {:?}; want 6, [2, 4, 5]",
        second.count(),
        second.cumulative()
    );
    Ok(())
}

// ---- labels known at compile time ----------------------------------------------------

torchlight::label_value! {
    /// The direction of a packet.
    enum Direction { Rx = "rx", Tx = "tx" }
}
torchlight::label_value! {
    /// The link a packet used.
    enum Link { Uart = "uart", Usb = "usb" }
}
torchlight::label_set! {
    /// A packet's labels.
    struct Packet { direction: Direction, link: Link }
}

fn labelled() -> Outcome {
    static PACKETS: Labelled<Packet, Counter, 4> = Labelled::new([const { Counter::new() }; 4]);
    let usb_tx = Packet {
        direction: Direction::Tx,
        link: Link::Usb,
    };
    PACKETS.get(usb_tx).inc_by(3);
    PACKETS
        .get(Packet {
            direction: Direction::Rx,
            link: Link::Uart,
        })
        .inc();
    let mut seen = [0u64; 4];
    for ((packet, counter), slot) in PACKETS.iter().zip(&mut seen) {
        *slot = counter.get();
        ensure!(
            PACKETS.get(packet).get() == counter.get(),
            "iter and get disagree for {packet:?}"
        );
    }
    ensure!(
        seen == [1, 0, 0, 3],
        "counts in index order {seen:?} != [1, 0, 0, 3]"
    );
    Ok(())
}

// ---- the exposition, encoded into a fixed buffer --------------------------------------

static GOLDEN: Registry = Registry::new();
static REQUESTS: Metric<Counter> = Metric::new("requests", "Requests handled.", Counter::new());
static TEMPERATURE: Metric<FloatGauge> =
    Metric::new("temperature_celsius", "Die temperature.", FloatGauge::new()).with_unit("celsius");
static QUEUE: Metric<Gauge> = Metric::new("queue_depth", "Frames waiting.", Gauge::new());
static LATENCY: Metric<Histogram<3>> = Metric::new(
    "latency_seconds",
    "Time to answer.",
    Histogram::with_buckets(&SMALL),
)
.with_unit("seconds");
static TRAFFIC: Metric<Labelled<Packet, Counter, 4>> = Metric::new(
    "packets",
    "Packets by \"direction\" and link.",
    Labelled::new([const { Counter::new() }; 4]),
);

/// The golden registry, registered and filled once (both formats read it).
fn golden_registry() -> Result<&'static Registry, torchlight::RegisterError> {
    static FILLED: Counter = Counter::new();
    if FILLED.get() == 0 {
        FILLED.inc();
        GOLDEN.register(&REQUESTS)?;
        GOLDEN.register(&TEMPERATURE)?;
        GOLDEN.register(&QUEUE)?;
        GOLDEN.register(&LATENCY)?;
        GOLDEN.register(&TRAFFIC)?;
        REQUESTS.inc_by(BIG);
        TEMPERATURE.set(-3.5);
        QUEUE.set(-2);
        for value in [0.0625, 0.5, 4.0, 16.0] {
            LATENCY.observe(value);
        }
        TRAFFIC
            .get(Packet {
                direction: Direction::Tx,
                link: Link::Usb,
            })
            .inc_by(7);
    }
    Ok(&GOLDEN)
}

/// The golden registry in the text format 0.0.4, as Go's `expfmt` writes these families.
/// `tests/tests/suite/firmware.rs` checks these bytes with `promtool` and `prometheus_client`'s
/// parser, and the values they hold.
const GOLDEN_TEXT: &str = include_str!("../../golden/text-0.0.4.txt");

/// The same registry in OpenMetrics 1.0, checked by `prometheus_client`'s strict parser.
const GOLDEN_OPENMETRICS: &str = include_str!("../../golden/openmetrics-1.0.txt");

/// Encodes the golden registry in `format` and compares it with `expected`, byte for
/// byte; a difference prints where it starts and both lines there.
fn golden(format: Format, expected: &str) -> Outcome {
    let registry = golden_registry().map_err(|error| {
        torchlight_firmware::report::explain(format_args!("registration failed: {error}"))
    })?;
    let mut out = Buffer::<2048>::new();
    let (encoded, used) = stack::high_water(|| buffer::encode(registry, format, &mut out));
    let Ok(bytes) = encoded else {
        return Err(torchlight_firmware::report::explain(format_args!(
            "the exposition does not fit in 2048 bytes"
        )));
    };
    line(format_args!(
        "  {} bytes, encode stack high-water mark {used} bytes",
        bytes.len()
    ));
    let expected = expected.as_bytes();
    if let Some(offset) = (0..bytes.len().max(expected.len()))
        .find(|&offset| bytes.get(offset) != expected.get(offset))
    {
        ensure!(
            false,
            "first difference at byte {offset} (got {} bytes, want {})\n  got:  {:?}\n  want: {:?}",
            bytes.len(),
            expected.len(),
            line_at(bytes, offset),
            line_at(expected, offset)
        );
    }
    Ok(())
}

/// The line of `text` around byte `offset`, for a failure message.
fn line_at(text: &[u8], offset: usize) -> &str {
    let start = text[..offset.min(text.len())]
        .iter()
        .rposition(|&byte| byte == b'\n')
        .map_or(0, |newline| newline + 1);
    let end = text[start..]
        .iter()
        .position(|&byte| byte == b'\n')
        .map_or(text.len(), |newline| start + newline);
    core::str::from_utf8(&text[start..end]).unwrap_or("<not UTF-8>")
}

fn encode_overflow() -> Outcome {
    let registry = golden_registry().map_err(|error| {
        torchlight_firmware::report::explain(format_args!("registration failed: {error}"))
    })?;
    let mut small = Buffer::<64>::new();
    ensure!(
        buffer::encode(registry, Format::Text, &mut small).is_err(),
        "an exposition larger than the buffer was not an error"
    );
    ensure!(
        small.as_bytes().len() <= 64 && GOLDEN_TEXT.as_bytes().starts_with(small.as_bytes()),
        "a full buffer holds bytes that are not a prefix of the exposition"
    );
    Ok(())
}

// ---- a remote-write body, built without an allocator ----------------------------------

/// The golden registry as a Prometheus remote-write body (a snappy-compressed
/// `WriteRequest`) stamped [`PUSH_TIME_MS`] with [`EXTERNAL_LABELS`]: what firmware would
/// hand its own transport. `tests/tests/suite/firmware.rs` decompresses and decodes these
/// bytes and checks the series, samples and metadata they hold.
const GOLDEN_REMOTE_WRITE: &[u8] = include_bytes!("../../golden/remote-write.bin");

/// 2023-11-14T22:13:20Z: a fixed time, so that the body is golden.
const PUSH_TIME_MS: i64 = 1_700_000_000_000;

/// Which device the samples come from, as Prometheus' `external_labels` say it.
const EXTERNAL_LABELS: [(&str, &str); 1] = [("device", "qemu")];

/// Builds the body in two fixed buffers (the uncompressed request, the compressed
/// body) and compares it with [`GOLDEN_REMOTE_WRITE`], byte for byte; a difference
/// prints the bytes built, in hex, to regenerate the golden file from.
fn remote_write() -> Outcome {
    let registry = golden_registry().map_err(|error| {
        torchlight_firmware::report::explain(format_args!("registration failed: {error}"))
    })?;
    let request = RemoteWrite::new(PUSH_TIME_MS)
        .with_external_labels(&EXTERNAL_LABELS)
        .map_err(|error| {
            torchlight_firmware::report::explain(format_args!("external labels: {error}"))
        })?;
    let mut scratch = [0u8; 1536];
    let mut body = [0u8; 1536];
    let mut sink = SliceSink::new(&mut body);
    let (encoded, used) =
        stack::high_water(|| registry.encode_remote_write(&mut scratch, &mut sink, &request));
    ensure!(
        encoded.is_ok(),
        "the remote-write body does not fit in 1536 bytes"
    );
    let bytes = sink.filled();
    line(format_args!(
        "  {} bytes, encode stack high-water mark {used} bytes",
        bytes.len()
    ));
    if bytes != GOLDEN_REMOTE_WRITE {
        for chunk in bytes.chunks(32) {
            let mut hex = [0u8; 64];
            for (i, byte) in chunk.iter().enumerate() {
                hex[2 * i] = b"0123456789abcdef"[usize::from(byte >> 4)];
                hex[2 * i + 1] = b"0123456789abcdef"[usize::from(byte & 0xf)];
            }
            let hex = core::str::from_utf8(&hex[..2 * chunk.len()]).unwrap_or("");
            line(format_args!("  got {hex}"));
        }
        ensure!(
            false,
            "the body differs from golden/remote-write.bin (got {} bytes, want {})",
            bytes.len(),
            GOLDEN_REMOTE_WRITE.len()
        );
    }
    Ok(())
}

// ---- the future wrappers on a bare-metal executor -------------------------------------

/// Ready once `ticks` SysTick ticks have passed since its first poll.
struct Sleep {
    ticks: u64,
    since: Option<u64>,
}

impl Sleep {
    fn new(ticks: u64) -> Self {
        Self { ticks, since: None }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
        let now = TICKS.get();
        let since = *self.since.get_or_insert(now);
        if now - since >= self.ticks {
            Poll::Ready(())
        } else {
            // The executor sleeps until the next interrupt, a tick, and polls again.
            Poll::Pending
        }
    }
}

/// The error the instrumented job fails with.
#[derive(Debug)]
struct JobFailed;

static JOB_TIME: Histogram<3> = Histogram::with_buckets(&JOB_BUCKETS);
/// Nominal seconds (ticks / 1000): a 3-tick job is 0.003 s.
static JOB_BUCKETS: Buckets<3> = Buckets::new([0.001, 0.01, 0.1]);
static JOB_ERRORS: Counter = Counter::new();
static JOBS_RUNNING: Gauge = Gauge::new();

/// Sleeps three ticks, reports how many jobs were running meanwhile, then succeeds or
/// fails.
async fn job(succeed: bool) -> Result<i64, JobFailed> {
    Sleep::new(3).await;
    let running = JOBS_RUNNING.get();
    if succeed { Ok(running) } else { Err(JobFailed) }
}

fn future_instrumented() -> Outcome {
    for succeed in [true, false] {
        let result = block_on(
            job(succeed)
                .count_errors(&JOB_ERRORS)
                .time_with(&JOB_TIME, TickClock)
                .track_in_progress(&JOBS_RUNNING),
        );
        match (succeed, result) {
            (true, Ok(running)) => ensure!(running == 1, "in progress while running: {running}"),
            (false, Err(JobFailed)) => {}
            (_, other) => ensure!(false, "job(succeed: {succeed}) returned {other:?}"),
        }
    }
    let timed = JOB_TIME.snapshot();
    ensure!(timed.count() == 2, "timed {} jobs, want 2", timed.count());
    // Each job takes three ticks from its first poll; the clock is read just before and
    // just after, so an interrupt in between can add a tick at each end.
    ensure!(
        (0.006..=0.010).contains(&timed.sum()),
        "the two jobs took {} s, want 0.006 to 0.010 (3 to 5 ticks each)",
        timed.sum()
    );
    ensure!(
        timed.cumulative() == &[0, 2, 2],
        "job time buckets {:?}, want [0, 2, 2]",
        timed.cumulative()
    );
    ensure!(
        JOB_ERRORS.get() == 1,
        "{} errors counted, want 1",
        JOB_ERRORS.get()
    );
    ensure!(
        JOBS_RUNNING.get() == 0,
        "{} jobs still in progress",
        JOBS_RUNNING.get()
    );
    Ok(())
}

/// A job polled once and dropped (cancelled) is timed and leaves the in-progress gauge.
fn future_dropped() -> Outcome {
    static DROPPED_TIME: Histogram<3> = Histogram::with_buckets(&JOB_BUCKETS);
    static DROPPED_ERRORS: Counter = Counter::new();
    {
        let mut wrapped = pin!(
            job(false)
                .count_errors(&DROPPED_ERRORS)
                .time_with(&DROPPED_TIME, TickClock)
                .track_in_progress(&JOBS_RUNNING)
        );
        let mut context = Context::from_waker(Waker::noop());
        ensure!(
            wrapped.as_mut().poll(&mut context).is_pending(),
            "a three-tick job finished at its first poll"
        );
        ensure!(
            JOBS_RUNNING.get() == 1,
            "in progress after one poll: {}",
            JOBS_RUNNING.get()
        );
    }
    ensure!(
        JOBS_RUNNING.get() == 0,
        "a dropped job left the gauge at {}",
        JOBS_RUNNING.get()
    );
    ensure!(
        DROPPED_TIME.snapshot().count() == 1,
        "a dropped job was timed {} times, want once",
        DROPPED_TIME.snapshot().count()
    );
    ensure!(
        DROPPED_ERRORS.get() == 0,
        "a cancellation counted as an error without count_cancellation()"
    );
    Ok(())
}

// ---- a histogram observed from the SysTick interrupt, snapshotted by the main loop ----

/// Observed by the SysTick handler, one value per tick, cycling through [`IRQ_VALUES`].
static IRQ_LATENCY: Histogram<3> = Histogram::with_buckets(&SMALL);
/// One value per bucket of [`SMALL`] and one above them, all powers of two.
const IRQ_VALUES: [f64; 4] = [0.0625, 0.5, 4.0, 16.0];

#[exception]
fn SysTick() {
    let tick = TICKS.get();
    TICKS.inc();
    IRQ_LATENCY.observe(IRQ_VALUES[(tick % 4) as usize]);
    // Every eighth tick only: a snapshot every tick would take longer than the period
    // on the Cortex-M0, and the handler would run back to back, starving the main loop.
    if IRQ_SNAPSHOTTING.get() == 1 && tick % 8 == 0 {
        let snapshot = MAIN_LATENCY.snapshot();
        IRQ_SNAPSHOTS.inc();
        if !consistent(&snapshot) {
            IRQ_TORN.inc();
        }
    }
}

/// What a histogram over [`SMALL`] holds after `count` observations of [`IRQ_VALUES`]
/// in turn: its whole state follows from the count, so a torn snapshot (buckets, sum and
/// count from different moments) differs.
fn irq_expected(count: u64) -> ([u64; 3], f64) {
    let per_value = |index: u64| count / 4 + u64::from(count % 4 > index);
    let (a, b, c, d) = (per_value(0), per_value(1), per_value(2), per_value(3));
    let sum = a as f64 * IRQ_VALUES[0]
        + b as f64 * IRQ_VALUES[1]
        + c as f64 * IRQ_VALUES[2]
        + d as f64 * IRQ_VALUES[3];
    ([a, a + b, a + b + c], sum)
}

/// Whether `snapshot` is what [`irq_expected`] says for its count.
fn consistent(snapshot: &Snapshot<3>) -> bool {
    let (cumulative, sum) = irq_expected(snapshot.count());
    snapshot.cumulative() == &cumulative && snapshot.sum() == sum
}

/// Snapshots taken while the SysTick handler observes: every one must be consistent.
const SNAPSHOTS: u32 = 20_000;
/// How many of them the interrupt must have landed inside for the check to mean something.
const PREEMPTED_AT_LEAST: u32 = 100;

fn histogram_interrupt() -> Outcome {
    let mut preempted = 0u32;
    let mut last = 0u64;
    for _ in 0..SNAPSHOTS {
        let before = TICKS.get();
        let snapshot: Snapshot<3> = IRQ_LATENCY.snapshot();
        let after = TICKS.get();
        if after != before {
            preempted += 1;
        }
        let count = snapshot.count();
        let (cumulative, sum) = irq_expected(count);
        ensure!(
            snapshot.cumulative() == &cumulative && snapshot.sum() == sum,
            "torn snapshot: count {count}, buckets {:?}, sum {}; a consistent one has \
             buckets {cumulative:?}, sum {sum}",
            snapshot.cumulative(),
            snapshot.sum()
        );
        ensure!(
            (before..=after).contains(&count) && count >= last,
            "snapshot count {count} outside the ticks around it ({before}..={after}) or \
             below the previous snapshot's {last}"
        );
        last = count;
    }
    line(format_args!(
        "  {SNAPSHOTS} snapshots, {preempted} with the interrupt inside, {last} observations"
    ));
    ensure!(
        preempted >= PREEMPTED_AT_LEAST,
        "only {preempted} snapshots had the interrupt inside (want {PREEMPTED_AT_LEAST}): \
         the check did not exercise preemption"
    );
    Ok(())
}

// ---- a histogram snapshotted in the SysTick handler while the main loop observes ------

/// Observed by the main loop with interrupts masked around each observation, snapshotted
/// by the SysTick handler while [`IRQ_SNAPSHOTTING`] is 1.
static MAIN_LATENCY: Histogram<3> = Histogram::with_buckets(&SMALL);
/// 1 while the SysTick handler snapshots [`MAIN_LATENCY`].
static IRQ_SNAPSHOTTING: Gauge = Gauge::new();
/// Snapshots of [`MAIN_LATENCY`] the handler took.
static IRQ_SNAPSHOTS: Counter = Counter::new();
/// How many of those were not [`consistent`].
static IRQ_TORN: Counter = Counter::new();

/// The other direction, done the one way it can work on one core. A snapshot waits for
/// the observations in flight, so a handler that snapshots a histogram must never
/// interrupt an observation of it: the main loop masks interrupts around each one (and
/// never snapshots that histogram itself, whose collection lock the handler would wait
/// on). Without the mask this hangs (see the crate docs); with it, a read without the
/// protocol would pass too, so this check shows the recipe works, while
/// `histogram-interrupt` is the one that tests the protocol.
fn histogram_snapshot_in_interrupt() -> Outcome {
    const OBSERVATIONS: u64 = 20_000;
    IRQ_SNAPSHOTTING.set(1);
    for index in 0..OBSERVATIONS {
        let value = IRQ_VALUES[(index % 4) as usize];
        cortex_m::interrupt::free(|_| MAIN_LATENCY.observe(value));
    }
    // After this store no handler starts a snapshot; one in progress ended before it.
    IRQ_SNAPSHOTTING.set(0);
    let (snapshots, torn) = (IRQ_SNAPSHOTS.get(), IRQ_TORN.get());
    line(format_args!(
        "  {OBSERVATIONS} observations, {snapshots} snapshots in the handler"
    ));
    ensure!(
        torn == 0,
        "{torn} of {snapshots} snapshots in the handler were torn"
    );
    ensure!(
        snapshots >= u64::from(PREEMPTED_AT_LEAST),
        "only {snapshots} snapshots in the handler (want {PREEMPTED_AT_LEAST})"
    );
    let last = MAIN_LATENCY.snapshot();
    ensure!(
        last.count() == OBSERVATIONS && consistent(&last),
        "after the run: count {}, buckets {:?}, sum {}",
        last.count(),
        last.cumulative(),
        last.sum()
    );
    Ok(())
}
