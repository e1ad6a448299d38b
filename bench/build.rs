//! Records the compiler version, so the bench programs can print it with their results
//! (they may run on another machine, one without a Rust toolchain).

use std::process::Command;

fn main() {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    let version = Command::new(rustc)
        .arg("-V")
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map_or_else(|| "unknown".to_owned(), |v| v.trim().to_owned());
    println!("cargo:rustc-env=TORCHLIGHT_BENCH_RUSTC={version}");
    println!("cargo:rerun-if-env-changed=RUSTC");
}
