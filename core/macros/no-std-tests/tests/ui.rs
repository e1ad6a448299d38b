//! The attribute macros where torchlight is built without `std` (`default-features =
//! false, features = ["macros"]`): `#[timed]` without `clock = …` fails with a message
//! that asks for the option, and with it, like the other attributes, compiles.
#![forbid(unsafe_code)]

#[test]
fn without_std_timed_asks_for_a_clock() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
