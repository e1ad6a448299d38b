//! exporter-toolkit's web configuration file (feature `web-config`): [`WebConfig`].
//!
//! The file Go exporters and Prometheus itself read with `--web.config.file`
//! (<https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md>),
//! parsed with `yaml-rust2`. The keys it supports are listed in [`WebConfig`]'s docs;
//! the others exporter-toolkit knows are errors naming the key (rather than a setting
//! silently not applied), and so is any key it does not know, as its strict parsing
//! makes it.

use std::fmt;
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

use crate::basic_auth::BasicAuthUsers;
use crate::options::Options;
use crate::tls::{self, ClientAuth, TlsConfig, TlsFiles, TlsVersion};

/// Keys exporter-toolkit knows that this server does not implement.
const UNSUPPORTED: &[&str] = &[
    "tls_server_config.cert",
    "tls_server_config.key",
    "tls_server_config.client_ca",
    "tls_server_config.client_allowed_sans",
    "tls_server_config.curve_preferences",
    "http_server_config.headers",
    "rate_limit",
];

/// The settings of a web configuration file: TLS and basic authentication.
///
/// Supported keys (the rest of exporter-toolkit's are refused, naming the key):
///
/// | key | what it sets |
/// |---|---|
/// | `tls_server_config.cert_file`, `key_file` | the certificate chain and key ([`TlsFiles::new`]); relative paths are relative to the file's folder, as in exporter-toolkit |
/// | `tls_server_config.client_auth_type` | all five modes ([`ClientAuth`]) |
/// | `tls_server_config.client_ca_file` | the CA client certificates must chain to |
/// | `tls_server_config.min_version`, `max_version` | `TLS12` or `TLS13` ([`TlsVersion`]); `TLS10` and `TLS11` are refused: rustls implements neither |
/// | `tls_server_config.cipher_suites` | TLS 1.2 suites by Go's names ([`TlsFiles::with_cipher_suites`]); TLS 1.3 names are accepted and change nothing, as in Go; suites rustls lacks (CBC, RSA key exchange, RC4) are refused, naming why |
/// | `tls_server_config.prefer_server_cipher_suites` | read and ignored, as Go has ignored it since 1.17 |
/// | `basic_auth_users` | user names and bcrypt hashes ([`BasicAuthUsers`]) |
/// | `http_server_config.http2` | read and ignored: the server speaks HTTP/1.1, which every Prometheus negotiates |
///
/// Refused: the inline `cert`, `key` and `client_ca`, `client_allowed_sans`,
/// `curve_preferences`, `http_server_config.headers` and `rate_limit`.
///
/// ```no_run
/// use torchlight_smol::{Options, WebConfig};
///
/// let web = WebConfig::from_file("web.yml")?;
/// let options = web.apply(Options::new());
/// # Ok::<(), torchlight_smol::WebConfigError>(())
/// ```
#[derive(Clone, Debug, Default)]
pub struct WebConfig {
    tls: Option<TlsConfig>,
    users: Option<BasicAuthUsers>,
}

impl WebConfig {
    /// Reads and checks the file at `path`, and the certificate files it names.
    ///
    /// # Errors
    ///
    /// The file cannot be read or is not YAML, a key is unknown or not supported, a
    /// value has the wrong type, a certificate file is unusable, or a hash is not
    /// bcrypt. The message names the file and the key.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, WebConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|error| WebConfigError::new(path, format!("cannot be read: {error}")))?;
        let folder = path.parent().unwrap_or_else(|| Path::new(""));
        Self::from_yaml(&text, folder).map_err(|mut error| {
            error.path = path.to_owned();
            error
        })
    }

    /// Parses `text`, resolving relative file names against `folder`.
    ///
    /// # Errors
    ///
    /// As [`from_file`](Self::from_file).
    pub fn from_yaml(text: &str, folder: &Path) -> Result<Self, WebConfigError> {
        let fail = |message: String| WebConfigError::new(Path::new("<yaml>"), message);
        let documents = YamlLoader::load_from_str(text)
            .map_err(|error| fail(format!("is not valid YAML: {error}")))?;
        let mut config = Self::default();
        let root = match documents.as_slice() {
            [] | [Yaml::Null] => return Ok(config),
            [Yaml::Hash(root)] => root,
            [_] => return Err(fail("must be a mapping of settings".to_owned())),
            _ => return Err(fail("must hold one YAML document".to_owned())),
        };
        for (key, value) in root {
            match key_name(key, "").map_err(&fail)? {
                "tls_server_config" => config.tls = tls(value, folder).map_err(&fail)?,
                "basic_auth_users" => config.users = users(value).map_err(&fail)?,
                "http_server_config" => http_server(value).map_err(&fail)?,
                other => return Err(fail(unknown(other))),
            }
        }
        Ok(config)
    }

    /// The TLS settings, if the file has `tls_server_config`.
    #[must_use]
    pub fn tls(&self) -> Option<&TlsConfig> {
        self.tls.as_ref()
    }

    /// The users, if the file has non-empty `basic_auth_users`.
    #[must_use]
    pub fn basic_auth_users(&self) -> Option<&BasicAuthUsers> {
        self.users.as_ref()
    }

    /// `options` with this file's TLS settings and users (what the file does not set
    /// is left as it was). Keep this `WebConfig` to [`reload`](TlsConfig::reload) the
    /// certificates: the server shares its settings.
    #[must_use]
    pub fn apply(&self, mut options: Options) -> Options {
        if let Some(tls) = &self.tls {
            options = options.with_tls(tls.clone());
        }
        if let Some(users) = &self.users {
            options = options.with_basic_auth(users.clone());
        }
        options
    }
}

