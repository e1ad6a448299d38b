//! `cargo xtask fuzz [--seconds N] [--grow] [--record] [TARGET]...`: every fuzz target of
//! `fuzz/` (crate `torchlight-fuzz`) under libFuzzer, one after the other.
//!
//! No `cargo-fuzz` is needed: the build passes the flags it passes (LLVM's
//! sanitizer-coverage pass with inline 8-bit counters, the PC table and comparison
//! tracing; `--cfg fuzzing`; debug assertions and overflow checks) to a release build
//! for the host target, so build scripts and proc macros stay uninstrumented, in a
//! target folder of its own (`target/fuzz`) so the other builds' cache is untouched.
//! These flags work on the stable toolchain; the address sanitizer, which needs
//! nightly, is left out (the fuzzed code is safe Rust but for the registry's list).
//! `libfuzzer-sys` compiles libFuzzer itself with the system's C++ compiler.
//!
//! Each target starts from its committed seed corpus (`fuzz/corpus/<target>/`) and
//! writes what it finds to `target/fuzz/corpus/<target>/`; `--grow` merges those
//! finds into the seed corpus (libFuzzer's `-merge=1`: only inputs that add
//! coverage); `--record` writes the executions per target into `RELIABILITY.md`. A
//! failing input is saved under `target/fuzz/artifacts/<target>/`, and
//! the run stops with how to reproduce it.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use crate::command;
use crate::failure::Failure;
use crate::workspace;

/// The `cargo xtask help` lines of this command.
pub(crate) const USAGE: &str = "\
  fuzz [--seconds N] [--grow] [--record] [TARGET]...
      build the fuzz targets with libFuzzer (stable Rust, a C++ compiler) and run
      each for N seconds (default 60) from its seed corpus, printing executions per
      target; --grow merges new coverage into fuzz/corpus/, --record writes the
      executions into RELIABILITY.md. targets: exposure web_config consul names text
      protobuf push native (default: all).";

/// The targets, as `fuzz/src/lib.rs`'s `TARGETS` lists them (`cargo test -p xtask`
/// checks the two lists agree).
pub(crate) const TARGETS: [&str; 8] = [
    "exposure",
    "web_config",
    "consul",
    "names",
    "text",
    "protobuf",
    "push",
    "native",
];

/// The flags `cargo fuzz build` passes for libFuzzer's coverage (cargo-fuzz's
/// `project.rs`), without `-Zsanitizer=address`.
const RUSTFLAGS: &str = "-Cpasses=sancov-module \
     -Cllvm-args=-sanitizer-coverage-level=4 \
     -Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
     -Cllvm-args=-sanitizer-coverage-pc-table \
     -Cllvm-args=-sanitizer-coverage-trace-compares \
     --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// What one target's run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The target.
    pub(crate) target: String,
    /// Inputs executed (libFuzzer's `stat::number_of_executed_units`).
    pub(crate) executions: u64,
    /// Seconds it ran.
    pub(crate) seconds: u64,
}

/// Parses the command line and fuzzes.
pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<(), Failure> {
    let mut seconds = 60;
    let mut grow = false;
    let mut record = false;
    let mut targets = Vec::new();
    let mut args = args.peekable();
    let usage = format!("usage:\n{USAGE}");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--seconds" => {
                seconds = args
                    .next()
                    .and_then(|value| value.parse().ok())
                    .filter(|&n| n > 0)
                    .ok_or_else(|| Failure::new("`--seconds` needs a positive number", &usage))?;
            }
            "--grow" => grow = true,
            "--record" => record = true,
            target if TARGETS.contains(&target) => targets.push(arg),
            other => {
                return Err(Failure::new(
                    format!("unknown fuzz target or option `{other}`"),
                    usage,
                ));
            }
        }
    }
    if targets.is_empty() {
        targets = TARGETS.iter().map(|&target| target.to_owned()).collect();
    }
    let load_before = crate::soak::load_average();
    let outcomes = fuzz(&targets, seconds, grow)?;
    report(&outcomes);
    if record {
        write_document(
            &outcomes,
            seconds,
            &load_before,
            &crate::soak::load_average(),
        )?;
    }
    Ok(())
}

