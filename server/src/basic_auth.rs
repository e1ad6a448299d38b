//! HTTP basic authentication with bcrypt-hashed passwords (feature `basic-auth`):
//! [`BasicAuthUsers`], exporter-toolkit's `basic_auth_users`.
//!
//! The decision (which requests need credentials, the 401 and its challenge) is the
//! core's `Route::authorize`; this module only checks a password against a hash. The
//! server runs the check on the runtime's blocking pool: bcrypt is slow on purpose
//! (cost 10 is tens of milliseconds), and every request is checked (exporter-toolkit
//! caches successful checks; this does not, so choose the cost with the scrape rate
//! in mind).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr as _;

use crate::exposure::Authenticate;

/// Users and their bcrypt password hashes (`$2a$`, `$2b$`, `$2x$` or `$2y$`, as
/// `htpasswd -nBC 10 user` writes them).
///
/// A check costs one bcrypt comparison whether the user exists or not (an unknown
/// user is compared against a known user's hash and refused), and bcrypt compares in
/// constant time, so timing tells neither which users exist nor how close a password
/// was.
///
/// ```
/// use std::sync::Arc;
/// use torchlight_smol::exposure::Authenticate as _;
/// use torchlight_smol::{BasicAuthUsers, Options};
///
/// // A cost-4 hash of `secret` (fast for the example; use 10 or more).
/// let users = BasicAuthUsers::new()
///     .with_user("prom", "$2y$04$wa6ZY/wdMFdZq8zbfMityOvn8jwEXVRaS0EKyXXlVfFpKLCiPqMOS")?;
/// assert!(users.verify("prom", "secret"));
/// assert!(!users.verify("prom", "guess"));
/// let options = Options::new().with_basic_auth(users);
/// # Ok::<(), torchlight_smol::BasicAuthError>(())
/// ```
#[derive(Clone, Default)]
pub struct BasicAuthUsers {
    /// User name → bcrypt hash. Invariant: every hash parses as bcrypt.
    users: BTreeMap<String, String>,
}

impl BasicAuthUsers {
    /// No users yet: every request would be refused.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) `user` with the bcrypt `hash` of their password.
    ///
    /// # Errors
    ///
    /// `hash` is not a bcrypt hash; the error names the user.
    pub fn with_user(
        mut self,
        user: impl Into<String>,
        hash: impl Into<String>,
    ) -> Result<Self, BasicAuthError> {
        let (user, hash) = (user.into(), hash.into());
        if let Err(error) = bcrypt::HashParts::from_str(&hash) {
            return Err(BasicAuthError { user, error });
        }
        self.users.insert(user, hash);
        Ok(self)
    }

    /// Whether no user is configured.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

impl Authenticate for BasicAuthUsers {
    fn verify(&self, user: &str, password: &str) -> bool {
        let (hash, known) = match self.users.get(user) {
            Some(hash) => (hash, true),
            // Same work for an unknown user: compare against some user's hash.
            None => match self.users.values().next() {
                Some(hash) => (hash, false),
                None => return false,
            },
        };
        bcrypt::verify(password, hash).unwrap_or(false) && known
    }
}

impl fmt::Debug for BasicAuthUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The hashes stay out of logs.
        f.debug_set().entries(self.users.keys()).finish()
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
