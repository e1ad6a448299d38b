//! A real Prometheus server on loopback, for end-to-end tests
//! (configured as Prometheus' "Configuration" documentation describes).
//!
//! [`Prometheus::start`] writes a config into a fresh temporary folder, starts Debian's
//! `prometheus` on `127.0.0.1` and a free port with its storage in that folder, and
//! waits until it is ready. Dropping the handle kills the process by its PID, waits for
//! it and removes the folder, also when a test fails. Prometheus's first scrape comes
//! about 5 s after it starts (its discovery manager's fixed update throttle), so tests
//! put every target they need into one server.

use std::fmt::Write as _;
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

/// Environment variable naming the `prometheus` binary; `prometheus` on `PATH` when unset.
pub const PROMETHEUS_ENV: &str = "TORCHLIGHT_PROMETHEUS";

/// One scrape job: a name and either static targets or an `http_sd_configs` URL.
#[derive(Clone, Debug)]
pub struct Job {
    /// `job_name`.
    pub name: String,
    /// `host:port` targets scraped at `/metrics`.
    pub targets: Vec<String>,
    /// An `http_sd_configs` endpoint to discover targets from instead (1 s refresh).
    pub http_sd: Option<String>,
    /// More of the job's settings, as YAML lines at the job's indentation (`scheme:
    /// https`, `tls_config:`, `basic_auth:`).
    pub settings: Vec<String>,
}

impl Job {
    /// A job scraping `targets` directly.
    pub fn static_targets(name: &str, targets: impl IntoIterator<Item = SocketAddr>) -> Self {
        Self {
            name: name.to_owned(),
            targets: targets.into_iter().map(|addr| addr.to_string()).collect(),
            http_sd: None,
            settings: Vec::new(),
        }
    }

    /// Adds `yaml` (lines indented relative to the job's keys) to the job's settings.
    #[must_use]
    pub fn with(mut self, yaml: &str) -> Self {
        self.settings.extend(yaml.lines().map(str::to_owned));
        self
    }

    /// A job whose targets come from an `http_sd_configs` endpoint.
    pub fn http_sd(name: &str, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            targets: Vec::new(),
            http_sd: Some(url.to_owned()),
            settings: Vec::new(),
        }
    }
}

/// A running Prometheus; stopped by PID on drop.
pub struct Prometheus {
    child: Child,
    address: SocketAddr,
    folder: PathBuf,
    agent: ureq::Agent,
}

