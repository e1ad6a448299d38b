//! House rules that clippy cannot check, enforced over the repository's source files
//! (rust-analyzer keeps the same kind of test, `xtask/src/tidy.rs` in
//! rust-lang/rust-analyzer). Each failure names the file and line and says what to do.
//!
//! The rules:
//!
//! - **Orderings.** Every `Ordering::Acquire`, `Release`, `AcqRel` or `SeqCst` in Rust
//!   code carries a comment starting `// ORDERING:` that names what it synchronises
//!   with, either on the same line or in the comment block just above the statement
//!   it is in. "Just above the statement" means: going up from the line, past the
//!   lines that continue the same statement (neither blank nor ending in `;`, `{` or
//!   `}`), the first lines reached are a `//` comment block, and one of its lines
//!   contains `ORDERING:`. So in a `match`, each arm that names an ordering needs its
//!   own comment (or the arm must sit on the line of the `match`).
//!   Mentions in comments and doc comments do not count; an ordering imported by its
//!   bare name (`use …::Ordering::SeqCst`) is not seen, so the code here never does that.
//! - **No `unsafe` outside the core.** Every crate root of every package but the core
//!   (`core/`) has `#![forbid(unsafe_code)]`: `src/lib.rs`, `src/main.rs`,
//!   `src/bin/*.rs`, `tests/*.rs`, `examples/*.rs` and `benches/*.rs`. One exception,
//!   listed in `UNSAFE_ALLOWED` with its reason.
//! - **Self-contained.** No file points outside the repository at the developers'
//!   notes (the folder `shared` beside the checkout): cite the public specification
//!   or the peer's source file instead.
//!
//! Files are found by walking the repository, skipping `target/` and hidden folders
//! other than `.cargo` and `.ci`.
#![forbid(unsafe_code)]

use std::fs;
use std::path::{Path, PathBuf};

/// Crate roots allowed to use `unsafe`, with the reason (paths from the root).
const UNSAFE_ALLOWED: &[(&str, &str)] = &[
    (
        "bench/src/lib.rs",
        "its counting allocator implements `GlobalAlloc`, an unsafe trait",
    ),
    (
        "core/firmware/src/lib.rs",
        "its `stack` module paints and reads the free stack (raw pointers); the rest denies `unsafe`",
    ),
];

/// The repository root (this crate is `xtask/`).
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask sits in the repository root")
        .to_path_buf()
}

/// Every file under `dir`, sorted, as paths relative to `root`.
fn walk(root: &Path, dir: &Path, files: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = fs::read_dir(dir)
        .unwrap_or_else(|error| panic!("cannot list {}: {error}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .and_then(|name| name.to_str())
            .unwrap_or("");
        if path.is_dir() {
            let hidden = name.starts_with('.') && name != ".cargo" && name != ".ci";
            if !hidden && name != "target" {
                walk(root, &path, files);
            }
        } else {
            files.push(
                path.strip_prefix(root)
                    .expect("under the root")
                    .to_path_buf(),
            );
        }
    }
}

/// The repository's files (relative paths) and their text; files that are not UTF-8
/// (none are source) are left out.
fn sources() -> Vec<(String, String)> {
    let root = root();
    let mut files = Vec::new();
    walk(&root, &root, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let text = fs::read_to_string(root.join(&path)).ok()?;
            Some((path.to_string_lossy().replace('\\', "/"), text))
        })
        .collect()
}

/// The code part of a line: everything before a `//` comment (a `//` inside a string
/// literal cuts the line short, which can only hide an ordering, never invent one).
fn code(line: &str) -> &str {
    line.find("//").map_or(line, |at| &line[..at])
}

/// `file:line: message` for every ordering other than `Relaxed` without its comment.
fn ordering_violations(path: &str, text: &str) -> Vec<String> {
    // Spelled in pieces so this file does not match itself.
    let strong: Vec<String> = ["Acquire", "Release", "AcqRel", "SeqCst"]
        .iter()
        .map(|name| format!("Ordering::{name}"))
        .collect();
    let marker = concat!("ORDER", "ING:");
    let lines: Vec<&str> = text.lines().collect();
    let mut violations = Vec::new();
    for (index, line) in lines.iter().enumerate() {
        let code = code(line);
        let Some(ordering) = strong.iter().find(|s| code.contains(s.as_str())) else {
            continue;
        };
        if line.contains(marker) || commented_above(&lines, index, marker) {
            continue;
        }
        violations.push(format!(
            "{path}:{}: `{ordering}` without a `// {marker}` comment on the line or just \
             above its statement; say what it synchronises with",
            index + 1
        ));
    }
    violations
}

/// Whether the comment block just above the statement that line `index` is part of
/// contains `marker` (the rule in the module doc).
fn commented_above(lines: &[&str], index: usize, marker: &str) -> bool {
    let mut at = index;
    while at > 0 {
        at -= 1;
        let line = lines[at].trim();
        if line.starts_with("//") {
            // The comment block: this line and the comment lines above it.
            let mut top = at;
            while top > 0 && lines[top - 1].trim().starts_with("//") {
                top -= 1;
            }
            return lines[top..=at].iter().any(|line| line.contains(marker));
        }
        let ends_statement = line.is_empty()
            || line.ends_with(';')
            || line.ends_with('{')
            || line.ends_with('}')
            || line.ends_with("},");
        if ends_statement {
            return false;
        }
    }
    false
}

