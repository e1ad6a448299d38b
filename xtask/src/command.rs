//! Running external programs: echo the command line, run it with no standard input,
//! and turn a failure into a [`Failure`] that names the command to rerun by hand.

use std::ffi::OsStr;
use std::fmt::Write as _;
use std::process::{Command, Output, Stdio};

use crate::failure::Failure;

/// The command line as a user would type it, environment overrides first.
pub(crate) fn display(command: &Command) -> String {
    let mut line = String::new();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            let _ = write!(line, "{}={} ", key.to_string_lossy(), quote(value));
        }
    }
    line.push_str(&quote(command.get_program()));
    for arg in command.get_args() {
        line.push(' ');
        line.push_str(&quote(arg));
    }
    line
}

/// `arg`, single-quoted for a POSIX shell when it contains anything unusual.
fn quote(arg: &OsStr) -> String {
    let text = arg.to_string_lossy();
    let plain = !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:+,@%".contains(c));
    if plain {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

/// Runs `command` with inherited output and no standard input (CI has none); a start
/// failure or a non-zero exit is a [`Failure`] that says `fix`.
pub(crate) fn run(command: &mut Command, fix: &str) -> Result<(), Failure> {
    let line = display(command);
    println!("$ {line}");
    let status = command
        .stdin(Stdio::null())
        .status()
        .map_err(|error| Failure::new(format!("could not start `{line}`: {error}"), fix))?;
    if status.success() {
        Ok(())
    } else {
        Err(Failure::new(format!("`{line}` failed ({status})"), fix))
    }
}

/// Runs `command` quietly and returns its output, or `None` when it cannot start.
pub(crate) fn capture(command: &mut Command) -> Option<Output> {
    command.stdin(Stdio::null()).output().ok()
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::display;

    #[test]
    fn display_quotes_what_a_shell_would_split() {
        let mut command = Command::new("cargo");
        command
            .args(["build", "--target", "thumbv6m-none-eabi", "it's", ""])
            .env("RUSTFLAGS", "-D warnings");
        assert_eq!(
            display(&command),
            r"RUSTFLAGS='-D warnings' cargo build --target thumbv6m-none-eabi 'it'\''s' ''"
        );
    }
}
