//! HTTPS (feature `tls`): [`TlsConfig`], the handshake and the I/O bridge between
//! hyper's I/O traits and rustls.
//!
//! One path for every runtime: the server accepts a [`Runtime::Stream`] (hyper's
//! `Read`/`Write`), [`Io`] presents it to `futures-rustls` as `futures-io` traits, and
//! presents the encrypted stream back to hyper the same way. No runtime-specific TLS
//! crate is involved, so the tokio, smol and async-std adapters and the threaded mode
//! all run this code.
//!
//! The handshake counts against [`Limits::header_read_timeout`](crate::Limits::header_read_timeout):
//! a connection must finish its handshake *and* send its request head within that
//! time from when it connected. A connection in its handshake is idle for the slot
//! table (it can be evicted), and a failed handshake (garbage, a stalled client)
//! closes that connection only. Plain HTTP sent to the TLS port is told so, as Go's
//! `net/http` tells it: the first five bytes are read before the handshake (a TLS
//! record starts with `0x16`, an HTTP request with a method), and a request gets
//! `HTTP/1.0 400 Bad Request` with the body "Client sent an HTTP request to an HTTPS
//! server." before the connection closes; otherwise rustls reads those bytes again.
//!
//! Settings built from files ([`TlsFiles`]) offer TLS 1.2 and 1.3 (or the range of
//! `min_version`/`max_version`) and the crypto provider's cipher suites (or, for TLS
//! 1.2, those of `cipher_suites`, Go's names mapped to rustls' suites). The provider
//! is the process default when the application installed one, otherwise rustls'
//! `ring` provider. A ready [`rustls::ServerConfig`] brings its own of all that.
//!
//! [`Runtime::Stream`]: crate::Runtime::Stream

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};
use std::task::{Context, Poll, ready};

use futures_rustls::TlsAcceptor;
use futures_rustls::server::TlsStream;
use hyper::rt::{Read, ReadBuf, ReadBufCursor, Write};
use rustls::client::danger::HandshakeSignatureValid;
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use rustls::server::danger::{ClientCertVerified, ClientCertVerifier};
use rustls::server::{
    ClientCertVerifierBuilder, NoClientAuth, VerifierBuilderError, WebPkiClientVerifier,
};
use rustls::{
    CipherSuite, DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig,
    SignatureScheme,
};

/// The TLS settings of an HTTPS metrics server: a certificate chain and key (read from
/// PEM files, which [`reload`](Self::reload) reads again) or a ready
/// [`rustls::ServerConfig`].
///
/// Give it to the server with `Options::with_tls`; keep a clone to reload the certificate
/// when it rotates (clones share the current settings). Built from PEM files, the
/// server offers HTTP/1.1 through ALPN and TLS 1.2 and 1.3 with rustls' safe defaults
/// and its `ring` provider; a ready `ServerConfig` is used exactly as given.
///
/// ```no_run
/// use std::sync::Arc;
/// use torchlight_smol::{Options, TlsConfig};
///
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let options = Options::new().with_tls(tls.clone());
/// // … start the server with `options`; when the files change:
/// tls.reload()?;
/// # Ok::<(), torchlight_smol::TlsError>(())
/// ```
#[derive(Clone)]
pub struct TlsConfig {
    inner: Arc<Inner>,
}

struct Inner {
    source: Source,
    /// What new connections are accepted with; [`TlsConfig::reload`] replaces it.
    current: RwLock<Arc<ServerConfig>>,
}

enum Source {
    Files(TlsFiles),
    Ready,
}

impl TlsConfig {
    /// Reads the certificate chain (leaf first) from `cert_file` and the private key
    /// (PKCS #8, PKCS #1 or SEC1) from `key_file`, both PEM.
    ///
    /// # Errors
    ///
    /// A file cannot be read or holds no certificate or key, or the key does not fit
    /// the certificate; the message names the file.
    pub fn from_pem_files(
        cert_file: impl Into<PathBuf>,
        key_file: impl Into<PathBuf>,
    ) -> Result<Self, TlsError> {
        Self::from_files(TlsFiles::new(cert_file, key_file))
    }

    /// Reads `files`: the certificate chain and key, and for client certificates the
    /// CA file, all PEM.
    ///
    /// # Errors
    ///
    /// As [`from_pem_files`](Self::from_pem_files), and when the client
    /// authentication mode and the CA file do not go together (a verifying mode
    /// without a CA file, a CA file with [`ClientAuth::NoClientCert`]).
    pub fn from_files(files: TlsFiles) -> Result<Self, TlsError> {
        let config = server_config(&files)?;
        Ok(Self::with(Source::Files(files), config))
    }

