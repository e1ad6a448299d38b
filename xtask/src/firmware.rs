//! `cargo xtask firmware`: the core run on emulated Cortex-M microcontrollers (the crate
//! `core/firmware/`, its own workspace because it builds only for bare-metal targets).
//!
//! - `cargo xtask firmware` (also the `firmware` step of `cargo xtask ci`) installs
//!   `qemu-system-arm` when missing, checks the crate's formatting and lints, builds the
//!   `harness` program for each [`BOARDS`] target and runs it on that QEMU machine with
//!   a timeout. The firmware reports each check over semihosting and exits QEMU with the
//!   result; a failure here names the checks that failed, or the one that was running
//!   when it panicked or hung. The README's example (`readme`) runs on both boards too.
//! - `cargo xtask firmware sizes` builds the `minimal` program (one counter, one
//!   histogram, the text encoder) per target at `opt-level = "s"` and `3`, reads flash
//!   and static RAM from the ELF section headers, runs it for the stack high-water mark
//!   of an encode, and regenerates the table between the `firmware:sizes` markers of
//!   `BENCHMARKS.md` (appending the section, markers included, when it is missing).
//!
//! QEMU runs with `-icount shift=2,sleep=off`: virtual time advances 4 ns per
//! instruction, and skips ahead while the core idles in `wfi`, instead of following the
//! host's clock, so the SysTick interrupts land on the same instructions on every run
//! whatever else the machine is doing: a run's output is reproducible, byte for byte.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::failure::Failure;
use crate::{command, install, markers, workspace};

/// The `cargo xtask help` lines of this command.
pub(crate) const USAGE: &str = "\
  firmware [sizes]
      install qemu-system-arm when missing, build the firmware test harness
      (core/firmware) and run it on QEMU's lm3s6965evb (Cortex-M3, thumbv7m) and
      microbit (Cortex-M0, thumbv6m); `sizes` measures a minimal firmware's flash,
      RAM and encode stack and regenerates that table in BENCHMARKS.md.";

/// A QEMU machine and the Rust target whose code it runs.
struct Board {
    /// The Rust target triple.
    target: &'static str,
    /// The QEMU `-machine`.
    machine: &'static str,
    /// The processor, for people.
    core: &'static str,
}

/// The boards, in run order. The memory map of each is `core/firmware/memory/<machine>`;
/// the firmware's build script pairs target and machine the same way.
const BOARDS: [Board; 2] = [
    Board {
        target: "thumbv7m-none-eabi",
        machine: "lm3s6965evb",
        core: "Cortex-M3",
    },
    Board {
        target: "thumbv6m-none-eabi",
        machine: "microbit",
        core: "Cortex-M0",
    },
];

/// How long one firmware run may take; both finish in well under a second.
const TIMEOUT: Duration = Duration::from_secs(60);

/// The Cargo profiles the size table compares, with the `opt-level` each sets
/// (`core/firmware/Cargo.toml`).
const SIZE_PROFILES: [(&str, &str); 2] = [("release", "\"s\""), ("release-o3", "3")];

/// The `BENCHMARKS.md` section the size table lives in.
const SIZES_SECTION: &str = "firmware:sizes";

/// Runs `cargo xtask firmware [sizes]`.
pub(crate) fn run(mut args: impl Iterator<Item = String>) -> Result<(), Failure> {
    match (args.next().as_deref(), args.next()) {
        (None, _) => check(),
        (Some("sizes"), None) => sizes(),
        _ => Err(Failure::new(
            "unknown arguments to `cargo xtask firmware`",
            format!("use one of:\n{USAGE}"),
        )),
    }
}

