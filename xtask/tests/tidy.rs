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
//! - **Only `sync.rs` names atomic types.** In the core's library (`core/src/`), the
//!   atomics' sources (`core::sync::atomic`, `std::sync::atomic`, `portable_atomic`,
//!   `loom::…`) are named in code only by `core/src/sync.rs`, which switches between
//!   them; every other module takes `AtomicU64` and friends from `crate::sync`.
//!   Tests, benches and the firmware are programs with atomics of their own (counting
//!   allocators, test flags) and are not held to it; doc examples are user code.
//! - **`unsafe` only where listed.** In `core/src/`, the `unsafe` keyword and
//!   `allow(unsafe_code)` appear only in the files of `CORE_UNSAFE` (today
//!   `registry.rs`), and each file listed does use it, so the list is exact.
//! - **Imports point down.** In every crate of the workspace (each package's `src/`
//!   tree), for every module, the modules directly under it do not import each other
//!   in a loop. The module tree comes from the file layout (`foo.rs` beside `foo/`,
//!   `mod.rs`, inline `mod x { … }`); the imports are `use` items (grouped forms
//!   included) and `crate::…`/`super::…` paths in code, followed through `use`
//!   re-exports (`crate::Clock` is `crate::clock::Clock`). Child A depends on child B
//!   when a file under A imports something under B; importing an ancestor or one's
//!   own subtree does not count. A loop is printed with the file and line of each
//!   edge. `KNOWN_LOOPS` lists the loops not yet untangled, each with its owner; an
//!   entry that no longer matches a loop fails the test, so the list only shrinks.
//! - **Examples name the crates an application depends on.** An application depends
//!   on an adapter (`torchlight-tokio`, …), which re-exports the server crate's shared
//!   names, never on `torchlight-server` itself. So in every published crate (a
//!   package without `publish = false`) no Rust code block of a doc comment (`///`,
//!   `//!`; fences without an info string or with rustdoc's Rust ones), no `rust` code
//!   block of a `README.md` (the root's included) and no `examples/` file names a
//!   path `torchlight_server::…` except the runtime seam, which only exists generic
//!   over a runtime (`RUNTIME_SEAM`: `Runtime`, `runtime`, `start`, `start_in_thread`,
//!   `MetricsServer`, `MetricsService`), what someone implementing a runtime writes.
//!   Grouped imports are checked name by name; hidden lines (`# …`) count. The server
//!   crate's own examples name its dev-dependency `torchlight_smol` instead.
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
        "tower/tests/alloc.rs",
        "its counting allocator implements `GlobalAlloc`, an unsafe trait",
    ),
    (
        "core/firmware/src/lib.rs",
        "its `stack` module paints and reads the free stack (raw pointers); the rest denies `unsafe`",
    ),
];

/// The core's files allowed to contain `unsafe`, with the reason.
const CORE_UNSAFE: &[(&str, &str)] = &[(
    "core/src/registry.rs",
    "publishes `Node`s by pointer and writes each node's entry once before publication",
)];

/// What a doc example may name from `torchlight_server`: the items that exist only
/// generic over a runtime, which no adapter re-exports as they are.
const RUNTIME_SEAM: &[&str] = &[
    "Runtime",
    "runtime",
    "start",
    "start_in_thread",
    "MetricsServer",
    "MetricsService",
];

/// Import loops not yet untangled, as the crate's `src/` folder and the loop's modules
/// in the order printed, with what to do. Remove an entry when its loop is gone.
const KNOWN_LOOPS: &[(&str, &str, &str)] = &[];

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
        // The notes' section numbers, cited as if they were in the repository.
        format!("{} §", "reference"),
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

/// The folders of the published packages: those whose `Cargo.toml` does not say
/// `publish = false` (the workspace root's manifest is not a package folder).
fn published(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter_map(|(path, text)| {
            let folder = path.strip_suffix("/Cargo.toml")?;
            let private = text.lines().any(|line| line.trim() == "publish = false");
            (!private).then(|| folder.to_owned())
        })
        .collect()
}

