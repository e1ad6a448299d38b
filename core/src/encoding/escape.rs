//! Escaping of HELP text and label values (`exposition-and-integration.md` §1.2–1.3).
//!
//! | context | escaped |
//! |---|---|
//! | HELP, text 0.0.4 | `\` → `\\`, LF → `\n` (a raw `"` must stay raw: promtool rejects `\"`) |
//! | HELP, OpenMetrics | as above, and `"` → `\"` |
//! | label values, both | `\` → `\\`, `"` → `\"`, LF → `\n` |
//!
//! Runs of bytes that need nothing are written in one `write_str`.

use core::fmt::{self, Write};

/// Writes `text` with `\`, LF and, when `quote` is set, `"` escaped.
pub(crate) fn write_escaped(w: &mut dyn Write, text: &str, quote: bool) -> fmt::Result {
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quote => "\\\"",
            _ => continue,
        };
        // `at` sits on an ASCII byte, so both slices end on char boundaries.
        w.write_str(&text[start..at])?;
        w.write_str(escaped)?;
        start = at + 1;
    }
    w.write_str(&text[start..])
}

/// A `fmt::Write` adapter that escapes what passes through it, for label values that
/// are formatted (`Display`) rather than stored as strings.
pub(crate) struct Escaper<'a> {
    pub(crate) inner: &'a mut dyn Write,
    pub(crate) quote: bool,
}

impl Write for Escaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        write_escaped(self.inner, s, self.quote)
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;

    fn escape(text: &str, quote: bool) -> String {
        let mut s = String::new();
        write_escaped(&mut s, text, quote).unwrap();
        s
    }

    #[test]
    fn golden() {
        // §1.5: `path="/a\"b\\c\nd"` and HELP `Requests with \\ backslash and \n newline.`
        assert_eq!(escape("/a\"b\\c\nd", true), r#"/a\"b\\c\nd"#);
        assert_eq!(
            escape("Requests with \\ backslash and \n newline.", false),
            r"Requests with \\ backslash and \n newline."
        );
        assert_eq!(
            escape("say \"hi\" \\ and\n", false),
            "say \"hi\" \\\\ and\\n"
        );
        assert_eq!(
            escape("say \"hi\" \\ and\n", true),
            "say \\\"hi\\\" \\\\ and\\n"
        );
        assert_eq!(escape("ünïcødé ✓ \t\r", true), "ünïcødé ✓ \t\r");
        assert_eq!(escape("", true), "");
    }

    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '\\' {
                match chars.next() {
                    Some('n') => out.push('\n'),
                    Some(other) => out.push(other),
                    None => panic!("dangling backslash in {text:?}"),
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    proptest::proptest! {
        /// Escaping is reversible, leaves no raw newline, and (for label values) no
        /// unescaped quote.
        #[test]
        fn reversible(text in "\\PC*|[\"\\\\\n a-z]*", quote in proptest::bool::ANY) {
            let escaped = escape(&text, quote);
            proptest::prop_assert!(!escaped.contains('\n'));
            proptest::prop_assert_eq!(unescape(&escaped), text);
            if quote {
                let mut backslashes = 0;
                for c in escaped.chars() {
                    if c == '"' {
                        proptest::prop_assert!(backslashes % 2 == 1, "raw quote in {}", escaped);
                    }
                    backslashes = if c == '\\' { backslashes + 1 } else { 0 };
                }
            }
        }
    }
}