/// Checks the firmware crate's formatting and lints (it is outside the workspace the
/// `fmt` and `clippy` steps cover), then builds the harness for every board and runs it
/// there; the `firmware` step of `ci`.
pub(crate) fn check() -> Result<(), Failure> {
    let qemu = install::qemu()?;
    command::run(
        Command::new(workspace::cargo())
            .current_dir(crate_dir())
            .args(["fmt", "--", "--check"]),
        "run `cargo fmt` in core/firmware and commit the result",
    )?;
    for board in &BOARDS {
        command::run(
            Command::new(workspace::cargo())
                .current_dir(crate_dir())
                .args(["clippy", "--locked", "--lib", "--bins", "--target"])
                .arg(board.target)
                .arg("--target-dir")
                .arg(target_dir())
                .args(["--", "-D", "warnings"]),
            "fix the clippy findings above (core/firmware)",
        )?;
    }
    // Every board runs even when one fails: which boards fail tells a lot (thumbv6m has
    // no compare-and-swap at all).
    let mut failed = Vec::new();
    for board in &BOARDS {
        let elf = build(board, "release", "harness")?;
        let run = emulate(&qemu, board, &elf)?;
        if let Err(what) = judge(board, &run) {
            failed.push(what);
        }
    }
    // The README's example must run too, and print the exposition it encodes.
    for board in &BOARDS {
        let elf = build(board, "release", "readme")?;
        let run = emulate(&qemu, board, &elf)?;
        let printed = run.output.contains("\n# TYPE handling_seconds histogram\n");
        if !(run.status.is_some_and(|status| status.success()) && printed) {
            failed.push(format!(
                "the README's example (core/firmware/src/bin/readme.rs) failed on {} or did \
                 not print its exposition",
                board.machine
            ));
        }
    }
    if failed.is_empty() {
        return Ok(());
    }
    Err(Failure::new(
        failed.join("\n  "),
        "read the firmware's lines above (each failed check says why), fix it, and rerun \
         `cargo xtask firmware`; the `$ qemu-system-arm …` line above each run reruns it by \
         hand after `cd core/firmware && cargo build --release --target <target> --bin \
         harness`",
    ))
}

/// The firmware crate's folder.
fn crate_dir() -> PathBuf {
    workspace::root().join("core").join("firmware")
}

/// Where the firmware is built: its own folder under the workspace's `target/`.
fn target_dir() -> PathBuf {
    workspace::root().join("target").join("firmware")
}

/// Builds program `bin` of the firmware crate for `board` with Cargo profile `profile`
/// and returns the ELF's path.
fn build(board: &Board, profile: &str, bin: &str) -> Result<PathBuf, Failure> {
    let target_dir = target_dir();
    let mut cargo = Command::new(workspace::cargo());
    // Warnings are errors through the per-target variable, as in the `no-std` step: it
    // reaches only this cross build.
    let flags = format!(
        "CARGO_TARGET_{}_RUSTFLAGS",
        board.target.to_uppercase().replace('-', "_")
    );
    cargo
        .current_dir(crate_dir())
        .args(["build", "--locked", "--profile", profile, "--target"])
        .arg(board.target)
        .args(["--bin", bin, "--target-dir"])
        .arg(&target_dir)
        .env(flags, "-D warnings");
    command::run(
        &mut cargo,
        &format!(
            "fix the errors above (a missing target needs `rustup target add {}`)",
            board.target
        ),
    )?;
    Ok(target_dir.join(board.target).join(profile).join(bin))
}

/// How a firmware run ended.
struct Emulation {
    /// QEMU's exit status; `None` when it was stopped at the timeout.
    status: Option<ExitStatus>,
    /// Everything the firmware printed (semihosting) and QEMU's own messages.
    output: String,
}

/// Runs `elf` on `board`'s QEMU machine, stopping QEMU (by its PID) after [`TIMEOUT`].
fn emulate(qemu: &Path, board: &Board, elf: &Path) -> Result<Emulation, Failure> {
    let mut qemu = Command::new(qemu);
    qemu.args(["-machine", board.machine, "-nographic", "-monitor", "none"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .args(["-icount", "shift=2,sleep=off", "-kernel"])
        .arg(elf);
    let line = command::display(&qemu);
    println!("$ {line}");
    let mut child = qemu
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|error| {
            Failure::new(
                format!("could not start `{line}`: {error}"),
                "install qemu-system-arm (`apt-get install -y --no-install-recommends qemu-system-arm`)",
            )
        })?;
    let stdout = collect(child.stdout.take());
    let stderr = collect(child.stderr.take());
    let status = wait(&mut child, TIMEOUT)
        .map_err(|error| Failure::new(format!("waiting for `{line}`: {error}"), "rerun it"))?;
    let mut output = stdout.join().unwrap_or_default();
    output.push_str(&stderr.join().unwrap_or_default());
    print!("{output}");
    Ok(Emulation { status, output })
}

/// Reads `pipe` to its end on a thread.
fn collect(pipe: Option<impl Read + Send + 'static>) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        if let Some(mut pipe) = pipe {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            text = String::from_utf8_lossy(&bytes).into_owned();
        }
        text
    })
}

