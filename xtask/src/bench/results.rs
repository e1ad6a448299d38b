//! Reading what the bench programs print: divan's result trees (timings) and the
//! `torchlight-bench` result and machine lines (counts, the machine), into results
//! keyed by case, variant, parameter, library and metric.
//!
//! The line formats are defined by `bench/src/record.rs` and `bench/src/machine.rs`;
//! divan's tree is the one divan 0.1 prints with `--color=never`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// The prefix of a result line (`bench/src/record.rs`).
const RESULT_PREFIX: &str = "torchlight-bench\t";
/// The prefix of a machine line (`bench/src/machine.rs`).
const MACHINE_PREFIX: &str = "torchlight-bench-machine\t";
/// The metric name of a divan timing.
pub(crate) const MEDIAN_NS: &str = "median_ns";

/// What one number measures.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Key {
    /// e.g. `case3_histogram`.
    pub(crate) case: String,
    /// e.g. `observe`.
    pub(crate) variant: String,
    /// e.g. `t=1`, `1000`, or `-`.
    pub(crate) parameter: String,
    /// e.g. `torchlight`, `floor`.
    pub(crate) library: String,
    /// e.g. `median_ns`, `allocations_per_scrape`.
    pub(crate) metric: String,
}

/// One program's output: its machine lines and its results.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Output {
    /// `(key, value)` machine lines, in order.
    pub(crate) machine: Vec<(String, String)>,
    /// The results, in order.
    pub(crate) results: Vec<(Key, f64)>,
}

/// Parses one program's output. Lines that are neither results, machine lines nor
/// divan result rows (headers, `Timer precision`, blank lines) are skipped.
pub(crate) fn parse(text: &str) -> Output {
    let mut output = Output::default();
    // The names of the divan tree nodes above the current line, by depth.
    let mut path: Vec<String> = Vec::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix(RESULT_PREFIX) {
            let fields: Vec<&str> = rest.split('\t').collect();
            if let [case, variant, parameter, library, metric, value] = fields[..]
                && let Ok(value) = value.parse::<f64>()
            {
                output.results.push((
                    Key {
                        case: case.to_owned(),
                        variant: variant.to_owned(),
                        parameter: parameter.to_owned(),
                        library: library.to_owned(),
                        metric: metric.to_owned(),
                    },
                    value,
                ));
            }
        } else if let Some(rest) = line.strip_prefix(MACHINE_PREFIX) {
            if let Some((key, value)) = rest.split_once('\t') {
                output.machine.push((key.to_owned(), value.to_owned()));
            }
        } else if let Some(row) = divan_row(line) {
            path.truncate(row.depth);
            path.push(row.name.to_owned());
            if let Some(median) = row.median_ns
                && let Some(key) = key_from_path(&path)
            {
                output.results.push((key, median));
            }
        }
    }
    output
}

/// One row of divan's tree.
#[derive(Debug, PartialEq)]
struct DivanRow<'a> {
    /// 0 for the program's name, 1 for its top-level modules, …
    depth: usize,
    name: &'a str,
    /// The median column, for leaves.
    median_ns: Option<f64>,
}

/// Parses a row such as `│  ├─ t=1     1.42 ns │ 60.31 ns │ 1.752 ns │ 1.86 ns │ 1000 │ 1024000`.
fn divan_row(line: &str) -> Option<DivanRow<'_>> {
    // Tree drawing: each level is three characters of `│`, `├`, `╰`, `─` or space.
    let name_start = line.find(|c: char| !matches!(c, '│' | '├' | '╰' | '─' | ' '))?;
    let prefix_chars = line[..name_start].chars().count();
    if !prefix_chars.is_multiple_of(3) {
        return None;
    }
    let rest = &line[name_start..];
    let mut columns = rest.split('│');
    let first = columns.next()?;
    // Data rows have 6 columns: name + fastest, slowest, median, mean, samples, iters.
    let others: Vec<&str> = columns.collect();
    if others.len() != 5 {
        return None;
    }
    let mut words = first.split_whitespace();
    let name = words.next()?;
    let median_ns = parse_duration_ns(others[1].trim());
    Some(DivanRow {
        depth: prefix_chars / 3,
        name,
        median_ns,
    })
}

