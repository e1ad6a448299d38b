//! The registry a server or an embedded service serves: [`ServedRegistry`].

use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

use torchlight::Registry;

/// The registry a server serves: a `&'static Registry` (such as
/// [`REGISTRY`](torchlight::REGISTRY)) or an `Arc<Registry>` shared with the program. It
/// dereferences to the [`Registry`]; cloning it is cheap.
#[derive(Clone)]
pub struct ServedRegistry(Served);

#[derive(Clone)]
enum Served {
    Static(&'static Registry),
    Shared(Arc<Registry>),
}

impl Deref for ServedRegistry {
    type Target = Registry;

    fn deref(&self) -> &Registry {
        match &self.0 {
            Served::Static(registry) => registry,
            Served::Shared(registry) => registry,
        }
    }
}

impl From<&'static Registry> for ServedRegistry {
    fn from(registry: &'static Registry) -> Self {
        Self(Served::Static(registry))
    }
}

impl From<Arc<Registry>> for ServedRegistry {
    fn from(registry: Arc<Registry>) -> Self {
        Self(Served::Shared(registry))
    }
}

impl fmt::Debug for ServedRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Served::Static(_) => "static",
            Served::Shared(_) => "shared",
        };
        f.debug_tuple("ServedRegistry").field(&kind).finish()
    }
}