/// Waits for `child` at most `timeout`; past it, kills that process and returns `None`.
fn wait(child: &mut Child, timeout: Duration) -> std::io::Result<Option<ExitStatus>> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if Instant::now() >= deadline {
            child.kill()?;
            child.wait()?;
            return Ok(None);
        }
        // Polling a child's exit is the one wait std offers with a deadline.
        thread::sleep(Duration::from_millis(20));
    }
}

/// What the firmware's report lines say happened (see the firmware's `report` module).
#[derive(Debug, Default, PartialEq)]
struct Verdict<'a> {
    /// Checks that printed `FAIL <name>`.
    failed: Vec<&'a str>,
    /// The last check that printed `check <name>` and neither `ok` nor `FAIL` after it.
    unfinished: Option<&'a str>,
    /// The panic message, if the firmware panicked.
    panic: Option<&'a str>,
    /// Whether the final `torchlight-firmware: … checks passed` line was printed.
    passed: bool,
}

/// Reads the firmware's report lines.
fn verdict(output: &str) -> Verdict<'_> {
    let mut verdict = Verdict::default();
    for line in output.lines() {
        if let Some(name) = line.strip_prefix("check ") {
            verdict.unfinished = Some(name);
        } else if let Some(name) = line.strip_prefix("ok ") {
            if verdict.unfinished == Some(name) {
                verdict.unfinished = None;
            }
        } else if let Some(name) = line.strip_prefix("FAIL ") {
            verdict.failed.push(name);
            if verdict.unfinished == Some(name) {
                verdict.unfinished = None;
            }
        } else if let Some(message) = line.strip_prefix("panic: ") {
            verdict.panic = Some(message);
        } else if line.starts_with("torchlight-firmware: ") && line.contains(" checks passed on ") {
            verdict.passed = true;
        }
    }
    verdict
}

/// Turns a run into success, or what failed on which board.
fn judge(board: &Board, run: &Emulation) -> Result<(), String> {
    let verdict = verdict(&run.output);
    let succeeded = run.status.is_some_and(|status| status.success());
    let on = format!("on {} ({}, {})", board.machine, board.core, board.target);
    if succeeded && verdict.passed && verdict.failed.is_empty() {
        println!("firmware: every check passed {on}");
        return Ok(());
    }
    let mut what = Vec::new();
    if !verdict.failed.is_empty() {
        what.push(format!("checks failed: {}", verdict.failed.join(", ")));
    }
    match (verdict.unfinished, verdict.panic, run.status) {
        (Some(check), Some(message), _) => {
            what.push(format!("check `{check}` panicked: {message}"));
        }
        (Some(check), None, None) => what.push(format!(
            "check `{check}` did not finish within {} s (QEMU stopped)",
            TIMEOUT.as_secs()
        )),
        (None, Some(message), _) => what.push(format!("the firmware panicked: {message}")),
        (_, None, None) => what.push(format!(
            "QEMU did not exit within {} s and was stopped",
            TIMEOUT.as_secs()
        )),
        (_, None, Some(status)) if what.is_empty() => what.push(format!(
            "QEMU exited ({status}) without the firmware's summary line"
        )),
        _ => {}
    }
    Err(format!("firmware {on}: {}", what.join("; ")))
}

/// Flash and static RAM of a firmware image.
#[derive(Debug, PartialEq)]
struct Footprint {
    /// Bytes stored in flash: every allocated section with contents (code, read-only
    /// data, the vector table, the initial values of `.data`).
    flash: u64,
    /// Bytes of RAM reserved at link time: every allocated writable section (`.data`,
    /// `.bss`, `.uninit`); the stack comes on top.
    ram: u64,
}

