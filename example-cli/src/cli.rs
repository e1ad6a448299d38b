//! [`Cli`]: a program's purpose and flags, its `--help` text, and parsing its arguments
//! into addresses or a [`Stop`] (help asked for, or a [`UsageError`]).

use std::ffi::OsString;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::net::{AddrParseError, SocketAddr};
use std::path::PathBuf;

use crate::flag::Flag;

/// The exit status of a usage error. 2, as Python's `argparse` (`ArgumentParser.error`),
/// clap and getopt-based tools use, so scripts can tell a mistyped command (2) from a
/// failure at run time (1).
pub const USAGE: u8 = 2;

/// A program's command line: what it is for and its flags.
#[derive(Clone, Copy, Debug)]
pub struct Cli<const N: usize> {
    /// The program's name as `--help` shows it (the example's name).
    pub name: &'static str,
    /// The package whose example it is (`torchlight-tokio`), shown beside the name.
    pub package: &'static str,
    /// What the program does, one or more lines ending without a newline; `--help`
    /// prints it after the name.
    pub about: &'static str,
    /// The flags, in the order `--help` lists them and [`Cli::parse`] returns their
    /// addresses.
    pub flags: [Flag; N],
    /// Environment variables the program reads, as (name, meaning) pairs for `--help`.
    pub environment: &'static [(&'static str, &'static str)],
    /// Whether the program takes `--web-config FILE`, the exporter-toolkit web
    /// configuration file (HTTPS, basic authentication) of its metrics server; read it
    /// with [`Cli::parse_args`].
    pub web_config: bool,
}

/// The flag of the web configuration file.
pub const WEB_CONFIG: &str = "--web-config";

/// A parsed command line: the addresses, in the order of [`Cli::flags`], and the web
/// configuration file if one was given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args<const N: usize> {
    /// Each flag's address (its default when not given).
    pub addresses: [SocketAddr; N],
    /// `--web-config FILE`, for programs that take it.
    pub web_config: Option<PathBuf>,
}

/// Why parsing stopped without addresses.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop {
    /// `--help` or `-h`: print [`Cli::help`] and exit 0.
    Help,
    /// The arguments are wrong: print it with [`Cli::usage`] and exit [`USAGE`].
    Usage(UsageError),
}

/// A command line the program cannot run with. Each message names the argument at fault.
#[derive(Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum UsageError {
    /// A flag the program does not have (the name, without any `=value`).
    UnknownFlag(String),
    /// An argument that is not a flag; the programs take only flags.
    Unexpected(String),
    /// The flag was last, with no value after it.
    MissingValue(&'static str),
    /// The value is not an IP address and port.
    BadAddress {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// Why it does not parse.
        reason: AddrParseError,
    },
    /// The flag is given more than once (which one should win would be a guess).
    Repeated(&'static str),
    /// An argument that is not valid Unicode (so it cannot be a flag or an address).
    NotUnicode(OsString),
}

impl fmt::Display for UsageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownFlag(flag) => write!(f, "unknown flag {flag}"),
            Self::Unexpected(argument) => {
                write!(f, "unexpected argument {argument:?}; only flags are taken")
            }
            Self::MissingValue(WEB_CONFIG) => {
                write!(f, "{WEB_CONFIG} needs a file, such as {WEB_CONFIG} web.yml")
            }
            Self::MissingValue(flag) => {
                write!(f, "{flag} needs an address, such as {flag} 127.0.0.1:0")
            }
            Self::BadAddress {
                flag,
                value,
                reason,
            } => write!(
                f,
                "{flag} {value:?} is not an address ({reason}); give an IP address and a \
                 port, such as {flag} 127.0.0.1:0"
            ),
            Self::Repeated(flag) => write!(f, "{flag} is given more than once"),
            Self::NotUnicode(argument) => write!(f, "argument {argument:?} is not valid Unicode"),
        }
    }
}

impl std::error::Error for UsageError {}

impl<const N: usize> Cli<N> {
    /// The addresses of the process's arguments, in the order of [`Cli::flags`]; each
    /// flag not given is its default. Like clap's `Parser::parse`, it ends the process
    /// when it cannot return them: `--help` prints [`Cli::help`] to stdout and exits 0; a
    /// usage error prints the error and [`Cli::usage`] to stderr and exits [`USAGE`].
    pub fn parse(&self) -> [SocketAddr; N] {
        self.parse_args().addresses
    }

