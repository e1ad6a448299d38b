//! HTTPS end to end: a real Prometheus scrapes every adapter's server over TLS,
//! trusting the test CA (`tls_config.ca_file`), with a client certificate where the
//! server requires and verifies one (mutual TLS), and with `basic_auth`; with a wrong
//! password the target is down with a 401. The values Prometheus stored equal the
//! ones each server was given. Certificates and keys are generated at test time.
#![forbid(unsafe_code)]

use std::time::Duration;

use serde_json::Value;
use torchlight::{Counter, Metric, Registry};
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::prometheus::{Job, Prometheus};
use torchlight_tests::tls::Pki;
use torchlight_tokio::{BasicAuthUsers, ClientAuth, TlsConfig, TlsFiles};

/// How long Prometheus may take to scrape a target (its first scrape comes about 5 s
/// after it starts).
const SCRAPED: Duration = Duration::from_secs(30);

/// `prom`'s password `secret`, hashed with cost 4 by the system's `crypt(3)`.
const PROM_SECRET: &str = "$2b$04$7Z2/UiJcYcqTdZ32LHaeL.pTdYK2/iQdlapei86N3BRQd6q2Phpym";

/// A registry holding one counter, `e2e_tls_probe_total`, at `value`.
fn registry_with(value: u64) -> &'static Registry {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let probe: &'static Metric<Counter> = Box::leak(Box::new(Metric::new(
        "e2e_tls_probe",
        "Which server was scraped.",
        Counter::new(),
    )));
    probe.inc_by(value);
    registry.register(probe).expect("a valid counter");
    registry
}

/// How a server is secured, and how Prometheus scrapes it.
#[derive(Clone, Copy, Debug)]
enum Kind {
    /// HTTPS; Prometheus trusts the CA.
    Tls,
    /// HTTPS requiring a client certificate signed by the CA; Prometheus sends one.
    Mutual,
    /// HTTPS and basic authentication; Prometheus sends `prom:secret`.
    Auth,
    /// The same server as `Auth`; Prometheus sends a wrong password.
    WrongPassword,
}

impl Kind {
    const ALL: [Self; 4] = [Self::Tls, Self::Mutual, Self::Auth, Self::WrongPassword];

    fn name(self) -> &'static str {
        match self {
            Self::Tls => "tls",
            Self::Mutual => "mtls",
            Self::Auth => "auth",
            Self::WrongPassword => "wrong",
        }
    }

    fn config(self, pki: &Pki, value: u64) -> Config {
        let mut config = Config::loopback(registry_with(value));
        let files = TlsFiles::new(pki.file("cert.pem"), pki.file("key.pem"));
        let files = match self {
            Self::Mutual => files
                .with_client_auth(ClientAuth::RequireAndVerifyClientCert)
                .with_client_ca_file(pki.file("ca.pem")),
            Self::Tls | Self::Auth | Self::WrongPassword => files,
        };
        config.tls = Some(TlsConfig::from_files(files).expect("the generated files"));
        if let Self::Auth | Self::WrongPassword = self {
            let users = BasicAuthUsers::builder()
                .with_user("prom", PROM_SECRET)
                .build()
                .expect("a bcrypt hash");
            config.basic_auth = Some(std::sync::Arc::new(users));
        }
        config
    }

    /// The job's settings in Prometheus' `scrape_config`.
    fn job(self, pki: &Pki, job: &str, server: &dyn Server) -> Job {
        let mut tls = format!(
            "scheme: https\ntls_config:\n  ca_file: {:?}",
            pki.file("ca.pem").display().to_string()
        );
        match self {
            Self::Mutual => {
                tls.push_str(&format!(
                    "\n  cert_file: {:?}\n  key_file: {:?}",
                    pki.file("client.pem").display().to_string(),
                    pki.file("client-key.pem").display().to_string()
                ));
            }
            Self::Auth => tls.push_str("\nbasic_auth:\n  username: prom\n  password: secret"),
            Self::WrongPassword => {
                tls.push_str("\nbasic_auth:\n  username: prom\n  password: guess");
            }
            Self::Tls => {}
        }
        Job::static_targets(job, [server.local_addr()]).with(&tls)
    }
}

/// Starts one server of each kind on `A`, values `base + 1…`.
fn start_each_kind<A: Adapter>(pki: &Pki, base: u64) -> Vec<(String, Kind, u64, Box<dyn Server>)> {
    Kind::ALL
        .iter()
        .zip(1..)
        .map(|(&kind, offset)| {
            let value = base + offset;
            let server = A::start(kind.config(pki, value))
                .unwrap_or_else(|error| panic!("{} {kind:?}: {error}", A::NAME));
            assert!(server.url().starts_with("https://"), "{}", server.url());
            (format!("{}-{}", kind.name(), A::NAME), kind, value, server)
        })
        .collect()
}

#[test]
fn prometheus_scrapes_every_adapter_over_https_with_client_certificates_and_basic_auth() {
    let pki = Pki::new();
    let mut servers = start_each_kind::<Tokio>(&pki, 10);
    servers.extend(start_each_kind::<Smol>(&pki, 20));
    servers.extend(start_each_kind::<AsyncStd>(&pki, 30));
    let jobs: Vec<Job> = servers
        .iter()
        .map(|(job, kind, _, server)| kind.job(&pki, job, &**server))
        .collect();
    let prometheus = Prometheus::start(&jobs, &[]);

    for (job, kind, value, _) in &servers {
        if let Kind::WrongPassword = kind {
            let target = prometheus
                .poll(SCRAPED, || {
                    prometheus.targets().into_iter().find(|target| {
                        target["labels"]["job"] == job.as_str() && target["health"] == "down"
                    })
                })
                .unwrap_or_else(|| panic!("{job} never went down: {:#?}", prometheus.targets()));
            let error = target["lastError"].as_str().unwrap_or_default();
            assert!(error.contains("401"), "{job}: {error}");
            continue;
        }
        prometheus.wait_up(job, 1, SCRAPED);
        let result = prometheus
            .poll(SCRAPED, || {
                let result = prometheus.query(&format!("e2e_tls_probe_total{{job=\"{job}\"}}"));
                (!result.is_empty()).then_some(result)
            })
            .unwrap_or_else(|| panic!("{job}: nothing stored"));
        assert_eq!(
            result[0]["value"][1],
            Value::String(value.to_string()),
            "{job}: {result:?}"
        );
    }
    // No sample from the refused targets.
    for (job, kind, _, _) in &servers {
        if let Kind::WrongPassword = kind {
            let stored = prometheus.query(&format!("e2e_tls_probe_total{{job=\"{job}\"}}"));
            assert!(stored.is_empty(), "{job}: {stored:?}");
        }
    }
    drop(prometheus);
    for (_, _, _, mut server) in servers {
        server.close();
    }
}
