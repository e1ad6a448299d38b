//! The fuzz targets as one program.
//!
//! Built by `cargo xtask fuzz` with coverage instrumentation and `--cfg fuzzing`, it
//! is a libFuzzer binary: `TORCHLIGHT_FUZZ_TARGET` names the target (one of
//! `torchlight_fuzz::TARGETS`), the arguments are libFuzzer's. Built plainly, it
//! replays files: `torchlight-fuzz TARGET FILE...` runs each file through the target,
//! to reproduce a failure outside libFuzzer.
#![cfg_attr(fuzzing, no_main)]
#![forbid(unsafe_code)]

#[cfg(fuzzing)]
mod libfuzzer {
    use std::sync::OnceLock;

    /// The target, looked up once.
    static TARGET: OnceLock<fn(&[u8])> = OnceLock::new();

    libfuzzer_sys::fuzz_target!(|data: &[u8]| {
        let run = TARGET.get_or_init(|| {
            let name = std::env::var("TORCHLIGHT_FUZZ_TARGET").unwrap_or_default();
            torchlight_fuzz::target(&name).unwrap_or_else(|| {
                eprintln!("TORCHLIGHT_FUZZ_TARGET={name:?} names no target; one of:");
                for (target, _) in torchlight_fuzz::TARGETS {
                    eprintln!("  {target}");
                }
                std::process::exit(2);
            })
        });
        run(data);
    });
}

#[cfg(not(fuzzing))]
fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let target = args.next().and_then(|name| torchlight_fuzz::target(&name));
    let (Some(run), files) = (target, args.collect::<Vec<_>>()) else {
        eprintln!("usage: torchlight-fuzz TARGET FILE...");
        eprintln!("targets:");
        for (target, _) in torchlight_fuzz::TARGETS {
            eprintln!("  {target}");
        }
        return std::process::ExitCode::from(2);
    };
    for file in files {
        match std::fs::read(&file) {
            Ok(data) => {
                println!("{file}");
                run(&data);
            }
            Err(error) => {
                eprintln!("cannot read {file}: {error}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    std::process::ExitCode::SUCCESS
}