/// `1.42 ns`, `4.441 µs`, `12.6 ms`, `1.2 s` (or `ps`) in nanoseconds.
pub(crate) fn parse_duration_ns(text: &str) -> Option<f64> {
    let (number, unit) = text.split_once(' ')?;
    let number: f64 = number.parse().ok()?;
    let scale = match unit.trim() {
        "ps" => 1e-3,
        "ns" => 1.0,
        "µs" | "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    Some(number * scale)
}

/// `[program, case, variant, library, parameter?]` as a timing key.
fn key_from_path(path: &[String]) -> Option<Key> {
    let (case, variant, library, parameter) = match path {
        [_, case, variant, library] => (case, variant, library, "-"),
        [_, case, variant, library, parameter] => (case, variant, library, parameter.as_str()),
        _ => return None,
    };
    Some(Key {
        case: case.clone(),
        variant: variant.clone(),
        parameter: parameter.to_owned(),
        library: library.clone(),
        metric: MEDIAN_NS.to_owned(),
    })
}

/// The outputs of one run of the suite (a folder of program outputs, possibly several
/// repetitions), with every result's values.
#[derive(Debug, Default)]
pub(crate) struct RunSet {
    /// The folder or file name, e.g. `run-1764118000`.
    pub(crate) name: String,
    /// The machine lines of its first output that has them; `load_average` collects
    /// every output's.
    pub(crate) machine: Vec<(String, String)>,
    /// Every value of every result, across repetitions.
    pub(crate) values: BTreeMap<Key, Vec<f64>>,
}

impl RunSet {
    /// Reads a folder of outputs (every `*.txt` in it) or a single output file.
    pub(crate) fn read(path: &Path) -> Result<Self, String> {
        let files: Vec<PathBuf> = if path.is_dir() {
            let mut files: Vec<PathBuf> = fs::read_dir(path)
                .map_err(|error| format!("cannot list {}: {error}", path.display()))?
                .filter_map(|entry| entry.ok().map(|entry| entry.path()))
                .filter(|file| file.extension().is_some_and(|ext| ext == "txt"))
                .collect();
            files.sort();
            files
        } else {
            vec![path.to_path_buf()]
        };
        let mut set = Self {
            name: path.file_name().map_or_else(
                || path.display().to_string(),
                |n| n.to_string_lossy().into_owned(),
            ),
            ..Self::default()
        };
        for file in files {
            let text = fs::read_to_string(&file)
                .map_err(|error| format!("cannot read {}: {error}", file.display()))?;
            set.add(parse(&text));
        }
        Ok(set)
    }

    /// Adds one program output.
    pub(crate) fn add(&mut self, output: Output) {
        for (key, value) in output.machine {
            if key == "load_average" {
                match self.machine.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, loads)) => {
                        loads.push_str(" | ");
                        loads.push_str(&value);
                    }
                    None => self.machine.push((key, value)),
                }
            } else if !self.machine.iter().any(|(k, _)| *k == key) {
                self.machine.push((key, value));
            }
        }
        for (key, value) in output.results {
            self.values.entry(key).or_default().push(value);
        }
    }

    /// The machine value for `key`, or `?`.
    pub(crate) fn machine(&self, key: &str) -> &str {
        self.machine
            .iter()
            .find(|(k, _)| k == key)
            .map_or("?", |(_, v)| v.as_str())
    }
}

