//! [`Cli`]: a program's purpose and flags, its `--help` text, and parsing its arguments
//! into [`Args`] (addresses and values) or a [`Stop`] (help asked for, or a
//! [`UsageError`]).

use std::ffi::OsString;
use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::net::{AddrParseError, SocketAddr};
use std::path::Path;
use std::time::Duration;

use crate::duration::parse_duration;
use crate::flag::{Flag, Kind, Takes, loopback};

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
    /// The address flags ([`Flag::new`]), in the order `--help` lists them and
    /// [`Cli::parse`] returns their addresses.
    pub flags: [Flag; N],
    /// The other flags, each taking a value ([`Flag::value`]: a file, a URL, a name, a
    /// duration) or nothing ([`Flag::switch`]), listed after the address flags; read
    /// them from [`Cli::parse_args`]'s [`Args`].
    pub options: &'static [Flag],
    /// Environment variables the program reads, as (name, meaning) pairs for `--help`.
    pub environment: &'static [(&'static str, &'static str)],
}

/// A parsed command line: the addresses, in the order of [`Cli::flags`], and the
/// [`Cli::options`] given, their values checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Args<const N: usize> {
    /// Each address flag's address (its default when not given).
    pub addresses: [SocketAddr; N],
    /// The options given, with their values (empty for a switch).
    given: Vec<(&'static str, String)>,
}

impl<const N: usize> Args<N> {
    /// The value of `flag`, one of the [`Cli::options`]: as given, else its default.
    pub fn value(&self, flag: &Flag) -> Option<&str> {
        self.given
            .iter()
            .find(|(name, _)| *name == flag.name())
            .map(|(_, value)| value.as_str())
            .or(match flag.takes() {
                Takes::Value { default, .. } => default,
                _ => None,
            })
    }

    /// The value of `flag` as a path ([`Kind::File`]).
    pub fn path(&self, flag: &Flag) -> Option<&Path> {
        self.value(flag).map(Path::new)
    }

    /// The value of `flag` as a duration ([`Kind::Duration`]; checked when parsed).
    pub fn duration(&self, flag: &Flag) -> Option<Duration> {
        self.value(flag)
            .and_then(|value| parse_duration(value).ok())
    }

    /// Whether the switch `flag` was given.
    pub fn is_on(&self, flag: &Flag) -> bool {
        self.given.iter().any(|(name, _)| *name == flag.name())
    }
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
    MissingValue(Flag),
    /// The value is not an IP address and port.
    BadAddress {
        /// The flag.
        flag: &'static str,
        /// The value given.
        value: String,
        /// Why it does not parse.
        reason: AddrParseError,
    },
    /// The value is not of the flag's [`Kind`].
    BadValue {
        /// The flag.
        flag: Flag,
        /// The value given.
        value: String,
        /// Why it is not of the kind.
        reason: String,
    },
    /// A required flag is not given.
    Missing(Flag),
    /// A switch given a value (`--delete=yes`).
    SwitchValue(&'static str),
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
            Self::MissingValue(flag) => write!(
                f,
                "{} needs {}, such as {} {}",
                flag.name(),
                noun(flag),
                flag.name(),
                flag.example()
            ),
            Self::BadAddress {
                flag,
                value,
                reason,
            } => write!(
                f,
                "{flag} {value:?} is not an address ({reason}); give an IP address and a \
                 port, such as {flag} 127.0.0.1:0"
            ),
            Self::BadValue {
                flag,
                value,
                reason,
            } => write!(
                f,
                "{} {value:?} is not {} ({reason}), such as {} {}",
                flag.name(),
                noun(flag),
                flag.name(),
                flag.example()
            ),
            Self::Missing(flag) => write!(
                f,
                "{} is required, such as {} {}",
                flag.name(),
                flag.name(),
                flag.example()
            ),
            Self::SwitchValue(flag) => write!(f, "{flag} takes no value"),
            Self::Repeated(flag) => write!(f, "{flag} is given more than once"),
            Self::NotUnicode(argument) => write!(f, "argument {argument:?} is not valid Unicode"),
        }
    }
}

