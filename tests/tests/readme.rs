//! The README's examples are crate-level doctests (the core's, then torchlight-tokio's),
//! so they are compiled and run: these tests fail when a README block and its doctest
//! drift apart.
#![forbid(unsafe_code)]

use std::path::Path;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The lines of the `index`th ```` ```rust ```` block of the README.
fn readme_example(readme: &str, index: usize) -> Vec<String> {
    let mut lines = readme.lines();
    for _ in 0..=index {
        lines.by_ref().find(|line| *line == "```rust");
    }
    lines
        .take_while(|line| *line != "```")
        .map(str::to_owned)
        .collect()
}

/// The lines of the first code block in the `//!` docs of `lib_rs`, without the lines
/// rustdoc hides (`# …`).
fn crate_doctest(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .map_while(|line| line.strip_prefix("//!"))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .skip_while(|line| !line.starts_with("```"))
        .skip(1)
        .take_while(|line| !line.starts_with("```"))
        .filter(|line| !line.starts_with("# ") && *line != "#")
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_example_is_the_crate_doctest() {
    let example = readme_example(&read("README.md"), 0);
    let doctest = crate_doctest(&read("core/src/lib.rs"));
    assert!(
        doctest.len() > 5,
        "no crate-level doctest found in core/src/lib.rs"
    );
    assert_eq!(
        example, doctest,
        "README.md's ```rust example must equal the doctest at the top of core/src/lib.rs \
         (without its hidden `# ` lines): copy one to the other"
    );
}

#[test]
fn readme_serving_example_is_the_tokio_crate_doctest() {
    let example = readme_example(&read("README.md"), 1);
    let doctest = crate_doctest(&read("adapter-tokio/src/lib.rs"));
    assert!(
        doctest.len() > 5,
        "no crate-level doctest found in adapter-tokio/src/lib.rs"
    );
    assert_eq!(
        example, doctest,
        "README.md's second ```rust example must equal the doctest at the top of \
         adapter-tokio/src/lib.rs: copy one to the other"
    );
}
