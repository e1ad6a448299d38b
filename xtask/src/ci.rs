//! `cargo xtask ci`: the README's test command, also what `.ci/run` runs.
//!
//! Runs the steps in [`STEPS`] in order and stops at the first failure with a non-zero
//! exit and a message saying what failed and how to fix it. `--skip STEP` and
//! `--only STEP` (repeatable, or comma-separated) select steps while developing.
//!
//! Build-cache discipline on a 2-core machine: `-D warnings` reaches rustc only through
//! clippy's own flag, `RUSTDOCFLAGS` and per-target `CARGO_TARGET_<TRIPLE>_RUSTFLAGS` for
//! the cross builds, so the host build cache shared by clippy, the tests and the docs
//! is never invalidated; loom, which needs `--cfg loom` for every crate, gets its own
//! target folder.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::command;
use crate::failure::Failure;
use crate::install::{self, Validators};
use crate::workspace;

/// The peer comparison (`cargo xtask bench`): excluded from clippy, tests and docs so
/// CI never compiles the peer libraries. `cargo fmt --all` still checks it.
const BENCH_CRATE: &str = "torchlight-bench";

/// One step of the run.
struct Step {
    /// The name `--skip`/`--only` take.
    name: &'static str,
    /// What the header says.
    title: &'static str,
    /// Runs the step.
    run: fn(&mut Context) -> Result<(), Failure>,
}

/// The steps, in the order they run.
const STEPS: &[Step] = &[
    Step {
        name: "install",
        title: "install the Rust targets and components, promtool and the validators venv",
        run: install,
    },
    Step {
        name: "fmt",
        title: "check formatting",
        run: fmt,
    },
    Step {
        name: "clippy",
        title: "clippy on every crate (but the benchmarks), target and feature, warnings denied",
        run: clippy,
    },
    Step {
        name: "test",
        title: "tests of the workspace (but the benchmarks) with all features, external validators included",
        run: test,
    },
    Step {
        name: "test-no-default",
        title: "tests of the core without default features (no std)",
        run: test_no_default,
    },
    Step {
        name: "doc",
        title: "documentation, warnings denied",
        run: doc,
    },
    Step {
        name: "package",
        title: "`cargo package` of every published crate, each built from its package",
        run: package,
    },
    Step {
        name: "no-std",
        title: "the core for bare-metal targets without std",
        run: no_std,
    },
    Step {
        name: "loom",
        title: "loom model checks of the core's concurrency",
        run: loom,
    },
    Step {
        name: "fuzz",
        title: "every fuzz target briefly under libFuzzer, from its seed corpus",
        run: fuzz,
    },
    Step {
        name: "firmware",
        title: "the core on emulated Cortex-M3 and Cortex-M0 boards (QEMU, installed when missing)",
        run: firmware,
    },
];

/// What the steps share.
#[derive(Default)]
struct Context {
    /// The validators, once the install step (or a lookup) found them.
    validators: Option<Validators>,
}

impl Context {
    /// The validators from the install step, or whatever is already installed when that
    /// step was skipped (the tests then say what is missing).
    fn validators(&mut self) -> &Validators {
        self.validators.get_or_insert_with(Validators::locate)
    }
}

/// Parses `--skip`/`--only` and runs the selected steps.
pub(crate) fn run(args: impl Iterator<Item = String>) -> Result<(), Failure> {
    let selected = select(args)?;
    let started = Instant::now();
    let mut context = Context::default();
    let mut timings: Vec<(&str, Duration)> = Vec::new();
    let total = selected.len();
    for (position, step) in selected.into_iter().enumerate() {
        println!(
            "\n==> [{}/{total}] {}: {}",
            position + 1,
            step.name,
            step.title
        );
        let step_started = Instant::now();
        let result = (step.run)(&mut context);
        let elapsed = step_started.elapsed();
        timings.push((step.name, elapsed));
        match result {
            Ok(()) => println!("<== {} passed in {:.1} s", step.name, elapsed.as_secs_f64()),
            Err(failure) => {
                println!(
                    "<== {} FAILED after {:.1} s",
                    step.name,
                    elapsed.as_secs_f64()
                );
                summary(&timings, started.elapsed());
                return Err(failure.in_step(step.name));
            }
        }
    }
    summary(&timings, started.elapsed());
    println!("ci: all {total} steps passed");
    Ok(())
}

/// Prints the time each step took.
fn summary(timings: &[(&str, Duration)], total: Duration) {
    println!("\nstep timings:");
    for (name, elapsed) in timings {
        println!("  {name:<16} {:>7.1} s", elapsed.as_secs_f64());
    }
    println!("  {:<16} {:>7.1} s", "total", total.as_secs_f64());
}