/// Whether `path` is a crate root of the package in folder `package` (both relative).
fn is_crate_root(path: &str, package: &str) -> bool {
    let Some(rest) = path.strip_prefix(&format!("{package}/")) else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    match parts.as_slice() {
        ["src", "lib.rs" | "main.rs"] => true,
        ["src", "bin", file] | ["tests" | "examples" | "benches", file] => file.ends_with(".rs"),
        ["src", "bin" | "examples", _, "main.rs"] => true,
        ["examples" | "benches" | "tests", _, "main.rs"] => true,
        _ => false,
    }
}

/// The packages of the workspace other than the core: folders with a `Cargo.toml`.
fn packages(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("/Cargo.toml"))
        .filter(|package| *package != "core")
        .map(str::to_owned)
        .collect()
}

fn unsafe_violations(files: &[(String, String)]) -> Vec<String> {
    let packages = packages(files);
    let mut violations = Vec::new();
    for (path, text) in files {
        // The core's own test crates may use `unsafe` (its counting allocators do).
        let root = packages.iter().any(|package| is_crate_root(path, package));
        if !root || UNSAFE_ALLOWED.iter().any(|(allowed, _)| allowed == path) {
            continue;
        }
        let forbids = text
            .lines()
            .any(|line| line.trim() == "#![forbid(unsafe_code)]");
        if !forbids {
            violations.push(format!(
                "{path}:1: crate root without `#![forbid(unsafe_code)]`; only the core may \
                 use `unsafe` (add the attribute after the `//!` docs)"
            ));
        }
    }
    violations
}

fn outside_violations(files: &[(String, String)]) -> Vec<String> {
    // Spelled in pieces so this file does not match itself.
    let shared = "shared";
    let pointers = [
        format!("../{shared}"),
        format!("{shared}/reference"),
        format!("{shared}/DESIGN"),
        format!("{shared}/HOUSE_STYLE"),
    ];
    let mut violations = Vec::new();
    for (path, text) in files {
        for (index, line) in text.lines().enumerate() {
            if let Some(pointer) = pointers.iter().find(|p| line.contains(p.as_str())) {
                violations.push(format!(
                    "{path}:{}: points outside the repository (`{pointer}`); cite the public \
                     specification (name and section, or URL) or the peer's source file",
                    index + 1
                ));
            }
        }
    }
    violations
}

fn assert_none(rule: &str, violations: &[String]) {
    assert!(
        violations.is_empty(),
        "{rule}: {} finding(s)\n{}",
        violations.len(),
        violations.join("\n")
    );
}

#[test]
fn every_strong_ordering_says_why() {
    let violations: Vec<String> = sources()
        .iter()
        .filter(|(path, _)| path.ends_with(".rs"))
        .flat_map(|(path, text)| ordering_violations(path, text))
        .collect();
    assert_none("orderings", &violations);
}

#[test]
fn only_the_core_uses_unsafe() {
    assert_none("unsafe", &unsafe_violations(&sources()));
}

#[test]
fn no_file_points_outside_the_repository() {
    assert_none("outside", &outside_violations(&sources()));
}

/// The rules themselves must be able to fail.
#[test]
fn the_rules_catch_what_they_are_for() {
    let release = format!("Ordering::{}", "Release");
    let marker = concat!("ORDER", "ING:");
    let bare = format!("fn f() {{\n    x.store(1, {release});\n}}\n");
    assert_eq!(
        ordering_violations("a.rs", &bare),
        [format!(
            "a.rs:2: `{release}` without a `// {marker}` comment on the line or just above \
             its statement; say what it synchronises with"
        )]
    );
    let above =
        format!("    // {marker} pairs with the load.\n    x\n        .store(1, {release});\n");
    assert!(ordering_violations("a.rs", &above).is_empty());
    let same_line = format!("x.store(1, {release}); // {marker} pairs with the load.\n");
    assert!(ordering_violations("a.rs", &same_line).is_empty());
    let stale = format!("// {marker} pairs with the load.\nlet a = 1;\nx.store(1, {release});\n");
    assert_eq!(ordering_violations("a.rs", &stale).len(), 1);
    let in_comment = format!("// {release} is not code\n");
    assert!(ordering_violations("a.rs", &in_comment).is_empty());

    let files = |path: &str, text: &str| {
        vec![
            ("adapter-x/Cargo.toml".to_owned(), String::new()),
            ("core/Cargo.toml".to_owned(), String::new()),
            (path.to_owned(), text.to_owned()),
        ]
    };
    assert_eq!(
        unsafe_violations(&files("adapter-x/examples/demo.rs", "fn main() {}\n")).len(),
        1
    );
    assert!(
        unsafe_violations(&files("adapter-x/src/lib.rs", "#![forbid(unsafe_code)]\n")).is_empty()
    );
    assert!(unsafe_violations(&files("adapter-x/src/server.rs", "")).is_empty());
    assert!(unsafe_violations(&files("core/tests/alloc.rs", "")).is_empty());

    let up = format!("../{}", "shared");
    assert_eq!(
        outside_violations(&files("README.md", &format!("see {up}/DESIGN.md")))[0],
        format!(
            "README.md:1: points outside the repository (`{up}`); cite the public \
             specification (name and section, or URL) or the peer's source file"
        )
    );
}