/// The package folder `path` belongs to: the longest of `folders` it is under.
fn package_of<'a>(path: &str, folders: &'a [String]) -> Option<&'a str> {
    folders
        .iter()
        .filter(|folder| path.starts_with(&format!("{folder}/")))
        .max_by_key(|folder| folder.len())
        .map(String::as_str)
}

/// Whether a doc comment's fence info string (after the backticks) marks Rust code, as
/// rustdoc reads it: empty, or only rustdoc's attributes.
fn is_rust_fence(info: &str) -> bool {
    info.split(',').map(str::trim).all(|word| {
        matches!(
            word,
            "" | "rust"
                | "no_run"
                | "ignore"
                | "should_panic"
                | "compile_fail"
                | "test_harness"
                | "standalone_crate"
        ) || word.starts_with("edition")
    })
}

/// The lines (number from 1, text) of the Rust code blocks in the doc comments of a
/// Rust file, or in the `rust` fences of a Markdown file.
fn example_lines(path: &str, text: &str) -> Vec<(usize, String)> {
    let markdown = path.ends_with(".md");
    let mut lines = Vec::new();
    // `Some(is_rust)` inside a fence.
    let mut fence: Option<bool> = None;
    for (index, line) in text.lines().enumerate() {
        let content = if markdown {
            Some(line)
        } else {
            let trimmed = line.trim_start();
            trimmed
                .strip_prefix("///")
                .or_else(|| trimmed.strip_prefix("//!"))
                .map(|doc| doc.strip_prefix(' ').unwrap_or(doc))
        };
        let Some(content) = content else {
            // A doc comment ends with its lines, and so does any fence in it.
            fence = None;
            continue;
        };
        if let Some(info) = content.trim_start().strip_prefix("```") {
            fence = match fence {
                Some(_) => None,
                None if markdown => Some(info.trim().starts_with("rust")),
                None => Some(is_rust_fence(info)),
            };
            continue;
        }
        if fence == Some(true) {
            lines.push((index + 1, content.to_owned()));
        }
    }
    lines
}

/// The first path segment of every name that `code` imports or names after each
/// `torchlight_server::`, with the (1-based) line of `lines` it starts on; a group
/// (`torchlight_server::{A, b::C}`) gives each of its items (`A`, `b`).
fn server_names(lines: &[(usize, String)]) -> Vec<(usize, String)> {
    let prefix = concat!("torchlight", "_server::");
    let mut text = String::new();
    let mut starts = Vec::new();
    for (number, line) in lines {
        starts.push((text.len(), *number));
        text.push_str(line);
        text.push('\n');
    }
    let line_at = |at: usize| {
        starts
            .iter()
            .rev()
            .find(|(start, _)| *start <= at)
            .map_or(0, |(_, number)| *number)
    };
    let ident = |rest: &str| -> String {
        rest.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut names = Vec::new();
    let mut from = 0;
    while let Some(found) = text[from..].find(prefix) {
        let at = from + found;
        let rest = &text[at + prefix.len()..];
        from = at + prefix.len();
        let Some(group) = rest.strip_prefix('{') else {
            names.push((line_at(at), ident(rest)));
            continue;
        };
        // The group's top-level items, up to its closing brace.
        let mut depth = 0;
        let mut item_start = true;
        for (offset, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => break,
                '}' => depth -= 1,
                ',' if depth == 0 => item_start = true,
                c if c.is_whitespace() => {}
                _ if item_start && depth == 0 => {
                    item_start = false;
                    names.push((line_at(at), ident(&group[offset..])));
                }
                _ => {}
            }
        }
    }
    names
}

