//! [`Flag`], one flag of a program's command line and what it takes (an address a
//! server listens on, a value such as a URL or a duration, or nothing), and
//! [`ListenError`], a failure to start a server, tied to its address flag.

use std::error::Error;
use std::fmt;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};

use crate::duration::parse_duration;

/// `127.0.0.1:port`, as a constant (the examples listen on loopback unless told otherwise).
pub const fn loopback(port: u16) -> SocketAddr {
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))
}

/// A flag: `--name ADDR` (where one of the program's servers listens, with a default),
/// `--name VALUE` (a URL, a name, a file, a duration) or `--name` alone (a switch).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    name: &'static str,
    takes: Takes,
}

/// What a [`Flag`] takes after its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Takes {
    /// `ADDR`: an IP address and a port where `listener` listens; `default` when absent.
    Address {
        /// The address used when the flag is not given.
        default: SocketAddr,
        /// What listens there, words that fit "where … listens".
        listener: &'static str,
    },
    /// A value of a [`Kind`], checked when parsed.
    Value {
        /// What the value must be.
        kind: Kind,
        /// What the flag sets, for `--help`.
        about: &'static str,
        /// A valid value, for the usage errors (`such as --job nightly`).
        example: &'static str,
        /// The value used when the flag is not given, if any.
        default: Option<&'static str>,
        /// Whether the program cannot run without it.
        required: bool,
    },
    /// Nothing: the flag is a switch, on when given.
    Nothing {
        /// What the switch does, for `--help`.
        about: &'static str,
    },
}

/// What a [`Takes::Value`] flag's value must be.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A file's path (any non-empty text).
    File,
    /// An `http://` or `https://` URL.
    Url,
    /// A non-empty name.
    Name,
    /// A label value (any text, even empty).
    LabelValue,
    /// A positive Prometheus duration (`1h30m`, `15s`, `500ms`; see
    /// [`parse_duration`]).
    Duration,
}

impl Kind {
    /// The placeholder `--help` shows: `FILE`, `URL`, `NAME`, `DURATION`.
    pub const fn placeholder(self) -> &'static str {
        match self {
            Self::File => "FILE",
            Self::Url => "URL",
            Self::Name => "NAME",
            Self::LabelValue => "VALUE",
            Self::Duration => "DURATION",
        }
    }

    /// The kind with its article, as the usage errors say it: `a file`, `a URL`.
    pub const fn noun(self) -> &'static str {
        match self {
            Self::File => "a file",
            Self::Url => "a URL",
            Self::Name => "a name",
            Self::LabelValue => "a label value",
            Self::Duration => "a duration",
        }
    }

    /// Whether `value` is of this kind; the reason when it is not.
    ///
    /// # Errors
    ///
    /// Why `value` is not of this kind.
    pub fn check(self, value: &str) -> Result<(), String> {
        match self {
            Self::File | Self::Name if value.is_empty() => Err("it is empty".to_owned()),
            Self::File | Self::Name | Self::LabelValue => Ok(()),
            Self::Url => {
                let rest = value
                    .strip_prefix("http://")
                    .or_else(|| value.strip_prefix("https://"))
                    .ok_or_else(|| "it does not start with http:// or https://".to_owned())?;
                if rest.is_empty() || rest.starts_with('/') {
                    Err("it has no host".to_owned())
                } else {
                    Ok(())
                }
            }
            Self::Duration => match parse_duration(value) {
                Ok(duration) if duration.is_zero() => Err("it must be more than 0".to_owned()),
                Ok(_) => Ok(()),
                Err(error) => Err(error.to_string()),
            },
        }
    }
}

impl Flag {
    /// The flag `name` (with its dashes: `--metrics-addr`) sets where `listener` (`the
    /// metrics server`, words that fit "where … listens") listens; `default` when absent.
    pub const fn new(name: &'static str, default: SocketAddr, listener: &'static str) -> Self {
        Self {
            name,
            takes: Takes::Address { default, listener },
        }
    }

    /// The flag `name` takes a value of `kind`, which sets what `about` says
    /// (`example` is a valid value); optional and without a default until
    /// [`with_default`](Self::with_default) or [`required`](Self::required).
    pub const fn value(
        name: &'static str,
        kind: Kind,
        about: &'static str,
        example: &'static str,
    ) -> Self {
        Self {
            name,
            takes: Takes::Value {
                kind,
                about,
                example,
                default: None,
                required: false,
            },
        }
    }

    /// The flag `name` is a switch doing what `about` says.
    pub const fn switch(name: &'static str, about: &'static str) -> Self {
        Self {
            name,
            takes: Takes::Nothing { about },
        }
    }