/// The steps selected by `--skip`/`--only`, in run order.
fn select(mut args: impl Iterator<Item = String>) -> Result<Vec<&'static Step>, Failure> {
    let names: Vec<&str> = STEPS.iter().map(|step| step.name).collect();
    let usage = format!(
        "use `cargo xtask ci [--skip STEP]... [--only STEP]...` with steps: {}",
        names.join(" ")
    );
    let mut skip: Vec<String> = Vec::new();
    let mut only: Vec<String> = Vec::new();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
            None => (arg.clone(), None),
        };
        let list = match flag.as_str() {
            "--skip" => &mut skip,
            "--only" => &mut only,
            _ => return Err(Failure::new(format!("unknown argument `{arg}`"), usage)),
        };
        let Some(value) = inline.or_else(|| args.next()) else {
            return Err(Failure::new(format!("`{flag}` needs a step name"), usage));
        };
        list.extend(value.split(',').map(str::to_owned));
    }
    if let Some(unknown) = skip
        .iter()
        .chain(&only)
        .find(|name| !names.contains(&name.as_str()))
    {
        return Err(Failure::new(format!("unknown step `{unknown}`"), usage));
    }
    if !skip.is_empty() && !only.is_empty() {
        return Err(Failure::new(
            "`--skip` and `--only` cannot be combined",
            usage,
        ));
    }
    Ok(STEPS
        .iter()
        .filter(|step| {
            let name = step.name.to_owned();
            (only.is_empty() || only.contains(&name)) && !skip.contains(&name)
        })
        .collect())
}

/// `cargo` in the workspace root with `args`.
fn cargo(args: &[&str]) -> Command {
    let mut command = Command::new(workspace::cargo());
    command.current_dir(workspace::root()).args(args);
    command
}

fn install(context: &mut Context) -> Result<(), Failure> {
    context.validators = Some(install::all()?);
    Ok(())
}

fn fmt(_: &mut Context) -> Result<(), Failure> {
    command::run(
        &mut cargo(&["fmt", "--all", "--", "--check"]),
        "run `cargo fmt --all` and commit the result",
    )
}

fn clippy(_: &mut Context) -> Result<(), Failure> {
    command::run(
        &mut cargo(&[
            "clippy",
            "--workspace",
            "--exclude",
            BENCH_CRATE,
            "--all-targets",
            "--all-features",
            "--",
            "-D",
            "warnings",
        ]),
        "fix the clippy findings above (warnings are errors in CI, not in the source)",
    )
}

fn test(context: &mut Context) -> Result<(), Failure> {
    let mut test = cargo(&[
        "test",
        "--workspace",
        "--exclude",
        BENCH_CRATE,
        "--all-features",
    ]);
    context.validators().export(&mut test);
    command::run(
        &mut test,
        "fix the failing tests above; a test that reports a missing promtool or venv \
         needs `cargo xtask ci --only install` first",
    )
}

fn test_no_default(_: &mut Context) -> Result<(), Failure> {
    command::run(
        &mut cargo(&["test", "-p", "torchlight", "--no-default-features"]),
        "fix the failures above: the core must build and pass its tests without `std`",
    )
}

fn doc(_: &mut Context) -> Result<(), Failure> {
    command::run(
        cargo(&[
            "doc",
            "--workspace",
            "--exclude",
            BENCH_CRATE,
            "--no-deps",
            "--all-features",
        ])
        .env("RUSTDOCFLAGS", "-D warnings"),
        "fix the rustdoc warnings above (broken links, missing docs)",
    )
}

