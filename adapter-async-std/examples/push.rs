//! A batch job that pushes its metrics to a Pushgateway: it processes 100 items
//! (`batch_items_processed`, each timed by `batch_item_seconds`), sets
//! `batch_last_success_timestamp_seconds`, and replaces the group of its job (and
//! instance) on the gateway; `--delete` deletes the group instead.
//!
//! ```text
//! prometheus-pushgateway &   # listens on :9091
//! cargo run -p torchlight-async-std --example push -- --gateway http://127.0.0.1:9091 --job nightly [--instance VALUE] [--delete]
//! curl http://127.0.0.1:9091/metrics | grep batch_
//! ```
//!
//! A batch job ends before any scrape, so it pushes once, with one blocking call and no
//! async runtime of its own. The job (its registry and work) is the same on every
//! runtime: `torchlight_example_cli::batch`; this file is the push.
#![forbid(unsafe_code)]

use std::error::Error;
use std::process::ExitCode;

use torchlight_async_std::Pushgateway;
use torchlight_example_cli::examples::{self, DELETE, GATEWAY, INSTANCE, JOB};
use torchlight_example_cli::{Args, batch, report};

fn main() -> ExitCode {
    let args = examples::push(env!("CARGO_PKG_NAME")).parse_args();
    report(run(&args))
}

fn run(args: &Args<0>) -> Result<(), Box<dyn Error>> {
    // Both are required: `parse_args` exits with a usage error without them.
    let (url, job) = (args.value(&GATEWAY), args.value(&JOB));
    let mut gateway = Pushgateway::new(url.unwrap_or_default(), job.unwrap_or_default())?;
    if let Some(instance) = args.value(&INSTANCE) {
        gateway = gateway.with_grouping_label("instance", instance)?;
    }
    if args.is_on(&DELETE) {
        gateway.delete_blocking()?;
        println!("deleted {}", gateway.url());
        return Ok(());
    }
    batch::run()?;
    gateway.push_blocking(&batch::REGISTRY)?;
    println!("pushed {} items to {}", batch::ITEMS, gateway.url());
    Ok(())
}
