//! `cargo xtask bench`: the peer comparison of `bench/` (crate `torchlight-bench`), and
//! the tables of `BENCHMARKS.md`.
//!
//! The suite is six programs: `hot_path`, `encoding`, `facade` and `tower` (divan
//! timings; `tower` is case 13, a request through the HTTP metrics layers),
//! `memory` (allocation counts) and `http` (a fixed-time HTTP load, case 7). A run executes each program `--runs` times (3 by default) and
//! saves each output as `target/bench-results/run-<unix time>/<program>-<k>.txt`;
//! the tables then show, per result, the median over those repetitions of divan's
//! median sample (1000 samples of 1024 calls for the hot path, 30 single scrapes for
//! encoding). The raw outputs are the interchange format, so the programs can run on
//! another machine:
//!
//! - `--build-only` builds them once and copies them to `target/bench-bin/`;
//! - `--from DIR` runs such prebuilt programs (no Rust needed but for this xtask; or
//!   run them by hand, see [`USAGE`]) and saves their outputs as above;
//! - `--report [PATH]...` regenerates `BENCHMARKS.md` and its SVG charts
//!   (`bench/charts/`, `report/charts.rs`) from saved outputs (every
//!   `run-*` folder under `target/bench-results/` by default; later runs override
//!   earlier ones result by result, so a `--filter`ed run replaces only its rows).
//!   `--quick` runs are saved as `quick-*`: their tables show once, then only an
//!   explicit `--report` uses them again.

mod report;
mod results;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use crate::command;
use crate::failure::Failure;
use crate::workspace;

/// The bench programs that are not divan programs (they take `--quick`, not divan's
/// options): allocation counts and the HTTP load.
const COUNTING_PROGRAMS: [&str; 2] = ["http", "memory"];

/// Samples per divan benchmark with `--quick`.
const QUICK_SAMPLES: u32 = 10;