    /// The value flag with `default` when not given (it must be of the flag's kind:
    /// the crate's tests check each example's defaults).
    #[must_use]
    pub const fn with_default(mut self, value: &'static str) -> Self {
        if let Takes::Value { default, .. } = &mut self.takes {
            *default = Some(value);
        }
        self
    }

    /// The value flag, which the program cannot run without.
    #[must_use]
    pub const fn required(mut self) -> Self {
        if let Takes::Value { required, .. } = &mut self.takes {
            *required = true;
        }
        self
    }

    /// The flag as typed, `--metrics-addr`.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    /// What the flag takes.
    pub const fn takes(&self) -> Takes {
        self.takes
    }

    /// The address used when the flag is not given; `None` for a flag that takes no
    /// address.
    pub const fn default_address(&self) -> Option<SocketAddr> {
        match self.takes {
            Takes::Address { default, .. } => Some(default),
            _ => None,
        }
    }

    /// What listens on the flag's address, `the metrics server` (empty for a flag
    /// that takes no address).
    pub const fn listener(&self) -> &'static str {
        match self.takes {
            Takes::Address { listener, .. } => listener,
            _ => "",
        }
    }

    /// What the flag takes as `--help` shows it: `ADDR`, `URL`, … (empty for a switch).
    pub const fn placeholder(&self) -> &'static str {
        match self.takes {
            Takes::Address { .. } => "ADDR",
            Takes::Value { kind, .. } => kind.placeholder(),
            Takes::Nothing { .. } => "",
        }
    }

    /// A valid value, as the usage errors show it (`127.0.0.1:0` for an address).
    pub const fn example(&self) -> &'static str {
        match self.takes {
            Takes::Address { .. } => "127.0.0.1:0",
            Takes::Value { example, .. } => example,
            Takes::Nothing { .. } => "",
        }
    }

    /// Ties `source`, a failure to start the listener on `address` (the address this
    /// flag gave), to the flag, so the report says which flag changes the address.
    pub fn blame(
        &self,
        address: SocketAddr,
        source: impl Into<Box<dyn Error + Send + Sync>>,
    ) -> ListenError {
        ListenError {
            flag: *self,
            address,
            source: source.into(),
        }
    }
}

/// A server could not start on the address a [`Flag`] gave (see [`Flag::blame`]). Its
/// message names the server, the address and the flag; the failure itself is its
/// `source`, which [`report`](crate::report) prints on the next line.
#[derive(Debug)]
pub struct ListenError {
    flag: Flag,
    address: SocketAddr,
    source: Box<dyn Error + Send + Sync>,
}

impl ListenError {
    /// The flag whose address was used.
    pub fn flag(&self) -> &Flag {
        &self.flag
    }

    /// The address that was tried.
    pub fn address(&self) -> SocketAddr {
        self.address
    }
}

impl fmt::Display for ListenError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} cannot start on {} ({} sets the address)",
            self.flag.listener(),
            self.address,
            self.flag.name
        )
    }
}

impl Error for ListenError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_names_the_listener_the_address_and_the_flag() {
        let flag = Flag::new("--app-addr", loopback(8080), "the app");
        let error = flag.blame(loopback(9), std::io::Error::other("taken"));
        assert_eq!(
            error.to_string(),
            "the app cannot start on 127.0.0.1:9 (--app-addr sets the address)"
        );
        assert_eq!(
            error.source().map(ToString::to_string).as_deref(),
            Some("taken")
        );
        assert_eq!(error.address(), loopback(9));
        assert_eq!(error.flag().name(), "--app-addr");
    }

    #[test]
    fn each_kind_says_why_a_value_is_wrong() {
        assert_eq!(Kind::Url.check("http://127.0.0.1:9091"), Ok(()));
        assert_eq!(Kind::Url.check("https://gateway/path"), Ok(()));
        assert_eq!(
            Kind::Url.check("127.0.0.1:9091"),
            Err("it does not start with http:// or https://".to_owned())
        );
        assert_eq!(
            Kind::Url.check("http:///x"),
            Err("it has no host".to_owned())
        );
        assert_eq!(Kind::Name.check(""), Err("it is empty".to_owned()));
        assert_eq!(Kind::Duration.check("1h30m"), Ok(()));
        assert_eq!(
            Kind::Duration.check("0s"),
            Err("it must be more than 0".to_owned())
        );
        assert!(Kind::Duration.check("15").is_err());
    }

    #[test]
    fn builders_apply_to_value_flags_only() {
        let flag = Flag::value("--job", Kind::Name, "the job", "nightly").required();
        assert!(matches!(flag.takes(), Takes::Value { required: true, .. }));
        assert_eq!(flag.placeholder(), "NAME");
        let switch = Flag::switch("--delete", "deletes")
            .with_default("x")
            .required();
        assert_eq!(switch.takes(), Takes::Nothing { about: "deletes" });
        assert_eq!(switch.default_address(), None);
    }
}