    /// Serves with `config` as it is (its certificates, client authentication, crypto
    /// provider). [`reload`](Self::reload) keeps it.
    #[must_use]
    pub fn from_server_config(config: Arc<ServerConfig>) -> Self {
        Self::with(Source::Ready, config)
    }

    fn with(source: Source, config: Arc<ServerConfig>) -> Self {
        Self {
            inner: Arc::new(Inner {
                source,
                current: RwLock::new(config),
            }),
        }
    }

    /// Reads the PEM files again, so new connections use the rotated certificate;
    /// connections already open keep theirs. Does nothing for a ready
    /// `ServerConfig`.
    ///
    /// # Errors
    ///
    /// As [`from_pem_files`](Self::from_pem_files); the settings in use are kept.
    pub fn reload(&self) -> Result<(), TlsError> {
        if let Source::Files(files) = &self.inner.source {
            let config = server_config(files)?;
            *self
                .inner
                .current
                .write()
                .unwrap_or_else(PoisonError::into_inner) = config;
        }
        Ok(())
    }

    /// The settings new connections are accepted with.
    #[must_use]
    pub fn server_config(&self) -> Arc<ServerConfig> {
        Arc::clone(
            &self
                .inner
                .current
                .read()
                .unwrap_or_else(PoisonError::into_inner),
        )
    }

    /// Runs the server side of the handshake on `stream`; plain HTTP is answered
    /// `400` and closed, as Go's `net/http` does.
    pub(crate) async fn accept<S>(&self, stream: S) -> io::Result<Io<TlsStream<Replay<Io<S>>>>>
    where
        S: Read + Write + Unpin,
    {
        let mut stream = Replay::new(Io(stream));
        stream.read_head().await?;
        if looks_like_http(stream.head()) {
            stream.refuse_plain_http().await;
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "plain HTTP sent to the TLS port",
            ));
        }
        let stream = TlsAcceptor::from(self.server_config())
            .accept(stream)
            .await?;
        Ok(Io(stream))
    }
}

impl fmt::Debug for TlsConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut debug = f.debug_struct("TlsConfig");
        match &self.inner.source {
            Source::Files(files) => debug.field("files", files),
            Source::Ready => debug.field("server_config", &"ready"),
        }
        .finish_non_exhaustive()
    }
}

/// The files an HTTPS server reads, how it treats client certificates, and which
/// protocol versions and cipher suites it offers: exporter-toolkit's
/// `tls_server_config` (`cert_file`, `key_file`, `client_auth_type`,
/// `client_ca_file`, `min_version`, `max_version`, `cipher_suites`).
///
/// The settings are checked when [`TlsConfig::from_files`] reads the files.
///
/// ```no_run
/// use torchlight_smol::rustls::CipherSuite;
/// use torchlight_smol::{ClientAuth, TlsConfig, TlsFiles, TlsVersion};
///
/// let files = TlsFiles::new("cert.pem", "key.pem")
///     .with_client_auth(ClientAuth::RequireAndVerifyClientCert)
///     .with_client_ca_file("ca.pem")
///     .with_min_version(TlsVersion::Tls13);
/// let tls = TlsConfig::from_files(files)?;
/// # let _ = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
/// # Ok::<(), torchlight_smol::TlsError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    cert_file: PathBuf,
    key_file: PathBuf,
    client_auth: ClientAuth,
    client_ca_file: Option<PathBuf>,
    min_version: TlsVersion,
    max_version: TlsVersion,
    /// `None`: every TLS 1.2 suite of the crypto provider.
    cipher_suites: Option<Vec<CipherSuite>>,
}

