//! The three adapters offer the same public API: the same names (read from each crate's
//! `lib.rs`, so an item added to one adapter only fails here) and, for each name, the
//! same traits (checked by the compiler, so `expect_err` or `{:?}` compiles on every
//! adapter or on none).
#![forbid(unsafe_code)]

use std::collections::BTreeSet;
use std::fmt::Debug;
use std::path::Path;

/// What an adapter exports besides the shared names: its runtime type, and for tokio
/// the `axum` module behind its feature and its runtime metrics (smol and async-std
/// expose none to read).
const OWN: [(&str, &[&str]); 3] = [
    (
        "adapter-tokio",
        &["Tokio", "axum", "RuntimeMetric", "register_runtime_metrics"],
    ),
    ("adapter-smol", &["Smol"]),
    ("adapter-async-std", &["AsyncStd"]),
];

/// The names a crate root makes public: `pub use` lists (last path segment or `as`
/// name) and `pub mod`s.
fn public_names(lib: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut statement = String::new();
    for line in lib.lines().map(str::trim) {
        if statement.is_empty() && !(line.starts_with("pub use ") || line.starts_with("pub mod ")) {
            continue;
        }
        statement.push_str(line);
        statement.push(' ');
        if !line.ends_with(';') {
            continue;
        }
        let body = statement
            .trim_start_matches("pub use ")
            .trim_start_matches("pub mod ")
            .trim()
            .trim_end_matches(';');
        let items = match body.split_once('{') {
            Some((_, list)) => list.trim_end_matches('}').to_owned(),
            None => body.to_owned(),
        };
        for item in items.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let name = match item.split_once(" as ") {
                Some((_, alias)) => alias,
                None => item.rsplit("::").next().unwrap_or(item),
            };
            names.insert(name.trim().to_owned());
        }
        statement.clear();
    }
    names
}

#[test]
fn the_adapters_export_the_same_names() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut shared: Option<(&str, BTreeSet<String>)> = None;
    for (krate, own) in OWN {
        let lib = std::fs::read_to_string(root.join(krate).join("src/lib.rs"))
            .unwrap_or_else(|error| panic!("{krate}/src/lib.rs: {error}"));
        let mut names = public_names(&lib);
        for name in own {
            assert!(
                names.remove(*name),
                "{krate} should export {name}: {names:?}"
            );
        }
        match &shared {
            None => shared = Some((krate, names)),
            Some((first, expected)) => assert_eq!(
                &names, expected,
                "{krate}'s public names differ from {first}'s"
            ),
        }
    }
    let (_, names) = shared.expect("three adapters");
    // `*`: `torchlight_server::api`, the one list of shared names (`Options`, `consul`, …),
    // whose items the compiler checks on every adapter below.
    for name in ["MetricsServer", "start_http_server", "*", "RuntimeClock"] {
        assert!(names.contains(name), "{name} missing from {names:?}");
    }
}

#[test]
fn the_parser_reads_lists_aliases_and_modules() {
    let names = public_names(
        "mod x;\npub mod axum;\npub use a::B;\npub use c::{\n    D, e::F,\n    G as H,\n};\n",
    );
    let expected: BTreeSet<String> = ["axum", "B", "D", "F", "H"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(names, expected);
}

fn debug_send_sync<T: Debug + Send + Sync>() {}
fn debug_send<T: Debug + Send>() {}
fn copy_debug_default<T: Copy + Debug + Default + Send + Sync>() {}
fn error<T: std::error::Error + Send + Sync + 'static>() {}

macro_rules! same_traits {
    ($($krate:ident),*) => {$(
        debug_send_sync::<$krate::MetricsServer>();
        debug_send::<$krate::ThreadedMetricsServer>();
        copy_debug_default::<$krate::RuntimeClock>();
        debug_send_sync::<$krate::MetricsService>();
        let _: fn(&$krate::MetricsService) -> $krate::MetricsService = Clone::clone;
        debug_send_sync::<$krate::Options>();
        debug_send_sync::<$krate::ServedRegistry>();
        debug_send_sync::<$krate::consul::ConsulAgent>();
        error::<$krate::discovery::DiscoveryError>();
        debug_send_sync::<$krate::exposure::Response>();
        copy_debug_default::<$krate::Limits>();
        error::<$krate::StartError>();
        let _: &str = $krate::THREAD_NAME;
        let _: fn($krate::Options) -> Result<$krate::ThreadedMetricsServer, $krate::StartError> =
            $krate::start_http_server_in_thread;
    )*};
}

#[test]
fn the_adapters_types_have_the_same_traits() {
    same_traits!(torchlight_tokio, torchlight_smol, torchlight_async_std);
}