/// `file:line: message` for every name a published crate's example takes from
/// `torchlight_server` that is not part of the runtime seam.
fn server_path_violations(files: &[(String, String)]) -> Vec<String> {
    let published = published(files);
    let mut violations = Vec::new();
    for (path, text) in files {
        let package = package_of(path, &published);
        let readme = path == "README.md"
            || package.is_some_and(|package| *path == format!("{package}/README.md"));
        let rust = path.ends_with(".rs") && package.is_some();
        if !readme && !rust {
            continue;
        }
        let in_examples = package.is_some_and(|package| {
            path.starts_with(&format!("{package}/examples/")) && path.ends_with(".rs")
        });
        let in_src = package.is_some_and(|package| path.starts_with(&format!("{package}/src/")));
        let lines = if in_examples {
            text.lines()
                .enumerate()
                .map(|(index, line)| (index + 1, line.to_owned()))
                .collect()
        } else if readme || in_src {
            example_lines(path, text)
        } else {
            continue;
        };
        let server_crate = package == Some("server");
        for (line, name) in server_names(&lines) {
            if RUNTIME_SEAM.contains(&name.as_str()) {
                continue;
            }
            let adapter = if server_crate {
                "torchlight_smol"
            } else {
                "torchlight_tokio"
            };
            violations.push(format!(
                "{path}:{line}: an example names `{}{name}`, from a crate an application \
                 does not depend on; name the adapter's re-export (`{adapter}::{name}`): \
                 only the runtime seam ({}) comes from `torchlight_server`",
                concat!("torchlight", "_server::"),
                RUNTIME_SEAM.join(", ")
            ));
        }
    }
    violations
}

/// `file:line: message` for every mention of an atomics source outside `sync.rs`.
fn atomic_violations(files: &[(String, String)]) -> Vec<String> {
    // Spelled in pieces so this file does not match itself.
    let sources = [
        concat!("sync::", "atomic"),
        concat!("portable_", "atomic"),
        concat!("loom", "::"),
    ];
    let mut violations = Vec::new();
    for (path, text) in files {
        let library = path.starts_with("core/src/") && path.ends_with(".rs");
        if !library || path == "core/src/sync.rs" {
            continue;
        }
        for (index, line) in blank_non_code(text).lines().enumerate() {
            if let Some(source) = sources.iter().find(|source| line.contains(*source)) {
                violations.push(format!(
                    "{path}:{}: names `{source}`; only `core/src/sync.rs` names the atomics' \
                     sources: import the type from `crate::sync` (add it there if missing)",
                    index + 1
                ));
            }
        }
    }
    violations
}

/// `file:line: message` for `unsafe` in a core file not in `CORE_UNSAFE`, and for a
/// listed file without any.
fn core_unsafe_violations(files: &[(String, String)]) -> Vec<String> {
    let allow = concat!("allow(", "unsafe_code)");
    let mut violations = Vec::new();
    for (path, text) in files {
        if !(path.starts_with("core/src/") && path.ends_with(".rs")) {
            continue;
        }
        let listed = CORE_UNSAFE.iter().any(|(file, _)| file == path);
        let code = blank_non_code(text);
        let mut found = false;
        for (index, line) in code.lines().enumerate() {
            let keyword = line
                .match_indices("unsafe")
                .any(|(at, _)| is_word(line, at, "unsafe".len()));
            if keyword || line.contains(allow) {
                found = true;
                if !listed {
                    violations.push(format!(
                        "{path}:{}: `unsafe` outside the core's listed modules; keep it in \
                         `registry.rs`, or list this file in `CORE_UNSAFE` (tidy.rs) and \
                         ARCHITECTURE.md with the reason",
                        index + 1
                    ));
                }
            }
        }
        if listed && !found {
            violations.push(format!(
                "{path}:1: listed in `CORE_UNSAFE` but has no `unsafe`; remove it from the \
                 list (and from ARCHITECTURE.md)"
            ));
        }
    }
    violations
}

