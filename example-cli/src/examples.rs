//! The command line of each example, once: the same program on tokio, smol and
//! async-std has the same purpose, flags and defaults, so each adapter's example only
//! names its package (`examples::quickstart(env!("CARGO_PKG_NAME"))`).

use crate::cli::Cli;
use crate::flag::{Flag, loopback};

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

/// `quickstart`: an instrumented app and its metrics server.
pub const fn quickstart(package: &'static str) -> Cli<2> {
    Cli {
        name: "quickstart",
        package,
        about: "An app whose GET / answers \"hello\", timed by the histogram req_time_seconds,
with its errors counted (try any other path) and the requests in flight tracked,
and a metrics server exposing them at /metrics (over HTTPS, with basic auth, as
a --web-config file says). Ctrl-C stops both.",
        flags: [APP_ADDR, METRICS_ADDR],
        environment: &[],
        web_config: true,
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
        web_config: false,
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
        web_config: false,
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
        web_config: false,
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
        web_config: false,
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
        web_config: false,
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
        web_config: false,
    }
}
