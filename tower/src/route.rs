//! `http.route`: the template of the route a request matched (`/users/{id}`), never
//! its path. The router knows it and leaves it in the request's extensions: axum's
//! `MatchedPath` (feature `axum`), or a [`RouteTemplate`] any router or hand-written
//! service can insert. Read by type, before the request moves into the service, and
//! kept (an `Arc` clone, no allocation) until the response is done.

use http::Extensions;

/// A route template for routers other than axum's: insert it into the request's
/// extensions before the layer sees the request, and the layer records it as
/// `http_route`.
///
/// ```
/// use torchlight_tower::RouteTemplate;
///
/// let mut request = http::Request::new(());
/// request.extensions_mut().insert(RouteTemplate::new("/users/{id}"));
/// assert_eq!(request.extensions().get::<RouteTemplate>().map(|r| r.as_str()), Some("/users/{id}"));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteTemplate(&'static str);

impl RouteTemplate {
    /// The template, such as `/users/{id}`: a route's, never a request's path (each
    /// distinct value is a series).
    #[must_use]
    pub const fn new(template: &'static str) -> Self {
        Self(template)
    }

    /// The template.
    #[must_use]
    pub const fn as_str(&self) -> &'static str {
        self.0
    }
}

/// The route a request matched, as read from its extensions.
#[derive(Clone)]
pub(crate) enum Route {
    /// No router said: no `http_route` label.
    Unmatched,
    Template(&'static str),
    #[cfg(feature = "axum")]
    Axum(axum_routing::extract::MatchedPath),
}

impl Route {
    /// axum's `MatchedPath` first (feature `axum`), then a [`RouteTemplate`].
    pub(crate) fn from_extensions(extensions: &Extensions) -> Self {
        #[cfg(feature = "axum")]
        if let Some(matched) = extensions.get::<axum_routing::extract::MatchedPath>() {
            return Self::Axum(matched.clone());
        }
        match extensions.get::<RouteTemplate>() {
            Some(template) => Self::Template(template.as_str()),
            None => Self::Unmatched,
        }
    }

    /// The label value; empty when unmatched (Prometheus stores a label with an empty
    /// value as no label at all).
    pub(crate) fn as_str(&self) -> &str {
        match self {
            Self::Unmatched => "",
            Self::Template(template) => template,
            #[cfg(feature = "axum")]
            Self::Axum(matched) => matched.as_str(),
        }
    }

    /// Where the template's bytes are: the same for every request of a route (the
    /// router's `&'static str`, or axum's `Arc<str>` in its `MatchedPath`), so it
    /// tells routes apart for hashing without reading their bytes.
    pub(crate) fn address(&self) -> usize {
        self.as_str().as_ptr() as usize
    }
}

/// Equal when the templates are (wherever they are stored).
impl PartialEq for Route {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Route {}