impl TlsFiles {
    /// The certificate chain (leaf first) and private key, no client certificates,
    /// TLS 1.2 and 1.3 (exporter-toolkit's default `min_version` is `TLS12`), every
    /// cipher suite of the crypto provider.
    #[must_use]
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        Self {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
            client_auth: ClientAuth::NoClientCert,
            client_ca_file: None,
            min_version: TlsVersion::Tls12,
            max_version: TlsVersion::Tls13,
            cipher_suites: None,
        }
    }

    /// How client certificates are asked for and checked.
    #[must_use]
    pub fn with_client_auth(mut self, mode: ClientAuth) -> Self {
        self.client_auth = mode;
        self
    }

    /// The CA certificates (PEM) client certificates must chain to, for
    /// [`ClientAuth::VerifyClientCertIfGiven`] and
    /// [`ClientAuth::RequireAndVerifyClientCert`].
    #[must_use]
    pub fn with_client_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_ca_file = Some(path.into());
        self
    }

    /// The oldest protocol version offered (`min_version`; TLS 1.2 by default).
    #[must_use]
    pub fn with_min_version(mut self, version: TlsVersion) -> Self {
        self.min_version = version;
        self
    }

    /// The newest protocol version offered (`max_version`; TLS 1.3 by default).
    #[must_use]
    pub fn with_max_version(mut self, version: TlsVersion) -> Self {
        self.max_version = version;
        self
    }

    /// The TLS 1.2 cipher suites offered (`cipher_suites`), instead of all the crypto
    /// provider's. As in Go, whose `tls.Config.CipherSuites` does not apply to TLS
    /// 1.3, TLS 1.3 suites in the list change nothing: TLS 1.3 always offers all of
    /// the provider's. A suite rustls does not implement (CBC, RSA key exchange,
    /// RC4) is refused by [`TlsConfig::from_files`], naming why.
    #[must_use]
    pub fn with_cipher_suites(mut self, suites: impl IntoIterator<Item = CipherSuite>) -> Self {
        self.cipher_suites = Some(suites.into_iter().collect());
        self
    }

    /// The certificate chain's file.
    #[must_use]
    pub fn cert_file(&self) -> &Path {
        &self.cert_file
    }

    /// The private key's file.
    #[must_use]
    pub fn key_file(&self) -> &Path {
        &self.key_file
    }

    /// How client certificates are asked for and checked.
    #[must_use]
    pub fn client_auth(&self) -> ClientAuth {
        self.client_auth
    }

    /// The CA file client certificates must chain to, if set.
    #[must_use]
    pub fn client_ca_file(&self) -> Option<&Path> {
        self.client_ca_file.as_deref()
    }

    /// The oldest protocol version offered.
    #[must_use]
    pub fn min_version(&self) -> TlsVersion {
        self.min_version
    }

    /// The newest protocol version offered.
    #[must_use]
    pub fn max_version(&self) -> TlsVersion {
        self.max_version
    }

    /// The TLS 1.2 cipher suites asked for, or `None` for all the provider's.
    #[must_use]
    pub fn cipher_suites(&self) -> Option<&[CipherSuite]> {
        self.cipher_suites.as_deref()
    }
}

/// A TLS protocol version the server can offer: the values of exporter-toolkit's
/// `min_version` and `max_version` that rustls implements. `TLS10` and `TLS11` have
/// no variant: rustls implements neither (RFC 8996 deprecates both).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum TlsVersion {
    /// TLS 1.2 (RFC 5246), `TLS12`.
    Tls12,
    /// TLS 1.3 (RFC 8446), `TLS13`.
    Tls13,
}

impl TlsVersion {
    /// Every version, oldest first.
    pub const ALL: [Self; 2] = [Self::Tls12, Self::Tls13];

    /// The version's name in the web configuration file (`"TLS13"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::Tls12 => "TLS12",
            Self::Tls13 => "TLS13",
        }
    }

    /// The version named `name` (exact spelling, as exporter-toolkit reads it);
    /// `None` for `TLS10`, `TLS11` and anything else.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|version| version.name() == name)
    }

    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            Self::Tls12 => &rustls::version::TLS12,
            Self::Tls13 => &rustls::version::TLS13,
        }
    }
}

/// When a client must present a certificate, and whether it is checked against the
/// CA file: exporter-toolkit's `client_auth_type` values, which are Go's
/// `tls.ClientAuthType`s. A client that presents a certificate must always prove it
/// holds its key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ClientAuth {
    /// No certificate is asked for (the default).
    #[default]
    NoClientCert,
    /// A certificate is asked for, not required, and not checked.
    RequestClientCert,
    /// A certificate is required but not checked against a CA.
    RequireAnyClientCert,
    /// A certificate is optional; one that is sent must chain to the CA file.
    VerifyClientCertIfGiven,
    /// A certificate chaining to the CA file is required: the only mode that
    /// authenticates clients.
    RequireAndVerifyClientCert,
}

impl ClientAuth {
    /// Every mode, in exporter-toolkit's order.
    pub const ALL: [Self; 5] = [
        Self::NoClientCert,
        Self::RequestClientCert,
        Self::RequireAnyClientCert,
        Self::VerifyClientCertIfGiven,
        Self::RequireAndVerifyClientCert,
    ];