/// Whether `line[at..at + len]` is a whole word.
fn is_word(line: &str, at: usize, len: usize) -> bool {
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    !line[..at].chars().next_back().is_some_and(ident)
        && !line[at + len..].chars().next().is_some_and(ident)
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
fn only_sync_names_the_atomics() {
    assert_none("atomics", &atomic_violations(&sources()));
}

#[test]
fn unsafe_in_the_core_only_where_listed() {
    assert_none("core unsafe", &core_unsafe_violations(&sources()));
}

#[test]
fn examples_name_the_crates_an_application_depends_on() {
    assert_none("examples", &server_path_violations(&sources()));
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

    let atomic = format!("use core::sync::{};\n", "atomic::AtomicU64");
    assert_eq!(
        atomic_violations(&files("core/src/counter.rs", &atomic)).len(),
        1
    );
    assert!(atomic_violations(&files("core/src/sync.rs", &atomic)).is_empty());
    assert!(atomic_violations(&files("core/tests/a.rs", &atomic)).is_empty());
    assert!(atomic_violations(&files("core/src/a.rs", &format!("/// {atomic}"))).is_empty());
    let block = format!("fn f() {{ {} {{}} }}\n", "unsafe");
    assert_eq!(
        core_unsafe_violations(&files("core/src/counter.rs", &block)).len(),
        1
    );
    assert!(core_unsafe_violations(&files("core/src/a.rs", "// unsafe\nUnsafeCell")).is_empty());

    let crate_files = |pairs: &[(&str, &str)]| {
        let mut all = vec![("x/Cargo.toml".to_owned(), String::new())];
        all.extend(
            pairs
                .iter()
                .map(|(path, text)| ((*path).to_owned(), (*text).to_owned())),
        );
        all
    };
    let looped = crate_files(&[
        ("x/src/lib.rs", "mod a;\nmod b;\npub use a::A;\n"),
        ("x/src/a.rs", "mod inner;\npub struct A;\n"),
        ("x/src/a/inner.rs", "use crate::{b::{self, B}};\n"),
        (
            "x/src/b.rs",
            "pub struct B(crate::A);\n#[cfg(test)]\nmod tests { use super::*; }\n",
        ),
    ]);
    assert_eq!(
        import_cycles(&looped),
        [
            "x/src/: the modules `a`, `b` import each other in a loop; move the shared item \
          into the module that owns it so every import points down:\n    \
          a -> b (x/src/a/inner.rs:1)\n    b -> a (x/src/b.rs:1)"
        ]
    );
    let down = crate_files(&[
        ("x/src/lib.rs", "mod a;\nmod b;\n"),
        (
            "x/src/a.rs",
            "mod inner;\nuse super::b::B;\nconst S: &str = \"crate::b\";\n",
        ),
        ("x/src/a/inner.rs", "use super::super::a::X; // crate::b\n"),
        ("x/src/b.rs", "pub struct B;\n"),
    ]);
    assert!(import_cycles(&down).is_empty());

    let server = concat!("torchlight", "_server");
    let published = |pairs: &[(&str, &str)]| {
        let mut all = vec![
            ("server/Cargo.toml".to_owned(), String::new()),
            (
                "tests/Cargo.toml".to_owned(),
                "publish = false\n".to_owned(),
            ),
        ];
        all.extend(
            pairs
                .iter()
                .map(|(path, text)| ((*path).to_owned(), (*text).to_owned())),
        );
        all
    };
    let grouped = format!(
        "//! Text.\n//!\n//! ```no_run\n//! use {server}::{{\n//!     start,\n//!     \
         consul::{{A, B}}, Options}};\n//! ```\nfn f() {{}}\n"
    );
    let found = server_path_violations(&published(&[("server/src/a.rs", &grouped)]));
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("server/src/a.rs:4: an example names `"));
    assert!(found[0].contains("consul`") && found[1].contains("Options`"));
    let seam = format!("/// ```\n/// use {server}::{{Runtime, start}};\n/// ```\n");
    assert!(server_path_violations(&published(&[("server/src/a.rs", &seam)])).is_empty());
    let text_fence = format!("/// ```text\n/// {server}::Options\n/// ```\n");
    assert!(server_path_violations(&published(&[("server/src/a.rs", &text_fence)])).is_empty());
    let code = format!("use {server}::Options;\n");
    assert!(server_path_violations(&published(&[("server/src/a.rs", &code)])).is_empty());
    assert!(server_path_violations(&published(&[("tests/src/a.rs", &grouped)])).is_empty());
    assert_eq!(
        server_path_violations(&published(&[("server/examples/a.rs", &code)])).len(),
        1
    );
    let readme = format!("```rust\nlet o = {server}::Options::new();\n```\n");
    assert_eq!(
        server_path_violations(&published(&[("README.md", &readme)])).len(),
        1
    );
    assert!(server_path_violations(&published(&[("tests/README.md", &readme)])).is_empty());

    let up = format!("../{}", "shared");
    assert_eq!(
        outside_violations(&files("README.md", &format!("see {up}/DESIGN.md")))[0],
        format!(
            "README.md:1: points outside the repository (`{up}`); cite the public \
             specification (name and section, or URL) or the peer's source file"
        )
    );
}

