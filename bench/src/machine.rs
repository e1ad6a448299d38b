//! The machine a bench program runs on, printed with its results: core count, CPU
//! model, load at start, and the compiler the program was built with.

use std::fs;

/// The first field of every machine line: `torchlight-bench-machine <key> <value>`.
pub const PREFIX: &str = "torchlight-bench-machine";

/// The machine's description as `(key, value)` pairs.
#[must_use]
pub fn describe() -> Vec<(&'static str, String)> {
    let cpus = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            (key.trim() == "model name").then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let load = fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_else(|| "unknown".to_owned());
    vec![
        ("cpus", cpus.to_string()),
        ("cpu_model", model),
        ("load_average", load),
        ("rustc", env!("TORCHLIGHT_BENCH_RUSTC").to_owned()),
    ]
}

/// Prints [`describe`] as machine lines on standard output.
pub fn print() {
    for (key, value) in describe() {
        println!("{PREFIX}\t{key}\t{value}");
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn describes_cores_and_compiler() {
        let machine = super::describe();
        let get = |key| {
            machine
                .iter()
                .find(|(k, _)| *k == key)
                .map(|(_, v)| v.clone())
        };
        assert!(get("cpus").is_some_and(|cpus| cpus.parse::<usize>().is_ok_and(|n| n > 0)));
        assert!(get("rustc").is_some_and(|rustc| rustc.starts_with("rustc ")));
    }
}