/// Packages every published crate and verifies each package builds on its own.
///
/// One `cargo package -p A -p B …` for all of them, not one per crate: packaging several
/// workspace members together (cargo ≥ 1.90) resolves their dependencies on each other
/// through a temporary local registry of the packages just made, so the verify build
/// works before anything is on crates.io (alone, `cargo package -p torchlight-tokio`
/// looks `torchlight` up on crates.io and fails). The verify build is kept (no
/// `--no-verify`): it is what proves the package holds every file its build needs.
/// `--allow-dirty` so the step also runs on a working tree with uncommitted changes.
fn package(_: &mut Context) -> Result<(), Failure> {
    let crates = published_crates()?;
    forget_unpacked(&crates);
    // Verification builds in a folder of its own, where every `torchlight*` artifact is
    // one of ours built from the temporary registry: cargo keys a registry crate's
    // build by name and version, not content, so those are removed before each run
    // (the crates.io dependencies stay built).
    let verify = workspace::root().join("target").join("package-verify");
    for folder in [".fingerprint", "deps", "build"] {
        if let Ok(entries) = std::fs::read_dir(verify.join("debug").join(folder)) {
            for entry in entries.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with("torchlight") || name.starts_with("libtorchlight") {
                    let path = entry.path();
                    let _ = std::fs::remove_dir_all(&path).or_else(|_| std::fs::remove_file(&path));
                }
            }
        }
    }
    let verify = verify.to_string_lossy().into_owned();
    let mut args = vec!["package", "--allow-dirty", "--target-dir", verify.as_str()];
    for name in &crates {
        args.extend(["-p", name.as_str()]);
    }
    command::run(
        &mut cargo(&args),
        "fix the packaging errors above (a file the build needs outside the crate's folder, \
         a path dependency without a version, a dev-dependency cycle through a versioned \
         workspace dependency)",
    )
}

