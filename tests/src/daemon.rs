//! The other real receivers the push tests start: Debian's `prometheus-pushgateway`
//! and `victoria-metrics`, each on an ephemeral loopback port with its data in a
//! temporary folder, stopped by PID when dropped.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::prometheus::{free_port, temporary_folder};

/// A receiver process.
pub struct Daemon {
    child: Child,
    address: SocketAddr,
    folder: PathBuf,
    agent: ureq::Agent,
}

impl Daemon {
    /// The Pushgateway (`prometheus-pushgateway`, or `TORCHLIGHT_PUSHGATEWAY`).
    ///
    /// # Panics
    ///
    /// If it is missing (with how to install it) or not ready within 30 s.
    #[must_use]
    pub fn pushgateway() -> Self {
        Self::start(
            "TORCHLIGHT_PUSHGATEWAY",
            "prometheus-pushgateway",
            "prometheus-pushgateway",
            // Debian's build persists to /var/lib/prometheus/pushgateway.data by
            // default, which every run on the machine would share: in memory instead.
            |address, _| {
                vec![
                    format!("--web.listen-address={address}"),
                    "--persistence.file=".to_owned(),
                ]
            },
        )
    }

    /// VictoriaMetrics (`victoria-metrics`, or `TORCHLIGHT_VICTORIA_METRICS`), with
    /// queries seeing samples at once.
    ///
    /// # Panics
    ///
    /// As [`pushgateway`](Self::pushgateway).
    #[must_use]
    pub fn victoria_metrics() -> Self {
        Self::start(
            "TORCHLIGHT_VICTORIA_METRICS",
            "victoria-metrics",
            "victoria-metrics",
            |address, folder| {
                vec![
                    format!("-httpListenAddr={address}"),
                    format!("-storageDataPath={}", folder.join("data").display()),
                    "-search.latencyOffset=0s".to_owned(),
                    "-search.disableCache".to_owned(),
                ]
            },
        )
    }

    fn start(
        env: &str,
        binary: &str,
        package: &str,
        args: impl FnOnce(SocketAddr, &PathBuf) -> Vec<String>,
    ) -> Self {
        let folder = temporary_folder(binary);
        let program = std::env::var_os(env).map_or_else(|| binary.into(), PathBuf::from);
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, free_port()));
        let log = std::fs::File::create(folder.join("log")).expect("create the log file");
        let child = Command::new(&program)
            .args(args(address, &folder))
            .current_dir(&folder)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("clone the log handle"))
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| {
                panic!(
                    "cannot start {} ({error}); {env} names it, else PATH is searched. \
                     `cargo xtask ci` installs it; by hand: \
                     `apt-get install -y --no-install-recommends {package}`",
                    program.display()
                )
            });
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(5)))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let daemon = Self {
            child,
            address,
            folder,
            agent,
        };
        let ready = daemon.poll(Duration::from_secs(30), || {
            daemon
                .get("/metrics")
                .is_some_and(|(status, _)| status == 200)
                .then_some(())
        });
        assert!(
            ready.is_some(),
            "{binary} did not become ready within 30 s; its log:\n{}",
            daemon.log()
        );
        daemon
    }

    /// `http://host:port`.
    #[must_use]
    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// The log so far.
    #[must_use]
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.folder.join("log")).unwrap_or_default()
    }

    /// `GET path`: status and body, or `None` without an answer.
    #[must_use]
    pub fn get(&self, path: &str) -> Option<(u16, String)> {
        let mut response = self
            .agent
            .get(&format!("{}{path}", self.url()))
            .call()
            .ok()?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().ok()?;
        Some((status, body))
    }

    /// Calls `probe` every 50 ms until it returns `Some` or `timeout` passes.
    pub fn poll<T>(&self, timeout: Duration, mut probe: impl FnMut() -> Option<T>) -> Option<T> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(found) = probe() {
                return Some(found);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        // `Child::kill` signals exactly this PID.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.folder);
    }
}
