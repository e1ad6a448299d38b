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
//! table (it can be evicted), and a failed handshake (plain HTTP, garbage, a stalled
//! client) closes that connection only.
//!
//! Crypto is rustls' `ring` provider for the certificates read from PEM files; a ready
//! [`rustls::ServerConfig`] brings its own.
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
    DigitallySignedStruct, DistinguishedName, RootCertStore, ServerConfig, SignatureScheme,
};

/// The TLS settings of an HTTPS metrics server: a certificate chain and key (read from
/// PEM files, which [`reload`](Self::reload) reads again) or a ready
/// [`rustls::ServerConfig`].
///
/// Give it to the server with `Options::tls`; keep a clone to reload the certificate
/// when it rotates (clones share the current settings). Built from PEM files, the
/// server offers HTTP/1.1 through ALPN and TLS 1.2 and 1.3 with rustls' safe defaults
/// and its `ring` provider; a ready `ServerConfig` is used exactly as given.
///
/// ```no_run
/// use std::sync::Arc;
/// use torchlight_server::{Options, TlsConfig};
///
/// let tls = TlsConfig::from_pem_files("cert.pem", "key.pem")?;
/// let options = Options::new().with_tls(tls.clone());
/// // … start the server with `options`; when the files change:
/// tls.reload()?;
/// # Ok::<(), torchlight_server::TlsError>(())
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

    /// Runs the server side of the handshake on `stream`.
    pub(crate) async fn accept<S>(&self, stream: S) -> io::Result<Io<TlsStream<Io<S>>>>
    where
        S: Read + Write + Unpin,
    {
        let stream = TlsAcceptor::from(self.server_config())
            .accept(Io(stream))
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

/// The files an HTTPS server reads, and how it treats client certificates:
/// exporter-toolkit's `tls_server_config` (`cert_file`, `key_file`,
/// `client_auth_type`, `client_ca_file`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    cert_file: PathBuf,
    key_file: PathBuf,
    client_auth: ClientAuth,
    client_ca_file: Option<PathBuf>,
}

impl TlsFiles {
    /// The certificate chain (leaf first) and private key, no client certificates.
    #[must_use]
    pub fn new(cert_file: impl Into<PathBuf>, key_file: impl Into<PathBuf>) -> Self {
        Self {
            cert_file: cert_file.into(),
            key_file: key_file.into(),
            client_auth: ClientAuth::NoClientCert,
            client_ca_file: None,
        }
    }

    /// How client certificates are asked for and checked.
    #[must_use]
    pub fn client_auth(mut self, mode: ClientAuth) -> Self {
        self.client_auth = mode;
        self
    }

    /// The CA certificates (PEM) client certificates must chain to, for
    /// [`ClientAuth::VerifyClientCertIfGiven`] and
    /// [`ClientAuth::RequireAndVerifyClientCert`].
    #[must_use]
    pub fn client_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.client_ca_file = Some(path.into());
        self
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

/// Builds the server settings from PEM files, with the `ring` provider.
fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let cert = &files.cert_file;
    let certs = certificates(cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key_file)
        .map_err(|error| TlsError::file(&files.key_file, "a PEM private key", error))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = client_verifier(files, &provider)?;
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::settings)?
        .with_client_cert_verifier(verifier)
        .with_single_cert(certs, key)
        .map_err(TlsError::settings)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
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
}