/// The executions table, into `RELIABILITY.md`'s `fuzz` section.
fn write_document(
    outcomes: &[Outcome],
    seconds: u64,
    load_before: &str,
    load_after: &str,
) -> Result<(), Failure> {
    let file = workspace::root().join("RELIABILITY.md");
    let fail = |what: String| Failure::new(what, "restore RELIABILITY.md from git and rerun");
    let document = std::fs::read_to_string(&file)
        .map_err(|error| fail(format!("cannot read {}: {error}", file.display())))?;
    let mut body = format!(
        "`cargo xtask fuzz --seconds {seconds} --record`, one target after the other on one \
         core; load average before {load_before}, after {load_after}. No target failed.\n\n\
         | target | executions | seconds | per second |\n|---|--:|--:|--:|\n"
    );
    let mut total = 0;
    for outcome in outcomes {
        total += outcome.executions;
        body.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            outcome.target,
            outcome.executions,
            outcome.seconds,
            outcome.executions / outcome.seconds.max(1)
        ));
    }
    body.push_str(&format!("| all | {total} | | |\n"));
    let updated = crate::markers::replace(&document, "fuzz", &body).ok_or_else(|| {
        fail("RELIABILITY.md has no <!-- fuzz:begin --> … <!-- fuzz:end --> section".to_owned())
    })?;
    std::fs::write(&file, updated)
        .map_err(|error| fail(format!("cannot write {}: {error}", file.display())))?;
    println!("wrote {}", file.display());
    Ok(())
}

/// `cargo xtask ci`'s smoke step: every target for `seconds` seconds.
pub(crate) fn smoke(seconds: u64) -> Result<(), Failure> {
    let targets: Vec<String> = TARGETS.iter().map(|&target| target.to_owned()).collect();
    let outcomes = fuzz(&targets, seconds, false)?;
    report(&outcomes);
    Ok(())
}

/// Prints the executions per target.
fn report(outcomes: &[Outcome]) {
    println!(
        "\n{:<12} {:>12} {:>8} {:>10}",
        "target", "executions", "seconds", "per second"
    );
    for outcome in outcomes {
        println!(
            "{:<12} {:>12} {:>8} {:>10}",
            outcome.target,
            outcome.executions,
            outcome.seconds,
            outcome.executions / outcome.seconds.max(1)
        );
    }
}

/// The host's target triple (`rustc -vV`), so `--target` keeps the flags off build
/// scripts and proc macros.
fn host() -> Result<String, Failure> {
    let output = command::capture(Command::new("rustc").arg("-vV"));
    output
        .as_ref()
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .find_map(|line| line.strip_prefix("host: ").map(str::to_owned))
        })
        .ok_or_else(|| Failure::new("`rustc -vV` names no host", "install Rust with rustup"))
}

/// `fuzz/` in the target folder (`CARGO_TARGET_DIR`, else `target/`): the
/// instrumented build and the run's finds.
fn fuzz_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace::root().join("target"), PathBuf::from)
        .join("fuzz")
}

/// Builds the libFuzzer binary and returns its path.
fn build() -> Result<PathBuf, Failure> {
    let root = workspace::root();
    let host = host()?;
    let target_dir = fuzz_dir();
    let mut build = Command::new(workspace::cargo());
    build
        .current_dir(&root)
        .args([
            "build",
            "--release",
            "-p",
            "torchlight-fuzz",
            "--bin",
            "torchlight-fuzz",
        ])
        .args(["--target", &host])
        .arg("--target-dir")
        .arg(&target_dir)
        .env("RUSTFLAGS", RUSTFLAGS)
        // The flags above reach this build only: a `CARGO_ENCODED_RUSTFLAGS` from the
        // caller would win over them.
        .env_remove("CARGO_ENCODED_RUSTFLAGS");
    command::run(
        &mut build,
        "fix the build errors above; libfuzzer-sys compiles libFuzzer with a C++ compiler \
         (`apt-get install -y g++` where none is installed)",
    )?;
    Ok(target_dir
        .join(host)
        .join("release")
        .join("torchlight-fuzz"))
}