pub(crate) const USAGE: &str = "  bench [--quick] [--filter PATTERN]... [--runs N]
      build the peer comparison (crate torchlight-bench, release), run it N times
      (default 3, --quick: 1 with 10 samples per benchmark), save the outputs under
      target/bench-results/run-<time>/ (quick-<time>/) and regenerate the tables in
      BENCHMARKS.md from every saved run-* (and this quick run).
      --filter keeps benchmarks whose path (case::variant::library) contains PATTERN.
  bench --build-only
      build the bench programs once and copy them to target/bench-bin/
  bench --from DIR [--quick] [--filter PATTERN]... [--runs N] [--out DIR]
      run prebuilt bench programs from DIR (e.g. a copied target/bench-bin) and save
      their outputs (default target/bench-results/run-<time>/), then the tables.
      Without this xtask: for p in DIR/*; do for k in 1 2 3; do
      \"$p\" --bench --color=never > OUT/$(basename \"$p\")-$k.txt; done; done
  bench --report [PATH]...
      regenerate BENCHMARKS.md from saved outputs: each PATH is a run folder or one
      output file (default: every run-* under target/bench-results/, oldest first)";

/// What `cargo xtask bench` was asked to do.
#[derive(Debug, Default, PartialEq)]
struct Options {
    quick: bool,
    filters: Vec<String>,
    runs: Option<u32>,
    build_only: bool,
    from: Option<PathBuf>,
    out: Option<PathBuf>,
    /// `Some` with `--report`; the paths may be empty.
    report: Option<Vec<PathBuf>>,
}

impl Options {
    fn parse(mut args: impl Iterator<Item = String>) -> Result<Self, Failure> {
        let usage = || format!("usage:\n{USAGE}");
        let mut options = Self::default();
        while let Some(arg) = args.next() {
            if let Some(paths) = &mut options.report {
                paths.push(PathBuf::from(arg));
                continue;
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg.clone(), None),
            };
            let mut value = |name: &str| {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| Failure::new(format!("`{name}` needs a value"), usage()))
            };
            match flag.as_str() {
                "--quick" => options.quick = true,
                "--build-only" => options.build_only = true,
                "--report" => options.report = Some(Vec::new()),
                "--filter" => options.filters.push(value("--filter")?),
                "--from" => options.from = Some(PathBuf::from(value("--from")?)),
                "--out" => options.out = Some(PathBuf::from(value("--out")?)),
                "--runs" => {
                    let runs = value("--runs")?;
                    match runs.parse::<u32>() {
                        Ok(n) if n > 0 => options.runs = Some(n),
                        _ => {
                            return Err(Failure::new(
                                format!("`--runs {runs}` is not a positive number"),
                                usage(),
                            ));
                        }
                    }
                }
                _ => return Err(Failure::new(format!("unknown argument `{arg}`"), usage())),
            }
        }
        let modes = [
            options.build_only,
            options.from.is_some(),
            options.report.is_some(),
        ];
        if modes.iter().filter(|&&m| m).count() > 1 {
            return Err(Failure::new(
                "`--build-only`, `--from` and `--report` are separate steps",
                usage(),
            ));
        }
        let runs_anything = !options.build_only && options.report.is_none();
        if !runs_anything
            && (options.quick || !options.filters.is_empty() || options.runs.is_some())
        {
            return Err(Failure::new(
                "`--quick`, `--filter` and `--runs` only apply when benchmarks run",
                usage(),
            ));
        }
        if options.out.is_some() && options.from.is_none() {
            return Err(Failure::new("`--out` goes with `--from`", usage()));
        }
        Ok(options)
    }

    fn runs(&self) -> u32 {
        self.runs.unwrap_or(if self.quick { 1 } else { 3 })
    }
}

/// Runs `cargo xtask bench` with `args`.
pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<(), Failure> {
    let options = Options::parse(args)?;
    let results_root = workspace::root().join("target/bench-results");
    if options.build_only {
        let dir = build()?;
        println!(
            "\nbench programs in {}; copy that folder to the machine to measure and run\n  \
             cargo xtask bench --from {}\n  \
             (or, without cargo there, the shell loop in `cargo xtask help`), then bring\n  \
             the output folder back and run `cargo xtask bench --report <folder>`",
            dir.display(),
            dir.display()
        );
        return Ok(());
    }
    if let Some(paths) = &options.report {
        let sets = if paths.is_empty() {
            all_runs(&results_root)?
        } else {
            paths.clone()
        };
        return write_report(&sets);
    }
    let programs = match &options.from {
        Some(dir) => dir.clone(),
        None => build()?,
    };
    let out = options
        .out
        .clone()
        .unwrap_or_else(|| results_root.join(run_name(options.quick)));
    execute(&programs, &out, &options)?;
    let sets = if options.out.is_some() {
        vec![out]
    } else {
        // A quick run shows its own numbers over the saved full runs, but later
        // reports leave it out (`all_runs` lists `run-*` folders only).
        let mut sets = all_runs(&results_root)?;
        if options.quick {
            sets.push(out);
        }
        sets
    };
    write_report(&sets)
}

/// Checks that the libraries get the same work (`torchlight-bench`'s own tests, e.g.
/// every scraped registry holds the same series), builds the bench programs (release)
/// and copies them, without debug info, to `target/bench-bin/`.
fn build() -> Result<PathBuf, Failure> {
    command::run(
        Command::new(workspace::cargo())
            .current_dir(workspace::root())
            .args(["test", "--release", "-p", "torchlight-bench", "--lib"]),
        "the benchmarks would not compare like with like: fix the failing \
         torchlight-bench tests above",
    )?;
    let fix = "fix the build errors above (`cargo bench -p torchlight-bench --no-run`)";
    let mut cargo = Command::new(workspace::cargo());
    cargo.current_dir(workspace::root()).args([
        "bench",
        "-p",
        "torchlight-bench",
        "--no-run",
        "--message-format=json-render-diagnostics",
    ]);
    println!("$ {}", command::display(&cargo));
    let output = cargo
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|error| Failure::new(format!("could not start cargo: {error}"), fix))?;
    if !output.status.success() {
        return Err(Failure::new("building the bench programs failed", fix));
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let executables: Vec<&str> = stdout
        .lines()
        .filter(|line| {
            line.contains("\"reason\":\"compiler-artifact\"")
                && line.contains("\"kind\":[\"bench\"]")
        })
        .filter_map(|line| json_string(line, "executable"))
        .collect();
    if executables.is_empty() {
        return Err(Failure::new("cargo built no bench programs", fix));
    }
    let dir = workspace::root().join("target/bench-bin");
    fs::create_dir_all(&dir).map_err(|error| io_failure(&dir, &error))?;
    for executable in executables {
        let source = Path::new(executable);
        let file_name = source
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // `hot_path-8e1ff14d9114d79d` → `hot_path`.
        let name = file_name
            .rsplit_once('-')
            .map_or(file_name.as_str(), |(name, _)| name);
        let target = dir.join(name);
        fs::copy(source, &target).map_err(|error| io_failure(&target, &error))?;
        // The release profile keeps line tables for profiling; the copies are for
        // moving to another machine, where 30 MB a program is in the way.
        if let Some(strip) = workspace::find_on_path("strip") {
            command::run(
                Command::new(strip).arg("--strip-debug").arg(&target),
                "the copy still works with its debug info; delete it and rerun",
            )?;
        }
    }
    Ok(dir)
}

/// The value of `"field":"…"` in a line of cargo's JSON (paths have no escapes on the
/// systems this runs on).
fn json_string<'a>(line: &'a str, field: &str) -> Option<&'a str> {
    let marker = format!("\"{field}\":\"");
    let start = line.find(&marker)? + marker.len();
    let end = start + line[start..].find('"')?;
    Some(&line[start..end])
}

/// `run-<unix seconds>` (`quick-…` for `--quick`): sorts in time order.
fn run_name(quick: bool) -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let kind = if quick { "quick" } else { "run" };
    format!("{kind}-{seconds}")
}

/// Every run folder under `root`, oldest first.
fn all_runs(root: &Path) -> Result<Vec<PathBuf>, Failure> {
    let entries = fs::read_dir(root).map_err(|_| {
        Failure::new(
            format!("no saved results in {}", root.display()),
            "run `cargo xtask bench` first, or name the outputs: `cargo xtask bench --report PATH...`",
        )
    })?;
    let mut runs: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| {
            path.is_dir()
                && path
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("run-"))
        })
        .collect();
    runs.sort();
    Ok(runs)
}

/// Runs every program in `programs` `options.runs()` times, saving outputs in `out`.
fn execute(programs: &Path, out: &Path, options: &Options) -> Result<(), Failure> {
    let mut list: Vec<PathBuf> = fs::read_dir(programs)
        .map_err(|error| io_failure(programs, &error))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| workspace::is_executable(path))
        .collect();
    list.sort();
    if list.is_empty() {
        return Err(Failure::new(
            format!("no bench programs in {}", programs.display()),
            "build them with `cargo xtask bench --build-only` and copy target/bench-bin/",
        ));
    }
    fs::create_dir_all(out).map_err(|error| io_failure(out, &error))?;
    let runs = options.runs();
    for run in 1..=runs {
        for program in &list {
            let name = program
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let mut command = Command::new(program);
            command.arg("--bench");
            if COUNTING_PROGRAMS.contains(&name.as_str()) {
                if options.quick {
                    command.arg("--quick");
                }
            } else {
                command.arg("--color=never");
                if options.quick {
                    command.arg(format!("--sample-count={QUICK_SAMPLES}"));
                }
            }
            command.args(&options.filters);
            let line = command::display(&command);
            println!("[run {run}/{runs}] $ {line}");
            let started = Instant::now();
            let output = command
                .stdin(Stdio::null())
                .stderr(Stdio::inherit())
                .output()
                .map_err(|error| {
                    Failure::new(
                        format!("could not start `{line}`: {error}"),
                        "check the program is built for this machine",
                    )
                })?;
            if !output.status.success() {
                return Err(Failure::new(
                    format!("`{line}` failed ({})", output.status),
                    "run it by hand to see the failure",
                ));
            }
            let file = out.join(format!("{name}-{run}.txt"));
            fs::write(&file, &output.stdout).map_err(|error| io_failure(&file, &error))?;
            println!(
                "    {:.1} s, saved {}",
                started.elapsed().as_secs_f64(),
                file.display()
            );
        }
    }
    Ok(())
}

/// Regenerates `BENCHMARKS.md` from the run sets at `paths`.
fn write_report(paths: &[PathBuf]) -> Result<(), Failure> {
    let fix = "check the paths hold outputs of the bench programs";
    let sets = paths
        .iter()
        .map(|path| results::RunSet::read(path))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| Failure::new(error, fix))?;
    let file = workspace::root().join("BENCHMARKS.md");
    let document = fs::read_to_string(&file).map_err(|error| io_failure(&file, &error))?;
    let merged = report::Merged::new(&sets);
    let updated = report::update(&document, &merged).map_err(|error| {
        Failure::new(
            error,
            "restore the markers from git (`git diff BENCHMARKS.md`)",
        )
    })?;
    fs::write(&file, updated).map_err(|error| io_failure(&file, &error))?;
    let charts = report::charts::all(&merged);
    let dir = workspace::root().join(report::charts::DIR);
    fs::create_dir_all(&dir).map_err(|error| io_failure(&dir, &error))?;
    for chart in &charts {
        let svg = chart.svg().map_err(|error| {
            Failure::new(
                format!("{}: {error}", chart.file),
                "check the results it is drawn from (`cargo xtask bench --report`)",
            )
        })?;
        let path = dir.join(&chart.file);
        fs::write(&path, svg).map_err(|error| io_failure(&path, &error))?;
    }
    let names: Vec<String> = sets.iter().map(|set| set.name.clone()).collect();
    println!(
        "BENCHMARKS.md: tables and {} charts ({}/) regenerated from {}",
        charts.len(),
        report::charts::DIR,
        names.join(", ")
    );
    Ok(())
}

fn io_failure(path: &Path, error: &std::io::Error) -> Failure {
    Failure::new(
        format!("{}: {error}", path.display()),
        "check the path exists and is writable",
    )
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::{Options, json_string};

    fn parse(args: &[&str]) -> Result<Options, String> {
        Options::parse(args.iter().map(|arg| (*arg).to_owned()))
            .map_err(|failure| failure.to_string())
    }

    #[test]
    fn options() {
        let quick = parse(&["--quick", "--filter", "case1", "--filter=case3"]).unwrap();
        assert!(quick.quick);
        assert_eq!(quick.filters, ["case1", "case3"]);
        assert_eq!(quick.runs(), 1);
        assert_eq!(parse(&[]).unwrap().runs(), 3);
        assert_eq!(parse(&["--runs", "5"]).unwrap().runs(), 5);
        let from = parse(&["--from", "bin", "--out=x"]).unwrap();
        assert_eq!(from.from, Some(PathBuf::from("bin")));
        assert_eq!(from.out, Some(PathBuf::from("x")));
        let report = parse(&["--report", "a", "b"]).unwrap();
        assert_eq!(
            report.report,
            Some(vec![PathBuf::from("a"), PathBuf::from("b")])
        );
        assert_eq!(parse(&["--report"]).unwrap().report, Some(vec![]));
    }

    #[test]
    fn bad_options_say_what_is_wrong() {
        assert!(
            parse(&["--runs", "0"])
                .unwrap_err()
                .contains("not a positive number")
        );
        assert!(parse(&["--fast"]).unwrap_err().contains("unknown argument"));
        assert!(parse(&["--filter"]).unwrap_err().contains("needs a value"));
        assert!(
            parse(&["--build-only", "--from", "x"])
                .unwrap_err()
                .contains("separate steps")
        );
        assert!(
            parse(&["--build-only", "--quick"])
                .unwrap_err()
                .contains("only apply")
        );
        assert!(
            parse(&["--out", "x"])
                .unwrap_err()
                .contains("goes with `--from`")
        );
    }

    #[test]
    fn json_fields() {
        let line = r#"{"reason":"compiler-artifact","target":{"kind":["bench"],"name":"hot_path"},"executable":"/t/release/deps/hot_path-1a2b","fresh":true}"#;
        assert_eq!(
            json_string(line, "executable"),
            Some("/t/release/deps/hot_path-1a2b")
        );
        assert_eq!(json_string(line, "missing"), None);
    }
}
