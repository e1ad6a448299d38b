//! Generated sections of a document: the text between `<!-- NAME:begin -->` and
//! `<!-- NAME:end -->` belongs to a generator; everything around it to people.

/// `document` with the text between the `name` markers replaced by `body`, or `None`
/// when either marker is missing.
pub(crate) fn replace(document: &str, name: &str, body: &str) -> Option<String> {
    let begin = begin(name);
    let end = end(name);
    let start = document.find(&begin)? + begin.len();
    let stop = start + document[start..].find(&end)?;
    Some(format!(
        "{}\n{}{}",
        &document[..start],
        body,
        &document[stop..]
    ))
}

/// The marker that opens section `name`.
pub(crate) fn begin(name: &str) -> String {
    format!("<!-- {name}:begin -->")
}

/// The marker that closes section `name`.
pub(crate) fn end(name: &str) -> String {
    format!("<!-- {name}:end -->")
}

#[cfg(test)]
mod tests {
    use super::replace;

    #[test]
    fn only_the_text_between_the_markers_changes() {
        let document = "intro\n<!-- t:begin -->\nold\n<!-- t:end -->\nafter\n";
        assert_eq!(
            replace(document, "t", "new\n").unwrap(),
            "intro\n<!-- t:begin -->\nnew\n<!-- t:end -->\nafter\n"
        );
        assert_eq!(replace("<!-- t:begin -->", "t", ""), None);
        assert_eq!(replace(document, "u", ""), None);
    }
}