/// Runs `targets` for `seconds` each.
fn fuzz(targets: &[String], seconds: u64, grow: bool) -> Result<Vec<Outcome>, Failure> {
    let binary = build()?;
    let root = workspace::root();
    let scratch = fuzz_dir();
    let mut outcomes = Vec::new();
    for target in targets {
        let seeds = root.join("fuzz").join("corpus").join(target);
        let found = scratch.join("corpus").join(target);
        let artifacts = scratch.join("artifacts").join(target);
        for dir in [&found, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|error| {
                Failure::new(
                    format!("cannot create {}: {error}", dir.display()),
                    "check that target/ is writable",
                )
            })?;
        }
        println!("\n--> fuzz {target} for {seconds} s");
        let started = Instant::now();
        let mut fuzz = Command::new(&binary);
        fuzz.env("TORCHLIGHT_FUZZ_TARGET", target)
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            // Inputs beyond 4 KiB reach no new code in these targets and slow them.
            .arg("-max_len=4096")
            .arg("-timeout=10")
            .arg("-rss_limit_mb=2048")
            .arg("-print_final_stats=1")
            .arg(&found)
            .arg(&seeds)
            .stdin(Stdio::null())
            .stdout(Stdio::inherit())
            .stderr(Stdio::piped());
        let output = fuzz.output().map_err(|error| {
            Failure::new(
                format!("cannot run {}: {error}", binary.display()),
                "rerun `cargo xtask fuzz`, which builds it",
            )
        })?;
        let log = String::from_utf8_lossy(&output.stderr);
        if !output.status.success() {
            eprintln!("{log}");
            let input = log
                .lines()
                .find_map(|line| line.split("Test unit written to ").nth(1))
                .unwrap_or("(see the log above)");
            return Err(Failure::new(
                format!("fuzz target `{target}` failed on {input}"),
                format!(
                    "reproduce with `cargo run -p torchlight-fuzz -- {target} {input}`; fix the \
                     bug (in the crate that has it, with a test there), then copy the input to \
                     fuzz/regressions/{target}/ named for what it found"
                ),
            ));
        }
        let executions = executions(&log).ok_or_else(|| {
            Failure::new(
                format!("libFuzzer printed no statistics for `{target}`:\n{log}"),
                "check that the binary was built with libFuzzer (`--cfg fuzzing`)",
            )
        })?;
        outcomes.push(Outcome {
            target: target.clone(),
            executions,
            seconds: started.elapsed().as_secs(),
        });
        if grow {
            merge(&binary, target, &seeds, &found)?;
        }
    }
    Ok(outcomes)
}

/// Merges `found` into `seeds`: only inputs that add coverage are copied.
fn merge(binary: &Path, target: &str, seeds: &Path, found: &Path) -> Result<(), Failure> {
    command::run(
        Command::new(binary)
            .env("TORCHLIGHT_FUZZ_TARGET", target)
            .args(["-merge=1", "-max_len=4096"])
            .arg(seeds)
            .arg(found)
            .stderr(Stdio::null()),
        "rerun with --grow; a merge only reads the corpus folders",
    )
}

/// libFuzzer's `stat::number_of_executed_units:` from its final statistics.
fn executions(log: &str) -> Option<u64> {
    log.lines()
        .find_map(|line| line.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|value| value.trim().parse().ok())
}

#[cfg(test)]
mod tests {
    use super::{TARGETS, executions};

    #[test]
    fn executions_are_read_from_the_final_statistics() {
        let log = "#2\tINITED cov: 10\nDone 5233 runs in 2 second(s)\n\
                   stat::number_of_executed_units: 5233\nstat::average_exec_per_sec:     2616\n";
        assert_eq!(executions(log), Some(5233));
        assert_eq!(executions("Done 1 runs"), None);
    }

    #[test]
    fn the_targets_are_the_fuzz_crates() {
        let lib = std::fs::read_to_string(crate::workspace::root().join("fuzz/src/lib.rs"))
            .expect("fuzz/src/lib.rs");
        let listed: Vec<&str> = lib
            .lines()
            .filter_map(|line| line.trim().strip_prefix("(\""))
            .filter_map(|rest| rest.split('"').next())
            .collect();
        assert_eq!(listed, TARGETS);
    }
}