/// What `flag` takes, with its article: `an address`, `a URL`.
fn noun(flag: &Flag) -> &'static str {
    match flag.takes() {
        Takes::Address { .. } => "an address",
        Takes::Value { kind, .. } => kind.noun(),
        Takes::Nothing { .. } => "nothing",
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

    /// [`Cli::parse`], with the [`Cli::options`].
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
    ///     Err(Stop::Usage(UsageError::MissingValue(examples::APP_ADDR)))
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

    /// [`Cli::try_parse`], with the [`Cli::options`]: `--flag VALUE` (or
    /// `--flag=VALUE`) each checked for its kind, `--switch`, and every required flag.
    ///
    /// ```
    /// use std::path::Path;
    /// use std::time::Duration;
    /// use torchlight_example_cli::examples::{self, PUSH_INTERVAL, WEB_CONFIG};
    /// use torchlight_example_cli::loopback;
    ///
    /// let cli = examples::quickstart("torchlight-tokio");
    /// let args = cli.try_parse_args(["--web-config", "web.yml"]).expect("valid");
    /// assert_eq!(args.addresses, [loopback(8080), loopback(8000)]);
    /// assert_eq!(args.path(&WEB_CONFIG), Some(Path::new("web.yml")));
    /// assert_eq!(args.duration(&PUSH_INTERVAL), Some(Duration::from_secs(15)));
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Cli::try_parse`], and [`UsageError::Missing`] for a required flag not given.
    pub fn try_parse_args<I>(&self, arguments: I) -> Result<Args<N>, Stop>
    where
        I: IntoIterator,
        I::Item: Into<OsString>,
    {
        let mut given: [Option<SocketAddr>; N] = [None; N];
        let mut options: Vec<(&'static str, String)> = Vec::new();
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
            if let Some(option) = self.options.iter().find(|flag| flag.name() == name) {
                let value = match option.takes() {
                    Takes::Nothing { .. } if inline.is_some() => {
                        return Err(Stop::Usage(UsageError::SwitchValue(option.name())));
                    }
                    Takes::Nothing { .. } => String::new(),
                    _ => value(option, inline, &mut arguments)?,
                };
                if options.iter().any(|(given, _)| *given == option.name()) {
                    return Err(Stop::Usage(UsageError::Repeated(option.name())));
                }
                check(option, &value)?;
                options.push((option.name(), value));
                continue;
            }
            let Some(index) = self.flags.iter().position(|flag| flag.name() == name) else {
                return Err(Stop::Usage(if name.starts_with('-') {
                    UsageError::UnknownFlag(name.to_owned())
                } else {
                    UsageError::Unexpected(argument.clone())
                }));
            };
            let flag = &self.flags[index];
            let value = value(flag, inline, &mut arguments)?;
            if given[index].is_some() {
                return Err(Stop::Usage(UsageError::Repeated(flag.name())));
            }
            given[index] = Some(address(flag, &value)?);
        }
        if let Some(missing) = self.options.iter().find(|flag| {
            matches!(flag.takes(), Takes::Value { required: true, .. })
                && !options.iter().any(|(name, _)| *name == flag.name())
        }) {
            return Err(Stop::Usage(UsageError::Missing(*missing)));
        }
        Ok(Args {
            addresses: std::array::from_fn(|index| {
                given[index]
                    .or(self.flags[index].default_address())
                    .unwrap_or(loopback(0))
            }),
            given: options,
        })
    }

    /// The one-line synopsis: `Usage: quickstart [--app-addr ADDR] [--metrics-addr ADDR]`;
    /// a required flag without brackets.
    pub fn usage(&self) -> String {
        let mut usage = format!("Usage: {}", self.name);
        for flag in self.flags.iter().chain(self.options) {
            let placeholder = match flag.placeholder() {
                "" => String::new(),
                placeholder => format!(" {placeholder}"),
            };
            if matches!(flag.takes(), Takes::Value { required: true, .. }) {
                let _ = write!(usage, " {}{placeholder}", flag.name());
            } else {
                let _ = write!(usage, " [{}{placeholder}]", flag.name());
            }
        }
        usage
    }

    /// The `--help` text: the name and package, the purpose, the synopsis, each flag with what it sets and its
    /// default, the environment variables, and the exit statuses.
    pub fn help(&self) -> String {
        let options: Vec<(String, String)> = self
            .flags
            .iter()
            .chain(self.options)
            .map(|flag| {
                let left = match flag.placeholder() {
                    "" => flag.name().to_owned(),
                    placeholder => format!("{} {placeholder}", flag.name()),
                };
                let right = match flag.takes() {
                    Takes::Address { default, listener } => {
                        format!("where {listener} listens [default: {default}]")
                    }
                    Takes::Value {
                        about,
                        default: Some(default),
                        ..
                    } => format!("{about} [default: {default}]"),
                    Takes::Value {
                        about,
                        required: true,
                        ..
                    } => format!("{about} [required]"),
                    Takes::Value { about, .. } | Takes::Nothing { about } => about.to_owned(),
                };
                (left, right)
            })
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
        let takes = |wanted: fn(Takes) -> bool| {
            self.flags
                .iter()
                .chain(self.options)
                .any(|flag| wanted(flag.takes()))
        };
        if takes(|takes| matches!(takes, Takes::Address { .. })) {
            help.push_str(
                "\nADDR is an IP address and a port, such as 127.0.0.1:8000 or [::1]:8000;\n\
                 port 0 picks a free port.\n",
            );
        }
        if takes(|takes| {
            matches!(
                takes,
                Takes::Value {
                    kind: Kind::Duration,
                    ..
                }
            )
        }) {
            help.push_str(
                "\nDURATION is a Prometheus duration: numbers with units y, w, d, h, m, s, ms,\n\
                 largest first, such as 15s, 1h30m or 500ms.\n",
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
    flag: &Flag,
    inline: Option<&str>,
    arguments: &mut impl Iterator<Item = OsString>,
) -> Result<String, Stop> {
    match inline {
        Some(value) => Ok(value.to_owned()),
        None => unicode(
            arguments
                .next()
                .ok_or(Stop::Usage(UsageError::MissingValue(*flag)))?,
        ),
    }
}

/// `value` as the address `flag` takes.
fn address(flag: &Flag, value: &str) -> Result<SocketAddr, Stop> {
    value.parse().map_err(|reason| {
        Stop::Usage(UsageError::BadAddress {
            flag: flag.name(),
            value: value.to_owned(),
            reason,
        })
    })
}

/// Whether `value` is what `flag` takes.
fn check(flag: &Flag, value: &str) -> Result<(), Stop> {
    match flag.takes() {
        Takes::Address { .. } => address(flag, value).map(|_| ()),
        Takes::Value { kind, .. } => kind.check(value).map_err(|reason| {
            Stop::Usage(UsageError::BadValue {
                flag: *flag,
                value: value.to_owned(),
                reason,
            })
        }),
        Takes::Nothing { .. } => Ok(()),
    }
}

fn unicode(argument: OsString) -> Result<String, Stop> {
    argument
        .into_string()
        .map_err(|argument| Stop::Usage(UsageError::NotUnicode(argument)))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    /// As `examples::WEB_CONFIG` (which imports this module, so is not imported here).
    const WEB_CONFIG: Flag = Flag::value(
        "--web-config",
        Kind::File,
        "exporter-toolkit web configuration file of the metrics server\n\
         (HTTPS, basic auth) [default: none, plain HTTP]",
        "web.yml",
    );

    const CLI: Cli<2> = Cli {
        name: "quickstart",
        package: "torchlight-tokio",
        about: "The quickstart.",
        flags: [
            Flag::new("--app-addr", loopback(8080), "the app"),
            Flag::new("--metrics-addr", loopback(8000), "the metrics server"),
        ],
        environment: &[("CONSUL_HTTP_ADDR", "the agent")],
        options: &[],
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
            options: &[WEB_CONFIG],
            ..CLI
        };
        let args = cli
            .try_parse_args(["--web-config=a b.yml", "--app-addr", "127.0.0.1:1"])
            .expect("valid");
        assert_eq!(args.path(&WEB_CONFIG), Some(Path::new("a b.yml")));
        assert_eq!(args.addresses, [loopback(1), loopback(8000)]);
        assert_eq!(
            cli.try_parse_args::<[&str; 0]>([])
                .map(|a| a.path(&WEB_CONFIG).map(PathBuf::from)),
            Ok(None)
        );
        assert_eq!(
            cli.try_parse_args(["--web-config"]),
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

    const GATEWAY: Flag = Flag::value(
        "--gateway",
        Kind::Url,
        "the gateway",
        "http://127.0.0.1:9091",
    )
    .required();
    const INTERVAL: Flag =
        Flag::value("--interval", Kind::Duration, "how often", "15s").with_default("15s");
    const DELETE: Flag = Flag::switch("--delete", "deletes instead");
    const VALUES: Cli<0> = Cli {
        name: "push",
        package: "torchlight-tokio",
        about: "Pushes.",
        flags: [],
        options: &[GATEWAY, INTERVAL, DELETE],
        environment: &[],
    };

    fn value_error(arguments: &[&str]) -> String {
        match VALUES.try_parse_args(arguments) {
            Err(Stop::Usage(error)) => error.to_string(),
            other => panic!("{arguments:?} parsed as {other:?}"),
        }
    }

    #[test]
    fn values_and_switches_are_checked_read_and_listed() {
        let args = VALUES
            .try_parse_args(["--gateway", "http://g:9091", "--interval=1m30s", "--delete"])
            .expect("valid");
        assert_eq!(args.value(&GATEWAY), Some("http://g:9091"));
        assert_eq!(args.duration(&INTERVAL), Some(Duration::from_secs(90)));
        assert!(args.is_on(&DELETE));
        let args = VALUES
            .try_parse_args(["--gateway=https://g"])
            .expect("valid");
        assert_eq!(args.duration(&INTERVAL), Some(Duration::from_secs(15)));
        assert!(!args.is_on(&DELETE));
        assert_eq!(
            VALUES.usage(),
            "Usage: push --gateway URL [--interval DURATION] [--delete]"
        );
        let help = VALUES.help();
        assert!(
            help.contains(
                "  --gateway URL        the gateway [required]\n  \
                 --interval DURATION  how often [default: 15s]\n  \
                 --delete             deletes instead\n"
            ),
            "{help}"
        );
        assert!(
            help.contains("\nDURATION is a Prometheus duration"),
            "{help}"
        );
        assert!(!help.contains("ADDR"), "{help}");
    }

    #[test]
    fn each_value_error_names_the_flag() {
        assert_eq!(
            value_error(&[]),
            "--gateway is required, such as --gateway http://127.0.0.1:9091"
        );
        assert_eq!(
            value_error(&["--gateway", "127.0.0.1:9091"]),
            "--gateway \"127.0.0.1:9091\" is not a URL (it does not start with http:// or \
             https://), such as --gateway http://127.0.0.1:9091"
        );
        assert_eq!(
            value_error(&["--gateway=http://g", "--interval", "15"]),
            "--interval \"15\" is not a duration (a number needs a unit (y, w, d, h, m, s, \
             ms)), such as --interval 15s"
        );
        assert_eq!(
            value_error(&["--gateway=http://g", "--interval"]),
            "--interval needs a duration, such as --interval 15s"
        );
        assert_eq!(
            value_error(&["--gateway=http://g", "--delete=yes"]),
            "--delete takes no value"
        );
        assert_eq!(
            value_error(&["--gateway=http://g", "--delete", "--delete"]),
            "--delete is given more than once"
        );
    }

    #[test]
    fn a_program_without_flags_takes_only_help() {
        let bare: Cli<0> = Cli {
            name: "exposition",
            package: "torchlight",
            about: "Prints.",
            flags: [],
            environment: &[],
            options: &[],
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