impl Prometheus {
    /// Starts Prometheus scraping `jobs` every second, with extra command-line `flags`
    /// (`--enable-feature=native-histograms`, `--enable-feature=exemplar-storage`), and
    /// waits until it is ready.
    ///
    /// # Panics
    ///
    /// If the binary is missing (with how to install it) or the server does not become
    /// ready within 30 s (with its log).
    pub fn start(jobs: &[Job], flags: &[&str]) -> Self {
        let folder = temporary_folder("prometheus");
        let mut config = String::from(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
        );
        for job in jobs {
            let _ = writeln!(config, "  - job_name: {:?}", job.name);
            for line in &job.settings {
                let _ = writeln!(config, "    {line}");
            }
            if let Some(url) = &job.http_sd {
                let _ = writeln!(
                    config,
                    "    http_sd_configs:\n      - url: {url:?}\n        refresh_interval: 1s"
                );
            } else {
                let _ = writeln!(
                    config,
                    "    static_configs:\n      - targets: {:?}",
                    job.targets
                );
            }
        }
        let config_path = folder.join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write the Prometheus config");

        let binary =
            std::env::var_os(PROMETHEUS_ENV).map_or_else(|| "prometheus".into(), PathBuf::from);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let log =
            std::fs::File::create(folder.join("prometheus.log")).expect("create the log file");
        let child = Command::new(&binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                folder.join("data").display()
            ))
            .arg(format!("--web.listen-address={address}"))
            .args(flags)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {} ({error}); {PROMETHEUS_ENV} names it, else PATH is searched. \
                     `cargo xtask ci` installs it; by hand: \
                     `apt-get install -y --no-install-recommends prometheus`",
                    binary.display()
                )
            });
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let prometheus = Self {
            child,
            address,
            folder,
            agent,
        };
        let ready = prometheus.poll(Duration::from_secs(30), || {
            prometheus
                .get("/-/ready")
                .is_some_and(|(status, _)| status == 200)
                .then_some(())
        });
        if ready.is_none() {
            panic!(
                "Prometheus did not become ready within 30 s; its log:\n{}",
                prometheus.log()
            );
        }
        prometheus
    }

    /// The server's `host:port`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// The server's log so far (for failure messages).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.join("prometheus.log")).unwrap_or_default()
    }

    /// `GET path` on the server: the status and body, or `None` if it did not answer.
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let url = format!("http://{}{path}", self.address);
        let mut response = self.agent.get(&url).call().ok()?;
        let status = response.status().as_u16();
        let mut body = String::new();
        response
            .body_mut()
            .as_reader()
            .read_to_string(&mut body)
            .ok()?;
        Some((status, body))
    }

    /// `/api/v1/targets`' active targets.
    pub fn targets(&self) -> Vec<Value> {
        self.api("/api/v1/targets")
            .and_then(|data| data.get("activeTargets").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }

    /// Waits until every target of `job` has been scraped and is `up`, and at least
    /// `count` of them exist. Returns them.
    ///
    /// # Panics
    ///
    /// After `timeout`, with the targets' states and the log.
    pub fn wait_up(&self, job: &str, count: usize, timeout: Duration) -> Vec<Value> {
        let up = self.poll(timeout, || {
            let targets: Vec<Value> = self
                .targets()
                .into_iter()
                .filter(|target| target["labels"]["job"] == job)
                .collect();
            let all_up = targets.iter().all(|target| target["health"] == "up");
            (targets.len() >= count && all_up).then_some(targets)
        });
        up.unwrap_or_else(|| {
            panic!(
                "job {job:?} did not get {count} target(s) up within {timeout:?}; targets: {:#?}\nlog:\n{}",
                self.targets(),
                self.log()
            )
        })
    }

    /// Waits until no target of `job` is active any more.
    pub fn wait_gone(&self, job: &str, timeout: Duration) -> bool {
        self.poll(timeout, || {
            (!self
                .targets()
                .iter()
                .any(|target| target["labels"]["job"] == job))
            .then_some(())
        })
        .is_some()
    }

    /// Runs an instant PromQL query; returns `data.result`.
    pub fn query(&self, promql: &str) -> Vec<Value> {
        let path = format!("/api/v1/query?query={}", percent_encode(promql));
        self.api(&path)
            .and_then(|data| data.get("result").and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }

    /// `/api/v1/query_exemplars` for `promql` over all time up to a minute from now
    /// (the range must include each exemplar's own timestamp); returns `data`: one
    /// entry per series, `{seriesLabels, exemplars: [{labels, value, timestamp}]}`.
    /// Prometheus keeps exemplars only with `--enable-feature=exemplar-storage`.
    pub fn query_exemplars(&self, promql: &str) -> Vec<Value> {
        let end = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |now| now.as_secs())
            + 60;
        let path = format!(
            "/api/v1/query_exemplars?query={}&start=0&end={end}",
            percent_encode(promql)
        );
        self.api(&path)
            .and_then(|data| data.as_array().cloned())
            .unwrap_or_default()
    }

    /// `/api/v1/metadata?metric=NAME`: the type, help and unit Prometheus stored.
    pub fn metadata(&self, metric: &str) -> Vec<Value> {
        let path = format!("/api/v1/metadata?metric={}", percent_encode(metric));
        self.api(&path)
            .and_then(|data| data.get(metric).and_then(Value::as_array).cloned())
            .unwrap_or_default()
    }

    fn api(&self, path: &str) -> Option<Value> {
        let (status, body) = self.get(path)?;
        let json: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && json["status"] == "success").then(|| json["data"].clone())
    }

    /// Calls `probe` every 100 ms until it returns `Some` or `timeout` passes.
    pub fn poll<T>(&self, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = probe() {
                return Some(found);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        // `Child::kill` signals exactly this PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}

/// A port that was free a moment ago on 127.0.0.1 (Prometheus cannot report the port
/// it picked for `:0`).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("bind an ephemeral port on 127.0.0.1")
}

/// A new, empty folder under the system's temporary folder, named for `kind`.
pub(crate) fn temporary_folder(kind: &str) -> PathBuf {
    static SEQUENCE: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.subsec_nanos());
    let folder = std::env::temp_dir().join(format!(
        "torchlight-{kind}-{}-{}-{nanos}",
        std::process::id(),
        SEQUENCE.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&folder).expect("create a temporary folder");
    folder
}

/// Percent-encodes a query-string value (RFC 3986 unreserved characters pass).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
    out
}