/// The median of `values` (the mean of the middle two for an even count).
pub(crate) fn median(values: &[f64]) -> Option<f64> {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(sorted[n / 2]),
        _ => Some((sorted[n / 2 - 1] + sorted[n / 2]) / 2.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIVAN: &str = "\
torchlight-bench-machine\tcpus\t2
torchlight-bench-machine\tload_average\t3.14 3.50 2.96
Timer precision: 20 ns
hot_path                    fastest       │ slowest       │ median        │ mean          │ samples │ iters
├─ case1_counter                          │               │               │               │         │
│  ╰─ inc                                 │               │               │               │         │
│     ├─ floor                            │               │               │               │         │
│     │  ├─ t=1             1.889 ns      │ 1.918 ns      │ 1.908 ns      │ 1.904 ns      │ 10      │ 10240
│     │  ╰─ t=16            1.879 ns      │ 1.937 ns      │ 25.5 ns       │ 1.91 ns       │ 10      │ 10240
│     ╰─ torchlight                       │               │               │               │         │
│        ╰─ t=1             1.478 ns      │ 1.781 ns      │ 1.688 ns      │ 1.66 ns       │ 10      │ 10240
╰─ case5_future                           │               │               │               │         │
   ╰─ clock_read                          │               │               │               │         │
      ╰─ floor              22.88 ns      │ 22.97 ns      │ 4.441 µs      │ 22.94 ns      │ 10      │ 1280
torchlight-bench\tcase6_encode\ttext\t100\tmeasured\tallocations_per_scrape\t0
";

    fn key(case: &str, variant: &str, parameter: &str, library: &str, metric: &str) -> Key {
        Key {
            case: case.to_owned(),
            variant: variant.to_owned(),
            parameter: parameter.to_owned(),
            library: library.to_owned(),
            metric: metric.to_owned(),
        }
    }

    #[test]
    fn parses_divan_trees_result_lines_and_machine_lines() {
        let output = parse(DIVAN);
        assert_eq!(
            output.machine,
            [
                ("cpus".to_owned(), "2".to_owned()),
                ("load_average".to_owned(), "3.14 3.50 2.96".to_owned())
            ]
        );
        assert_eq!(
            output.results,
            [
                (
                    key("case1_counter", "inc", "t=1", "floor", MEDIAN_NS),
                    1.908
                ),
                (
                    key("case1_counter", "inc", "t=16", "floor", MEDIAN_NS),
                    25.5
                ),
                (
                    key("case1_counter", "inc", "t=1", "torchlight", MEDIAN_NS),
                    1.688
                ),
                (
                    key("case5_future", "clock_read", "-", "floor", MEDIAN_NS),
                    4441.0
                ),
                (
                    key(
                        "case6_encode",
                        "text",
                        "100",
                        "measured",
                        "allocations_per_scrape"
                    ),
                    0.0
                ),
            ]
        );
    }

    #[test]
    fn durations_in_every_unit() {
        assert_eq!(parse_duration_ns("1.5 ns"), Some(1.5));
        assert_eq!(parse_duration_ns("2 µs"), Some(2000.0));
        assert_eq!(parse_duration_ns("3 ms"), Some(3e6));
        assert_eq!(parse_duration_ns("1 s"), Some(1e9));
        assert_eq!(parse_duration_ns("500 ps"), Some(0.5));
        assert_eq!(parse_duration_ns(""), None);
        assert_eq!(parse_duration_ns("1 parsec"), None);
    }

    #[test]
    fn run_sets_collect_repetitions_and_loads() {
        let mut set = RunSet::default();
        set.add(parse(DIVAN));
        set.add(parse(DIVAN));
        let values = &set.values[&key("case1_counter", "inc", "t=1", "torchlight", MEDIAN_NS)];
        assert_eq!(values, &[1.688, 1.688]);
        assert_eq!(set.machine("cpus"), "2");
        assert_eq!(
            set.machine("load_average"),
            "3.14 3.50 2.96 | 3.14 3.50 2.96"
        );
        assert_eq!(set.machine("rustc"), "?");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }
}
