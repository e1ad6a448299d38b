//! The health check Consul runs against the server: [`HealthCheck`].

use std::time::Duration;

/// The HTTP health check Consul runs against the server's root URL (`GET /`, the cheap
/// page that encodes no metric).
///
/// ```
/// use std::time::Duration;
/// use torchlight_smol::consul::HealthCheck;
///
/// let check = HealthCheck::new()
///     .with_interval(Duration::from_secs(30))
///     .with_timeout(Duration::from_millis(1500))
///     .with_deregister_critical_after(Duration::from_secs(90 * 60));
/// assert_eq!(check.interval(), Duration::from_secs(30));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HealthCheck {
    interval: Duration,
    timeout: Option<Duration>,
    deregister_critical_after: Option<Duration>,
    tls_skip_verify: bool,
}

impl HealthCheck {
    /// Every 10 s (Python's interval), the agent's default timeout (10 s), never
    /// deregistered for being critical.
    pub const fn new() -> Self {
        HealthCheck {
            interval: Duration::from_secs(10),
            timeout: None,
            deregister_critical_after: None,
            tls_skip_verify: false,
        }
    }

    /// How often the agent checks (`Interval`). It must be positive: the agent answers
    /// 400 to a zero interval.
    pub const fn with_interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// How long one check may take before it fails (`Timeout`; the agent's default is
    /// 10 s).
    pub const fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Removes the service after its check stayed critical this long
    /// (`DeregisterCriticalServiceAfter`; the agent applies at least one minute and reaps
    /// every 30 s), for processes that die without deregistering.
    pub const fn with_deregister_critical_after(mut self, after: Duration) -> Self {
        self.deregister_critical_after = Some(after);
        self
    }

    /// Lets the agent accept the server's certificate without verifying it
    /// (`TLSSkipVerify`), for an HTTPS server whose certificate the agent cannot check
    /// (self-signed, or issued by a CA the agent does not trust). Only HTTPS servers'
    /// checks use it; the agent verifies by default.
    pub const fn with_tls_skip_verify(mut self, skip: bool) -> Self {
        self.tls_skip_verify = skip;
        self
    }

    /// Whether the agent skips verifying the server's certificate.
    pub const fn tls_skip_verify(&self) -> bool {
        self.tls_skip_verify
    }

    /// The interval.
    pub const fn interval(&self) -> Duration {
        self.interval
    }

    /// The timeout, if set.
    pub const fn timeout(&self) -> Option<Duration> {
        self.timeout
    }

    /// The critical-deregistration delay, if set.
    pub const fn deregister_critical_after(&self) -> Option<Duration> {
        self.deregister_critical_after
    }
}

impl Default for HealthCheck {
    fn default() -> Self {
        HealthCheck::new()
    }
}
