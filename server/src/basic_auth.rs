//! HTTP basic authentication with bcrypt-hashed passwords (feature `basic-auth`):
//! [`BasicAuthUsers`], exporter-toolkit's `basic_auth_users`.
//!
//! The decision (which requests need credentials, the 401 and its challenge) is the
//! core's `Route::authorize`; this module only checks a password against a hash. The
//! server runs the check on the runtime's blocking pool: bcrypt is slow on purpose
//! (cost 10 is tens of milliseconds: 86–95 ms per check in a release build on the
//! machine of issue 30).
//!
//! # What a check costs
//!
//! - **Passed checks are cached**, as exporter-toolkit caches them (`web/cache.go`, 100
//!   entries): a scraper that sends the same good credentials every interval pays for
//!   bcrypt once. The key is a 128-bit keyed hash of user, stored hash and password
//!   (SipHash-1-3 under two random keys drawn when the set is built, std's
//!   `RandomState`), never the password: a changed password (or hash) is a new key,
//!   checked again. At most `PASSED_CAPACITY` entries; when full, the least recently
//!   used one is evicted. A hit is answered without bcrypt; only a client that sends
//!   the right password can hit, so a fast hit tells it nothing it does not know.
//! - **Failed checks are rate-limited**, not cached: a bcrypt comparison that is not
//!   a cache hit takes a token from a bucket of `FAILED_CHECKS_BURST` tokens refilled
//!   one per `FAILED_CHECK_REFILL`; a check that passes gives its token back. With the
//!   bucket empty, credentials that miss the cache are refused at once (401, no
//!   bcrypt). A cache of failures would stop only a client repeating one wrong
//!   password; a guesser sends a new one each time, so only a rate bounds its cost:
//!   at cost 10, at most about a tenth of one core, whatever the request rate. The
//!   price: while someone floods the server with wrong passwords, credentials not yet
//!   in the cache (a new scraper, a rotated password) are refused until a token is
//!   free; a scraper already authenticated keeps hitting its cache entry.
//!   exporter-toolkit bounds the cost differently: one bcrypt at a time (a mutex), so
//!   a flood costs one full core.
//! - An unknown user costs what a known one costs on a miss: a token and a bcrypt
//!   comparison against the first user's hash), then refused.
//!   bcrypt compares its output in constant time (`subtle`); the cache compares keyed
//!   hashes the client cannot compute, so their comparison leaks nothing usable.
//!
//! Tests next to the code count bcrypt runs: a repeated good check runs it once, a
//! changed password runs it again, the cache evicts at its bound, and failures
//! beyond the burst run none until the bucket refills.

use std::collections::BTreeMap;
use std::fmt;
use std::hash::{BuildHasher as _, Hasher as _, RandomState};
use std::str::FromStr as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use crate::exposure::Authenticate;

/// The most passed checks remembered: exporter-toolkit's `cacheSize` (`web/cache.go`).
/// A server has a few scrapers, each with one set of credentials; 100 leaves room for
/// every Prometheus of an HA pair and a federation layer, at 24 bytes an entry.
const PASSED_CAPACITY: usize = 100;

/// The most bcrypt comparisons that may fail in a row before the rate limit applies:
/// a person retrying a mistyped password, or several scrapers restarted with a stale
/// one, are not slowed down. At cost 10 (about 90 ms), ten is about one core-second.
const FAILED_CHECKS_BURST: u32 = 10;

/// How often the failure budget gains a token back: one failed bcrypt comparison per
/// second at most, sustained (about 9 % of a core at cost 10). A scraper with a wrong
/// password retries once per scrape interval (15 s by default in Prometheus), well
/// under it.
const FAILED_CHECK_REFILL: Duration = Duration::from_secs(1);

