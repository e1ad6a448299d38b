//! `cargo xtask e2e`: only the end-to-end tests, against a real Prometheus (and the
//! Consul agent double). They are part of `cargo xtask ci` too; this command is for
//! running them alone while working on the adapters or the exposition.

use std::process::Command;

use crate::failure::Failure;
use crate::{command, install, workspace};

/// The `cargo xtask help` lines of this command.
pub(crate) const USAGE: &str = "\
  e2e [TEST FILTER]...
      install what the end-to-end tests need (Debian's prometheus, the validators
      venv), then run them: a real Prometheus scrapes every adapter (default and
      native-histograms), discovers them through the Consul agent double,
      scrapes them over HTTPS (CA, client certificate, basic auth), and finds the
      tokio `service` example's p99 latency per route under load.";

/// The test binary of `torchlight-tests` whose tests start a real Prometheus.
const TEST: &str = "e2e";

/// Installs what is missing, then runs the end-to-end tests, passing `filters` to the
/// test harness.
pub(crate) fn run(filters: impl Iterator<Item = String>) -> Result<(), Failure> {
    let validators = install::all()?;
    let mut test = Command::new(workspace::cargo());
    test.current_dir(workspace::root())
        .args(["test", "-p", "torchlight-tests"]);
    test.args(["--test", TEST]);
    test.arg("--").args(filters);
    validators.export(&mut test);
    command::run(
        &mut test,
        "fix the failing end-to-end tests above; their messages quote Prometheus's log",
    )
}
