//! Installing the tools the checks need, each only when it is missing, so a rerun is
//! fast: the Rust targets and components, `promtool` (Debian's `prometheus` package),
//! a Python venv with `prometheus-client` (the strict OpenMetrics parser) and, for the
//! firmware runs, `qemu-system-arm` (Debian's package of that name).
//!
//! Every failure names the exact command to run by hand.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::command;
use crate::failure::Failure;
use crate::workspace;

/// The `no_std` targets the core is built for.
pub(crate) const NO_STD_TARGETS: [&str; 2] = ["thumbv7m-none-eabi", "thumbv6m-none-eabi"];

/// The `prometheus-client` release the validators are pinned to (its strict
/// OpenMetrics parser, `prometheus_client.openmetrics.parser`, is the one the tests rely on).
pub(crate) const PROMETHEUS_CLIENT: &str = "prometheus-client==0.26.0";

/// Environment variable naming the `promtool` binary the tests use.
pub(crate) const PROMTOOL_ENV: &str = "TORCHLIGHT_PROMTOOL";

/// Environment variable naming the `prometheus` server the end-to-end tests start.
pub(crate) const PROMETHEUS_ENV: &str = "TORCHLIGHT_PROMETHEUS";

/// Environment variable naming the venv Python the tests use.
pub(crate) const PYTHON_ENV: &str = "TORCHLIGHT_PYTHON";

/// The external validators the tests run.
#[derive(Debug, Default)]
pub(crate) struct Validators {
    /// `promtool`, when found.
    pub(crate) promtool: Option<PathBuf>,
    /// The venv's Python with `prometheus-client`, when found.
    pub(crate) python: Option<PathBuf>,
}

impl Validators {
    /// Finds the validators without installing anything.
    pub(crate) fn locate() -> Self {
        Self {
            promtool: locate_promtool(),
            python: Some(chosen_python()).filter(|python| venv_is_ready(python)),
        }
    }

    /// Sets `TORCHLIGHT_PROMTOOL`, `TORCHLIGHT_PROMETHEUS` (the server that Debian's
    /// `prometheus` package installs beside promtool) and `TORCHLIGHT_PYTHON` on `command`
    /// for what was found.
    pub(crate) fn export(&self, command: &mut Command) {
        if let Some(promtool) = &self.promtool {
            command.env(PROMTOOL_ENV, promtool);
            let server = promtool.with_file_name("prometheus");
            if std::env::var_os(PROMETHEUS_ENV).is_none() && workspace::is_executable(&server) {
                command.env(PROMETHEUS_ENV, server);
            }
        }
        if let Some(python) = &self.python {
            command.env(PYTHON_ENV, python);
        }
    }
}

/// Installs whatever is missing and returns the validators' paths.
pub(crate) fn all() -> Result<Validators, Failure> {
    rust_targets()?;
    rust_components()?;
    let promtool = promtool()?;
    push_receivers()?;
    let python = python()?;
    Ok(Validators {
        promtool: Some(promtool),
        python: Some(python),
    })
}

/// `rustup target add` for the `no_std` targets that are not installed yet.
fn rust_targets() -> Result<(), Failure> {
    let installed =
        command::capture(Command::new("rustup").args(["target", "list", "--installed"]))
            .filter(|output| output.status.success())
            .map(|output| {
                String::from_utf8_lossy(&output.stdout)
                    .lines()
                    .map(|line| line.trim().to_owned())
                    .collect::<BTreeSet<_>>()
            })
            .unwrap_or_default();
    let missing: Vec<&str> = NO_STD_TARGETS
        .into_iter()
        .filter(|target| !installed.contains(*target))
        .collect();
    if missing.is_empty() {
        println!(
            "rust targets: {} already installed",
            NO_STD_TARGETS.join(", ")
        );
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["target", "add"]).args(&missing);
    let fix = format!(
        "install rustup (https://rustup.rs), then run `{}`",
        command::display(&add)
    );
    command::run(&mut add, &fix)
}

/// `rustup component add` for clippy and rustfmt when `cargo clippy` / `cargo fmt` are
/// not available.
fn rust_components() -> Result<(), Failure> {
    let missing: Vec<&str> = [("clippy", "clippy"), ("fmt", "rustfmt")]
        .into_iter()
        .filter(|(subcommand, _)| {
            !command::capture(Command::new(workspace::cargo()).args([*subcommand, "--version"]))
                .is_some_and(|output| output.status.success())
        })
        .map(|(_, component)| component)
        .collect();
    if missing.is_empty() {
        println!("rust components: clippy, rustfmt already installed");
        return Ok(());
    }
    let mut add = Command::new("rustup");
    add.args(["component", "add"]).args(&missing);
    let fix = format!("run `{}`", command::display(&add));
    command::run(&mut add, &fix)
}