/// Removes the sources cargo unpacked from the temporary local registry of an earlier
/// `cargo package` run (`$CARGO_HOME/registry/src/-<hash>/<crate>-<version>`, one folder
/// per registry path): cargo reuses an unpacked folder of the same name and version
/// without comparing checksums, so verifying a crate would otherwise build against a
/// sibling crate as it was packaged last time (seen when a new item of the core was
/// missing for the server's verification). Registries from crates.io
/// (`index.crates.io-…`) are left alone; a folder that cannot be removed only means the
/// verification may use it, which the build then reports.
fn forget_unpacked(crates: &[String]) {
    let home = std::env::var_os("CARGO_HOME")
        .map(std::path::PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")));
    let Some(sources) = home.map(|home| home.join("registry").join("src")) else {
        return;
    };
    let Ok(registries) = std::fs::read_dir(&sources) else {
        return;
    };
    for registry in registries.flatten() {
        // Local registries are named by their hash alone (`-<hash>`).
        if !registry.file_name().to_string_lossy().starts_with('-') {
            continue;
        }
        let Ok(unpacked) = std::fs::read_dir(registry.path()) else {
            continue;
        };
        for folder in unpacked.flatten() {
            let name = folder.file_name().to_string_lossy().into_owned();
            let ours = crates.iter().any(|krate| {
                name.strip_prefix(krate.as_str())
                    .and_then(|rest| rest.strip_prefix('-'))
                    .is_some_and(|version| version.starts_with(|c: char| c.is_ascii_digit()))
            });
            if ours {
                let _ = std::fs::remove_dir_all(folder.path());
            }
        }
    }
}

/// The workspace members without `publish = false`, by package name, from the
/// manifests (`xtask` has no TOML or JSON parser; the manifests are written plainly).
fn published_crates() -> Result<Vec<String>, Failure> {
    let root = workspace::root();
    let read = |path: &Path| {
        std::fs::read_to_string(path).map_err(|error| {
            Failure::new(
                format!("cannot read {}: {error}", path.display()),
                "run xtask from a complete checkout",
            )
        })
    };
    let workspace = read(&root.join("Cargo.toml"))?;
    let mut crates = Vec::new();
    for member in members(&workspace) {
        let manifest = read(&root.join(member).join("Cargo.toml"))?;
        let field = |key: &str| {
            manifest
                .lines()
                .map(str::trim)
                .find_map(|line| line.strip_prefix(key)?.trim().strip_prefix('='))
                .map(|value| value.trim().trim_matches('"').to_owned())
        };
        if field("publish").as_deref() == Some("false") {
            continue;
        }
        let name = field("name").ok_or_else(|| {
            Failure::new(
                format!("{member}/Cargo.toml has no `name = \"…\"` line"),
                "write the package name on a line of its own",
            )
        })?;
        crates.push(name);
    }
    Ok(crates)
}

/// The quoted entries of the workspace's `members = [ … ]` array.
fn members(workspace: &str) -> Vec<&str> {
    let Some(start) = workspace.find("\nmembers = [") else {
        return Vec::new();
    };
    let list = &workspace[start + "\nmembers = [".len()..];
    let list = &list[..list.find(']').unwrap_or(list.len())];
    list.lines()
        .map(|line| line.split('#').next().unwrap_or(""))
        .flat_map(|line| line.split(','))
        .map(|entry| entry.trim().trim_matches('"'))
        .filter(|entry| !entry.is_empty())
        .collect()
}

fn no_std(_: &mut Context) -> Result<(), Failure> {
    for target in install::NO_STD_TARGETS {
        // Per-target flags reach only the cross build, never the host cache. thumbv6m has
        // no compare-and-swap, so portable-atomic needs the final binary to choose a
        // critical-section implementation; single-core is the one that needs no crate.
        let mut flags = String::from("-D warnings");
        if target == "thumbv6m-none-eabi" {
            flags.push_str(" --cfg portable_atomic_unsafe_assume_single_core");
        }
        let flags_var = format!(
            "CARGO_TARGET_{}_RUSTFLAGS",
            target.to_uppercase().replace('-', "_")
        );
        command::run(
            cargo(&[
                "build",
                "-p",
                "torchlight",
                "--no-default-features",
                "--target",
                target,
            ])
            .env(flags_var, flags),
            &format!(
                "the core must build without std for {target}: fix the errors above \
                 (a missing target needs `rustup target add {target}`)"
            ),
        )?;
    }
    Ok(())
}

fn loom(_: &mut Context) -> Result<(), Failure> {
    let model = workspace::root().join("core/tests/loom.rs");
    if !Path::new(&model).exists() {
        println!("note: core/tests/loom.rs does not exist yet; nothing to model-check");
        return Ok(());
    }
    command::run(
        cargo(&[
            "test",
            "-p",
            "torchlight",
            "--test",
            "loom",
            "--release",
            "--target-dir",
            "target/loom",
        ])
        .env("RUSTFLAGS", "--cfg loom"),
        "fix the loom failures above (LOOM_LOG=trace shows the failing interleaving)",
    )
}

/// Seconds per fuzz target: the eight targets take well under a minute together after
/// their build; `cargo xtask fuzz` runs them for longer.
const FUZZ_SMOKE_SECONDS: u64 = 5;

fn fuzz(_: &mut Context) -> Result<(), Failure> {
    crate::fuzz::smoke(FUZZ_SMOKE_SECONDS)
}

fn firmware(_: &mut Context) -> Result<(), Failure> {
    crate::firmware::check()
}

#[cfg(test)]
mod tests {
    use super::select;

    fn names(args: &[&str]) -> Result<Vec<&'static str>, String> {
        select(args.iter().map(|arg| (*arg).to_owned()))
            .map(|steps| steps.iter().map(|step| step.name).collect())
            .map_err(|failure| failure.to_string())
    }

    #[test]
    fn no_arguments_select_every_step_in_order() {
        assert_eq!(
            names(&[]).unwrap(),
            [
                "install",
                "fmt",
                "clippy",
                "test",
                "test-no-default",
                "doc",
                "package",
                "no-std",
                "loom",
                "fuzz",
                "firmware"
            ]
        );
    }

    #[test]
    fn published_crates_are_the_members_without_publish_false() {
        let crates = super::published_crates().unwrap();
        assert_eq!(
            crates,
            [
                "torchlight",
                "torchlight-macros",
                "torchlight-metrics",
                "torchlight-tower",
                "torchlight-server",
                "torchlight-tokio",
                "torchlight-smol",
                "torchlight-async-std"
            ]
        );
    }

    #[test]
    fn members_are_read_from_a_multi_line_array() {
        let manifest = "[workspace]\nmembers = [\n    \"core\", # the core\n    \"a/b\",\n]\n";
        assert_eq!(super::members(manifest), ["core", "a/b"]);
    }

    #[test]
    fn only_and_skip_select_steps_in_run_order() {
        assert_eq!(
            names(&["--only", "doc", "--only=fmt"]).unwrap(),
            ["fmt", "doc"]
        );
        assert_eq!(
            names(&["--only", "loom,install"]).unwrap(),
            ["install", "loom"]
        );
        assert_eq!(
            names(&["--skip=install,loom", "--skip", "test"]).unwrap(),
            [
                "fmt",
                "clippy",
                "test-no-default",
                "doc",
                "package",
                "no-std",
                "fuzz",
                "firmware"
            ]
        );
    }

    #[test]
    fn bad_arguments_are_failures_that_list_the_steps() {
        let unknown = names(&["--only", "tests"]).unwrap_err();
        assert!(unknown.contains("unknown step `tests`"), "{unknown}");
        assert!(unknown.contains("test-no-default"), "{unknown}");
        assert!(
            names(&["--only"])
                .unwrap_err()
                .contains("needs a step name")
        );
        assert!(names(&["--fast"]).unwrap_err().contains("unknown argument"));
        assert!(
            names(&["--only", "fmt", "--skip", "doc"])
                .unwrap_err()
                .contains("cannot be combined")
        );
    }
}