    /// [`Cli::parse`], with the web configuration file (see [`Cli::web_config`]).
    pub fn parse_args(&self) -> Args<N> {
        match self.try_parse_args(std::env::args_os().skip(1)) {
            Ok(args) => args,
            Err(Stop::Help) => {
                // A closed stdout (`--help | head -1`) is not worth a panic.
                let _ = std::io::stdout().write_all(self.help().as_bytes());
                std::process::exit(0)
            }
            Err(Stop::Usage(error)) => {
                let message = format!(
                    "error: {error}\n{}\n(--help lists every flag and its default)\n",
                    self.usage()
                );
                let _ = std::io::stderr().write_all(message.as_bytes());
                std::process::exit(i32::from(USAGE))
            }
        }
    }

    /// Parses `arguments` (without the program's name): `--flag ADDR` or
    /// `--flag=ADDR` for each flag, at most once each, and `--help`/`-h`.
    ///
    /// ```
    /// use torchlight_example_cli::{Stop, UsageError, examples, loopback};
    ///
    /// let cli = examples::quickstart("torchlight-tokio");
    /// assert_eq!(
    ///     cli.try_parse(["--metrics-addr=127.0.0.1:0"]),
    ///     Ok([loopback(8080), loopback(0)])
    /// );
    /// assert_eq!(cli.try_parse(["-h"]), Err(Stop::Help));
    /// assert_eq!(
    ///     cli.try_parse(["--app-addr"]),
    ///     Err(Stop::Usage(UsageError::MissingValue("--app-addr")))
    /// );
    /// ```
    ///
    /// # Errors
    ///
    /// [`Stop::Help`] at `--help` or `-h`; [`Stop::Usage`] at the first argument that
    /// is wrong.
    pub fn try_parse<I>(&self, arguments: I) -> Result<[SocketAddr; N], Stop>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        self.try_parse_args(arguments).map(|args| args.addresses)
    }

    /// [`Cli::try_parse`], with `--web-config FILE` (or `--web-config=FILE`) for a
    /// program that takes it.
    ///
    /// ```
    /// use std::path::PathBuf;
    /// use torchlight_example_cli::{examples, loopback};
    ///
    /// let cli = examples::quickstart("torchlight-tokio");
    /// let args = cli.try_parse_args(["--web-config", "web.yml"]).expect("valid");
    /// assert_eq!(args.addresses, [loopback(8080), loopback(8000)]);
    /// assert_eq!(args.web_config, Some(PathBuf::from("web.yml")));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Cli::try_parse`]; `--web-config` is an unknown flag where the program does
    /// not take it.
    pub fn try_parse_args<I>(&self, arguments: I) -> Result<Args<N>, Stop>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut given: [Option<SocketAddr>; N] = [None; N];
        let mut web_config: Option<PathBuf> = None;
        let mut arguments = arguments.into_iter().map(Into::into);
        while let Some(argument) = arguments.next() {
            let argument = unicode(argument)?;
            if argument == "--help" || argument == "-h" {
                return Err(Stop::Help);
            }
            let (name, inline) = match argument.split_once('=') {
                Some((name, value)) if name.starts_with("--") => (name, Some(value)),
                _ => (argument.as_str(), None),
            };
            if self.web_config && name == WEB_CONFIG {
                let file = value(WEB_CONFIG, inline, &mut arguments)?;
                if web_config.replace(PathBuf::from(file)).is_some() {
                    return Err(Stop::Usage(UsageError::Repeated(WEB_CONFIG)));
                }
                continue;
            }
            let Some(index) = self.flags.iter().position(|flag| flag.name() == name) else {
                return Err(Stop::Usage(if name.starts_with('-') {
                    UsageError::UnknownFlag(name.to_owned())
                } else {
                    UsageError::Unexpected(argument.clone())
                }));
            };
            let flag = self.flags[index].name();
            let value = value(flag, inline, &mut arguments)?;
            if given[index].is_some() {
                return Err(Stop::Usage(UsageError::Repeated(flag)));
            }
            let address = value.parse().map_err(|reason| {
                Stop::Usage(UsageError::BadAddress {
                    flag,
                    value: value.clone(),
                    reason,
                })
            })?;
            given[index] = Some(address);
        }
        Ok(Args {
            addresses: std::array::from_fn(|index| {
                given[index].unwrap_or(self.flags[index].default_address())
            }),
            web_config,
        })
    }

    /// The one-line synopsis: `Usage: quickstart [--app-addr ADDR] [--metrics-addr ADDR]`.
    pub fn usage(&self) -> String {
        let mut usage = format!("Usage: {}", self.name);
        for flag in &self.flags {
            let _ = write!(usage, " [{} ADDR]", flag.name());
        }
        if self.web_config {
            let _ = write!(usage, " [{WEB_CONFIG} FILE]");
        }
        usage
    }

    /// The `--help` text: the name and package, the purpose, the synopsis, each flag with what it sets and its
    /// default, the environment variables, and the exit statuses.
    pub fn help(&self) -> String {
        let options: Vec<(String, String)> = self
            .flags
            .iter()
            .map(|flag| {
                (
                    format!("{} ADDR", flag.name()),
                    format!(
                        "where {} listens [default: {}]",
                        flag.listener(),
                        flag.default_address()
                    ),
                )
            })
            .chain(self.web_config.then(|| {
                (
                    format!("{WEB_CONFIG} FILE"),
                    "exporter-toolkit web configuration file of the metrics server\n\
                     (HTTPS, basic auth) [default: none, plain HTTP]"
                        .to_owned(),
                )
            }))
            .chain([(
                "-h, --help".to_owned(),
                "print this help and exit".to_owned(),
            )])
            .collect();
        let mut help = format!(
            "{} ({})\n\n{}\n\n{}\n\nOptions:\n",
            self.name,
            self.package,
            self.about,
            self.usage()
        );
        table(&mut help, &options);
        if N > 0 {
            help.push_str(
                "\nADDR is an IP address and a port, such as 127.0.0.1:8000 or [::1]:8000;\n\
                 port 0 picks a free port.\n",
            );
        }
        if !self.environment.is_empty() {
            help.push_str("\nEnvironment:\n");
            let variables: Vec<(String, String)> = self
                .environment
                .iter()
                .map(|&(name, meaning)| (name.to_owned(), meaning.to_owned()))
                .collect();
            table(&mut help, &variables);
        }
        help.push_str(
            "\nExit status: 0 on success, 1 on a failure (its causes one per line),\n\
             2 on a usage error.\n",
        );
        help
    }
}