/// Users and their bcrypt password hashes (`$2a$`, `$2b$`, `$2x$` or `$2y$`, as
/// `htpasswd -nBC 10 user` writes them), with a cache of passed checks and a rate
/// limit on failed ones.
///
/// - A check that passed is remembered (up to 100 credentials, least recently used
///   evicted, as exporter-toolkit caches them): the same user and password again are
///   accepted without bcrypt. A changed password is checked again.
/// - A check that is not remembered runs bcrypt only while the failure budget lasts:
///   10 failed comparisons, then one per second. Beyond that, such requests are
///   refused at once (401), so wrong passwords sent at any rate cost at most about a
///   tenth of a core at cost 10. While the budget is spent, new good credentials are
///   refused too until a token is back (at most a second); remembered ones are not.
/// - An unknown user costs what a known one costs (a bcrypt comparison against the
///   first user's hash, then refused), and bcrypt compares in constant time, so
///   timing tells neither which users exist nor how close a password was.
///
/// Built with [`BasicAuthUsers::builder`], which checks every hash at
/// [`build`](BasicAuthUsersBuilder::build). Clones share the cache and the failure
/// budget.
///
/// ```
/// use std::sync::Arc;
/// use torchlight_smol::exposure::Authenticate as _;
/// use torchlight_smol::{BasicAuthUsers, Options};
///
/// // A cost-4 hash of `secret` (fast for the example; use 10 or more).
/// let users = BasicAuthUsers::builder()
///     .with_user("prom", "$2y$04$wa6ZY/wdMFdZq8zbfMityOvn8jwEXVRaS0EKyXXlVfFpKLCiPqMOS")
///     .build()?;
/// assert!(users.verify("prom", "secret"));
/// assert!(users.verify("prom", "secret")); // from the cache, no bcrypt
/// assert!(!users.verify("prom", "guess"));
/// let options = Options::new().with_basic_auth(users);
/// # Ok::<(), torchlight_smol::BasicAuthError>(())
/// ```
#[derive(Clone)]
pub struct BasicAuthUsers {
    /// User name → bcrypt hash. Invariant: every hash parses as bcrypt.
    users: Arc<BTreeMap<String, String>>,
    /// The two keys of the cache's hash, drawn once per set.
    keys: Arc<(RandomState, RandomState)>,
    checks: Arc<Mutex<Checks>>,
}

/// The users before their hashes are checked: [`BasicAuthUsers::builder`].
#[derive(Clone, Default)]
pub struct BasicAuthUsersBuilder {
    users: BTreeMap<String, String>,
}

impl BasicAuthUsersBuilder {
    /// Adds (or replaces) `user` with the bcrypt `hash` of their password; the hash is
    /// checked by [`build`](Self::build).
    #[must_use]
    pub fn with_user(mut self, user: impl Into<String>, hash: impl Into<String>) -> Self {
        self.users.insert(user.into(), hash.into());
        self
    }

    /// The users, every hash checked.
    ///
    /// # Errors
    ///
    /// A hash is not a bcrypt hash; the error names the user (the first in name
    /// order).
    pub fn build(self) -> Result<BasicAuthUsers, BasicAuthError> {
        for (user, hash) in &self.users {
            if let Err(error) = bcrypt::HashParts::from_str(hash) {
                return Err(BasicAuthError {
                    user: user.clone(),
                    error,
                });
            }
        }
        Ok(BasicAuthUsers {
            users: Arc::new(self.users),
            keys: Arc::new((RandomState::new(), RandomState::new())),
            checks: Arc::new(Mutex::new(Checks::new(Instant::now()))),
        })
    }
}

impl fmt::Debug for BasicAuthUsersBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hashes stay out of logs.
        f.debug_set().entries(self.users.keys()).finish()
    }
}

impl BasicAuthUsers {
    /// No users yet; add them with
    /// [`with_user`](BasicAuthUsersBuilder::with_user), then
    /// [`build`](BasicAuthUsersBuilder::build). A set without users refuses every
    /// request.
    #[must_use]
    pub fn builder() -> BasicAuthUsersBuilder {
        BasicAuthUsersBuilder::default()
    }

    /// Whether no user is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The user names, in order.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// The check at time `now` (the budget's clock).
    fn check(&self, user: &str, password: &str, now: Instant) -> bool {
        let (hash, known) = match self.users.get(user) {
            Some(hash) => (hash, true),
            // Same work for an unknown user: compare against some user's hash.
            None => match self.users.values().next() {
                Some(hash) => (hash, false),
                None => return false,
            },
        };
        let key = self.key(user, hash, password);
        {
            let mut checks = self.lock();
            if checks.passed(key) {
                return true;
            }
            if !checks.budget.take(now) {
                return false;
            }
            #[cfg(test)]
            {
                checks.bcrypt_runs += 1;
            }
        }
        // Outside the lock: concurrent checks of different credentials run in parallel.
        let passed = bcrypt::verify(password, hash).unwrap_or(false) && known;
        if passed {
            let mut checks = self.lock();
            checks.remember(key);
            checks.budget.give_back();
        }
        passed
    }

