//! Sanitised names are always accepted by a legacy torchlight registry (property-tested against the
//! registry's and `DynFamily`'s own checks), and keep one character per character.

#![forbid(unsafe_code)]

use std::sync::Arc;

use proptest::prelude::*;
use torchlight::{DynFamily, Gauge, Metric, Registry};
use torchlight_metrics::names::{label_name, metric_name};

fn leak(text: &str) -> &'static str {
    Box::leak(Box::from(text))
}

proptest! {
    #[test]
    fn every_sanitised_metric_name_registers(name in "\\PC+") {
        let sanitised = metric_name(&name);
        prop_assert_eq!(sanitised.chars().count(), name.chars().count());
        let metric = Arc::new(Metric::new(leak(&sanitised), "help", Gauge::new()));
        prop_assert!(Registry::legacy().register_owned(metric).is_ok(), "{:?}", sanitised);
    }

    #[test]
    fn every_sanitised_label_name_labels_a_family(name in "\\PC+") {
        let sanitised = label_name(&name);
        prop_assert_eq!(sanitised.chars().count(), name.chars().count());
        let family = DynFamily::new([leak(&sanitised)], Gauge::new);
        // Prometheus reserves names starting with `__`; sanitising keeps them (as the
        // exporter does), and the recorder reports them.
        prop_assert_eq!(family.is_ok(), !sanitised.starts_with("__"), "{:?}", sanitised);
    }

    #[test]
    fn valid_names_are_kept(name in "[a-zA-Z_:][a-zA-Z0-9_:]{0,20}") {
        prop_assert_eq!(metric_name(&name), name.as_str());
    }
}