    /// The mode's name in the web configuration file (`"RequireAndVerifyClientCert"`).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Self::NoClientCert => "NoClientCert",
            Self::RequestClientCert => "RequestClientCert",
            Self::RequireAnyClientCert => "RequireAnyClientCert",
            Self::VerifyClientCertIfGiven => "VerifyClientCertIfGiven",
            Self::RequireAndVerifyClientCert => "RequireAndVerifyClientCert",
        }
    }

    /// The mode named `name` (exact spelling, as exporter-toolkit reads it).
    #[must_use]
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|mode| mode.name() == name)
    }
}

/// Builds the server settings from PEM files, with [`provider`] narrowed to the
/// cipher suites `files` asks for.
fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let cert = &files.cert_file;
    let versions = versions(files)?;
    let provider = Arc::new(cipher_suites(files, &provider())?);
    let certs = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key_file)
        .map_err(|error| TlsError::file(&files.key_file, "a PEM private key", error))?;
    let verifier = client_verifier(files, &provider)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&versions)
        .map_err(|error| TlsError::with_source("the TLS settings cannot be used", error))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(TlsError::settings)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// The protocol versions from `min_version` to `max_version`.
fn versions(files: &TlsFiles) -> Result<Vec<&'static rustls::SupportedProtocolVersion>, TlsError> {
    let (min, max) = (files.min_version, files.max_version);
    if min > max {
        return Err(TlsError::mismatch(format!(
            "min_version {} is newer than max_version {}",
            min.name(),
            max.name()
        )));
    }
    Ok(TlsVersion::ALL
        .into_iter()
        .filter(|version| (min..=max).contains(version))
        .map(TlsVersion::rustls)
        .collect())
}

/// `provider` with only the TLS 1.2 suites `files` asks for (all its TLS 1.3 suites
/// stay, as Go's `CipherSuites` leaves TLS 1.3 alone).
fn cipher_suites(files: &TlsFiles, provider: &CryptoProvider) -> Result<CryptoProvider, TlsError> {
    let Some(wanted) = &files.cipher_suites else {
        return Ok(provider.clone());
    };
    for &suite in wanted {
        let offered = provider.cipher_suites.iter().any(|s| s.suite() == suite);
        if !offered && !is_tls13(suite) {
            return Err(TlsError::mismatch(format!(
                "cipher suite {} cannot be offered: {}",
                cipher_suite_name(suite),
                unsupported_reason(suite)
            )));
        }
    }
    let suites: Vec<_> = provider
        .cipher_suites
        .iter()
        .filter(|s| s.tls13().is_some() || wanted.contains(&s.suite()))
        .copied()
        .collect();
    let tls12 = suites.iter().any(|s| s.tls13().is_none());
    if files.min_version == TlsVersion::Tls12 && !tls12 {
        return Err(TlsError::mismatch(
            "cipher_suites lists no TLS 1.2 suite, so TLS 1.2 clients could not connect: \
             list one, or set min_version TLS13",
        ));
    }
    Ok(CryptoProvider {
        cipher_suites: suites,
        ..provider.clone()
    })
}

/// Whether `suite` is a TLS 1.3 suite (RFC 8446 §B.4: `0x13xx`).
fn is_tls13(suite: CipherSuite) -> bool {
    u16::from(suite) >> 8 == 0x13
}

/// Go's `crypto/tls` names of the cipher suites (`CipherSuites()` and
/// `InsecureCipherSuites()`, as `cipher_suites.go` spells them), which
/// exporter-toolkit's `cipher_suites` takes, with their IANA code points.
const GO_CIPHER_SUITES: [(&str, u16); 25] = [
    ("TLS_RSA_WITH_RC4_128_SHA", 0x0005),
    ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", 0x000a),
    ("TLS_RSA_WITH_AES_128_CBC_SHA", 0x002f),
    ("TLS_RSA_WITH_AES_256_CBC_SHA", 0x0035),
    ("TLS_RSA_WITH_AES_128_CBC_SHA256", 0x003c),
    ("TLS_RSA_WITH_AES_128_GCM_SHA256", 0x009c),
    ("TLS_RSA_WITH_AES_256_GCM_SHA384", 0x009d),
    ("TLS_ECDHE_ECDSA_WITH_RC4_128_SHA", 0xc007),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA", 0xc009),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA", 0xc00a),
    ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", 0xc011),
    ("TLS_ECDHE_RSA_WITH_3DES_EDE_CBC_SHA", 0xc012),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA", 0xc013),
    ("TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA", 0xc014),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256", 0xc023),
    ("TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256", 0xc027),
    ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", 0xc02f),
    ("TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", 0xc02b),
    ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384", 0xc030),
    ("TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384", 0xc02c),
    ("TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca8),
    ("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256", 0xcca9),
    ("TLS_AES_128_GCM_SHA256", 0x1301),
    ("TLS_AES_256_GCM_SHA384", 0x1302),
    ("TLS_CHACHA20_POLY1305_SHA256", 0x1303),
];