/// A key's name (`prefix.key` in messages).
fn key_name<'a>(key: &'a Yaml, prefix: &str) -> Result<&'a str, String> {
    key.as_str()
        .ok_or_else(|| format!("has a key that is not a string under `{prefix}`: {key:?}"))
}

fn unknown(key: &str) -> String {
    if UNSUPPORTED.contains(&key) {
        format!("sets `{key}`, which exporter-toolkit knows but torchlight does not support")
    } else {
        format!("has an unknown key `{key}`")
    }
}

/// A string value, or `Ok(None)` for null.
fn string<'a>(value: &'a Yaml, key: &str) -> Result<Option<&'a str>, String> {
    match value {
        Yaml::Null => Ok(None),
        Yaml::String(text) => Ok(Some(text.as_str())),
        _ => Err(format!("`{key}` must be a string")),
    }
}

fn tls(value: &Yaml, folder: &Path) -> Result<Option<TlsConfig>, String> {
    let section = match value {
        Yaml::Null => return Ok(None),
        Yaml::Hash(section) => section,
        _ => return Err("`tls_server_config` must be a mapping".to_owned()),
    };
    let (mut cert, mut key, mut ca) = (None, None, None);
    let mut mode = ClientAuth::NoClientCert;
    let (mut min, mut max, mut suites) = (None, None, None);
    for (name, value) in section {
        let name = key_name(name, "tls_server_config")?;
        let full = format!("tls_server_config.{name}");
        let path =
            |value: &Yaml| string(value, &full).map(|text| text.map(|text| folder.join(text)));
        match name {
            "cert_file" => cert = path(value)?,
            "key_file" => key = path(value)?,
            "client_ca_file" => ca = path(value)?,
            "client_auth_type" => {
                if let Some(text) = string(value, &full)? {
                    mode = ClientAuth::from_name(text).ok_or_else(|| {
                        let names: Vec<_> = ClientAuth::ALL.iter().map(|m| m.name()).collect();
                        format!("`{full}` is {text:?}, not one of {}", names.join(", "))
                    })?;
                }
            }
            "min_version" => min = version(value, &full)?,
            "max_version" => max = version(value, &full)?,
            "cipher_suites" => suites = cipher_suites(value, &full)?,
            "prefer_server_cipher_suites" => {
                if !matches!(value, Yaml::Boolean(_) | Yaml::Null) {
                    return Err(format!("`{full}` must be a boolean"));
                }
            }
            _ => return Err(unknown(&full)),
        }
    }
    let (Some(cert), Some(key)) = (cert, key) else {
        return Err("`tls_server_config` needs both `cert_file` and `key_file`".to_owned());
    };
    let mut files = TlsFiles::new(cert, key).with_client_auth(mode);
    if let Some(ca) = ca {
        files = files.with_client_ca_file(ca);
    }
    if let Some(min) = min {
        files = files.with_min_version(min);
    }
    if let Some(max) = max {
        files = files.with_max_version(max);
    }
    if let Some(suites) = suites {
        files = files.with_cipher_suites(suites);
    }
    TlsConfig::from_files(files)
        .map(Some)
        .map_err(|error| format!("`tls_server_config`: {error}"))
}

