//! The metrics server registered with a Consul agent: it registers once it listens
//! (service `torchlight-example`, an HTTP health check on `/` every 10 s) and
//! deregisters on Ctrl-C before it stops.
//!
//! ```text
//! CONSUL_HTTP_ADDR=127.0.0.1:8500 cargo run -p torchlight-smol --example consul -- [--metrics-addr ADDR]
//! ```
//!
//! The agent is at `CONSUL_HTTP_ADDR` (default `127.0.0.1:8500`), with the token in
//! `CONSUL_HTTP_TOKEN` if ACLs are on. Without an agent it exits with an error saying
//! which agent it could not reach.
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::process::ExitCode;

use torchlight::{Counter, Metric, REGISTRY};
use torchlight_example_cli::examples::{self, DISCOVERED_METRICS_ADDR};
use torchlight_example_cli::report;
use torchlight_smol::consul::ConsulAgent;
use torchlight_smol::{Options, start_http_server};

static STARTS: Metric<Counter> = Metric::new("starts", "times the example started", Counter::new());

async fn run(metrics_addr: SocketAddr) -> Result<(), Box<dyn Error>> {
    REGISTRY.register(&STARTS)?;
    STARTS.inc();
    let consul = ConsulAgent::new()
        .with_name("torchlight-example")
        .with_tags(["torchlight", "smol"]);
    let agent = consul.agent_address()?;
    let options = Options::from(metrics_addr).with_consul(consul);
    let server = start_http_server(options)
        .await
        .map_err(|error| DISCOVERED_METRICS_ADDR.blame(metrics_addr, error))?;
    println!(
        "metrics: {}, registered with the Consul agent at {agent} as torchlight-example",
        server.metrics_url()
    );
    println!("Ctrl-C deregisters and stops");
    let (interrupt, interrupted) = smol::channel::bounded(1);
    ctrlc::set_handler(move || {
        let _ = interrupt.try_send(());
    })?;
    server.serve_until(interrupted.recv()).await?;
    println!("deregistered and stopped");
    Ok(())
}

fn main() -> ExitCode {
    let [metrics_addr] = examples::consul(env!("CARGO_PKG_NAME")).parse();
    report(smol::block_on(run(metrics_addr)))
}
