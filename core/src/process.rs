//! Process metrics (`std`): CPU time, memory, file descriptors, start time and network
//! bytes of the running process, read when a scrape happens.
//!
//! [`register`] adds them to a registry in one line. The names, types and help texts
//! are exactly those of client_golang's process collector
//! (`prometheus/process_collector.go` and its procfs reader) and, for the six it has, of
//! Python `prometheus_client`'s `ProcessCollector` (`prometheus_client/process_collector.py`),
//! so dashboards built for either work unchanged:
//!
//! | name | type | read from (Linux) |
//! |---|---|---|
//! | `process_cpu_seconds_total` | counter | `/proc/self/stat` `utime + stime`, in clock ticks |
//! | `process_open_fds` | gauge | the entries of `/proc/self/fd` |
//! | `process_max_fds` | gauge | `/proc/self/limits`, "Max open files" (soft limit) |
//! | `process_virtual_memory_bytes` | gauge | `/proc/self/stat` `vsize` |
//! | `process_virtual_memory_max_bytes` | gauge | `/proc/self/limits`, "Max address space" (soft; `unlimited` is 2⁶⁴ − 1, as in Go) |
//! | `process_resident_memory_bytes` | gauge | `/proc/self/stat` `rss` × page size |
//! | `process_start_time_seconds` | gauge | `/proc/self/stat` `starttime` / ticks + `/proc/stat` `btime` |
//! | `process_network_receive_bytes_total` | counter | `/proc/self/net/netstat`, `IpExt: InOctets` |
//! | `process_network_transmit_bytes_total` | counter | `/proc/self/net/netstat`, `IpExt: OutOctets` |
//!
//! The network counters are those of the process's network namespace, as in
//! client_golang (Python has none). The clock tick and page size come from the
//! kernel's auxiliary vector (`/proc/self/auxv`, `AT_CLKTCK` and `AT_PAGESZ`), which is
//! what `sysconf` reads; nothing is spawned, and the files are read with `std::fs`.
//!
//! A value that cannot be read at scrape time (a sandbox hiding `/proc`) is left out
//! of that scrape (its family is written without samples; Python's collector leaves
//! such values out too) rather than failing the whole scrape.
//!
//! On other platforms than Linux (and Android) there is no `/proc` to read, and the
//! platforms' own APIs would need `unsafe` calls this crate does not make, so
//! [`register`] registers nothing there ([`SUPPORTED`] is `false`): no value is made
//! up.
//!
//! Cost: each family reads what it needs when it is encoded, and a scrape reads each
//! file once: the families are encoded one after another on one thread, so a reading
//! of `/proc/self/stat`, `/proc/self/limits` or `/proc/self/net/netstat` is kept in a
//! thread-local cell for 100 ms and the next family of the same scrape takes it from
//! there (a scrape of the nine families reads `stat`, `limits` and `netstat` once each
//! and lists `/proc/self/fd`; the `bench` case `case11_process` times it). `stat` and
//! `limits` are read into a buffer on the stack; listing the descriptors and reading
//! `netstat` allocate (this module is one of the `std` extras outside the
//! allocation-free encode path). The start time is read once and kept.

use core::cell::Cell;
use core::fmt;
use core::time::Duration;
use std::io::Read as _;
use std::sync::{Arc, OnceLock};
use std::thread::LocalKey;
use std::time::Instant;

use crate::collect::{Collect, MetricType};
use crate::metric::Metric;
use crate::registry::{RegisterError, Registry};
use crate::sample::Encoder;

/// Whether this platform has process metrics; [`register`] registers nothing when not.
pub const SUPPORTED: bool = cfg!(any(target_os = "linux", target_os = "android"));

/// One process metric family: which value it reads at scrape time.
///
/// Registered by [`register`]; public so its families can be registered one by one
/// (under other names, in other registries) with
/// [`Registry::register_owned`](crate::Registry::register_owned).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reading {
    /// `process_cpu_seconds_total`: user and system CPU time.
    CpuSeconds,
    /// `process_open_fds`: open file descriptors.
    OpenFds,
    /// `process_max_fds`: the soft limit on open file descriptors.
    MaxFds,
    /// `process_virtual_memory_bytes`: virtual memory size.
    VirtualMemory,
    /// `process_virtual_memory_max_bytes`: the soft limit on the address space.
    VirtualMemoryMax,
    /// `process_resident_memory_bytes`: resident set size.
    ResidentMemory,
    /// `process_start_time_seconds`: start time since the Unix epoch.
    StartTime,
    /// `process_network_receive_bytes_total`: bytes received (network namespace).
    NetworkReceive,
    /// `process_network_transmit_bytes_total`: bytes sent (network namespace).
    NetworkTransmit,
}

