//! The line format of results that are not divan timings (allocation and memory
//! counts), as `cargo xtask bench` parses them.
//!
//! One result per line, tab-separated, starting with [`PREFIX`]:
//! `torchlight-bench <case> <variant> <parameter> <library> <metric> <value>`.
//! `cargo xtask bench` reads these lines from the bench programs' output next to
//! divan's tables; keep the two in step (`xtask/src/bench.rs`).

use crate::Library;

/// The first field of every result line.
pub const PREFIX: &str = "torchlight-bench";

/// One measured number.
#[derive(Clone, Debug, PartialEq)]
pub struct Record {
    /// The case, e.g. `case6_encode`.
    pub case: &'static str,
    /// The variant within the case, e.g. `text`.
    pub variant: &'static str,
    /// The parameter, e.g. the series count (`-` when there is none).
    pub parameter: String,
    /// The library measured.
    pub library: Library,
    /// What was measured, e.g. `allocations_per_scrape`.
    pub metric: &'static str,
    /// The value.
    pub value: f64,
}

impl Record {
    /// The line `cargo xtask bench` parses (without a newline).
    #[must_use]
    pub fn line(&self) -> String {
        format!(
            "{PREFIX}\t{}\t{}\t{}\t{}\t{}\t{}",
            self.case, self.variant, self.parameter, self.library, self.metric, self.value
        )
    }
}

#[cfg(test)]
mod tests {
    use super::Record;
    use crate::Library;

    #[test]
    fn a_record_is_one_tab_separated_line() {
        let record = Record {
            case: "case8_memory",
            variant: "new_child",
            parameter: "-".to_owned(),
            library: Library::PrometheusClient,
            metric: "allocations_per_child",
            value: 2.5,
        };
        assert_eq!(
            record.line(),
            "torchlight-bench\tcase8_memory\tnew_child\t-\tprometheus_client\tallocations_per_child\t2.5"
        );
    }
}
