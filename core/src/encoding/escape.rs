//! Escaping of HELP text and label values, as Prometheus' "Exposition formats" page
//! (text format details) and the OpenMetrics 1.0 specification (ABNF, `escaped-string`)
//! define it and Go's `expfmt` writes it.
//!
//! | context | escaped |
//! |---|---|
//! | HELP, text 0.0.4 | `\` → `\\`, LF → `\n` (a raw `"` must stay raw: promtool rejects `\"`) |
//! | HELP, OpenMetrics | as above, and `"` → `\"` |
//! | label values, both | `\` → `\\`, `"` → `\"`, LF → `\n` |
//!
//! A value is scanned for the few bytes that need escaping; the runs between them are
//! handed on whole, so a value without any (nearly all of them) is one write.

/// Whether [`escape`] would change `text`: one pass that does not stop early, which
/// the compiler can run on several bytes at a time, for the common value that needs
/// nothing.
#[inline]
pub(crate) fn needs_escaping(text: &str, quote: bool) -> bool {
    text.bytes().fold(false, |found, byte| {
        found | (byte == b'\\') | (byte == b'\n') | (quote & (byte == b'"'))
    })
}

/// Calls `piece` with `text` split, in order, into runs that need no escaping and the
/// escape sequences between them: `\`, LF and, when `quote` is set, `"` escaped.
#[inline]
pub(crate) fn escape<E>(
    text: &str,
    quote: bool,
    mut piece: impl FnMut(&str) -> Result<(), E>,
) -> Result<(), E> {
    let mut start = 0;
    for (at, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'"' if quote => "\\\"",
            _ => continue,
        };
        // `at` sits on an ASCII byte, so both slices end on char boundaries.
        piece(&text[start..at])?;
        piece(escaped)?;
        start = at + 1;
    }
    piece(&text[start..])
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::string::String;

    use super::*;

    fn escaped(text: &str, quote: bool) -> String {
        let mut s = String::new();
        escape(text, quote, |piece| {
            s.push_str(piece);
            Ok::<(), ()>(())
        })
        .unwrap();
        s
    }

    #[test]
    fn needs_escaping_says_whether_escaping_changes_anything() {
        for text in [
            "",
            "abc",
            "a\"b",
            "a\\b",
            "a\nb",
            "ünï\"",
            "\"",
            "0123456789abcdef\n",
        ] {
            for quote in [false, true] {
                assert_eq!(
                    needs_escaping(text, quote),
                    escaped(text, quote) != text,
                    "{text:?}"
                );
            }
        }
    }

    #[test]
    fn golden() {
        // §1.5: `path="/a\"b\\c\nd"` and HELP `Requests with \\ backslash and \n newline.`
        assert_eq!(escaped("/a\"b\\c\nd", true), r#"/a\"b\\c\nd"#);
        assert_eq!(
            escaped("Requests with \\ backslash and \n newline.", false),
            r"Requests with \\ backslash and \n newline."
        );
        assert_eq!(
            escaped("say \"hi\" \\ and\n", false),
            "say \"hi\" \\\\ and\\n"
        );
        assert_eq!(
            escaped("say \"hi\" \\ and\n", true),
            "say \\\"hi\\\" \\\\ and\\n"
        );
        assert_eq!(escaped("ünïcødé ✓ \t\r", true), "ünïcødé ✓ \t\r");
        assert_eq!(escaped("", true), "");
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
            let escaped = escaped(&text, quote);
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
