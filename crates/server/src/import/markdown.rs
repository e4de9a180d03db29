//! `broadsheet import markdown DIR`: every Markdown file under a folder, with YAML or
//! TOML front matter as Hugo, Zola and Jekyll write it (read by
//! [`crate::frontmatter`], published by [`crate::publish::publish_file`], exactly as
//! `article publish` does one file).
//!
//! What the generators say with file names is understood too: Jekyll's
//! `2026-03-01-slug.md` gives the date and slug when the front matter does not, a page
//! bundle's `slug/index.md` the slug, any other file its name; files under Jekyll's
//! `_drafts/` are drafts; Hugo's `_index.md` (a section's list page, not an article)
//! is skipped. A file whose article exists unchanged is skipped, so importing the
//! same folder again changes nothing.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, TimeZone, Utc};

use broadsheet_domain::{SlugLookup, Status, Store, StoreError, slug};

use super::{Summary, progress};
use crate::frontmatter::{self, MarkdownFile};
use crate::publish::{self, Outcome, PublishError};

/// Every `.md` and `.markdown` file under `dir`, sorted, skipping hidden folders.
fn files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(folder) = todo.pop() {
        for entry in std::fs::read_dir(&folder)? {
            let path = entry?.path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') {
                continue;
            }
            if path.is_dir() {
                todo.push(path);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("md" | "markdown")
            ) {
                found.push(path);
            }
        }
    }
    found.sort();
    Ok(found)
}

/// The slug and date a file's name gives (Jekyll's `YYYY-MM-DD-slug`, a bundle's
/// folder, or the name itself).
fn from_name(path: &Path) -> (Option<String>, Option<NaiveDate>) {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let stem = if stem == "index" {
        path.parent()
            .and_then(|p| p.file_name())
            .and_then(|n| n.to_str())
            .unwrap_or(stem)
    } else {
        stem
    };
    let (date, rest) = match (stem.get(..10), stem.get(10..11)) {
        (Some(prefix), Some("-")) => match NaiveDate::parse_from_str(prefix, "%Y-%m-%d") {
            Ok(date) => (Some(date), &stem[11..]),
            Err(_) => (None, stem),
        },
        _ => (None, stem),
    };
    let slug = slug::slugify(rest);
    (slug::validate(&slug).is_ok().then_some(slug), date)
}

/// Imports every Markdown file under `dir`; `author` (a user's slug or email)
/// overrides the files' own.
pub async fn import(
    store: &dyn Store,
    dir: &Path,
    author: Option<&str>,
) -> anyhow::Result<Summary> {
    use anyhow::Context;
    let files = files(dir).with_context(|| format!("cannot read the folder {}", dir.display()))?;
    let settings = store.settings().await?;
    let tz = settings.tz();
    let mut summary = Summary::default();
    let bar = progress(files.len() as u64, "importing");
    for path in files {
        bar.inc(1);
        let shown = path
            .strip_prefix(dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        if path.file_name().is_some_and(|n| n == "_index.md") {
            summary.skip(shown, "a section's list page (_index.md), not an article");
            continue;
        }
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                summary.fail(shown, e.to_string());
                continue;
            }
        };
        let mut file: MarkdownFile = match frontmatter::parse(&bytes, tz) {
            Ok(file) => file,
            Err(e) => {
                summary.fail(shown, e.to_string());
                continue;
            }
        };
        let (slug, date) = from_name(&path);
        if file.slug.is_none() {
            file.slug = slug;
        }
        if file.date.is_none() {
            file.date = date
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .and_then(|d| tz.from_local_datetime(&d).earliest())
                .map(|d| d.with_timezone(&Utc));
        }
        if path.components().any(|c| c.as_os_str() == "_drafts") {
            file.status = Status::Draft;
        }
        if unchanged(store, &file).await? {
            summary.skip(shown, "already imported, unchanged");
            continue;
        }
        match publish::publish_file(store, &settings, file, author).await {
            Ok(Outcome::Created(article)) => summary.count(
                if article.kind == broadsheet_domain::ContentKind::Page {
                    "pages"
                } else {
                    "articles"
                },
                1,
            ),
            Ok(Outcome::Updated(_)) => summary.count("updated", 1),
            Err(PublishError::Invalid(e)) => summary.fail(shown, e.to_string()),
            Err(PublishError::Store(StoreError::Conflict { field })) => {
                summary.fail(shown, format!("its {field} is taken"))
            }
            Err(PublishError::Store(e)) => return Err(e.into()),
        }
    }
    bar.finish_and_clear();
    Ok(summary)
}

/// Whether the file's article exists with this very title, body and status.
async fn unchanged(store: &dyn Store, file: &MarkdownFile) -> Result<bool, StoreError> {
    let slug = file
        .slug
        .clone()
        .unwrap_or_else(|| slug::slugify(&file.title));
    match store.find_by_slug(&slug).await {
        Ok(SlugLookup::Current(a)) => Ok(a.title == file.title.trim()
            && a.source == file.body
            && a.format == file.format
            && (a.status == file.status
                || (a.status == Status::Scheduled && file.status == Status::Published))),
        Ok(SlugLookup::Moved(_)) | Err(StoreError::NotFound) => Ok(false),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_give_slugs_and_dates() {
        let (slug, date) = from_name(Path::new("_posts/2026-03-01-harbour-bridge.md"));
        assert_eq!(slug.as_deref(), Some("harbour-bridge"));
        assert_eq!(date, NaiveDate::from_ymd_opt(2026, 3, 1));
        let (slug, date) = from_name(Path::new("content/posts/ferry-times/index.md"));
        assert_eq!(slug.as_deref(), Some("ferry-times"));
        assert_eq!(date, None);
        assert_eq!(
            from_name(Path::new("About Us.md")).0.as_deref(),
            Some("about-us")
        );
    }
}