/// The cipher suite Go names `name` (`TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256`);
/// `None` for a name Go does not know.
#[cfg(feature = "web-config")]
pub(crate) fn go_cipher_suite(name: &str) -> Option<CipherSuite> {
    GO_CIPHER_SUITES
        .iter()
        .find(|(go, _)| *go == name)
        .map(|&(_, code)| CipherSuite::from(code))
}

/// Go's name of `suite` where it has one, else rustls'.
fn cipher_suite_name(suite: CipherSuite) -> String {
    let code = u16::from(suite);
    GO_CIPHER_SUITES
        .iter()
        .find(|&&(_, c)| c == code)
        .map_or_else(|| format!("{suite:?}"), |(name, _)| (*name).to_owned())
}

/// Why rustls does not offer `suite`.
fn unsupported_reason(suite: CipherSuite) -> &'static str {
    let name = cipher_suite_name(suite);
    if name.contains("_RC4_") {
        "RC4 is broken and prohibited (RFC 7465); rustls does not implement it"
    } else if name.contains("_CBC_") {
        "rustls implements no CBC-mode suites (padding-oracle attacks such as Lucky \
         Thirteen), only AEAD ones (AES-GCM, ChaCha20-Poly1305)"
    } else if name.starts_with("TLS_RSA_") {
        "rustls implements no RSA key exchange (it has no forward secrecy), only ECDHE"
    } else {
        "the crypto provider does not implement it"
    }
}

/// The crypto provider of settings built from files: the process default when the
/// application installed one (`CryptoProvider::install_default`, e.g. `aws-lc-rs` for
/// its post-quantum key exchange), otherwise rustls' `ring` provider.
fn provider() -> Arc<CryptoProvider> {
    if let Some(installed) = CryptoProvider::get_default() {
        return Arc::clone(installed);
    }
    // rustls 0.23.48 deprecates the `ring` provider as a whole ("no support for
    // post-quantum algorithms") and offers no non-deprecated way to build it; it stays
    // the default here because `aws-lc-rs` needs cmake and a C build, and an
    // application that wants post-quantum key exchange installs its provider.
    #[expect(
        deprecated,
        reason = "rustls' ring provider lacks post-quantum key exchange"
    )]
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(ring)
}

/// The certificates in the PEM file `path` (at least one).
fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|error| TlsError::file(path, "PEM certificates", error))?;
    if certs.is_empty() {
        return Err(TlsError::file(
            path,
            "PEM certificates",
            "no certificate in it",
        ));
    }
    Ok(certs)
}