/// A `min_version` or `max_version`: `TLS12` or `TLS13`.
fn version(value: &Yaml, key: &str) -> Result<Option<TlsVersion>, String> {
    let Some(text) = string(value, key)? else {
        return Ok(None);
    };
    match (TlsVersion::from_name(text), text) {
        (Some(version), _) => Ok(Some(version)),
        (None, "TLS10" | "TLS11") => Err(format!(
            "`{key}` is {text}, which rustls does not implement (RFC 8996 deprecates TLS 1.0 \
             and 1.1): use TLS12 or TLS13"
        )),
        (None, _) => Err(format!("`{key}` is {text:?}, not one of TLS12, TLS13")),
    }
}

/// `cipher_suites`: a list of Go's names. Whether rustls offers each is checked when
/// the settings are built, which names why it does not.
fn cipher_suites(value: &Yaml, key: &str) -> Result<Option<Vec<rustls::CipherSuite>>, String> {
    let names = match value {
        // Empty: Go's defaults, as exporter-toolkit sets only a non-empty list.
        Yaml::Null => return Ok(None),
        Yaml::Array(names) if names.is_empty() => return Ok(None),
        Yaml::Array(names) => names,
        _ => return Err(format!("`{key}` must be a list of cipher suite names")),
    };
    let mut suites = Vec::with_capacity(names.len());
    for name in names {
        let name = name
            .as_str()
            .ok_or_else(|| format!("`{key}` must be a list of cipher suite names"))?;
        suites.push(tls::go_cipher_suite(name).ok_or_else(|| {
            format!(
                "`{key}` has {name:?}, which is not a cipher suite name of Go's crypto/tls \
                 (such as TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256)"
            )
        })?);
    }
    Ok(Some(suites))
}

fn users(value: &Yaml) -> Result<Option<BasicAuthUsers>, String> {
    let section = match value {
        Yaml::Null => return Ok(None),
        Yaml::Hash(section) => section,
        _ => return Err("`basic_auth_users` must be a mapping of users to hashes".to_owned()),
    };
    let mut users = BasicAuthUsers::builder();
    for (name, hash) in section {
        let name = key_name(name, "basic_auth_users")?;
        let key = format!("basic_auth_users.{name}");
        let hash = string(hash, &key)?.ok_or_else(|| format!("`{key}` has no hash"))?;
        // Checked here, one user at a time, so the error names the key.
        BasicAuthUsers::builder()
            .with_user(name, hash)
            .build()
            .map_err(|error| format!("`{key}`: {error}"))?;
        users = users.with_user(name, hash);
    }
    let users = users
        .build()
        .map_err(|error| format!("`basic_auth_users`: {error}"))?;
    Ok((!users.is_empty()).then_some(users))
}

fn http_server(value: &Yaml) -> Result<(), String> {
    let section = match value {
        Yaml::Null => return Ok(()),
        Yaml::Hash(section) => section,
        _ => return Err("`http_server_config` must be a mapping".to_owned()),
    };
    for (name, value) in section {
        let name = key_name(name, "http_server_config")?;
        match (name, value) {
            ("http2", Yaml::Boolean(_) | Yaml::Null) => {}
            ("http2", _) => return Err("`http_server_config.http2` must be a boolean".to_owned()),
            _ => return Err(unknown(&format!("http_server_config.{name}"))),
        }
    }
    Ok(())
}

/// Why a web configuration file cannot be used: the file and what is wrong.
#[derive(Debug)]
pub struct WebConfigError {
    path: PathBuf,
    message: String,
}

impl WebConfigError {
    fn new(path: &Path, message: String) -> Self {
        Self {
            path: path.to_owned(),
            message,
        }
    }
}

impl fmt::Display for WebConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "web configuration file {} {}",
            self.path.display(),
            self.message
        )
    }
}