/// Appends `rows` as two aligned columns, indented by two spaces.
fn table(text: &mut String, rows: &[(String, String)]) {
    let width = rows.iter().map(|(left, _)| left.len()).max().unwrap_or(0);
    for (left, right) in rows {
        // Further lines of the right column line up under its first.
        let mut lines = right.lines();
        let _ = writeln!(
            text,
            "  {left:width$}  {}",
            lines.next().unwrap_or_default()
        );
        for line in lines {
            let _ = writeln!(text, "  {:width$}  {line}", "");
        }
    }
}

/// The value of `flag`: after its `=`, or the next argument.
fn value(
    flag: &'static str,
    inline: Option<&str>,
    arguments: &mut impl Iterator<Item = OsString>,
) -> Result<String, Stop> {
    match inline {
        Some(value) => Ok(value.to_owned()),
        None => unicode(
            arguments
                .next()
                .ok_or(Stop::Usage(UsageError::MissingValue(flag)))?,
        ),
    }
}

fn unicode(argument: OsString) -> Result<String, Stop> {
    argument
        .into_string()
        .map_err(|argument| Stop::Usage(UsageError::NotUnicode(argument)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flag::loopback;

    const CLI: Cli<2> = Cli {
        name: "quickstart",
        package: "torchlight-tokio",
        about: "The quickstart.",
        flags: [
            Flag::new("--app-addr", loopback(8080), "the app"),
            Flag::new("--metrics-addr", loopback(8000), "the metrics server"),
        ],
        environment: &[("CONSUL_HTTP_ADDR", "the agent")],
        web_config: false,
    };

    fn usage(arguments: &[&str]) -> UsageError {
        match CLI.try_parse(arguments) {
            Err(Stop::Usage(error)) => error,
            other => panic!("{arguments:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn absent_flags_take_their_defaults_in_flag_order() {
        assert_eq!(
            CLI.try_parse::<[&str; 0]>([]),
            Ok([loopback(8080), loopback(8000)])
        );
        assert_eq!(
            CLI.try_parse(["--metrics-addr", "[::1]:0"]),
            Ok([loopback(8080), "[::1]:0".parse().unwrap()])
        );
        assert_eq!(
            CLI.try_parse(["--metrics-addr=127.0.0.1:1", "--app-addr", "127.0.0.1:2"]),
            Ok([loopback(2), loopback(1)])
        );
    }

    #[test]
    fn help_stops_parsing_wherever_it_is() {
        assert_eq!(CLI.try_parse(["--help"]), Err(Stop::Help));
        assert_eq!(
            CLI.try_parse(["--app-addr", "127.0.0.1:1", "-h"]),
            Err(Stop::Help)
        );
    }

    #[test]
    fn each_usage_error_names_the_argument_at_fault() {
        assert_eq!(usage(&["--bogus=1"]).to_string(), "unknown flag --bogus");
        assert_eq!(
            usage(&["serve"]).to_string(),
            "unexpected argument \"serve\"; only flags are taken"
        );
        assert_eq!(
            usage(&["--app-addr"]).to_string(),
            "--app-addr needs an address, such as --app-addr 127.0.0.1:0"
        );
        assert_eq!(
            usage(&["--metrics-addr", "localhost:80"]).to_string(),
            "--metrics-addr \"localhost:80\" is not an address (invalid socket address \
             syntax); give an IP address and a port, such as --metrics-addr 127.0.0.1:0"
        );
        assert_eq!(
            usage(&["--app-addr=127.0.0.1:1", "--app-addr", "127.0.0.1:2"]).to_string(),
            "--app-addr is given more than once"
        );
    }

    #[cfg(unix)]
    #[test]
    fn an_argument_that_is_not_unicode_is_a_usage_error() {
        use std::os::unix::ffi::OsStringExt as _;
        let argument = OsString::from_vec(vec![b'-', b'-', 0xff]);
        assert_eq!(
            CLI.try_parse([argument.clone()]),
            Err(Stop::Usage(UsageError::NotUnicode(argument)))
        );
    }

    #[test]
    fn help_lists_purpose_flags_defaults_environment_and_exit_statuses() {
        assert_eq!(
            CLI.help(),
            "quickstart (torchlight-tokio)

The quickstart.

Usage: quickstart [--app-addr ADDR] [--metrics-addr ADDR]

Options:
  --app-addr ADDR      where the app listens [default: 127.0.0.1:8080]
  --metrics-addr ADDR  where the metrics server listens [default: 127.0.0.1:8000]
  -h, --help           print this help and exit

ADDR is an IP address and a port, such as 127.0.0.1:8000 or [::1]:8000;
port 0 picks a free port.

Environment:
  CONSUL_HTTP_ADDR  the agent

Exit status: 0 on success, 1 on a failure (its causes one per line),
2 on a usage error.
"
        );
    }

    #[test]
    fn the_web_config_file_is_taken_once_where_the_program_has_it() {
        let cli = Cli {
            web_config: true,
            ..CLI
        };
        let args = cli
            .try_parse_args(["--web-config=a b.yml", "--app-addr", "127.0.0.1:1"])
            .expect("valid");
        assert_eq!(args.web_config, Some(PathBuf::from("a b.yml")));
        assert_eq!(args.addresses, [loopback(1), loopback(8000)]);
        assert_eq!(
            cli.try_parse_args::<[&str; 0]>([]).map(|a| a.web_config),
            Ok(None)
        );
        assert_eq!(
            cli.try_parse_args(["--web-config"]).map(|a| a.web_config),
            Err(Stop::Usage(UsageError::MissingValue(WEB_CONFIG)))
        );
        assert_eq!(
            usage(&["--web-config", "x"]),
            UsageError::UnknownFlag("--web-config".to_owned()),
            "a program without the flag refuses it"
        );
        match cli.try_parse_args(["--web-config", "a", "--web-config", "b"]) {
            Err(Stop::Usage(error)) => {
                assert_eq!(error.to_string(), "--web-config is given more than once");
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(
            UsageError::MissingValue(WEB_CONFIG).to_string(),
            "--web-config needs a file, such as --web-config web.yml"
        );
        assert!(
            cli.usage()
                .ends_with("[--metrics-addr ADDR] [--web-config FILE]"),
            "{}",
            cli.usage()
        );
        assert!(cli.help().contains(
            "  --web-config FILE    exporter-toolkit web configuration file of the metrics server\n                       (HTTPS, basic auth) [default: none, plain HTTP]\n"
        ), "{}", cli.help());
    }

    #[test]
    fn a_program_without_flags_takes_only_help() {
        let bare: Cli<0> = Cli {
            name: "exposition",
            package: "torchlight",
            about: "Prints.",
            flags: [],
            environment: &[],
            web_config: false,
        };
        assert_eq!(bare.try_parse::<[&str; 0]>([]), Ok([]));
        assert_eq!(bare.usage(), "Usage: exposition");
        assert!(!bare.help().contains("ADDR"), "{}", bare.help());
        assert_eq!(
            bare.try_parse(["--metrics-addr", "127.0.0.1:0"]),
            Err(Stop::Usage(UsageError::UnknownFlag(
                "--metrics-addr".to_owned()
            )))
        );
    }
}