    /// The cache key of a check: both keyed hashes of the three parts, each part
    /// length-prefixed so that no two triples feed the same bytes.
    fn key(&self, user: &str, hash: &str, password: &str) -> [u64; 2] {
        let (first, second) = &*self.keys;
        [first, second].map(|state| {
            let mut hasher = state.build_hasher();
            for part in [user, hash, password] {
                hasher.write_usize(part.len());
                hasher.write(part.as_bytes());
            }
            hasher.finish()
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Checks> {
        // A panic cannot leave `Checks` half-updated in a way that matters: at worst
        // an entry or a token is lost.
        self.checks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Authenticate for BasicAuthUsers {
    fn verify(&self, user: &str, password: &str) -> bool {
        self.check(user, password, Instant::now())
    }
}

impl fmt::Debug for BasicAuthUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hashes stay out of logs.
        f.debug_set().entries(self.users.keys()).finish()
    }
}

/// The cache of passed checks and the failure budget of one set of users.
struct Checks {
    /// Keys of passed checks and when each was last used (`clock`'s value).
    /// Invariant: at most `PASSED_CAPACITY` entries, no key twice.
    passed: Vec<([u64; 2], u64)>,
    /// Counts lookups and insertions, for the least-recently-used order.
    clock: u64,
    budget: Budget,
    /// bcrypt comparisons started, for the tests.
    #[cfg(test)]
    bcrypt_runs: u64,
}

impl Checks {
    fn new(now: Instant) -> Self {
        Self {
            passed: Vec::new(),
            clock: 0,
            budget: Budget::new(now),
            #[cfg(test)]
            bcrypt_runs: 0,
        }
    }

    /// Whether `key` passed before; marks it used.
    fn passed(&mut self, key: [u64; 2]) -> bool {
        self.clock += 1;
        let clock = self.clock;
        match self.passed.iter_mut().find(|(entry, _)| *entry == key) {
            Some((_, used)) => {
                *used = clock;
                true
            }
            None => false,
        }
    }

    /// Remembers a passed `key`, evicting the least recently used entry when full.
    fn remember(&mut self, key: [u64; 2]) {
        self.clock += 1;
        if let Some(entry) = self.passed.iter_mut().find(|(entry, _)| *entry == key) {
            // Two concurrent misses of the same credentials both passed.
            entry.1 = self.clock;
            return;
        }
        if self.passed.len() == PASSED_CAPACITY {
            let oldest = self
                .passed
                .iter()
                .enumerate()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(index, _)| index);
            if let Some(oldest) = oldest {
                self.passed.swap_remove(oldest);
            }
        }
        self.passed.push((key, self.clock));
    }
}

/// A token bucket of bcrypt comparisons that may fail.
struct Budget {
    /// Invariant: at most `FAILED_CHECKS_BURST`.
    tokens: u32,
    /// When the last token was added (or the bucket was last seen full).
    refilled: Instant,
}

impl Budget {
    const fn new(now: Instant) -> Self {
        Self {
            tokens: FAILED_CHECKS_BURST,
            refilled: now,
        }
    }

    /// Takes a token, after adding those earned since the last refill; `false` when
    /// none is left.
    fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.refilled);
        let earned = elapsed.as_nanos() / FAILED_CHECK_REFILL.as_nanos();
        if earned > 0 {
            let room = FAILED_CHECKS_BURST - self.tokens;
            match u32::try_from(earned) {
                Ok(earned) if earned < room => {
                    self.tokens += earned;
                    self.refilled += FAILED_CHECK_REFILL * earned;
                }
                _ => {
                    self.tokens = FAILED_CHECKS_BURST;
                    self.refilled = now;
                }
            }
        }
        match self.tokens.checked_sub(1) {
            Some(left) => {
                self.tokens = left;
                true
            }
            None => false,
        }
    }

    /// Returns the token of a check that passed.
    fn give_back(&mut self) {
        self.tokens = (self.tokens + 1).min(FAILED_CHECKS_BURST);
    }
}

/// A password hash that is not bcrypt.
#[derive(Debug)]
pub struct BasicAuthError {
    user: String,
    error: bcrypt::BcryptError,
}

impl fmt::Display for BasicAuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the password hash of user {:?} is not a bcrypt hash ({}); make one with \
             `htpasswd -nBC 10 {}`",
            self.user, self.error, self.user
        )
    }
}