// ---------------------------------------------------------------------------------------
// Imports point down: the module graph of every crate has no loop.

/// A source file of a crate's module tree: its module path (`["registry", "owned"]`),
/// and its code with comments, strings and character literals blanked.
struct ModuleFile {
    path: String,
    module: Vec<String>,
    code: String,
}

/// One import: the importing file and line, the importing module (the file's, plus the
/// inline `mod` blocks it sits in) and the path it names, absolute from the crate root.
#[derive(Clone, Debug)]
struct Import {
    file: String,
    line: usize,
    from: Vec<String>,
    to: Vec<String>,
}

/// `text` with every comment, string literal and character literal replaced by spaces
/// (line breaks kept), so braces, `use` and `crate::` are only ever seen in code.
fn blank_non_code(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if (c == 'r' || (c == 'b' && next == Some('r')))
            && (i == 0 || !ident(chars[i - 1]))
            && {
                let mut at = i + if c == 'b' { 2 } else { 1 };
                while chars.get(at) == Some(&'#') {
                    at += 1;
                }
                chars.get(at) == Some(&'"')
            }
        {
            // A raw string: `r"…"`, `r#"…"#`, `br"…"`.
            let mut at = i + if c == 'b' { 2 } else { 1 };
            let mut hashes = 0;
            while chars[at] == '#' {
                hashes += 1;
                at += 1;
            }
            at += 1;
            loop {
                if at >= chars.len() {
                    break;
                }
                if chars[at] == '"' && (0..hashes).all(|k| chars.get(at + 1 + k) == Some(&'#')) {
                    at += 1 + hashes;
                    break;
                }
                at += 1;
            }
            for &skipped in &chars[i..at.min(chars.len())] {
                out.push(blank(skipped));
            }
            i = at;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    out.push(' ');
                    i += 1;
                }
                if i < chars.len() {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
            out.push(' ');
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal (a lifetime has no closing quote two characters on).
            out.push(' ');
            i += 1;
            if chars.get(i) == Some(&'\\') {
                out.push(' ');
                i += 1;
            }
            while i < chars.len() && chars[i] != '\'' {
                out.push(blank(chars[i]));
                i += 1;
            }
            out.push(' ');
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The crates of the workspace: each package folder's `src/` with a `lib.rs` or
/// `main.rs` (the programs under `src/bin/` are crates of their own and left out).
fn module_trees(files: &[(String, String)]) -> Vec<(String, Vec<ModuleFile>)> {
    let mut crates = Vec::new();
    for package in files
        .iter()
        .filter_map(|(path, _)| path.strip_suffix("/Cargo.toml"))
    {
        let src = format!("{package}/src/");
        let mut tree = Vec::new();
        for (path, text) in files {
            let Some(rest) = path.strip_prefix(&src) else {
                continue;
            };
            let Some(rest) = rest.strip_suffix(".rs") else {
                continue;
            };
            let mut module: Vec<String> = rest.split('/').map(str::to_owned).collect();
            if module[0] == "bin" {
                continue;
            }
            let last = module.last().map(String::as_str);
            if module.len() == 1 && matches!(last, Some("lib" | "main")) || last == Some("mod") {
                module.pop();
            }
            tree.push(ModuleFile {
                path: path.clone(),
                module,
                code: blank_non_code(text),
            });
        }
        if tree.iter().any(|file| file.module.is_empty()) {
            crates.push((src, tree));
        }
    }
    crates
}

/// The paths a `use` tree names, each as its segments (`a::{b, c::d as e}` gives
/// `a::b` and `a::c::d`; `self` inside a group names the group's prefix).
fn use_paths(tree: &str) -> Vec<Vec<String>> {
    fn parse(tokens: &[String], at: &mut usize, prefix: &[String], out: &mut Vec<Vec<String>>) {
        let mut path = prefix.to_vec();
        while *at < tokens.len() {
            let token = tokens[*at].as_str();
            *at += 1;
            match token {
                "::" => {}
                "{" => {
                    loop {
                        parse(tokens, at, &path, out);
                        match tokens.get(*at).map(String::as_str) {
                            Some(",") => *at += 1,
                            Some("}") => {
                                *at += 1;
                                break;
                            }
                            _ => break,
                        }
                        if tokens.get(*at).map(String::as_str) == Some("}") {
                            *at += 1;
                            break;
                        }
                    }
                    return;
                }
                "," | "}" => {
                    *at -= 1;
                    break;
                }
                "as" => {
                    *at += 1;
                    break;
                }
                "self" if path.len() > prefix.len() || !prefix.is_empty() => {}
                "*" => break,
                name => path.push(name.to_owned()),
            }
        }
        if !path.is_empty() {
            out.push(path);
        }
    }
    let mut tokens = Vec::new();
    let mut word = String::new();
    let chars: Vec<char> = tree.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_alphanumeric() || c == '_' {
            word.push(c);
        } else {
            if !word.is_empty() {
                tokens.push(std::mem::take(&mut word));
            }
            if c == ':' && chars.get(i + 1) == Some(&':') {
                tokens.push("::".to_owned());
                i += 1;
            } else if "{},*".contains(c) {
                tokens.push(c.to_string());
            }
        }
        i += 1;
    }
    if !word.is_empty() {
        tokens.push(word);
    }
    let mut out = Vec::new();
    let mut at = 0;
    while at < tokens.len() {
        let before = at;
        parse(&tokens, &mut at, &[], &mut out);
        if at == before || tokens.get(at).map(String::as_str) == Some(",") {
            at += 1;
        }
    }
    out
}

/// Whether `module` is a module of the tree.
fn is_module(tree: &[ModuleFile], module: &[String]) -> bool {
    tree.iter().any(|file| file.module == module)
}

/// `path` as written in module `scope` made absolute: `crate::`, `super::`, `self::`
/// and a leading child-module name resolved; `None` for anything else (another crate,
/// a local name).
fn absolute(tree: &[ModuleFile], scope: &[String], path: &[String]) -> Option<Vec<String>> {
    let mut base: Vec<String> = scope.to_vec();
    let mut rest = path;
    match rest.first().map(String::as_str) {
        Some("crate") => {
            base.clear();
            rest = &rest[1..];
        }
        Some("self") => rest = &rest[1..],
        Some("super") => {
            while rest.first().map(String::as_str) == Some("super") {
                base.pop()?;
                rest = &rest[1..];
            }
        }
        Some(first) => {
            let mut child = scope.to_vec();
            child.push(first.to_owned());
            if !is_module(tree, &child) {
                return None;
            }
        }
        None => return None,
    }
    base.extend(rest.iter().cloned());
    Some(base)
}

/// Every import of a crate: `use` items and `crate::`/`super::` paths in code, the
/// inline `mod name {` blocks tracked so `super` inside them resolves right.
fn imports(tree: &[ModuleFile]) -> Vec<Import> {
    let mut found = Vec::new();
    for file in tree {
        let code = &file.code;
        let bytes = code.as_bytes();
        let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
        // Inline modules: (name, brace depth inside it).
        let mut inline: Vec<(String, usize)> = Vec::new();
        let mut depth = 0;
        let mut line = 1;
        let mut pending_mod: Option<String> = None;
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let word_start = i == 0 || !ident(bytes[i - 1]);
            let scope = || {
                let mut scope = file.module.clone();
                scope.extend(inline.iter().map(|(name, _)| name.clone()));
                scope
            };
            match b {
                b'\n' => line += 1,
                b'{' => {
                    depth += 1;
                    if let Some(name) = pending_mod.take() {
                        inline.push((name, depth));
                    }
                }
                b'}' => {
                    if inline.last().is_some_and(|(_, at)| *at == depth) {
                        inline.pop();
                    }
                    depth -= 1;
                }
                b';' => pending_mod = None,
                _ if word_start && code[i..].starts_with("mod ") => {
                    let name: String = code[i + 4..]
                        .trim_start()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    pending_mod = Some(name);
                }
                _ if word_start && code[i..].starts_with("use ") => {
                    let end = code[i..].find(';').map_or(code.len(), |at| i + at);
                    let scope = scope();
                    for path in use_paths(&code[i + 4..end]) {
                        if let Some(to) = absolute(tree, &scope, &path) {
                            found.push(Import {
                                file: file.path.clone(),
                                line,
                                from: scope.clone(),
                                to,
                            });
                        }
                    }
                    line += code[i..end].matches('\n').count();
                    i = end;
                    continue;
                }
                _ if word_start
                    && (i == 0 || bytes[i - 1] != b'$')
                    && (code[i..].starts_with("crate::") || code[i..].starts_with("super::")) =>
                {
                    let end = code[i..]
                        .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                        .map_or(code.len(), |at| i + at);
                    let path: Vec<String> = code[i..end]
                        .split("::")
                        .filter(|segment| !segment.is_empty())
                        .map(str::to_owned)
                        .collect();
                    if let Some(to) = absolute(tree, &scope(), &path) {
                        found.push(Import {
                            file: file.path.clone(),
                            line,
                            from: scope(),
                            to,
                        });
                    }
                    i = end;
                    continue;
                }
                _ => {}
            }
            i += 1;
        }
    }
    found
}