impl Reading {
    /// Every family, in the order [`register`] registers them (client_golang's
    /// `Describe` order, network counters last).
    pub const ALL: [Self; 9] = [
        Self::CpuSeconds,
        Self::OpenFds,
        Self::MaxFds,
        Self::VirtualMemory,
        Self::VirtualMemoryMax,
        Self::ResidentMemory,
        Self::StartTime,
        Self::NetworkReceive,
        Self::NetworkTransmit,
    ];

    /// The name client_golang and Python expose it under.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::CpuSeconds => "process_cpu_seconds_total",
            Self::OpenFds => "process_open_fds",
            Self::MaxFds => "process_max_fds",
            Self::VirtualMemory => "process_virtual_memory_bytes",
            Self::VirtualMemoryMax => "process_virtual_memory_max_bytes",
            Self::ResidentMemory => "process_resident_memory_bytes",
            Self::StartTime => "process_start_time_seconds",
            Self::NetworkReceive => "process_network_receive_bytes_total",
            Self::NetworkTransmit => "process_network_transmit_bytes_total",
        }
    }

    /// The help text, word for word client_golang's (and Python's, where it has one).
    #[must_use]
    pub const fn help(self) -> &'static str {
        match self {
            Self::CpuSeconds => "Total user and system CPU time spent in seconds.",
            Self::OpenFds => "Number of open file descriptors.",
            Self::MaxFds => "Maximum number of open file descriptors.",
            Self::VirtualMemory => "Virtual memory size in bytes.",
            Self::VirtualMemoryMax => "Maximum amount of virtual memory available in bytes.",
            Self::ResidentMemory => "Resident memory size in bytes.",
            Self::StartTime => "Start time of the process since unix epoch in seconds.",
            Self::NetworkReceive => "Number of bytes received by the process over the network.",
            Self::NetworkTransmit => "Number of bytes sent by the process over the network.",
        }
    }

    /// Reads the value now; `None` when it cannot be read.
    #[must_use]
    pub fn read(self) -> Option<f64> {
        if !SUPPORTED {
            return None;
        }
        match self {
            Self::CpuSeconds => {
                let stat = Stat::read()?;
                Some((stat.utime + stat.stime) as f64 / auxv().clock_ticks)
            }
            Self::OpenFds => open_fds(),
            Self::MaxFds => Limits::read()?.open_files,
            Self::VirtualMemory => Some(Stat::read()?.vsize as f64),
            Self::VirtualMemoryMax => Limits::read()?.address_space,
            Self::ResidentMemory => Some(Stat::read()?.rss as f64 * auxv().page_size),
            Self::StartTime => *START_TIME.get_or_init(start_time),
            Self::NetworkReceive => Netstat::read()?.received,
            Self::NetworkTransmit => Netstat::read()?.sent,
        }
    }
}

impl Collect for Reading {
    fn metric_type(&self) -> MetricType {
        match self {
            Self::CpuSeconds | Self::NetworkReceive | Self::NetworkTransmit => MetricType::Counter,
            _ => MetricType::Gauge,
        }
    }

    fn encode(&self, encoder: &mut Encoder<'_>) -> fmt::Result {
        match (self.read(), self.metric_type()) {
            (None, _) => Ok(()),
            (Some(value), MetricType::Counter) => encoder.counter(&(), value),
            (Some(value), _) => encoder.gauge(&(), value),
        }
    }
}

/// Registers every process metric in `registry`: one line gives a registry what
/// Go's and Python's default registries expose.
///
/// ```
/// use torchlight::{Format, Registry, process};
///
/// let registry = Registry::new();
/// process::register(&registry)?;
///
/// let mut text = String::new();
/// registry.encode(&mut text, Format::Text)?;
/// # #[cfg(target_os = "linux")]
/// assert!(text.contains("# TYPE process_cpu_seconds_total counter\n"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// Does nothing where [`SUPPORTED`] is `false`.
///
/// # Errors
///
/// [`RegisterError::Clash`] when a family of the same name is already registered (the
/// process metrics themselves, registered twice); then none of them is registered.
pub fn register(registry: &Registry) -> Result<(), RegisterError> {
    if !SUPPORTED {
        return Ok(());
    }
    registry.register_owned_all(
        Reading::ALL.map(|family| Arc::new(Metric::new(family.name(), family.help(), family))),
    )
}

