//! Hands `cortex-m-rt`'s linker script the memory map of the board the target is run on:
//! `thumbv7m-none-eabi` runs on QEMU's `lm3s6965evb`, `thumbv6m-none-eabi` on its
//! `microbit` (the pairing `cargo xtask firmware` uses).

use std::path::PathBuf;

fn main() {
    let target = std::env::var("TARGET").unwrap_or_default();
    let board = match target.as_str() {
        "thumbv7m-none-eabi" => "lm3s6965evb",
        "thumbv6m-none-eabi" => "microbit",
        other => panic!(
            "torchlight-firmware builds for thumbv7m-none-eabi (lm3s6965evb) or \
             thumbv6m-none-eabi (microbit), not `{other}`: run `cargo xtask firmware`"
        ),
    };
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let memory = manifest.join("memory").join(board);
    // `cortex-m-rt`'s `link.x` includes `memory.x` from the linker search path.
    println!("cargo:rustc-link-search={}", memory.display());
    println!("cargo:rustc-link-arg-bins=-Tlink.x");
    println!("cargo:rerun-if-changed=memory");
    println!("cargo:rustc-env=TORCHLIGHT_FIRMWARE_BOARD={board}");
}