/// The client certificate check `files` asks for.
fn client_verifier(
    files: &TlsFiles,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ClientCertVerifier>, TlsError> {
    let verified = |ca: &Path| -> Result<ClientCertVerifierBuilder, TlsError> {
        let mut roots = RootCertStore::empty();
        for cert in certificates(ca)? {
            roots
                .add(cert)
                .map_err(|error| TlsError::file(ca, "CA certificates", error))?;
        }
        Ok(WebPkiClientVerifier::builder_with_provider(
            Arc::new(roots),
            Arc::clone(provider),
        ))
    };
    let any = |mandatory| -> Arc<dyn ClientCertVerifier> {
        Arc::new(AnyClientCert {
            mandatory,
            algorithms: provider.signature_verification_algorithms,
        })
    };
    let mode = files.client_auth;
    let verifier: Arc<dyn ClientCertVerifier> = match (mode, &files.client_ca_file) {
        (ClientAuth::NoClientCert, None) => Arc::new(NoClientAuth),
        (ClientAuth::NoClientCert, Some(_)) => {
            return Err(TlsError::mismatch(
                "client_ca_file is set but client_auth_type is NoClientCert: choose a mode \
                 that asks for client certificates",
            ));
        }
        (ClientAuth::RequestClientCert, _) => any(false),
        (ClientAuth::RequireAnyClientCert, _) => any(true),
        (ClientAuth::VerifyClientCertIfGiven | ClientAuth::RequireAndVerifyClientCert, None) => {
            return Err(TlsError::mismatch(format!(
                "client_auth_type {} needs client_ca_file, the CA client certificates \
                 must chain to",
                mode.name()
            )));
        }
        (ClientAuth::VerifyClientCertIfGiven, Some(ca)) => verified(ca)?
            .allow_unauthenticated()
            .build()
            .map_err(TlsError::verifier)?,
        (ClientAuth::RequireAndVerifyClientCert, Some(ca)) => {
            verified(ca)?.build().map_err(TlsError::verifier)?
        }
    };
    Ok(verifier)
}

/// Go's `RequestClientCert` and `RequireAnyClientCert`: any certificate is accepted,
/// but the client must still sign the handshake with its key.
#[derive(Debug)]
struct AnyClientCert {
    mandatory: bool,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ClientCertVerifier for AnyClientCert {
    fn offer_client_auth(&self) -> bool {
        true
    }

    fn client_auth_mandatory(&self) -> bool {
        self.mandatory
    }

    fn root_hint_subjects(&self) -> &[DistinguishedName] {
        &[]
    }

    fn verify_client_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _now: UnixTime,
    ) -> Result<ClientCertVerified, rustls::Error> {
        Ok(ClientCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Why TLS settings could not be built: the file and what was wrong with it.
#[derive(Debug)]
pub struct TlsError {
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TlsError {
    fn file(path: &Path, expected: &str, error: impl fmt::Display) -> Self {
        Self {
            message: format!("{} cannot be read as {expected}: {error}", path.display()),
            source: None,
        }
    }

    fn mismatch(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            source: None,
        }
    }

    fn verifier(error: VerifierBuilderError) -> Self {
        Self {
            message: "the client CA file cannot be used".to_owned(),
            source: Some(Box::new(error)),
        }
    }

    fn with_source(message: &str, error: rustls::Error) -> Self {
        Self {
            message: message.to_owned(),
            source: Some(Box::new(error)),
        }
    }

    fn settings(error: rustls::Error) -> Self {
        Self {
            message: "the certificate and key cannot be used together".to_owned(),
            source: Some(Box::new(error)),
        }
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(source) => write!(f, "{}: {source}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// What Go's `net/http` answers a plain HTTP request on a TLS port (`server.go`,
/// after `tls.RecordHeaderError`), byte for byte.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// The length of a TLS record header (RFC 8446 §5.1), which a TLS client's first
/// bytes are, and of the prefixes that tell plain HTTP apart.
const HEAD: usize = 5;

/// How much of a refused plain HTTP request is read and discarded before answering,
/// so the close does not reset the connection (and drop the `400`) while the request
/// is unread: hyper's first read buffer, which holds a usual request head.
const DISCARDED: usize = 8 * 1024;

/// Whether the first bytes of a connection are an HTTP request rather than a TLS
/// record: the five prefixes Go's `tlsRecordHeaderLooksLikeHTTP` checks (`GET /`,
/// `HEAD `, `POST `, `PUT /`, `OPTIO`). A TLS record starts with its content type,
/// `0x16` for a handshake, never an ASCII letter.
fn looks_like_http(head: &[u8]) -> bool {
    [b"GET /", b"HEAD ", b"POST ", b"PUT /", b"OPTIO"]
        .iter()
        .any(|prefix| prefix.as_slice() == head)
}

/// A stream whose first bytes were read to tell plain HTTP from TLS, and are read
/// again (by rustls) before the rest.
pub(crate) struct Replay<S> {
    stream: S,
    head: [u8; HEAD],
    /// Invariant: `start <= end <= HEAD`; `head[start..end]` is still to be replayed.
    start: usize,
    end: usize,
}

impl<S: futures_io::AsyncRead + futures_io::AsyncWrite + Unpin> Replay<S> {
    const fn new(stream: S) -> Self {
        Self {
            stream,
            head: [0; HEAD],
            start: 0,
            end: 0,
        }
    }

    /// Reads the first [`HEAD`] bytes, or fewer if the client closes, or just the
    /// first if it is not an ASCII letter (TLS, or garbage rustls will refuse).
    async fn read_head(&mut self) -> io::Result<()> {
        use futures_lite::AsyncReadExt as _;
        while self.end < HEAD {
            let n = self.stream.read(&mut self.head[self.end..]).await?;
            if n == 0 {
                break;
            }
            self.end += n;
            if !self.head[0].is_ascii_alphabetic() {
                break;
            }
        }
        Ok(())
    }

    /// The bytes [`read_head`](Self::read_head) read.
    fn head(&self) -> &[u8] {
        &self.head[..self.end]
    }

    /// Reads the rest of the request head (up to [`DISCARDED`] bytes, until the blank
    /// line that ends it), answers `400` and closes: with the head read, closing
    /// does not reset the connection and drop the answer before the client reads it.
    /// Errors mean the client is gone, which ends the connection all the same.
    async fn refuse_plain_http(&mut self) {
        use futures_lite::{AsyncReadExt as _, AsyncWriteExt as _};
        const END: &[u8; 4] = b"\r\n\r\n";
        // How much of `END` the bytes so far end with.
        let mut matched = 0;
        let mut scan = |bytes: &[u8]| {
            for &byte in bytes {
                matched = match byte {
                    _ if byte == END[matched] => matched + 1,
                    b'\r' => 1,
                    _ => 0,
                };
                if matched == END.len() {
                    return true;
                }
            }
            false
        };
        let mut ended = scan(self.head());
        let mut buffer = [0; 1024];
        let mut read = self.end;
        while !ended && read < DISCARDED {
            match self.stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    read += n;
                    ended = scan(&buffer[..n]);
                }
            }
        }
        if self.stream.write_all(PLAIN_HTTP_ANSWER).await.is_ok() {
            let _ = self.stream.close().await;
        }
    }
}

impl<S: futures_io::AsyncRead + Unpin> futures_io::AsyncRead for Replay<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        if this.start < this.end {
            let replayed = &this.head[this.start..this.end];
            let n = replayed.len().min(buf.len());
            buf[..n].copy_from_slice(&replayed[..n]);
            this.start += n;
            return Poll::Ready(Ok(n));
        }
        Pin::new(&mut this.stream).poll_read(cx, buf)
    }
}

impl<S: futures_io::AsyncWrite + Unpin> futures_io::AsyncWrite for Replay<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_close(cx)
    }
}

/// A stream seen through the other family of I/O traits: a hyper stream as
/// `futures-io` (what `futures-rustls` reads), and a `futures-io` stream (the TLS
/// stream) as hyper's.
pub(crate) struct Io<S>(pub(crate) S);

/// The most a single read moves from a TLS stream to hyper: hyper's own read buffer
/// starts at 8 KiB (`hyper::proto::h1::io::INIT_BUFFER_SIZE`).
const READ_CHUNK: usize = 8 * 1024;

impl<S: Read + Unpin> futures_io::AsyncRead for Io<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let mut read = ReadBuf::new(buf);
        ready!(Read::poll_read(Pin::new(&mut self.0), cx, read.unfilled()))?;
        Poll::Ready(Ok(read.filled().len()))
    }
}

