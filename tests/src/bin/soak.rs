//! `soak [--minutes N] [--out DIR] [--https-only] [ADAPTER]...`: each adapter's
//! `quickstart` soaked over HTTP, then HTTPS (or over HTTPS only, for a longer look at
//! TLS), `N` minutes per adapter in all (default 10), the series and
//! a summary table written into `DIR` (default `target/soak`). What `cargo xtask soak`
//! runs; see `torchlight_tests::soak`. Exits 1 when a run found an error, a lost
//! observation or a leak.
#![forbid(unsafe_code)]

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use torchlight_tests::examples;
use torchlight_tests::soak::{self, Outcome, Scheme};

const ADAPTERS: [&str; 3] = ["tokio", "smol", "async-std"];

fn usage() -> ExitCode {
    eprintln!("usage: soak [--minutes N] [--out DIR] [--https-only] [tokio|smol|async-std]...");
    ExitCode::from(2)
}

fn main() -> ExitCode {
    let mut minutes = 10.0_f64;
    let mut out = PathBuf::from("target/soak");
    let mut adapters = Vec::new();
    let mut schemes = vec![Scheme::Http, Scheme::Https];
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => match args.next().and_then(|value| value.parse().ok()) {
                Some(value) if value > 0.0 => minutes = value,
                _ => return usage(),
            },
            "--out" => match args.next() {
                Some(value) => out = PathBuf::from(value),
                None => return usage(),
            },
            "--https-only" => schemes = vec![Scheme::Https],
            adapter if ADAPTERS.contains(&adapter) => adapters.push(arg),
            _ => return usage(),
        }
    }
    if adapters.is_empty() {
        adapters = ADAPTERS.iter().map(|&a| a.to_owned()).collect();
    }
    if let Err(error) = std::fs::create_dir_all(&out) {
        eprintln!("cannot create {}: {error}", out.display());
        return ExitCode::FAILURE;
    }
    #[allow(clippy::cast_precision_loss)]
    let per_scheme = Duration::from_secs_f64(minutes * 60.0 / schemes.len() as f64);
    let mut outcomes: Vec<Outcome> = Vec::new();
    for adapter in &adapters {
        let (_guard, built) = examples::build(&format!("torchlight-{adapter}"));
        let Some(quickstart) = built.get("quickstart") else {
            eprintln!("torchlight-{adapter} built no quickstart example");
            return ExitCode::FAILURE;
        };
        for &scheme in &schemes {
            println!(
                "==> soak {adapter} over {} for {:.0} s",
                scheme.name(),
                per_scheme.as_secs_f64()
            );
            match soak::run(adapter, quickstart, scheme, per_scheme, &out) {
                Ok(outcome) => outcomes.push(outcome),
                Err(error) => {
                    eprintln!("soak {adapter} {}: {error}", scheme.name());
                    return ExitCode::FAILURE;
                }
            }
        }
    }
    let table = summary(&outcomes);
    print!("\n{table}");
    if let Err(error) = std::fs::write(out.join("summary.md"), &table) {
        eprintln!("cannot write the summary: {error}");
        return ExitCode::FAILURE;
    }
    let mut failed = false;
    for outcome in &outcomes {
        for failure in &outcome.failures {
            failed = true;
            eprintln!("{} {}: {failure}", outcome.adapter, outcome.scheme.name());
        }
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// The Markdown table of the runs.
fn summary(outcomes: &[Outcome]) -> String {
    let mut table = String::from(
        "| adapter | scheme | seconds | scrapes | scrape p50 / p99 / max (ms) | app requests (lost) | \
         half-closed answered | slow clients | connections | RSS start → end (MiB) | RSS trend, 2nd half | \
         fds min–max | errors |\n|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n",
    );
    for o in outcomes {
        let seconds = o.seconds.last().map_or(0.0, |s| s.at);
        #[allow(clippy::cast_precision_loss)]
        let mib = |kib: u64| kib as f64 / 1024.0;
        let rss_start = o.seconds.first().map_or(0, |s| s.rss_kib);
        let rss_end = o.seconds.last().map_or(0, |s| s.rss_kib);
        let fds_min = o.seconds.iter().map(|s| s.fds).min().unwrap_or(0);
        let fds_max = o.seconds.iter().map(|s| s.fds).max().unwrap_or(0);
        let trend = o.rss.map_or_else(
            || "–".to_owned(),
            |t| format!("{:+.0} KiB (noise {:.0})", t.rise, t.noise),
        );
        let lost = if o.failures.iter().any(|f| f.starts_with("lost")) {
            "yes"
        } else {
            "0"
        };
        let errors = o.seconds.last().map_or(0, |s| s.errors);
        let _ = writeln!(
            table,
            "| {} | {} | {seconds:.0} | {} | {:.1} / {:.1} / {:.1} | {} ({lost}) | {} | {} | {} | {:.1} → {:.1} | {trend} | {fds_min}–{fds_max} | {errors} |",
            o.adapter,
            o.scheme.name(),
            o.scrapes,
            o.latency_ms[0],
            o.latency_ms[1],
            o.latency_ms[2],
            o.app_requests,
            o.half_closed,
            o.slow_clients,
            o.connections,
            mib(rss_start),
            mib(rss_end),
        );
    }
    table
}