impl std::error::Error for BasicAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cost-4 hashes (fast): `secret` and `other`.
    const SECRET: &str = "$2y$04$wa6ZY/wdMFdZq8zbfMityOvn8jwEXVRaS0EKyXXlVfFpKLCiPqMOS";

    fn users() -> BasicAuthUsers {
        BasicAuthUsers::builder()
            .with_user("prom", SECRET)
            .build()
            .expect("a bcrypt hash")
    }

    fn runs(users: &BasicAuthUsers) -> u64 {
        users.lock().bcrypt_runs
    }

    #[test]
    fn a_repeated_good_check_runs_bcrypt_once() {
        let users = users();
        let now = Instant::now();
        assert!(users.check("prom", "secret", now));
        assert_eq!(runs(&users), 1);
        for _ in 0..5 {
            assert!(users.check("prom", "secret", now));
        }
        assert_eq!(runs(&users), 1);
        // Clones share the cache.
        assert!(users.clone().check("prom", "secret", now));
        assert_eq!(runs(&users), 1);
    }

    #[test]
    fn a_changed_password_or_hash_is_checked_again() {
        let users = users();
        let now = Instant::now();
        assert!(users.check("prom", "secret", now));
        assert!(!users.check("prom", "secret2", now));
        assert_eq!(runs(&users), 2);
        // Another set (a changed hash) keeps its own cache: checked again.
        let changed = BasicAuthUsers::builder()
            .with_user(
                "prom",
                "$2b$04$7Z2/UiJcYcqTdZ32LHaeL.pTdYK2/iQdlapei86N3BRQd6q2Phpym",
            )
            .build()
            .expect("a bcrypt hash");
        assert!(changed.check("prom", "secret", now));
        assert_eq!(runs(&changed), 1);
        // The key covers user, hash and password, without ambiguity between them.
        assert_ne!(users.key("ab", "c", "d"), users.key("a", "bc", "d"));
        assert_ne!(
            users.key("prom", SECRET, "x"),
            users.key("prom", "other", "x")
        );
    }

    #[test]
    fn the_cache_is_bounded_and_evicts_the_least_recently_used() {
        let mut checks = Checks::new(Instant::now());
        for n in 0..PASSED_CAPACITY as u64 {
            checks.remember([n, 0]);
        }
        // Entry 0 is used again, so entry 1 is the oldest.
        assert!(checks.passed([0, 0]));
        checks.remember([u64::MAX, 0]);
        assert_eq!(checks.passed.len(), PASSED_CAPACITY);
        assert!(checks.passed([0, 0]) && checks.passed([u64::MAX, 0]));
        assert!(!checks.passed([1, 0]));
        // Remembering a key twice keeps one entry.
        checks.remember([u64::MAX, 0]);
        assert_eq!(checks.passed.len(), PASSED_CAPACITY);
    }

    #[test]
    fn failures_beyond_the_burst_are_refused_without_bcrypt() {
        let users = users();
        let start = Instant::now();
        for n in 0..1000 {
            assert!(!users.check("prom", &format!("guess{n}"), start));
        }
        assert_eq!(runs(&users), u64::from(FAILED_CHECKS_BURST));
        // Unknown users spend the same budget.
        assert!(!users.check("eve", "secret", start));
        // The good password is refused too while the budget is spent…
        assert!(!users.check("prom", "secret", start));
        assert_eq!(runs(&users), u64::from(FAILED_CHECKS_BURST));
        // …and checked once a token is back; passing returns the token.
        let later = start + FAILED_CHECK_REFILL;
        assert!(users.check("prom", "secret", later));
        assert!(!users.check("prom", "guess", later));
        assert!(!users.check("prom", "guess", later));
        assert_eq!(runs(&users), u64::from(FAILED_CHECKS_BURST) + 2);
        // Cached credentials pass whatever the budget.
        assert!(users.check("prom", "secret", later));
        // A long pause refills the whole burst, no more.
        let much_later = later + FAILED_CHECK_REFILL * 1000;
        for n in 0..2 * FAILED_CHECKS_BURST {
            let _ = users.check("prom", &format!("again{n}"), much_later);
        }
        assert_eq!(runs(&users), u64::from(2 * FAILED_CHECKS_BURST) + 2);
    }

    #[test]
    fn an_unknown_user_costs_a_bcrypt_run_and_is_refused() {
        let users = users();
        let now = Instant::now();
        // Even with the known user's password.
        assert!(!users.check("eve", "secret", now));
        assert!(!users.check("eve", "secret", now));
        assert_eq!(runs(&users), 2);
        let nobody = BasicAuthUsers::builder().build().expect("no users");
        assert!(nobody.is_empty() && !nobody.check("prom", "secret", now));
    }

    #[test]
    fn build_names_the_user_whose_hash_is_not_bcrypt() {
        let error = BasicAuthUsers::builder()
            .with_user("prom", SECRET)
            .with_user("zed", "plain")
            .build()
            .expect_err("a plain password");
        assert!(error.to_string().contains("\"zed\""), "{error}");
        let users = users();
        assert_eq!(users.users().collect::<Vec<_>>(), ["prom"]);
        assert_eq!(format!("{users:?}"), r#"{"prom"}"#);
    }
}
