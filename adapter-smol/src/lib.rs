//! Placeholder: filled by the adapters issue.
#![forbid(unsafe_code)]
