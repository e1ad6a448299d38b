//! Discovery end to end: every adapter's server registers with the Consul agent double
//! (no real agent can be installed here; see `torchlight_tests::consul`), a real
//! Prometheus finds the three through `http_sd_configs` pointed at the double and
//! scrapes them, and after `close()` a server's service leaves the double and its
//! target leaves Prometheus.
//!
//! Debian's Prometheus has Consul SD compiled out (`exposition-and-integration.md`
//! §2.1), which is why the double also serves `http_sd_configs` from what it holds.
#![forbid(unsafe_code)]

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use torchlight::{Counter, Metric, Registry};
use torchlight_server::consul::ConsulAgent;
use torchlight_tests::ConsulDouble;
use torchlight_tests::adapter::{Adapter, AsyncStd, Config, Server, Smol, Tokio};
use torchlight_tests::prometheus::{Job, Prometheus};

/// How long Prometheus may take to discover and scrape a target (its discovery
/// manager throttles updates to one per 5 s).
const DISCOVERED: Duration = Duration::from_secs(30);

/// A registry holding one counter, `e2e_sd_probe_total`, at `value`.
fn registry_with(value: u64) -> &'static Registry {
    let registry: &'static Registry = Box::leak(Box::new(Registry::new()));
    let probe: &'static Metric<Counter> = Box::leak(Box::new(Metric::new(
        "e2e_sd_probe",
        "Which server was scraped.",
        Counter::new(),
    )));
    probe.inc_by(value);
    registry.register(probe).expect("a valid counter");
    registry
}

/// Starts `A`'s server registered with `double` as service `e2e-sd`, id `e2e-<name>`.
fn start<A: Adapter>(double: &ConsulDouble, value: u64) -> Box<dyn Server> {
    let agent = ConsulAgent::with_environment(|_| None)
        .with_agent_address(double.url())
        .with_name("e2e-sd")
        .with_service_id(format!("e2e-{}", A::NAME))
        .with_tags(["e2e", A::NAME])
        .with_request_timeout(Duration::from_secs(2));
    let mut config = Config::loopback(registry_with(value));
    config.consul = Some(agent);
    let server = A::start(config).unwrap_or_else(|error| panic!("{}: {error}", A::NAME));
    assert!(server.is_registered(), "{}", A::NAME);
    server
}

/// The `instance` of every active target of job `sd`.
fn instances(prometheus: &Prometheus) -> Vec<String> {
    let mut instances: Vec<String> = prometheus
        .targets()
        .iter()
        .filter(|target| target["labels"]["job"] == "sd")
        .filter_map(|target| target["labels"]["instance"].as_str().map(str::to_owned))
        .collect();
    instances.sort();
    instances
}

#[test]
fn prometheus_discovers_every_adapter_through_the_double_and_forgets_a_closed_one() {
    let double = ConsulDouble::start().expect("start the Consul double");
    let mut servers: Vec<(Box<dyn Server>, u64)> = vec![
        (start::<Tokio>(&double, 1), 1),
        (start::<Smol>(&double, 2), 2),
        (start::<AsyncStd>(&double, 3), 3),
    ];
    let addresses: Vec<SocketAddr> = servers
        .iter()
        .map(|(server, _)| server.local_addr())
        .collect();
    assert_eq!(double.services().len(), 3, "{:?}", double.services());

    let prometheus = Prometheus::start(&[Job::http_sd("sd", &double.http_sd_url())], &[]);
    let targets = prometheus.wait_up("sd", 3, DISCOVERED);
    for target in &targets {
        assert_eq!(target["labels"]["job"], "sd");
        assert_eq!(
            target["discoveredLabels"]["__meta_consul_service"], "e2e-sd",
            "{target:#}"
        );
    }
    let mut expected: Vec<String> = addresses.iter().map(ToString::to_string).collect();
    expected.sort();
    assert_eq!(instances(&prometheus), expected);

    // Each target's probe value says which adapter's server Prometheus scraped.
    let stored = prometheus
        .poll(DISCOVERED, || {
            let result = prometheus.query("e2e_sd_probe_total");
            (result.len() == 3).then_some(result)
        })
        .unwrap_or_else(|| panic!("probe values not stored; log:\n{}", prometheus.log()));
    for (server, value) in &servers {
        let instance = server.local_addr().to_string();
        let sample = stored
            .iter()
            .find(|sample| sample["metric"]["instance"] == instance.as_str())
            .unwrap_or_else(|| panic!("no sample for {instance}: {stored:#?}"));
        assert_eq!(
            sample["value"][1],
            Value::from(value.to_string()),
            "{instance}"
        );
    }

    // Closing the tokio server deregisters it; Prometheus drops its target.
    let (mut closed, _) = servers.remove(0);
    let gone = closed.local_addr().to_string();
    closed.close();
    assert_eq!(double.services().len(), 2);
    assert!(!double.services().contains_key("e2e-tokio"));
    let remaining = prometheus
        .poll(DISCOVERED, || {
            let now = instances(&prometheus);
            (now.len() == 2).then_some(now)
        })
        .unwrap_or_else(|| panic!("target {gone} was not dropped: {:#?}", prometheus.targets()));
    assert!(!remaining.contains(&gone), "{remaining:?}");

    drop(prometheus);
    for (mut server, _) in servers {
        server.close();
    }
    assert!(double.services().is_empty(), "{:?}", double.services());
}
