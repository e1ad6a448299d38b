//! Moving from `metrics-exporter-prometheus` to torchlight, option by option.
//!
//! The instrumentation does not change: every `counter!`, `gauge!`, `histogram!` and
//! `describe_*!` stays. What changes is the start-up code: instead of
//! `PrometheusBuilder::new()...install()`, install this recorder and start an adapter's
//! server on the same registry.
//!
//! ```no_run
//! # async fn start() -> Result<(), Box<dyn std::error::Error>> {
//! // Before (metrics-exporter-prometheus 0.18):
//! //     PrometheusBuilder::new()
//! //         .with_http_listener(([0, 0, 0, 0], 9000))
//! //         .set_buckets(&[0.01, 0.1, 1.0])?
//! //         .add_global_label("service", "checkout")
//! //         .install()?;
//! // After (any adapter; tokio shown in the comment):
//! torchlight_metrics::Builder::new(&torchlight::REGISTRY)
//!     .with_buckets(&[0.01, 0.1, 1.0])
//!     .with_global_label("service", "checkout")
//!     .install()?; // checks the bounds, then installs
//! // torchlight_tokio::start_http_server(Options::new().with_port(9000)).await?;
//! # Ok(()) }
//! ```
//!
//! | `PrometheusBuilder` (0.18) | torchlight |
//! |---|---|
//! | `new()` | [`Builder::new(&REGISTRY)`](crate::Builder::new), or [`install(&REGISTRY)`](crate::install) for the defaults |
//! | `install()` | [`Builder::install`](crate::Builder::install) plus the adapter's `start_http_server` (or `start_http_server_in_thread` without a runtime) |
//! | `install_recorder()` → `PrometheusHandle` | [`Builder::install`](crate::Builder::install); the registry is the handle |
//! | `build_recorder()` | [`Builder::build`](crate::Builder::build) |
//! | `PrometheusHandle::render()` | `Registry::encode(&mut text, Format::Text)` (or `Format::OpenMetrics`) |
//! | `with_http_listener(addr)` | the adapter's `Options::with_address` / `Options::with_port`; the server also negotiates OpenMetrics and gzip, and answers `/` |
//! | `with_http_uds_listener(path)` | not provided: serve the handler (`MetricsService`, or the axum handler) on your own listener |
//! | `add_allowed_address(cidr)` | not provided: bind to a private address or filter in front |
//! | `with_push_gateway(..)` | each adapter's `Pushgateway::new(url, job)` and `push`/`push_add`/`delete` (or their `*_blocking` forms); for a periodic push, `start_remote_write` (Prometheus remote write) |
//! | `set_buckets(bounds)` | [`Builder::with_buckets`](crate::Builder::with_buckets) (default: `DEFAULT_BUCKETS`, where the exporter's default is a summary); invalid bounds are an error from `build`/`install`, not from the setter |
//! | `set_buckets_for_metric(Matcher::Full(n), b)` | [`Builder::with_buckets_for_name`](crate::Builder::with_buckets_for_name) |
//! | `set_buckets_for_metric(Matcher::Prefix(p), b)` | [`Builder::with_buckets_for_prefix`](crate::Builder::with_buckets_for_prefix) (longest prefix wins) |
//! | `set_buckets_for_metric(Matcher::Suffix(s), b)` | [`Builder::with_buckets_for_suffix`](crate::Builder::with_buckets_for_suffix) (longest suffix wins) |
//! | `set_quantiles(q)`, `set_bucket_duration`, `set_bucket_count` | not provided: histograms are always classic histograms (quantiles come from `histogram_quantile` in PromQL, over any window) |
//! | `set_native_histogram_for_metric(Matcher::Full(n), NativeHistogramConfig::new(f, max, zero))` | [`Builder::with_native_histogram_for_name(n, f)`](crate::Builder::with_native_histogram_for_name) (`…_for_prefix`, `…_for_suffix`, and [`with_native_histograms(f)`](crate::Builder::with_native_histograms) for every histogram); the bound (the exporter's `max`) is torchlight's default, 160 buckets, past which the resolution drops as client_golang's does, and the zero threshold client_golang's 2^-128. A native setting competes with the bucket settings by specificity (name, longest prefix, longest suffix), where the exporter's native overrides win over any bucket setting |
//! | `add_global_label(k, v)` | [`Builder::with_global_label`](crate::Builder::with_global_label) (recorded labels win, as there; only series recorded through the facade get it, not native torchlight metrics in the same registry: the exporter has no others) |
//! | `idle_timeout(mask, t)` | [`Builder::with_idle_timeout(t)`](crate::Builder::with_idle_timeout), for every kind (no mask). It waits for a scrape: a series goes only after a scrape has shown its final value (the exporter's timer can drop an increment never scraped), and never while a handle to it is alive (the exporter expires a held handle's series and drops its later updates). A series recorded again starts anew |
//! | `upkeep_timeout(t)` | nothing to do: there is no upkeep task (histograms are read in place) |
//! | `with_recommended_naming(true)` | counters always end in `_total`; a unit from `describe_*!` is written as `# UNIT` when the name ends in `_<unit>`, and names are never rewritten to add one |
//! | `set_enable_unit_suffix` (deprecated) | as above (`Unit::Percent` is the unit `percent`, where the exporter's suffix is `ratio`) |
//!
//! # Differences in the output
//!
//! - Counters are exposed as `name_total` (the exporter adds `_total` only with
//!   recommended naming), and the `# TYPE` line follows the negotiated format.
//! - Names and label keys are kept as recorded (`http.server.requests`) in a registry
//!   that accepts UTF-8 names (`Registry::new`, the default): a Prometheus 3 scraper
//!   reads them so, an older one escaped (`http_server_requests`), where the exporter
//!   rewrites every dot to `_` for everyone. For the exporter's names, record into a
//!   `Registry::legacy()`: names and keys are then sanitised with the exporter's rules
//!   ([`names`](crate::names)). Label values are escaped exactly, so a value holding
//!   `\\` reads back as recorded.
//! - In a UTF-8 registry, two names a scraper reads alike (`a.b` beside `a_b`) are one
//!   name to it: the second is refused and reported once, as a kind clash is.
//! - A name recorded as two kinds, or clashing with a native torchlight metric, is
//!   recorded once (the first use wins) and reported through
//!   [`Builder::with_error_hook`](crate::Builder::with_error_hook), where the exporter would write two
//!   families of one name.
//! - A family past its limit gathers new label values in one
//!   `{otel_metric_overflow="true"}` series.
