//! The command line of each example, once: the same program on tokio, smol and
//! async-std has the same purpose, flags and defaults, so each adapter's example only
//! names its package (`examples::quickstart(env!("CARGO_PKG_NAME"))`).

use crate::cli::Cli;
use crate::flag::{Flag, Kind, loopback};

/// `--app-addr`, where the app listens (with `/metrics` in the embedding examples);
/// 8080, the quickstart's.
pub const APP_ADDR: Flag = Flag::new("--app-addr", loopback(8080), "the app");

/// `--metrics-addr`, where the metrics server listens; 8000, as in the three-step demo
/// of Python `prometheus_client`'s README (`start_http_server(8000)`).
pub const METRICS_ADDR: Flag = Flag::new("--metrics-addr", loopback(8000), "the metrics server");

/// `--metrics-addr` of the Consul example: port 0, an ephemeral port (the agent learns
/// the port from the registration, so it need not be fixed).
pub const DISCOVERED_METRICS_ADDR: Flag =
    Flag::new("--metrics-addr", loopback(0), "the metrics server");

/// `--web-config FILE`: exporter-toolkit's web configuration file (HTTPS, basic
/// authentication) of the metrics server.
pub const WEB_CONFIG: Flag = Flag::value(
    "--web-config",
    Kind::File,
    "exporter-toolkit web configuration file of the metrics server\n\
     (HTTPS, basic auth) [default: none, plain HTTP]",
    "web.yml",
);

/// `--remote-write URL`: a Prometheus remote-write receiver the quickstart pushes to.
pub const REMOTE_WRITE: Flag = Flag::value(
    "--remote-write",
    Kind::Url,
    "also push the metrics there with Prometheus remote write\n\
     [default: none, only /metrics]",
    "http://127.0.0.1:9090/api/v1/write",
);

/// `--otlp-endpoint URL`: an OpenTelemetry collector or backend the quickstart exports
/// to, a base URL as `OTEL_EXPORTER_OTLP_ENDPOINT` is (`/v1/metrics` appended); 4318 is
/// OTLP/HTTP's default port.
pub const OTLP_ENDPOINT: Flag = Flag::value(
    "--otlp-endpoint",
    Kind::Url,
    "also export the metrics there with OTLP/HTTP (/v1/metrics\n\
     appended) [default: none, only /metrics]",
    "http://127.0.0.1:4318",
);

/// `--push-interval DURATION`: how often the quickstart pushes and exports; 15 s,
/// Prometheus' default `scrape_interval` (and `PushOptions`' default).
pub const PUSH_INTERVAL: Flag = Flag::value(
    "--push-interval",
    Kind::Duration,
    "how often --remote-write and --otlp-endpoint push",
    "15s",
)
.with_default("15s");

/// `--gateway URL`: the Pushgateway the batch job pushes to.
pub const GATEWAY: Flag = Flag::value(
    "--gateway",
    Kind::Url,
    "the Pushgateway's URL",
    "http://127.0.0.1:9091",
)
.required();

/// `--job NAME`: the batch job's name, the group's `job` label.
pub const JOB: Flag = Flag::value(
    "--job",
    Kind::Name,
    "the job's name, the group's job label",
    "nightly-import",
)
.required();

/// `--instance VALUE`: the group's `instance` label.
pub const INSTANCE: Flag = Flag::value(
    "--instance",
    Kind::LabelValue,
    "the group's instance label [default: none]",
    "worker-1",
);

/// `--delete`: delete the group instead of pushing.
pub const DELETE: Flag = Flag::switch(
    "--delete",
    "delete the job's group from the Pushgateway instead of running",
);

/// `quickstart`: an instrumented app and its metrics server.
pub const fn quickstart(package: &'static str) -> Cli<2> {
    Cli {
        name: "quickstart",
        package,
        about: "An app whose GET / answers \"hello\", timed by the histogram req_time_seconds,
with its errors counted (try any other path) and the requests in flight tracked,
and a metrics server exposing them at /metrics (over HTTPS, with basic auth, as
a --web-config file says), and with --remote-write a pusher sending them to a
remote-write receiver, with --otlp-endpoint an exporter sending them to an
OpenTelemetry collector (OTLP/HTTP), every --push-interval. Ctrl-C stops all (a
last push first).",
        flags: [APP_ADDR, METRICS_ADDR],
        environment: &[(
            "OTEL_*",
            "--otlp-endpoint's other settings (OTEL_EXPORTER_OTLP_HEADERS,\n\
             _TIMEOUT, _COMPRESSION, OTEL_RESOURCE_ATTRIBUTES); the flags win",
        )],
        options: &[WEB_CONFIG, REMOTE_WRITE, OTLP_ENDPOINT, PUSH_INTERVAL],
    }
}