/// Reads the section headers of a 32-bit little-endian ELF file (ELF specification,
/// "Section Header": `sh_type`, `sh_flags`, `sh_size`).
fn footprint(elf: &[u8]) -> Result<Footprint, String> {
    const SHT_NOBITS: u32 = 8;
    const SHF_WRITE: u32 = 0x1;
    const SHF_ALLOC: u32 = 0x2;
    let u16_at = |offset: usize| -> Result<u16, String> {
        elf.get(offset..offset + 2)
            .map(|bytes| u16::from_le_bytes([bytes[0], bytes[1]]))
            .ok_or_else(|| format!("the ELF file ends before byte {}", offset + 2))
    };
    let u32_at = |offset: usize| -> Result<u32, String> {
        elf.get(offset..offset + 4)
            .map(|bytes| u32::from_le_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]))
            .ok_or_else(|| format!("the ELF file ends before byte {}", offset + 4))
    };
    if elf.get(..6) != Some(&[0x7f, b'E', b'L', b'F', 1, 1][..]) {
        return Err("not a 32-bit little-endian ELF file".to_owned());
    }
    let table = u32_at(0x20)? as usize;
    let entry_size = usize::from(u16_at(0x2e)?);
    let entries = usize::from(u16_at(0x30)?);
    let mut sizes = Footprint { flash: 0, ram: 0 };
    for index in 0..entries {
        let header = table + index * entry_size;
        let kind = u32_at(header + 4)?;
        let flags = u32_at(header + 8)?;
        let size = u64::from(u32_at(header + 20)?);
        if flags & SHF_ALLOC == 0 {
            continue;
        }
        if kind != SHT_NOBITS {
            sizes.flash += size;
        }
        if flags & SHF_WRITE != 0 {
            sizes.ram += size;
        }
    }
    Ok(sizes)
}

/// The stack an encode took, from the `minimal` program's line
/// `minimal: encoded N bytes; encode stack S bytes`.
fn encode_stack(output: &str) -> Option<u64> {
    let rest = output.split("encode stack ").nth(1)?;
    rest.split_whitespace().next()?.parse().ok()
}

/// Measures the `minimal` program on every board and profile and regenerates the table.
fn sizes() -> Result<(), Failure> {
    let qemu = install::qemu()?;
    let mut table = String::from(
        "| target (QEMU machine) | `opt-level` | flash | static RAM | stack of one text encode |\n\
         |---|---|---:|---:|---:|\n",
    );
    for board in &BOARDS {
        for (profile, opt_level) in SIZE_PROFILES {
            let elf = build(board, profile, "minimal")?;
            let bytes = std::fs::read(&elf).map_err(|error| {
                Failure::new(format!("reading {}: {error}", elf.display()), "rebuild it")
            })?;
            let footprint = footprint(&bytes).map_err(|error| {
                Failure::new(format!("{}: {error}", elf.display()), "rebuild it")
            })?;
            let run = emulate(&qemu, board, &elf)?;
            let stack = match (run.status, encode_stack(&run.output)) {
                (Some(status), Some(stack)) if status.success() => stack,
                _ => {
                    return Err(Failure::new(
                        format!("the minimal firmware failed on {}", board.machine),
                        "read its output above",
                    ));
                }
            };
            table.push_str(&format!(
                "| `{}` ({}, {}) | {opt_level} | {} B | {} B | {stack} B |\n",
                board.target, board.machine, board.core, footprint.flash, footprint.ram
            ));
        }
    }
    table.push_str(&format!(
        "\n_Measured with {} and {}._\n",
        first_line(Command::new("rustc").arg("--version")),
        first_line(Command::new(&qemu).arg("--version"))
    ));
    let path = workspace::root().join("BENCHMARKS.md");
    let document = std::fs::read_to_string(&path).map_err(|error| {
        Failure::new(
            format!("reading {}: {error}", path.display()),
            "restore it from git",
        )
    })?;
    let updated = match markers::replace(&document, SIZES_SECTION, &table) {
        Some(updated) => updated,
        None => format!(
            "{}\n\n{SIZES_INTRO}\n{}\n{table}{}\n",
            document.trim_end(),
            markers::begin(SIZES_SECTION),
            markers::end(SIZES_SECTION)
        ),
    };
    std::fs::write(&path, updated).map_err(|error| {
        Failure::new(
            format!("writing {}: {error}", path.display()),
            "check permissions",
        )
    })?;
    println!("BENCHMARKS.md: firmware size table regenerated");
    Ok(())
}