impl std::error::Error for WebConfigError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(yaml: &str) -> String {
        WebConfig::from_yaml(yaml, Path::new("/nowhere"))
            .expect_err(yaml)
            .to_string()
    }

    #[test]
    fn empty_files_and_sections_configure_nothing() {
        for yaml in [
            "",
            "# nothing\n",
            "tls_server_config:\nbasic_auth_users:\n",
            "{}",
        ] {
            let config = WebConfig::from_yaml(yaml, Path::new(".")).expect(yaml);
            assert!(config.tls().is_none() && config.basic_auth_users().is_none());
        }
    }

    #[test]
    fn unknown_and_unsupported_keys_are_named() {
        assert!(error("tls_server_confg: {}\n").contains("unknown key `tls_server_confg`"));
        assert!(
            error("tls_server_config:\n  cert_file: a\n  curve_preferences: [X25519]\n")
                .contains("`tls_server_config.curve_preferences`, which exporter-toolkit knows")
        );
        assert!(error("rate_limit:\n  burst: 3\n").contains("`rate_limit`"));
        assert!(
            error("http_server_config:\n  headers: {}\n").contains("http_server_config.headers")
        );
        assert!(error("http_server_config:\n  http2: yes please\n").contains("boolean"));
    }

    #[test]
    fn values_are_checked() {
        assert!(error("- a\n").contains("mapping"));
        assert!(error("tls_server_config:\n  key_file: k\n").contains("both"));
        assert!(
            error(
                "tls_server_config:\n  cert_file: c\n  key_file: k\n  client_auth_type: Always\n"
            )
            .contains("\"Always\", not one of NoClientCert")
        );
        assert!(error("basic_auth_users:\n  prom: plain\n").contains("basic_auth_users.prom"));
        assert!(error("basic_auth_users:\n  prom:\n").contains("has no hash"));
        assert!(error("tls_server_config: [1]\n").contains("must be a mapping"));
        // A missing certificate names the file, resolved against the folder.
        assert!(
            error("tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n")
                .contains("/nowhere/c.pem")
        );
    }

    /// A `tls_server_config` with files that do not exist and `extra` lines.
    fn tls_error(extra: &str) -> String {
        error(&format!(
            "tls_server_config:\n  cert_file: c.pem\n  key_file: k.pem\n{extra}"
        ))
    }

    #[test]
    fn versions_and_cipher_suites_are_read_and_checked() {
        // Valid values get as far as reading the (missing) files.
        for extra in [
            "  min_version: TLS13\n",
            "  min_version: TLS12\n  max_version: TLS12\n",
            "  cipher_suites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256]\n",
            "  cipher_suites:\n  prefer_server_cipher_suites: true\n",
            "  cipher_suites: []\n",
        ] {
            assert!(tls_error(extra).contains("/nowhere/c.pem"), "{extra}");
        }
        for (extra, expected) in [
            (
                "  min_version: TLS10\n",
                "TLS10, which rustls does not implement",
            ),
            (
                "  max_version: TLS11\n",
                "TLS11, which rustls does not implement",
            ),
            (
                "  min_version: tls13\n",
                "\"tls13\", not one of TLS12, TLS13",
            ),
            (
                "  min_version: TLS13\n  max_version: TLS12\n",
                "min_version TLS13 is newer",
            ),
            (
                "  cipher_suites: [TLS_RSA_WITH_AES_128_CBC_SHA]\n",
                "no CBC-mode suites",
            ),
            (
                "  cipher_suites: [TLS_RSA_WITH_AES_128_GCM_SHA256]\n",
                "no RSA key exchange",
            ),
            (
                "  cipher_suites: [TLS_ECDHE_RSA_WITH_RC4_128_SHA]\n",
                "RC4 is broken",
            ),
            (
                "  cipher_suites: [AES128-GCM-SHA256]\n",
                "not a cipher suite name of Go",
            ),
            (
                "  cipher_suites: TLS_AES_128_GCM_SHA256\n",
                "must be a list",
            ),
            (
                "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n",
                "no TLS 1.2 suite",
            ),
            ("  prefer_server_cipher_suites: 1\n", "must be a boolean"),
        ] {
            let message = tls_error(extra);
            assert!(message.contains(expected), "{extra}: {message}");
        }
        // TLS 1.3 only: a list without TLS 1.2 suites is fine.
        assert!(
            tls_error("  min_version: TLS13\n  cipher_suites: [TLS_AES_128_GCM_SHA256]\n")
                .contains("/nowhere/c.pem")
        );
    }

    #[test]
    fn users_are_read() {
        let yaml = "basic_auth_users:\n  prom: $2y$04$wa6ZY/wdMFdZq8zbfMityOvn8jwEXVRaS0EKyXXlVfFpKLCiPqMOS\n";
        let config = WebConfig::from_yaml(yaml, Path::new(".")).expect("users");
        let users = config.basic_auth_users().expect("one user");
        assert!(crate::exposure::Authenticate::verify(
            users, "prom", "secret"
        ));
    }
}