/// The module an absolute path lands in: its longest prefix that is a module, followed
/// through `pub use` re-exports (`crate::Clock` is `crate::clock::Clock`).
fn target_module(tree: &[ModuleFile], imports: &[Import], path: &[String]) -> Vec<String> {
    let mut path = path.to_vec();
    for _ in 0..8 {
        let mut module = path.clone();
        while !module.is_empty() && !is_module(tree, &module) {
            module.pop();
        }
        let Some(name) = path.get(module.len()) else {
            return module;
        };
        // A name `module` imports (its children see its private imports too), as
        // `pub use` or `use` in its own file, outside any inline module.
        let reexport = imports.iter().find(|import| {
            import.from == module
                && import.to.last() == Some(name)
                && tree
                    .iter()
                    .any(|file| file.module == module && file.path == import.file)
        });
        match reexport {
            Some(import) if import.to != path => {
                let mut next = import.to.clone();
                next.extend(path[module.len() + 1..].iter().cloned());
                path = next;
            }
            _ => return module,
        }
    }
    path
}

/// `file:line` of each edge of every loop among the children of some module of every
/// crate, one loop per strongly connected group.
fn import_cycles(files: &[(String, String)]) -> Vec<String> {
    use std::collections::BTreeMap;
    let mut violations = Vec::new();
    for (src, tree) in module_trees(files) {
        let imports = imports(&tree);
        // parent module → (child, child) → the first import making that edge.
        let mut edges: BTreeMap<Vec<String>, BTreeMap<(String, String), Import>> = BTreeMap::new();
        for import in &imports {
            let to = target_module(&tree, &imports, &import.to);
            let common = import
                .from
                .iter()
                .zip(&to)
                .take_while(|(a, b)| a == b)
                .count();
            // An import of one's own subtree or of an ancestor points down.
            if common == import.from.len() || common == to.len() {
                continue;
            }
            edges
                .entry(import.from[..common].to_vec())
                .or_default()
                .entry((import.from[common].clone(), to[common].clone()))
                .or_insert_with(|| import.clone());
        }
        for (parent, graph) in &edges {
            for (cycle, group) in cycles(graph) {
                let name = |child: &str| {
                    let mut path = parent.clone();
                    path.push(child.to_owned());
                    path.join("::")
                };
                let steps: Vec<String> = cycle
                    .iter()
                    .map(|(a, b)| {
                        let import = &graph[&(a.clone(), b.clone())];
                        format!(
                            "    {} -> {} ({}:{})",
                            name(a),
                            name(b),
                            import.file,
                            import.line
                        )
                    })
                    .collect();
                // The group's other edges: each may be the one to remove.
                let others: Vec<String> = graph
                    .iter()
                    .filter(|((a, b), _)| {
                        group.contains(a)
                            && group.contains(b)
                            && !cycle.contains(&(a.clone(), b.clone()))
                    })
                    .map(|((a, b), import)| {
                        format!(
                            "    also {} -> {} ({}:{})",
                            name(a),
                            name(b),
                            import.file,
                            import.line
                        )
                    })
                    .collect();
                violations.push(format!(
                    "{src}: the modules `{}` import each other in a loop; move the shared \
                     item into the module that owns it so every import points down:\n{}{}",
                    group
                        .iter()
                        .map(|node| name(node))
                        .collect::<Vec<_>>()
                        .join("`, `"),
                    steps.join("\n"),
                    others
                        .iter()
                        .map(|line| format!("\n{line}"))
                        .collect::<String>()
                ));
            }
        }
    }
    violations
}

