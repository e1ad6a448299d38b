//! [`report`]: how a program ends after a failure at run time, with the error's
//! `Display` chain (as `anyhow`'s reports print it) and exit status 1.

use std::error::Error;
use std::fmt::Write as _;
use std::io::Write as _;
use std::process::ExitCode;

/// The exit status for `result`: success, or, for an error, [`render`] printed to stderr
/// and status 1.
pub fn report(result: Result<(), Box<dyn Error>>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            let _ = std::io::stderr().write_all(render(&*error).as_bytes());
            ExitCode::FAILURE
        }
    }
}

/// `error: <error>` and then `caused by: <source>` for each error down the `source`
/// chain, one per line.
///
/// A source whose message the error above it already quotes is not repeated: several of
/// the errors the examples meet (`StartError`, `DiscoveryError`) write their source into
/// their own message, to be useful when printed alone, *and* return it from `source`.
pub fn render(error: &(dyn Error + 'static)) -> String {
    let mut text = format!("error: {error}\n");
    let mut above = error.to_string();
    let mut next = error.source();
    while let Some(source) = next {
        let message = source.to_string();
        if !above.contains(&message) {
            let _ = writeln!(text, "caused by: {message}");
        }
        above = message;
        next = source.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    /// An error with a message, a source, and whether the message quotes the source.
    #[derive(Debug)]
    struct Layer {
        message: &'static str,
        quotes: bool,
        source: Option<Box<Layer>>,
    }

    impl fmt::Display for Layer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.message)?;
            match &self.source {
                Some(source) if self.quotes => write!(f, ": {source}"),
                _ => Ok(()),
            }
        }
    }

    impl Error for Layer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            self.source
                .as_deref()
                .map(|source| source as &(dyn Error + 'static))
        }
    }

    fn layer(message: &'static str, quotes: bool, source: Option<Layer>) -> Layer {
        Layer {
            message,
            quotes,
            source: source.map(Box::new),
        }
    }

    #[test]
    fn every_source_gets_its_own_line() {
        let io = layer("Address already in use (os error 98)", false, None);
        let bind = layer("cannot listen on 127.0.0.1:8000", false, Some(io));
        let top = layer("the app cannot start", false, Some(bind));
        assert_eq!(
            render(&top),
            "error: the app cannot start\n\
             caused by: cannot listen on 127.0.0.1:8000\n\
             caused by: Address already in use (os error 98)\n"
        );
    }

    #[test]
    fn a_source_quoted_by_the_error_above_is_not_repeated() {
        let io = layer("Address already in use (os error 98)", false, None);
        let bind = layer("cannot listen on 127.0.0.1:8000", true, Some(io));
        let top = layer("the app cannot start", false, Some(bind));
        assert_eq!(
            render(&top),
            "error: the app cannot start\n\
             caused by: cannot listen on 127.0.0.1:8000: Address already in use (os error 98)\n"
        );
    }

    #[test]
    fn success_and_failure_have_distinct_statuses() {
        assert_eq!(report(Ok(())), ExitCode::SUCCESS);
        assert_eq!(report(Err("broken".into())), ExitCode::FAILURE);
    }
}
