//! The READMEs' examples are crate-level doctests (the core's, torchlight-tokio's,
//! torchlight-metrics' and torchlight-tower's; those crates' own READMEs too),
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

/// The lines of the first ```` ```rust ```` block under the README's `heading` (a
/// `## ` line), so moving a section does not re-point the tests.
fn section_example(readme: &str, heading: &str) -> Vec<String> {
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README.md has no section `{heading}`"));
    readme_example(&readme[start..], 0)
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

#[test]
fn readme_metrics_example_is_the_recorder_crate_doctest() {
    let doctest = crate_doctest(&read("recorder/src/lib.rs"));
    assert!(
        doctest.len() > 5,
        "no crate-level doctest found in recorder/src/lib.rs"
    );
    let examples = [
        (
            "README.md",
            section_example(
                &read("README.md"),
                "## Recording through the `metrics` facade",
            ),
        ),
        (
            "recorder/README.md",
            readme_example(&read("recorder/README.md"), 0),
        ),
    ];
    for (readme, example) in examples {
        assert_eq!(
            example, doctest,
            "{readme}'s `metrics` example must equal the doctest at the top of \
             recorder/src/lib.rs: copy one to the other"
        );
    }
}

#[test]
fn readme_http_service_example_is_the_tower_crate_doctest() {
    let doctest = crate_doctest(&read("tower/src/lib.rs"));
    assert!(
        doctest.len() > 5,
        "no crate-level doctest found in tower/src/lib.rs"
    );
    let examples = [
        (
            "README.md",
            section_example(&read("README.md"), "## Instrumenting an HTTP service"),
        ),
        (
            "tower/README.md",
            readme_example(&read("tower/README.md"), 0),
        ),
    ];
    for (readme, example) in examples {
        assert_eq!(
            example, doctest,
            "{readme}'s `MetricsLayer` example must equal the doctest at the top of \
             tower/src/lib.rs (without its hidden `# ` lines): copy one to the other"
        );
    }
}

#[test]
fn core_readme_example_is_the_core_crate_doctest() {
    assert_eq!(
        readme_example(&read("core/README.md"), 0),
        crate_doctest(&read("core/src/lib.rs")),
        "core/README.md's example must equal the doctest at the top of core/src/lib.rs"
    );
}

#[test]
fn readme_microcontroller_example_is_the_firmware_program() {
    let example = section_example(&read("README.md"), "## On a microcontroller");
    let program = read("core/firmware/src/bin/readme.rs");
    let code: Vec<String> = program
        .lines()
        .skip_while(|line| *line != "#![no_std]")
        .map(str::to_owned)
        .collect();
    assert!(
        code.len() > 20,
        "no program found in core/firmware/src/bin/readme.rs"
    );
    assert_eq!(
        example, code,
        "README.md's \"On a microcontroller\" example must equal core/firmware/src/bin/readme.rs from \
         its `#![no_std]` line on: copy one to the other"
    );
}

#[test]
fn readme_exemplars_example_is_the_exemplar_module_doctest() {
    let example = section_example(&read("README.md"), "## Exemplars");
    let doctest = crate_doctest(&read("core/src/exemplar.rs"));
    assert!(
        doctest.len() > 5,
        "no module doctest found in core/src/exemplar.rs"
    );
    assert_eq!(
        example, doctest,
        "README.md's Exemplars example must equal the doctest at the top of \
         core/src/exemplar.rs (without its hidden `# ` lines): copy one to the other"
    );
}

/// The lines of the first `///` code block of `source` after the line `after` (which
/// starts with it), without the lines rustdoc hides.
fn item_doctest(source: &str, after: &str) -> Vec<String> {
    // Trimmed: an item inside an `impl` has its docs indented.
    source
        .lines()
        .skip_while(|line| !line.starts_with(after))
        .map(str::trim_start)
        .skip_while(|line| *line != "/// ```")
        .skip(1)
        .take_while(|line| *line != "/// ```")
        .map(|line| line.strip_prefix("///").unwrap_or(line))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .filter(|line| !line.starts_with("# ") && *line != "#")
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_native_histogram_example_is_the_type_doctest() {
    let example = section_example(&read("README.md"), "## Native histograms");
    let doctest = item_doctest(
        &read("core/src/native.rs"),
        "/// A native histogram exposing at most",
    );
    assert!(doctest.len() > 5, "no doctest found on `NativeHistogram`");
    assert_eq!(
        example, doctest,
        "README.md's \"Native histograms\" example must equal the example on `NativeHistogram` in \
         core/src/native.rs (without its hidden `# ` lines): copy one to the other"
    );
}

/// The lines of the first `no_run` code block of `source` after the line `after`,
/// without the lines rustdoc hides.
fn item_no_run_doctest(source: &str, after: &str) -> Vec<String> {
    source
        .lines()
        .skip_while(|line| !line.starts_with(after))
        .skip_while(|line| *line != "/// ```no_run")
        .skip(1)
        .take_while(|line| *line != "/// ```")
        .map(|line| line.strip_prefix("///").unwrap_or(line))
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .filter(|line| !line.starts_with("# ") && *line != "#")
        .map(str::to_owned)
        .collect()
}

#[test]
fn readme_pushing_examples_are_the_tokio_pusher_doctests() {
    let readme = read("README.md");
    let start = readme
        .find("\n## Pushing\n")
        .expect("README.md has a section `## Pushing`");
    let section = &readme[start..];
    let source = read("adapter-tokio/src/pusher.rs");
    for (index, item) in [
        "/// Starts pushing the registry with Prometheus remote write",
        "/// A Pushgateway group reached on this runtime",
    ]
    .into_iter()
    .enumerate()
    {
        let doctest = item_no_run_doctest(&source, item);
        assert!(doctest.len() >= 3, "no doctest found after {item:?}");
        assert_eq!(
            readme_example(section, index),
            doctest,
            "README.md's \"Pushing\" example {index} must equal the doctest in \
             adapter-tokio/src/pusher.rs (without its hidden `# ` lines): copy one to the other"
        );
    }
}

#[test]
fn readme_names_example_is_the_with_escaping_doctest() {
    let example = section_example(&read("README.md"), "## Prometheus 3 names");
    let doctest = item_doctest(
        &read("core/src/encoding.rs"),
        "    /// Escapes names with `escaping`",
    );
    assert!(
        doctest.len() > 5,
        "no doctest found on `Exposition::with_escaping`"
    );
    assert_eq!(
        example, doctest,
        "README.md's \"Prometheus 3 names\" example must equal the example on \
         `Exposition::with_escaping` in core/src/encoding.rs (without its hidden `# ` lines): \
         copy one to the other"
    );
}