/// A loop: its edges (`from`, `to`) in order, and every node of its group.
type Loop = (Vec<(String, String)>, Vec<String>);

/// One loop per group of nodes that reach each other.
fn cycles<V>(graph: &std::collections::BTreeMap<(String, String), V>) -> Vec<Loop> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in graph.keys() {
        next.entry(a).or_default().push(b);
    }
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(node) = stack.pop() {
            for &to in next.get(node).into_iter().flatten() {
                if seen.insert(to) {
                    stack.push(to);
                }
            }
        }
        seen
    };
    let mut done: BTreeSet<&str> = BTreeSet::new();
    let mut loops = Vec::new();
    for &start in next.keys() {
        if done.contains(start) || !reach(start).contains(start) {
            continue;
        }
        // The group: every node `start` reaches that reaches `start` back.
        let group: BTreeSet<&str> = reach(start)
            .into_iter()
            .filter(|&node| reach(node).contains(start))
            .collect();
        done.extend(group.iter().copied());
        // A shortest way back to `start` (breadth first inside the group).
        let mut came: BTreeMap<&str, &str> = BTreeMap::new();
        let mut queue = std::collections::VecDeque::from([start]);
        'search: while let Some(node) = queue.pop_front() {
            for &to in next.get(node).into_iter().flatten() {
                if !group.contains(to) || came.contains_key(to) {
                    continue;
                }
                came.insert(to, node);
                if to == start {
                    break 'search;
                }
                queue.push_back(to);
            }
        }
        let mut path = Vec::new();
        let mut node = start;
        loop {
            let from = came[node];
            path.push((from.to_owned(), node.to_owned()));
            node = from;
            if node == start {
                break;
            }
        }
        path.reverse();
        loops.push((path, group.iter().map(|&node| node.to_owned()).collect()));
    }
    loops
}

#[test]
fn imports_point_down() {
    let found = import_cycles(&sources());
    let known = |finding: &String| {
        KNOWN_LOOPS.iter().any(|(src, modules, _)| {
            finding.starts_with(&format!("{src}: the modules `{modules}` import"))
        })
    };
    let stale: Vec<String> = KNOWN_LOOPS
        .iter()
        .filter(|(src, modules, _)| {
            !found.iter().any(|finding| {
                finding.starts_with(&format!("{src}: the modules `{modules}` import"))
            })
        })
        .map(|(src, modules, _)| {
            format!("{src}: `{modules}` no longer loop; remove the entry from `KNOWN_LOOPS`")
        })
        .collect();
    let new: Vec<String> = found
        .into_iter()
        .filter(|finding| !known(finding))
        .collect();
    assert_none("import loops", &new);
    assert_none("import loops", &stale);
}