/// The first line `command` prints, or `?` when it cannot run.
fn first_line(command: &mut Command) -> String {
    command::capture(command)
        .and_then(|output| {
            String::from_utf8_lossy(&output.stdout)
                .lines()
                .next()
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "?".to_owned())
}

/// What precedes the size table when the section is first added to `BENCHMARKS.md`.
const SIZES_INTRO: &str = "\
## Firmware: flash, RAM and stack on a microcontroller

`core/firmware/src/bin/minimal.rs`: one counter and one histogram (the 14 default
buckets) registered, updated and encoded in the text format into a 2 KiB buffer, with
`cortex-m-rt`'s runtime, semihosting output and a panic handler that prints (those are
in the numbers too). Flash is every allocated section with contents, static RAM every
writable one (the 2 KiB buffer lives on the stack and is not in it); the stack column
is the high-water mark of the encode call alone, found by painting the free stack
before it and looking for the deepest word it changed. Release profile (`lto = true`,
`codegen-units = 1`). Regenerate with `cargo xtask firmware sizes`.
";

#[cfg(test)]
mod tests {
    use super::{Footprint, Verdict, encode_stack, footprint, verdict};

    /// A 32-bit little-endian ELF with the given section headers (type, flags, size).
    fn elf(sections: &[(u32, u32, u32)]) -> Vec<u8> {
        let mut bytes = vec![0u8; 0x34];
        bytes[..6].copy_from_slice(&[0x7f, b'E', b'L', b'F', 1, 1]);
        bytes[0x20..0x24].copy_from_slice(&0x34u32.to_le_bytes());
        bytes[0x2e..0x30].copy_from_slice(&40u16.to_le_bytes());
        let count = u16::try_from(sections.len()).unwrap();
        bytes[0x30..0x32].copy_from_slice(&count.to_le_bytes());
        for &(kind, flags, size) in sections {
            let mut header = [0u8; 40];
            header[4..8].copy_from_slice(&kind.to_le_bytes());
            header[8..12].copy_from_slice(&flags.to_le_bytes());
            header[20..24].copy_from_slice(&size.to_le_bytes());
            bytes.extend_from_slice(&header);
        }
        bytes
    }

    #[test]
    fn flash_counts_contents_and_ram_counts_writable_sections() {
        let image = elf(&[
            (0, 0, 0),      // the null section
            (1, 0x2, 1024), // .vector_table: allocated, read-only
            (1, 0x6, 5000), // .text: allocated, executable
            (1, 0x3, 16),   // .data: allocated, writable, with contents
            (8, 0x3, 300),  // .bss: allocated, writable, no contents
            (1, 0x0, 9999), // .debug_info: not allocated
        ]);
        assert_eq!(
            footprint(&image),
            Ok(Footprint {
                flash: 1024 + 5000 + 16,
                ram: 16 + 300
            })
        );
        assert!(footprint(b"\x7fELF\x02\x01").is_err());
        assert!(footprint(&image[..0x40]).is_err());
    }

    #[test]
    fn the_report_names_failed_and_unfinished_checks() {
        let output = "check counter\nok counter\ncheck encode-text\n  got: x\nFAIL encode-text\n\
                      check histogram-interrupt\n";
        assert_eq!(
            verdict(output),
            Verdict {
                failed: vec!["encode-text"],
                unfinished: Some("histogram-interrupt"),
                panic: None,
                passed: false
            }
        );
        let passed = verdict("check a\nok a\ntorchlight-firmware: 1 checks passed on microbit\n");
        assert!(passed.passed && passed.failed.is_empty() && passed.unfinished.is_none());
        let panicked = verdict("check a\npanic: at src/x.rs:1: boom\n");
        assert_eq!(panicked.panic, Some("at src/x.rs:1: boom"));
        assert_eq!(panicked.unfinished, Some("a"));
    }

    #[test]
    fn the_encode_stack_is_read_from_the_minimal_programs_line() {
        assert_eq!(
            encode_stack("minimal: encoded 746 bytes; encode stack 2236 bytes\n"),
            Some(2236)
        );
        assert_eq!(encode_stack("minimal: the exposition did not fit\n"), None);
    }
}