/// `threaded`: the metrics server in its own thread beside blocking work.
pub const fn threaded(package: &'static str) -> Cli<1> {
    Cli {
        name: "threaded",
        package,
        about: "A program with no async runtime does 3 seconds of blocking work, counted by
work_done, while the metrics server serves /metrics from its own thread; then it
stops both.",
        flags: [METRICS_ADDR],
        environment: &[],
        options: &[],
    }
}

/// `hyper`: `MetricsService` embedded in a hyper app.
pub const fn hyper(package: &'static str) -> Cli<1> {
    Cli {
        name: "hyper",
        package,
        about: "Your own hyper app, which answers \"my app\", hands /metrics to MetricsService
and keeps its other routes. Ctrl-C stops it.",
        flags: [APP_ADDR],
        environment: &[],
        options: &[],
    }
}

/// `axum`: the metrics handler mounted in an axum app.
pub const fn axum(package: &'static str) -> Cli<1> {
    Cli {
        name: "axum",
        package,
        about: "An axum app, which answers \"my app\" at /, mounts the metrics handler at
/metrics. Ctrl-C stops it.",
        flags: [APP_ADDR],
        environment: &[],
        options: &[],
    }
}

/// `consul`: the metrics server registered with a Consul agent.
pub const fn consul(package: &'static str) -> Cli<1> {
    Cli {
        name: "consul",
        package,
        about: "The metrics server, registered with a Consul agent once it listens (service
torchlight-example, an HTTP health check on / every 10 s). Ctrl-C deregisters it,
then stops it.",
        flags: [DISCOVERED_METRICS_ADDR],
        environment: &[
            (
                "CONSUL_HTTP_ADDR",
                "the agent's address [default: http://127.0.0.1:8500]",
            ),
            (
                "CONSUL_HTTP_TOKEN",
                "the ACL token, when the agent's ACLs are on",
            ),
        ],
        options: &[],
    }
}

/// `push`: a batch job pushing its metrics to a Pushgateway.
pub const fn push(package: &'static str) -> Cli<0> {
    Cli {
        name: "push",
        package,
        about: "A batch job: processes 100 items (counted by batch_items_processed, each timed by
batch_item_seconds), sets batch_last_success_timestamp_seconds and pushes the three
to the Pushgateway's group of the job (and instance), replacing it; exits 0 when
the gateway took them. --delete deletes the group instead.",
        flags: [],
        options: &[GATEWAY, JOB, INSTANCE, DELETE],
        environment: &[],
    }
}

/// `exposition`: the core's encoders, printed without a server.
pub const fn exposition(package: &'static str) -> Cli<0> {
    Cli {
        name: "exposition",
        package,
        about: "Registers a few static metrics, records values and prints the registry in the
Prometheus text format 0.0.4, then in OpenMetrics 1.0; no server.",
        flags: [],
        environment: &[],
        options: &[],
    }
}

/// `service`: an axum app behind `torchlight-tower`'s layer, and its metrics server.
pub const fn service(package: &'static str) -> Cli<2> {
    Cli {
        name: "service",
        package,
        about: "An axum app with every route behind torchlight-tower's MetricsLayer: GET / answers
\"hello\", GET /users/{id} 200, POST /users 201, GET /slow 200 after 50 ms, GET /fail
500, anything else 404; http_server_request_duration_seconds and
http_server_active_requests on the metrics server's /metrics. Ctrl-C stops both.",
        flags: [APP_ADDR, METRICS_ADDR],
        environment: &[],
        options: &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flag::Takes;

    #[test]
    fn defaults_are_valid_and_address_flags_take_addresses() {
        let clis = [
            (quickstart("p").flags.to_vec(), quickstart("p").options),
            (service("p").flags.to_vec(), service("p").options),
            (threaded("p").flags.to_vec(), threaded("p").options),
            (hyper("p").flags.to_vec(), hyper("p").options),
            (axum("p").flags.to_vec(), axum("p").options),
            (consul("p").flags.to_vec(), consul("p").options),
            (push("p").flags.to_vec(), push("p").options),
        ];
        for (flags, options) in clis {
            for flag in flags {
                assert!(flag.default_address().is_some(), "{flag:?}");
            }
            for option in options {
                match option.takes() {
                    Takes::Value {
                        kind,
                        example,
                        default,
                        ..
                    } => {
                        assert_eq!(kind.check(example), Ok(()), "{option:?}");
                        if let Some(default) = default {
                            assert_eq!(kind.check(default), Ok(()), "{option:?}");
                        }
                    }
                    Takes::Nothing { .. } => {}
                    Takes::Address { .. } => panic!("{option:?} belongs in flags"),
                }
            }
        }
    }
}
