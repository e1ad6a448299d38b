//! `&'static str`s for names built from fuzzer input: metric and label names are
//! `'static` in the core, so each distinct name is leaked once and reused, and past
//! [`LIMIT`] distinct names the fuzzer's names map onto the ones already kept, so a
//! run of millions of inputs holds a bounded amount of memory.

use std::collections::HashSet;
use std::sync::Mutex;

/// Distinct names kept; a few hundred KiB at most.
const LIMIT: usize = 16 * 1024;

static NAMES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);

/// `name` as a `'static` string: `name` itself, or once [`LIMIT`] names are kept and
/// `name` is new, `None` (the caller skips it).
pub(crate) fn intern(name: &str) -> Option<&'static str> {
    let mut names = NAMES.lock().unwrap_or_else(|poison| poison.into_inner());
    let names = names.get_or_insert_with(HashSet::new);
    if let Some(kept) = names.get(name) {
        return Some(kept);
    }
    if names.len() >= LIMIT {
        return None;
    }
    let kept: &'static str = Box::leak(name.to_owned().into_boxed_str());
    names.insert(kept);
    Some(kept)
}
