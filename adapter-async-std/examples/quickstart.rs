//! The quickstart: an app on 127.0.0.1:8080 whose `GET /` answers `hello`, timed by
//! the histogram `req_time_seconds`, with errors counted and in-flight requests
//! tracked, and the metrics server on 127.0.0.1:8000, with the process metrics and
//! `app_up`, a gauge an asynchronous collector sets by connecting to the app at each
//! scrape. With `--remote-write URL` it also pushes them there with Prometheus remote
//! write, and with `--otlp-endpoint URL` exports them to an OpenTelemetry collector
//! (OTLP/HTTP, to `URL/v1/metrics`, service `quickstart`), every `--push-interval` (15 s
//! by default), saying on stderr when pushes start failing and when they recover.
//!
//! ```text
//! cargo run --release -p torchlight-async-std --example quickstart -- [--app-addr ADDR] [--metrics-addr ADDR] [--web-config FILE] [--remote-write URL] [--otlp-endpoint URL] [--push-interval DURATION]
//! curl http://127.0.0.1:8080/ && curl http://127.0.0.1:8000/metrics
//! ```
//!
//! Ctrl-C stops both servers (and the pushers, after a last push). The instrumented
//! application (the metrics, the handler with `#[timed]`, `#[count_errors]` and
//! `#[track_in_progress]`) is the same on every runtime:
//! `torchlight_example_cli::quickstart`; this file is what async-std adds.
#![forbid(unsafe_code)]

use std::error::Error;
use std::net::SocketAddr;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use async_std::net::TcpListener;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use smol_hyper::rt::FuturesIo;
use torchlight::{AsyncCollector, REGISTRY};
use torchlight_async_std::push::RemoteWritePush;
use torchlight_async_std::{start_http_server, start_otlp, start_remote_write};
use torchlight_example_cli::examples::{
    self, APP_ADDR, METRICS_ADDR, OTLP_ENDPOINT, PUSH_INTERVAL, REMOTE_WRITE, WEB_CONFIG,
};
use torchlight_example_cli::{quickstart, report};

fn main() -> ExitCode {
    let args = examples::quickstart(env!("CARGO_PKG_NAME")).parse_args();
    let [app_addr, metrics_addr] = args.addresses;
    let interval = args.duration(&PUSH_INTERVAL);
    let push = args.value(&REMOTE_WRITE).zip(interval);
    let export = args.value(&OTLP_ENDPOINT).zip(interval);
    report(run(
        app_addr,
        metrics_addr,
        args.path(&WEB_CONFIG),
        push,
        export,
    ))
}

fn run(
    app_addr: SocketAddr,
    metrics_addr: SocketAddr,
    web_config: Option<&Path>,
    push: Option<(&str, Duration)>,
    export: Option<(&str, Duration)>,
) -> Result<(), Box<dyn Error>> {
    let options = quickstart::setup(metrics_addr, web_config)?;
    let push = push
        .map(|(url, interval)| quickstart::remote_write(url, interval))
        .transpose()?;
    let export = export
        .map(|(endpoint, interval)| quickstart::otlp(endpoint, interval))
        .transpose()?;
    let (interrupt, interrupted) = async_std::channel::bounded(1);
    ctrlc::set_handler(move || {
        let _ = interrupt.try_send(());
    })?;

    async_std::task::block_on(async {
        let metrics = start_http_server(options)
            .await
            .map_err(|error| METRICS_ADDR.blame(metrics_addr, error))?;
        let app = TcpListener::bind(app_addr)
            .await
            .map_err(|error| APP_ADDR.blame(app_addr, error))?;
        println!("app:     http://{}/", app.local_addr()?);
        // Computed before each scrape, on the server's runtime, within 5 s (the default).
        let app_local = app.local_addr()?;
        REGISTRY.register_async(AsyncCollector::new("app_up", move || async move {
            let up = async_std::net::TcpStream::connect(app_local).await.is_ok();
            quickstart::APP_UP.set(i64::from(up));
            Ok::<(), std::io::Error>(())
        }))?;
        println!("metrics: {}", metrics.metrics_url());
        // Pushed and exported by tasks of this runtime, beside /metrics; failures on stderr
        // once per outage.
        let pusher = push.map(|options| start_remote_write(options, RemoteWritePush::new()));
        if let Some(pusher) = &pusher {
            println!("push:    {}", pusher.url());
        }
        let exporter = export.map(|(options, otlp)| start_otlp(options, otlp));
        if let Some(exporter) = &exporter {
            println!("otlp:    {}", exporter.url());
        }

        let serving = async_std::task::spawn(async move {
            loop {
                let Ok((stream, _)) = app.accept().await else {
                    continue;
                };
                let connection = http1::Builder::new()
                    .serve_connection(FuturesIo::new(stream), service_fn(quickstart::handle));
                async_std::task::spawn(connection);
            }
        });
        // Until Ctrl-C; then the metrics server closes, and the app with it.
        metrics.serve_until(interrupted.recv()).await?;
        serving.cancel().await;
        // The last push and export, so the receivers have the final values.
        for pusher in [pusher, exporter].into_iter().flatten() {
            let url = pusher.url().to_owned();
            if let Err(error) = pusher.close().await {
                eprintln!("the last push to {url} failed: {error}");
            }
        }
        println!("stopped");
        Ok(())
    })
}
