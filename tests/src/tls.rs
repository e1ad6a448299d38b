//! Test certificates and an independent HTTPS client.
//!
//! [`Pki`] generates, at test time, a CA, a server certificate for `localhost`,
//! `127.0.0.1` and `::1` signed by it, and a client certificate signed by it (rcgen;
//! no key material is committed), and writes them as PEM files into a temporary
//! folder removed on drop. [`https`] speaks TLS with rustls' client (not the server's
//! code path) over a blocking `TcpStream` and sends raw HTTP/1.1, so the suite sees the
//! server's bytes exactly.

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use crate::client::{Reply, connect, parse};

/// A CA, a server certificate and a client certificate, as PEM files and DER.
pub struct Pki {
    folder: PathBuf,
    ca: CertificateDer<'static>,
    client_chain: Vec<CertificateDer<'static>>,
    client_key: Vec<u8>,
}

impl Pki {
    /// Generates the three certificates and writes `ca.pem`, `cert.pem`, `key.pem`,
    /// `client.pem` and `client-key.pem`.
    ///
    /// # Panics
    ///
    /// When generation or writing fails.
    #[must_use]
    pub fn new() -> Self {
        let folder = crate::prometheus::temporary_folder("tls");
        let ca_key = KeyPair::generate().expect("a CA key");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "torchlight test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = ca_params.self_signed(&ca_key).expect("a CA certificate");

        let server_key = KeyPair::generate().expect("a server key");
        let mut server_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        server_params.subject_alt_names = vec![
            SanType::DnsName("localhost".try_into().expect("a DNS name")),
            SanType::IpAddress(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            SanType::IpAddress(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ];
        server_params
            .distinguished_name
            .push(DnType::CommonName, "localhost");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params
            .signed_by(&server_key, &ca, &ca_key)
            .expect("a server certificate");

        let client_key = KeyPair::generate().expect("a client key");
        let mut client_params = CertificateParams::new(Vec::<String>::new()).expect("params");
        client_params
            .distinguished_name
            .push(DnType::CommonName, "prometheus");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params
            .signed_by(&client_key, &ca, &ca_key)
            .expect("a client certificate");

        let write = |name: &str, contents: String| {
            std::fs::write(folder.join(name), contents)
                .unwrap_or_else(|error| panic!("write {name}: {error}"));
        };
        write("ca.pem", ca.pem());
        write("cert.pem", server.pem());
        write("key.pem", server_key.serialize_pem());
        write("client.pem", client.pem());
        write("client-key.pem", client_key.serialize_pem());
        Self {
            folder,
            ca: ca.der().clone(),
            client_chain: vec![client.der().clone()],
            client_key: client_key.serialize_der(),
        }
    }

    /// The folder holding the PEM files.
    #[must_use]
    pub fn folder(&self) -> &Path {
        &self.folder
    }

    /// `name` in [`folder`](Self::folder).
    #[must_use]
    pub fn file(&self, name: &str) -> PathBuf {
        self.folder.join(name)
    }

    /// The server's settings from `cert.pem` and `key.pem`.
    ///
    /// # Panics
    ///
    /// When the server refuses the files.
    #[must_use]
    pub fn server_tls(&self) -> torchlight_tokio::TlsConfig {
        torchlight_tokio::TlsConfig::from_pem_files(self.file("cert.pem"), self.file("key.pem"))
            .expect("the generated certificate and key")
    }

    /// A client trusting only this CA, without a client certificate.
    #[must_use]
    pub fn client(&self) -> Arc<ClientConfig> {
        self.client_config(None)
    }

    /// A client trusting only this CA, presenting this CA's client certificate.
    #[must_use]
    pub fn client_with_certificate(&self) -> Arc<ClientConfig> {
        self.client_config(Some(self))
    }

    /// A client trusting only this CA, presenting `issuer`'s client certificate.
    #[must_use]
    pub fn client_presenting(&self, issuer: &Self) -> Arc<ClientConfig> {
        self.client_config(Some(issuer))
    }

    /// A client trusting only this CA that offers only `versions` and, if given, only
    /// `suites` (of rustls' `ring` provider): to check what a server accepts.
    ///
    /// # Panics
    ///
    /// When rustls refuses the combination (no suite for any version).
    #[must_use]
    pub fn client_pinned(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        suites: Option<&[rustls::CipherSuite]>,
    ) -> Arc<ClientConfig> {
        let mut provider = (*ring_provider()).clone();
        if let Some(suites) = suites {
            provider
                .cipher_suites
                .retain(|suite| suites.contains(&suite.suite()));
        }
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("the CA as a root");
        let config = ClientConfig::builder_with_provider(Arc::new(provider))
            .with_protocol_versions(versions)
            .expect("versions the suites cover")
            .with_root_certificates(roots)
            .with_no_client_auth();
        Arc::new(config)
    }

    fn client_config(&self, certificate: Option<&Self>) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.ca.clone()).expect("the CA as a root");
        let builder = ClientConfig::builder_with_provider(ring_provider())
            .with_safe_default_protocol_versions()
            .expect("default versions")
            .with_root_certificates(roots);
        let config = match certificate {
            Some(issuer) => {
                let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(issuer.client_key.clone()));
                builder
                    .with_client_auth_cert(issuer.client_chain.clone(), key)
                    .expect("the client certificate")
            }
            None => builder.with_no_client_auth(),
        };
        Arc::new(config)
    }
}

/// rustls' `ring` provider, which the clients here use whatever the server's is.
#[must_use]
pub fn ring_provider() -> Arc<rustls::crypto::CryptoProvider> {
    // Deprecated since rustls 0.23.48 for lacking post-quantum key exchange, which a
    // loopback test client does not need.
    #[expect(
        deprecated,
        reason = "rustls' ring provider lacks post-quantum key exchange"
    )]
    let ring = rustls::crypto::ring::default_provider();
    Arc::new(ring)
}

impl Default for Pki {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// Connects to `address` over TLS with `client` (checking the certificate for the
/// address' IP), writes `request` and reads until the server closes.
///
/// # Errors
///
/// The handshake's or the exchange's error (an untrusted certificate, a refused
/// client certificate), before any response byte arrived.
pub fn https(
    address: SocketAddr,
    client: &Arc<ClientConfig>,
    request: &[u8],
) -> Result<Vec<u8>, std::io::Error> {
    let name = ServerName::IpAddress(address.ip().into());
    let connection =
        ClientConnection::new(Arc::clone(client), name).map_err(std::io::Error::other)?;
    let mut stream = StreamOwned::new(connection, connect(address));
    stream.write_all(request)?;
    stream.flush()?;
    let mut received = Vec::new();
    let mut buffer = [0; 16 * 1024];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => return Ok(received),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            // A close without `close_notify` or a reset after the response still ends
            // a complete exchange; before any byte it is the failure.
            Err(error) if received.is_empty() => return Err(error),
            Err(_) => return Ok(received),
        }
    }
}

/// `GET path` over TLS with `Connection: close` and the `extra` header lines.
///
/// # Panics
///
/// When the exchange fails.
#[must_use]
pub fn https_get(
    address: SocketAddr,
    client: &Arc<ClientConfig>,
    path: &str,
    extra: &str,
) -> Reply {
    let request = format!("GET {path} HTTP/1.1\r\nHost: test\r\n{extra}Connection: close\r\n\r\n");
    let bytes = https(address, client, request.as_bytes())
        .unwrap_or_else(|error| panic!("GET {path} over TLS from {address}: {error}"));
    parse(&bytes)
}
