//! Step 2 of a request: HTTP basic authentication (RFC 7617). [`Credentials`] read
//! from an `Authorization` header, the [`Authenticate`] check a server is given, and
//! [`Route::authorize`], which turns a request without valid credentials into a 401
//! with a `WWW-Authenticate` challenge; the server runs the check on its blocking pool.
//!
//! Both routes (`/` and `/metrics`) and every other path are protected alike, as
//! exporter-toolkit protects its whole handler
//! (<https://github.com/prometheus/exporter-toolkit/blob/master/docs/web-configuration.md>).

use std::fmt;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;

use super::route::{Route, Target};
use crate::runtime::Runtime;

/// The value of `WWW-Authenticate` on a 401 (RFC 7617 §2: the realm is required,
/// and `charset` says user names and passwords are read as UTF-8).
pub const CHALLENGE: &str = r#"Basic realm="metrics", charset="UTF-8""#;

/// Checks a user name and password: what a server with basic authentication is given
/// (`BasicAuthUsers` (feature `basic-auth`) checks bcrypt hashes, as exporter-toolkit's
/// `basic_auth_users`).
///
/// Implementations should take the same time whether the user exists or not, and
/// compare in constant time, so that timing tells an attacker nothing.
pub trait Authenticate: Send + Sync + fmt::Debug {
    /// Whether `password` is `user`'s.
    fn verify(&self, user: &str, password: &str) -> bool;
}

/// A shared check is a check: `Arc<dyn Authenticate>` and `Arc<BasicAuthUsers>` can be
/// given where one is taken.
impl<A: Authenticate + ?Sized> Authenticate for Arc<A> {
    fn verify(&self, user: &str, password: &str) -> bool {
        (**self).verify(user, password)
    }
}

/// A user name and password sent with the `Basic` scheme.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    user: String,
    password: String,
}

impl Credentials {
    /// Reads an `Authorization` header value: `Basic` (any case), one space or more,
    /// then `base64(user ":" password)` (RFC 4648 §4, padding required, as Go's
    /// `Request.BasicAuth`). `None` for another scheme, bad base64, text that is not
    /// UTF-8, or no `:`.
    ///
    /// ```
    /// use torchlight_smol::exposure::Credentials;
    ///
    /// let credentials = Credentials::parse("Basic cHJvbTpzZWNyZXQ=").expect("valid");
    /// assert_eq!((credentials.user(), credentials.password()), ("prom", "secret"));
    /// assert!(Credentials::parse("Bearer cHJvbTpzZWNyZXQ=").is_none());
    /// ```
    #[must_use]
    pub fn parse(authorization: &str) -> Option<Self> {
        let (scheme, token) = authorization.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = String::from_utf8(decode_base64(token.trim_start())?).ok()?;
        let (user, password) = decoded.split_once(':')?;
        Some(Self {
            user: user.into(),
            password: password.into(),
        })
    }

    /// The user name.
    #[must_use]
    pub fn user(&self) -> &str {
        &self.user
    }

    /// The password.
    #[must_use]
    pub fn password(&self) -> &str {
        &self.password
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Route {
    /// This route if `credentials` are valid for `users`, otherwise a 401 asking for
    /// them: where a server requires basic authentication, every request goes through
    /// here before it is answered, whatever its path or method. `users.verify` may be
    /// slow (bcrypt), so call this where blocking is allowed.
    ///
    /// ```
    /// use torchlight_smol::exposure::{Authenticate, CHALLENGE, Credentials, Request, Target};
    ///
    /// #[derive(Debug)]
    /// struct Only(&'static str, &'static str);
    /// impl Authenticate for Only {
    ///     fn verify(&self, user: &str, password: &str) -> bool {
    ///         (user, password) == (self.0, self.1)
    ///     }
    /// }
    ///
    /// let users = Only("prom", "secret");
    /// let route = Request::new("GET", "/metrics").route();
    /// let given = Credentials::parse("Basic cHJvbTpzZWNyZXQ="); // prom:secret
    /// assert_eq!(route.authorize(given.as_ref(), &users), route);
    /// let refused = route.authorize(None, &users);
    /// assert_eq!(refused.target(), Target::Unauthorized);
    /// let response = refused.respond(&torchlight::REGISTRY);
    /// assert_eq!((response.status(), response.header("www-authenticate")), (401, Some(CHALLENGE)));
    /// ```
    #[must_use]
    pub fn authorize(self, credentials: Option<&Credentials>, users: &dyn Authenticate) -> Self {
        match credentials {
            Some(credentials) if users.verify(credentials.user(), credentials.password()) => self,
            _ => Self {
                target: Target::Unauthorized,
                head: self.head,
            },
        }
    }
}

/// `route.authorize(…)` on `R`'s blocking pool (bcrypt is slow on purpose); a check
/// that panics refuses the request.
pub(crate) async fn authorize<R: Runtime>(
    route: Route,
    credentials: Option<Credentials>,
    users: Arc<dyn Authenticate>,
) -> Route {
    R::unblock(move || {
        // Nothing is shared with the check but what it reads; the route is `Copy`.
        panic::catch_unwind(AssertUnwindSafe(|| {
            route.authorize(credentials.as_ref(), &*users)
        }))
        .unwrap_or_else(|_| route.authorize(None, &*users))
    })
    .await
}

/// Decodes standard, padded base64 (RFC 4648 §4); `None` on any other character, a
/// length that is not a multiple of 4, or misplaced padding.
fn decode_base64(text: &str) -> Option<Vec<u8>> {
    fn value(byte: u8) -> Option<u32> {
        Some(u32::from(match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let bytes = text.as_bytes();
    if bytes.len() % 4 != 0 {
        return None;
    }
    let mut out = Vec::with_capacity(bytes.len() / 4 * 3);
    let quads = bytes.chunks_exact(4);
    let last = quads.len().checked_sub(1);
    for (index, quad) in quads.enumerate() {
        let padding = quad.iter().rev().take_while(|&&byte| byte == b'=').count();
        if padding > 2 || (padding > 0 && Some(index) != last) {
            return None;
        }
        let mut word = 0u32;
        for &byte in &quad[..4 - padding] {
            word = (word << 6) | value(byte)?;
        }
        word <<= 6 * padding as u32;
        let decoded = word.to_be_bytes();
        out.extend_from_slice(&decoded[1..4 - padding]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_follows_rfc_4648_test_vectors() {
        // RFC 4648 §10.
        for (encoded, decoded) in [
            ("", ""),
            ("Zg==", "f"),
            ("Zm8=", "fo"),
            ("Zm9v", "foo"),
            ("Zm9vYg==", "foob"),
            ("Zm9vYmE=", "fooba"),
            ("Zm9vYmFy", "foobar"),
        ] {
            assert_eq!(decode_base64(encoded).as_deref(), Some(decoded.as_bytes()));
        }
        for bad in ["Zg", "Zg=", "Z===", "Zg==Zg==", "Zm9v!A==", "Zm 9v"] {
            assert_eq!(decode_base64(bad), None, "{bad}");
        }
    }

    #[test]
    fn credentials_split_at_the_first_colon() {
        // base64("a:b:c")
        let credentials = Credentials::parse("basic   YTpiOmM=").expect("valid");
        assert_eq!((credentials.user(), credentials.password()), ("a", "b:c"));
        // base64("nocolon")
        assert!(Credentials::parse("Basic bm9jb2xvbg==").is_none());
        assert!(Credentials::parse("Basic").is_none());
    }
}
