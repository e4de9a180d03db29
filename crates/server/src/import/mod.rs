//! Moving a site in: `broadsheet import wordpress FILE.xml`, `import markdown DIR` and
//! `import json FILE` (issue 10). The way out is in [`crate::export`].
//!
//! Every importer works item by item through the store, and one bad item never stops
//! the rest: each is counted in a [`Summary`] as imported, skipped or failed, with the
//! reason. Only a file that cannot be read at all (malformed XML, named by line) stops
//! an import, and then before anything was written.

pub mod json;
pub mod markdown;
pub mod one_core;
pub mod shortcodes;
pub mod wordpress;
pub mod wxr;

use std::collections::BTreeMap;
use std::fmt;
use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// One item an import did not take as it was, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// What it was: `post 12 "Hello" (line 40)`.
    pub item: String,
    pub reason: String,
}

/// What an import did, item by item.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Summary {
    /// Counts by kind of thing ("posts", "pages", "comments", "authors", "old URLs").
    pub imported: BTreeMap<&'static str, u64>,
    pub skipped: Vec<Note>,
    pub failed: Vec<Note>,
    /// Imported, but not exactly as it was (a private post kept as a draft).
    pub warnings: Vec<Note>,
}

impl Summary {
    pub fn count(&mut self, what: &'static str, n: u64) {
        *self.imported.entry(what).or_default() += n;
    }

    pub fn imported(&self, what: &str) -> u64 {
        self.imported.get(what).copied().unwrap_or(0)
    }

    pub fn skip(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.skipped.push(Note {
            item: item.into(),
            reason: reason.into(),
        });
    }

    pub fn fail(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.failed.push(Note {
            item: item.into(),
            reason: reason.into(),
        });
    }

    pub fn warn(&mut self, item: impl Into<String>, reason: impl Into<String>) {
        self.warnings.push(Note {
            item: item.into(),
            reason: reason.into(),
        });
    }
}

/// How many examples each reason lists before "and N more".
const EXAMPLES: usize = 3;

fn write_notes(f: &mut fmt::Formatter<'_>, title: &str, notes: &[Note]) -> fmt::Result {
    if notes.is_empty() {
        return Ok(());
    }
    writeln!(f, "{title}: {}", notes.len())?;
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for note in notes {
        by_reason.entry(&note.reason).or_default().push(&note.item);
    }
    for (reason, items) in by_reason {
        let shown = items
            .iter()
            .take(EXAMPLES)
            .copied()
            .collect::<Vec<_>>()
            .join("; ");
        let more = items.len().saturating_sub(EXAMPLES);
        let more = if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        };
        writeln!(f, "  {} × {reason}: {shown}{more}", items.len())?;
    }
    Ok(())
}

impl fmt::Display for Summary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let imported: Vec<String> = self
            .imported
            .iter()
            .map(|(what, n)| format!("{n} {what}"))
            .collect();
        if imported.is_empty() {
            writeln!(f, "imported: nothing")?;
        } else {
            writeln!(f, "imported: {}", imported.join(", "))?;
        }
        write_notes(f, "imported with changes", &self.warnings)?;
        write_notes(f, "skipped", &self.skipped)?;
        write_notes(f, "failed", &self.failed)
    }
}

/// A progress bar on a terminal, nothing otherwise (a log or a pipe gets the summary
/// only).
pub fn progress(len: u64, what: &str) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(&format!(
        "{{spinner}} {what} [{{bar:40}}] {{pos}}/{{len}} ({{per_sec}}, {{eta}} left)"
    ))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    bar.set_style(style);
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_groups_reasons() {
        let mut s = Summary::default();
        s.count("posts", 2);
        for n in 0..5 {
            s.skip(format!("menu item {n}"), "a navigation menu item");
        }
        s.fail("post 9", "title: is required");
        let text = s.to_string();
        assert!(text.contains("imported: 2 posts"), "{text}");
        assert!(
            text.contains(
                "5 × a navigation menu item: menu item 0; menu item 1; menu item 2; and 2 more"
            ),
            "{text}"
        );
        assert!(
            text.contains("failed: 1\n  1 × title: is required: post 9"),
            "{text}"
        );
    }
}
