//! `cargo xtask soak [--minutes N] [ADAPTER]...`: every adapter's quickstart under
//! mixed load (the `soak` program of `torchlight-tests`, which says what the load is
//! and what fails a run), then `RELIABILITY.md`'s soak table and its charts
//! (`bench/charts/soak-*.svg`, beside the benchmarks') from the run's per-second series.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::chart::{self, Lines, Series};
use crate::failure::Failure;
use crate::{command, markers, workspace};

/// The `cargo xtask help` lines of this command.
pub(crate) const USAGE: &str = "\
  soak [--minutes N] [--report] [tokio|smol|async-std]...
      each adapter's quickstart for N minutes (default 10; half over HTTP, half over
      HTTPS) under app load, scrapes with and without gzip, connection churn, slow
      and half-closed clients; fails on an error, a lost observation or a memory or
      descriptor trend; writes RELIABILITY.md's table and its charts (--report: only
      those, from the last run's series).";

/// The charts: file stem, what is plotted (with its unit), the series' column, the
/// factor to that unit.
const PANELS: [(&str, &str, &str, f64); 3] = [
    ("soak-rss", "resident memory (MiB)", "rss_kib", 1.0 / 1024.0),
    ("soak-fds", "open file descriptors", "fds", 1.0),
    (
        "soak-p99",
        "scrape latency p99 per second (ms)",
        "p99_ms",
        1.0,
    ),
];

/// The section of `RELIABILITY.md` this command writes.
const SECTION: &str = "soak";

/// Runs the soak and writes the document.
pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<(), Failure> {
    let mut minutes = String::from("10");
    let mut adapters = Vec::new();
    let mut report_only = false;
    let mut args = args.peekable();
    let usage = format!("usage:\n{USAGE}");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--minutes" => {
                minutes = args
                    .next()
                    .filter(|value| value.parse::<f64>().is_ok_and(|m| m > 0.0))
                    .ok_or_else(|| Failure::new("`--minutes` needs a positive number", &usage))?;
            }
            "--report" => report_only = true,
            "tokio" | "smol" | "async-std" => adapters.push(arg),
            other => return Err(Failure::new(format!("unknown argument `{other}`"), usage)),
        }
    }
    let root = workspace::root();
    let out = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("soak");
    if report_only {
        return write_document(&root, &out);
    }
    // Old series would be charted with the new ones.
    let _ = std::fs::remove_dir_all(&out);
    let load_before = load_average();
    let mut soak = Command::new(workspace::cargo());
    soak.current_dir(&root)
        .args(["run", "-p", "torchlight-tests", "--bin", "soak", "--"])
        .args(["--minutes", &minutes, "--out"])
        .arg(&out)
        .args(&adapters);
    let result = command::run(
        &mut soak,
        "the lines above name each run's failures; the quickstart's log is in the soak folder",
    );
    let load_after = load_average();
    // What the document says of the run, kept with its series for `--report`.
    let run = format!(
        "`cargo xtask soak --minutes {minutes}` (minutes per adapter, half over HTTP, half \
         over HTTPS); load average before {load_before}, after {load_after}."
    );
    std::fs::write(out.join("run.md"), run).map_err(|error| {
        Failure::new(
            format!("cannot write into {}: {error}", out.display()),
            "check that the target folder is writable",
        )
    })?;
    // The document is written either way: a failed soak's figures show what failed.
    write_document(&root, &out)?;
    result
}

/// The machine's load averages (`/proc/loadavg`), to say how busy it was.
pub(crate) fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

/// One run's series from its `.tsv`: `(name, rows)` with the columns by header name.
fn read_series(file: &Path) -> Option<(String, Vec<String>, Vec<Vec<f64>>)> {
    let text = std::fs::read_to_string(file).ok()?;
    let mut lines = text.lines();
    let header: Vec<String> = lines.next()?.split('\t').map(str::to_owned).collect();
    let rows = lines
        .map(|line| line.split('\t').filter_map(|v| v.parse().ok()).collect())
        .collect();
    let name = file.file_stem()?.to_string_lossy().into_owned();
    Some((name, header, rows))
}

/// The soak table into `RELIABILITY.md` and the chart beside it.
fn write_document(root: &Path, out: &Path) -> Result<(), Failure> {
    let fail = |what: String| {
        Failure::new(
            what,
            "check that the soak ran (its folder holds summary.md and the .tsv series)",
        )
    };
    let read = |name: &str| {
        std::fs::read_to_string(out.join(name))
            .map_err(|error| fail(format!("cannot read {}: {error}", out.join(name).display())))
    };
    let summary = read("summary.md")?;
    let run = read("run.md")?;
    let mut files: Vec<PathBuf> = std::fs::read_dir(out)
        .map_err(|error| fail(format!("cannot list {}: {error}", out.display())))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "tsv"))
        .collect();
    files.sort();
    let mut panels = PANELS.map(|(_, title, _, _)| Lines {
        title: format!("cargo xtask soak: {title}, per second"),
        x_label: "seconds since the load started".to_owned(),
        y_label: title.to_owned(),
        x_log: false,
        y_log: false,
        series: Vec::new(),
    });
    for file in &files {
        let Some((name, header, rows)) = read_series(file) else {
            continue;
        };
        let at = header.iter().position(|h| h == "at");
        for (panel, (_, _, column, scale)) in panels.iter_mut().zip(PANELS) {
            let (Some(at), Some(index)) = (at, header.iter().position(|h| h == column)) else {
                continue;
            };
            panel.series.push(Series {
                label: name.clone(),
                points: rows
                    .iter()
                    .filter_map(|row| Some((*row.get(at)?, row.get(index)? * scale)))
                    .collect(),
            });
        }
    }
    let charts = root.join("bench").join("charts");
    let mut links = String::new();
    for (panel, (stem, title, _, _)) in panels.iter().zip(PANELS) {
        let svg =
            chart::lines(panel).map_err(|error| fail(format!("cannot draw {stem}: {error}")))?;
        let file = charts.join(format!("{stem}.svg"));
        std::fs::write(&file, svg)
            .map_err(|error| fail(format!("cannot write {}: {error}", file.display())))?;
        links.push_str(&format!(
            "![{title} of each run](bench/charts/{stem}.svg)\n"
        ));
    }
    let document_file = root.join("RELIABILITY.md");
    let document = std::fs::read_to_string(&document_file)
        .map_err(|error| fail(format!("cannot read {}: {error}", document_file.display())))?;
    let body = format!("{run}\n\n{summary}\n{links}");
    let updated = markers::replace(&document, SECTION, &body).ok_or_else(|| {
        fail(format!(
            "RELIABILITY.md has no {} … {} section",
            markers::begin(SECTION),
            markers::end(SECTION)
        ))
    })?;
    std::fs::write(&document_file, updated)
        .map_err(|error| fail(format!("cannot write {}: {error}", document_file.display())))?;
    println!(
        "wrote {} and its charts in {}",
        document_file.display(),
        charts.display()
    );
    Ok(())
}