/// `promtool` from `TORCHLIGHT_PROMTOOL` or `PATH`.
fn locate_promtool() -> Option<PathBuf> {
    match std::env::var_os(PROMTOOL_ENV) {
        Some(path) => Some(PathBuf::from(path)).filter(|path| workspace::is_executable(path)),
        None => workspace::find_on_path("promtool"),
    }
}

/// `promtool`, installed from Debian's `prometheus` package when missing; a Prometheus
/// daemon the package's scripts start is stopped again (only one that was not running
/// before the install).
fn promtool() -> Result<PathBuf, Failure> {
    if let Some(promtool) = locate_promtool() {
        println!("promtool: {}", promtool.display());
        return Ok(promtool);
    }
    if let Some(path) = std::env::var_os(PROMTOOL_ENV) {
        return Err(Failure::new(
            format!(
                "{PROMTOOL_ENV}={} is not an executable file",
                Path::new(&path).display()
            ),
            format!("point {PROMTOOL_ENV} at promtool, or unset it to use promtool from PATH"),
        ));
    }
    let fix = "as root: `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
               --no-install-recommends prometheus` (it brings /usr/bin/promtool)";
    if workspace::find_on_path("apt-get").is_none() {
        return Err(Failure::new(
            "promtool is not on PATH and apt-get is not available to install it",
            "install Prometheus' promtool (2.42 or later) and put it on PATH, or set \
             TORCHLIGHT_PROMTOOL to its path",
        ));
    }
    let before = prometheus_pids();
    command::run(
        Command::new("apt-get")
            .arg("update")
            .env("DEBIAN_FRONTEND", "noninteractive"),
        fix,
    )?;
    command::run(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends", "prometheus"])
            .env("DEBIAN_FRONTEND", "noninteractive"),
        fix,
    )?;
    for pid in prometheus_pids().difference(&before) {
        // The package's postinst may start the daemon where policy-rc.d allows it; it
        // would hold port 9090 and the default storage. Stop only that new process.
        println!("stopping the prometheus daemon (pid {pid}) the package started");
        command::run(
            Command::new("kill").arg(pid.to_string()),
            &format!("run `kill {pid}`"),
        )?;
    }
    locate_promtool().ok_or_else(|| {
        Failure::new(
            "the prometheus package was installed but promtool is still not on PATH",
            "check `dpkg -L prometheus | grep promtool` and add its folder to PATH",
        )
    })
}

/// The real receivers of the push tests (`tests/tests/e2e/push.rs`): Debian's
/// `prometheus-pushgateway` and `victoria-metrics`, installed when missing from PATH.
/// The tests start them on ephemeral ports; a daemon a package's scripts start (where
/// policy-rc.d allows it) listens on its default port, which no test uses.
fn push_receivers() -> Result<(), Failure> {
    for binary in ["prometheus-pushgateway", "victoria-metrics"] {
        if let Some(path) = workspace::find_on_path(binary) {
            println!("{binary}: {}", path.display());
            continue;
        }
        let fix = format!(
            "as root: `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
             --no-install-recommends {binary}`, or put `{binary}` on PATH"
        );
        if workspace::find_on_path("apt-get").is_none() {
            return Err(Failure::new(
                format!("{binary} is not on PATH and apt-get is not available to install it"),
                fix,
            ));
        }
        for args in [
            &["update"][..],
            &["install", "-y", "--no-install-recommends", binary][..],
        ] {
            command::run(
                Command::new("apt-get")
                    .args(args)
                    .env("DEBIAN_FRONTEND", "noninteractive"),
                &fix,
            )?;
        }
        if workspace::find_on_path(binary).is_none() {
            return Err(Failure::new(
                format!("the {binary} package was installed but {binary} is not on PATH"),
                format!("check `dpkg -L {binary} | grep bin/` and add its folder to PATH"),
            ));
        }
    }
    Ok(())
}

/// `qemu-system-arm`, installed from Debian's package of that name when it is not on
/// `PATH` (the firmware harness runs on its `lm3s6965evb` and `microbit` machines).
pub(crate) fn qemu() -> Result<PathBuf, Failure> {
    const QEMU: &str = "qemu-system-arm";
    if let Some(qemu) = workspace::find_on_path(QEMU) {
        println!("{QEMU}: {}", qemu.display());
        return Ok(qemu);
    }
    let fix = format!(
        "as root: `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y \
         --no-install-recommends {QEMU}`, or install QEMU's Arm system emulator (7.2 or \
         later) and put `{QEMU}` on PATH"
    );
    if workspace::find_on_path("apt-get").is_none() {
        return Err(Failure::new(
            format!("{QEMU} is not on PATH and apt-get is not available to install it"),
            fix,
        ));
    }
    for args in [
        &["update"][..],
        &["install", "-y", "--no-install-recommends", QEMU][..],
    ] {
        command::run(
            Command::new("apt-get")
                .args(args)
                .env("DEBIAN_FRONTEND", "noninteractive"),
            &fix,
        )?;
    }
    workspace::find_on_path(QEMU).ok_or_else(|| {
        Failure::new(
            format!("the {QEMU} package was installed but {QEMU} is still not on PATH"),
            format!("check `dpkg -L {QEMU} | grep bin/` and add its folder to PATH"),
        )
    })
}

/// The ids of running processes called exactly `prometheus` (as `pgrep -x prometheus`,
/// without needing procps).
fn prometheus_pids() -> BTreeSet<u32> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return BTreeSet::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid = entry.file_name().to_str()?.parse::<u32>().ok()?;
            let comm = std::fs::read_to_string(entry.path().join("comm")).ok()?;
            (comm.trim_end() == "prometheus").then_some(pid)
        })
        .collect()
}

/// The venv's folder, `target/validators-venv` in the workspace.
fn venv_dir() -> PathBuf {
    workspace::root().join("target").join("validators-venv")
}

/// The venv's Python.
fn venv_python() -> PathBuf {
    venv_dir().join("bin").join("python")
}

/// The Python the tests should use: `TORCHLIGHT_PYTHON` when set, else the venv's.
fn chosen_python() -> PathBuf {
    std::env::var_os(PYTHON_ENV).map_or_else(venv_python, PathBuf::from)
}

/// Whether `python` runs and has the pinned `prometheus-client`.
fn venv_is_ready(python: &Path) -> bool {
    let Some((_, version)) = PROMETHEUS_CLIENT.split_once("==") else {
        return false;
    };
    let check = format!(
        "import importlib.metadata as m, prometheus_client.openmetrics.parser; \
         assert m.version('prometheus-client') == '{version}'"
    );
    workspace::is_executable(python)
        && command::capture(Command::new(python).args(["-c", &check]))
            .is_some_and(|output| output.status.success())
}

/// The Python with `prometheus-client`: `TORCHLIGHT_PYTHON` when set (it must have the
/// pinned release), else the venv, created when missing or broken.
fn python() -> Result<PathBuf, Failure> {
    if let Some(chosen) = std::env::var_os(PYTHON_ENV) {
        let chosen = PathBuf::from(chosen);
        if venv_is_ready(&chosen) {
            println!(
                "validators python: {} ({PROMETHEUS_CLIENT})",
                chosen.display()
            );
            return Ok(chosen);
        }
        return Err(Failure::new(
            format!(
                "{PYTHON_ENV}={} cannot import {PROMETHEUS_CLIENT}",
                chosen.display()
            ),
            format!(
                "run `{} -m pip install {PROMETHEUS_CLIENT}`, or unset {PYTHON_ENV} to use \
                 the venv that `cargo xtask ci` creates under target/",
                chosen.display()
            ),
        ));
    }
    let python = venv_python();
    if venv_is_ready(&python) {
        println!(
            "validators venv: {} ({PROMETHEUS_CLIENT})",
            python.display()
        );
        return Ok(python);
    }
    let venv = venv_dir();
    let mut create = Command::new("python3");
    create.args(["-m", "venv", "--clear"]).arg(&venv);
    let fix = format!(
        "run `{}` (on Debian's own python3 first `apt-get install -y python3-venv`)",
        command::display(&create)
    );
    command::run(&mut create, &fix)?;
    let mut install = Command::new(&python);
    install.args(["-m", "pip", "install", "--quiet", PROMETHEUS_CLIENT]);
    let fix = format!("run `{}`", command::display(&install));
    command::run(&mut install, &fix)?;
    if venv_is_ready(&python) {
        Ok(python)
    } else {
        Err(Failure::new(
            format!(
                "{} cannot import the pinned prometheus-client",
                python.display()
            ),
            format!(
                "remove {} and run `cargo xtask ci --only install`",
                venv.display()
            ),
        ))
    }
}
