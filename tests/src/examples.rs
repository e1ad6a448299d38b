//! The example programs, built by Cargo for the tests that run them
//! (`tests/tests/examples.rs`, and the end-to-end test of the `service` example).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;

/// Serialises the builds and runs: the adapters' examples share names (`quickstart` in
/// three packages), so Cargo's uplifted `target/debug/examples/<name>` holds whichever
/// package was built last.
static BUILD: Mutex<()> = Mutex::new(());

/// The examples of `package` (all features on, as `cargo xtask ci` builds them),
/// freshly built, by name. The returned guard must be held while they run.
///
/// # Panics
///
/// If Cargo cannot be run or the build fails (with Cargo's messages).
pub fn build(package: &str) -> (MutexGuard<'static, ()>, BTreeMap<String, PathBuf>) {
    // A test that failed while holding the lock left nothing half-done.
    let guard = BUILD.lock().unwrap_or_else(|poison| poison.into_inner());
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new(cargo)
        .current_dir(&root)
        .args(["build", "-p", package, "--examples", "--all-features"])
        .arg("--message-format=json-render-diagnostics")
        .stdin(Stdio::null())
        .output()
        .expect("run cargo");
    assert!(
        output.status.success(),
        "building {package}'s examples failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let mut examples = BTreeMap::new();
    for line in String::from_utf8_lossy(&output.stdout).lines() {
        let message: Value = serde_json::from_str(line).expect("cargo's JSON messages");
        let is_example = message["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|kind| kind == "example"));
        if message["reason"] == "compiler-artifact" && is_example {
            let name = message["target"]["name"].as_str().expect("a target name");
            let executable = message["executable"].as_str().expect("an executable");
            examples.insert(name.to_owned(), PathBuf::from(executable));
        }
    }
    (guard, examples)
}