impl<S: Write + Unpin> futures_io::AsyncWrite for Io<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Write::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Write::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Write::poll_shutdown(Pin::new(&mut self.0), cx)
    }
}

impl<S: futures_io::AsyncRead + Unpin> Read for Io<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // Through a chunk on the stack: filling hyper's cursor directly needs `unsafe`
        // (it may be uninitialised), and reads here are request heads, small.
        let mut chunk = [0u8; READ_CHUNK];
        let len = buf.remaining().min(READ_CHUNK);
        let n = ready!(futures_io::AsyncRead::poll_read(
            Pin::new(&mut self.0),
            cx,
            &mut chunk[..len]
        ))?;
        buf.put_slice(&chunk[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<S: futures_io::AsyncWrite + Unpin> Write for Io<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        futures_io::AsyncWrite::poll_write(Pin::new(&mut self.0), cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_flush(Pin::new(&mut self.0), cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        futures_io::AsyncWrite::poll_close(Pin::new(&mut self.0), cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_auth_names_are_exporter_toolkits() {
        for mode in ClientAuth::ALL {
            assert_eq!(ClientAuth::from_name(mode.name()), Some(mode));
        }
        assert_eq!(ClientAuth::default(), ClientAuth::NoClientCert);
        // Exact spelling, as Go's `tls.ClientAuthType` names.
        assert_eq!(ClientAuth::from_name("requireandverifyclientcert"), None);
        assert_eq!(ClientAuth::from_name(""), None);
    }

    #[test]
    fn version_names_are_exporter_toolkits() {
        for version in TlsVersion::ALL {
            assert_eq!(TlsVersion::from_name(version.name()), Some(version));
        }
        for refused in ["TLS10", "TLS11", "tls13", "1.3"] {
            assert_eq!(TlsVersion::from_name(refused), None);
        }
        let files = TlsFiles::new("c", "k");
        let range = |min, max| versions(&files.clone().with_min_version(min).with_max_version(max));
        assert_eq!(
            range(TlsVersion::Tls12, TlsVersion::Tls13)
                .expect("both")
                .len(),
            2
        );
        assert_eq!(
            range(TlsVersion::Tls13, TlsVersion::Tls13).expect("one")[0].version,
            rustls::ProtocolVersion::TLSv1_3
        );
        let error = range(TlsVersion::Tls13, TlsVersion::Tls12).expect_err("an empty range");
        assert!(
            error.to_string().contains("newer than max_version"),
            "{error}"
        );
    }

    #[test]
    fn go_names_map_to_the_same_suites_and_cover_rustls() {
        for (name, code) in GO_CIPHER_SUITES {
            let suite = go_cipher_suite(name).expect("a Go name");
            assert_eq!(u16::from(suite), code);
            // Where rustls names a suite, it spells TLS 1.3 suites `TLS13_…` and the
            // others as Go (IANA) does.
            let prefix = if is_tls13(suite) { "TLS13_" } else { "TLS_" };
            if let Some(rustls_name) = suite.as_str() {
                assert_eq!(rustls_name, name.replacen("TLS_", prefix, 1));
            }
        }
        assert_eq!(
            go_cipher_suite("TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305"),
            None
        );
        // Every suite rustls offers can be named.
        for suite in &provider().cipher_suites {
            assert!(
                GO_CIPHER_SUITES
                    .iter()
                    .any(|&(_, code)| code == u16::from(suite.suite()))
            );
        }
    }

    #[test]
    fn cipher_suites_narrow_tls12_only() {
        let provider = provider();
        let files = TlsFiles::new("c", "k");
        let names = |files: &TlsFiles| -> Vec<String> {
            cipher_suites(files, &provider)
                .expect("valid suites")
                .cipher_suites
                .iter()
                .map(|s| format!("{:?}", s.suite()))
                .collect()
        };
        assert_eq!(names(&files).len(), provider.cipher_suites.len());
        let one = files.clone().with_cipher_suites([
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            CipherSuite::TLS13_AES_128_CCM_SHA256,
        ]);
        let kept = names(&one);
        assert!(kept.contains(&"TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256".to_owned()));
        assert_eq!(
            kept.iter().filter(|name| name.starts_with("TLS_")).count(),
            1
        );
        assert_eq!(
            kept.iter()
                .filter(|name| name.starts_with("TLS13_"))
                .count(),
            3
        );
        for (suite, reason) in [
            (CipherSuite::TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA, "CBC"),
            (
                CipherSuite::TLS_RSA_WITH_AES_256_GCM_SHA384,
                "RSA key exchange",
            ),
            (CipherSuite::from(0x0005), "RC4"),
            (CipherSuite::from(0xffee), "does not implement it"),
        ] {
            let error = cipher_suites(&files.clone().with_cipher_suites([suite]), &provider)
                .expect_err("not offered");
            assert!(error.to_string().contains(reason), "{error}");
        }
    }

    #[test]
    fn plain_http_is_told_apart_from_tls() {
        for http in ["GET /", "HEAD ", "POST ", "PUT /", "OPTIO"] {
            assert!(looks_like_http(http.as_bytes()));
        }
        for other in [
            &[0x16, 0x03, 0x01, 0x02, 0x00][..],
            b"GET",
            b"BREW ",
            b"",
            &[0xff; 5],
        ] {
            assert!(!looks_like_http(other), "{other:?}");
        }
    }

    #[test]
    fn the_head_is_read_again_before_the_rest() {
        use futures_lite::AsyncReadExt as _;
        futures_lite::future::block_on(async {
            let hello = [0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5];
            let mut replay = Replay::new(futures_lite::io::Cursor::new(hello.to_vec()));
            replay.read_head().await.expect("read");
            // Not a letter: no need to wait for more than the first read brought.
            assert!(!replay.head().is_empty() && !looks_like_http(replay.head()));
            let mut all = Vec::new();
            replay.read_to_end(&mut all).await.expect("read");
            assert_eq!(all, hello);

            let mut replay = Replay::new(futures_lite::io::Cursor::new(b"GET /metrics".to_vec()));
            replay.read_head().await.expect("read");
            assert_eq!(replay.head(), b"GET /");
            let mut short = Replay::new(futures_lite::io::Cursor::new(b"GE".to_vec()));
            short.read_head().await.expect("read");
            assert_eq!(short.head(), b"GE");
        });
    }
}