/// How long a reading of a `/proc` file serves the families after the one that read
/// it: the families of one scrape are encoded within microseconds of each other, so a
/// scrape reads each file once; a scrape that follows another on the same thread
/// within this time (Prometheus scrapes seconds apart) shows the same readings.
const FRESH: Duration = Duration::from_millis(100);

/// `read()` unless this thread read it less than [`FRESH`] ago.
fn fresh<T: Copy + 'static>(
    cell: &'static LocalKey<Cell<Option<(Instant, T)>>>,
    read: impl FnOnce() -> Option<T>,
) -> Option<T> {
    let now = Instant::now();
    if let Some((at, value)) = cell.get() {
        if now.saturating_duration_since(at) < FRESH {
            return Some(value);
        }
    }
    let value = read()?;
    cell.set(Some((now, value)));
    Some(value)
}

std::thread_local! {
    static STAT: Cell<Option<(Instant, Stat)>> = const { Cell::new(None) };
    static LIMITS: Cell<Option<(Instant, Limits)>> = const { Cell::new(None) };
    static NETSTAT: Cell<Option<(Instant, Netstat)>> = const { Cell::new(None) };
}

/// The fields of `/proc/self/stat` this module reads (proc(5) numbers them from 1).
#[derive(Clone, Copy, Debug)]
struct Stat {
    /// Field 14, clock ticks.
    utime: u64,
    /// Field 15, clock ticks.
    stime: u64,
    /// Field 22, clock ticks after boot.
    starttime: u64,
    /// Field 23, bytes.
    vsize: u64,
    /// Field 24, pages.
    rss: u64,
}

impl Stat {
    fn read() -> Option<Self> {
        fresh(&STAT, Self::read_file)
    }

    fn read_file() -> Option<Self> {
        // A stat line is a few hundred bytes: the command name is at most 64 bytes
        // (`TASK_COMM_LEN` is 16) and the 50 numbers at most 20 digits each.
        let mut buf = [0u8; 1536];
        Self::parse(read_into("/proc/self/stat", &mut buf)?)
    }

    fn parse(text: &[u8]) -> Option<Self> {
        // The command name (field 2) is in parentheses and may hold spaces and `)`:
        // the fields after it start after the last `)`, as Python's collector splits.
        let close = text.iter().rposition(|&b| b == b')')?;
        // After `)`, field 3 (state) is the first word.
        let mut fields = words(&text[close + 1..]);
        let mut field = |n: usize| -> Option<u64> { parse_u64(fields.nth(n)?) };
        // `nth` consumes: offsets are relative to the previous read, from field 3.
        let utime = field(14 - 3)?;
        let stime = field(0)?;
        let starttime = field(22 - 15 - 1)?;
        let vsize = field(0)?;
        let rss = field(0)?;
        Some(Self {
            utime,
            stime,
            starttime,
            vsize,
            rss,
        })
    }
}

/// What the kernel's auxiliary vector says about time and memory units.
struct Auxv {
    /// `AT_CLKTCK`: the unit of the times in `stat`.
    clock_ticks: f64,
    /// `AT_PAGESZ`: the unit of `rss`.
    page_size: f64,
}

fn auxv() -> &'static Auxv {
    static AUXV: OnceLock<Auxv> = OnceLock::new();
    AUXV.get_or_init(|| {
        // Defaults when the vector cannot be read: `USER_HZ` is 100 on every Linux
        // architecture Rust supports, and 4 KiB pages are the common case (Python's
        // collector falls back to the same two).
        let mut auxv = Auxv {
            clock_ticks: 100.0,
            page_size: 4096.0,
        };
        // `AT_PAGESZ` and `AT_CLKTCK`, from <linux/auxvec.h>.
        const AT_PAGESZ: usize = 6;
        const AT_CLKTCK: usize = 17;
        const WORD: usize = size_of::<usize>();
        let mut buf = [0u8; 1024];
        if let Some(bytes) = read_into("/proc/self/auxv", &mut buf) {
            for pair in bytes.chunks_exact(2 * WORD) {
                let (key, value) = pair.split_at(WORD);
                let word = |b: &[u8]| b.try_into().ok().map(usize::from_ne_bytes);
                match (word(key), word(value)) {
                    (Some(AT_CLKTCK), Some(ticks)) if ticks > 0 => {
                        auxv.clock_ticks = ticks as f64;
                    }
                    (Some(AT_PAGESZ), Some(size)) if size > 0 => auxv.page_size = size as f64,
                    _ => {}
                }
            }
        }
        auxv
    })
}

