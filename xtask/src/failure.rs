//! The one error type of every command: what failed and how to fix it.

use std::fmt;

/// A failed task: what went wrong and what the user can do about it.
#[derive(Debug)]
pub(crate) struct Failure {
    what: String,
    fix: String,
}

impl Failure {
    /// A failure saying `what` went wrong and how to `fix` it.
    pub(crate) fn new(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            what: what.into(),
            fix: fix.into(),
        }
    }

    /// This failure as the failure of `ci` step `step`, with how to rerun that step alone.
    pub(crate) fn in_step(self, step: &str) -> Self {
        Self {
            what: format!("step `{step}`: {}", self.what),
            fix: format!(
                "{}\n  then rerun this step alone: cargo xtask ci --only {step}",
                self.fix
            ),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FAILED: {}\n  how to fix: {}", self.what, self.fix)
    }
}

impl std::error::Error for Failure {}
