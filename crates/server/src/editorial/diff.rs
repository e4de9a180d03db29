//! Line diffs of an article's source, for comparing a revision with the article now.

use serde::Serialize;
use similar::{ChangeTag, TextDiff};

/// One line of a diff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// `same`, `removed` (only in the old text) or `added` (only in the new one).
    pub kind: &'static str,
    /// The line without its line break.
    pub text: String,
}

/// The lines of `old` and `new` in order, each marked as kept, removed or added.
pub fn lines(old: &str, new: &str) -> Vec<DiffLine> {
    TextDiff::from_lines(old, new)
        .iter_all_changes()
        .map(|change| DiffLine {
            kind: match change.tag() {
                ChangeTag::Equal => "same",
                ChangeTag::Delete => "removed",
                ChangeTag::Insert => "added",
            },
            text: change.value().trim_end_matches(['\n', '\r']).to_owned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_removed_and_added_lines() {
        let diff = lines("one\ntwo\nthree\n", "one\n2\nthree\nfour");
        let marked: Vec<_> = diff.iter().map(|l| (l.kind, l.text.as_str())).collect();
        assert_eq!(
            marked,
            [
                ("same", "one"),
                ("removed", "two"),
                ("added", "2"),
                ("same", "three"),
                ("added", "four"),
            ]
        );
    }
}