/// The start time, kept once read: it cannot change.
static START_TIME: OnceLock<Option<f64>> = OnceLock::new();

fn start_time() -> Option<f64> {
    let ticks = Stat::read_file()?.starttime;
    let stat = std::fs::read("/proc/stat").ok()?;
    let boot = stat
        .split(|&b| b == b'\n')
        .find_map(|line| line.strip_prefix(b"btime "))
        .and_then(|rest| parse_u64(words(rest).next()?))?;
    Some(boot as f64 + ticks as f64 / auxv().clock_ticks)
}

fn open_fds() -> Option<f64> {
    // The listing's own descriptor is counted, as in Go's and Python's collectors.
    let entries = std::fs::read_dir("/proc/self/fd").ok()?;
    let mut count = 0u64;
    for entry in entries {
        entry.ok()?;
        count += 1;
    }
    Some(count as f64)
}

/// The two soft limits of `/proc/self/limits` this module reads; `unlimited` is
/// `u64::MAX`, as procfs (and so client_golang) reports it.
#[derive(Clone, Copy, Debug)]
struct Limits {
    /// "Max open files".
    open_files: Option<f64>,
    /// "Max address space".
    address_space: Option<f64>,
}

impl Limits {
    fn read() -> Option<Self> {
        fresh(&LIMITS, || {
            let mut buf = [0u8; 4096];
            let text = read_into("/proc/self/limits", &mut buf)?;
            Some(Self {
                open_files: soft_limit(text, b"Max open files"),
                address_space: soft_limit(text, b"Max address space"),
            })
        })
    }
}

/// The soft limit of the `limits` line starting with `name`.
fn soft_limit(text: &[u8], name: &[u8]) -> Option<f64> {
    let line = text
        .split(|&b| b == b'\n')
        .find(|line| line.starts_with(name))?;
    // The limit names are made of words too: the soft limit is the first field after
    // the name.
    let soft = words(&line[name.len()..]).next()?;
    if soft == b"unlimited" {
        return Some(u64::MAX as f64);
    }
    parse_u64(soft).map(|value| value as f64)
}

/// The `IpExt:` byte counters of `/proc/self/net/netstat` (a header line of names,
/// then a line of values).
#[derive(Clone, Copy, Debug)]
struct Netstat {
    /// `InOctets`.
    received: Option<f64>,
    /// `OutOctets`.
    sent: Option<f64>,
}

impl Netstat {
    fn read() -> Option<Self> {
        fresh(&NETSTAT, || {
            let text = std::fs::read("/proc/self/net/netstat").ok()?;
            let mut lines = text
                .split(|&b| b == b'\n')
                .filter(|line| line.starts_with(b"IpExt:"));
            let (names, values) = (lines.next()?, lines.next()?);
            let counter = |name: &[u8]| {
                let at = words(names).position(|word| word == name)?;
                parse_u64(words(values).nth(at)?).map(|value| value as f64)
            };
            Some(Self {
                received: counter(b"InOctets"),
                sent: counter(b"OutOctets"),
            })
        })
    }
}

/// Reads the whole of `path` into `buf`; `None` if it cannot be read or does not fit.
fn read_into<'b>(path: &str, buf: &'b mut [u8]) -> Option<&'b [u8]> {
    let mut file = std::fs::File::open(path).ok()?;
    let mut filled = 0;
    loop {
        if filled == buf.len() {
            return None;
        }
        match file.read(&mut buf[filled..]) {
            Ok(0) => return Some(&buf[..filled]),
            Ok(read) => filled += read,
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => return None,
        }
    }
}

fn words(text: &[u8]) -> impl Iterator<Item = &[u8]> {
    text.split(u8::is_ascii_whitespace)
        .filter(|word| !word.is_empty())
}

fn parse_u64(digits: &[u8]) -> Option<u64> {
    core::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(all(test, any(target_os = "linux", target_os = "android")))]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_found_after_a_command_name_with_spaces_and_parentheses() {
        // Fields 14, 15, 22, 23 and 24 of a made-up line (proc(5) numbering).
        let line = b"42 (a) b (c) S 1 2 3 4 5 6 7 8 9 10 111 222 11 12 13 14 15 16 333 444 555 17";
        let stat = Stat::parse(line).expect("a well-formed line");
        assert_eq!(
            (stat.utime, stat.stime, stat.starttime, stat.vsize, stat.rss),
            (111, 222, 333, 444, 555)
        );
        assert!(Stat::parse(b"42 (truncated) S 1 2").is_none());
    }
}
