//! The exposure server over HTTPS and with basic authentication, on every adapter
//! (most cases in both modes): the exposure suite's representative cases (Python
//! `TestWeb` 17–22, routes, negotiation, gzip, `HEAD`, keep-alive) through a real TLS
//! client, what `ServerInfo` and the URLs say, certificate reload, the client
//! certificate modes, settings errors, basic authentication on every path, and abuse
//! of the TLS port (plain HTTP, garbage, stalled and flooding handshakes), each
//! bounded in time and count.
//!
//! Certificates are generated at test time (`torchlight_tests::tls::Pki`); the client
//! is rustls' own, over a blocking socket.
#![forbid(unsafe_code)]

use std::io::{Read, Write};
use std::net::{IpAddr, Ipv6Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use torchlight::Registry;
use torchlight_server::Limits;
use torchlight_server::exposure::PAGE;
use torchlight_tests::adapter::{Adapter, Config, in_both_modes, registry_with};
use torchlight_tests::client::{Reply, connect, parse, read_to_close};
use torchlight_tests::tls::{Pki, https, https_get};

const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
const OPEN_METRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// A loopback HTTPS configuration with `pki`'s server certificate.
fn https_config(pki: &Pki, registry: &'static Registry) -> Config {
    let mut config = Config::loopback(registry);
    config.tls = Some(pki.server_tls());
    config
}

/// Python 17–19 and 22, routes, negotiation, gzip and `HEAD`, over TLS.
fn exposure_over_https<A: Adapter>() {
    let pki = Pki::new();
    let client = pki.client();
    in_both_modes::<A>(
        || https_config(&pki, registry_with("test_server_stats", 1)),
        |server| {
            let address = server.local_addr();
            // 22: the URL says https.
            assert_eq!(
                server.url(),
                format!("https://127.0.0.1:{}/", address.port())
            );
            let info = server.server_info();
            assert_eq!((info.scheme(), info.is_https()), ("https", true));
            assert_eq!(
                info.url().expect("a bound loopback address"),
                format!("https://127.0.0.1:{}/", address.port())
            );
            // 17: no Accept, text 0.0.4.
            let reply = https_get(address, &client, "/metrics", "");
            assert_eq!(reply.status, 200);
            assert_eq!(reply.header("content-type"), Some(TEXT));
            assert_eq!(
                reply.text(),
                "# HELP test_server_stats_total cnt\n# TYPE test_server_stats_total counter\ntest_server_stats_total 1\n"
            );
            // 18: OpenMetrics when asked for.
            let reply = https_get(
                address,
                &client,
                "/metrics",
                "Accept: application/openmetrics-text; version=1.0.0\r\n",
            );
            assert_eq!(reply.header("content-type"), Some(OPEN_METRICS));
            assert_eq!(
                reply.text(),
                "# HELP test_server_stats cnt\n# TYPE test_server_stats counter\ntest_server_stats_total 1.0\n# EOF\n"
            );
            // 19: the cheap page.
            let reply = https_get(address, &client, "/", "");
            assert_eq!(
                (reply.status, reply.body.as_slice()),
                (200, PAGE.as_bytes())
            );
            // Routes and methods.
            assert_eq!(https_get(address, &client, "/favicon.ico", "").status, 404);
            let post = https(
                address,
                &client,
                b"POST /metrics HTTP/1.1\r\nHost: test\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            )
            .map(|bytes| parse(&bytes))
            .expect("a POST over TLS");
            assert_eq!(
                (post.status, post.header("allow")),
                (405, Some("GET, HEAD"))
            );
            // gzip, decoded to the same exposition.
            let reply = https_get(address, &client, "/metrics", "Accept-Encoding: gzip\r\n");
            assert_eq!(reply.header("content-encoding"), Some("gzip"));
            let mut text = String::new();
            flate2::read::GzDecoder::new(reply.body.as_slice())
                .read_to_string(&mut text)
                .expect("a gzip body");
            assert!(text.ends_with("test_server_stats_total 1\n"), "{text}");
            // HEAD: the headers, no body.
            let head = https(
                address,
                &client,
                b"HEAD /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
            )
            .map(|bytes| parse(&bytes))
            .expect("a HEAD over TLS");
            assert_eq!((head.status, head.body.len()), (200, 0));
            assert_eq!(head.header("content-type"), Some(TEXT));
        },
    );
}

/// Several requests on one TLS connection, over IPv6.
fn keep_alive_over_https_on_ipv6<A: Adapter>() {
    let pki = Pki::new();
    let mut config = https_config(&pki, registry_with("kept", 2));
    config.address = IpAddr::V6(Ipv6Addr::LOCALHOST);
    let mut server = A::start(config).unwrap_or_else(|error| panic!("{error}"));
    assert!(
        server.url().starts_with("https://[::1]:"),
        "{}",
        server.url()
    );
    let one = b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n";
    let last = b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n";
    let bytes = https(
        server.local_addr(),
        &pki.client(),
        &[one.as_slice(), one, last].concat(),
    )
    .expect("three requests on one TLS connection");
    let text = String::from_utf8_lossy(&bytes);
    assert_eq!(text.matches("HTTP/1.1 200 OK").count(), 3, "{text}");
    assert_eq!(text.matches("kept_total 2\n").count(), 2, "{text}");
    server.close();
}

/// A client that does not trust the server's CA fails the handshake; the server
/// keeps serving others.
fn untrusted_certificate_is_refused_by_the_client<A: Adapter>() {
    let pki = Pki::new();
    let other = Pki::new();
    let mut server = A::start(https_config(&pki, registry_with("trusted", 0)))
        .unwrap_or_else(|error| panic!("{error}"));
    let address = server.local_addr();
    assert!(https(address, &other.client(), b"GET / HTTP/1.1\r\n\r\n").is_err());
    assert_eq!(https_get(address, &pki.client(), "/", "").status, 200);
    server.close();
}

/// `TlsConfig::reload` makes new connections use rotated files.
fn reload_serves_the_rotated_certificate<A: Adapter>() {
    let pki = Pki::new();
    let rotated = Pki::new();
    let tls = pki.server_tls();
    let mut config = Config::loopback(registry_with("rotated", 0));
    config.tls = Some(tls.clone());
    let mut server = A::start(config).unwrap_or_else(|error| panic!("{error}"));
    let address = server.local_addr();
    assert_eq!(https_get(address, &pki.client(), "/", "").status, 200);
    for name in ["cert.pem", "key.pem"] {
        std::fs::copy(rotated.file(name), pki.file(name)).expect("rotate the file");
    }
    // Not read again until asked.
    assert_eq!(https_get(address, &pki.client(), "/", "").status, 200);
    tls.reload().expect("the rotated files");
    assert_eq!(https_get(address, &rotated.client(), "/", "").status, 200);
    assert!(https(address, &pki.client(), b"GET / HTTP/1.1\r\n\r\n").is_err());
    server.close();
}

/// Whether a `GET /` over TLS with `client` is answered 200.
fn served(address: SocketAddr, client: &Arc<rustls::ClientConfig>) -> bool {
    https(
        address,
        client,
        b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    )
    .is_ok_and(|bytes| bytes.starts_with(b"HTTP/1.1 200"))
}

/// exporter-toolkit's five client-certificate modes: which clients each serves (none,
/// one with a certificate from the server's CA, one with a certificate from another
/// CA), and which CA file settings each refuses.
fn client_certificate_modes<A: Adapter>() {
    use torchlight_tokio::{ClientAuth, TlsConfig, TlsFiles};
    let pki = Pki::new();
    let other = Pki::new();
    let clients = [
        pki.client(),
        pki.client_with_certificate(),
        pki.client_presenting(&other),
    ];
    let files = || TlsFiles::new(pki.file("cert.pem"), pki.file("key.pem"));
    for (mode, expected) in [
        (ClientAuth::NoClientCert, [true, true, true]),
        (ClientAuth::RequestClientCert, [true, true, true]),
        (ClientAuth::RequireAnyClientCert, [false, true, true]),
        (ClientAuth::VerifyClientCertIfGiven, [true, true, false]),
        (ClientAuth::RequireAndVerifyClientCert, [false, true, false]),
    ] {
        let mut files = files().with_client_auth(mode);
        if mode != ClientAuth::NoClientCert {
            files = files.with_client_ca_file(pki.file("ca.pem"));
        }
        let mut config = Config::loopback(registry_with("modes", 0));
        config.tls = Some(TlsConfig::from_files(files).expect("valid settings"));
        let mut server = A::start(config).unwrap_or_else(|error| panic!("{error}"));
        let address = server.local_addr();
        let got = clients.each_ref().map(|client| served(address, client));
        assert_eq!(got, expected, "{mode:?}: none, own CA, other CA");
        server.close();
    }
    for mode in [
        ClientAuth::VerifyClientCertIfGiven,
        ClientAuth::RequireAndVerifyClientCert,
    ] {
        let error = TlsConfig::from_files(files().with_client_auth(mode)).expect_err("no CA file");
        assert!(
            error.to_string().contains("needs client_ca_file"),
            "{error}"
        );
    }
    let error = TlsConfig::from_files(files().with_client_ca_file(pki.file("ca.pem")))
        .expect_err("a CA file without a mode");
    assert!(error.to_string().contains("NoClientCert"), "{error}");
}

/// exporter-toolkit's `min_version` and `cipher_suites` set in code, checked by real
/// handshakes: a TLS 1.3-only server refuses a TLS 1.2 client, and a TLS 1.2 server
/// narrowed to one suite refuses a client without it and agrees on it with one that
/// has it.
fn versions_and_cipher_suites_limit_the_handshake<A: Adapter>() {
    use rustls::CipherSuite;
    use rustls::version::{TLS12, TLS13};
    use torchlight_tokio::{TlsConfig, TlsFiles, TlsVersion};
    let pki = Pki::new();
    let files = || TlsFiles::new(pki.file("cert.pem"), pki.file("key.pem"));
    let serve = |files: TlsFiles| {
        let mut config = Config::loopback(registry_with("pinned", 0));
        config.tls = Some(TlsConfig::from_files(files).expect("valid settings"));
        A::start(config).unwrap_or_else(|error| panic!("{error}"))
    };

    let mut server = serve(files().with_min_version(TlsVersion::Tls13));
    let address = server.local_addr();
    assert!(!served(address, &pki.client_pinned(&[&TLS12], None)));
    assert!(served(address, &pki.client_pinned(&[&TLS13], None)));
    server.close();

    let chacha = CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
    let mut server = serve(
        files()
            .with_max_version(TlsVersion::Tls12)
            .with_cipher_suites([chacha, CipherSuite::TLS13_AES_128_GCM_SHA256]),
    );
    let address = server.local_addr();
    let aes = CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    assert!(!served(
        address,
        &pki.client_pinned(&[&TLS12], Some(&[aes]))
    ));
    assert!(!served(address, &pki.client_pinned(&[&TLS13], None)));
    let client = pki.client_pinned(&[&TLS12], None);
    let name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
    let connection = rustls::ClientConnection::new(client, name).expect("a client");
    let mut stream = rustls::StreamOwned::new(connection, connect(address));
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .expect("a request");
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    assert!(received.starts_with(b"HTTP/1.1 200"), "{received:?}");
    let agreed = stream.conn.negotiated_cipher_suite().expect("a suite");
    assert_eq!(
        (agreed.suite(), stream.conn.protocol_version()),
        (chacha, Some(rustls::ProtocolVersion::TLSv1_2))
    );
    server.close();
}

/// Reads what the server sends on `stream` until it closes, within `limit`.
fn closed_within(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    stream
        .set_read_timeout(Some(limit))
        .expect("a read timeout");
    let received = read_to_close(stream);
    (received, started.elapsed())
}

/// What Go's `net/http` answers plain HTTP on its TLS port, and so does torchlight.
const PLAIN_HTTP_ANSWER: &[u8] =
    b"HTTP/1.0 400 Bad Request\r\n\r\nClient sent an HTTP request to an HTTPS server.\n";

/// Plain HTTP and garbage on the TLS port: an HTTP request gets Go's `400` ("Client
/// sent an HTTP request to an HTTPS server."), garbage no HTTP answer; either
/// connection is closed at once, and the server goes on serving HTTPS.
fn plain_http_and_garbage_close_only_their_connection<A: Adapter>() {
    let pki = Pki::new();
    let mut server = A::start(https_config(&pki, registry_with("strict", 0)))
        .unwrap_or_else(|error| panic!("{error}"));
    let address = server.local_addr();
    let client = pki.client();
    let mut bystander = TlsBystander::open(address, &client);
    for (bytes, answer) in [
        (
            b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n".as_slice(),
            PLAIN_HTTP_ANSWER,
        ),
        (b"HEAD / HTTP/1.0\r\n\r\n", PLAIN_HTTP_ANSWER),
        (
            &[0x16, 0x03, 0x01, 0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00],
            b"",
        ),
        (b"GETTING /", b""),
        (&[0xff; 512], b""),
    ] {
        let mut stream = connect(address);
        stream.write_all(bytes).expect("write");
        let (received, took) = closed_within(&mut stream, Duration::from_secs(5));
        if answer.is_empty() {
            assert!(!received.starts_with(b"HTTP/"), "{received:?}");
        } else {
            assert_eq!(
                String::from_utf8_lossy(&received),
                String::from_utf8_lossy(answer)
            );
        }
        assert!(took < Duration::from_secs(2), "closed after {took:?}");
        assert_eq!(https_get(address, &client, "/", "").status, 200);
    }
    bystander.finish();
    server.close();
}

/// A TLS connection opened before the abuse and used after it: abuse closes only the
/// abusing connections.
/// Over TLS, a client that sends its request, then `close_notify` (it will write no
/// more) is answered, in both modes.
fn half_closed_requests_are_answered_over_https<A: Adapter>() {
    let pki = Pki::new();
    let client = pki.client();
    in_both_modes::<A>(
        || https_config(&pki, registry_with("half_closed", 5)),
        |server| {
            let address = server.local_addr();
            for _ in 0..5 {
                let name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
                let connection =
                    rustls::ClientConnection::new(Arc::clone(&client), name).expect("a client");
                let mut stream = rustls::StreamOwned::new(connection, connect(address));
                stream
                    .write_all(b"GET /metrics HTTP/1.1\r\nHost: test\r\n\r\n")
                    .expect("the request");
                // TLS's half-close: no more data from this side. (Not also the TCP
                // shutdown: a server that closes with the client's last bytes unread
                // resets the connection, which can drop the answer on the client's side;
                // the keep-alive server reads the `close_notify` before it closes.)
                stream.conn.send_close_notify();
                stream.flush().expect("close_notify");
                let mut received = Vec::new();
                let _ = stream.read_to_end(&mut received);
                let reply = parse(&received);
                assert_eq!(reply.status, 200);
                assert!(reply.text().contains("half_closed_total 5"));
            }
        },
    );
}

struct TlsBystander(rustls::StreamOwned<rustls::ClientConnection, TcpStream>);

impl TlsBystander {
    fn open(address: SocketAddr, client: &Arc<rustls::ClientConfig>) -> Self {
        let name = rustls::pki_types::ServerName::IpAddress(address.ip().into());
        let connection = rustls::ClientConnection::new(Arc::clone(client), name).expect("a client");
        let mut stream = rustls::StreamOwned::new(connection, connect(address));
        stream
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n")
            .expect("a first request");
        // The whole first answer (it ends with the page), so the second starts clean.
        let mut received = Vec::new();
        let mut buffer = [0; 1024];
        while !received.ends_with(PAGE.as_bytes()) {
            let n = stream.read(&mut buffer).expect("a first answer");
            assert_ne!(n, 0, "closed after {received:?}");
            received.extend_from_slice(&buffer[..n]);
        }
        assert!(received.starts_with(b"HTTP/1.1 200"));
        Self(stream)
    }

    fn finish(&mut self) {
        self.0
            .write_all(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
            .expect("a second request on the kept connection");
        let mut received = Vec::new();
        let _ = self.0.read_to_end(&mut received);
        assert!(received.starts_with(b"HTTP/1.1 200"), "{received:?}");
    }
}

/// A connection that never finishes its handshake is closed at the header deadline
/// (the handshake counts against it), while others are served; one that finishes its
/// handshake but not its head is closed at the same deadline, counted from when it
/// connected.
fn stalled_handshake_is_closed_at_the_header_deadline<A: Adapter>() {
    let pki = Pki::new();
    let config = || {
        let mut config = https_config(&pki, registry_with("stalled", 0));
        config.limits = Limits::DEFAULT
            .with_header_read_timeout(Duration::from_secs(1))
            .with_shutdown_grace(Duration::from_secs(1));
        config
    };
    let client = pki.client();
    in_both_modes::<A>(config, |server| {
        let address = server.local_addr();
        let mut silent = connect(address);
        let mut half = connect(address);
        // The first bytes of a ClientHello record, then nothing.
        half.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
            .expect("write");
        assert_eq!(https_get(address, &client, "/", "").status, 200);
        for stream in [&mut silent, &mut half] {
            let (received, took) = closed_within(stream, Duration::from_secs(8));
            assert!(!received.starts_with(b"HTTP/"), "{received:?}");
            assert!(took < Duration::from_secs(4), "closed after {took:?}");
        }
    });
}

/// Ten times `max_connections` connections that never start their handshake do not
/// keep a scrape from being answered within two seconds, although their deadline is
/// far longer: the slow-client guarantee holds on the TLS port.
fn handshake_flood_cannot_starve_a_scrape<A: Adapter>() {
    const SLOTS: usize = 8;
    let pki = Pki::new();
    let config = || {
        let mut config = https_config(&pki, registry_with("flooded", 3));
        config.limits = Limits::DEFAULT
            .with_max_connections(SLOTS)
            .with_header_read_timeout(Duration::from_secs(10));
        config
    };
    let client = pki.client();
    in_both_modes::<A>(config, |server| {
        let address = server.local_addr();
        let mut flood: Vec<TcpStream> = (0..10 * SLOTS).map(|_| connect(address)).collect();
        let started = Instant::now();
        let reply: Reply = https_get(address, &client, "/metrics", "");
        let took = started.elapsed();
        assert!(
            reply.text().contains("flooded_total 3\n"),
            "{}",
            reply.text()
        );
        assert!(
            took < Duration::from_secs(2),
            "a scrape behind a flood took {took:?}"
        );
        // The oldest made room: the server closed them.
        for stream in &mut flood[..SLOTS] {
            let (received, took) = closed_within(stream, Duration::from_secs(5));
            assert!(received.is_empty() && took < Duration::from_secs(4));
        }
    });
}

/// `prom`'s password `secret`, hashed with cost 4 by the system's `crypt(3)`
/// (libxcrypt: `crypt("secret", "$2b$04$…")`), not by the crate under test.
const PROM_SECRET: &str = "$2b$04$7Z2/UiJcYcqTdZ32LHaeL.pTdYK2/iQdlapei86N3BRQd6q2Phpym";

/// `Authorization` header lines, base64 written out by hand.
const PROM_SECRET_AUTH: &str = "Authorization: Basic cHJvbTpzZWNyZXQ=\r\n"; // prom:secret
const PROM_WRONG_AUTH: &str = "Authorization: Basic cHJvbTpzZWNyZXU=\r\n"; // prom:secreu
const EVE_SECRET_AUTH: &str = "Authorization: Basic ZXZlOnNlY3JldA==\r\n"; // eve:secret

fn users() -> Arc<dyn torchlight_server::exposure::Authenticate> {
    Arc::new(
        torchlight_tokio::BasicAuthUsers::builder()
            .with_user("prom", PROM_SECRET)
            .build()
            .expect("a bcrypt hash"),
    )
}

/// Basic authentication over HTTPS: `/metrics`, `/` and unknown paths all answer 401
/// with the challenge unless `prom:secret` is sent; a wrong password, an unknown user
/// or another scheme are refused alike.
fn basic_auth_protects_every_path<A: Adapter>() {
    let pki = Pki::new();
    let client = pki.client();
    let config = || {
        let mut config = https_config(&pki, registry_with("guarded", 7));
        config.basic_auth = Some(users());
        config
    };
    in_both_modes::<A>(config, |server| {
        let address = server.local_addr();
        for path in ["/metrics", "/", "/nowhere"] {
            for extra in [
                "",
                PROM_WRONG_AUTH,
                EVE_SECRET_AUTH,
                "Authorization: Bearer cHJvbTpzZWNyZXQ=\r\n",
            ] {
                let reply = https_get(address, &client, path, extra);
                assert_eq!(reply.status, 401, "{path} {extra:?}");
                assert_eq!(
                    reply.header("www-authenticate"),
                    Some(r#"Basic realm="metrics", charset="UTF-8""#)
                );
                assert_eq!(reply.text(), "401: Unauthorized");
            }
        }
        let reply = https_get(address, &client, "/metrics", PROM_SECRET_AUTH);
        assert_eq!(reply.status, 200);
        assert!(
            reply.text().contains("guarded_total 7\n"),
            "{}",
            reply.text()
        );
        assert_eq!(
            https_get(address, &client, "/", PROM_SECRET_AUTH).status,
            200
        );
        assert_eq!(
            https_get(address, &client, "/nowhere", PROM_SECRET_AUTH).status,
            404
        );
    });
}

/// Basic authentication works without TLS too (the same code path), answering a
/// `HEAD` without a body.
fn basic_auth_over_plain_http<A: Adapter>() {
    let mut config = Config::loopback(registry_with("plainly_guarded", 1));
    config.basic_auth = Some(users());
    let mut server = A::start(config).unwrap_or_else(|error| panic!("{error}"));
    let address = server.local_addr();
    let head = parse(&torchlight_tests::client::raw(
        address,
        b"HEAD /metrics HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n",
    ));
    assert_eq!((head.status, head.body.len()), (401, 0));
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: test\r\n{PROM_SECRET_AUTH}Connection: close\r\n\r\n"
    );
    let reply = parse(&torchlight_tests::client::raw(address, request.as_bytes()));
    assert_eq!(reply.status, 200);
    server.close();
}

/// exporter-toolkit's web configuration file, read from disk with paths relative to
/// it: mutual TLS and basic authentication together.
fn web_config_file_sets_tls_client_certificates_and_users<A: Adapter>() {
    let pki = Pki::new();
    let file = pki.file("web.yml");
    std::fs::write(
        &file,
        format!(
            "# exporter-toolkit format\ntls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\n  \
             client_auth_type: RequireAndVerifyClientCert\n  client_ca_file: ca.pem\n\
             http_server_config:\n  http2: false\nbasic_auth_users:\n  prom: '{PROM_SECRET}'\n"
        ),
    )
    .expect("write web.yml");
    let web = torchlight_tokio::WebConfig::from_file(&file).expect("a valid file");
    let mut config = Config::loopback(registry_with("configured", 5));
    config.tls = web.tls().cloned();
    config.basic_auth = web
        .basic_auth_users()
        .map(|users| Arc::new(users.clone()) as Arc<dyn torchlight_server::exposure::Authenticate>);
    let mut server = A::start(config).unwrap_or_else(|error| panic!("{error}"));
    let address = server.local_addr();
    let client = pki.client_with_certificate();
    let reply = https_get(address, &client, "/metrics", PROM_SECRET_AUTH);
    assert!(
        reply.text().contains("configured_total 5\n"),
        "{}",
        reply.text()
    );
    assert_eq!(https_get(address, &client, "/metrics", "").status, 401);
    // Without a client certificate there is no HTTP at all, not even a 401.
    let refused = https(
        address,
        &pki.client(),
        b"GET / HTTP/1.1\r\nHost: test\r\n\r\n",
    );
    assert!(
        refused
            .as_ref()
            .map_or(true, |bytes| !bytes.starts_with(b"HTTP/")),
        "{refused:?}"
    );
    server.close();
}

/// A hash that is not bcrypt is refused when the users are built.
#[test]
fn a_hash_that_is_not_bcrypt_is_an_error_naming_the_user() {
    let error = torchlight_tokio::BasicAuthUsers::builder()
        .with_user("prom", "secret")
        .build()
        .expect_err("a plain password is not a hash");
    assert!(error.to_string().contains("\"prom\""), "{error}");
}

/// Missing or unusable PEM files are errors naming the file.
#[test]
fn unreadable_files_are_errors_naming_them() {
    let pki = Pki::new();
    let missing = pki.file("missing.pem");
    let error = torchlight_tokio::TlsConfig::from_pem_files(&missing, pki.file("key.pem"))
        .expect_err("a missing certificate file");
    assert!(
        error.to_string().contains(&missing.display().to_string()),
        "{error}"
    );
    // A certificate where the key should be.
    let error =
        torchlight_tokio::TlsConfig::from_pem_files(pki.file("cert.pem"), pki.file("cert.pem"))
            .expect_err("no key in a certificate file");
    assert!(error.to_string().contains("cert.pem"), "{error}");
    // Another certificate's key.
    let error = torchlight_tokio::TlsConfig::from_pem_files(
        pki.file("cert.pem"),
        pki.file("client-key.pem"),
    )
    .expect_err("a key that does not fit");
    assert!(
        error.to_string().contains("cannot be used together"),
        "{error}"
    );
}

torchlight_tests::per_adapter_suite!(
    exposure_over_https,
    half_closed_requests_are_answered_over_https,
    keep_alive_over_https_on_ipv6,
    untrusted_certificate_is_refused_by_the_client,
    reload_serves_the_rotated_certificate,
    plain_http_and_garbage_close_only_their_connection,
    stalled_handshake_is_closed_at_the_header_deadline,
    handshake_flood_cannot_starve_a_scrape,
    client_certificate_modes,
    versions_and_cipher_suites_limit_the_handshake,
    basic_auth_protects_every_path,
    basic_auth_over_plain_http,
    web_config_file_sets_tls_client_certificates_and_users,
);
