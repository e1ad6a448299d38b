//! The process metrics against an independent reading of `/proc` made here, with
//! `getconf` for the clock tick and page size (what `sysconf` answers), not the
//! auxiliary vector the collector reads.
//!
//! One test function: the open descriptor count is exact only while no other test of
//! this binary opens files.
#![cfg(all(feature = "std", target_os = "linux"))]
#![forbid(unsafe_code)]

use std::fs::File;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

use torchlight::process::{self, Reading};
use torchlight::{Format, Registry};

/// `getconf NAME` as a number.
fn getconf(name: &str) -> f64 {
    let output = Command::new("getconf")
        .arg(name)
        .output()
        .unwrap_or_else(|error| panic!("getconf {name}: {error} (install libc-bin)"));
    let text = String::from_utf8_lossy(&output.stdout);
    text.trim()
        .parse()
        .unwrap_or_else(|_| panic!("getconf {name} printed {text:?}"))
}

/// The fields of `/proc/self/stat` after the command name, numbered as in proc(5).
fn stat_field(n: usize) -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    let (_, rest) = stat
        .rsplit_once(')')
        .expect("a command name in parentheses");
    let field = rest.split_whitespace().nth(n - 3).expect("field present");
    field.parse().expect("a number")
}

fn fd_count() -> f64 {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .count() as f64
}

fn limit(name: &str) -> f64 {
    let limits = std::fs::read_to_string("/proc/self/limits").expect("/proc/self/limits");
    let line = limits
        .lines()
        .find(|line| line.starts_with(name))
        .expect("the limit");
    match line[name.len()..].split_whitespace().next() {
        Some("unlimited") => 18_446_744_073_709_551_615.0,
        Some(value) => value.parse().expect("a number"),
        None => panic!("no soft limit on {line:?}"),
    }
}

fn read(family: Reading) -> f64 {
    family
        .read()
        .unwrap_or_else(|| panic!("{} unreadable", family.name()))
}

#[test]
fn process_values_match_an_independent_reading_of_proc() {
    let ticks = getconf("CLK_TCK");
    let page = getconf("PAGESIZE");

    // CPU: burn some, then the collector's reading lies between two of ours.
    let mut x = 0u64;
    for i in 0..20_000_000u64 {
        x = x.wrapping_mul(31).wrapping_add(i);
    }
    assert_ne!(std::hint::black_box(x), 1);
    // And system time: reading /proc is system calls, until a tick of it is charged
    // (so a collector that left `stime` out would fail below).
    let mut reads = 0;
    while stat_field(15) == 0.0 && reads < 1_000_000 {
        reads += 1;
    }
    assert!(stat_field(15) > 0.0, "no system time after {reads} reads");
    let before = (stat_field(14) + stat_field(15)) / ticks;
    let cpu = read(Reading::CpuSeconds);
    let after = (stat_field(14) + stat_field(15)) / ticks;
    assert!(before > 0.0, "some CPU time was spent");
    assert!(
        before <= cpu && cpu <= after + 1.0 / ticks,
        "cpu {cpu} outside [{before}, {after}]"
    );

    // Open descriptors: exact, and 10 more after opening 10 known files.
    let count = || (fd_count(), read(Reading::OpenFds), fd_count());
    let (a, ours, b) = count();
    assert_eq!((a, b), (ours, ours), "open fds");
    let files: Vec<File> = (0..10)
        .map(|_| File::open("/proc/self/stat").expect("open"))
        .collect();
    let (a, more, b) = count();
    assert_eq!((a, b), (more, more), "open fds with 10 more files");
    assert_eq!(more, ours + 10.0);
    drop(files);
    assert_eq!(read(Reading::OpenFds), ours);

    assert_eq!(read(Reading::MaxFds), limit("Max open files"));
    assert_eq!(read(Reading::VirtualMemoryMax), limit("Max address space"));

    // Memory moves while we read, but not by much between two reads.
    let vsize = read(Reading::VirtualMemory);
    assert!(
        (vsize - stat_field(23)).abs() < 64.0 * 1024.0 * 1024.0,
        "vsize {vsize}"
    );
    let rss = read(Reading::ResidentMemory);
    let rss_here = stat_field(24) * page;
    assert!(
        (rss - rss_here).abs() < 16.0 * 1024.0 * 1024.0,
        "rss {rss} vs {rss_here}"
    );
    assert!(rss > 0.0 && rss < vsize);

    // Start time: boot time plus start ticks, within a second; before now.
    let proc_stat = std::fs::read_to_string("/proc/stat").expect("/proc/stat");
    let btime: f64 = proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .expect("btime")
        .trim()
        .parse()
        .expect("a number");
    let start_here = btime + stat_field(22) / ticks;
    let start = read(Reading::StartTime);
    assert!(
        (start - start_here).abs() <= 1.0,
        "start {start} vs {start_here}"
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs_f64();
    assert!(
        start <= now && now - start < 3600.0,
        "start {start}, now {now}"
    );

    // Network: the namespace's IpExt octets, which only grow.
    let netstat = std::fs::read_to_string("/proc/self/net/netstat").expect("netstat");
    let mut ip_ext = netstat.lines().filter(|line| line.starts_with("IpExt:"));
    let (names, values) = (
        ip_ext.next().expect("names"),
        ip_ext.next().expect("values"),
    );
    let at = names
        .split_whitespace()
        .position(|n| n == "InOctets")
        .expect("InOctets");
    let in_here: f64 = values
        .split_whitespace()
        .nth(at)
        .expect("value")
        .parse()
        .expect("n");
    assert!(read(Reading::NetworkReceive) >= in_here);
    assert!(read(Reading::NetworkTransmit) >= 0.0);

    // Registered in one line, every family is exposed with a sample.
    let registry = Registry::new();
    process::register(&registry).expect("registers");
    let mut text = String::new();
    registry.encode(&mut text, Format::Text).expect("encodes");
    for family in Reading::ALL {
        let name = family.name();
        assert!(
            text.lines()
                .any(|line| line.starts_with(&format!("{name} "))),
            "{name} missing from:\n{text}"
        );
    }
    // Twice is a clash, and leaves the first registration as it was.
    assert!(process::register(&registry).is_err());
    let mut again = String::new();
    registry.encode(&mut again, Format::Text).expect("encodes");
    assert_eq!(again.lines().count(), text.lines().count());
}
